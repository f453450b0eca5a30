//! The stream machine speaking WebSocket, two machines wired back to back.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;

fn peer() -> SocketAddr {
    "127.0.0.1:9".parse().unwrap()
}

/// Moves what `from` has to write into `to`, delivering packets to `got`.
fn pump(from: &mut StreamMachine, to: &mut StreamMachine, got: &mut Vec<Vec<u8>>) -> Deframed {
    let bytes = from.to_write().to_vec();
    from.wrote(bytes.len());
    to.on_bytes(Instant::now(), &bytes, usize::MAX, |p| got.push(p.to_vec()))
}

#[test]
fn a_websocket_client_and_server_machine_talk_without_sockets() {
    let limits = StreamLimits::default();
    let mut client =
        StreamMachine::websocket_client(peer(), "ws://127.0.0.1:9/osc", limits).unwrap();
    let mut server = StreamMachine::new(peer(), StreamFraming::Auto, limits);
    client.queue(b"/early\0\0,\0\0\0").unwrap();
    let (mut at_server, mut at_client) = (Vec::new(), Vec::new());
    for _ in 0..4 {
        let r = pump(&mut client, &mut server, &mut at_server);
        assert!(r.malformed.is_none(), "{r:?}");
        let r = pump(&mut server, &mut client, &mut at_client);
        assert!(r.malformed.is_none(), "{r:?}");
    }
    assert_eq!(server.framing(), StreamFraming::WebSocket);
    assert_eq!(at_server, [b"/early\0\0,\0\0\0".to_vec()]);
    server.queue(b"/back\0\0\0,\0\0\0").unwrap();
    pump(&mut server, &mut client, &mut at_client);
    assert_eq!(at_client, [b"/back\0\0\0,\0\0\0".to_vec()]);
    assert_eq!((server.buffered(), client.buffered()), (0, 0));
}
