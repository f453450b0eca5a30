//! The least a UDP <-> WebSocket relay can do per message, for `scripts/bench-bridge.py`
//! to measure beside `osc4rs bridge` and osc.js's relay: no poll, no queue, no
//! decoding, no routing. Two threads block in the kernel, one per direction: a UDP
//! datagram is received and written as one binary WebSocket message to the one client;
//! a message from the client is read and sent to the last UDP sender. Per relayed
//! message that is one receive and one send system call per hop and no `epoll_wait`,
//! which no event loop goes below. The WebSocket handshake and frames are tungstenite's.
//!
//! ```text
//! cargo build --release -p osc4rs-benches --bin relay_floor
//! target/release/relay_floor UDP_PORT WS_PORT     # prints "listening", serves one client
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::{Arc, Mutex};

use tungstenite::protocol::Role;
use tungstenite::{Message, WebSocket};

fn main() {
    let args: Vec<u16> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("UDP_PORT WS_PORT"))
        .collect();
    let (udp_port, ws_port) = (args[0], args[1]);
    let udp = Arc::new(UdpSocket::bind(("127.0.0.1", udp_port)).unwrap());
    let listener = TcpListener::bind(("127.0.0.1", ws_port)).unwrap();
    println!("listening");
    let (stream, _) = listener.accept().unwrap();
    stream.set_nodelay(true).unwrap();
    let writer_stream = stream.try_clone().unwrap();
    // The handshake, on the reading side; the client sends nothing before it is done.
    let mut reader = tungstenite::accept(stream).unwrap();
    let mut writer = WebSocket::from_raw_socket(writer_stream, Role::Server, None);
    let last_sender: Arc<Mutex<Option<SocketAddr>>> = Arc::default();

    let (u, last) = (Arc::clone(&udp), Arc::clone(&last_sender));
    let to_ws = std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        loop {
            let (n, from) = u.recv_from(&mut buf).unwrap();
            *last.lock().unwrap() = Some(from);
            if writer.send(Message::binary(buf[..n].to_vec())).is_err() {
                return;
            }
        }
    });
    loop {
        match reader.read() {
            Ok(Message::Binary(data)) => {
                if let Some(to) = *last_sender.lock().unwrap() {
                    udp.send_to(&data, to).unwrap();
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    drop(to_ws);
}
