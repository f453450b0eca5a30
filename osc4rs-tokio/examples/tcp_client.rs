//! A TCP client that reconnects: it sends a message every 100 ms over a framed TCP
//! connection (OSC 1.0 length prefix), prints the replies, and when the connection
//! fails or closes it reconnects with exponential backoff (100 ms doubling to 5 s),
//! resending nothing that was lost.
//!
//! `cargo run -p osc4rs-tokio --example tcp_client -- 127.0.0.1:9000` talks to a
//! server (the `echo_server` example, for one); without an address it starts a local
//! echo server that drops the first connection, to show the reconnection, and exits
//! after five replies.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use osc_codec::{Message, Packet};
use osc4rs_tokio::{OscCodec, StreamFraming};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;

const INITIAL_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One connection's life: returns how many replies it got before it ended.
async fn session(
    addr: SocketAddr,
    seq: &mut i32,
    wanted: usize,
) -> Result<usize, osc4rs_tokio::Error> {
    let stream = TcpStream::connect(addr).await?;
    let mut framed = Framed::new(stream, OscCodec::new(StreamFraming::LengthPrefix));
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut replies = 0;
    while replies < wanted {
        tokio::select! {
            _ = tick.tick() => {
                *seq += 1;
                framed.send(Packet::from(Message::new("/ping").arg(*seq))).await?;
            }
            item = framed.next() => match item {
                Some(Ok(Ok(packet))) => {
                    println!("reply: {packet}");
                    replies += 1;
                }
                Some(Ok(Err(bad))) => eprintln!("skipped: {bad}"),
                Some(Err(e)) => return Err(e),
                None => {
                    println!("server closed the connection");
                    break;
                }
            },
        }
    }
    Ok(replies)
}

/// A local echo server that closes its first connection after one reply.
async fn demo_server() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let mut first = true;
        while let Ok((stream, _)) = listener.accept().await {
            let limit = if first { 1 } else { usize::MAX };
            first = false;
            tokio::spawn(async move {
                let mut framed = Framed::new(stream, OscCodec::new(StreamFraming::Auto));
                let mut n = 0;
                while let Some(Ok(Ok(packet))) = framed.next().await {
                    if framed.send(packet).await.is_err() {
                        break;
                    }
                    n += 1;
                    if n >= limit {
                        break;
                    }
                }
            });
        }
    });
    Ok(addr)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (addr, wanted) = match std::env::args().nth(1) {
        Some(a) => (a.parse()?, usize::MAX),
        None => (demo_server().await?, 5),
    };
    let mut backoff = INITIAL_BACKOFF;
    let mut seq = 0;
    let mut got = 0;
    while got < wanted {
        match session(addr, &mut seq, wanted - got).await {
            Ok(n) => {
                got += n;
                if n > 0 {
                    backoff = INITIAL_BACKOFF;
                }
            }
            Err(e) => eprintln!("connection to {addr}: {e}"),
        }
        if got < wanted {
            println!("reconnecting in {backoff:?}");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
    println!("done: {got} replies");
    Ok(())
}
