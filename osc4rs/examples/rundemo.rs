//! osc4py3's demo in Rust: a UDP server and a client in one process exchange single
//! messages, several messages, an immediate bundle, a delayed bundle, a message sent
//! to `_local` (dispatched here without the network) and one sent to `_all` (every
//! channel that writes). Each handler prints what it receives.
//!
//! ```text
//! cargo run -p osc4rs --example rundemo -- [eventloop|comthreads|allthreads] [--non-interactive]
//! ```
//!
//! With a terminal on standard input the demo waits for Enter between steps; with
//! `--non-interactive` (or when standard input is not a terminal) it runs straight
//! through. Exit status 0 when every expected message arrived, 1 otherwise, 2 for a
//! usage error.
//!
//! The osc4py3 names, for readers of its documentation: `Osc::builder().mode(..)` is
//! `osc_startup()` of `as_eventloop` / `as_comthreads` / `as_allthreads`; `udp_server`
//! and `udp_client` are `osc_udp_server` / `osc_udp_client`; `method` is `osc_method`;
//! `send` is `osc_send`; `process_timeout` is `osc_process`; `terminate` is
//! `osc_terminate`. The `osc4rs::as_*` modules offer those names as functions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use osc4rs::{Bundle, Context, Handler, Message, Mode, Osc, TimeTag};

/// What the handlers saw: one line per message.
type Seen = Arc<Mutex<Vec<String>>>;

/// How long the delayed bundle waits.
const DELAY: Duration = Duration::from_millis(500);

fn usage() -> ExitCode {
    eprintln!("usage: rundemo [eventloop|comthreads|allthreads] [--non-interactive]");
    ExitCode::from(2)
}

/// A handler that prints the message and where it came from, and records it.
fn printer(seen: &Seen, label: &'static str, start: Instant) -> Handler {
    let seen = Arc::clone(seen);
    Handler::with_context(move |m: &Message, ctx: &Context| {
        let source = match (ctx.channel.as_deref(), ctx.peer) {
            (Some(ch), Some(peer)) => format!("{ch} from {peer}"),
            (Some(ch), None) => ch.to_owned(),
            (None, _) => "?".to_owned(),
        };
        let bundle = match ctx.bundle_timetag {
            Some(t) if t.is_immediate() => " in an immediate bundle".to_owned(),
            Some(_) => " in a timed bundle".to_owned(),
            None => String::new(),
        };
        let line = format!(
            "  [{label:>8}] {:>6.1} ms  {m}  ({source}{bundle}, thread {})",
            start.elapsed().as_secs_f64() * 1e3,
            std::thread::current().name().unwrap_or("unnamed"),
        );
        println!("{line}");
        seen.lock().unwrap().push(line);
    })
}

/// Processes (where the mode needs it) until `n` messages were seen or `limit` passed.
fn wait_for(osc: &Osc, seen: &Seen, n: usize, limit: Duration) -> osc4rs::Result<bool> {
    let deadline = Instant::now() + limit;
    while seen.lock().unwrap().len() < n {
        if Instant::now() >= deadline {
            return Ok(false);
        }
        osc.process_timeout(Duration::from_millis(10))?;
    }
    Ok(true)
}

