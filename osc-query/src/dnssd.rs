//! DNS-SD (multicast DNS) with the `mdns-sd` crate: advertising a query server
//! (`_oscjson._tcp`) and its OSC server (`_osc._udp` or `_osc._tcp`), and browsing
//! for either.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use mdns_sd::{DaemonEvent, Receiver, ServiceDaemon, ServiceEvent, ServiceInfo};
use parking_lot::Mutex;

use crate::node::Transport;
use crate::{QueryError, Result};

/// The DNS-SD type of OSCQuery servers.
///
/// ```
/// assert_eq!(osc_query::OSCJSON_TCP, "_oscjson._tcp.local.");
/// ```
pub const OSCJSON_TCP: &str = "_oscjson._tcp.local.";
/// The DNS-SD type of OSC servers over UDP.
///
/// ```
/// assert_eq!(osc_query::OSC_UDP, "_osc._udp.local.");
/// ```
pub const OSC_UDP: &str = "_osc._udp.local.";
/// The DNS-SD type of OSC servers over TCP.
///
/// ```
/// assert_eq!(osc_query::OSC_TCP, "_osc._tcp.local.");
/// ```
pub const OSC_TCP: &str = "_osc._tcp.local.";

/// `wait` from now; a wait too long for the clock (`Duration::MAX`) is a year.
pub(crate) fn deadline(wait: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(wait)
        .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(now)
}

fn dns(e: impl std::fmt::Display) -> QueryError {
    QueryError::DnsSd(e.to_string())
}

/// A host name for the records, made of the instance name's letters and digits.
fn host_name(instance: &str) -> String {
    let mut h: String = instance
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    h.truncate(50);
    let h = h.trim_matches('-');
    format!("{}-osc4rs.local.", if h.is_empty() { "osc" } else { h })
}

/// Services advertised on every interface until dropped (or
/// [`withdraw`](Self::withdraw)n), when they are announced as gone.
///
/// ```no_run
/// // Multicast leaves the machine: this example only compiles.
/// let ad = osc_query::Advertisement::publish("My Synth", 8080, Some((9000, osc_query::Transport::Udp)))?;
/// assert_eq!(ad.fullnames()[0], "My Synth._oscjson._tcp.local.");
/// # Ok::<(), osc_query::QueryError>(())
/// ```
pub struct Advertisement {
    daemon: ServiceDaemon,
    /// The names registered (what withdrawing names).
    fullnames: Vec<String>,
    /// The names in use: the registered ones, or the new ones chosen after a
    /// conflict.
    current: Mutex<Vec<String>>,
    monitor: Option<Receiver<DaemonEvent>>,
}

impl std::fmt::Debug for Advertisement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Advertisement")
            .field("fullnames", &self.fullnames)
            .field("current", &*self.current.lock())
            .finish()
    }
}

impl Advertisement {
    /// Advertises `instance` as an OSCQuery server on `http_port` and, when given, as
    /// an OSC server on that port and transport, with the addresses of every
    /// interface.
    ///
    /// # Errors
    /// [`QueryError::DnsSd`] when the mDNS daemon cannot start or the records are
    /// refused (an instance name over 63 bytes, for one).
    pub fn publish(
        instance: &str,
        http_port: u16,
        osc: Option<(u16, Transport)>,
    ) -> Result<Advertisement> {
        let daemon = ServiceDaemon::new().map_err(dns)?;
        let monitor = daemon.monitor().ok();
        let host = host_name(instance);
        let mut services = vec![(OSCJSON_TCP, http_port)];
        if let Some((port, transport)) = osc {
            let ty = match transport {
                Transport::Udp => OSC_UDP,
                Transport::Tcp => OSC_TCP,
            };
            services.push((ty, port));
        }
        let mut fullnames = Vec::new();
        for (ty, port) in services {
            let props: &[(&str, &str)] = &[("txtvers", "1")];
            let info = ServiceInfo::new(ty, instance, &host, "", port, props)
                .map_err(dns)?
                .enable_addr_auto();
            fullnames.push(info.get_fullname().to_owned());
            daemon.register(info).map_err(dns)?;
        }
        log::info!("osc-query: advertising {fullnames:?}");
        Ok(Advertisement {
            daemon,
            current: Mutex::new(fullnames.clone()),
            fullnames,
            monitor,
        })
    }

