//! The OSCQuery HTTP server (hyper, HTTP/1.1) with the WebSocket upgrade on the same
//! port, run by one thread of its own (a single-threaded tokio runtime), so that a
//! slow or hostile HTTP client never holds up OSC traffic.
//!
//! Routes: `GET /path` (the node and its subtree), `GET /path?ATTRIBUTE` (that
//! attribute alone), `GET /?HOST_INFO`, and a WebSocket upgrade on any path.
//!
//! | request | status |
//! |---|---|
//! | a node | 200, `application/json` |
//! | unknown path | 404 |
//! | an attribute the node lacks (`/container?TYPE`) | 200, `{}` (the proposal's example) |
//! | `?VALUE` of a node that is not readable (`ACCESS` 0 or 2) | 204 |
//! | an attribute of the proposal this server does not support (`?TAGS`, `?HTML`, ...) | 204 |
//! | a name that is not an attribute (`?FOO`) | 400 |
//! | a method other than GET or HEAD | 405 |
//! | a malformed WebSocket upgrade | 400 |
//! | too many WebSocket clients | 503 |
//! | headers over `max_header_bytes` or `max_headers` | 431 (hyper) |

use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::attr::{ATTRIBUTES, IMPLEMENTED};
use crate::guard::{ConnectionLimits, accept_upgrade, serve_listener, upgrade_problem};
use crate::namespace::Namespace;
use crate::node::{HostInfo, Transport};
use crate::{QueryError, Result};

/// How the query server listens, what it says about the OSC server, and its limits.
///
/// ```
/// let cfg = osc_query::ServerConfig::new("127.0.0.1:0".parse().unwrap());
/// assert_eq!(cfg.max_connections, 64);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerConfig {
    /// Where the HTTP (and WebSocket) server listens; port 0 picks a free one.
    pub addr: SocketAddr,
    /// The OSC server's address for `HOST_INFO` (`OSC_IP`, `OSC_PORT`). An
    /// unspecified IP (`0.0.0.0`) is reported as the address the client reached the
    /// query server on. `None`: both left out (a client then assumes the query
    /// server's own address and port).
    pub osc_addr: Option<SocketAddr>,
    /// `OSC_TRANSPORT`.
    pub osc_transport: Transport,
    /// Open connections at most (HTTP and WebSocket together); more are closed at once.
    pub max_connections: usize,
    /// WebSocket clients at most; more get 503.
    pub max_websockets: usize,
    /// The request head's size at most (at least 8192, hyper's minimum buffer);
    /// beyond it: 431.
    pub max_header_bytes: usize,
    /// Header lines at most; beyond: 431.
    pub max_headers: usize,
    /// The whole request head must arrive within this time (slow clients are closed).
    pub header_timeout: Duration,
    /// A connection with no byte in either direction for this long is closed.
    pub idle_timeout: Duration,
    /// The longest WebSocket message (and frame) accepted from a client.
    pub max_ws_message: usize,
    /// A WebSocket client that does not take what is sent within this time is closed.
    pub ws_write_timeout: Duration,
}

impl ServerConfig {
    /// Safe defaults: 64 connections, 16 WebSocket clients, 8 KiB and 32 headers per
    /// request head, 5 s to send it, 30 s idle, 64 KiB WebSocket messages, 5 s to
    /// take a write.
    ///
    /// ```
    /// let cfg = osc_query::ServerConfig::new("127.0.0.1:0".parse().unwrap());
    /// assert_eq!(cfg.max_header_bytes, 8192);
    /// ```
    #[must_use]
    pub fn new(addr: SocketAddr) -> Self {
        ServerConfig {
            addr,
            osc_addr: None,
            osc_transport: Transport::Udp,
            max_connections: 64,
            max_websockets: 16,
            max_header_bytes: 8192,
            max_headers: 32,
            header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
            max_ws_message: 64 << 10,
            ws_write_timeout: Duration::from_secs(5),
        }
    }
}

