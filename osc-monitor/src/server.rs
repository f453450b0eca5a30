//! The web side: hyper (HTTP/1.1) on a single-threaded tokio runtime in a thread of
//! its own, so that pages never delay OSC traffic. It serves the page and its assets
//! (embedded in the binary) and upgrades `/ws` to the WebSocket the page talks over.
//!
//! | request | status |
//! |---|---|
//! | `GET /`, `/monitor.js`, `/monitor.css` | 200 |
//! | another path | 404 |
//! | a method other than GET or HEAD | 405 |
//! | a WebSocket upgrade from a page of another origin | 403 |
//! | a malformed WebSocket upgrade | 400 |
//! | too many WebSocket clients | 503 |
//! | headers over the limits | 431 (hyper) |

use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use osc_query::guard::{ConnectionLimits, accept_upgrade, serve_listener, upgrade_problem};

use crate::config::HttpLimits;
use crate::hub::Hub;

const INDEX: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/monitor.js");
const STYLE: &str = include_str!("assets/monitor.css");

pub(crate) struct Web {
    pub(crate) hub: Arc<Hub>,
    pub(crate) limits: HttpLimits,
    pub(crate) websockets: Arc<Semaphore>,
}

/// Binds the listener (so that errors reach the caller) and returns it with its
/// address.
pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<(StdListener, SocketAddr)> {
    let listener = StdListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}

pub(crate) async fn serve(listener: StdListener, web: Arc<Web>, stopped: watch::Receiver<bool>) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            log::error!("osc-monitor: cannot use the listener: {e}");
            return;
        }
    };
    let l = &web.limits;
    let limits = ConnectionLimits::new(
        l.max_header_bytes,
        l.max_headers,
        l.header_timeout,
        l.idle_timeout,
    );
    let (served, pages_stopped) = (Arc::clone(&web), stopped.clone());
    serve_listener(
        listener,
        l.max_connections,
        limits,
        "osc-monitor",
        stopped,
        move |_| {
            let (web, stopped) = (Arc::clone(&served), pages_stopped.clone());
            move |req| answer(req, &web, stopped.clone())
        },
    )
    .await;
}

type Answer = Response<Full<Bytes>>;

fn body(status: StatusCode, kind: &'static str, text: impl Into<Bytes>) -> Answer {
    let mut r = Response::new(Full::new(text.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

fn plain(status: StatusCode, text: String) -> Answer {
    body(status, "text/plain; charset=utf-8", text)
}

fn answer(mut req: Request<Incoming>, web: &Arc<Web>, stopped: watch::Receiver<bool>) -> Answer {
    if req
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"))
    {
        return upgrade(&mut req, web, stopped);
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
    match req.uri().path() {
        "/" | "/index.html" => body(StatusCode::OK, "text/html; charset=utf-8", INDEX),
        "/monitor.js" => body(StatusCode::OK, "text/javascript; charset=utf-8", SCRIPT),
        "/monitor.css" => body(StatusCode::OK, "text/css; charset=utf-8", STYLE),
        other => plain(StatusCode::NOT_FOUND, format!("nothing at {other}")),
    }
}

/// Whether a browser's `Origin` is this server's own (`http://` + the `Host`): a
/// page of another site must not drive the monitor (send packets, write files).
/// Clients that send no `Origin` (not browsers) are let in.
fn same_origin(headers: &hyper::HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers.get(header::HOST).map(HeaderValue::as_bytes);
    match (origin.as_bytes().strip_prefix(b"http://"), host) {
        (Some(o), Some(h)) => o.eq_ignore_ascii_case(h),
        _ => false,
    }
}

/// Answers a WebSocket upgrade (RFC 6455 checks; the accept key by tungstenite) and
/// starts the page's session once hyper hands the connection over.
fn upgrade(req: &mut Request<Incoming>, web: &Arc<Web>, stopped: watch::Receiver<bool>) -> Answer {
    let refuse = |status, text: String| {
        let mut r = plain(status, text);
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        r
    };
    if !same_origin(req.headers()) {
        return refuse(
            StatusCode::FORBIDDEN,
            "WebSocket from a page of another origin refused".to_owned(),
        );
    }
    let problem = if req.method() == Method::GET && req.uri().path() != "/ws" {
        Some("the WebSocket is at /ws")
    } else {
        upgrade_problem(req)
    };
    if let Some(p) = problem {
        return refuse(
            StatusCode::BAD_REQUEST,
            format!("bad WebSocket upgrade: {p}"),
        );
    }
    let Ok(permit) = Arc::clone(&web.websockets).try_acquire_owned() else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{} pages already", web.limits.max_websockets),
        );
    };
    let web = Arc::clone(web);
    let max = web.limits.max_ws_message;
    accept_upgrade(req, max, "osc-monitor", move |ws| async move {
        crate::session::run(ws, web.hub.clone(), web.limits.clone(), stopped).await;
        drop(permit);
    })
}
