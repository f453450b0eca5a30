//! Endpoint URLs in the spirit of liblo's (`osc.udp://host:port`, `osc.unix:///path`):
//! one parser, [`Endpoint`], with [`FromStr`] and [`Display`](fmt::Display).
//!
//! The grammar is small and fixed, so it is parsed by hand rather than with the `url`
//! crate: errors then carry the byte offset of the bad part ([`UrlError`]), a path is
//! taken literally (no percent-decoding to surprise a socket path), and the crate
//! gains no dependency.

use std::fmt;
use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::str::FromStr;

use crate::{
    ChannelError, ChannelSpec, DEFAULT_BAUD, IpVersion, SerialConfig, StreamFraming,
    TcpClientConfig, TcpServerConfig, UdpConfig, UnixClientConfig, UnixDatagramConfig,
    UnixServerConfig, UrlError, resolve,
};

/// Where a channel goes, written as a URL.
///
/// | URL | transport |
/// |---|---|
/// | `osc.udp://HOST:PORT` | UDP |
/// | `osc.tcp://HOST:PORT` | TCP, OSC 1.0 length prefix |
/// | `osc.slip://HOST:PORT` | TCP, OSC 1.1 SLIP |
/// | `osc.tcp://HOST:PORT?framing=slip\|length\|auto` | TCP, framing named (`auto`: servers detect it per connection) |
/// | `osc.unix:///PATH` | Unix datagram socket (liblo's form: one packet per datagram) |
/// | `osc.unix+stream:///PATH[?framing=...]` | Unix stream socket (length prefix by default) |
/// | `ws://HOST[:PORT][/PATH]` | WebSocket, one packet per binary frame (`wss://` is parsed only: TLS is not implemented yet) |
/// | `serial:///DEVICE[?baud=N]` | serial port, OSC 1.1 SLIP (baud 115200 unless given); the same for servers and clients |
///
/// `HOST` is a name, an IPv4 address, an IPv6 address in brackets (`[::1]`), or empty
/// or `*` for the wildcard address (servers: `osc.udp://:9000`). Paths are absolute
/// and taken literally (no percent-decoding; a `?` starts the parameters).
/// [`Display`](fmt::Display) writes the canonical form, which parses back to the same
/// endpoint.
///
/// ```
/// use osc_channel::{Endpoint, StreamFraming};
///
/// let e: Endpoint = "osc.tcp://[::1]:9000?framing=slip".parse()?;
/// assert_eq!(e, Endpoint::Tcp { host: "::1".into(), port: 9000, framing: StreamFraming::Slip });
/// assert_eq!(e.to_string(), "osc.slip://[::1]:9000");
///
/// let u: Endpoint = "osc.unix:///tmp/synth.sock".parse()?;
/// assert_eq!(u, Endpoint::UnixDatagram { path: "/tmp/synth.sock".into() });
/// # Ok::<(), osc_channel::UrlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Endpoint {
    /// `osc.udp://HOST:PORT`.
    Udp {
        /// Host name or address, without brackets (empty: the wildcard address).
        host: String,
        /// Port.
        port: u16,
    },
    /// `osc.tcp://HOST:PORT` or `osc.slip://HOST:PORT`.
    Tcp {
        /// Host name or address, without brackets (empty: the wildcard address).
        host: String,
        /// Port.
        port: u16,
        /// Framing (`osc.tcp`: length prefix, `osc.slip`: SLIP, unless `?framing=`).
        framing: StreamFraming,
    },
    /// `osc.unix:///PATH`: a Unix datagram socket.
    UnixDatagram {
        /// The socket's path.
        path: PathBuf,
    },
    /// `osc.unix+stream:///PATH`: a Unix stream socket.
    UnixStream {
        /// The socket's path.
        path: PathBuf,
        /// Framing (length prefix unless `?framing=`).
        framing: StreamFraming,
    },
    /// `ws://` or `wss://` (parsed only: WebSocket is not implemented yet).
    WebSocket {
        /// `wss://`.
        secure: bool,
        /// Host name or address, without brackets.
        host: String,
        /// Port (80 or 443 when not written).
        port: u16,
        /// The path, with any query, as written (`/` when empty).
        path: String,
    },
    /// `serial:///DEVICE`: a serial port with SLIP framing.
    Serial {
        /// The device.
        device: PathBuf,
        /// `?baud=N`, if given.
        baud: Option<u32>,
    },
}

