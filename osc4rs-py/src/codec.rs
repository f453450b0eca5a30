//! Python values to and from OSC packets, with osc4py3's rules: the named tuples of
//! `osc4rs.oscbuildparse`, its type coercions for explicit type tags, its automatic
//! type tagging, and its exception classes.

use std::borrow::Cow;

use osc_codec::{
    ArgRef, Bundle, Error, Message, Midi, Packet, PacketRef, Rgba, Tag, TagSet, TimeTag, Value,
};
use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyFloat, PyInt, PyList, PyMemoryView, PyString, PyTuple,
};

use crate::{CODEC, fast};

/// Deepest nesting of bundles and arrays accepted when encoding (the decoder's own
/// limit applies when decoding).
const MAX_DEPTH: usize = 32;

/// The Python classes and values that `osc4rs.oscbuildparse` defines and hands over
/// when it is imported.
pub(crate) struct Classes {
    pub(crate) message: Py<PyAny>,
    pub(crate) bundle: Py<PyAny>,
    pub(crate) timetag: Py<PyAny>,
    pub(crate) rgba: Py<PyAny>,
    pub(crate) midi: Py<PyAny>,
    pub(crate) bang: Py<PyAny>,
    pub(crate) infinitum: Py<PyAny>,
    pub(crate) error: Py<PyAny>,
    pub(crate) invalid_raw: Py<PyAny>,
    pub(crate) unknown_typetag: Py<PyAny>,
    pub(crate) invalid_data: Py<PyAny>,
    pub(crate) undetectable: Py<PyAny>,
    /// `tuple.__new__`, with which [`Classes::make`] builds the named tuples.
    tuple_new: Py<PyAny>,
}

impl Classes {
    /// An instance of the named tuple class `cls` (one of the above) with `fields`:
    /// what `cls(*fields)` returns, without running the class's `__new__`, a Python
    /// function (namedtuple's `__new__` is `tuple.__new__(cls, fields)`, called here
    /// directly: about 80 ns less for each packet decoded).
    pub(crate) fn make<'py, A>(
        &self,
        py: Python<'py>,
        cls: &Py<PyAny>,
        fields: A,
    ) -> PyResult<Bound<'py, PyAny>>
    where
        A: IntoPyObject<'py, Target = PyTuple>,
    {
        self.tuple_new.bind(py).call1((cls.bind(py), fields))
    }
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

/// `(OSCError, OSCInvalidRawError, OSCUnknownTypetagError, OSCInvalidDataError, the
/// error for a value whose type cannot be detected)`.
type ErrorClasses = (Py<PyAny>, Py<PyAny>, Py<PyAny>, Py<PyAny>, Py<PyAny>);

/// Called once by `osc4rs.oscbuildparse` with the classes it defines.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub(crate) fn _register_codec(
    py: Python<'_>,
    message: Py<PyAny>,
    bundle: Py<PyAny>,
    timetag: Py<PyAny>,
    rgba: Py<PyAny>,
    midi: Py<PyAny>,
    infinitum: Py<PyAny>,
    errors: ErrorClasses,
) -> PyResult<()> {
    let bang = infinitum.bind(py).get_type().into_any().unbind();
    let (error, invalid_raw, unknown_typetag, invalid_data, undetectable) = errors;
    let tuple_new = py.get_type::<PyTuple>().getattr("__new__")?.unbind();
    // A second import (importlib.reload) keeps the first classes.
    let _ = CLASSES.set(
        py,
        Classes {
            message,
            bundle,
            timetag,
            rgba,
            midi,
            bang,
            infinitum,
            error,
            invalid_raw,
            unknown_typetag,
            invalid_data,
            undetectable,
            tuple_new,
        },
    );
    Ok(())
}

/// The registered classes.
pub(crate) fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES
        .get(py)
        .ok_or_else(|| PyRuntimeError::new_err("osc4rs.oscbuildparse is not imported"))
}

/// An instance of `cls` (one of the registered exception classes) as a `PyErr`.
pub(crate) fn raise(py: Python<'_>, cls: &Py<PyAny>, message: String) -> PyErr {
    match cls.bind(py).call1((message,)) {
        Ok(value) => PyErr::from_value(value),
        Err(e) => e,
    }
}

/// The osc4py3 exception for a codec error met while decoding.
pub(crate) fn decode_error(py: Python<'_>, c: &Classes, e: &Error) -> PyErr {
    let cls = match e {
        Error::UnknownTag { .. } | Error::UnbalancedArray { .. } | Error::TagNotAllowed { .. } => {
            &c.unknown_typetag
        }
        _ => &c.invalid_raw,
    };
    raise(py, cls, format!("OSC invalid raw data: {e}"))
}