fn main() -> ExitCode {
    let mut mode = Mode::EventLoop;
    let mut interactive = std::io::stdin().is_terminal();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "eventloop" => mode = Mode::EventLoop,
            "comthreads" => mode = Mode::CommThreads,
            "allthreads" => mode = Mode::AllThreads,
            "--non-interactive" | "-n" => interactive = false,
            _ => return usage(),
        }
    }
    match run(mode, interactive) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("rundemo: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(mode: Mode, interactive: bool) -> osc4rs::Result<bool> {
    let start = Instant::now();
    // osc_startup(): the mode decides where I/O and handlers run.
    let osc = Osc::builder().mode(mode).exec_threads(4).start()?;
    // osc_udp_server("127.0.0.1", port, "demoserver"): port 0 picks a free port.
    osc.udp_server("demoserver", "127.0.0.1:0")?;
    let port = osc
        .local_addr("demoserver")
        .map(|a| a.port())
        .ok_or_else(|| osc4rs::OscError::UnknownTarget("demoserver".into()))?;
    osc.udp_client("democlient", ("127.0.0.1", port))?;
    println!("rundemo: {mode:?} mode, server demoserver on 127.0.0.1:{port}, client democlient");

    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    osc.method("/test/one", printer(&seen, "one", start))?;
    osc.method("/test/several/*", printer(&seen, "several", start))?;
    osc.method("/test/bundle/*", printer(&seen, "bundle", start))?;
    osc.method("/test/delayed/*", printer(&seen, "delayed", start))?;
    osc.method("/test/local", printer(&seen, "local", start))?;
    osc.method("/test/all", printer(&seen, "all", start))?;
    // A typed handler: the arguments arrive decoded (and a mismatch is counted, not fatal).
    let s = Arc::clone(&seen);
    osc.method(
        "/test/typed",
        Handler::typed(move |(text, n, x): (String, i32, f32)| {
            let line = format!("  [   typed] text={text:?} n={n} x={x}");
            println!("{line}");
            s.lock().unwrap().push(line);
        }),
    )?;

    let stdin = std::io::stdin();
    let step = |title: &str| {
        println!("\n== {title}");
        if interactive {
            println!("   (press Enter)");
            let _ = stdin.lock().read_line(&mut String::new());
        }
    };
    let mut expected = 0;
    let mut all_ok = true;
    let mut delayed_ok = true;
    let mut check = |osc: &Osc, add: usize, limit: Duration| -> osc4rs::Result<()> {
        expected += add;
        if !wait_for(osc, &seen, expected, limit)? {
            println!("  !! still waiting for messages after {limit:?}");
            all_ok = false;
        }
        Ok(())
    };

    step("a single message");
    osc.send(
        Message::new("/test/one").arg("text").arg(672).arg(8.871f32),
        "democlient",
    )?;
    check(&osc, 1, Duration::from_secs(5))?;

    step("several messages");
    for i in 0..5 {
        osc.send(
            Message::new(format!("/test/several/{i}"))
                .arg(i)
                .arg(i as f64 / 2.0),
            "democlient",
        )?;
    }
    osc.send(
        Message::new("/test/typed").arg("typed").arg(42).arg(1.5f32),
        "democlient",
    )?;
    check(&osc, 6, Duration::from_secs(5))?;

    step("a bundle (immediate)");
    let bundle = Bundle::immediate()
        .add(Message::new("/test/bundle/a").arg(1))
        .add(Message::new("/test/bundle/b").arg(2))
        .add(Message::new("/test/bundle/c").arg(true).arg(()));
    osc.send(bundle, "democlient")?;
    check(&osc, 3, Duration::from_secs(5))?;

    step(&format!("a bundle delayed by {DELAY:?}"));
    let sent_at = Instant::now();
    let delayed = Bundle::new(TimeTag::now() + DELAY)
        .add(Message::new("/test/delayed/first").arg("later"))
        .add(Message::new("/test/delayed/second").arg("later too"));
    osc.send(delayed, "democlient")?;
    check(&osc, 2, Duration::from_secs(5))?;
    let waited = sent_at.elapsed();
    // The scheduler compares times with 1 ms resolution.
    if waited + Duration::from_millis(2) < DELAY {
        println!("  !! the delayed bundle ran after {waited:?}, before its time");
        delayed_ok = false;
    } else {
        println!("  (the delayed bundle ran {waited:.1?} after it was sent)");
    }

    step("a local message (_local: no network, no encoding)");
    osc.send(Message::new("/test/local").arg("here"), "_local")?;
    check(&osc, 1, Duration::from_secs(5))?;

    step("a message to _all (every channel that writes: democlient)");
    osc.send(Message::new("/test/all").arg("everyone"), "_all")?;
    check(&osc, 1, Duration::from_secs(5))?;

    step("a group of targets: democlient and _local");
    osc.send(
        Message::new("/test/one").arg("group").arg(2).arg(0.5f32),
        ["democlient", "_local"],
    )?;
    check(&osc, 2, Duration::from_secs(5))?;

    osc.terminate()?;
    let all_ok = all_ok && delayed_ok;
    let got = seen.lock().unwrap().len();
    println!(
        "\nrundemo: {got}/{expected} messages received in {:.0} ms ({mode:?} mode): {}",
        start.elapsed().as_secs_f64() * 1e3,
        if all_ok && got == expected {
            "ok"
        } else {
            "MISSING MESSAGES"
        }
    );
    Ok(all_ok && got == expected)
}
