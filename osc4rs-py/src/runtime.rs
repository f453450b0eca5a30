//! The runtime behind `osc4rs.as_eventloop`, `as_comthreads` and `as_allthreads`: the
//! facade's global runtime (its osc4py3 vocabulary, [`osc4rs::as_eventloop`] & co.),
//! called with the GIL released.
//!
//! The three `as_*` modules of the facade share one global runtime; which module
//! starts it decides the mode, and every other function acts on that one runtime
//! whatever module it is reached through. The functions below call the
//! `as_eventloop` names for everything but the start.

use osc4rs::as_eventloop as global;
use osc4rs::{Config, Context, IntoAddr, Message, Mode, Osc, Target};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::codec::{classes, py_to_packet, runtime_error};
use crate::handler::{PyHandler, raise_pending};
use crate::logbridge;
use crate::{CODEC, client_with_ttl};

/// `_startup(mode, execthreadscount, logger)`: starts the global runtime.
#[pyfunction]
#[pyo3(signature = (mode, execthreadscount = 10, logger = None))]
pub(crate) fn _startup(
    py: Python<'_>,
    mode: &str,
    execthreadscount: usize,
    logger: Option<Py<PyAny>>,
) -> PyResult<()> {
    let mode = match mode {
        "eventloop" => Mode::EventLoop,
        "comthreads" => Mode::CommThreads,
        "allthreads" => Mode::AllThreads,
        other => return Err(PyValueError::new_err(format!("unknown mode {other:?}"))),
    };
    logbridge::set_logger(py, logger)?;
    let config = Config {
        mode,
        exec_threads: execthreadscount,
        codec: CODEC,
        ..Config::default()
    };
    py.detach(|| match mode {
        Mode::EventLoop => osc4rs::as_eventloop::osc_startup_with(config),
        Mode::CommThreads => osc4rs::as_comthreads::osc_startup_with(config),
        _ => osc4rs::as_allthreads::osc_startup_with(config),
    })
    .map_err(|e| runtime_error(py, e))
}

/// `_terminate()`: flushes, closes every channel, joins every thread.
#[pyfunction]
pub(crate) fn _terminate(py: Python<'_>) -> PyResult<()> {
    let done = py.detach(global::osc_terminate);
    logbridge::flush(py);
    logbridge::set_logger(py, None)?;
    done.map_err(|e| runtime_error(py, e))?;
    raise_pending()
}

/// `_process()`: the pending work; handlers run in this thread (GIL taken for each).
#[pyfunction]
pub(crate) fn _process(py: Python<'_>) -> PyResult<usize> {
    let n = py
        .detach(global::osc_process)
        .map_err(|e| runtime_error(py, e))?;
    raise_pending()?;
    Ok(n)
}

/// `_method(addrpattern, function, argscheme, extra, methodfilter, logger)`.
#[pyfunction]
#[pyo3(signature = (addrpattern, function, argscheme, extra, methodfilter, logger = None))]
pub(crate) fn _method(
    py: Python<'_>,
    addrpattern: &str,
    function: Py<PyAny>,
    argscheme: Vec<String>,
    extra: Py<PyAny>,
    methodfilter: Py<PyAny>,
    logger: Option<Py<PyAny>>,
) -> PyResult<()> {
    let handler = PyHandler::new(function, argscheme, extra, methodfilter, logger)?;
    let pattern = addrpattern.to_owned();
    py.detach(move || {
        global::osc_method(&pattern, move |m: &Message, ctx: &Context| {
            handler.call(m, ctx);
        })
    })
    .map(|_| ())
    .map_err(|e| runtime_error(py, e))
}

/// `_send(packet, names)`: encodes once and sends to every named channel.
#[pyfunction]
pub(crate) fn _send(py: Python<'_>, packet: &Bound<'_, PyAny>, names: Vec<String>) -> PyResult<()> {
    let c = classes(py)?;
    let packet = py_to_packet(py, c, packet, 0)?;
    let target = match <[String; 1]>::try_from(names) {
        Ok([one]) => Target::Name(one),
        Err(names) => Target::from(names),
    };
    py.detach(move || global::osc_send(packet, target))
        .map_err(|e| runtime_error(py, e))
}

/// `_channel(kind, address, port, name, ttl)`: opens a named channel; `ttl` applies
/// to broadcast and multicast clients only (see [`crate::client_with_ttl`]).
#[pyfunction]
#[pyo3(signature = (kind, address, port, name, ttl = None))]
pub(crate) fn _channel(
    py: Python<'_>,
    kind: &str,
    address: &str,
    port: u16,
    name: &str,
    ttl: Option<u32>,
) -> PyResult<()> {
    if let Some(ttl) = ttl {
        let osc = global::osc_runtime().map_err(|e| runtime_error(py, e))?;
        return open_with_ttl(py, &osc, kind, name, (address, port), ttl);
    }
    let open: fn(&str, u16, &str) -> osc4rs::Result<()> = match kind {
        "udp_server" => global::osc_udp_server,
        "udp_client" => global::osc_udp_client,
        "broadcast_server" => global::osc_broadcast_server,
        "broadcast_client" => global::osc_broadcast_client,
        "multicast_server" => global::osc_multicast_server,
        "multicast_client" => global::osc_multicast_client,
        "tcp_server" => global::osc_tcp_server,
        "tcp_client" => global::osc_tcp_client,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown channel kind {other:?}"
            )));
        }
    };
    py.detach(|| open(address, port, name))
        .map_err(|e| runtime_error(py, e))
}

/// Opens the channel [`client_with_ttl`] makes on `osc`; a `ValueError` for a kind that
/// has no `ttl`.
pub(crate) fn open_with_ttl(
    py: Python<'_>,
    osc: &Osc,
    kind: &str,
    name: &str,
    dest: (&str, u16),
    ttl: u32,
) -> PyResult<()> {
    py.detach(|| {
        let dest = dest.into_addr()?;
        Ok(client_with_ttl(kind, dest, ttl).map(|spec| osc.channel(name, spec)))
    })
    .map_err(|e: osc4rs::OscError| runtime_error(py, e))?
    .ok_or_else(|| PyValueError::new_err(format!("a {kind} channel has no ttl")))?
    .map_err(|e| runtime_error(py, e))
}

/// `_local_addr(name)`: `(host, port)` a channel's socket is bound to, or `None`.
#[pyfunction]
pub(crate) fn _local_addr(py: Python<'_>, name: &str) -> PyResult<Option<(String, u16)>> {
    let osc = global::osc_runtime().map_err(|e| runtime_error(py, e))?;
    let addr = py.detach(|| osc.local_addr(name));
    Ok(addr.map(|a| (a.ip().to_string(), a.port())))
}
