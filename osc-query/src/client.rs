//! Reading a remote OSCQuery server: `HOST_INFO`, the tree or one node, one
//! attribute, and value streaming with `LISTEN`. Blocking calls (each HTTP request
//! runs on a small single-threaded runtime owned by the client), bounded in time
//! and in the size of the answer.

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use osc_codec::Message;
use tokio_tungstenite::tungstenite::{self, Message as Ws, WebSocket};

use crate::node::{HostInfo, Node};
use crate::{QueryError, Result};

/// A client of one OSCQuery server.
///
/// ```
/// use osc_query::{Namespace, ParamSpec, QueryClient, QueryServer, ServerConfig};
/// use std::sync::Arc;
///
/// let ns = Arc::new(Namespace::new("demo"));
/// ns.add_parameter(ParamSpec::new("/gain", 0.5f32))?;
/// let server = QueryServer::start(ns, ServerConfig::new("127.0.0.1:0".parse().unwrap()))?;
///
/// let client = QueryClient::new(server.local_addr())?;
/// assert_eq!(client.host_info()?.name.as_deref(), Some("demo"));
/// assert_eq!(client.tree()?.find("/gain").unwrap().types.as_deref(), Some("f"));
/// assert_eq!(client.attribute("/gain", "VALUE")?, Some(serde_json::json!([0.5])));
/// assert!(matches!(client.node("/nope"), Err(osc_query::QueryError::NotFound { .. })));
/// # Ok::<(), osc_query::QueryError>(())
/// ```
#[derive(Debug)]
pub struct QueryClient {
    addr: SocketAddr,
    runtime: tokio::runtime::Runtime,
    /// The longest a request may take (default 5 s).
    pub timeout: Duration,
    /// The largest answer accepted (default 16 MiB).
    pub max_body: usize,
}

impl QueryClient {
    /// A client of the server at `addr` (nothing is sent yet).
    ///
    /// # Errors
    /// [`QueryError::Io`] when its runtime cannot start.
    ///
    /// ```
    /// let c = osc_query::QueryClient::new("127.0.0.1:9".parse().unwrap())?;
    /// assert!(c.host_info().is_err()); // nobody there
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    pub fn new(addr: SocketAddr) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(QueryClient {
            addr,
            runtime,
            timeout: Duration::from_secs(5),
            max_body: 16 << 20,
        })
    }

    fn url(&self, target: &str) -> String {
        format!("http://{}{target}", self.addr)
    }

    /// GETs `target` (path and query), returning the status and the body.
    fn get(&self, target: &str) -> Result<(StatusCode, Bytes)> {
        let addr = self.addr;
        let limit = self.max_body;
        let url = self.url(target);
        let http = |e: &dyn std::fmt::Display| {
            QueryError::Io(std::io::Error::other(format!("{url}: {e}")))
        };
        let exchange = async {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| http(&e))?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            let req = Request::get(target)
                .header(header::HOST, addr.to_string())
                .body(Empty::<Bytes>::new())
                .map_err(|e| http(&e))?;
            let resp = sender.send_request(req).await.map_err(|e| http(&e))?;
            let status = resp.status();
            let body = Limited::new(resp.into_body(), limit)
                .collect()
                .await
                .map_err(|e| http(&e))?
                .to_bytes();
            Ok::<_, QueryError>((status, body))
        };
        self.runtime
            .block_on(async { tokio::time::timeout(self.timeout, exchange).await })
            .map_err(|_| http(&"timed out"))?
    }

    fn get_ok(&self, target: &str, path: &str) -> Result<Option<Bytes>> {
        let (status, body) = self.get(target)?;
        match status {
            StatusCode::OK => Ok(Some(body)),
            StatusCode::NO_CONTENT => Ok(None),
            StatusCode::NOT_FOUND => Err(QueryError::NotFound { path: path.into() }),
            other => Err(QueryError::Http {
                status: other.as_u16(),
                url: self.url(target),
            }),
        }
    }

    /// The server's `HOST_INFO`.
    ///
    /// # Errors
    /// [`QueryError::Io`] (connection, timeout), [`QueryError::Http`],
    /// [`QueryError::Json`].
    pub fn host_info(&self) -> Result<HostInfo> {
        let body = self.get_ok("/?HOST_INFO", "/")?.unwrap_or_default();
        HostInfo::from_json(&String::from_utf8_lossy(&body))
    }

    /// The node at `path` with its subtree.
    ///
    /// # Errors
    /// [`QueryError::NotFound`] for a path the server does not have; otherwise as
    /// [`host_info`](Self::host_info).
    pub fn node(&self, path: &str) -> Result<Node> {
        let target = encode_path(path);
        let body = self.get_ok(&target, path)?.unwrap_or_default();
        Node::from_json(&String::from_utf8_lossy(&body))
    }

    /// The whole tree.
    ///
    /// # Errors
    /// As [`node`](Self::node).
    pub fn tree(&self) -> Result<Node> {
        self.node("/")
    }

    /// One attribute of a node (`"VALUE"`, `"RANGE"`, ...): `None` when the node lacks
    /// it or the server answers 204 (not readable, not supported).
    ///
    /// # Errors
    /// As [`node`](Self::node); [`QueryError::Http`] 400 for a name that is not an
    /// attribute.
    pub fn attribute(&self, path: &str, attribute: &str) -> Result<Option<serde_json::Value>> {
        let target = format!("{}?{attribute}", encode_path(path));
        let Some(body) = self.get_ok(&target, path)? else {
            return Ok(None);
        };
        let mut doc: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&body)
            .map_err(|e| QueryError::Json {
                context: format!("{path}?{attribute}"),
                reason: e.to_string(),
            })?;
        Ok(doc.remove(attribute))
    }

    /// Opens the server's WebSocket (on its HTTP port) for `LISTEN`.
    ///
    /// # Errors
    /// [`QueryError::WebSocket`] when the upgrade is refused; [`QueryError::Io`].
    pub fn stream(&self) -> Result<Listener> {
        let tcp = TcpStream::connect_timeout(&self.addr, self.timeout)?;
        tcp.set_read_timeout(Some(self.timeout))?;
        let (ws, _) = tungstenite::client::client(format!("ws://{}/", self.addr), tcp)
            .map_err(|e| QueryError::WebSocket(e.to_string()))?;
        Ok(Listener { ws })
    }
}

