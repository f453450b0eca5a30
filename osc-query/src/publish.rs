//! Publishing an osc4rs runtime: its methods and the parameters declared here are
//! served over HTTP/WebSocket (and, optionally, advertised with DNS-SD).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};

use osc_dispatch::MethodInfo;
use osc4rs::{Handler, Message, MethodHandle, Osc, OscHandle};
use parking_lot::Mutex;

use crate::dnssd::Advertisement;
use crate::namespace::{MethodDescription, MethodSource, Namespace, rebase, under};
use crate::node::Transport;
use crate::parameter::{ParamSpec, ParamValue, Parameter};
use crate::server::{QueryServer, ServerConfig};
use crate::{QueryError, Result};

/// The runtime's methods, through a handle that does not keep the runtime alive.
struct RuntimeMethods(OscHandle);

impl MethodSource for RuntimeMethods {
    fn generation(&self) -> u64 {
        // A terminated runtime has no methods: a generation of its own.
        self.0
            .get()
            .map_or(u64::MAX, |o| o.dispatcher().generation())
    }

    fn methods(&self) -> Vec<MethodInfo> {
        self.0
            .get()
            .map(|o| o.dispatcher().methods())
            .unwrap_or_default()
    }
}

/// Settings for [`OscQuery::builder`].
///
/// ```
/// let b = osc_query::OscQuery::builder("synth").http_addr("127.0.0.1:0".parse().unwrap());
/// # let _ = b;
/// ```
#[derive(Debug, Clone)]
pub struct OscQueryBuilder {
    name: String,
    server: ServerConfig,
    osc_channel: Option<String>,
    advertise: bool,
}

impl OscQueryBuilder {
    /// Where the HTTP/WebSocket server listens (default `0.0.0.0:0`: every interface,
    /// a free port).
    ///
    /// ```
    /// let b = osc_query::OscQuery::builder("x").http_addr("127.0.0.1:8080".parse().unwrap());
    /// # let _ = b;
    /// ```
    #[must_use]
    pub fn http_addr(mut self, addr: SocketAddr) -> Self {
        self.server.addr = addr;
        self
    }

    /// The runtime's channel that receives OSC (`HOST_INFO`'s `OSC_IP`/`OSC_PORT`, and
    /// the `_osc._udp` advertisement).
    ///
    /// ```
    /// let b = osc_query::OscQuery::builder("x").osc_channel("in");
    /// # let _ = b;
    /// ```
    #[must_use]
    pub fn osc_channel(mut self, name: &str) -> Self {
        self.osc_channel = Some(name.to_owned());
        self
    }

    /// `OSC_TRANSPORT` (default UDP): say TCP when the channel is a TCP server.
    ///
    /// ```
    /// let b = osc_query::OscQuery::builder("x").osc_transport(osc_query::Transport::Tcp);
    /// # let _ = b;
    /// ```
    #[must_use]
    pub fn osc_transport(mut self, transport: Transport) -> Self {
        self.server.osc_transport = transport;
        self
    }

    /// Limits and timeouts of the server (its `addr` and OSC fields are set by the
    /// other calls).
    ///
    /// ```
    /// let mut limits = osc_query::ServerConfig::new("0.0.0.0:0".parse().unwrap());
    /// limits.max_connections = 8;
    /// let b = osc_query::OscQuery::builder("x").limits(limits);
    /// # let _ = b;
    /// ```
    #[must_use]
    pub fn limits(mut self, limits: ServerConfig) -> Self {
        let addr = self.server.addr;
        let transport = self.server.osc_transport;
        self.server = limits;
        self.server.addr = addr;
        self.server.osc_transport = transport;
        self
    }

    /// Advertise on the local network with DNS-SD (`_oscjson._tcp`, and `_osc._udp`
    /// or `_osc._tcp` when an OSC channel is named). Off by default.
    ///
    /// ```
    /// let b = osc_query::OscQuery::builder("x").advertise(true);
    /// # let _ = b;
    /// ```
    #[must_use]
    pub fn advertise(mut self, on: bool) -> Self {
        self.advertise = on;
        self
    }

