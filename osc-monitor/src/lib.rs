//! # osc-monitor
//!
//! A live OSC monitor in the browser (`osc4rs monitor`): packets arriving on any
//! osc4rs endpoint (UDP, TCP, WebSocket, Unix, serial; several at once) are
//! aggregated per address, and a page served by the monitor itself shows them live
//! over a WebSocket: a table (sources, type tags, last value, count, rate, time since
//! the last message; sortable, filtered by an OSC pattern), plots of the numeric
//! arguments of selected addresses, bundles with their lateness, malformed packets
//! with a hex dump, a send panel and a record button.
//!
//! - [`Monitor`] is the aggregation, without I/O: packets in with their arrival time,
//!   rows, bundles, malformed packets and decimated plot points out, every collection
//!   bounded by [`Limits`].
//! - [`MonitorServer`] runs it: one thread reads the endpoints (an osc-channel
//!   reactor), one serves the page (hyper on a single-threaded tokio runtime). The page
//!   (plain HTML, JavaScript and CSS, embedded in the binary) gets one snapshot per
//!   [`HttpLimits::update_every`], never one message per OSC message.
//!
//! ```
//! use osc_monitor::{MonitorConfig, MonitorServer};
//! use std::io::{Read, Write};
//!
//! let mut cfg = MonitorConfig::new(vec!["osc.udp://127.0.0.1:0".into()]);
//! cfg.http = "127.0.0.1:0".parse()?;
//! let monitor = MonitorServer::start(cfg)?;
//! let osc_port = monitor.endpoints()[0].1.unwrap();
//! let sock = std::net::UdpSocket::bind("127.0.0.1:0")?;
//! sock.send_to(b"/ping\0\0\0,\0\0\0", osc_port)?;
//! while monitor.totals().messages == 0 {
//!     std::thread::sleep(std::time::Duration::from_millis(5));
//! }
//! let mut http = std::net::TcpStream::connect(monitor.http_addr())?;
//! http.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
//! let mut page = String::new();
//! http.read_to_string(&mut page)?;
//! assert!(page.starts_with("HTTP/1.1 200"));
//! assert!(monitor.url().starts_with("http://127.0.0.1:"));
//! monitor.stop();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod aggregate;
mod config;
mod hub;
mod limits;
mod osc;
mod protocol;
mod rate;
mod series;
mod server;
mod session;
mod snapshot;

#[cfg(test)]
mod tests;

/// The user guide (`docs/monitor.md`), compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/monitor.md")]
pub struct UserGuide;

pub use aggregate::Monitor;
pub use config::HttpLimits;
pub use hub::RecordingStatus;
pub use limits::{Limits, unix_secs};
pub use rate::RateWindow;
pub use series::{Series, decimate};
pub use snapshot::{
    BundleSeen, MalformedPacket, Plot, PlotSeries, Row, Snapshot, SortKey, Totals, View,
};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use osc_channel::{Endpoint, Reactor};
use tokio::sync::{Semaphore, watch};

/// What can stop a monitor from starting.
///
/// ```
/// let mut cfg = osc_monitor::MonitorConfig::new(vec!["nonsense".into()]);
/// cfg.http = "127.0.0.1:0".parse().unwrap();
/// let e = osc_monitor::MonitorServer::start(cfg).unwrap_err();
/// assert!(matches!(e, osc_monitor::MonitorError::Endpoint { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// An endpoint URL is malformed or cannot be opened.
    #[error("endpoint {url}: {reason}")]
    Endpoint {
        /// The URL as given.
        url: String,
        /// Why.
        reason: String,
    },
    /// The web server cannot listen there.
    #[error("cannot listen on http://{addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The system's reason.
        source: std::io::Error,
    },
    /// A thread, a runtime or the reactor could not start.
    #[error("cannot start: {0}")]
    Start(String),
}

/// Parses the send panel's text notation: a packet as `osc4rs send` takes it (a bare
/// `/address` is a message without arguments).
///
/// ```
/// let p = osc_monitor::parse_packet("/status").unwrap();
/// assert_eq!(p.to_string(), "/status ,");
/// assert!(osc_monitor::parse_packet("/a ,i x").is_err());
/// ```
///
/// # Errors
/// The notation's error, with its column.
pub fn parse_packet(text: &str) -> Result<osc_codec::Packet, String> {
    let t = text.trim();
    if t.starts_with('/') && !t.contains(char::is_whitespace) {
        return format!("{t} ,").parse().map_err(|e| format!("{e}"));
    }
    t.parse().map_err(|e| format!("{e}"))
}

