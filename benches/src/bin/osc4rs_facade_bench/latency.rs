//! Round-trip latency: a ping process and a pong process (both plain UDP, or both the
//! facade in the same mode) bounce one message back and forth.

use std::io::{self, BufRead};
use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use osc4rs::{Message, Mode, Osc};

use crate::measure::{median, nanos, percentile, report};
use crate::recv::mode;

/// Round trips not measured, when a pair starts.
const WARMUP: usize = 100;

/// Busy polling of the `MODE+busy` kinds.
pub(crate) const BUSY_POLL: Duration = Duration::from_micros(50);

/// A facade runtime in a kind's mode: default options, or `MODE+busy` for busy polling
/// (`MODE+wait` is read by [`ping`]).
fn start(kind: &str) -> Osc {
    let name = kind.strip_suffix("+wait").unwrap_or(kind);
    let (name, busy) = match name.strip_suffix("+busy") {
        Some(name) => (name, BUSY_POLL),
        None => (name, Duration::ZERO),
    };
    let mode = mode(name).unwrap_or_else(|| panic!("unknown kind {kind}"));
    Osc::builder()
        .mode(mode)
        .busy_poll(busy)
        .start()
        .expect("start")
}

/// Reports on standard error any message no method takes, with who sent it where:
/// a round trip lost in a bench run then says where its datagram went.
fn report_strays(osc: &Osc, who: &'static str) {
    let kind = std::env::args().nth(2).unwrap_or_default();
    osc.dispatcher().set_fallback(
        Some(osc4rs::Handler::with_context(move |m: &Message, ctx| {
            eprintln!(
                "{who} {kind} (pid {}): unexpected {m} from {:?} on {:?}",
                std::process::id(),
                ctx.peer,
                ctx.channel
            );
        })),
        osc4rs::MethodOptions::default(),
    );
}

/// Lets the runtime work until `done` says so (the application loop of each mode).
fn drive_until(osc: &Osc, mut done: impl FnMut(Option<Duration>) -> bool) {
    loop {
        match osc.mode() {
            Mode::EventLoop | Mode::CommThreads => {
                if done(None) {
                    return;
                }
                osc.process_timeout(Duration::from_millis(100))
                    .expect("process");
            }
            Mode::AllThreads => {
                if done(Some(Duration::from_secs(1))) {
                    return;
                }
            }
        }
    }
}

/// Waits (driving the runtime) until `rx` gets a message, at most 5 s; then panics
/// with what the runtime and its channels counted, to tell a lost datagram from one
/// that came and was not handled.
fn wait_for(osc: &Osc, rx: &mpsc::Receiver<()>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    drive_until(osc, |wait| {
        assert!(
            Instant::now() < deadline,
            "no reply within 5 s: {:?}, {:?}, in: {:?}, out: {:?}",
            osc.stats(),
            osc.dispatcher().stats(),
            osc.channel_stats("in"),
            osc.channel_stats("out")
        );
        match wait {
            None => rx.try_recv().is_ok(),
            Some(d) => rx.recv_timeout(d).is_ok(),
        }
    });
}

fn read_port_line() -> u16 {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).expect("stdin");
    line.trim().parse().expect("a port number on stdin")
}

/// Round trips not measured at the start of each block, while the pair wakes up.
const BLOCK_WARMUP: usize = 5;

fn ping_message(r: usize) -> Message {
    Message::new("/ping").arg(i32::try_from(r).unwrap_or(0))
}

/// `ping KIND`: prints `READY PORT`, reads the pong's port on stdin, makes the warm-up
/// round trips, then obeys the commands that follow on stdin: `go N` measures N round
/// trips and prints `DONE`; `end` (or the end of input) prints a RESULT line
/// (nanoseconds) over all measured round trips.
///
/// The driver starts every pair at once and gives them blocks in turn, so a change in
/// the machine's state during the run touches every kind alike.
///
/// A round trip is the time from building and sending a `/ping` to the end that handles
/// the `/pong`: the plain loop's `recv_from` and decode, or the facade's `/pong` handler, which
/// sends the next `/ping` itself (a rally). With `allthreads+wait` the handler instead
/// wakes the application thread, which waits for each reply and sends the next ping: one
/// more thread wake-up per round trip, which is what that application pays for waiting
/// in its own thread.
pub(crate) fn ping(kind: &str) {
    if kind == "plain+epoll" {
        ping_epoll(kind);
    } else if let Some(spin) = plain_spin(kind) {
        ping_plain(kind, spin);
    } else if kind.ends_with("+wait") {
        ping_waiting(kind);
    } else {
        ping_rally(kind);
    }
}

