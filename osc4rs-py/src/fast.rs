//! The fast path of `encode_packet` for the common message: up to [`MAX_ARGS`]
//! arguments of the plain types (`i h f d s S b T F N I`, or typed automatically from
//! `int`, `float`, `str`, `bytes`, `bool` and `None`), no `oob`.
//!
//! The general path builds an owned [`osc_codec::Message`] (a `String` for the address
//! and each string, a `Vec` of values, a `Vec` for the bytes) and then copies the bytes
//! into a `bytearray`. This one converts the arguments into a fixed array on the stack,
//! borrows them as [`ArgRef`]s and encodes them straight into the `bytearray` with
//! [`encode_message_into`]: no Rust allocation at all. Under the 3.8 stable ABI a `str`
//! can only be read through a temporary `bytes` object (`PyUnicode_AsUTF8String`); it is
//! borrowed, not copied again.
//!
//! Anything else, and anything that would raise, returns `None` before any effect is
//! visible: the general path then encodes it, or raises the error osc4py3 raises.

use std::cell::RefCell;

use osc_codec::{ArgRef, encode_message_into, flat_message_size};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::CODEC;

/// Most arguments the fast path takes; longer messages go the general way.
pub(crate) const MAX_ARGS: usize = 16;

/// One argument converted from Python, before it is borrowed as an [`ArgRef`] (the
/// `bytes` objects own what the strings and blobs borrow).
enum Arg<'py> {
    Int(i32),
    Long(i64),
    Float(f32),
    Double(f64),
    Str(Bound<'py, PyBytes>),
    Symbol(Bound<'py, PyBytes>),
    Blob(Bound<'py, PyBytes>),
    Bool(bool),
    Nil,
    Inf,
}

/// The bytes of an `OSCMessage` (its three fields in `msg`), or `None` when the
/// general path must do it.
pub(crate) fn encode_message<'py>(
    py: Python<'py>,
    msg: &Bound<'py, PyTuple>,
) -> Option<Bound<'py, PyByteArray>> {
    let address = msg.get_borrowed_item(0).ok()?;
    let tags = msg.get_borrowed_item(1).ok()?;
    let (address, tags) = RECENT.with(|cell| {
        let mut recent = cell.try_borrow_mut().ok()?;
        let [kept_address, kept_tags] = &mut *recent;
        let address = recent_utf8(py, kept_address, &address)?;
        if tags.is_none() {
            return Some((address, None));
        }
        Some((address, Some(recent_utf8(py, kept_tags, &tags)?)))
    })?;
    let address = std::str::from_utf8(address.as_bytes()).ok()?;
    if !address.starts_with('/') {
        return None;
    }
    let tags: Option<&[u8]> = match tags.as_ref().map(|t| t.as_bytes()) {
        None | Some(b"") => None,
        Some([b',', rest @ ..]) => Some(rest),
        Some(_) => return None,
    };
    let mut args: [Option<Arg<'py>>; MAX_ARGS] = std::array::from_fn(|_| None);
    let items = msg.get_borrowed_item(2).ok()?;
    let n = if let Ok(t) = items.cast::<PyTuple>() {
        let n = count(t.len(), tags)?;
        for (i, (slot, item)) in args.iter_mut().zip(t.iter_borrowed()).enumerate() {
            *slot = Some(convert(i, &item, tags)?);
        }
        n
    } else if let Ok(l) = items.cast::<PyList>() {
        let n = count(l.len(), tags)?;
        for (i, (slot, item)) in args.iter_mut().zip(l.iter()).enumerate() {
            *slot = Some(convert(i, &item, tags)?);
        }
        n
    } else {
        return None;
    };
    let mut refs = [ArgRef::Nil; MAX_ARGS];
    for (slot, arg) in refs.iter_mut().zip(&args).take(n) {
        *slot = match arg.as_ref()? {
            Arg::Int(v) => ArgRef::Int(*v),
            Arg::Long(v) => ArgRef::Long(*v),
            Arg::Float(v) => ArgRef::Float(*v),
            Arg::Double(v) => ArgRef::Double(*v),
            // Python wrote these bytes as UTF-8: written as they are, not checked again.
            Arg::Str(b) => ArgRef::RawStr(b.as_bytes()),
            Arg::Symbol(b) => ArgRef::RawSymbol(b.as_bytes()),
            Arg::Blob(b) => ArgRef::Blob(b.as_bytes()),
            Arg::Bool(v) => ArgRef::Bool(*v),
            Arg::Nil => ArgRef::Nil,
            Arg::Inf => ArgRef::Inf,
        };
    }
    let refs = refs.get(..n)?;
    let size = flat_message_size(address, refs, &CODEC);
    PyByteArray::new_with(py, size, |buf| {
        encode_message_into(address, refs, buf, &CODEC)
            .map(|_| ())
            .map_err(|e| PyValueError::new_err(e.to_string()))
    })
    .ok()
}

/// One `str` object recently encoded, and its UTF-8 bytes.
type Recent = Option<(Py<PyString>, Py<PyBytes>)>;

thread_local! {
    /// The last address and type tags `str` objects this thread encoded, with their
    /// UTF-8 bytes.
    ///
    /// A program sends the same few addresses and type tags again and again, each
    /// time the same `str` object; under the 3.8 stable ABI reading one costs a `bytes`
    /// object. Holding a reference keeps the object alive, so an object found here by
    /// identity is that string (`str` is immutable): its bytes are the ones kept.
    /// Thread-local rather than behind a lock: a lock's two atomic operations cost
    /// as much as the `bytes` object they save.
    static RECENT: RefCell<[Recent; 2]> = const { RefCell::new([None, None]) };
}

/// [`utf8`] of `obj`, from `kept` when `obj` is the string kept there (else kept
/// there for the next call).
fn recent_utf8<'py>(
    py: Python<'py>,
    kept: &mut Recent,
    obj: &Bound<'py, PyAny>,
) -> Option<Bound<'py, PyBytes>> {
    if let Some((text, bytes)) = kept.as_ref() {
        if obj.is(text) {
            return Some(bytes.bind(py).clone());
        }
    }
    let bytes = utf8(obj)?;
    let text = obj.cast::<PyString>().ok()?.clone().unbind();
    // The strings replaced are dropped here, with the GIL held.
    *kept = Some((text, bytes.clone().unbind()));
    Some(bytes)
}

