//! A TouchOSC-style fader bridge: faders arrive as `/fader/N ,f VALUE` on a UDP port,
//! and each one goes on to a synthesizer as `/synth/N/amp ,f VALUE` inside a bundle
//! timed a few milliseconds ahead, so the synth applies every change on time even
//! when the network jitters (the usual trick of SuperCollider users).
//!
//! ```sh
//! cargo run -p osc4rs --example fader_bridge -- 9000 57110      # faders in, synth out
//! oscsend localhost 9000 /fader/1 f 0.5                          # another terminal
//! ```
//! With `--count N` it exits after bridging N faders (the tests use it).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use osc4rs::{Bundle, Context, Handler, Message, Osc, TimeTag};

/// How far ahead of now the synth is asked to apply a change.
const AHEAD: Duration = Duration::from_millis(10);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fader_port: u16 = args.first().and_then(|p| p.parse().ok()).unwrap_or(9000);
    let synth_port: u16 = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(57110);
    let count: Option<usize> = args
        .iter()
        .position(|a| a == "--count")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok());

    let osc = Osc::builder().start()?;
    osc.udp_server("faders", ("127.0.0.1", fader_port))?;
    osc.udp_client("synth", ("127.0.0.1", synth_port))?;
    let bridged = Arc::new(AtomicUsize::new(0));
    let (h, done) = (osc.handle(), Arc::clone(&bridged));
    osc.method(
        "/fader/*",
        Handler::typed_with_context(move |(value,): (f32,), m: &Message, _ctx: &Context| {
            let Some(n) = m.address.rsplit('/').next() else {
                return;
            };
            let when = TimeTag::from_system_time(std::time::SystemTime::now() + AHEAD);
            let bundle = Bundle::new(when).add(Message::new(format!("/synth/{n}/amp")).arg(value));
            match h.send(bundle, "synth") {
                Ok(()) => {
                    done.fetch_add(1, Ordering::SeqCst);
                }
                Err(e) => eprintln!("cannot reach the synth: {e}"),
            }
        }),
    )?;
    println!("faders on udp port {fader_port} -> synth on udp port {synth_port}");
    let deadline = count.map(|_| Instant::now() + Duration::from_secs(10));
    while deadline.is_none_or(|d| Instant::now() < d) {
        osc.process_timeout(Duration::from_millis(50))?;
        if count.is_some_and(|n| bridged.load(Ordering::SeqCst) >= n) {
            break;
        }
    }
    osc.terminate()?;
    Ok(())
}