/// The schemes, longest first where one is a prefix of another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Udp,
    Tcp,
    Slip,
    Unix,
    UnixStream,
    Ws,
    Wss,
    Serial,
}

impl Scheme {
    fn of(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "osc.udp" => Scheme::Udp,
            "osc.tcp" => Scheme::Tcp,
            "osc.slip" => Scheme::Slip,
            "osc.unix" => Scheme::Unix,
            "osc.unix+stream" => Scheme::UnixStream,
            "ws" => Scheme::Ws,
            "wss" => Scheme::Wss,
            "serial" => Scheme::Serial,
            _ => return None,
        })
    }
}

/// One `name=value` parameter, with the offsets of its name and value.
struct Param<'a> {
    at: usize,
    name: &'a str,
    value_at: usize,
    value: &'a str,
}

fn params(query: Option<(usize, &str)>) -> Vec<Param<'_>> {
    let Some((mut at, q)) = query else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for part in q.split('&') {
        if !part.is_empty() {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            out.push(Param {
                at,
                name,
                value_at: at + name.len() + 1,
                value,
            });
        }
        at += part.len() + 1;
    }
    out
}

fn framing_param(ps: &[Param<'_>], default: StreamFraming) -> Result<StreamFraming, UrlError> {
    let mut framing = None;
    for p in ps {
        if p.name != "framing" {
            return Err(UrlError::UnknownParameter {
                offset: p.at,
                name: p.name.to_owned(),
            });
        }
        let bad = |reason| UrlError::BadParameter {
            offset: p.value_at,
            name: p.name.to_owned(),
            value: p.value.to_owned(),
            reason,
        };
        if framing.is_some() {
            return Err(bad("given twice"));
        }
        framing = Some(match p.value {
            "slip" => StreamFraming::Slip,
            "length" => StreamFraming::LengthPrefix,
            "auto" => StreamFraming::Auto,
            _ => return Err(bad("expected slip, length or auto")),
        });
    }
    Ok(framing.unwrap_or(default))
}

fn no_params(ps: &[Param<'_>]) -> Result<(), UrlError> {
    match ps.first() {
        Some(p) => Err(UrlError::UnknownParameter {
            offset: p.at,
            name: p.name.to_owned(),
        }),
        None => Ok(()),
    }
}

/// A piece of the input and its offset, if present.
type Spanned<'a> = Option<(usize, &'a str)>;

/// Splits `host[:port]` (at `at` in the input) into the host without brackets and
/// the port text with its offset.
fn host_port(at: usize, auth: &str) -> Result<(String, Spanned<'_>), UrlError> {
    let bad = |reason| UrlError::BadHost {
        offset: at,
        host: auth.to_owned(),
        reason,
    };
    let (host, rest, rest_at) = if let Some(inner) = auth.strip_prefix('[') {
        let Some(end) = inner.find(']') else {
            return Err(bad("'[' without ']'"));
        };
        let (h, r) = inner.split_at(end);
        if h.parse::<Ipv6Addr>().is_err() {
            return Err(UrlError::BadHost {
                offset: at,
                host: h.to_owned(),
                reason: "not an IPv6 address",
            });
        }
        (h, r.get(1..).unwrap_or_default(), at + end + 2)
    } else {
        let colon = auth.find(':');
        let h = colon.map_or(auth, |c| auth.get(..c).unwrap_or_default());
        if auth.matches(':').count() > 1 {
            return Err(bad("an IPv6 address needs brackets: [::1]:PORT"));
        }
        if !h
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '*'))
        {
            return Err(UrlError::BadHost {
                offset: at,
                host: h.to_owned(),
                reason: "a host name has only letters, digits, '-', '.' and '_'",
            });
        }
        (h, auth.get(h.len()..).unwrap_or_default(), at + h.len())
    };
    let port = match rest.strip_prefix(':') {
        Some(p) => Some((rest_at + 1, p)),
        None if rest.is_empty() => None,
        None => return Err(bad("expected ':' after the host")),
    };
    Ok((host.to_owned(), port))
}

fn port(p: Spanned<'_>, expected_at: usize) -> Result<u16, UrlError> {
    let Some((at, text)) = p else {
        return Err(UrlError::MissingPort {
            offset: expected_at,
        });
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError::BadPort {
            offset: at,
            text: text.to_owned(),
        });
    }
    text.parse().map_err(|_| UrlError::BadPort {
        offset: at,
        text: text.to_owned(),
    })
}

