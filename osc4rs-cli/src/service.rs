//! Services named on the local network (DNS-SD) where the tool takes an endpoint:
//! `send --service NAME` sends to where the service takes OSC, `dump --service NAME`
//! prints the values its OSCQuery server streams.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use osc_query::{Access, Node, OscTarget, QueryClient, Update};

use crate::Failure;

/// Where the service advertised as `name` takes OSC.
pub(crate) fn resolve(name: &str, wait: Duration) -> Result<OscTarget, Failure> {
    osc_query::resolve(name, wait).map_err(|e| Failure::runtime(format!("{name:?}: {e}")))
}

/// The paths of `tree` that may stream values: methods and parameters (not
/// containers).
fn listenable(tree: &Node, into: &mut Vec<String>) {
    if tree.access.is_some_and(|a| a != Access::None) {
        into.push(tree.full_path.clone());
    }
    for child in tree.contents.iter().flat_map(|c| c.values()) {
        listenable(child, into);
    }
}

/// `dump --service NAME`: LISTEN to every method and parameter of the service's
/// OSCQuery server and print each value it streams, one message per line, until
/// `timeout` or Ctrl-C. Paths added later are listened to as they come.
pub(crate) fn dump(
    name: &str,
    wait: Duration,
    timeout: Option<Duration>,
    out: &mut dyn Write,
) -> Result<ExitCode, Failure> {
    let target = osc_query::resolve_query(name, wait).map_err(|e| {
        Failure::runtime(format!(
            "{name:?}: {e} (dump --service listens to an OSCQuery server's values; \
             dump --url listens for what is sent to this machine)"
        ))
    })?;
    let Some(http) = target.query else {
        return Err(Failure::runtime(format!("{name:?}: no OSCQuery server")));
    };
    let failed = |e: osc_query::QueryError| Failure::runtime(format!("{name:?} at {http}: {e}"));
    let client = QueryClient::new(http).map_err(failed)?;
    let mut paths = Vec::new();
    listenable(&client.tree().map_err(failed)?, &mut paths);
    let mut stream = client.stream().map_err(failed)?;
    for p in &paths {
        stream.listen(p).map_err(failed)?;
    }
    eprintln!(
        "osc4rs: listening to {} paths of {name:?} ({http})",
        paths.len()
    );
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| Failure::runtime(format!("cannot handle signals: {e}")))?;
    }
    let started = Instant::now();
    let write = |out: &mut dyn Write, line: &str| {
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| Failure::runtime(format!("cannot write output: {e}")))
    };
    while !stop.load(Ordering::Relaxed) && timeout.is_none_or(|t| started.elapsed() < t) {
        match stream.next(Duration::from_millis(100)).map_err(failed)? {
            Some(Update::Value(m)) => write(out, &m.to_string())?,
            Some(Update::PathAdded(p)) => {
                stream.listen(&p).map_err(failed)?;
                write(out, &format!("!note {p} added"))?;
            }
            Some(Update::PathRemoved(p)) => write(out, &format!("!note {p} removed"))?,
            Some(Update::PathRenamed { old, new }) => {
                write(out, &format!("!note {old} renamed {new}"))?;
            }
            Some(Update::PathChanged(p)) => write(out, &format!("!note {p} changed"))?,
            // ERROR answers (a path that cannot stream) and other notices.
            Some(other) => log::info!("{name}: {other:?}"),
            None => {}
        }
    }
    Ok(ExitCode::SUCCESS)
}
