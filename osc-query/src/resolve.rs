//! Finding where a service named on the local network takes OSC: its OSCQuery
//! server's `HOST_INFO` when it has one, its `_osc._udp` / `_osc._tcp`
//! advertisement otherwise.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::client::QueryClient;
use crate::dnssd::{Change, OSC_TCP, OSC_UDP, OSCJSON_TCP, Service, Watcher, deadline};
use crate::node::Transport;
use crate::{QueryError, Result};

/// Where to send OSC to a service found by name ([`resolve`]).
///
/// ```
/// let t = osc_query::OscTarget {
///     instance: "synth".into(),
///     addr: "127.0.0.1:9000".parse().unwrap(),
///     transport: osc_query::Transport::Udp,
///     query: None,
/// };
/// assert_eq!(t.url(), "osc.udp://127.0.0.1:9000");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OscTarget {
    /// The instance name.
    pub instance: String,
    /// Its OSC server's address.
    pub addr: SocketAddr,
    /// Its OSC transport.
    pub transport: Transport,
    /// Its OSCQuery server, when it advertises one.
    pub query: Option<SocketAddr>,
}

impl OscTarget {
    /// The endpoint URL of its OSC server (`osc.udp://…` or `osc.tcp://…`), as
    /// osc4rs's `endpoint` and the command-line tool take it.
    ///
    /// ```
    /// let t = osc_query::OscTarget { instance: "a".into(), addr: "[::1]:9".parse().unwrap(),
    ///     transport: osc_query::Transport::Tcp, query: None };
    /// assert_eq!(t.url(), "osc.tcp://[::1]:9");
    /// ```
    #[must_use]
    pub fn url(&self) -> String {
        let scheme = match self.transport {
            Transport::Udp => "osc.udp",
            Transport::Tcp => "osc.tcp",
        };
        format!("{scheme}://{}", self.addr)
    }
}

/// How long a plain `_osc._*` answer waits for the same instance's OSCQuery one,
/// which says more (the transport and address the application chose).
const PREFER_QUERY: Duration = Duration::from_secs(1);

/// Finds the service advertised as `instance` within `wait`: through its OSCQuery
/// server's `HOST_INFO` (`OSC_IP`, `OSC_PORT`, `OSC_TRANSPORT`; absent ones as the
/// proposal says: the server's address, the HTTP port, UDP) when it advertises
/// `_oscjson._tcp`, else through its `_osc._udp` or `_osc._tcp` record (after
/// waiting up to a second more for an OSCQuery record).
///
/// # Errors
/// [`QueryError::NoService`] when nothing by that name answered in time;
/// [`QueryError::DnsSd`] when browsing fails; the client's errors when its
/// OSCQuery server has not answered `HOST_INFO` by the end of `wait` (it is asked
/// again every 200 ms meanwhile, unless a plain record is used instead).
///
/// ```no_run
/// // Multicast leaves the machine: this example only compiles.
/// let synth = osc_query::resolve("synth", std::time::Duration::from_secs(3))?;
/// println!("synth takes OSC at {}", synth.url());
/// # Ok::<(), osc_query::QueryError>(())
/// ```
pub fn resolve(instance: &str, wait: Duration) -> Result<OscTarget> {
    find(instance, wait, &[OSCJSON_TCP, OSC_UDP, OSC_TCP])
}

/// [`resolve`] for a service that must have an OSCQuery server (its
/// [`OscTarget::query`] is then always there): plain `_osc._*` records are ignored.
///
/// # Errors
/// As [`resolve`].
///
/// ```no_run
/// let synth = osc_query::resolve_query("synth", std::time::Duration::from_secs(3))?;
/// let tree = osc_query::QueryClient::new(synth.query.unwrap())?.tree()?;
/// # Ok::<(), osc_query::QueryError>(())
/// ```
pub fn resolve_query(instance: &str, wait: Duration) -> Result<OscTarget> {
    find(instance, wait, &[OSCJSON_TCP])
}