fn ping_plain(kind: &str, spin: Duration) {
    let sock = plain_socket(spin);
    let pong = SocketAddr::from(([127, 0, 0, 1], read_port_line()));
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    ping_loop(kind, |ping, buf| {
        sock.send_to(ping, pong).expect("send");
        recv_spinning(&sock, buf, spin).expect("reply within 5 s").0
    });
}

/// The plain ping over an [`EpollSocket`].
fn ping_epoll(kind: &str) {
    let mut sock = EpollSocket::new();
    let pong = SocketAddr::from(([127, 0, 0, 1], read_port_line()));
    ping_loop(kind, |ping, buf| {
        sock.sock.send_to(ping, pong).expect("send");
        sock.recv_from(buf, Duration::from_secs(5))
            .expect("reply within 5 s")
            .0
    });
}

/// The plain pings' loop: each round trip builds a `/ping` and encodes it into a
/// reused buffer, then `hop` sends it and receives the reply into the other buffer
/// (returning its length), which is then decoded. The timing starts before the
/// message is built, as the facade ping's does (its `/pong` handler builds and sends
/// the next `/ping` after taking the time), so both sides time the same work.
fn ping_loop(kind: &str, mut hop: impl FnMut(&[u8], &mut [u8]) -> usize) {
    let mut buf = vec![0u8; 1 << 16];
    let mut out = vec![0u8; 1 << 16];
    let mut r = 0;
    obey(kind, |n| {
        (0..n)
            .map(|_| {
                let t0 = Instant::now();
                let len = osc_codec::Packet::from(ping_message(r))
                    .encode_into(&mut out)
                    .expect("encode");
                r += 1;
                let n = hop(out.get(..len).unwrap_or_default(), &mut buf);
                let _ = osc_codec::Packet::decode(buf.get(..n).unwrap_or_default());
                t0.elapsed()
            })
            .collect()
    });
}

/// A facade ping whose application thread sends each `/ping` and waits for the `/pong`
/// handler to tell it the reply came.
fn ping_waiting(kind: &str) {
    let osc = start_ping(kind);
    let (tx, rx) = mpsc::channel::<()>();
    osc.method("/pong", move |_m: &Message| {
        let _ = tx.send(());
    })
    .expect("method");
    let mut r = 0;
    obey(kind, |n| {
        (0..n)
            .map(|_| {
                let t0 = Instant::now();
                osc.send(ping_message(r), "out").expect("send");
                r += 1;
                wait_for(&osc, &rx);
                t0.elapsed()
            })
            .collect()
    });
    let _ = osc.terminate();
}

/// The state of a rally, shared by the `/pong` handler and the thread that starts it.
struct Rally {
    /// Round trips still to start after the one in flight.
    left: usize,
    /// The number the next `/ping` carries.
    next: usize,
    sent_at: Instant,
    rtts: Vec<Duration>,
}

/// A facade ping whose `/pong` handler sends the next `/ping`: the application thread
/// only starts a block of round trips and waits for its end.
fn ping_rally(kind: &str) {
    let osc = Arc::new(start_ping(kind));
    let rally = Arc::new(Mutex::new(Rally {
        left: 0,
        next: 0,
        sent_at: Instant::now(),
        rtts: Vec::new(),
    }));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let me: Arc<OnceLock<Arc<Osc>>> = Arc::new(OnceLock::new());
    let (me2, rally2) = (Arc::clone(&me), Arc::clone(&rally));
    osc.method("/pong", move |_m: &Message| {
        let mut st = rally2.lock().expect("rally");
        let rtt = st.sent_at.elapsed();
        st.rtts.push(rtt);
        if st.left == 0 {
            let _ = done_tx.send(());
            return;
        }
        st.left -= 1;
        let r = st.next;
        st.next += 1;
        st.sent_at = Instant::now();
        if let Some(osc) = me2.get() {
            osc.send(ping_message(r), "out").expect("send");
        }
    })
    .expect("method");
    let _ = me.set(Arc::clone(&osc));
    obey(kind, |n| {
        let r = {
            let mut st = rally.lock().expect("rally");
            st.left = n.saturating_sub(1);
            st.rtts.clear();
            st.next += 1;
            st.sent_at = Instant::now();
            st.next - 1
        };
        osc.send(ping_message(r), "out").expect("send");
        wait_for(&osc, &done_rx);
        std::mem::take(&mut rally.lock().expect("rally").rtts)
    });
    let _ = osc.terminate();
}

/// A facade runtime for a ping: a server to receive on (its port printed), a client
/// to the pong's port (read on stdin) named `out`.
fn start_ping(kind: &str) -> Osc {
    let osc = start(kind);
    report_strays(&osc, "ping");
    osc.udp_server("in", "127.0.0.1:0").expect("server");
    println!("READY {}", osc.local_addr("in").expect("addr").port());
    osc.udp_client("out", ("127.0.0.1", read_port_line()))
        .expect("client");
    osc
}