/// The osc4py3 exception for a codec error met while encoding.
pub(crate) fn encode_error(py: Python<'_>, c: &Classes, e: &Error) -> PyErr {
    let cls = match e {
        Error::UnknownTag { .. } | Error::UnbalancedArray { .. } | Error::TagNotAllowed { .. } => {
            &c.unknown_typetag
        }
        _ => &c.invalid_data,
    };
    raise(py, cls, format!("OSC invalid data: {e}"))
}

/// The Python exception for a runtime error.
pub(crate) fn runtime_error(py: Python<'_>, e: osc4rs::OscError) -> PyErr {
    use osc4rs::OscError;
    let Ok(c) = classes(py) else {
        return PyRuntimeError::new_err(e.to_string());
    };
    match &e {
        OscError::Codec(inner) => encode_error(py, c, inner),
        OscError::Channel(_) | OscError::Address(..) | OscError::Thread(_) => {
            PyOSError::new_err(e.to_string())
        }
        OscError::NotStarted | OscError::Terminated => PyRuntimeError::new_err(e.to_string()),
        _ => raise(py, &c.error, e.to_string()),
    }
}

// ------------------------------------------------------------------ options

/// The codec options for one call: [`CODEC`], changed by the osc4py3 `oob` keys that
/// osc4rs supports (`force_typetags`, `restrict_typetags`, `check_addrpattern`); other
/// keys are ignored.
fn options(oob: Option<&Bound<'_, PyAny>>) -> PyResult<osc_codec::Options> {
    let mut opts = CODEC;
    let Some(oob) = oob.filter(|o| !o.is_none()) else {
        return Ok(opts);
    };
    if let Ok(v) = oob.get_item("force_typetags") {
        opts.allow_missing_typetags = !v.is_truthy()?;
    }
    if let Ok(v) = oob.get_item("restrict_typetags") {
        if v.is_truthy()? {
            let text: String = v.extract()?;
            let mut set = TagSet::EMPTY;
            for t in text.bytes().filter_map(Tag::from_byte) {
                set = set.with(t);
            }
            // Array brackets are structure, not values: osc4py3 never restricts them.
            opts.allowed_tags = set.with(Tag::ArrayOpen).with(Tag::ArrayClose);
        }
    }
    if let Ok(v) = oob.get_item("check_addrpattern") {
        opts.check_address = v.is_truthy()?;
    }
    Ok(opts)
}

// ------------------------------------------------------------------ decoding

/// `decode_packet(rawoscdata, oob=None)`: an `OSCMessage` or `OSCBundle` from bytes.
#[pyfunction]
#[pyo3(signature = (rawoscdata, oob = None))]
pub(crate) fn decode_packet<'py>(
    py: Python<'py>,
    rawoscdata: &Bound<'py, PyAny>,
    oob: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let c = classes(py)?;
    let opts = options(oob)?;
    let owned;
    let bytes: &[u8] = if let Ok(b) = rawoscdata.cast::<PyBytes>() {
        b.as_bytes()
    } else if let Ok(b) = rawoscdata.cast::<PyByteArray>() {
        owned = b.to_vec();
        &owned
    } else {
        let b = py
            .get_type::<PyBytes>()
            .call1((rawoscdata,))
            .map_err(|e| raise(py, &c.invalid_raw, format!("OSC packet must be bytes: {e}")))?;
        owned = b.cast::<PyBytes>()?.as_bytes().to_vec();
        &owned
    };
    let packet = osc_codec::decode_with(bytes, &opts).map_err(|e| decode_error(py, c, &e))?;
    packet_ref_to_py(py, c, packet)
}

fn packet_ref_to_py<'py>(
    py: Python<'py>,
    c: &Classes,
    packet: PacketRef<'_>,
) -> PyResult<Bound<'py, PyAny>> {
    match packet {
        PacketRef::Message(m) => {
            let args = args_to_py(py, c, m.args())?;
            c.make(py, &c.message, (m.address(), m.type_tags(), args))
        }
        PacketRef::Bundle(b) => {
            let timetag = timetag_to_py(py, c, b.timetag())?;
            let elements = b
                .elements()
                .map(|e| packet_ref_to_py(py, c, e))
                .collect::<PyResult<Vec<_>>>()?;
            c.make(py, &c.bundle, (timetag, PyTuple::new(py, elements)?))
        }
    }
}