impl FromStr for Endpoint {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, UrlError> {
        let Some(sep) = s.find("://") else {
            return Err(UrlError::MissingSeparator {
                offset: s.find(':').unwrap_or(0),
            });
        };
        let scheme_text = s.get(..sep).unwrap_or_default();
        let scheme = Scheme::of(scheme_text).ok_or_else(|| UrlError::UnknownScheme {
            scheme: scheme_text.to_owned(),
        })?;
        let at = sep + 3;
        let rest = s.get(at..).unwrap_or_default();
        // The parameters, except for WebSocket whose query is part of its path.
        let (body, query) = match (scheme, rest.find('?')) {
            (Scheme::Ws | Scheme::Wss, _) | (_, None) => (rest, None),
            (_, Some(q)) => (
                rest.get(..q).unwrap_or_default(),
                Some((at + q + 1, rest.get(q + 1..).unwrap_or_default())),
            ),
        };
        let ps = params(query);
        let slash = body.find('/');
        let auth = slash.map_or(body, |i| body.get(..i).unwrap_or_default());
        let path = slash.map(|i| (at + i, body.get(i..).unwrap_or_default()));
        match scheme {
            Scheme::Udp | Scheme::Tcp | Scheme::Slip => {
                if let Some((p_at, _)) = path {
                    return Err(UrlError::UnexpectedPath { offset: p_at });
                }
                let (host, p) = host_port(at, auth)?;
                let port = port(p, at + auth.len())?;
                if scheme == Scheme::Udp {
                    no_params(&ps)?;
                    return Ok(Endpoint::Udp { host, port });
                }
                let default = if scheme == Scheme::Slip {
                    StreamFraming::Slip
                } else {
                    StreamFraming::LengthPrefix
                };
                let framing = framing_param(&ps, default)?;
                Ok(Endpoint::Tcp {
                    host,
                    port,
                    framing,
                })
            }
            Scheme::Unix | Scheme::UnixStream | Scheme::Serial => {
                if !auth.is_empty() {
                    return Err(UrlError::UnexpectedHost { offset: at });
                }
                let path = match path {
                    Some((_, p)) if p.len() > 1 => PathBuf::from(p),
                    _ => return Err(UrlError::MissingPath { offset: at }),
                };
                match scheme {
                    Scheme::Unix => {
                        no_params(&ps)?;
                        Ok(Endpoint::UnixDatagram { path })
                    }
                    Scheme::UnixStream => Ok(Endpoint::UnixStream {
                        path,
                        framing: framing_param(&ps, StreamFraming::LengthPrefix)?,
                    }),
                    _ => Ok(Endpoint::Serial {
                        device: path,
                        baud: baud_param(&ps)?,
                    }),
                }
            }
            Scheme::Ws | Scheme::Wss => {
                let secure = scheme == Scheme::Wss;
                let (host, p) = host_port(at, auth)?;
                if host.is_empty() {
                    return Err(UrlError::BadHost {
                        offset: at,
                        host,
                        reason: "a WebSocket URL needs a host",
                    });
                }
                let port = match p {
                    Some(_) => port(p, at + auth.len())?,
                    None if secure => 443,
                    None => 80,
                };
                let path = match path {
                    Some((_, p)) => p.to_owned(),
                    None => "/".to_owned(),
                };
                Ok(Endpoint::WebSocket {
                    secure,
                    host,
                    port,
                    path,
                })
            }
        }
    }
}

fn baud_param(ps: &[Param<'_>]) -> Result<Option<u32>, UrlError> {
    let mut baud = None;
    for p in ps {
        if p.name != "baud" {
            return Err(UrlError::UnknownParameter {
                offset: p.at,
                name: p.name.to_owned(),
            });
        }
        let bad = |reason| UrlError::BadParameter {
            offset: p.value_at,
            name: p.name.to_owned(),
            value: p.value.to_owned(),
            reason,
        };
        if baud.is_some() {
            return Err(bad("given twice"));
        }
        match p.value.parse::<u32>() {
            Ok(b) if b > 0 && p.value.bytes().all(|c| c.is_ascii_digit()) => baud = Some(b),
            _ => return Err(bad("expected a positive whole number")),
        }
    }
    Ok(baud)
}

/// Writes a host, in brackets when it is an IPv6 address.
struct HostPort<'a>(&'a str, u16);