/// The command loop of [`ping`]; `block(n)` makes `n` round trips and returns their
/// times.
fn obey(kind: &str, mut block: impl FnMut(usize) -> Vec<Duration>) {
    block(WARMUP);
    let mut rtts = Vec::new();
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let Some(n) = line
            .strip_prefix("go ")
            .and_then(|n| n.trim().parse::<usize>().ok())
        else {
            break;
        };
        let times = block(BLOCK_WARMUP + n);
        rtts.extend(times.iter().skip(BLOCK_WARMUP).map(|t| nanos(*t) as f64));
        println!("DONE");
    }
    let mean = rtts.iter().sum::<f64>() / rtts.len().max(1) as f64;
    report(&[
        ("kind", kind.to_owned()),
        ("rounds", rtts.len().to_string()),
        ("median_ns", format!("{:.0}", median(rtts.clone()))),
        ("p99_ns", format!("{:.0}", percentile(rtts, 0.99))),
        ("mean_ns", format!("{mean:.0}")),
    ]);
}

/// The busy polling of a plain kind (`plain`, `plain+epoll`: none, `plain+busy`:
/// [`BUSY_POLL`]); `None` for the facade's kinds.
fn plain_spin(kind: &str) -> Option<Duration> {
    match kind {
        "plain" | "plain+epoll" => Some(Duration::ZERO),
        "plain+busy" => Some(BUSY_POLL),
        _ => None,
    }
}

/// A plain socket that waits in `epoll_wait` and then reads without blocking, as any
/// receiver that watches more than one source must: the floor of a multiplexing
/// loop, one system call per hop more than a blocking `recv_from`.
struct EpollSocket {
    sock: mio::net::UdpSocket,
    poll: mio::Poll,
    events: mio::Events,
}

impl EpollSocket {
    fn new() -> Self {
        let std_sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
        std_sock.set_nonblocking(true).expect("non-blocking");
        println!("READY {}", std_sock.local_addr().expect("addr").port());
        let mut sock = mio::net::UdpSocket::from_std(std_sock);
        let poll = mio::Poll::new().expect("epoll");
        poll.registry()
            .register(&mut sock, mio::Token(0), mio::Interest::READABLE)
            .expect("register");
        EpollSocket {
            sock,
            poll,
            events: mio::Events::with_capacity(8),
        }
    }

    /// Reads a datagram, waiting in `epoll_wait` whenever the socket is empty.
    fn recv_from(&mut self, buf: &mut [u8], limit: Duration) -> io::Result<(usize, SocketAddr)> {
        loop {
            match self.sock.recv_from(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.poll.poll(&mut self.events, Some(limit))?;
                    if self.events.is_empty() {
                        return Err(io::ErrorKind::TimedOut.into());
                    }
                }
                other => return other,
            }
        }
    }
}

/// A plain socket for a ping or a pong; non-blocking when it busy-polls.
fn plain_socket(spin: Duration) -> UdpSocket {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_nonblocking(!spin.is_zero()).expect("non-blocking");
    println!("READY {}", sock.local_addr().expect("addr").port());
    sock
}

/// `recv_from`, polling a non-blocking socket for up to `spin` before it blocks (as
/// the facade's `busy_poll` does); a blocking socket (`spin` zero) just blocks.
fn recv_spinning(
    sock: &UdpSocket,
    buf: &mut [u8],
    spin: Duration,
) -> io::Result<(usize, SocketAddr)> {
    if spin.is_zero() {
        return sock.recv_from(buf);
    }
    let until = Instant::now() + spin;
    loop {
        match sock.recv_from(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < until => {
                std::hint::spin_loop();
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            other => return other,
        }
    }
    sock.set_nonblocking(false)?;
    let got = sock.recv_from(buf);
    sock.set_nonblocking(true)?;
    got
}

/// The plain pong: answers each `/ping` from a blocking (or busy-polling) loop.
fn pong_plain(spin: Duration) -> ! {
    let sock = plain_socket(spin);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        if let Ok((n, peer)) = recv_spinning(&sock, &mut buf, spin) {
            if let Some(reply) = pong_reply(buf.get(..n).unwrap_or_default()) {
                let _ = sock.send_to(&reply, peer);
            }
        }
    }
}

/// The plain pong over an [`EpollSocket`].
fn pong_epoll() -> ! {
    let mut sock = EpollSocket::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        if let Ok((n, peer)) = sock.recv_from(&mut buf, Duration::from_secs(3600)) {
            if let Some(reply) = pong_reply(buf.get(..n).unwrap_or_default()) {
                let _ = sock.sock.send_to(&reply, peer);
            }
        }
    }
}