/// The UTF-8 bytes of a `str` without NUL, borrowed from a temporary `bytes`.
fn utf8<'py>(obj: &Bound<'py, PyAny>) -> Option<Bound<'py, PyBytes>> {
    let bytes = obj.cast::<PyString>().ok()?.encode_utf8().ok()?;
    (!bytes.as_bytes().contains(&0)).then_some(bytes)
}

/// `n`, when `n` arguments fit and match the type tags' count.
fn count(n: usize, tags: Option<&[u8]>) -> Option<usize> {
    (n <= MAX_ARGS && tags.is_none_or(|t| t.len() == n)).then_some(n)
}

/// Argument `i`, for its type tag in `tags` (`None`: typed from its value).
fn convert<'py>(i: usize, item: &Bound<'py, PyAny>, tags: Option<&[u8]>) -> Option<Arg<'py>> {
    match tags {
        Some(t) => tagged(*t.get(i)?, item),
        None => auto(item),
    }
}

/// A value for an explicit type tag, when it already has the tag's Python type.
fn tagged<'py>(tag: u8, v: &Bound<'py, PyAny>) -> Option<Arg<'py>> {
    Some(match tag {
        b'i' => Arg::Int(i32::try_from(int(v)?).ok()?),
        b'h' => Arg::Long(int(v)?),
        b'f' => Arg::Float(float32(v)?),
        b'd' => Arg::Double(v.cast::<PyFloat>().ok()?.value()),
        b's' => Arg::Str(utf8(v)?),
        b'S' => Arg::Symbol(utf8(v)?),
        b'b' => Arg::Blob(v.cast::<PyBytes>().ok()?.clone()),
        b'T' => Arg::Bool(true),
        b'F' => Arg::Bool(false),
        b'N' => Arg::Nil,
        b'I' => Arg::Inf,
        _ => return None,
    })
}

/// A value typed from its Python type, as osc4py3 types it.
fn auto<'py>(v: &Bound<'py, PyAny>) -> Option<Arg<'py>> {
    if v.is_none() {
        return Some(Arg::Nil);
    }
    if let Ok(b) = v.cast::<PyBool>() {
        return Some(Arg::Bool(b.is_true()));
    }
    if v.is_instance_of::<PyInt>() {
        let n = int(v)?;
        return Some(match i32::try_from(n) {
            Ok(i) => Arg::Int(i),
            Err(_) => Arg::Long(n),
        });
    }
    if v.is_instance_of::<PyFloat>() {
        return float32(v).map(Arg::Float);
    }
    if v.is_instance_of::<PyString>() {
        return utf8(v).map(Arg::Str);
    }
    v.cast::<PyBytes>().ok().map(|b| Arg::Blob(b.clone()))
}

fn int(v: &Bound<'_, PyAny>) -> Option<i64> {
    if v.is_instance_of::<PyInt>() {
        v.extract::<i64>().ok()
    } else {
        None
    }
}

/// A `float` as float32, unless it is too large for one (the general path raises).
fn float32(v: &Bound<'_, PyAny>) -> Option<f32> {
    let d = v.cast::<PyFloat>().ok()?.value();
    #[allow(clippy::cast_possible_truncation)]
    let f = d as f32;
    (f.is_finite() || !d.is_finite()).then_some(f)
}
