//! Python handlers: the arguments osc4py3's argument schemes ask for, the call with the
//! GIL held, and what happens when the handler raises.

use std::sync::Arc;

use osc4rs::{Context, Message};
use parking_lot::Mutex;
use pyo3::IntoPyObjectExt;
use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::codec::{Classes, classes, values_to_py};

/// One item of an osc4py3 argument scheme (`oscmethod.OSCARG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    DataUnpack,
    Data,
    Message,
    MessageUnpack,
    Address,
    TypeTags,
    ExtraUnpack,
    Extra,
    MethodFilter,
    PackOpt,
    ReaderName,
    SrcIdent,
    ReadTime,
}

impl Scheme {
    fn parse(name: &str) -> Option<Scheme> {
        Some(match name {
            "data_unpack" => Scheme::DataUnpack,
            "data" => Scheme::Data,
            "message" => Scheme::Message,
            "message_unpack" => Scheme::MessageUnpack,
            "address" => Scheme::Address,
            "typetags" => Scheme::TypeTags,
            "extra_unpack" => Scheme::ExtraUnpack,
            "extra" => Scheme::Extra,
            "methodfilter" => Scheme::MethodFilter,
            "packopt" => Scheme::PackOpt,
            "readername" => Scheme::ReaderName,
            "srcident" => Scheme::SrcIdent,
            "readtime" => Scheme::ReadTime,
            _ => return None,
        })
    }
}

/// `osc4rs.oscmethod.PacketOptions`, handed over when that module is imported.
static PACKET_OPTIONS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Called once by `osc4rs.oscmethod` with its `PacketOptions` class.
#[pyfunction]
pub(crate) fn _register_method(py: Python<'_>, packet_options: Py<PyAny>) {
    let _ = PACKET_OPTIONS.set(py, packet_options);
}

/// An exception that must not be swallowed (`KeyboardInterrupt`, `SystemExit`) raised
/// by a handler: kept here and raised again by the next `osc_process()` (or
/// `osc_terminate()`) in the application's thread.
static PENDING: Mutex<Option<PyErr>> = Mutex::new(None);