/// What to monitor, where to serve the page, and the limits.
///
/// ```
/// let cfg = osc_monitor::MonitorConfig::new(vec!["osc.udp://127.0.0.1:9000".into()]);
/// assert_eq!(cfg.http.to_string(), "127.0.0.1:0");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MonitorConfig {
    /// Endpoint URLs to listen on (`osc.udp://127.0.0.1:9000`, `osc.tcp://...`,
    /// `ws://...`, `osc.unix:///...`, `serial:///...`).
    pub endpoints: Vec<String>,
    /// Where the page is served (loopback by default; port 0 picks a free one).
    pub http: SocketAddr,
    /// Where the record button writes its files.
    pub record_dir: PathBuf,
    /// The aggregation's bounds.
    pub limits: Limits,
    /// The web server's bounds and update rate.
    pub http_limits: HttpLimits,
    /// The send panel's parser of the text notation (default [`parse_packet`]).
    pub parser: fn(&str) -> Result<osc_codec::Packet, String>,
}

impl MonitorConfig {
    /// These endpoints, the page on `127.0.0.1:0`, recordings in the current
    /// directory, default limits.
    ///
    /// ```
    /// let cfg = osc_monitor::MonitorConfig::new(vec![]);
    /// assert_eq!(cfg.record_dir, std::path::PathBuf::from("."));
    /// ```
    #[must_use]
    pub fn new(endpoints: Vec<String>) -> Self {
        MonitorConfig {
            endpoints,
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            record_dir: PathBuf::from("."),
            limits: Limits::default(),
            http_limits: HttpLimits::default(),
            parser: parse_packet,
        }
    }
}

/// A running monitor: the OSC thread and the web server. [`stop`](Self::stop) (or
/// dropping it) stops both.
///
/// ```
/// use osc_monitor::{MonitorConfig, MonitorServer};
///
/// let mut cfg = MonitorConfig::new(vec!["osc.udp://127.0.0.1:0".into(), "osc.tcp://127.0.0.1:0".into()]);
/// cfg.record_dir = std::env::temp_dir();
/// let monitor = MonitorServer::start(cfg)?;
/// println!("open {}", monitor.url());
/// for (url, addr) in monitor.endpoints() {
///     println!("{url} listens on {addr:?}");
/// }
/// drop(monitor); // stops both threads
/// # Ok::<(), osc_monitor::MonitorError>(())
/// ```
#[derive(Debug)]
pub struct MonitorServer {
    http: SocketAddr,
    endpoints: Vec<(String, Option<SocketAddr>)>,
    hub: Arc<hub::Hub>,
    stop_osc: Arc<AtomicBool>,
    stop_web: watch::Sender<bool>,
    threads: Vec<JoinHandle<()>>,
}