/// A message's arguments as a tuple, arrays as nested tuples.
pub(crate) fn args_to_py<'a, 'py>(
    py: Python<'py>,
    c: &Classes,
    args: impl Iterator<Item = ArgRef<'a>>,
) -> PyResult<Bound<'py, PyTuple>> {
    let mut stack: Vec<Vec<Bound<'py, PyAny>>> = vec![Vec::new()];
    for arg in args {
        match arg {
            ArgRef::ArrayOpen => stack.push(Vec::new()),
            ArgRef::ArrayClose => {
                if stack.len() > 1 {
                    if let Some(inner) = stack.pop() {
                        let t = PyTuple::new(py, inner)?.into_any();
                        if let Some(top) = stack.last_mut() {
                            top.push(t);
                        }
                    }
                }
            }
            other => {
                let v = arg_to_py(py, c, other)?;
                if let Some(top) = stack.last_mut() {
                    top.push(v);
                }
            }
        }
    }
    // The decoder checked the brackets; close any left open all the same.
    while stack.len() > 1 {
        if let Some(inner) = stack.pop() {
            let t = PyTuple::new(py, inner)?.into_any();
            if let Some(top) = stack.last_mut() {
                top.push(t);
            }
        }
    }
    PyTuple::new(py, stack.pop().unwrap_or_default())
}

fn text_to_py<'py>(py: Python<'py>, raw: &[u8]) -> Bound<'py, PyAny> {
    PyString::new(py, &String::from_utf8_lossy(raw)).into_any()
}

fn blob_to_py<'py>(py: Python<'py>, b: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    // osc4py3 gives blobs as memoryviews; this one views a copy, so that the input
    // buffer is neither kept alive nor locked against resizing.
    Ok(PyMemoryView::from(PyBytes::new(py, b).as_any())?.into_any())
}

fn arg_to_py<'py>(py: Python<'py>, c: &Classes, arg: ArgRef<'_>) -> PyResult<Bound<'py, PyAny>> {
    match arg {
        ArgRef::Int(v) => v.into_bound_py_any(py),
        ArgRef::Float(v) => f64::from(v).into_bound_py_any(py),
        ArgRef::Str(s) | ArgRef::Symbol(s) => Ok(PyString::new(py, s).into_any()),
        ArgRef::RawStr(b) | ArgRef::RawSymbol(b) => Ok(text_to_py(py, b)),
        ArgRef::Blob(b) => blob_to_py(py, b),
        ArgRef::Long(v) => v.into_bound_py_any(py),
        ArgRef::Double(v) => v.into_bound_py_any(py),
        ArgRef::TimeTag(t) => timetag_to_py(py, c, t),
        ArgRef::Char(ch) => Ok(PyString::new(py, ch.encode_utf8(&mut [0; 4])).into_any()),
        ArgRef::Rgba(v) => c.make(py, &c.rgba, (v.r, v.g, v.b, v.a)),
        ArgRef::Midi(v) => c.make(py, &c.midi, (v.port, v.status, v.data1, v.data2)),
        ArgRef::Bool(b) => b.into_bound_py_any(py),
        ArgRef::Nil => Ok(py.None().into_bound(py)),
        ArgRef::Inf => Ok(c.infinitum.bind(py).clone()),
        other => Err(raise(
            py,
            &c.invalid_raw,
            format!("OSC argument {other:?} has no Python value"),
        )),
    }
}

pub(crate) fn timetag_to_py<'py>(
    py: Python<'py>,
    c: &Classes,
    t: TimeTag,
) -> PyResult<Bound<'py, PyAny>> {
    c.make(py, &c.timetag, (t.seconds, t.fraction))
}