    /// The publication's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Whether [`osc_channel`](Self::osc_channel) was called.
    pub(crate) fn names_channel(&self) -> bool {
        self.osc_channel.is_some()
    }

    /// Starts serving the runtime's namespace.
    ///
    /// # Errors
    /// [`QueryError::Bind`] and the like from the server; [`QueryError::Address`]
    /// when the named OSC channel has no local address; [`QueryError::DnsSd`] when
    /// advertising fails.
    pub fn start(mut self, osc: &Osc) -> Result<OscQuery> {
        if let Some(ch) = &self.osc_channel {
            let addr = osc.local_addr(ch).ok_or_else(|| QueryError::Address {
                path: ch.clone(),
                reason: "no such channel with a local address".into(),
            })?;
            self.server.osc_addr = Some(addr);
        }
        let ns = Arc::new(Namespace::with_source(
            self.name.clone(),
            RuntimeMethods(osc.handle()),
        ));
        let taps: Taps = Arc::new(Mutex::new(HashMap::new()));
        ns.set_listen_hook(Some(tap_hook(
            Arc::downgrade(&ns),
            osc.handle(),
            Arc::clone(&taps),
        )));
        let server = QueryServer::start(Arc::clone(&ns), self.server.clone())?;
        let advert = if self.advertise {
            let osc_service = self
                .server
                .osc_addr
                .map(|a| (a.port(), self.server.osc_transport));
            Some(Advertisement::publish(
                &self.name,
                server.local_addr().port(),
                osc_service,
            )?)
        } else {
            None
        };
        let advert = Arc::new(Mutex::new(advert));
        let withdrawn = Arc::downgrade(&advert);
        osc.on_terminate(move || {
            if let Some(ad) = withdrawn.upgrade().and_then(|a| a.lock().take()) {
                ad.withdraw();
            }
        });
        Ok(OscQuery {
            ns,
            server,
            osc: osc.handle(),
            advert,
            taps,
        })
    }
}

/// An osc4rs runtime published with OSCQuery: every method registered at a plain
/// address is a node (its `TYPE` from typed handlers), parameters hold values that
/// messages set and clients read or stream. Dropping it stops the server and
/// withdraws the advertisement.
///
/// ```
/// use osc4rs::{Handler, Message, Osc};
/// use osc_query::{ClipMode, OscQuery, ParamSpec, Range};
/// use std::io::{Read, Write};
///
/// let osc = Osc::builder().start()?;
/// osc.udp_server("in", "127.0.0.1:0")?;
/// osc.method("/synth/1/gate", Handler::typed(|on: bool| println!("gate {on}")))?;
/// let query = OscQuery::builder("synth")
///     .http_addr("127.0.0.1:0".parse()?)
///     .osc_channel("in")
///     .start(&osc)?;
/// let freq = query.add_parameter(
///     ParamSpec::new("/synth/1/freq", 440.0f32).range(Range::new(20.0, 20_000.0)).clip(ClipMode::Both))?;
///
/// // A message to the parameter's address sets it.
/// osc.send(Message::new("/synth/1/freq").arg(880.0f32), "_local")?;
/// osc.process()?;
/// assert_eq!(freq.get(), 880.0);
///
/// let mut http = std::net::TcpStream::connect(query.http_addr())?;
/// http.write_all(b"GET /synth/1?CONTENTS HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
/// let mut answer = String::new();
/// http.read_to_string(&mut answer)?;
/// assert!(answer.contains(r#""TYPE":"T""#) && answer.contains(r#""VALUE":[880.0]"#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct OscQuery {
    ns: Arc<Namespace>,
    server: QueryServer,
    osc: OscHandle,
    /// Withdrawn (taken) when the runtime terminates.
    advert: Arc<Mutex<Option<Advertisement>>>,
    taps: Taps,
}