fn find(instance: &str, wait: Duration, kinds: &[&str]) -> Result<OscTarget> {
    let mut watcher = Watcher::new(kinds)?;
    let until = deadline(wait);
    // The latest plain record of the instance, and until when it waits.
    let mut plain: Option<(Service, Instant)> = None;
    // The latest OSCQuery record whose server could not be asked yet, why, and when to
    // ask it again: records arrive address by address, and a server may answer a
    // moment after its advertisement is seen.
    let mut failed: Option<(Service, QueryError, Instant)> = None;
    loop {
        let now = Instant::now();
        if now >= until || plain.as_ref().is_some_and(|p| p.1 <= now) {
            break;
        }
        if let Some((s, _, _)) = failed.take_if(|f| f.2 <= now) {
            match from_query(&s) {
                Ok(target) => return Ok(target),
                Err(e) => failed = Some((s, e, deadline(ASK_AGAIN))),
            }
            continue;
        }
        let by = [plain.as_ref().map(|p| p.1), failed.as_ref().map(|f| f.2)]
            .into_iter()
            .flatten()
            .fold(until, Instant::min);
        // Records can come before their addresses: wait for one we can use.
        match watcher.next(by.saturating_duration_since(now))? {
            Some(Change::Found(s)) if s.instance == instance && !usable(&s).is_empty() => {
                if s.service_type == OSCJSON_TCP {
                    match from_query(&s) {
                        Ok(target) => return Ok(target),
                        Err(e) => failed = Some((s, e, deadline(ASK_AGAIN))),
                    }
                    continue;
                }
                let by = plain
                    .take()
                    .map_or_else(|| deadline(PREFER_QUERY), |(_, by)| by);
                plain = Some((s, by));
            }
            // Nothing new by `by`: the loop's top says what is due.
            Some(_) | None => {}
        }
    }
    match (plain, failed) {
        (Some((s, _)), _) => from_record(&s),
        (None, Some((_, e, _))) => Err(e),
        (None, None) => Err(QueryError::NoService(instance.to_owned())),
    }
}

/// How long a service whose OSCQuery server did not answer waits before it is asked
/// again (until the caller's wait ends, or a plain record is used instead).
const ASK_AGAIN: Duration = Duration::from_millis(200);

/// The addresses a socket can reach as they are: IPv4 ones, then IPv6 ones that
/// are not link-local (those need an interface index that the records do not carry).
fn usable(s: &Service) -> Vec<IpAddr> {
    s.addresses
        .iter()
        .copied()
        .filter(|ip| match ip {
            IpAddr::V4(_) => true,
            IpAddr::V6(v6) => !v6.is_unicast_link_local(),
        })
        .collect()
}

fn first_address(s: &Service) -> Result<IpAddr> {
    usable(s).first().copied().ok_or_else(|| {
        QueryError::DnsSd(format!(
            "{} was advertised without a usable address",
            s.instance
        ))
    })
}

/// The target an `_osc._udp` / `_osc._tcp` record describes.
fn from_record(s: &Service) -> Result<OscTarget> {
    let transport = if s.service_type == OSC_TCP {
        Transport::Tcp
    } else {
        Transport::Udp
    };
    Ok(OscTarget {
        instance: s.instance.clone(),
        addr: SocketAddr::new(first_address(s)?, s.port),
        transport,
        query: None,
    })
}

/// The target an OSCQuery server's `HOST_INFO` describes (asked at each of its
/// addresses in turn until one answers).
fn from_query(s: &Service) -> Result<OscTarget> {
    let mut last = None;
    for ip in usable(s) {
        match query_target(s, SocketAddr::new(ip, s.port)) {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| QueryError::DnsSd(format!("{} has no usable address", s.instance))))
}

fn query_target(s: &Service, http: SocketAddr) -> Result<OscTarget> {
    let info = QueryClient::new(http)?.host_info()?;
    let ip = info
        .osc_ip
        .as_deref()
        .and_then(|ip| ip.parse::<IpAddr>().ok())
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(http.ip());
    Ok(OscTarget {
        instance: s.instance.clone(),
        addr: SocketAddr::new(ip, info.osc_port.unwrap_or(http.port())),
        transport: info.osc_transport.unwrap_or_default(),
        query: Some(http),
    })
}
