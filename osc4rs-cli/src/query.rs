//! `osc4rs query` and `osc4rs discover`: read an OSCQuery server's address space, and
//! list the OSC services advertised on the local network (DNS-SD).

use std::io::Write;
use std::net::ToSocketAddrs;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use osc_query::{Node, QueryClient, Range, Slot};

use crate::Failure;

/// Arguments of `osc4rs query`.
#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    /// The server: `http://HOST:PORT` (or `HOST:PORT`).
    url: String,
    /// Only this node and what is below it (default: the whole tree).
    path: Option<String>,
    /// Print the JSON document as the server sent it, instead of a table.
    #[arg(long)]
    json: bool,
    /// Print the server's HOST_INFO (name, OSC endpoint, extensions) first.
    #[arg(long)]
    host_info: bool,
}

/// Arguments of `osc4rs discover`.
#[derive(Debug, Args)]
pub(crate) struct DiscoverArgs {
    /// How long to listen for advertisements before printing them, in seconds.
    #[arg(long, default_value_t = 2.0)]
    wait: f64,
    /// Follow arrivals (`+`) and departures (`-`) as they happen, until Ctrl-C or
    /// --timeout, instead of printing one list.
    #[arg(long)]
    watch: bool,
    /// With --watch: stop after this many seconds.
    #[arg(long, requires = "watch")]
    timeout: Option<f64>,
}

/// The three kinds of service `discover` browses.
const KINDS: [&str; 3] = [
    osc_query::OSCJSON_TCP,
    osc_query::OSC_UDP,
    osc_query::OSC_TCP,
];

/// One service as a line: type, instance, first address and port.
fn service_line(s: &osc_query::Service) -> String {
    let addr = s.addresses.first().map_or_else(
        || "?".to_owned(),
        |ip| std::net::SocketAddr::new(*ip, s.port).to_string(),
    );
    format!(
        "{:<14} {:<30} {addr}",
        s.service_type.trim_end_matches(".local."),
        s.instance
    )
}

fn dns_failure(e: osc_query::QueryError) -> Failure {
    Failure::runtime(format!("DNS-SD: {e}"))
}

/// `discover --watch`: a line per change, flushed as it happens.
fn watch(mut watcher: osc_query::Watcher, timeout: Option<Duration>) -> Result<ExitCode, Failure> {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, std::sync::Arc::clone(&stop))
            .map_err(|e| Failure::runtime(format!("cannot handle signals: {e}")))?;
    }
    let started = std::time::Instant::now();
    let mut out = std::io::stdout();
    while !stop.load(std::sync::atomic::Ordering::Relaxed)
        && timeout.is_none_or(|t| started.elapsed() < t)
    {
        let line = match watcher
            .next(Duration::from_millis(100))
            .map_err(dns_failure)?
        {
            Some(osc_query::Change::Found(s)) => format!("+ {}", service_line(&s)),
            Some(osc_query::Change::Lost {
                instance,
                service_type,
            }) => format!(
                "- {:<14} {instance}",
                service_type.trim_end_matches(".local.")
            ),
            _ => continue,
        };
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            break; // the reader went away
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The socket address of `http://HOST:PORT[/...]` or `HOST:PORT`.
fn server_addr(url: &str) -> Result<std::net::SocketAddr, Failure> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let hostport = rest.split('/').next().unwrap_or(rest);
    hostport
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| Failure::input(format!("not an http://HOST:PORT address: {url:?}")))
}

