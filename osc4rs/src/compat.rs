//! osc4py3's vocabulary over one global runtime, so that code written from the osc4py3
//! documentation translates line by line.

use std::sync::Arc;

use parking_lot::Mutex;

use crate::{Config, Mode, Osc, OscError, Result};

static GLOBAL: Mutex<Option<Arc<Osc>>> = Mutex::new(None);

/// The global runtime, cloned out of the lock so handlers may call `osc_send` freely.
fn global() -> Result<Arc<Osc>> {
    GLOBAL.lock().clone().ok_or(OscError::NotStarted)
}

fn startup(config: Config) -> Result<()> {
    let previous = GLOBAL.lock().take();
    if let Some(old) = previous {
        old.terminate()?;
    }
    let osc = Arc::new(Osc::start(config)?);
    *GLOBAL.lock() = Some(osc);
    Ok(())
}

fn terminate() -> Result<()> {
    let osc = GLOBAL.lock().take();
    match osc {
        Some(osc) => osc.terminate(),
        None => Ok(()),
    }
}

fn host_port(address: &str, port: u16) -> (&str, u16) {
    let host = if address.is_empty() || address == "*" {
        "0.0.0.0"
    } else {
        address
    };
    (host, port)
}

macro_rules! osc4py3_module {
    ($(#[$doc:meta])* $module:ident, $mode:expr) => {
        $(#[$doc])*
        pub mod $module {
            use super::*;
            use crate::{IntoHandler, IntoTarget, MethodHandle, Packet};

            /// Starts the global runtime in this module's mode (osc4py3 `osc_startup`).
            /// A runtime already started is terminated first.
            pub fn osc_startup() -> Result<()> {
                startup(Config { mode: $mode, ..Config::default() })
            }

            /// Starts the global runtime with options (`exec_threads` is osc4py3's
            /// `execthreadscount`); the mode is this module's.
            pub fn osc_startup_with(config: Config) -> Result<()> {
                startup(Config { mode: $mode, ..config })
            }

            /// Flushes, closes every channel, joins every thread (osc4py3 `osc_terminate`).
            pub fn osc_terminate() -> Result<()> {
                terminate()
            }

            /// Does the pending work (osc4py3 `osc_process`); call it in your loop.
            pub fn osc_process() -> Result<usize> {
                global()?.process()
            }

            /// Registers a handler (osc4py3 `osc_method`), matching as osc4py3 does: the
            /// registered pattern is matched against the start of each incoming
            /// address, so a method on `/test` also receives `/test/me` and `/testing`
            /// (osc4py3's documentation relies on it). [`osc_method_spec`] matches as
            /// the OSC specification says instead.
            pub fn osc_method<Form>(addrpattern: &str, function: impl $crate::dispatch::ThreadSafe + IntoHandler<Form>) -> Result<MethodHandle> {
                let filter = osc_pattern::Filter::osc4py3_prefix(addrpattern)?;
                Ok(global()?.dispatcher().register_filter(
                    filter,
                    function,
                    osc_dispatch::MethodOptions::default(),
                ))
            }

            /// Registers a handler matched as the OSC specification says (the whole
            /// address, `*` never crossing a `/`): what [`Osc::method`](crate::Osc::method)
            /// does.
            pub fn osc_method_spec<Form>(addrpattern: &str, function: impl $crate::dispatch::ThreadSafe + IntoHandler<Form>) -> Result<MethodHandle> {
                global()?.method(addrpattern, function)
            }

            /// Sends a message or bundle to a name or group of names (osc4py3 `osc_send`).
            ///
            /// As in osc4py3, any address goes out (its own example sends `/test/me/`);
            /// [`Osc::send`](crate::Osc::send) refuses one that receivers would drop.
            pub fn osc_send(packet: impl Into<Packet>, names: impl IntoTarget) -> Result<()> {
                global()?.send_unchecked(packet.into(), names)
            }

            /// A UDP server (osc4py3 `osc_udp_server(address, port, name)`).
            pub fn osc_udp_server(address: &str, port: u16, name: &str) -> Result<()> {
                global()?.udp_server(name, host_port(address, port))
            }

            /// A UDP client (osc4py3 `osc_udp_client(address, port, name)`).
            pub fn osc_udp_client(address: &str, port: u16, name: &str) -> Result<()> {
                global()?.udp_client(name, host_port(address, port))
            }

            /// A broadcast server (osc4py3 `osc_broadcast_server(address, port, name)`).
            pub fn osc_broadcast_server(address: &str, port: u16, name: &str) -> Result<()> {
                global()?.broadcast_server(name, host_port(address, port))
            }

            /// A broadcast client (osc4py3 `osc_broadcast_client(address, port, name)`).
            pub fn osc_broadcast_client(address: &str, port: u16, name: &str) -> Result<()> {
                global()?.broadcast_client(name, host_port(address, port))
            }

            /// A multicast server (osc4py3 `osc_multicast_server(address, port, name)`).
            pub fn osc_multicast_server(address: &str, port: u16, name: &str) -> Result<()> {
                global()?.multicast_server(name, host_port(address, port))
            }

            /// A multicast client (osc4py3 `osc_multicast_client(address, port, name)`).
            pub fn osc_multicast_client(address: &str, port: u16, name: &str) -> Result<()> {
                global()?.multicast_client(name, host_port(address, port))
            }

            /// A TCP server (osc4py3 `osc_tcp_server(address, port, name)`).
            pub fn osc_tcp_server(address: &str, port: u16, name: &str) -> Result<()> {
                global()?.tcp_server(name, host_port(address, port))
            }

            /// A TCP client (osc4py3 `osc_tcp_client(address, port, name)`).
            pub fn osc_tcp_client(address: &str, port: u16, name: &str) -> Result<()> {
                global()?.tcp_client(name, host_port(address, port))
            }

            /// The global runtime itself, for everything the osc4py3 names do not cover.
            pub fn osc_runtime() -> Result<Arc<Osc>> {
                global()
            }
        }
    };
}

osc4py3_module!(
    /// osc4py3's `osc4py3.as_eventloop`: everything runs in `osc_process()`.
    ///
    /// ```
    /// use osc4rs::as_eventloop::*;
    /// use osc4rs::Message;
    ///
    /// osc_startup()?;
    /// osc_udp_server("127.0.0.1", 0, "aservername")?;
    /// osc_method("/test/*", |m: &Message| println!("{m}"))?;
    /// osc_process()?;
    /// osc_terminate()?;
    /// # Ok::<(), osc4rs::OscError>(())
    /// ```
    as_eventloop,
    Mode::EventLoop
);

osc4py3_module!(
    /// osc4py3's `osc4py3.as_comthreads`: I/O in a background thread, handlers in
    /// `osc_process()`.
    as_comthreads,
    Mode::CommThreads
);

osc4py3_module!(
    /// osc4py3's `osc4py3.as_allthreads`: everything in the background.
    as_allthreads,
    Mode::AllThreads
);
