//! A UDP-to-channel bridge: one task reads OSC datagrams (borrowed, no allocation per
//! packet), keeps the ones it wants as owned packets and hands them to another tokio
//! task through a bounded channel; when that task falls behind, packets are dropped
//! and counted rather than queued without bound.
//!
//! `cargo run -p osc4rs-tokio --example udp_bridge -- 127.0.0.1:9000` bridges until
//! Ctrl-C; without an address it sends itself five messages and exits.

use std::net::SocketAddr;

use osc_codec::{Message, Packet, PacketRef};
use osc4rs_tokio::{MAX_DATAGRAM, OscSocket};
use tokio::sync::mpsc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let serve = std::env::args().nth(1);
    let socket = OscSocket::bind(serve.as_deref().unwrap_or("127.0.0.1:0")).await?;
    let local = socket.local_addr()?;
    println!("bridging udp {local}");

    let (tx, mut rx) = mpsc::channel::<(Packet, SocketAddr)>(256);
    let reader = tokio::spawn(async move {
        let mut buf = vec![0; MAX_DATAGRAM];
        let mut dropped = 0u64;
        loop {
            match socket.recv(&mut buf).await {
                Ok((packet, from)) => {
                    // Filter on the borrowed view; copy only what is forwarded.
                    if let PacketRef::Message(m) = packet {
                        if m.address().starts_with("/ignore") {
                            continue;
                        }
                    }
                    match tx.try_send((packet.to_owned(), from)) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(_)) => dropped += 1,
                        Err(mpsc::error::TrySendError::Closed(_)) => break,
                    }
                }
                Err(e) if e.is_fatal() => return Err(e),
                Err(e) => eprintln!("skipped: {e}"),
            }
        }
        println!("reader done ({dropped} dropped)");
        Ok(())
    });

    let consumer = tokio::spawn(async move {
        let mut n = 0;
        while let Some((packet, from)) = rx.recv().await {
            n += 1;
            println!("{from}: {packet}");
            if n == 5 {
                break; // the demo's end; a real consumer runs until the channel closes
            }
        }
    });

    if serve.is_some() {
        tokio::signal::ctrl_c().await?;
    } else {
        let mut client = OscSocket::bind("127.0.0.1:0").await?;
        client
            .send_to(&Message::new("/ignore/me").into(), local)
            .await?;
        for i in 0..5 {
            client
                .send_to(&Message::new("/bridge").arg(i).into(), local)
                .await?;
        }
        consumer.await?;
    }
    reader.abort();
    Ok(())
}