impl MonitorServer {
    /// Opens the endpoints, binds the web server and starts both threads.
    ///
    /// # Errors
    /// [`MonitorError::Endpoint`] for an endpoint that is malformed or cannot be
    /// opened, [`MonitorError::Bind`] when the page cannot be served there.
    ///
    /// ```
    /// let cfg = osc_monitor::MonitorConfig::new(vec!["osc.udp://127.0.0.1:0".into()]);
    /// let m = osc_monitor::MonitorServer::start(cfg)?;
    /// assert_ne!(m.http_addr().port(), 0);
    /// # Ok::<(), osc_monitor::MonitorError>(())
    /// ```
    pub fn start(config: MonitorConfig) -> Result<MonitorServer, MonitorError> {
        let start = |e: &dyn std::fmt::Display| MonitorError::Start(e.to_string());
        let mut reactor = Reactor::new().map_err(|e| start(&e))?;
        let mut endpoints = Vec::new();
        for (n, url) in config.endpoints.iter().enumerate() {
            let bad = |reason: String| MonitorError::Endpoint {
                url: url.clone(),
                reason,
            };
            let endpoint: Endpoint = url.parse().map_err(|e| bad(format!("{e}")))?;
            let spec = endpoint.server_spec().map_err(|e| bad(e.to_string()))?;
            let id = reactor
                .open(&format!("e{n}"), spec)
                .map_err(|e| bad(e.to_string()))?;
            endpoints.push((url.clone(), reactor.local_addr(id)));
        }
        let (listener, http) = server::bind(config.http).map_err(|source| MonitorError::Bind {
            addr: config.http,
            source,
        })?;
        let (requests_tx, requests) = std::sync::mpsc::sync_channel(hub::REQUESTS);
        let hub = Arc::new(hub::Hub::new(
            Monitor::new(config.limits.clone()),
            config.endpoints.clone(),
            config.parser,
            requests_tx,
            reactor.handle(),
        ));
        let stop_osc = Arc::new(AtomicBool::new(false));
        let side = osc::OscSide {
            reactor,
            labels: config.endpoints.clone(),
            hub: Arc::clone(&hub),
            requests,
            stop: Arc::clone(&stop_osc),
            record_dir: config.record_dir.clone(),
        };
        let osc_thread = std::thread::Builder::new()
            .name("osc-monitor-osc".into())
            .spawn(move || side.run())
            .map_err(|e| start(&e))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| start(&e))?;
        let (stop_web, stopped) = watch::channel(false);
        let web = Arc::new(server::Web {
            websockets: Arc::new(Semaphore::new(config.http_limits.max_websockets)),
            hub: Arc::clone(&hub),
            limits: config.http_limits.clone(),
        });
        let web_thread = std::thread::Builder::new()
            .name("osc-monitor-web".into())
            .spawn(move || runtime.block_on(server::serve(listener, web, stopped)))
            .map_err(|e| start(&e))?;
        log::info!("osc-monitor: serving on http://{http}/");
        Ok(MonitorServer {
            http,
            endpoints,
            hub,
            stop_osc,
            stop_web,
            threads: vec![osc_thread, web_thread],
        })
    }

    /// The address of the page.
    ///
    /// ```
    /// let m = osc_monitor::MonitorServer::start(osc_monitor::MonitorConfig::new(vec![]))?;
    /// assert!(m.http_addr().ip().is_loopback());
    /// # Ok::<(), osc_monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }

    /// The page's URL, `http://127.0.0.1:PORT/`.
    ///
    /// ```
    /// let m = osc_monitor::MonitorServer::start(osc_monitor::MonitorConfig::new(vec![]))?;
    /// assert!(m.url().ends_with('/'));
    /// # Ok::<(), osc_monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}/", self.http)
    }

    /// Each endpoint URL as given, with the address it listens on (the port chosen
    /// when 0 was asked; `None` for Unix sockets and serial ports).
    ///
    /// ```
    /// let cfg = osc_monitor::MonitorConfig::new(vec!["osc.udp://127.0.0.1:0".into()]);
    /// let m = osc_monitor::MonitorServer::start(cfg)?;
    /// assert_ne!(m.endpoints()[0].1.unwrap().port(), 0);
    /// # Ok::<(), osc_monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn endpoints(&self) -> &[(String, Option<SocketAddr>)] {
        &self.endpoints
    }

    /// The counts so far.
    ///
    /// ```
    /// let m = osc_monitor::MonitorServer::start(osc_monitor::MonitorConfig::new(vec![]))?;
    /// assert_eq!(m.totals().packets, 0);
    /// # Ok::<(), osc_monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn totals(&self) -> Totals {
        let now = unix_secs(std::time::SystemTime::now());
        self.hub.monitor.lock().totals(now)
    }

    /// Stops both threads and waits for them (a recording is flushed and closed).
    ///
    /// ```
    /// let m = osc_monitor::MonitorServer::start(osc_monitor::MonitorConfig::new(vec![]))?;
    /// let addr = m.http_addr();
    /// m.stop();
    /// assert!(std::net::TcpStream::connect(addr).is_err());
    /// # Ok::<(), osc_monitor::MonitorError>(())
    /// ```
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop_osc.store(true, Ordering::Relaxed);
        self.hub.wake();
        let _ = self.stop_web.send(true);
        for t in self.threads.drain(..) {
            if t.join().is_err() {
                log::error!("osc-monitor: a thread panicked");
            }
        }
    }
}

impl Drop for MonitorServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}