    /// The full DNS-SD names advertised (`instance._oscjson._tcp.local.`, ...).
    ///
    /// ```no_run
    /// let ad = osc_query::Advertisement::publish("x", 8080, None)?;
    /// assert_eq!(ad.fullnames(), ["x._oscjson._tcp.local."]);
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    #[must_use]
    pub fn fullnames(&self) -> &[String] {
        &self.fullnames
    }

    /// The names in use now: as registered, unless another host on the network had
    /// one of them, in which case DNS-SD's conflict resolution chose a new one
    /// (`synth (2)._oscjson._tcp.local.`), which clients see and this returns.
    ///
    /// ```no_run
    /// let ad = osc_query::Advertisement::publish("x", 8080, None)?;
    /// println!("advertised as {:?}", ad.current_names());
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    #[must_use]
    pub fn current_names(&self) -> Vec<String> {
        let mut current = self.current.lock();
        if let Some(monitor) = &self.monitor {
            while let Ok(event) = monitor.try_recv() {
                if let DaemonEvent::NameChange(change) = event {
                    log::info!(
                        "osc-query: name conflict: {} is now {}",
                        change.original,
                        change.new_name
                    );
                    for name in current.iter_mut() {
                        if *name == change.original {
                            name.clone_from(&change.new_name);
                        }
                    }
                }
            }
        }
        current.clone()
    }

    /// Announces the services as gone and stops the daemon.
    ///
    /// ```no_run
    /// osc_query::Advertisement::publish("x", 8080, None)?.withdraw();
    /// # Ok::<(), osc_query::QueryError>(())
    /// ```
    pub fn withdraw(self) {
        drop(self);
    }
}

impl Drop for Advertisement {
    fn drop(&mut self) {
        for name in &self.fullnames {
            match self.daemon.unregister(name) {
                Ok(done) => {
                    let _ = done.recv_timeout(Duration::from_secs(1));
                }
                Err(e) => log::warn!("osc-query: cannot withdraw {name}: {e}"),
            }
        }
        if let Ok(done) = self.daemon.shutdown() {
            let _ = done.recv_timeout(Duration::from_secs(1));
        }
    }
}

/// A service found by [`browse`].
///
/// ```
/// let s = osc_query::Service { instance: "synth".into(), service_type: osc_query::OSCJSON_TCP.into(),
///     host: "synth.local.".into(), addresses: vec!["127.0.0.1".parse().unwrap()], port: 8080 };
/// assert_eq!(s.url().as_deref(), Some("http://127.0.0.1:8080"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// The instance name the publisher chose.
    pub instance: String,
    /// The service type (`_oscjson._tcp.local.`, ...).
    pub service_type: String,
    /// The host name in its records.
    pub host: String,
    /// Its addresses, IPv4 first.
    pub addresses: Vec<IpAddr>,
    /// Its port.
    pub port: u16,
}

impl Service {
    /// `http://ADDRESS:PORT` of its first address (for `_oscjson._tcp`).
    ///
    /// ```
    /// let s = osc_query::Service { instance: "a".into(), service_type: "t".into(), host: "h".into(),
    ///     addresses: vec![], port: 1 };
    /// assert!(s.url().is_none());
    /// ```
    #[must_use]
    pub fn url(&self) -> Option<String> {
        let ip = self.addresses.first()?;
        Some(match ip {
            IpAddr::V4(v4) => format!("http://{v4}:{}", self.port),
            IpAddr::V6(v6) => format!("http://[{v6}]:{}", self.port),
        })
    }
}