/// An owned argument (as the runtime's handlers receive them) as a Python value.
pub(crate) fn value_to_py<'py>(
    py: Python<'py>,
    c: &Classes,
    v: &Value,
) -> PyResult<Bound<'py, PyAny>> {
    match v {
        Value::Int(v) => v.into_bound_py_any(py),
        Value::Float(v) => f64::from(*v).into_bound_py_any(py),
        Value::String(s) | Value::Symbol(s) => Ok(PyString::new(py, s).into_any()),
        Value::RawString(b) | Value::RawSymbol(b) => Ok(text_to_py(py, b)),
        Value::Blob(b) => blob_to_py(py, b),
        Value::Long(v) => v.into_bound_py_any(py),
        Value::Double(v) => v.into_bound_py_any(py),
        Value::TimeTag(t) => timetag_to_py(py, c, *t),
        Value::Char(ch) => Ok(PyString::new(py, ch.encode_utf8(&mut [0; 4])).into_any()),
        Value::Rgba(v) => c.make(py, &c.rgba, (v.r, v.g, v.b, v.a)),
        Value::Midi(v) => c.make(py, &c.midi, (v.port, v.status, v.data1, v.data2)),
        Value::Bool(b) => b.into_bound_py_any(py),
        Value::Nil => Ok(py.None().into_bound(py)),
        Value::Inf => Ok(c.infinitum.bind(py).clone()),
        Value::Array(items) => Ok(values_to_py(py, c, items)?.into_any()),
        other => Err(raise(
            py,
            &c.invalid_raw,
            format!("OSC argument {other:?} has no Python value"),
        )),
    }
}

/// Owned arguments as a tuple.
pub(crate) fn values_to_py<'py>(
    py: Python<'py>,
    c: &Classes,
    values: &[Value],
) -> PyResult<Bound<'py, PyTuple>> {
    let items = values
        .iter()
        .map(|v| value_to_py(py, c, v))
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, items)
}

// ------------------------------------------------------------------ encoding

/// `encode_packet(content, oob=None)`: the bytes of an `OSCMessage` or `OSCBundle`, as a
/// `bytearray` (as osc4py3 returns them). Common messages take the allocation-free
/// [`fast`] path.
#[pyfunction]
#[pyo3(signature = (content, oob = None))]
pub(crate) fn encode_packet<'py>(
    py: Python<'py>,
    content: &Bound<'py, PyAny>,
    oob: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyByteArray>> {
    let c = classes(py)?;
    if oob.is_none_or(|o| o.is_none())
        && content.get_type_ptr().cast::<pyo3::ffi::PyObject>() == c.message.as_ptr()
    {
        if let Some(bytes) = fast::encode_message(py, content.cast::<PyTuple>()?) {
            return Ok(bytes);
        }
    }
    let opts = options(oob)?;
    let packet = py_to_packet(py, c, content, 0)?;
    let bytes = packet
        .to_bytes_with(&opts)
        .map_err(|e| encode_error(py, c, &e))?;
    Ok(PyByteArray::new(py, &bytes))
}

/// `_call_floor(content, oob=None)`: a `bytearray` as long as the encoded `,sif`
/// message of `scripts/bench-python.py`, and nothing else: the cost of a call shaped
/// like `encode_packet`, which that script prints beside `encode_packet`'s.
#[pyfunction]
#[pyo3(signature = (content, oob = None))]
pub(crate) fn _call_floor<'py>(
    py: Python<'py>,
    content: &Bound<'py, PyAny>,
    oob: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyByteArray>> {
    let _ = (content, oob);
    PyByteArray::new_with(py, 36, |_| Ok(()))
}

/// What kind of packet a Python value is.
enum Kind {
    Message,
    Bundle,
    Neither,
}

fn kind_of(py: Python<'_>, c: &Classes, obj: &Bound<'_, PyAny>) -> PyResult<Kind> {
    let t = obj.get_type();
    if t.is(c.message.bind(py)) {
        return Ok(Kind::Message);
    }
    if t.is(c.bundle.bind(py)) {
        return Ok(Kind::Bundle);
    }
    if obj.is_instance(c.message.bind(py))? {
        return Ok(Kind::Message);
    }
    if obj.is_instance(c.bundle.bind(py))? {
        return Ok(Kind::Bundle);
    }
    // Another library's named tuples with the same fields (osc4py3's own) are welcome.
    if obj.is_instance_of::<PyTuple>() {
        if let Ok(fields) = obj.getattr("_fields") {
            if let Ok(fields) = fields.extract::<Vec<String>>() {
                if fields == ["addrpattern", "typetags", "arguments"] {
                    return Ok(Kind::Message);
                }
                if fields == ["timetag", "elements"] {
                    return Ok(Kind::Bundle);
                }
            }
        }
    }
    Ok(Kind::Neither)
}