/// Percent-encodes what a path may hold that a URL path may not.
fn encode_path(path: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'%')
        .add(b'?')
        .add(b'<')
        .add(b'>')
        .add(b'`')
        .add(b'{')
        .add(b'}');
    percent_encoding::utf8_percent_encode(path, SET).to_string()
}

/// What a [`Listener`] receives.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Update {
    /// A value of a listened address, as the OSC message the server streamed.
    Value(Message),
    /// `PATH_ADDED`.
    PathAdded(String),
    /// `PATH_REMOVED`.
    PathRemoved(String),
    /// `PATH_CHANGED`: the node's attributes changed; fetch it again.
    PathChanged(String),
    /// `PATH_RENAMED`: what was at `old` (and under it) is at `new`.
    PathRenamed {
        /// The old path.
        old: String,
        /// The new path.
        new: String,
    },
    /// Any other JSON notice (`ERROR`, ...).
    Notice(serde_json::Value),
}

/// What a JSON notice from the server says.
fn notice(v: serde_json::Value) -> Update {
    let data = v.get("DATA");
    let text = |d: Option<&serde_json::Value>| d.and_then(|d| d.as_str()).map(str::to_owned);
    let path = text(data);
    match (v.get("COMMAND").and_then(|c| c.as_str()), path) {
        (Some("PATH_ADDED"), Some(p)) => Update::PathAdded(p),
        (Some("PATH_REMOVED"), Some(p)) => Update::PathRemoved(p),
        (Some("PATH_CHANGED"), Some(p)) => Update::PathChanged(p),
        (Some("PATH_RENAMED"), None) => {
            match (
                text(data.and_then(|d| d.get("OLD"))),
                text(data.and_then(|d| d.get("NEW"))),
            ) {
                (Some(old), Some(new)) => Update::PathRenamed { old, new },
                _ => Update::Notice(v),
            }
        }
        _ => Update::Notice(v),
    }
}