/// Looks for services of one type (`OSCJSON_TCP`, `OSC_UDP`, ...) for `wait`, and
/// returns those resolved to addresses, by instance name.
///
/// # Errors
/// [`QueryError::DnsSd`] when the mDNS daemon cannot start or browse.
///
/// ```no_run
/// for s in osc_query::browse(osc_query::OSCJSON_TCP, std::time::Duration::from_secs(2))? {
///     println!("{} at {:?}", s.instance, s.url());
/// }
/// # Ok::<(), osc_query::QueryError>(())
/// ```
pub fn browse(service_type: &str, wait: Duration) -> Result<Vec<Service>> {
    let mut watcher = Watcher::new(&[service_type])?;
    let until = deadline(wait);
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        watcher.next(left)?;
    }
    Ok(watcher.services())
}

/// A service that came or went, as a [`Watcher`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// Advertised and resolved to addresses (again, when its records changed).
    Found(Service),
    /// Withdrawn, or its records expired.
    Lost {
        /// Its instance name.
        instance: String,
        /// Its service type.
        service_type: String,
    },
}

/// Follows the advertisements of several service types at once, as they come and
/// go (what `osc4rs discover --watch` prints).
///
/// ```no_run
/// use osc_query::{Change, Watcher, OSCJSON_TCP, OSC_UDP};
/// let mut watcher = Watcher::new(&[OSCJSON_TCP, OSC_UDP])?;
/// while let Some(change) = watcher.next(std::time::Duration::from_secs(10))? {
///     match change {
///         Change::Found(s) => println!("+ {} {:?}:{}", s.instance, s.addresses, s.port),
///         Change::Lost { instance, .. } => println!("- {instance}"),
///         _ => {}
///     }
/// }
/// # Ok::<(), osc_query::QueryError>(())
/// ```
pub struct Watcher {
    daemon: ServiceDaemon,
    browsing: Vec<(String, Receiver<ServiceEvent>)>,
    /// What is advertised now, by full name.
    known: BTreeMap<String, Service>,
    /// Which receiver is read first next time (so that none starves).
    turn: usize,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field(
                "types",
                &self.browsing.iter().map(|b| &b.0).collect::<Vec<_>>(),
            )
            .field("known", &self.known.len())
            .finish()
    }
}

/// Most services a [`Watcher`] keeps track of (any host on the network can advertise
/// as many as it likes); more are ignored, with a log line.
const MAX_KNOWN: usize = 4096;

/// How long [`Watcher::next`] sleeps between looks at its receivers.
const POLL: Duration = Duration::from_millis(10);

impl Watcher {
    /// Starts browsing for each of `service_types`.
    ///
    /// # Errors
    /// [`QueryError::DnsSd`] when the mDNS daemon cannot start or browse.
    pub fn new(service_types: &[&str]) -> Result<Watcher> {
        let daemon = ServiceDaemon::new().map_err(dns)?;
        let mut browsing = Vec::new();
        for ty in service_types {
            browsing.push(((*ty).to_owned(), daemon.browse(ty).map_err(dns)?));
        }
        Ok(Watcher {
            daemon,
            browsing,
            known: BTreeMap::new(),
            turn: 0,
        })
    }

    /// The next change, waiting up to `wait`; `None` when nothing changed by then.
    ///
    /// # Errors
    /// [`QueryError::DnsSd`] when the daemon stopped.
    pub fn next(&mut self, wait: Duration) -> Result<Option<Change>> {
        let until = deadline(wait);
        loop {
            let n = self.browsing.len();
            for i in 0..n {
                let at = (self.turn + i) % n;
                let Some((_, events)) = self.browsing.get(at) else {
                    continue;
                };
                match events.try_recv() {
                    Ok(event) => {
                        self.turn = (at + 1) % n;
                        if let Some(change) = self.learn(event) {
                            return Ok(Some(change));
                        }
                    }
                    Err(mdns_sd::TryRecvError::Empty) => {}
                    Err(e) => return Err(dns(e)),
                }
            }
            let Some(left) = until.checked_duration_since(Instant::now()) else {
                return Ok(None);
            };
            std::thread::sleep(left.min(POLL));
        }
    }