/// A Python `OSCMessage` or `OSCBundle` as a packet.
pub(crate) fn py_to_packet(
    py: Python<'_>,
    c: &Classes,
    obj: &Bound<'_, PyAny>,
    depth: usize,
) -> PyResult<Packet> {
    if depth > MAX_DEPTH {
        return Err(raise(
            py,
            &c.invalid_data,
            format!("OSC bundles nested deeper than {MAX_DEPTH}"),
        ));
    }
    match kind_of(py, c, obj)? {
        Kind::Message => {
            let t = obj.cast::<PyTuple>()?;
            let message = py_to_message(py, c, &t.get_item(0)?, &t.get_item(1)?, &t.get_item(2)?)?;
            Ok(Packet::Message(message))
        }
        Kind::Bundle => {
            let t = obj.cast::<PyTuple>()?;
            let timetag = to_timetag(py, c, &t.get_item(0)?)?;
            let mut bundle = Bundle::new(timetag);
            for elem in t.get_item(1)?.try_iter()? {
                let elem = elem?;
                if matches!(kind_of(py, c, &elem)?, Kind::Neither) {
                    return Err(raise(
                        py,
                        &c.invalid_data,
                        format!(
                            "OSC element {:?} is not OSCBundle or OSCMessage.",
                            elem.get_type().name()?.to_string()
                        ),
                    ));
                }
                bundle.push(py_to_packet(py, c, &elem, depth + 1)?);
            }
            Ok(Packet::Bundle(bundle))
        }
        Kind::Neither => Err(raise(
            py,
            &c.invalid_data,
            format!(
                "OSC content {:?} is not OSCBundle or OSCMessage.",
                obj.get_type().name()?.to_string()
            ),
        )),
    }
}

/// A message from its three fields.
pub(crate) fn py_to_message(
    py: Python<'_>,
    c: &Classes,
    addrpattern: &Bound<'_, PyAny>,
    typetags: &Bound<'_, PyAny>,
    arguments: &Bound<'_, PyAny>,
) -> PyResult<Message> {
    let address = addrpattern
        .cast::<PyString>()
        .map_err(|_| raise(py, &c.invalid_data, "OSC addrpattern must be a str".into()))?
        .to_cow()?;
    if !address.starts_with('/') {
        return Err(raise(
            py,
            &c.invalid_data,
            "OSC invalid addrpattern beginning: missing /".into(),
        ));
    }
    let items = sequence(py, c, arguments)?;
    let mut args = Vec::with_capacity(items.len());
    if typetags.is_truthy()? {
        let tags = typetags
            .cast::<PyString>()
            .map_err(|_| raise(py, &c.invalid_data, "OSC typetags must be a str".into()))?
            .to_cow()?;
        let Some(rest) = tags.strip_prefix(',') else {
            return Err(raise(
                py,
                &c.invalid_data,
                "OSC invalid typetags beginning: missing ,".into(),
            ));
        };
        let mut chars = rest.chars();
        tagged_values(py, c, &mut chars, &items, &mut args, 0)?;
        if chars.next().is_some() {
            // A `]` closed more than was opened: osc4py3 stops there.
            return Err(raise(
                py,
                &c.unknown_typetag,
                "OSC unbalanced ']' in typetags".into(),
            ));
        }
    } else {
        for item in &items {
            args.push(auto_value(py, c, item, 0)?);
        }
    }
    Ok(Message {
        address: address.into_owned(),
        args,
    })
}

/// The items of a list, tuple or other sequence.
fn sequence<'py>(
    py: Python<'py>,
    c: &Classes,
    obj: &Bound<'py, PyAny>,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if let Ok(t) = obj.cast::<PyTuple>() {
        return Ok(t.iter().collect());
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return Ok(l.iter().collect());
    }
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        return Err(raise(
            py,
            &c.invalid_data,
            "OSC arguments must be a list or tuple".into(),
        ));
    }
    obj.try_iter()
        .map_err(|_| {
            raise(
                py,
                &c.invalid_data,
                "OSC arguments must be a list or tuple".into(),
            )
        })?
        .collect()
}

fn count_error(py: Python<'_>, c: &Classes) -> PyErr {
    raise(
        py,
        &c.invalid_data,
        "OSC typetags don't correspond to total count of arguments".into(),
    )
}