/// A WebSocket connection to a query server: `LISTEN`, `IGNORE`, and what comes back.
///
/// ```
/// use osc_query::{Namespace, ParamSpec, QueryClient, QueryServer, ServerConfig, Update};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let ns = Arc::new(Namespace::new("demo"));
/// let gain = ns.add_parameter(ParamSpec::new("/gain", 0.5f32))?;
/// let server = QueryServer::start(ns, ServerConfig::new("127.0.0.1:0".parse().unwrap()))?;
/// let mut stream = QueryClient::new(server.local_addr())?.stream()?;
/// stream.listen("/gain")?;
/// stream.listen("/nope")?; // answered with an ERROR notice, after the LISTEN above
/// assert!(matches!(stream.next(Duration::from_secs(5))?, Some(Update::Notice(_))));
/// gain.set(0.25);
/// let Some(Update::Value(m)) = stream.next(Duration::from_secs(5))? else { panic!() };
/// assert_eq!((m.address.as_str(), m.args[0].as_f32()), ("/gain", Some(0.25)));
/// # Ok::<(), osc_query::QueryError>(())
/// ```
#[derive(Debug)]
pub struct Listener {
    ws: WebSocket<TcpStream>,
}

impl Listener {
    fn command(&mut self, command: &str, path: &str) -> Result<()> {
        let text = serde_json::json!({"COMMAND": command, "DATA": path}).to_string();
        self.ws
            .send(Ws::text(text))
            .map_err(|e| QueryError::WebSocket(e.to_string()))
    }

    /// Asks for the values of `path`.
    ///
    /// # Errors
    /// [`QueryError::WebSocket`] when the connection is gone.
    pub fn listen(&mut self, path: &str) -> Result<()> {
        self.command("LISTEN", path)
    }

    /// Stops the values of `path`.
    ///
    /// # Errors
    /// [`QueryError::WebSocket`] when the connection is gone.
    pub fn ignore(&mut self, path: &str) -> Result<()> {
        self.command("IGNORE", path)
    }

    /// The next update, waiting up to `wait`; `None` when nothing came.
    ///
    /// # Errors
    /// [`QueryError::WebSocket`] when the connection closes or a frame is not
    /// OSCQuery's (a binary frame that is not an OSC message, text that is not JSON).
    pub fn next(&mut self, wait: Duration) -> Result<Option<Update>> {
        self.ws
            .get_ref()
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        loop {
            let frame = match self.ws.read() {
                Ok(f) => f,
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None);
                }
                Err(e) => return Err(QueryError::WebSocket(e.to_string())),
            };
            return match frame {
                Ws::Binary(b) => Message::decode(&b)
                    .map(|m| Some(Update::Value(m)))
                    .map_err(|e| QueryError::WebSocket(format!("not an OSC message: {e}"))),
                Ws::Text(t) => {
                    let v: serde_json::Value = serde_json::from_str(t.as_str())
                        .map_err(|e| QueryError::WebSocket(format!("not JSON: {e}")))?;
                    Ok(Some(notice(v)))
                }
                Ws::Close(f) => Err(QueryError::WebSocket(format!(
                    "closed by the server: {f:?}"
                ))),
                _ => continue,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Update, notice};
    use serde_json::json;

    #[test]
    fn namespace_notices_are_read() {
        let n = |v| notice(v);
        assert_eq!(
            n(json!({"COMMAND": "PATH_CHANGED", "DATA": "/a"})),
            Update::PathChanged("/a".into())
        );
        assert_eq!(
            n(json!({"COMMAND": "PATH_RENAMED", "DATA": {"OLD": "/a", "NEW": "/b"}})),
            Update::PathRenamed {
                old: "/a".into(),
                new: "/b".into()
            }
        );
        // Malformed notices are passed on as they are.
        let odd = json!({"COMMAND": "PATH_RENAMED", "DATA": {"OLD": "/a"}});
        assert_eq!(n(odd.clone()), Update::Notice(odd));
        let err = json!({"COMMAND": "ERROR", "DATA": "x"});
        assert_eq!(n(err.clone()), Update::Notice(err));
    }
}
