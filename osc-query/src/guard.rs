//! One HTTP/1.1 connection served with the limits a server on an open network needs:
//! hyper's header timeout and head-size limits, and an idle timeout (no byte either
//! way for that long closes it), and a listener with a cap on open connections. The
//! OSCQuery server and osc-monitor's web page serve through [`serve_listener`].

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::upgrade::Upgraded;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// The limits of one connection.
///
/// ```
/// let l = osc_query::guard::ConnectionLimits::default();
/// assert_eq!(l.max_headers, 32);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionLimits {
    /// The request head's size at most (at least 8192, hyper's minimum); beyond: 431.
    pub max_header_bytes: usize,
    /// Header lines at most; beyond: 431.
    pub max_headers: usize,
    /// The whole request head must arrive within this time (slowloris).
    pub header_timeout: Duration,
    /// No byte in either direction for this long closes the connection.
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_header_bytes: 8192,
            max_headers: 32,
            header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30),
        }
    }
}

impl ConnectionLimits {
    /// Limits from their four values.
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = osc_query::guard::ConnectionLimits::new(16 << 10, 64, Duration::from_secs(2), Duration::from_secs(60));
    /// assert_eq!(l.idle_timeout, Duration::from_secs(60));
    /// ```
    #[must_use]
    pub fn new(
        max_header_bytes: usize,
        max_headers: usize,
        header_timeout: Duration,
        idle_timeout: Duration,
    ) -> Self {
        ConnectionLimits {
            max_header_bytes,
            max_headers,
            header_timeout,
            idle_timeout,
        }
    }
}

/// A stream that notes when a byte last went either way, for the idle timeout.
struct Tracked {
    inner: TcpStream,
    epoch: Instant,
    last: Arc<AtomicU64>,
}

impl Tracked {
    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        r
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Serves one connection (`peer`, for the log lines of `who`) with `answer`, HTTP
/// upgrades allowed (a WebSocket handshake answered by `answer` continues on the
/// upgraded stream), until the client goes, an error, the idle timeout, or `stopped`
/// changes.
///
/// ```
/// use http_body_util::Full;
/// use hyper::body::Bytes;
/// use osc_query::guard::{ConnectionLimits, serve_connection};
/// use std::io::{Read, Write};
///
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// let client = std::thread::spawn(move || {
///     let mut s = std::net::TcpStream::connect(addr).unwrap();
///     s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
///     let mut answer = String::new();
///     s.read_to_string(&mut answer).unwrap();
///     answer
/// });
/// rt.block_on(async {
///     listener.set_nonblocking(true)?;
///     let listener = tokio::net::TcpListener::from_std(listener)?;
///     let (stream, peer) = listener.accept().await?;
///     let (_tx, stopped) = tokio::sync::watch::channel(false);
///     serve_connection(stream, peer, ConnectionLimits::default(), "doc", stopped, |_req| {
///         hyper::Response::new(Full::new(Bytes::from("hello")))
///     })
///     .await;
///     Ok::<(), std::io::Error>(())
/// })?;
/// assert!(client.join().unwrap().ends_with("hello"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn serve_connection<F>(
    stream: TcpStream,
    peer: SocketAddr,
    limits: ConnectionLimits,
    who: &'static str,
    mut stopped: watch::Receiver<bool>,
    answer: F,
) where
    F: Fn(Request<Incoming>) -> Response<Full<Bytes>> + Send + Sync + 'static,
{
    let epoch = Instant::now();
    let last = Arc::new(AtomicU64::new(0));
    let io = TokioIo::new(Tracked {
        inner: stream,
        epoch,
        last: Arc::clone(&last),
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_headers(limits.max_headers)
        .keep_alive(true);
    let answer = Arc::new(answer);
    let svc = service_fn(move |req| {
        let answer = Arc::clone(&answer);
        async move { Ok::<_, Infallible>(answer(req)) }
    });
    let conn = builder.serve_connection(io, svc).with_upgrades();
    tokio::pin!(conn);
    let idle = limits.idle_timeout;
    loop {
        let quiet = epoch
            .elapsed()
            .saturating_sub(Duration::from_millis(last.load(Ordering::Relaxed)));
        let Some(left) = idle.checked_sub(quiet).filter(|d| !d.is_zero()) else {
            log::info!("{who}: {peer} idle for {idle:?}; closed");
            return;
        };
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    log::info!("{who}: connection from {peer} ended: {e}");
                }
                return;
            }
            _ = stopped.changed() => return,
            () = tokio::time::sleep(left) => {}
        }
    }
}