/// What every connection of one server reads: the namespace, the limits, and the
/// WebSocket places.
struct ServedNamespace {
    ns: Arc<Namespace>,
    config: ServerConfig,
    websockets: Arc<Semaphore>,
}

/// A running query server; dropping it (or [`close`](Self::close)) stops it and
/// closes every connection.
///
/// ```
/// use osc_query::{Namespace, ParamSpec, QueryServer, ServerConfig};
/// use std::io::{Read, Write};
/// use std::sync::Arc;
///
/// let ns = Arc::new(Namespace::new("demo"));
/// ns.add_parameter(ParamSpec::new("/gain", 0.5f32))?;
/// let server = QueryServer::start(Arc::clone(&ns), ServerConfig::new("127.0.0.1:0".parse().unwrap()))?;
/// let mut s = std::net::TcpStream::connect(server.local_addr())?;
/// s.write_all(b"GET /gain?VALUE HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
/// let mut answer = String::new();
/// s.read_to_string(&mut answer)?;
/// assert!(answer.starts_with("HTTP/1.1 200"));
/// assert!(answer.ends_with(r#"{"VALUE":[0.5]}"#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct QueryServer {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl QueryServer {
    /// Listens on `config.addr` and serves `ns` from a thread of its own.
    ///
    /// # Errors
    /// [`QueryError::Bind`] when the address cannot be listened on;
    /// [`QueryError::Io`] when the thread or its runtime cannot start.
    pub fn start(ns: Arc<Namespace>, config: ServerConfig) -> Result<QueryServer> {
        let listener = StdListener::bind(config.addr).map_err(|source| QueryError::Bind {
            addr: config.addr,
            source,
        })?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = watch::channel(false);
        let shared = Arc::new(ServedNamespace {
            websockets: Arc::new(Semaphore::new(config.max_websockets)),
            ns,
            config,
        });
        let thread = std::thread::Builder::new()
            .name("osc-query".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(l) => serve(l, shared, stopped).await,
                        Err(e) => log::error!("osc-query: cannot use the listener: {e}"),
                    }
                });
            })?;
        log::info!("osc-query: serving on http://{addr}");
        Ok(QueryServer {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The address it listens on (with the port chosen when 0 was asked).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// let s = osc_query::QueryServer::start(Arc::new(osc_query::Namespace::new("x")),
    ///     osc_query::ServerConfig::new("127.0.0.1:0".parse().unwrap()))?;
    /// assert_ne!(s.local_addr().port(), 0);
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and waits for its thread.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// let s = osc_query::QueryServer::start(Arc::new(osc_query::Namespace::new("x")),
    ///     osc_query::ServerConfig::new("127.0.0.1:0".parse().unwrap()))?;
    /// let addr = s.local_addr();
    /// s.close();
    /// assert!(std::net::TcpStream::connect(addr).is_err());
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    pub fn close(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                log::error!("osc-query: the server thread panicked");
            }
        }
    }
}

impl Drop for QueryServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// How often the namespace is checked for methods added or removed, so that
/// WebSocket clients hear of them without a request.
const REFRESH_EVERY: Duration = Duration::from_millis(100);

async fn serve(
    listener: TcpListener,
    shared: Arc<ServedNamespace>,
    stopped: watch::Receiver<bool>,
) {
    let refresher = {
        let (shared, mut stopped) = (Arc::clone(&shared), stopped.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REFRESH_EVERY);
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    _ = tick.tick() => shared.ns.refresh(),
                }
            }
        })
    };
    let cfg = &shared.config;
    let limits = ConnectionLimits::new(
        cfg.max_header_bytes,
        cfg.max_headers,
        cfg.header_timeout,
        cfg.idle_timeout,
    );
    let served = Arc::clone(&shared);
    // The address a client reached (for HOST_INFO's OSC_IP); the listener's own if the
    // system cannot tell.
    let bound = listener.local_addr().unwrap_or(cfg.addr);
    serve_listener(
        listener,
        cfg.max_connections,
        limits,
        "osc-query",
        stopped,
        move |stream| {
            let (shared, local) = (Arc::clone(&served), stream.local_addr().unwrap_or(bound));
            move |req| answer(req, &shared, local)
        },
    )
    .await;
    refresher.abort();
}