/// The methods that stream what plain methods receive, by path.
type Taps = Arc<Mutex<HashMap<String, MethodHandle>>>;

/// Streams the messages a plain method receives while someone listens to it: on a
/// path's first listener a hidden method (a tap) is registered at that address,
/// forwarding each message's arguments to the listeners; on its last, it goes.
/// Parameters stream their values themselves.
fn tap_hook(ns: Weak<Namespace>, osc: OscHandle, taps: Taps) -> crate::events::ListenHook {
    Arc::new(move |path: &str, on: bool| {
        let (Some(ns), Some(osc)) = (ns.upgrade(), osc.get()) else {
            return;
        };
        if on {
            if ns.is_parameter(path) || taps.lock().contains_key(path) {
                return;
            }
            let weak = Arc::downgrade(&ns);
            let at: Arc<str> = path.into();
            let tap = Handler::new(move |m: &Message| {
                if let Some(ns) = weak.upgrade() {
                    ns.forward(&at, m.args.clone());
                }
            });
            match osc.method(path, tap) {
                Ok(h) => {
                    ns.hide(h, true);
                    taps.lock().insert(path.to_owned(), h);
                }
                Err(e) => log::warn!("osc-query: cannot stream {path}: {e}"),
            }
        } else if let Some(h) = taps.lock().remove(path) {
            osc.remove_method(h);
            ns.hide(h, false);
        }
    })
}

impl Drop for OscQuery {
    fn drop(&mut self) {
        self.ns.set_listen_hook(None);
        if let Some(osc) = self.osc.get() {
            for (_, h) in self.taps.lock().drain() {
                osc.remove_method(h);
            }
        }
    }
}

impl OscQuery {
    /// Starts describing a publication named `name` (`HOST_INFO`'s `NAME`, the root's
    /// `DESCRIPTION`, the DNS-SD instance name).
    ///
    /// ```
    /// let b = osc_query::OscQuery::builder("My App");
    /// # let _ = b;
    /// ```
    #[must_use]
    pub fn builder(name: &str) -> OscQueryBuilder {
        OscQueryBuilder {
            name: name.to_owned(),
            server: ServerConfig::new(SocketAddr::from(([0, 0, 0, 0], 0))),
            osc_channel: None,
            advertise: false,
        }
    }

