//! A `/status` server, the most common pattern in OSC: it answers every request to
//! whoever sent it, from the server's own socket (UDP) or on the request's connection
//! (TCP), in the scheduling mode given on the command line.
//!
//! ```sh
//! cargo run -p osc4rs --example status_server -- eventloop 9000
//! osc4rs send --port 9000 --wait-reply /status        # another terminal
//! ```
//! With `--once`, it answers one request and exits (the tests use it).

use std::time::{Duration, Instant};

use osc4rs::{Context, Handler, Message, Mode, Osc};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = match args.first().map(String::as_str) {
        Some("comthreads") => Mode::CommThreads,
        Some("allthreads") => Mode::AllThreads,
        _ => Mode::EventLoop,
    };
    let port: u16 = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(9000);
    let once = args.iter().any(|a| a == "--once");

    let osc = Osc::builder().mode(mode).start()?;
    osc.udp_server("udp", ("127.0.0.1", port))?;
    osc.tcp_server("tcp", ("127.0.0.1", port))?;
    let started = Instant::now();
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (h, count) = (osc.handle(), std::sync::Arc::clone(&answered));
    osc.method(
        "/status",
        Handler::with_context(move |_m: &Message, ctx: &Context| {
            let uptime = started.elapsed().as_secs_f32();
            let reply = Message::new("/status.reply").arg("running").arg(uptime);
            match h.reply(ctx, reply) {
                Ok(()) => {
                    count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                Err(e) => eprintln!("cannot answer {:?}: {e}", ctx.peer),
            }
        }),
    )?;
    println!("answering /status on udp and tcp port {port} ({mode:?})");
    let deadline = once.then(|| Instant::now() + Duration::from_secs(10));
    while deadline.is_none_or(|d| Instant::now() < d) {
        osc.process_timeout(Duration::from_millis(100))?;
        if once && answered.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            break;
        }
    }
    osc.terminate()?;
    Ok(())
}