/// Accepts connections on `listener` until `stopped` changes, at most
/// `max_connections` open at once (more are closed at once, with a log line), and
/// serves each with [`serve_connection`] and the answer `answer_for` makes for it
/// (from its stream: its local address, say). An accept error (out of descriptors)
/// waits 50 ms instead of spinning.
///
/// ```
/// use http_body_util::Full;
/// use hyper::body::Bytes;
/// use osc_query::guard::{ConnectionLimits, serve_listener};
/// use std::io::{Read, Write};
///
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let addr = listener.local_addr()?;
/// listener.set_nonblocking(true)?;
/// let (stop, stopped) = tokio::sync::watch::channel(false);
/// let client = std::thread::spawn(move || {
///     let mut s = std::net::TcpStream::connect(addr).unwrap();
///     s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
///     let mut answer = String::new();
///     s.read_to_string(&mut answer).unwrap();
///     stop.send(true).unwrap();
///     answer
/// });
/// rt.block_on(async {
///     let listener = tokio::net::TcpListener::from_std(listener)?;
///     serve_listener(listener, 4, ConnectionLimits::default(), "doc", stopped, |_stream| {
///         |_req| hyper::Response::new(Full::new(Bytes::from("hello")))
///     })
///     .await;
///     Ok::<(), std::io::Error>(())
/// })?;
/// assert!(client.join().unwrap().ends_with("hello"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn serve_listener<M, F>(
    listener: TcpListener,
    max_connections: usize,
    limits: ConnectionLimits,
    who: &'static str,
    mut stopped: watch::Receiver<bool>,
    answer_for: M,
) where
    M: Fn(&TcpStream) -> F,
    F: Fn(Request<Incoming>) -> Response<Full<Bytes>> + Send + Sync + 'static,
{
    let connections = Arc::new(Semaphore::new(max_connections));
    loop {
        tokio::select! {
            _ = stopped.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
                        log::warn!("{who}: {max_connections} connections open; {peer} refused");
                        drop(stream);
                        continue;
                    };
                    let answer = answer_for(&stream);
                    let stopped = stopped.clone();
                    tokio::spawn(async move {
                        serve_connection(stream, peer, limits, who, stopped, answer).await;
                        drop(permit);
                    });
                }
                Err(e) => {
                    log::warn!("{who}: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

/// A WebSocket on the server side of an upgraded HTTP connection.
pub type ServerWebSocket = WebSocketStream<TokioIo<Upgraded>>;

/// Why `req` is not a WebSocket upgrade (RFC 6455: a GET, `Connection: Upgrade`,
/// version 13, a 24-byte key), or `None` when it is one.
///
/// ```
/// use osc_query::guard::upgrade_problem;
/// let req = |key: &str| hyper::Request::get("/ws")
///     .header("connection", "keep-alive, Upgrade")
///     .header("upgrade", "websocket")
///     .header("sec-websocket-version", "13")
///     .header("sec-websocket-key", key)
///     .body(())
///     .unwrap();
/// assert_eq!(upgrade_problem(&req("dGhlIHNhbXBsZSBub25jZQ==")), None);
/// assert_eq!(upgrade_problem(&req("short")), Some("Sec-WebSocket-Key is missing or malformed"));
/// ```
pub fn upgrade_problem<B>(req: &Request<B>) -> Option<&'static str> {
    let headers = req.headers();
    let has_token = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
                .unwrap_or(false)
        })
    };
    if req.method() != Method::GET {
        Some("the upgrade request must be a GET")
    } else if !has_token(header::CONNECTION, "upgrade") {
        Some("Connection must include \"Upgrade\"")
    } else if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        Some("Sec-WebSocket-Version must be 13")
    } else if headers
        .get(header::SEC_WEBSOCKET_KEY)
        .is_none_or(|k| k.len() != 24)
    {
        Some("Sec-WebSocket-Key is missing or malformed")
    } else {
        None
    }
}

/// Answers a WebSocket upgrade that [`upgrade_problem`] found good: 101 with the
/// accept key (tungstenite derives it); once hyper hands the connection over,
/// `session` runs with the WebSocket, its messages and frames at most `max_message`
/// bytes. A failed hand-over is logged for `who`. Call it inside a tokio runtime.
///
/// ```
/// use osc_query::guard::accept_upgrade;
/// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// let mut req = hyper::Request::get("/")
///     .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
///     .body(())?;
/// let answer = rt.block_on(async { accept_upgrade(&mut req, 1 << 16, "doc", |_ws| async {}) });
/// assert_eq!(answer.status(), 101);
/// // RFC 6455's example key and its accept value.
/// assert_eq!(answer.headers()["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn accept_upgrade<B, S, Fut>(
    req: &mut Request<B>,
    max_message: usize,
    who: &'static str,
    session: S,
) -> Response<Full<Bytes>>
where
    B: Send + 'static,
    S: FnOnce(ServerWebSocket) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let key = req
        .headers()
        .get(header::SEC_WEBSOCKET_KEY)
        .map(|k| derive_accept_key(k.as_bytes()))
        .unwrap_or_default();
    let on_upgrade = hyper::upgrade::on(req);
    let cfg = WebSocketConfig::default()
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message));
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let ws = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(cfg),
                )
                .await;
                session(ws).await;
            }
            Err(e) => log::info!("{who}: WebSocket upgrade failed: {e}"),
        }
    });
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = r.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_str(&key) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    r
}
