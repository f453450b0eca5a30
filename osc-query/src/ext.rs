//! One-line discovery on the facade: publish a runtime, or open a channel to a
//! service found by name.

use std::net::SocketAddr;
use std::time::Duration;

use osc4rs::{ChannelKind, Osc};

use crate::node::Transport;
use crate::publish::OscQuery;
use crate::resolve::{OscTarget, resolve};
use crate::{QueryError, Result};

/// OSCQuery and DNS-SD as methods of an osc4rs runtime (`use osc_query::OscQueryExt`).
///
/// ```
/// use osc4rs::{Handler, Osc};
/// use osc_query::OscQueryExt;
///
/// let osc = Osc::builder().start()?;
/// osc.udp_server("in", "127.0.0.1:0")?;
/// osc.method("/synth/gate", Handler::typed(|on: bool| println!("{on}")))?;
/// // `osc.oscquery("synth")` publishes and advertises on every interface; a local
/// // test keeps to the loopback and does not advertise:
/// let query = osc.oscquery_with(
///     osc_query::OscQuery::builder("synth").http_addr("127.0.0.1:0".parse()?),
/// )?;
/// let info = osc_query::QueryClient::new(query.http_addr())?.host_info()?;
/// assert_eq!(info.osc_port, Some(osc.local_addr("in").unwrap().port()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait OscQueryExt {
    /// Publishes the runtime as `name`: its namespace served over HTTP/WebSocket on
    /// every interface (a free port) and advertised with DNS-SD (`_oscjson._tcp`,
    /// and `_osc._udp` or `_osc._tcp` for its first UDP or TCP server channel, which
    /// `HOST_INFO` names too). Keep the returned [`OscQuery`]: dropping it
    /// withdraws the publication.
    ///
    /// # Errors
    /// [`QueryError::Address`] when the runtime has no UDP or TCP server channel
    /// yet; the server's and the advertisement's errors.
    fn oscquery(&self, name: &str) -> Result<OscQuery>;

    /// [`oscquery`](Self::oscquery) with the builder's settings (address, limits,
    /// advertising); the OSC channel, when the builder names none, is chosen as
    /// `oscquery` chooses it.
    ///
    /// # Errors
    /// As [`oscquery`](Self::oscquery).
    fn oscquery_with(&self, builder: crate::OscQueryBuilder) -> Result<OscQuery>;

    /// Finds the service advertised as `service` (see [`resolve`]) within `wait`
    /// and opens a client channel named `channel` to its OSC server (UDP or TCP, as
    /// it says). Returns where the channel goes.
    ///
    /// # Errors
    /// [`QueryError::NoService`] when nothing answered to that name;
    /// [`QueryError::Osc`] when the channel cannot be opened.
    ///
    /// ```no_run
    /// // Multicast leaves the machine: this example only compiles.
    /// use osc_query::OscQueryExt;
    /// let osc = osc4rs::Osc::builder().start()?;
    /// let synth = osc.connect_service("synth", "My Synth", std::time::Duration::from_secs(3))?;
    /// println!("sending to {}", synth.url());
    /// osc.send(osc4rs::Message::new("/synth/gate").arg(true), "synth")?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn connect_service(&self, channel: &str, service: &str, wait: Duration) -> Result<OscTarget>;
}

/// The runtime's first server channel on an IP port, and its transport.
fn receiving_channel(osc: &Osc) -> Option<(String, Transport)> {
    osc.channels()
        .into_iter()
        .find_map(|(name, kind)| match kind {
            ChannelKind::UdpServer => Some((name, Transport::Udp)),
            ChannelKind::TcpServer => Some((name, Transport::Tcp)),
            _ => None,
        })
}

impl OscQueryExt for Osc {
    fn oscquery(&self, name: &str) -> Result<OscQuery> {
        self.oscquery_with(
            OscQuery::builder(name)
                .http_addr(SocketAddr::from(([0, 0, 0, 0], 0)))
                .advertise(true),
        )
    }

    fn oscquery_with(&self, builder: crate::OscQueryBuilder) -> Result<OscQuery> {
        let builder = if builder.names_channel() {
            builder
        } else {
            let (channel, transport) =
                receiving_channel(self).ok_or_else(|| QueryError::Address {
                    path: builder.name().to_owned(),
                    reason: "the runtime has no UDP or TCP server channel to publish: open one \
                             first"
                        .into(),
                })?;
            builder.osc_channel(&channel).osc_transport(transport)
        };
        builder.start(self)
    }

    fn connect_service(&self, channel: &str, service: &str, wait: Duration) -> Result<OscTarget> {
        let target = resolve(service, wait)?;
        match target.transport {
            Transport::Udp => self.udp_client(channel, target.addr)?,
            Transport::Tcp => self.tcp_client(channel, target.addr)?,
        }
        Ok(target)
    }
}