type Answer = Response<Full<Bytes>>;

fn plain(status: StatusCode, text: String) -> Answer {
    let mut r = Response::new(Full::new(Bytes::from(text)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn json(value: &impl serde::Serialize) -> Answer {
    match serde_json::to_vec(value) {
        Ok(body) => {
            let mut r = Response::new(Full::new(Bytes::from(body)));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        Err(e) => plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write JSON: {e}"),
        ),
    }
}

fn no_content() -> Answer {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

fn answer(mut req: Request<Incoming>, shared: &Arc<ServedNamespace>, local: SocketAddr) -> Answer {
    if req
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
    {
        return upgrade(&mut req, shared);
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = plain(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{} is not served; use GET", req.method()),
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let raw_path = req.uri().path();
    let Ok(path) = percent_encoding::percent_decode_str(raw_path).decode_utf8() else {
        return plain(
            StatusCode::BAD_REQUEST,
            format!("the path {raw_path:?} is not UTF-8 once decoded"),
        );
    };
    let query = req.uri().query().unwrap_or("");
    if query == "HOST_INFO" {
        return json(&host_info(shared, local));
    }
    let ns = &shared.ns;
    let Some(node) = ns.node(&path) else {
        return plain(StatusCode::NOT_FOUND, format!("no OSC node at {path}"));
    };
    if query.is_empty() {
        return json(&node);
    }
    if !ATTRIBUTES.contains(&query) {
        return plain(
            StatusCode::BAD_REQUEST,
            format!("{query:?} is not an OSCQuery attribute"),
        );
    }
    let supported =
        matches!(query, "FULL_PATH" | "CONTENTS" | "TYPE") || IMPLEMENTED.contains(&query);
    if !supported {
        return no_content();
    }
    if query == "VALUE" && !node.access.unwrap_or_default().readable() {
        return no_content();
    }
    let doc = match serde_json::to_value(&node) {
        Ok(serde_json::Value::Object(mut all)) => {
            let mut one = serde_json::Map::new();
            if let Some(v) = all.remove(query) {
                one.insert(query.to_owned(), v);
            }
            one
        }
        _ => serde_json::Map::new(),
    };
    json(&doc)
}

fn host_info(shared: &ServedNamespace, local: SocketAddr) -> HostInfo {
    let cfg = &shared.config;
    let osc_ip = cfg.osc_addr.map(|a| {
        if a.ip().is_unspecified() {
            local.ip().to_string()
        } else {
            a.ip().to_string()
        }
    });
    HostInfo {
        name: Some(shared.ns.name().to_owned()),
        extensions: HostInfo::our_extensions(),
        osc_ip,
        osc_port: cfg.osc_addr.map(|a| a.port()),
        osc_transport: Some(cfg.osc_transport),
        ws_ip: None,
        ws_port: None,
    }
}

/// Answers a WebSocket upgrade (RFC 6455 checks; the accept key by tungstenite) and
/// starts the client's session once hyper hands the connection over.
fn upgrade(req: &mut Request<Incoming>, shared: &Arc<ServedNamespace>) -> Answer {
    // A refused upgrade closes the connection: the client meant to leave HTTP.
    let refuse = |status, text: String| {
        let mut r = plain(status, text);
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        r
    };
    if let Some(p) = upgrade_problem(req) {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!("bad WebSocket upgrade: {p}"),
        );
    }
    let Ok(permit) = Arc::clone(&shared.websockets).try_acquire_owned() else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{} WebSocket clients already", shared.config.max_websockets),
        );
    };
    let ns = Arc::clone(&shared.ns);
    let write_timeout = shared.config.ws_write_timeout;
    accept_upgrade(
        req,
        shared.config.max_ws_message,
        "osc-query",
        move |ws| async move {
            crate::ws::session(ws, ns, write_timeout).await;
            drop(permit);
        },
    )
}