/// Values for explicit type tags, up to the `]` that closes this level.
fn tagged_values(
    py: Python<'_>,
    c: &Classes,
    tags: &mut std::str::Chars<'_>,
    items: &[Bound<'_, PyAny>],
    out: &mut Vec<Value>,
    depth: usize,
) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(raise(
            py,
            &c.invalid_data,
            format!("OSC arrays nested deeper than {MAX_DEPTH}"),
        ));
    }
    let mut index = 0;
    let mut closed = depth == 0;
    while let Some(tag) = tags.next() {
        if tag == ']' {
            if depth == 0 {
                return Err(raise(
                    py,
                    &c.unknown_typetag,
                    "OSC unbalanced ']' in typetags".into(),
                ));
            }
            closed = true;
            break;
        }
        let item = items.get(index).ok_or_else(|| count_error(py, c))?;
        if tag == '[' {
            let inner = sequence(py, c, item)?;
            let mut values = Vec::with_capacity(inner.len());
            tagged_values(py, c, tags, &inner, &mut values, depth + 1)?;
            out.push(Value::Array(values));
        } else {
            out.push(tagged_value(py, c, tag, item)?);
        }
        index += 1;
    }
    if !closed {
        return Err(raise(
            py,
            &c.unknown_typetag,
            "OSC unbalanced '[' in typetags".into(),
        ));
    }
    if index != items.len() {
        return Err(count_error(py, c));
    }
    Ok(())
}

/// One value converted for its type tag, as osc4py3 converts it (`int(x)` for `i`,
/// `float(x)` for `f`, `str(x)` for `s`, ...).
fn tagged_value(py: Python<'_>, c: &Classes, tag: char, v: &Bound<'_, PyAny>) -> PyResult<Value> {
    Ok(match tag {
        'i' => {
            let n = to_i64(py, c, v)?;
            Value::Int(i32::try_from(n).map_err(|_| {
                raise(
                    py,
                    &c.invalid_data,
                    format!("OSC int32 value {n} out of range"),
                )
            })?)
        }
        'h' => Value::Long(to_i64(py, c, v)?),
        'f' => Value::Float(to_f32(py, c, v)?),
        'd' => Value::Double(to_f64(py, c, v)?),
        's' => match to_text(py, c, v)? {
            Text::Str(s) => Value::String(s),
            Text::Raw(b) => Value::RawString(b),
        },
        'S' => match to_text(py, c, v)? {
            Text::Str(s) => Value::Symbol(s),
            Text::Raw(b) => Value::RawSymbol(b),
        },
        'b' => Value::Blob(to_blob(py, c, v)?),
        'c' => Value::Char(to_char(py, c, v)?),
        't' => Value::TimeTag(to_timetag(py, c, v)?),
        'r' => {
            let (r, g, b, a) = to_four(py, c, v, "rgba")?;
            Value::Rgba(Rgba::new(r, g, b, a))
        }
        'm' => {
            let (p, s, d1, d2) = to_four(py, c, v, "midi")?;
            Value::Midi(Midi::new(p, s, d1, d2))
        }
        // Tags that carry their value: the argument is only counted.
        'T' => Value::Bool(true),
        'F' => Value::Bool(false),
        'N' => Value::Nil,
        'I' => Value::Inf,
        other => {
            return Err(raise(
                py,
                &c.unknown_typetag,
                format!("OSC unknown type tag {other:?} when encoding"),
            ));
        }
    })
}

fn bad_value(py: Python<'_>, c: &Classes, what: &str, v: &Bound<'_, PyAny>, e: PyErr) -> PyErr {
    let shown = v
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "?".into());
    raise(
        py,
        &c.invalid_data,
        format!("OSC cannot encode {shown} as {what}: {e}"),
    )
}

fn to_i64(py: Python<'_>, c: &Classes, v: &Bound<'_, PyAny>) -> PyResult<i64> {
    let converted;
    let int = if v.is_instance_of::<PyInt>() {
        v
    } else {
        converted = py
            .get_type::<PyInt>()
            .call1((v,))
            .map_err(|e| bad_value(py, c, "an integer", v, e))?;
        &converted
    };
    int.extract::<i64>()
        .map_err(|e| bad_value(py, c, "an integer", v, e))
}

fn to_f64(py: Python<'_>, c: &Classes, v: &Bound<'_, PyAny>) -> PyResult<f64> {
    if let Ok(f) = v.cast::<PyFloat>() {
        return Ok(f.value());
    }
    py.get_type::<PyFloat>()
        .call1((v,))
        .and_then(|f| f.extract::<f64>())
        .map_err(|e| bad_value(py, c, "a float", v, e))
}

fn to_f32(py: Python<'_>, c: &Classes, v: &Bound<'_, PyAny>) -> PyResult<f32> {
    let d = to_f64(py, c, v)?;
    #[allow(clippy::cast_possible_truncation)]
    let f = d as f32;
    if d.is_finite() && !f.is_finite() {
        return Err(raise(
            py,
            &c.invalid_data,
            format!("OSC float {d} too large for float32"),
        ));
    }
    Ok(f)
}

