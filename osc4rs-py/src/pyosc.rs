//! `osc4rs.Osc`: the facade's [`osc4rs::Osc`] as a Python object, for new code (the
//! `as_*` modules are for osc4py3 programs). Several may run at once, each in its own
//! mode; each call releases the GIL while the runtime works.

use osc4rs::{Config, Context, Message, Mode, Osc, Target};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::CODEC;
use crate::codec::{classes, py_to_packet, runtime_error};
use crate::handler::{PyHandler, raise_pending};
use crate::logbridge;
use crate::runtime::open_with_ttl;

/// The runtime behind `osc4rs.Osc`.
#[pyclass(name = "Runtime", module = "osc4rs._osc4rs", frozen)]
pub(crate) struct PyOsc {
    osc: Osc,
}

fn mode_of(mode: &str) -> PyResult<Mode> {
    match mode {
        "eventloop" => Ok(Mode::EventLoop),
        "comthreads" => Ok(Mode::CommThreads),
        "allthreads" => Ok(Mode::AllThreads),
        other => Err(PyValueError::new_err(format!("unknown mode {other:?}"))),
    }
}

#[pymethods]
impl PyOsc {
    /// Starts a runtime in `mode` ("eventloop", "comthreads" or "allthreads").
    #[new]
    #[pyo3(signature = (mode = "eventloop", exec_threads = 10, logger = None))]
    fn new(
        py: Python<'_>,
        mode: &str,
        exec_threads: usize,
        logger: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let mode = mode_of(mode)?;
        if logger.is_some() {
            logbridge::set_logger(py, logger)?;
        }
        let config = Config {
            mode,
            exec_threads,
            codec: CODEC,
            ..Config::default()
        };
        let osc = py
            .detach(|| Osc::builder().config(config).start())
            .map_err(|e| runtime_error(py, e))?;
        Ok(PyOsc { osc })
    }

    /// Opens a channel: `kind` is udp_server, udp_client, broadcast_server,
    /// broadcast_client, multicast_server, multicast_client, tcp_server or tcp_client;
    /// `ttl` is for broadcast and multicast clients.
    #[pyo3(signature = (kind, name, host, port, ttl = None))]
    fn channel(
        &self,
        py: Python<'_>,
        kind: &str,
        name: &str,
        host: &str,
        port: u16,
        ttl: Option<u32>,
    ) -> PyResult<()> {
        let osc = &self.osc;
        let addr = (host, port);
        if let Some(ttl) = ttl {
            return open_with_ttl(py, osc, kind, name, addr, ttl);
        }
        py.detach(|| match kind {
            "udp_server" => Some(osc.udp_server(name, addr)),
            "udp_client" => Some(osc.udp_client(name, addr)),
            "broadcast_server" => Some(osc.broadcast_server(name, addr)),
            "broadcast_client" => Some(osc.broadcast_client(name, addr)),
            "multicast_server" => Some(osc.multicast_server(name, addr)),
            "multicast_client" => Some(osc.multicast_client(name, addr)),
            "tcp_server" => Some(osc.tcp_server(name, addr)),
            "tcp_client" => Some(osc.tcp_client(name, addr)),
            _ => None,
        })
        .ok_or_else(|| PyValueError::new_err(format!("unknown channel kind {kind:?}")))?
        .map_err(|e| runtime_error(py, e))
    }

    /// Registers `function` for messages whose address matches `address` (OSC
    /// pattern rules, the whole address), called with the arguments `argscheme` names.
    #[pyo3(signature = (address, function, argscheme, extra = None))]
    fn method(
        &self,
        py: Python<'_>,
        address: &str,
        function: Py<PyAny>,
        argscheme: Vec<String>,
        extra: Option<Py<PyAny>>,
    ) -> PyResult<()> {
        let extra = extra.unwrap_or_else(|| py.None());
        let handler = PyHandler::new(function, argscheme, extra, py.None(), None)?;
        py.detach(|| {
            self.osc.method(address, move |m: &Message, ctx: &Context| {
                handler.call(m, ctx)
            })
        })
        .map(|_| ())
        .map_err(|e| runtime_error(py, e))
    }

    /// Sends an `OSCMessage` or `OSCBundle` to the named channels.
    fn send(&self, py: Python<'_>, packet: &Bound<'_, PyAny>, names: Vec<String>) -> PyResult<()> {
        let packet = py_to_packet(py, classes(py)?, packet, 0)?;
        let target = Target::from(names);
        py.detach(|| self.osc.send(packet, target))
            .map_err(|e| runtime_error(py, e))
    }

    /// Does the pending work, waiting up to `timeout` seconds for some; returns the
    /// number of packets handled.
    #[pyo3(signature = (timeout = 0.0))]
    fn process(&self, py: Python<'_>, timeout: f64) -> PyResult<usize> {
        let wait = std::time::Duration::try_from_secs_f64(timeout.max(0.0))
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let n = py
            .detach(|| self.osc.process_timeout(wait))
            .map_err(|e| runtime_error(py, e))?;
        raise_pending()?;
        Ok(n)
    }

    /// Flushes, closes every channel and stops every thread (idempotent).
    fn terminate(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.osc.terminate())
            .map_err(|e| runtime_error(py, e))?;
        logbridge::flush(py);
        raise_pending()
    }

    /// `(host, port)` a channel's socket is bound to, or `None`.
    fn local_addr(&self, py: Python<'_>, name: &str) -> Option<(String, u16)> {
        py.detach(|| self.osc.local_addr(name))
            .map(|a| (a.ip().to_string(), a.port()))
    }
}
