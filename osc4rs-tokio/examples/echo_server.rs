//! An async echo server: every message received over UDP or TCP (either framing) is
//! sent back to its sender with the address prefixed by `/echo`.
//!
//! `cargo run -p osc4rs-tokio --example echo_server -- 127.0.0.1:9000` serves until
//! Ctrl-C; without an address it binds a free port, checks itself once and exits.

use std::sync::Arc;

use osc_codec::{Message, PacketRef};
use osc_dispatch::{Dispatcher, DispatcherConfig, Handler, MethodOptions};
use osc4rs_tokio::{MAX_DATAGRAM, OscServer, OscSocket, StreamFraming};
use tokio::net::TcpListener;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let serve = std::env::args().nth(1);
    let addr = serve.clone().unwrap_or_else(|| "127.0.0.1:0".to_owned());

    let dispatcher = Arc::new(Dispatcher::new(DispatcherConfig::default()));
    let mut server = OscServer::new(dispatcher.clone());
    let udp = OscSocket::bind(&addr).await?;
    let local = udp.local_addr()?;
    let tcp = TcpListener::bind(local).await?;
    server.add_udp("udp", &udp);
    server.add_tcp("tcp", tcp, StreamFraming::Auto, 1 << 20);

    // Every message that no method takes comes to the fallback: echo it.
    let replier = server.replier();
    dispatcher.set_fallback(
        Some(Handler::with_context(move |msg, ctx| {
            let echo = Message {
                address: format!("/echo{}", msg.address),
                ..msg.clone()
            };
            if let Err(e) = replier.reply(ctx, echo.into()) {
                eprintln!("reply to {:?}: {e}", ctx.peer);
            }
        })),
        MethodOptions::default(),
    );
    let stopper = server.stopper();
    let running = tokio::spawn(server.run());
    println!("echoing on udp and tcp {local}");

    if serve.is_some() {
        tokio::signal::ctrl_c().await?;
    } else {
        let mut client = OscSocket::bind("127.0.0.1:0").await?;
        client
            .send_to(&Message::new("/hello").arg(1).into(), local)
            .await?;
        let mut buf = vec![0; MAX_DATAGRAM];
        if let (PacketRef::Message(m), _) = client.recv(&mut buf).await? {
            println!("got {} {:?}", m.address(), m.args().collect::<Vec<_>>());
        }
    }
    stopper.stop();
    let summary = running.await?;
    println!("stopped: {summary:?}");
    Ok(())
}