enum Text {
    Str(String),
    Raw(Vec<u8>),
}

/// A string argument: `str` as UTF-8; `bytes`, `bytearray` or `memoryview` as they
/// are (no NUL inside, one at the end dropped); anything else through `str()`.
fn to_text(py: Python<'_>, c: &Classes, v: &Bound<'_, PyAny>) -> PyResult<Text> {
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(Text::Str(checked_str(py, c, s.to_cow()?)?));
    }
    let raw = if let Ok(b) = v.cast::<PyBytes>() {
        Some(b.as_bytes().to_vec())
    } else if let Ok(b) = v.cast::<PyByteArray>() {
        Some(b.to_vec())
    } else if v.is_instance_of::<PyMemoryView>() {
        let b = py.get_type::<PyBytes>().call1((v,))?;
        Some(b.cast::<PyBytes>()?.as_bytes().to_vec())
    } else {
        None
    };
    match raw {
        Some(mut bytes) => {
            if bytes.last() == Some(&0) {
                bytes.pop();
            }
            if bytes.contains(&0) {
                return Err(raise(
                    py,
                    &c.invalid_data,
                    "OSC string cannot contain zero byte except one at the end (removed)".into(),
                ));
            }
            Ok(match String::from_utf8(bytes) {
                Ok(s) => Text::Str(s),
                Err(e) => Text::Raw(e.into_bytes()),
            })
        }
        None => Ok(Text::Str(checked_str(py, c, v.str()?.to_cow()?)?)),
    }
}

fn checked_str(py: Python<'_>, c: &Classes, s: Cow<'_, str>) -> PyResult<String> {
    if s.contains('\0') {
        return Err(raise(
            py,
            &c.invalid_data,
            "OSC string cannot contain zero byte".into(),
        ));
    }
    Ok(s.into_owned())
}

fn to_blob(py: Python<'_>, c: &Classes, v: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = v.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = v.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if v.is_instance_of::<PyString>() || v.is_instance_of::<PyInt>() {
        return Err(raise(
            py,
            &c.invalid_data,
            format!(
                "OSC blob must be bytes, bytearray or memoryview, not {}",
                v.get_type().name()?
            ),
        ));
    }
    let b = py
        .get_type::<PyBytes>()
        .call1((v,))
        .map_err(|e| bad_value(py, c, "a blob", v, e))?;
    Ok(b.cast::<PyBytes>()?.as_bytes().to_vec())
}

fn to_char(py: Python<'_>, c: &Classes, v: &Bound<'_, PyAny>) -> PyResult<char> {
    let one_byte = |b: &[u8]| -> PyResult<char> {
        match b {
            [byte] => Ok(char::from(*byte)),
            _ => Err(raise(
                py,
                &c.invalid_data,
                "OSC char must use only one byte".into(),
            )),
        }
    };
    if let Ok(b) = v.cast::<PyBytes>() {
        return one_byte(b.as_bytes());
    }
    if let Ok(b) = v.cast::<PyByteArray>() {
        return one_byte(&b.to_vec());
    }
    if v.is_instance_of::<PyInt>() || v.is_instance_of::<PyFloat>() || v.is_instance_of::<PyBool>()
    {
        let n = to_i64(py, c, v)?;
        return u8::try_from(n).map(char::from).map_err(|_| {
            raise(
                py,
                &c.invalid_data,
                "OSC value of char must fill in one byte".into(),
            )
        });
    }
    let text = if let Ok(s) = v.cast::<PyString>() {
        s.to_cow()?.into_owned()
    } else {
        v.str()?.to_cow()?.into_owned()
    };
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(ch), None) if ch.is_ascii() => Ok(ch),
        // osc4py3 writes a character that is not ASCII as `?`.
        (Some(_), None) => Ok('?'),
        _ => Err(raise(
            py,
            &c.invalid_data,
            "OSC ascii char must use only one byte".into(),
        )),
    }
}