impl fmt::Display for HostPort<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.contains(':') {
            write!(f, "[{}]:{}", self.0, self.1)
        } else {
            write!(f, "{}:{}", self.0, self.1)
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Udp { host, port } => write!(f, "osc.udp://{}", HostPort(host, *port)),
            Endpoint::Tcp {
                host,
                port,
                framing,
            } => match framing {
                StreamFraming::LengthPrefix => write!(f, "osc.tcp://{}", HostPort(host, *port)),
                StreamFraming::Slip => write!(f, "osc.slip://{}", HostPort(host, *port)),
                StreamFraming::Auto => {
                    write!(f, "osc.tcp://{}?framing=auto", HostPort(host, *port))
                }
                StreamFraming::WebSocket => write!(f, "ws://{}/", HostPort(host, *port)),
            },
            Endpoint::UnixDatagram { path } => write!(f, "osc.unix://{}", path.display()),
            Endpoint::UnixStream { path, framing } => {
                write!(f, "osc.unix+stream://{}", path.display())?;
                match framing {
                    StreamFraming::LengthPrefix => Ok(()),
                    StreamFraming::Slip => f.write_str("?framing=slip"),
                    StreamFraming::Auto => f.write_str("?framing=auto"),
                    StreamFraming::WebSocket => f.write_str("?framing=websocket"),
                }
            }
            Endpoint::WebSocket {
                secure,
                host,
                port,
                path,
            } => {
                let scheme = if *secure { "wss" } else { "ws" };
                write!(f, "{scheme}://{}{path}", HostPort(host, *port))
            }
            Endpoint::Serial { device, baud } => {
                write!(f, "serial://{}", device.display())?;
                match baud {
                    Some(b) => write!(f, "?baud={b}"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl Endpoint {
    /// The [`ChannelSpec`] of a server listening at this endpoint (the host is
    /// resolved now, which may block on DNS). A serial device has no server or
    /// client side: it gives the same spec both ways. `wss://` endpoints are refused
    /// with [`ChannelError::Unsupported`].
    ///
    /// ```
    /// use osc_channel::{ChannelSpec, Endpoint, Reactor};
    /// let spec = "osc.udp://127.0.0.1:0".parse::<Endpoint>()?.server_spec()?;
    /// assert!(matches!(&spec, ChannelSpec::Udp(c) if c.read));
    /// let mut reactor = Reactor::new()?;
    /// reactor.open("in", spec)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn server_spec(&self) -> Result<ChannelSpec, ChannelError> {
        match self {
            Endpoint::Udp { host, port } => Ok(ChannelSpec::Udp(UdpConfig::server(resolve(
                host,
                *port,
                IpVersion::Any,
            )?))),
            Endpoint::Tcp {
                host,
                port,
                framing,
            } => {
                let mut cfg = TcpServerConfig::new(resolve(host, *port, IpVersion::Any)?);
                cfg.framing = *framing;
                Ok(ChannelSpec::TcpServer(cfg))
            }
            Endpoint::UnixDatagram { path } => {
                Ok(ChannelSpec::UnixDatagram(UnixDatagramConfig::server(path)))
            }
            Endpoint::UnixStream { path, framing } => {
                let mut cfg = UnixServerConfig::new(path);
                cfg.framing = *framing;
                Ok(ChannelSpec::UnixServer(cfg))
            }
            Endpoint::WebSocket {
                secure: false,
                host,
                port,
                ..
            } => {
                let mut cfg = TcpServerConfig::new(resolve(host, *port, IpVersion::Any)?);
                cfg.framing = StreamFraming::WebSocket;
                Ok(ChannelSpec::TcpServer(cfg))
            }
            Endpoint::Serial { .. } => Ok(self.serial_spec()),
            other => other.unsupported(),
        }
    }

    /// The [`ChannelSpec`] of a client sending to this endpoint (the host is resolved
    /// now, which may block on DNS). A Unix datagram client is unbound: to receive
    /// replies, bind a path of its own ([`UnixDatagramConfig::peer`]). `wss://`
    /// endpoints are refused with [`ChannelError::Unsupported`].
    ///
    /// ```
    /// use osc_channel::{ChannelSpec, Endpoint, StreamFraming};
    /// let spec = "osc.slip://127.0.0.1:9000".parse::<Endpoint>()?.client_spec()?;
    /// assert!(matches!(&spec, ChannelSpec::TcpClient(c) if c.framing == StreamFraming::Slip));
    /// let ws = "ws://127.0.0.1:8080/osc".parse::<Endpoint>()?.client_spec()?;
    /// assert!(matches!(&ws, ChannelSpec::TcpClient(c) if c.framing == StreamFraming::WebSocket && c.ws_path == "/osc"));
    /// let wss = "wss://127.0.0.1:8443/osc".parse::<Endpoint>()?;
    /// assert!(wss.client_spec().is_err()); // parsed, TLS not implemented yet
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn client_spec(&self) -> Result<ChannelSpec, ChannelError> {
        match self {
            Endpoint::Udp { host, port } => Ok(ChannelSpec::Udp(UdpConfig::client(resolve(
                host,
                *port,
                IpVersion::Any,
            )?))),
            Endpoint::Tcp {
                host,
                port,
                framing,
            } => {
                let mut cfg = TcpClientConfig::new(resolve(host, *port, IpVersion::Any)?);
                cfg.framing = *framing;
                Ok(ChannelSpec::TcpClient(cfg))
            }
            Endpoint::UnixDatagram { path } => {
                Ok(ChannelSpec::UnixDatagram(UnixDatagramConfig::client(path)))
            }
            Endpoint::UnixStream { path, framing } => {
                let mut cfg = UnixClientConfig::new(path);
                cfg.framing = *framing;
                Ok(ChannelSpec::UnixClient(cfg))
            }
            Endpoint::WebSocket {
                secure: false,
                host,
                port,
                path,
            } => {
                let mut cfg = TcpClientConfig::new(resolve(host, *port, IpVersion::Any)?);
                cfg.framing = StreamFraming::WebSocket;
                cfg.ws_path = path.clone();
                Ok(ChannelSpec::TcpClient(cfg))
            }
            Endpoint::Serial { .. } => Ok(self.serial_spec()),
            other => other.unsupported(),
        }
    }

    fn serial_spec(&self) -> ChannelSpec {
        let mut cfg = SerialConfig::new(PathBuf::new());
        if let Endpoint::Serial { device, baud } = self {
            cfg.path.clone_from(device);
            cfg.baud = baud.unwrap_or(DEFAULT_BAUD);
        }
        ChannelSpec::Serial(cfg)
    }

    fn unsupported(&self) -> Result<ChannelSpec, ChannelError> {
        Err(ChannelError::Unsupported(match self {
            Endpoint::WebSocket { .. } => "wss:// (WebSocket over TLS) is not implemented yet",
            _ => "this transport is not implemented yet",
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Endpoint {
        let e: Endpoint = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
        // The canonical form parses back to the same endpoint.
        assert_eq!(e.to_string().parse::<Endpoint>().unwrap(), e, "{s}");
        e
    }

    fn err(s: &str) -> UrlError {
        s.parse::<Endpoint>().unwrap_err()
    }

    #[test]
    fn every_form() {
        use StreamFraming::*;
        let udp = |h: &str, p| Endpoint::Udp {
            host: h.into(),
            port: p,
        };
        let tcp = |h: &str, p, framing| Endpoint::Tcp {
            host: h.into(),
            port: p,
            framing,
        };
        assert_eq!(ok("osc.udp://localhost:9000"), udp("localhost", 9000));
        assert_eq!(ok("osc.udp://:9000"), udp("", 9000));
        assert_eq!(ok("OSC.UDP://*:9000"), udp("*", 9000));
        assert_eq!(ok("osc.udp://[::1]:9000"), udp("::1", 9000));
        assert_eq!(ok("osc.udp://10.0.0.1:0"), udp("10.0.0.1", 0));
        assert_eq!(
            ok("osc.tcp://h:1"),
            tcp("h", 1, LengthPrefix),
            "OSC 1.0 framing"
        );
        assert_eq!(ok("osc.slip://h:1"), tcp("h", 1, Slip));
        assert_eq!(ok("osc.tcp://h:1?framing=slip"), tcp("h", 1, Slip));
        assert_eq!(
            ok("osc.slip://h:1?framing=length"),
            tcp("h", 1, LengthPrefix)
        );
        assert_eq!(
            ok("osc.tcp://[fe80::1]:7?framing=auto"),
            tcp("fe80::1", 7, Auto)
        );
        assert_eq!(
            ok("osc.unix:///tmp/s"),
            Endpoint::UnixDatagram {
                path: "/tmp/s".into()
            }
        );
        assert_eq!(
            ok("osc.unix+stream:///tmp/s"),
            Endpoint::UnixStream {
                path: "/tmp/s".into(),
                framing: LengthPrefix
            }
        );
        assert_eq!(
            ok("osc.unix+stream:///tmp/s?framing=slip"),
            Endpoint::UnixStream {
                path: "/tmp/s".into(),
                framing: Slip
            }
        );
        assert_eq!(
            ok("ws://example.org/osc?x=1"),
            Endpoint::WebSocket {
                secure: false,
                host: "example.org".into(),
                port: 80,
                path: "/osc?x=1".into()
            }
        );
        assert_eq!(
            ok("wss://[::1]:8443"),
            Endpoint::WebSocket {
                secure: true,
                host: "::1".into(),
                port: 8443,
                path: "/".into()
            }
        );
        assert_eq!(
            ok("serial:///dev/ttyACM0?baud=115200"),
            Endpoint::Serial {
                device: "/dev/ttyACM0".into(),
                baud: Some(115_200)
            }
        );
        assert_eq!(
            ok("serial:///dev/ttyUSB0"),
            Endpoint::Serial {
                device: "/dev/ttyUSB0".into(),
                baud: None
            }
        );
    }

    #[test]
    fn canonical_text() {
        for (given, canonical) in [
            ("osc.udp://[::1]:9", "osc.udp://[::1]:9"),
            ("osc.tcp://h:1?framing=slip", "osc.slip://h:1"),
            ("osc.tcp://h:1?framing=auto", "osc.tcp://h:1?framing=auto"),
            (
                "osc.unix+stream:///a?framing=auto",
                "osc.unix+stream:///a?framing=auto",
            ),
            ("ws://h", "ws://h:80/"),
            ("serial:///dev/x?baud=9600", "serial:///dev/x?baud=9600"),
        ] {
            assert_eq!(ok(given).to_string(), canonical);
        }
    }

    #[test]
    fn every_error_points_at_its_part() {
        use UrlError::*;
        let cases: Vec<(&str, UrlError)> = vec![
            ("localhost:9000", MissingSeparator { offset: 9 }),
            ("nothing", MissingSeparator { offset: 0 }),
            (
                "osc.sctp://h:1",
                UnknownScheme {
                    scheme: "osc.sctp".into(),
                },
            ),
            (
                "osc.udp://[::1:9",
                BadHost {
                    offset: 10,
                    host: "[::1:9".into(),
                    reason: "'[' without ']'",
                },
            ),
            (
                "osc.udp://[nope]:9",
                BadHost {
                    offset: 10,
                    host: "nope".into(),
                    reason: "not an IPv6 address",
                },
            ),
            (
                "osc.udp://::1:9",
                BadHost {
                    offset: 10,
                    host: "::1:9".into(),
                    reason: "an IPv6 address needs brackets: [::1]:PORT",
                },
            ),
            (
                "osc.udp://a b:9",
                BadHost {
                    offset: 10,
                    host: "a b".into(),
                    reason: "a host name has only letters, digits, '-', '.' and '_'",
                },
            ),
            (
                "osc.udp://[::1]x:9",
                BadHost {
                    offset: 10,
                    host: "[::1]x:9".into(),
                    reason: "expected ':' after the host",
                },
            ),
            ("osc.udp://host", MissingPort { offset: 14 }),
            (
                "osc.tcp://host:",
                BadPort {
                    offset: 15,
                    text: String::new(),
                },
            ),
            (
                "osc.tcp://host:65536",
                BadPort {
                    offset: 15,
                    text: "65536".into(),
                },
            ),
            (
                "osc.tcp://[::1]:-1",
                BadPort {
                    offset: 16,
                    text: "-1".into(),
                },
            ),
            ("osc.udp://h:1/x", UnexpectedPath { offset: 13 }),
            ("osc.unix://host/tmp/s", UnexpectedHost { offset: 11 }),
            ("osc.unix://", MissingPath { offset: 11 }),
            ("serial:///", MissingPath { offset: 9 }),
            (
                "osc.udp://h:1?framing=slip",
                UnknownParameter {
                    offset: 14,
                    name: "framing".into(),
                },
            ),
            (
                "osc.tcp://h:1?baud=9",
                UnknownParameter {
                    offset: 14,
                    name: "baud".into(),
                },
            ),
            (
                "osc.tcp://h:1?framing=cobs",
                BadParameter {
                    offset: 22,
                    name: "framing".into(),
                    value: "cobs".into(),
                    reason: "expected slip, length or auto",
                },
            ),
            (
                "osc.tcp://h:1?framing=slip&framing=slip",
                BadParameter {
                    offset: 35,
                    name: "framing".into(),
                    value: "slip".into(),
                    reason: "given twice",
                },
            ),
            (
                "osc.unix:///s?framing=slip",
                UnknownParameter {
                    offset: 14,
                    name: "framing".into(),
                },
            ),
            (
                "serial:///dev/x?baud=0",
                BadParameter {
                    offset: 21,
                    name: "baud".into(),
                    value: "0".into(),
                    reason: "expected a positive whole number",
                },
            ),
            (
                "serial:///dev/x?parity=n",
                UnknownParameter {
                    offset: 16,
                    name: "parity".into(),
                },
            ),
            (
                "ws://:80/x",
                BadHost {
                    offset: 5,
                    host: String::new(),
                    reason: "a WebSocket URL needs a host",
                },
            ),
        ];
        for (text, want) in cases {
            let got = err(text);
            assert_eq!(got, want, "{text}");
            assert_eq!(got.offset(), want.offset());
            assert!(!got.to_string().is_empty());
        }
    }

    #[test]
    fn specs_for_each_role() {
        let udp: Endpoint = "osc.udp://127.0.0.1:9000".parse().unwrap();
        assert!(
            matches!(udp.server_spec().unwrap(), ChannelSpec::Udp(c) if c.read && c.bind.is_some())
        );
        assert!(
            matches!(udp.client_spec().unwrap(), ChannelSpec::Udp(c) if !c.read && c.dest.is_some())
        );
        let tcp: Endpoint = "osc.tcp://[::1]:9000?framing=auto".parse().unwrap();
        assert!(matches!(tcp.server_spec().unwrap(),
            ChannelSpec::TcpServer(c) if c.framing == StreamFraming::Auto && c.bind.is_some_and(|a| a.is_ipv6())));
        assert!(matches!(
            tcp.client_spec().unwrap(),
            ChannelSpec::TcpClient(_)
        ));
        let wild: Endpoint = "osc.udp://:9000".parse().unwrap();
        assert!(matches!(wild.server_spec().unwrap(),
            ChannelSpec::Udp(c) if c.bind.is_some_and(|a| a.ip().is_unspecified())));
        let u: Endpoint = "osc.unix:///tmp/x".parse().unwrap();
        assert!(
            matches!(u.server_spec().unwrap(), ChannelSpec::UnixDatagram(c) if c.read && c.bind.is_some())
        );
        assert!(
            matches!(u.client_spec().unwrap(), ChannelSpec::UnixDatagram(c) if !c.read && c.dest.is_some())
        );
        let s: Endpoint = "osc.unix+stream:///tmp/x?framing=auto".parse().unwrap();
        assert!(matches!(s.server_spec().unwrap(),
            ChannelSpec::UnixServer(c) if c.framing == StreamFraming::Auto && c.path.as_os_str() == "/tmp/x"));
        assert!(
            matches!(s.client_spec().unwrap(), ChannelSpec::UnixClient(c) if c.path.as_os_str() == "/tmp/x")
        );
        let wss: Endpoint = "wss://h/x".parse().unwrap();
        assert!(matches!(
            wss.server_spec(),
            Err(ChannelError::Unsupported(_))
        ));
        assert!(matches!(
            wss.client_spec(),
            Err(ChannelError::Unsupported(_))
        ));
        let serial: Endpoint = "serial:///dev/ttyACM0".parse().unwrap();
        for spec in [serial.server_spec(), serial.client_spec()] {
            assert!(matches!(spec.unwrap(),
                ChannelSpec::Serial(c) if c.baud == 115_200 && c.path.as_os_str() == "/dev/ttyACM0"));
        }
        let slow: Endpoint = "serial:///dev/x?baud=9600".parse().unwrap();
        assert!(matches!(slow.client_spec().unwrap(), ChannelSpec::Serial(c) if c.baud == 9600));
    }
}
