//! WebSocket framing (RFC 6455) for a stream connection, without I/O: one OSC packet
//! per binary message, as osc.js sends them. The handshake and the frames are
//! tungstenite's; it runs over an in-memory pipe that the stream machine fills with
//! the bytes the driver read and empties into the bytes the driver writes.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use tungstenite::handshake::client::ClientHandshake;
use tungstenite::handshake::server::{Callback, ErrorResponse, Request, Response, ServerHandshake};
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::protocol::{WebSocket, WebSocketConfig};
use tungstenite::{Error as WsError, Message};

/// The bytes between the driver and tungstenite.
#[derive(Debug, Default)]
struct Buffers {
    input: Vec<u8>,
    pos: usize,
    output: Vec<u8>,
}

/// tungstenite's stream: reads what the driver read (would block when empty), writes
/// into what the driver will write.
#[derive(Debug, Clone, Default)]
struct Pipe(Arc<Mutex<Buffers>>);

impl Pipe {
    fn lock(&self) -> MutexGuard<'_, Buffers> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut b = self.lock();
        let available = b.input.get(b.pos..).unwrap_or_default();
        if available.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = available.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), available.get(..n)) {
            dst.copy_from_slice(src);
        }
        b.pos += n;
        if b.pos == b.input.len() {
            b.input.clear();
            b.pos = 0;
        }
        Ok(n)
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock().output.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Checks a handshake's `Origin` against the allowed list (`None`: any).
#[derive(Debug, Clone, Default)]
pub(crate) struct OriginCheck(pub(crate) Option<Arc<[String]>>);

impl Callback for OriginCheck {
    fn on_request(self, request: &Request, response: Response) -> Result<Response, ErrorResponse> {
        let Some(allowed) = self.0 else {
            return Ok(response);
        };
        let origin = request
            .headers()
            .get("origin")
            .and_then(|v| v.to_str().ok());
        if origin.is_some_and(|o| allowed.iter().any(|a| a == o)) {
            return Ok(response);
        }
        let mut refusal = ErrorResponse::new(Some("origin not allowed".to_owned()));
        *refusal.status_mut() = tungstenite::http::StatusCode::FORBIDDEN;
        Err(refusal)
    }
}

enum Conn {
    Server(MidHandshake<ServerHandshake<Pipe, OriginCheck>>),
    Client(MidHandshake<ClientHandshake<Pipe>>),
    Open(Box<WebSocket<Pipe>>),
    Done,
}

/// What one feed of a WebSocket connection found.
#[derive(Debug, Default)]
pub(crate) struct WsFed {
    pub(crate) packets: usize,
    /// Text messages, ignored: OSC packets travel in binary messages.
    pub(crate) text: usize,
    /// The packet budget ran out with input left in the pipe.
    pub(crate) more: bool,
    /// A protocol error (the connection closes; tungstenite wrote the close frame).
    pub(crate) error: Option<String>,
    /// The peer closed the connection (its close frame was answered).
    pub(crate) closed: bool,
}

/// One WebSocket connection's protocol state.
pub(crate) struct WsFramer {
    pipe: Pipe,
    conn: Conn,
    /// Packets queued by a client before its handshake completes.
    early: Vec<Vec<u8>>,
}

impl std::fmt::Debug for WsFramer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.conn {
            Conn::Server(_) | Conn::Client(_) => "handshake",
            Conn::Open(_) => "open",
            Conn::Done => "done",
        };
        f.debug_struct("WsFramer").field("state", &state).finish()
    }
}

fn config(max_packet: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(max_packet))
        .max_frame_size(Some(max_packet))
}

impl WsFramer {
    /// The server side: waits for the client's handshake request, accepting the
    /// origins `origins` lets in.
    pub(crate) fn server(max_packet: usize, origins: OriginCheck) -> Self {
        let pipe = Pipe::default();
        let conn = Conn::Server(ServerHandshake::start(
            pipe.clone(),
            origins,
            Some(config(max_packet)),
        ));
        WsFramer {
            pipe,
            conn,
            early: Vec::new(),
        }
    }

    /// The client side of `url` (`ws://host:port/path`): the handshake request is
    /// written at once.
    pub(crate) fn client(url: &str, max_packet: usize) -> Result<Self, String> {
        use tungstenite::client::IntoClientRequest;
        let request = url.into_client_request().map_err(|e| e.to_string())?;
        let pipe = Pipe::default();
        let mid = ClientHandshake::start(pipe.clone(), request, Some(config(max_packet)))
            .map_err(|e| e.to_string())?;
        let mut framer = WsFramer {
            pipe,
            conn: Conn::Client(mid),
            early: Vec::new(),
        };
        framer.advance_handshake();
        Ok(framer)
    }