/// A timetag from an `OSCtimetag` or any pair `(sec, frac)`.
pub(crate) fn to_timetag(py: Python<'_>, c: &Classes, v: &Bound<'_, PyAny>) -> PyResult<TimeTag> {
    let pair = sequence(py, c, v).map_err(|e| bad_value(py, c, "a timetag", v, e))?;
    match pair.as_slice() {
        [sec, frac] => {
            let sec = to_i64(py, c, sec)?;
            let frac = to_i64(py, c, frac)?;
            match (u32::try_from(sec), u32::try_from(frac)) {
                (Ok(s), Ok(f)) => Ok(TimeTag::new(s, f)),
                _ => Err(raise(
                    py,
                    &c.invalid_data,
                    format!("OSC timetag ({sec}, {frac}) out of range"),
                )),
            }
        }
        _ => Err(raise(
            py,
            &c.invalid_data,
            "OSC timetag must be a pair (sec, frac)".into(),
        )),
    }
}

fn to_four(
    py: Python<'_>,
    c: &Classes,
    v: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<(u8, u8, u8, u8)> {
    let items = sequence(py, c, v).map_err(|e| bad_value(py, c, what, v, e))?;
    let mut out = [0u8; 4];
    if items.len() != 4 {
        return Err(raise(
            py,
            &c.invalid_data,
            format!("OSC {what} needs four values"),
        ));
    }
    for (slot, item) in out.iter_mut().zip(&items) {
        let n = to_i64(py, c, item)?;
        *slot = u8::try_from(n).map_err(|_| {
            raise(
                py,
                &c.invalid_data,
                format!("OSC {what} value {n} is not in 0..255"),
            )
        })?;
    }
    let [a, b, cc, d] = out;
    Ok((a, b, cc, d))
}

/// Automatic type tagging, osc4py3's mapping: `None` N, `True`/`False` T/F, `int` i
/// (h beyond 32 bits, where osc4py3 fails), `float` f, `str` s, bytes-likes b,
/// `OSCrgba` r, `OSCmidi` m, `OSCtimetag` t, `OSCbang` I, lists and tuples arrays.
fn auto_value(py: Python<'_>, c: &Classes, x: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if x.is_none() {
        return Ok(Value::Nil);
    }
    if let Ok(b) = x.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if x.is_instance_of::<PyInt>() {
        let n = to_i64(py, c, x)?;
        return Ok(match i32::try_from(n) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Long(n),
        });
    }
    if x.is_instance_of::<PyFloat>() {
        return Ok(Value::Float(to_f32(py, c, x)?));
    }
    if x.is_instance_of::<PyString>() {
        return tagged_value(py, c, 's', x);
    }
    if x.is_instance_of::<PyBytes>()
        || x.is_instance_of::<PyByteArray>()
        || x.is_instance_of::<PyMemoryView>()
    {
        return Ok(Value::Blob(to_blob(py, c, x)?));
    }
    let t = x.get_type();
    if t.is(c.timetag.bind(py)) {
        return tagged_value(py, c, 't', x);
    }
    if t.is(c.rgba.bind(py)) {
        return tagged_value(py, c, 'r', x);
    }
    if t.is(c.midi.bind(py)) {
        return tagged_value(py, c, 'm', x);
    }
    if t.is(c.bang.bind(py)) {
        return Ok(Value::Inf);
    }
    if x.is_instance_of::<PyTuple>() || x.is_instance_of::<PyList>() {
        // Named tuples of another library with the same fields (osc4py3's own).
        if !x.is_exact_instance_of::<PyTuple>() && !x.is_instance_of::<PyList>() {
            if let Ok(fields) = x
                .getattr("_fields")
                .and_then(|f| f.extract::<Vec<String>>())
            {
                match fields
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .as_slice()
                {
                    ["sec", "frac"] => return tagged_value(py, c, 't', x),
                    ["red", "green", "blue", "alpha"] => return tagged_value(py, c, 'r', x),
                    ["portid", "status", "data1", "data2"] => return tagged_value(py, c, 'm', x),
                    [] => return Ok(Value::Inf),
                    _ => {}
                }
            }
        }
        if depth >= MAX_DEPTH {
            return Err(raise(
                py,
                &c.invalid_data,
                format!("OSC arrays nested deeper than {MAX_DEPTH}"),
            ));
        }
        let items = sequence(py, c, x)?;
        let values = items
            .iter()
            .map(|i| auto_value(py, c, i, depth + 1))
            .collect::<PyResult<Vec<_>>>()?;
        return Ok(Value::Array(values));
    }
    let shown = x
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "?".into());
    Err(raise(
        py,
        &c.undetectable,
        format!("OSC cannot detect type from Python value {shown}"),
    ))
}

/// `_dumphex(data)`: the hex dump text of osc4py3's `dumphex_buffer`.
#[pyfunction]
pub(crate) fn _dumphex(data: &[u8]) -> String {
    osc_codec::dumphex(data)
}