    /// What is advertised now, by instance name (and type).
    #[must_use]
    pub fn services(&self) -> Vec<Service> {
        let mut all: Vec<Service> = self.known.values().cloned().collect();
        all.sort_by(|a, b| (&a.instance, &a.service_type).cmp(&(&b.instance, &b.service_type)));
        all
    }

    /// Updates what is known; the change, if it is one.
    fn learn(&mut self, event: ServiceEvent) -> Option<Change> {
        match event {
            ServiceEvent::ServiceResolved(r) => {
                let suffix = format!(".{}", r.ty_domain);
                let instance = r
                    .fullname
                    .strip_suffix(&suffix)
                    .unwrap_or(&r.fullname)
                    .to_owned();
                let mut addresses: Vec<IpAddr> =
                    r.addresses.iter().map(|a| a.to_ip_addr()).collect();
                addresses.sort_by_key(|a| (a.is_ipv6(), *a));
                let service = Service {
                    instance,
                    service_type: r.ty_domain.clone(),
                    host: r.host.clone(),
                    addresses,
                    port: r.port,
                };
                remember(&mut self.known, r.fullname.clone(), service)
            }
            ServiceEvent::ServiceRemoved(_, fullname) => {
                self.known.remove(&fullname).map(|s| Change::Lost {
                    instance: s.instance,
                    service_type: s.service_type,
                })
            }
            _ => None,
        }
    }
}

/// Notes a resolved service; the change, if it is one. Past [`MAX_KNOWN`] services,
/// new ones are ignored: anyone on the network can advertise, memory stays bounded.
fn remember(
    known: &mut BTreeMap<String, Service>,
    fullname: String,
    service: Service,
) -> Option<Change> {
    if known.len() >= MAX_KNOWN && !known.contains_key(&fullname) {
        log::warn!("osc-query: {MAX_KNOWN} services known already; {fullname} ignored");
        return None;
    }
    let old = known.insert(fullname, service.clone());
    (old.as_ref() != Some(&service)).then_some(Change::Found(service))
}

impl Drop for Watcher {
    fn drop(&mut self) {
        for (ty, _) in &self.browsing {
            let _ = self.daemon.stop_browse(ty);
        }
        if let Ok(done) = self.daemon.shutdown() {
            let _ = done.recv_timeout(Duration::from_secs(1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_KNOWN, Service, deadline, remember};
    use std::collections::BTreeMap;

    #[test]
    fn a_flood_of_advertisements_is_bounded_and_changes_are_told_once() {
        let service = |i: usize| Service {
            instance: format!("s{i}"),
            service_type: "_osc._udp.local.".into(),
            host: "h.local.".into(),
            addresses: vec!["192.0.2.1".parse().unwrap()],
            port: 9000,
        };
        let mut known = BTreeMap::new();
        for i in 0..MAX_KNOWN + 100 {
            remember(&mut known, format!("s{i}._osc._udp.local."), service(i));
        }
        assert_eq!(known.len(), MAX_KNOWN);
        // A known one still updates; the same record again is no change.
        let mut moved = service(0);
        moved.port = 9001;
        assert!(remember(&mut known, "s0._osc._udp.local.".into(), moved.clone()).is_some());
        assert!(remember(&mut known, "s0._osc._udp.local.".into(), moved).is_none());
    }
    use std::time::{Duration, Instant};

    #[test]
    fn a_deadline_never_overflows() {
        assert!(deadline(Duration::MAX) > Instant::now() + Duration::from_secs(3600));
        assert!(deadline(Duration::ZERO) <= Instant::now());
    }
}
