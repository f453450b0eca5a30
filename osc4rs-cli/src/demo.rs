//! `osc4rs demo`: a server and a client on loopback exchanging messages and bundles.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use osc4rs::{Bundle, Context, Handler, Message, Mode, Osc, TimeTag};

use crate::Failure;

/// Scheduling mode names as the command line spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ModeArg {
    /// Everything in `process()`.
    Eventloop,
    /// I/O in a background thread, handlers in `process()`.
    Comthreads,
    /// Everything in the background, handlers on a worker pool.
    Allthreads,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Mode {
        match m {
            ModeArg::Eventloop => Mode::EventLoop,
            ModeArg::Comthreads => Mode::CommThreads,
            ModeArg::Allthreads => Mode::AllThreads,
        }
    }
}

/// Arguments of `osc4rs demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Scheduling mode.
    #[arg(long, value_enum, default_value = "eventloop")]
    mode: ModeArg,
    /// Use TCP (SLIP from the client, auto-detected by the server) instead of UDP.
    #[arg(long)]
    tcp: bool,
}

type Seen = Arc<Mutex<Vec<String>>>;

fn record(seen: &Seen, who: &str, m: &Message, ctx: &Context) {
    let when = match ctx.bundle_timetag {
        Some(t) if !t.is_immediate() => " (delayed bundle)",
        Some(_) => " (bundle)",
        None => "",
    };
    let line = format!("{who:<8} got {m}{when}");
    println!("{line}");
    if let Ok(mut s) = seen.lock() {
        s.push(line);
    }
}

/// Runs the demo; exit status 0 when every expected message arrived.
pub(crate) fn run(a: DemoArgs) -> Result<ExitCode, Failure> {
    let mode: Mode = a.mode.into();
    let fail = |e: osc4rs::OscError| Failure::runtime(e.to_string());
    let osc = Osc::builder()
        .mode(mode)
        .exec_threads(4)
        .start()
        .map_err(fail)?;
    if a.tcp {
        osc.tcp_server("server", "127.0.0.1:0").map_err(fail)?;
    } else {
        osc.udp_server("server", "127.0.0.1:0").map_err(fail)?;
    }
    let port = osc
        .local_addr("server")
        .map(|s| s.port())
        .ok_or_else(|| Failure::runtime("server has no address"))?;
    if a.tcp {
        osc.tcp_client("client", ("127.0.0.1", port))
            .map_err(fail)?;
    } else {
        osc.udp_client("client", ("127.0.0.1", port))
            .map_err(fail)?;
    }
    println!(
        "osc4rs demo: {mode:?} mode, {} on 127.0.0.1:{port}",
        if a.tcp { "TCP" } else { "UDP" }
    );
    if a.tcp {
        // Let the connection be accepted: `_all` below also goes through the server's
        // connection, and a TCP server with no connection yet reaches nobody.
        let settle = Instant::now() + Duration::from_millis(100);
        while Instant::now() < settle {
            osc.process_timeout(Duration::from_millis(10))
                .map_err(fail)?;
        }
    }

    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    osc.method(
        "/synth/*/freq",
        Handler::with_context(move |m, ctx| record(&s, "freq", m, ctx)),
    )
    .map_err(fail)?;
    let s = Arc::clone(&seen);
    osc.method(
        "/synth/*/amp",
        Handler::typed_with_context(move |(amp,): (f32,), m: &Message, ctx: &Context| {
            let _ = amp;
            record(&s, "amp", m, ctx);
        }),
    )
    .map_err(fail)?;
    let s = Arc::clone(&seen);
    osc.method(
        "/demo/*",
        Handler::with_context(move |m, ctx| record(&s, "demo", m, ctx)),
    )
    .map_err(fail)?;

    let start = Instant::now();
    osc.send(Message::new("/synth/1/freq").arg(440.0f32), "client")
        .map_err(fail)?;
    for i in 2..=4 {
        osc.send(
            Message::new(format!("/synth/{i}/amp")).arg(0.25f32 * i as f32),
            "client",
        )
        .map_err(fail)?;
    }
    let bundle = Bundle::immediate()
        .add(Message::new("/synth/5/freq").arg(220.0f32))
        .add(Message::new("/synth/5/amp").arg(0.5f32));
    osc.send(bundle, "client").map_err(fail)?;
    let delayed = Bundle::new(TimeTag::now() + Duration::from_millis(300))
        .add(Message::new("/demo/delayed").arg("300 ms later"));
    osc.send(delayed, "client").map_err(fail)?;
    osc.send(Message::new("/demo/local").arg("no network"), "_local")
        .map_err(fail)?;
    osc.send(Message::new("/demo/all").arg(true), "_all")
        .map_err(fail)?;

    // Over TCP, `_all` also reaches the server's connection, which is our own client.
    let expected = if a.tcp { 10 } else { 9 };
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.lock().map(|s| s.len()).unwrap_or(0) < expected && Instant::now() < deadline {
        osc.process_timeout(Duration::from_millis(10))
            .map_err(fail)?;
    }
    osc.terminate().map_err(fail)?;
    let got = seen.lock().map(|s| s.len()).unwrap_or(0);
    println!(
        "summary: {got}/{expected} messages received in {:.0} ms ({mode:?} mode, {})",
        start.elapsed().as_secs_f64() * 1000.0,
        if got == expected {
            "ok"
        } else {
            "MISSING MESSAGES"
        }
    );
    Ok(if got == expected {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