    /// Adds a parameter and, unless it is read-only, registers the method that lets
    /// messages set it.
    ///
    /// # Errors
    /// As [`Namespace::add_parameter`]; [`QueryError::Osc`] when the runtime refuses
    /// the method (terminated).
    ///
    /// ```
    /// # let osc = osc4rs::Osc::builder().start()?;
    /// let q = osc_query::OscQuery::builder("x").http_addr("127.0.0.1:0".parse()?).start(&osc)?;
    /// let level = q.add_parameter(osc_query::ParamSpec::new("/level", 0.0f32).read_only())?;
    /// level.set(0.7);
    /// assert_eq!(level.get(), 0.7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_parameter<T: ParamValue>(&self, spec: ParamSpec<T>) -> Result<Parameter<T>> {
        let writable = spec.meta.access.writable();
        let p = self.ns.add_parameter(spec)?;
        if writable {
            let osc = self.osc.get().ok_or(osc4rs::OscError::Terminated)?;
            if let Err(e) = osc.method(&p.path(), p.handler()) {
                self.ns.remove_parameter(&p.path());
                return Err(e.into());
            }
        }
        Ok(p)
    }

    /// Shorthand for [`add_parameter`](Self::add_parameter) with nothing but a value.
    ///
    /// # Errors
    /// As [`add_parameter`](Self::add_parameter).
    ///
    /// ```
    /// # let osc = osc4rs::Osc::builder().start()?;
    /// let q = osc_query::OscQuery::builder("x").http_addr("127.0.0.1:0".parse()?).start(&osc)?;
    /// let name = q.parameter("/patch/name", String::from("init"))?;
    /// assert_eq!(name.get(), "init");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parameter<T: ParamValue>(&self, path: &str, initial: T) -> Result<Parameter<T>> {
        self.add_parameter(ParamSpec::new(path, initial))
    }

    /// Renames a node: the runtime's methods at `old` and under it move to the same
    /// paths under `new` (handlers and options kept), and so do parameters and
    /// declared descriptions; streaming clients hear one `PATH_RENAMED` and keep
    /// their subscriptions. Methods registered with a pattern do not move.
    ///
    /// # Errors
    /// As [`Namespace::rename`]; [`QueryError::Osc`] when the runtime is terminated
    /// or refuses a new address.
    ///
    /// ```
    /// # let osc = osc4rs::Osc::builder().start()?;
    /// let q = osc_query::OscQuery::builder("x").http_addr("127.0.0.1:0".parse()?).start(&osc)?;
    /// osc.method("/synth/1/gate", |_m: &osc4rs::Message| {})?;
    /// let freq = q.parameter("/synth/1/freq", 440.0f32)?;
    /// q.rename("/synth/1", "/synth/lead")?;
    /// assert_eq!(q.namespace().paths(), ["/synth/lead/freq", "/synth/lead/gate"]);
    /// osc.send(osc4rs::Message::new("/synth/lead/freq").arg(220.0f32), "_local")?;
    /// osc.process()?;
    /// assert_eq!(freq.get(), 220.0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn rename(&self, old: &str, new: &str) -> Result<()> {
        let osc = self.osc.get().ok_or(osc4rs::OscError::Terminated)?;
        let dispatcher = osc.dispatcher();
        self.ns.rename_moving(old, new, || {
            for m in dispatcher.methods() {
                if m.literal && under(&m.address, old) && !self.ns.is_hidden(m.handle) {
                    dispatcher
                        .readdress(m.handle, &rebase(&m.address, old, new))
                        .map_err(osc4rs::OscError::from)?;
                }
            }
            Ok(())
        })
    }

    /// Declares a method's description, type tags or access.
    ///
    /// ```
    /// # let osc = osc4rs::Osc::builder().start()?;
    /// let q = osc_query::OscQuery::builder("x").http_addr("127.0.0.1:0".parse()?).start(&osc)?;
    /// osc.method("/note", |_m: &osc4rs::Message| {})?;
    /// q.describe("/note", osc_query::MethodDescription::new().types("if").description("a note"));
    /// assert_eq!(q.namespace().node("/note").unwrap().types.as_deref(), Some("if"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn describe(&self, path: &str, description: MethodDescription) {
        self.ns.describe(path, description);
    }

    /// The namespace served.
    ///
    /// ```
    /// # let osc = osc4rs::Osc::builder().start()?;
    /// let q = osc_query::OscQuery::builder("x").http_addr("127.0.0.1:0".parse()?).start(&osc)?;
    /// assert_eq!(q.namespace().name(), "x");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn namespace(&self) -> &Arc<Namespace> {
        &self.ns
    }

    /// The HTTP (and WebSocket) server's address.
    ///
    /// ```
    /// # let osc = osc4rs::Osc::builder().start()?;
    /// let q = osc_query::OscQuery::builder("x").http_addr("127.0.0.1:0".parse()?).start(&osc)?;
    /// assert!(q.http_addr().ip().is_loopback());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn http_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// The DNS-SD names clients see now ([`Advertisement::current_names`]: after a
    /// conflict on the network, not the ones asked for), while advertised: `None`
    /// when [`advertise`](OscQueryBuilder::advertise) was off, and once the runtime
    /// has terminated (which withdraws the advertisement).
    ///
    /// ```
    /// # let osc = osc4rs::Osc::builder().start()?;
    /// let q = osc_query::OscQuery::builder("x").http_addr("127.0.0.1:0".parse()?).start(&osc)?;
    /// assert!(q.advertised_names().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn advertised_names(&self) -> Option<Vec<String>> {
        self.advert
            .lock()
            .as_ref()
            .map(Advertisement::current_names)
    }
}