    /// Bytes read and not consumed yet, plus one while the handshake is not done (so
    /// that a connection stuck in its handshake counts as being mid-frame: the frame
    /// timeout closes a slow handshake too).
    pub(crate) fn buffered(&self) -> usize {
        let b = self.pipe.lock();
        let waiting = b.input.len().saturating_sub(b.pos);
        waiting + usize::from(matches!(self.conn, Conn::Server(_) | Conn::Client(_)))
    }

    /// Whether input waits in the pipe (the packet budget stopped reading).
    /// Bytes of the packets a client queued before its handshake completed.
    pub(crate) fn early_bytes(&self) -> usize {
        self.early.iter().map(Vec::len).sum()
    }

    pub(crate) fn has_input(&self) -> bool {
        let b = self.pipe.lock();
        b.pos < b.input.len()
    }

    /// Bytes held by the pipe.
    pub(crate) fn held(&self) -> usize {
        let b = self.pipe.lock();
        b.input.capacity() + b.output.capacity()
    }

    /// Moves what tungstenite wrote (handshake, frames, pongs, close) to `out`.
    pub(crate) fn take_output(&self, out: &mut Vec<u8>) {
        let mut b = self.pipe.lock();
        out.append(&mut b.output);
    }

    fn advance_handshake(&mut self) -> Option<String> {
        let conn = std::mem::replace(&mut self.conn, Conn::Done);
        let (next, error) = match conn {
            Conn::Server(mid) => match mid.handshake() {
                Ok(ws) => (Conn::Open(Box::new(ws)), None),
                Err(HandshakeError::Interrupted(mid)) => (Conn::Server(mid), None),
                Err(HandshakeError::Failure(e)) => (Conn::Done, Some(e.to_string())),
            },
            Conn::Client(mid) => match mid.handshake() {
                Ok((ws, _response)) => (Conn::Open(Box::new(ws)), None),
                Err(HandshakeError::Interrupted(mid)) => (Conn::Client(mid), None),
                Err(HandshakeError::Failure(e)) => (Conn::Done, Some(e.to_string())),
            },
            other => (other, None),
        };
        self.conn = next;
        if let Conn::Open(ws) = &mut self.conn {
            for packet in self.early.drain(..) {
                let _ = ws.write(Message::Binary(packet.into()));
            }
            let _ = ws.flush();
        }
        error
    }

    /// Feeds bytes the driver read and delivers each binary message (at most
    /// `budget`).
    pub(crate) fn feed(
        &mut self,
        input: &[u8],
        budget: usize,
        on_packet: &mut impl FnMut(&[u8]),
    ) -> WsFed {
        self.pipe.lock().input.extend_from_slice(input);
        let mut out = WsFed::default();
        if matches!(self.conn, Conn::Server(_) | Conn::Client(_)) {
            if let Some(e) = self.advance_handshake() {
                out.error = Some(format!("WebSocket handshake failed: {e}"));
                return out;
            }
        }
        let Conn::Open(ws) = &mut self.conn else {
            out.closed = matches!(self.conn, Conn::Done);
            return out;
        };
        loop {
            if out.packets >= budget {
                out.more = self.has_input();
                return out;
            }
            match ws.read() {
                Ok(Message::Binary(data)) => {
                    on_packet(&data);
                    out.packets += 1;
                }
                Ok(Message::Text(_)) => out.text += 1,
                Ok(Message::Close(_)) => {
                    let _ = ws.flush();
                    out.closed = true;
                    break;
                }
                Ok(_) => {} // ping (answered by tungstenite), pong, raw frame
                Err(WsError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => {
                    out.closed = true;
                    break;
                }
                Err(e) => {
                    let _ = ws.flush();
                    out.error = Some(format!("WebSocket: {e}"));
                    break;
                }
            }
        }
        let _ = ws.flush();
        if out.closed || out.error.is_some() {
            self.conn = Conn::Done;
        }
        out
    }

    /// Frames a packet as one binary message (kept until the handshake is done).
    pub(crate) fn send(&mut self, packet: &[u8]) -> Result<(), String> {
        match &mut self.conn {
            Conn::Open(ws) => ws
                .send(Message::Binary(packet.to_vec().into()))
                .map_err(|e| e.to_string()),
            Conn::Server(_) | Conn::Client(_) => {
                self.early.push(packet.to_vec());
                Ok(())
            }
            Conn::Done => Err("the WebSocket connection is closed".into()),
        }
    }
}