pub(crate) fn run_query(a: QueryArgs) -> Result<ExitCode, Failure> {
    let client = QueryClient::new(server_addr(&a.url)?)
        .map_err(|e| Failure::runtime(format!("{}: {e}", a.url)))?;
    let fail = |e: osc_query::QueryError| Failure::runtime(format!("{}: {e}", a.url));
    if a.host_info {
        let info = client.host_info().map_err(fail)?;
        println!("name       {}", info.name.as_deref().unwrap_or("-"));
        let ip = info.osc_ip.as_deref().unwrap_or("-");
        let transport = info
            .osc_transport
            .map_or_else(|| "-".to_owned(), |t| format!("{t:?}"));
        let port = info
            .osc_port
            .map_or_else(|| "-".to_owned(), |p| p.to_string());
        println!("osc        {transport} {ip}:{port}");
        let on: Vec<&str> = info
            .extensions
            .iter()
            .filter(|(_, v)| **v)
            .map(|(k, _)| k.as_str())
            .collect();
        println!("extensions {}", on.join(" "));
        println!();
    }
    let node = match &a.path {
        Some(p) => client.node(p),
        None => client.tree(),
    }
    .map_err(fail)?;
    if a.json {
        let text = serde_json::to_string_pretty(&node)
            .map_err(|e| Failure::runtime(format!("cannot print the JSON: {e}")))?;
        println!("{text}");
    } else {
        print!("{}", table(&node));
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per node that takes or holds values: path, type tags, access, value,
/// range, unit and description, in columns.
pub(crate) fn table(root: &Node) -> String {
    let mut rows = vec![[
        "PATH".to_owned(),
        "TYPE".to_owned(),
        "ACCESS".to_owned(),
        "VALUE".to_owned(),
        "RANGE".to_owned(),
        "UNIT".to_owned(),
        "DESCRIPTION".to_owned(),
    ]];
    collect_rows(root, &mut rows);
    let mut widths = [0usize; 7];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let mut line = String::new();
        for (cell, w) in row.iter().zip(&widths) {
            line.push_str(&format!("{cell:<w$}  "));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn collect_rows(node: &Node, rows: &mut Vec<[String; 7]>) {
    if node.types.is_some() || node.value.is_some() {
        let access = match node.access.map(osc_query::Access::bits) {
            Some(0) => "-",
            Some(1) => "r",
            Some(2) => "w",
            Some(3) => "rw",
            _ => "?",
        };
        let value = node.value.as_ref().map_or_else(String::new, |v| {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        });
        let range = node.range.as_ref().map_or_else(String::new, |r| {
            r.iter().map(range_text).collect::<Vec<_>>().join(" ")
        });
        let unit = node.unit.as_ref().map_or_else(String::new, |u| {
            u.iter().map(unit_text).collect::<Vec<_>>().join(" ")
        });
        rows.push([
            node.full_path.clone(),
            node.types.clone().unwrap_or_default(),
            access.to_owned(),
            value,
            range,
            unit,
            node.description.clone().unwrap_or_default(),
        ]);
    }
    for child in node.contents.iter().flat_map(|c| c.values()) {
        collect_rows(child, rows);
    }
}

fn range_text(slot: &Slot<Range>) -> String {
    match slot {
        Slot::One(Some(r)) => match (&r.min, &r.max) {
            (Some(lo), Some(hi)) => format!("{lo}..{hi}"),
            (Some(lo), None) => format!("{lo}.."),
            (None, Some(hi)) => format!("..{hi}"),
            (None, None) => serde_json::to_string(r).unwrap_or_default(),
        },
        Slot::One(None) => "-".to_owned(),
        Slot::Nested(inner) => format!(
            "[{}]",
            inner.iter().map(range_text).collect::<Vec<_>>().join(" ")
        ),
    }
}

fn unit_text(slot: &Slot<String>) -> String {
    match slot {
        Slot::One(Some(u)) => u.clone(),
        Slot::One(None) => "-".to_owned(),
        Slot::Nested(inner) => format!(
            "[{}]",
            inner.iter().map(unit_text).collect::<Vec<_>>().join(" ")
        ),
    }
}

pub(crate) fn run_discover(a: DiscoverArgs) -> Result<ExitCode, Failure> {
    let wait = crate::seconds("--wait", a.wait)?;
    let timeout = a
        .timeout
        .map(|t| crate::seconds("--timeout", t))
        .transpose()?;
    let mut watcher = osc_query::Watcher::new(&KINDS).map_err(dns_failure)?;
    if a.watch {
        return watch(watcher, timeout);
    }
    let until = std::time::Instant::now()
        .checked_add(wait)
        .ok_or_else(|| Failure::input("--wait is too long"))?;
    while let Some(left) = until.checked_duration_since(std::time::Instant::now()) {
        watcher.next(left).map_err(dns_failure)?;
    }
    let services = watcher.services();
    for s in &services {
        println!("{}", service_line(s));
    }
    if services.is_empty() {
        eprintln!("osc4rs: no OSCQuery or OSC service answered within {wait:?}");
    }
    Ok(ExitCode::SUCCESS)
}
