//! `OscServer`: dispatch from UDP and TCP, replies, async handlers, panic isolation,
//! bundle scheduling on tokio's paused clock, and shutdown.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use osc_codec::{Bundle, Message, Packet, TimeTag};
use osc_dispatch::{
    Clock, Context, Dispatcher, DispatcherConfig, Handler, LatePolicy, SchedulerConfig,
    ShutdownOptions, TimetagOffset,
};
use osc4rs_tokio::{
    MAX_DATAGRAM, OscCodec, OscServer, OscSocket, ServerConfig, StreamFraming, TokioClock,
    async_handler,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::Framed;

const T0: TimeTag = TimeTag::new(3_900_000_000, 0);

fn dispatcher(scheduler: SchedulerConfig) -> Arc<Dispatcher> {
    Arc::new(Dispatcher::new(DispatcherConfig {
        scheduler,
        ..DispatcherConfig::default()
    }))
}

/// A server reading one UDP socket, with `/echo` replying what it got.
async fn udp_echo_server(
    d: Arc<Dispatcher>,
    config: ServerConfig,
) -> (OscServer, std::net::SocketAddr) {
    let mut server =
        OscServer::with_config(d.clone(), config).with_clock(TokioClock::starting_at(T0));
    let socket = OscSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    server.add_udp("udp", &socket);
    let replier = server.replier();
    d.register(
        "/echo",
        Handler::with_context(move |msg, ctx| replier.reply(ctx, msg.clone().into()).unwrap()),
    )
    .unwrap();
    (server, addr)
}

async fn recv_owned(s: &OscSocket) -> Packet {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    s.recv(&mut buf).await.unwrap().0.to_owned()
}

async fn udp_echo_every_type() {
    let d = dispatcher(SchedulerConfig::default());
    let (server, addr) = udp_echo_server(d.clone(), ServerConfig::default()).await;
    let stopper = server.stopper();
    let run = tokio::spawn(server.run());
    let mut client = OscSocket::bind("127.0.0.1:0").await.unwrap();
    let msg = common::every_type_message_at("/echo");
    for _ in 0..10 {
        client.send_to(&msg.clone().into(), addr).await.unwrap();
        assert_eq!(recv_owned(&client).await, Packet::from(msg.clone()));
    }
    stopper.stop();
    run.await.unwrap();
    assert_eq!(d.stats().handler_calls, 10);
}

#[tokio::test(flavor = "current_thread")]
async fn udp_dispatch_and_reply_current_thread() {
    udp_echo_every_type().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_dispatch_and_reply_multi_thread() {
    udp_echo_every_type().await;
}

async fn tcp_echo(client_framing: StreamFraming) {
    let d = dispatcher(SchedulerConfig::default());
    let mut server = OscServer::new(d.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    server.add_tcp("tcp", listener, StreamFraming::Auto, 1 << 20);
    let replier = server.replier();
    d.register(
        "/echo",
        Handler::with_context(move |msg, ctx| replier.reply(ctx, msg.clone().into()).unwrap()),
    )
    .unwrap();
    let stopper = server.stopper();
    let run = tokio::spawn(server.run());
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut client = Framed::new(stream, OscCodec::new(client_framing));
    let msg = common::every_type_message_at("/echo");
    for _ in 0..5 {
        client.send(Packet::from(msg.clone())).await.unwrap();
        let got = client.next().await.unwrap().unwrap().unwrap();
        assert_eq!(got, Packet::from(msg.clone()));
    }
    stopper.stop();
    run.await.unwrap();
    // The server closed the connection.
    assert!(client.next().await.is_none());
}

#[tokio::test(flavor = "current_thread")]
async fn tcp_dispatch_and_reply_both_framings_current_thread() {
    tcp_echo(StreamFraming::LengthPrefix).await;
    tcp_echo(StreamFraming::Slip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_dispatch_and_reply_both_framings_multi_thread() {
    tcp_echo(StreamFraming::LengthPrefix).await;
    tcp_echo(StreamFraming::Slip).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_connection_is_closed_and_the_others_go_on() {
    let d = dispatcher(SchedulerConfig::default());
    let (tx, mut rx) = mpsc::unbounded_channel();
    d.register("/n", Handler::typed(move |n: i32| tx.send(n).unwrap()))
        .unwrap();
    let mut server = OscServer::new(d.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    server.add_tcp("tcp", listener, StreamFraming::LengthPrefix, 1024);
    let stopper = server.stopper();
    let run = tokio::spawn(server.run());

    let mut bad = Framed::new(
        TcpStream::connect(addr).await.unwrap(),
        tokio_util::codec::BytesCodec::new(),
    );
    let mut good = Framed::new(
        TcpStream::connect(addr).await.unwrap(),
        OscCodec::new(StreamFraming::LengthPrefix),
    );
    // Oversized (skipped), malformed (skipped), good, then a negative prefix (closed).
    let mut junk = vec![0, 0, 0x10, 0];
    junk.extend_from_slice(&[0u8; 0x1000]);
    junk.extend_from_slice(&[0, 0, 0, 4, b'x', b'y', b'z', 0]);
    let mut one = bytes::BytesMut::new();
    tokio_util::codec::Encoder::encode(
        &mut OscCodec::new(StreamFraming::LengthPrefix),
        Packet::from(Message::new("/n").arg(1)),
        &mut one,
    )
    .unwrap();
    junk.extend_from_slice(&one);
    junk.extend_from_slice(&[0x80, 0, 0, 0]);
    bad.send(bytes::Bytes::from(junk)).await.unwrap();
    assert_eq!(rx.recv().await, Some(1));
    assert!(
        bad.next().await.is_none(),
        "the server closed the broken connection"
    );
    good.send(Packet::from(Message::new("/n").arg(2)))
        .await
        .unwrap();
    assert_eq!(rx.recv().await, Some(2));
    stopper.stop();
    run.await.unwrap();
}

#[tokio::test]
async fn a_panicking_handler_is_isolated() {
    let d = dispatcher(SchedulerConfig::default());
    let (server, addr) = udp_echo_server(d.clone(), ServerConfig::default()).await;
    d.register("/boom", |_: &Message| panic!("handler panics on purpose"))
        .unwrap();
    let stopper = server.stopper();
    let run = tokio::spawn(server.run());
    let mut client = OscSocket::bind("127.0.0.1:0").await.unwrap();
    client
        .send_to(&Message::new("/boom").into(), addr)
        .await
        .unwrap();
    client
        .send_to(&Message::new("/echo").arg(1).into(), addr)
        .await
        .unwrap();
    assert_eq!(
        recv_owned(&client).await,
        Packet::from(Message::new("/echo").arg(1))
    );
    assert_eq!(d.stats().handler_panics, 1);
    stopper.stop();
    run.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_handler_replies_after_awaiting() {
    let d = dispatcher(SchedulerConfig::default());
    let (server, addr) = udp_echo_server(d.clone(), ServerConfig::default()).await;
    let replier = server.replier();
    d.register(
        "/later",
        async_handler(move |msg: Message, ctx: Context| {
            let replier = replier.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                replier
                    .reply(
                        &ctx,
                        Message::new("/done").arg(msg.args.len() as i32).into(),
                    )
                    .unwrap();
            }
        }),
    )
    .unwrap();
    d.register(
        "/boom",
        async_handler(|_: Message, _: Context| async { panic!("async panic on purpose") }),
    )
    .unwrap();
    let stopper = server.stopper();
    let run = tokio::spawn(server.run());
    let mut client = OscSocket::bind("127.0.0.1:0").await.unwrap();
    client
        .send_to(&Message::new("/boom").into(), addr)
        .await
        .unwrap();
    client
        .send_to(&Message::new("/later").arg(1).arg(2).into(), addr)
        .await
        .unwrap();
    assert_eq!(
        recv_owned(&client).await,
        Packet::from(Message::new("/done").arg(2))
    );
    stopper.stop();
    run.await.unwrap();
}

/// Sends `packet` from a fresh client to `addr`.
async fn send(addr: std::net::SocketAddr, packet: Packet) {
    OscSocket::bind("127.0.0.1:0")
        .await
        .unwrap()
        .send_to(&packet, addr)
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn bundles_wait_for_their_timetag_on_the_paused_clock() {
    let d = dispatcher(SchedulerConfig::default());
    let (tx, mut rx) = mpsc::unbounded_channel();
    d.register(
        "/at",
        Handler::typed(move |n: i32| tx.send((n, Instant::now())).unwrap()),
    )
    .unwrap();
    let (server, addr) = udp_echo_server(d.clone(), ServerConfig::default()).await;
    let clock = server.clock();
    let stopper = server.stopper();
    let run = tokio::spawn(server.run());
    let start = Instant::now();
    // Sent out of order; run in timetag order, each at its time.
    let at = |ms| clock.now() + Duration::from_millis(ms);
    send(
        addr,
        Bundle::new(at(900)).add(Message::new("/at").arg(3)).into(),
    )
    .await;
    send(
        addr,
        Bundle::new(at(300)).add(Message::new("/at").arg(1)).into(),
    )
    .await;
    send(
        addr,
        Bundle::new(at(600)).add(Message::new("/at").arg(2)).into(),
    )
    .await;
    send(addr, Message::new("/at").arg(0).into()).await; // a message runs at once
    for (n, due) in [(0, 0), (1, 300), (2, 600), (3, 900)] {
        let (got, when) = rx.recv().await.unwrap();
        assert_eq!(got, n);
        let elapsed = when - start;
        assert!(
            elapsed + Duration::from_millis(2) >= Duration::from_millis(due)
                && elapsed <= Duration::from_millis(due + 2),
            "/at {n} ran at {elapsed:?}, due at {due} ms"
        );
    }
    assert_eq!(d.stats().bundles_held, 3);
    stopper.stop();
    run.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn late_offset_and_horizon_policies_apply() {
    let d = dispatcher(SchedulerConfig {
        late: LatePolicy::Drop {
            after: Duration::from_millis(100),
        },
        timetag_offset: TimetagOffset::Add(Duration::from_secs(1)),
        max_horizon: Some(Duration::from_secs(60)),
        ..SchedulerConfig::default()
    });
    let (tx, mut rx) = mpsc::unbounded_channel();
    d.register(
        "/at",
        Handler::typed(move |n: i32| tx.send((n, Instant::now())).unwrap()),
    )
    .unwrap();
    let (server, addr) = udp_echo_server(d.clone(), ServerConfig::default()).await;
    let clock = server.clock();
    let stopper = server.stopper();
    let run = tokio::spawn(server.run());
    let start = Instant::now();
    let now = clock.now();
    // 2 s in the past, +1 s offset: 1 s late, beyond 100 ms: dropped.
    send(
        addr,
        Bundle::new(now - Duration::from_secs(2))
            .add(Message::new("/at").arg(1))
            .into(),
    )
    .await;
    // 2 minutes ahead: beyond the horizon, dropped.
    send(
        addr,
        Bundle::new(now + Duration::from_secs(120))
            .add(Message::new("/at").arg(2))
            .into(),
    )
    .await;
    // 1 s in the past, +1 s offset: due now, runs.
    send(
        addr,
        Bundle::new(now - Duration::from_secs(1))
            .add(Message::new("/at").arg(3))
            .into(),
    )
    .await;
    // Due at +0, offset +1 s: runs a second later.
    send(
        addr,
        Bundle::new(now).add(Message::new("/at").arg(4)).into(),
    )
    .await;
    let (n, _) = rx.recv().await.unwrap();
    assert_eq!(n, 3);
    let (n, when) = rx.recv().await.unwrap();
    assert_eq!(n, 4);
    assert!(
        when - start >= Duration::from_millis(998),
        "{:?}",
        when - start
    );
    let stats = d.stats();
    assert_eq!((stats.dropped_late, stats.dropped_horizon), (1, 1));
    stopper.stop();
    run.await.unwrap();
}

/// Shutdown with a bundle due in 50 minutes: never waits for it (real clock).
async fn shutdown_with_a_future_bundle(flush: bool) {
    let d = dispatcher(SchedulerConfig::default());
    let (tx, mut rx) = mpsc::unbounded_channel();
    d.register("/later", Handler::typed(move |n: i32| tx.send(n).unwrap()))
        .unwrap();
    let config = ServerConfig::default().with_shutdown(ShutdownOptions {
        flush_pending: flush,
        ..ShutdownOptions::default()
    });
    let (server, addr) = udp_echo_server(d.clone(), config).await;
    let clock = server.clock();
    let stopper = server.stopper();
    let run = tokio::spawn(server.run());
    send(
        addr,
        Bundle::new(clock.now() + Duration::from_secs(3000))
            .add(Message::new("/later").arg(7))
            .into(),
    )
    .await;
    while d.pending() == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let started = std::time::Instant::now();
    stopper.stop();
    let summary = tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .unwrap()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    if flush {
        assert_eq!((summary.flushed_bundles, summary.dropped_bundles), (1, 0));
        assert_eq!(rx.recv().await, Some(7));
    } else {
        assert_eq!((summary.flushed_bundles, summary.dropped_bundles), (0, 1));
        assert_eq!(d.stats().dropped_shutdown, 1);
    }
    // After shutdown nothing is dispatched.
    assert!(
        d.dispatch_local(Message::new("/later").arg(1).into(), T0)
            .is_err()
    );
}

#[tokio::test]
async fn shutdown_drops_future_bundles_without_waiting() {
    shutdown_with_a_future_bundle(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_flushes_future_bundles_without_waiting() {
    shutdown_with_a_future_bundle(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_writes_replies_of_flushed_bundles_to_tcp_peers() {
    let d = dispatcher(SchedulerConfig::default());
    let config = ServerConfig::default().with_shutdown(ShutdownOptions {
        flush_pending: true,
        ..ShutdownOptions::default()
    });
    let mut server = OscServer::with_config(d.clone(), config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    server.add_tcp("tcp", listener, StreamFraming::Slip, 1 << 20);
    let replier = server.replier();
    d.register(
        "/echo",
        Handler::with_context(move |msg, ctx| replier.reply(ctx, msg.clone().into()).unwrap()),
    )
    .unwrap();
    let clock = server.clock();
    let stopper = server.stopper();
    let run = tokio::spawn(server.run());
    let mut client = Framed::new(
        TcpStream::connect(addr).await.unwrap(),
        OscCodec::new(StreamFraming::Slip),
    );
    let later =
        Bundle::new(clock.now() + Duration::from_secs(600)).add(Message::new("/echo").arg(9));
    client.send(Packet::from(later)).await.unwrap();
    while d.pending() == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    stopper.stop();
    let summary = run.await.unwrap();
    assert_eq!(summary.flushed_bundles, 1);
    let got = client.next().await.unwrap().unwrap().unwrap();
    assert_eq!(got, Packet::from(Message::new("/echo").arg(9)));
    assert!(client.next().await.is_none());
}

#[tokio::test]
async fn reply_without_a_route_is_an_error() {
    let d = dispatcher(SchedulerConfig::default());
    let server = OscServer::new(d);
    let ctx = Context::new(T0)
        .with_channel("nowhere")
        .with_peer("127.0.0.1:9".parse().unwrap());
    let err = server
        .replier()
        .reply(&ctx, Message::new("/x").into())
        .unwrap_err();
    assert!(matches!(err, osc4rs_tokio::Error::NoRoute { .. }), "{err}");
}

/// A TCP server with `config` counting `/n` messages; its address.
async fn tcp_counting_server(
    config: ServerConfig,
) -> (
    osc4rs_tokio::Stopper,
    tokio::task::JoinHandle<osc_dispatch::ShutdownSummary>,
    std::net::SocketAddr,
    mpsc::UnboundedReceiver<i32>,
) {
    let d = dispatcher(SchedulerConfig::default());
    let (tx, rx) = mpsc::unbounded_channel();
    d.register("/n", Handler::typed(move |n: i32| tx.send(n).unwrap()))
        .unwrap();
    let mut server = OscServer::with_config(d, config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    server.add_tcp("tcp", listener, StreamFraming::LengthPrefix, 1024);
    let stopper = server.stopper();
    (stopper, tokio::spawn(server.run()), addr, rx)
}

/// Whether the server closes `stream` within `limit` (reads nothing but an EOF).
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 16];
    matches!(
        tokio::time::timeout(limit, stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limits_are_closed_and_slots_come_back() {
    let mut config = ServerConfig::default();
    config.max_connections = 3;
    config.max_connections_per_source = 2;
    let (stopper, run, addr, mut rx) = tcp_counting_server(config).await;
    let connect = || async {
        Framed::new(
            TcpStream::connect(addr).await.unwrap(),
            OscCodec::new(StreamFraming::LengthPrefix),
        )
    };
    let mut a = connect().await;
    let mut b = connect().await;
    a.send(Packet::from(Message::new("/n").arg(1)))
        .await
        .unwrap();
    b.send(Packet::from(Message::new("/n").arg(2)))
        .await
        .unwrap();
    let mut got = vec![rx.recv().await.unwrap(), rx.recv().await.unwrap()];
    got.sort_unstable();
    assert_eq!(got, [1, 2]);
    // A third from 127.0.0.1 is over the per-address limit: closed at once.
    let mut third = TcpStream::connect(addr).await.unwrap();
    assert!(closed_within(&mut third, Duration::from_secs(5)).await);
    // A slot comes back when a connection ends.
    drop(a);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut c = loop {
        let mut c = connect().await;
        c.send(Packet::from(Message::new("/n").arg(3)))
            .await
            .unwrap();
        if let Ok(Some(3)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            break c;
        }
        assert!(Instant::now() < deadline, "the slot never came back");
    };
    c.send(Packet::from(Message::new("/n").arg(4)))
        .await
        .unwrap();
    assert_eq!(rx.recv().await, Some(4));
    stopper.stop();
    run.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_idle_and_stalled_connections_are_closed_and_the_others_go_on() {
    let mut config = ServerConfig::default();
    config.first_packet_timeout = Some(Duration::from_millis(300));
    config.idle_timeout = Some(Duration::from_millis(1500));
    config.frame_timeout = Some(Duration::from_millis(300));
    let (stopper, run, addr, mut rx) = tcp_counting_server(config).await;
    // Never sends: closed after the first-packet timeout.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    // Sends two bytes of a length prefix, then stalls: closed after the frame timeout.
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    let mut good = Framed::new(
        TcpStream::connect(addr).await.unwrap(),
        OscCodec::new(StreamFraming::LengthPrefix),
    );
    good.send(Packet::from(Message::new("/n").arg(1)))
        .await
        .unwrap();
    assert_eq!(rx.recv().await, Some(1));
    {
        use tokio::io::AsyncWriteExt;
        let mut one = bytes::BytesMut::new();
        tokio_util::codec::Encoder::encode(
            &mut OscCodec::new(StreamFraming::LengthPrefix),
            Packet::from(Message::new("/n").arg(2)),
            &mut one,
        )
        .unwrap();
        stalled.write_all(&one).await.unwrap();
        stalled.write_all(&[0, 0]).await.unwrap();
    }
    assert_eq!(rx.recv().await, Some(2));
    let t0 = Instant::now();
    assert!(
        closed_within(&mut silent, Duration::from_secs(3)).await,
        "silent"
    );
    assert!(
        closed_within(&mut stalled, Duration::from_secs(3)).await,
        "stalled"
    );
    assert!(t0.elapsed() < Duration::from_secs(3));
    // The good connection keeps working while it talks...
    for i in 3..6 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        good.send(Packet::from(Message::new("/n").arg(i)))
            .await
            .unwrap();
        let got = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        assert_eq!(got, Ok(Some(i)), "the good connection was cut");
    }
    // ...and is closed once idle for longer than the idle timeout.
    let end = tokio::time::timeout(Duration::from_secs(5), good.next()).await;
    assert!(matches!(end, Ok(None)), "idle connection closed");
    stopper.stop();
    run.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duration_max_timeouts_mean_never_and_the_server_serves() {
    // `Duration::MAX` added to an `Instant` overflows: each timeout must read it as
    // "never" instead of panicking in the connection's task (which would drop it).
    let mut config = ServerConfig::default();
    config.first_packet_timeout = Some(Duration::MAX);
    config.idle_timeout = Some(Duration::MAX);
    config.frame_timeout = Some(Duration::MAX);
    let (stopper, run, addr, mut rx) = tcp_counting_server(config).await;
    let mut raw = TcpStream::connect(addr).await.unwrap();
    let mut one = bytes::BytesMut::new();
    tokio_util::codec::Encoder::encode(
        &mut OscCodec::new(StreamFraming::LengthPrefix),
        Packet::from(Message::new("/n").arg(1)),
        &mut one,
    )
    .unwrap();
    {
        use tokio::io::AsyncWriteExt;
        // Half a frame first (the frame timer starts), then the rest.
        let (head, tail) = one.split_at(3);
        raw.write_all(head).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        raw.write_all(tail).await.unwrap();
        raw.write_all(&one).await.unwrap();
    }
    for _ in 0..2 {
        let got = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await;
        assert_eq!(got, Ok(Some(1)), "the connection's task died");
    }
    // A second connection is served as well (nothing broke in the accept loop).
    let mut second = Framed::new(
        TcpStream::connect(addr).await.unwrap(),
        OscCodec::new(StreamFraming::LengthPrefix),
    );
    second
        .send(Packet::from(Message::new("/n").arg(2)))
        .await
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await;
    assert_eq!(got, Ok(Some(2)));
    stopper.stop();
    run.await.unwrap();
}