/// Raises the exception a handler left pending, if any.
pub(crate) fn raise_pending() -> PyResult<()> {
    match PENDING.lock().take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A registered Python handler and what osc4py3's `MethodFilter` keeps with it.
pub(crate) struct PyHandler {
    function: Py<PyAny>,
    schemes: Vec<Scheme>,
    extra: Py<PyAny>,
    methodfilter: Py<PyAny>,
    logger: Option<Py<PyAny>>,
}

impl PyHandler {
    /// Checks the argument scheme (osc4py3 raises `RuntimeError` for an unknown one).
    pub(crate) fn new(
        function: Py<PyAny>,
        argscheme: Vec<String>,
        extra: Py<PyAny>,
        methodfilter: Py<PyAny>,
        logger: Option<Py<PyAny>>,
    ) -> PyResult<Arc<PyHandler>> {
        let schemes = argscheme
            .iter()
            .map(|s| {
                Scheme::parse(s).ok_or_else(|| {
                    PyRuntimeError::new_err(format!("OSC MethodFilter unknown argument scheme {s}"))
                })
            })
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Arc::new(PyHandler {
            function,
            schemes,
            extra,
            methodfilter,
            logger,
        }))
    }

    /// Calls the handler for one message, in this thread, taking the GIL. Errors are
    /// logged; dispatch goes on.
    pub(crate) fn call(&self, m: &Message, ctx: &Context) {
        // During interpreter shutdown there is no Python to call.
        let _ = Python::try_attach(|py| {
            if let Err(e) = self.call_attached(py, m, ctx) {
                self.report(py, m, e);
            }
        });
    }

    fn call_attached<'py>(&self, py: Python<'py>, m: &Message, ctx: &Context) -> PyResult<()> {
        let c = classes(py)?;
        let mut cached: Option<Bound<'py, PyTuple>> = None;
        let mut data = |py: Python<'py>| -> PyResult<Bound<'py, PyTuple>> {
            if let Some(d) = &cached {
                return Ok(d.clone());
            }
            let d = values_to_py(py, c, &m.args)?;
            cached = Some(d.clone());
            Ok(d)
        };
        let mut args: Vec<Bound<'py, PyAny>> = Vec::with_capacity(m.args.len() + 2);
        for scheme in &self.schemes {
            match scheme {
                Scheme::DataUnpack => args.extend(data(py)?.iter()),
                Scheme::Data => args.push(data(py)?.into_any()),
                Scheme::Message => args.push(message(py, c, m, data(py)?)?),
                Scheme::MessageUnpack => {
                    args.push(PyString::new(py, &m.address).into_any());
                    args.push(PyString::new(py, &m.type_tags()).into_any());
                    args.push(data(py)?.into_any());
                }
                Scheme::Address => args.push(PyString::new(py, &m.address).into_any()),
                Scheme::TypeTags => args.push(PyString::new(py, &m.type_tags()).into_any()),
                Scheme::ExtraUnpack => {
                    for item in self.extra.bind(py).try_iter()? {
                        args.push(item?);
                    }
                }
                Scheme::Extra => args.push(self.extra.bind(py).clone()),
                Scheme::MethodFilter => args.push(self.methodfilter.bind(py).clone()),
                Scheme::PackOpt => {
                    let msg = message(py, c, m, data(py)?)?;
                    args.push(self.packet_options(py, ctx, msg)?);
                }
                Scheme::ReaderName => args.push(reader_name(py, ctx)?),
                Scheme::SrcIdent => args.push(source(py, ctx)?),
                Scheme::ReadTime => args.push(read_time(py, ctx)?),
            }
        }
        self.function.bind(py).call1(PyTuple::new(py, args)?)?;
        Ok(())
    }

    fn packet_options<'py>(
        &self,
        py: Python<'py>,
        ctx: &Context,
        message: Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let cls = PACKET_OPTIONS
            .get(py)
            .ok_or_else(|| PyRuntimeError::new_err("osc4rs.oscmethod is not imported"))?;
        let kwargs = PyDict::new(py);
        kwargs.set_item("readername", reader_name(py, ctx)?)?;
        kwargs.set_item("srcident", source(py, ctx)?)?;
        kwargs.set_item("readtime", read_time(py, ctx)?)?;
        kwargs.set_item("message", message)?;
        kwargs.set_item("method", self.methodfilter.bind(py))?;
        cls.bind(py).call((), Some(&kwargs))
    }

    /// Logs an exception from a handler (to the method's logger, else to the
    /// `osc4rs` logger), or keeps a `KeyboardInterrupt`/`SystemExit` for the
    /// application's thread.
    fn report(&self, py: Python<'_>, m: &Message, e: PyErr) {
        if !e.is_instance_of::<PyException>(py) {
            let mut pending = PENDING.lock();
            if pending.is_none() {
                *pending = Some(e);
            }
            return;
        }
        let logger = match &self.logger {
            Some(l) => Ok(l.bind(py).clone()),
            None => py
                .import("logging")
                .and_then(|logging| logging.call_method1("getLogger", ("osc4rs",))),
        };
        let logged = logger.and_then(|logger| {
            let kwargs = PyDict::new(py);
            kwargs.set_item("exc_info", e.value(py))?;
            logger.call_method(
                "error",
                (
                    "OSC handler %r failed for message %s",
                    self.function.bind(py),
                    m.address.as_str(),
                ),
                Some(&kwargs),
            )
        });
        if logged.is_err() {
            // Logging itself failed: leave a trace on stderr rather than nothing.
            e.print(py);
        }
    }
}

fn message<'py>(
    py: Python<'py>,
    c: &Classes,
    m: &Message,
    data: Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    c.make(py, &c.message, (m.address.as_str(), m.type_tags(), data))
}

fn reader_name<'py>(py: Python<'py>, ctx: &Context) -> PyResult<Bound<'py, PyAny>> {
    match &ctx.channel {
        Some(name) => Ok(PyString::new(py, name).into_any()),
        None => Ok(py.None().into_bound(py)),
    }
}

/// osc4py3's source identification: `(host, port)`.
fn source<'py>(py: Python<'py>, ctx: &Context) -> PyResult<Bound<'py, PyAny>> {
    match ctx.peer {
        Some(peer) => (peer.ip().to_string(), peer.port()).into_bound_py_any(py),
        None => Ok(py.None().into_bound(py)),
    }
}

/// osc4py3's read time: seconds since the Unix epoch, as `time.time()` gives them.
fn read_time<'py>(py: Python<'py>, ctx: &Context) -> PyResult<Bound<'py, PyAny>> {
    ctx.arrival.to_unix_secs_f64().into_bound_py_any(py)
}