/// The `reactor` pong (`latency-layers`): osc-channel's reactor alone, set up as the
/// facade's event loop sets it up (a server `in`, a client `back` to the ping written
/// through its `UdpWriter`), answering from the pass's callback as the plain pong
/// answers.
fn pong_reactor(ping_port: u16) -> ! {
    use osc4rs::channel::{ChannelSpec, Reactor, UdpConfig};
    let mut r = Reactor::with_options(osc4rs::Config::default().reactor).expect("reactor");
    let any: SocketAddr = "127.0.0.1:0".parse().expect("address");
    let back_to: SocketAddr = SocketAddr::from(([127, 0, 0, 1], ping_port));
    let input = r
        .open("in", ChannelSpec::Udp(UdpConfig::server(any)))
        .expect("server");
    let back = r
        .open("back", ChannelSpec::Udp(UdpConfig::client(back_to)))
        .expect("client");
    let writer = r.udp_writer(back).expect("writer");
    let port = r.local_addr(input).expect("addr").port();
    println!("READY {port}");
    loop {
        let _ = r.poll(Some(Duration::from_millis(100)), |p| {
            if let Some(reply) = pong_reply(p.data) {
                let _ = writer.try_send(&reply, None);
            }
        });
    }
}

/// The `dispatch` pong (`latency-layers`): the plain blocking socket, with each ping
/// decoded and dispatched by osc-dispatch to a handler that takes the message and
/// answers on the socket, as the facade's pong handler does.
fn pong_dispatch() -> ! {
    use osc4rs::dispatch::{Context, Dispatcher, DispatcherConfig};
    let sock = Arc::new(plain_socket(Duration::ZERO));
    let d = Dispatcher::new(DispatcherConfig::default());
    let out = Arc::clone(&sock);
    d.register(
        "/ping",
        osc4rs::Handler::taking(move |m: Message, ctx: &Context| {
            let mut reply = Message::new("/pong");
            reply.args = m.args;
            if let (Ok(bytes), Some(peer)) = (osc_codec::Packet::from(reply).to_bytes(), ctx.peer) {
                let _ = out.send_to(&bytes, peer);
            }
        }),
    )
    .expect("method");
    let mut buf = vec![0u8; 1 << 16];
    let mut ctx = Context::default();
    loop {
        if let Ok((n, peer)) = sock.recv_from(&mut buf) {
            if let Ok(packet) = osc_codec::Packet::decode(buf.get(..n).unwrap_or_default()) {
                ctx.peer = Some(peer);
                let now = osc_codec::TimeTag::now();
                let _ = d.dispatch_packet_lent(packet, &ctx, now);
            }
        }
    }
}

/// The plain pongs' answer to a `/ping`: a `/pong` with its arguments, encoded.
fn pong_reply(ping: &[u8]) -> Option<Vec<u8>> {
    let osc_codec::Packet::Message(m) = osc_codec::Packet::decode(ping).ok()? else {
        return None;
    };
    let mut reply = Message::new("/pong");
    reply.args = m.args;
    osc_codec::Packet::from(reply).to_bytes().ok()
}

/// `pong KIND PING_PORT`: prints `READY PORT` and answers every `/ping` with a
/// `/pong` carrying the same arguments, until killed.
pub(crate) fn pong(kind: &str, ping_port: u16) {
    match kind {
        "plain+epoll" => pong_epoll(),
        "reactor" => pong_reactor(ping_port),
        "dispatch" => pong_dispatch(),
        _ => {}
    }
    if let Some(spin) = plain_spin(kind) {
        pong_plain(spin);
    }
    let osc = Arc::new(start(kind));
    report_strays(&osc, "pong");
    osc.udp_server("in", "127.0.0.1:0").expect("server");
    osc.udp_client("back", ("127.0.0.1", ping_port))
        .expect("client");
    let me: Arc<OnceLock<Arc<Osc>>> = Arc::new(OnceLock::new());
    let me2 = Arc::clone(&me);
    // The handler takes the message by value and moves its arguments into the reply,
    // as the plain pong does.
    osc.method(
        "/ping",
        osc4rs::Handler::taking(move |m: Message, _ctx| {
            if let Some(osc) = me2.get() {
                let mut reply = Message::new("/pong");
                reply.args = m.args;
                let _ = osc.send(reply, "back");
            }
        }),
    )
    .expect("method");
    let _ = me.set(Arc::clone(&osc));
    println!("READY {}", osc.local_addr("in").expect("addr").port());
    drive_until(&osc, |wait| {
        if let Some(d) = wait {
            std::thread::sleep(d);
        }
        false
    });
}
