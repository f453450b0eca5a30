//! `OscUnixSocket`: every type over Unix datagram sockets (bound paths and pairs),
//! bad datagrams, relays.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use osc_codec::{Message, PacketRef};
use osc4rs_tokio::{Error, MAX_DATAGRAM, OscUnixSocket};

/// A fresh socket path in the temporary folder (removed when dropped).
struct TempPath(std::path::PathBuf);

impl TempPath {
    fn new(tag: &str) -> Self {
        let p =
            std::env::temp_dir().join(format!("osc4rs-tokio-{}-{tag}.sock", std::process::id()));
        let _ = std::fs::remove_file(&p);
        TempPath(p)
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_type_over_bound_paths() {
    let (pa, pb) = (TempPath::new("a"), TempPath::new("b"));
    let a = OscUnixSocket::bind(&pa.0).unwrap();
    let mut b = OscUnixSocket::bind(&pb.0).unwrap();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    for p in common::every_type_packets() {
        b.send_to(&p, &pa.0).await.unwrap();
        let (got, from) = a.recv(&mut buf).await.unwrap();
        assert_eq!(got.to_owned(), p);
        assert_eq!(from.as_pathname(), Some(pb.0.as_path()));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn pair_bad_datagram_and_relay() {
    let (a, b) = OscUnixSocket::pair().unwrap();
    b.socket().send(b"junk").await.unwrap();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    assert!(matches!(
        a.recv(&mut buf).await,
        Err(Error::Malformed { .. })
    ));
    // A relay to a bound path, without re-encoding.
    let sink_path = TempPath::new("sink");
    let sink = OscUnixSocket::bind(&sink_path.0).unwrap();
    let mut b = b;
    b.send(&Message::new("/relay").arg(1).into()).await.unwrap();
    let (p, _) = a.recv(&mut buf).await.unwrap();
    a.send_ref_to(p, &sink_path.0).await.unwrap();
    let mut buf2 = vec![0u8; MAX_DATAGRAM];
    let (PacketRef::Message(m), _) = sink.recv(&mut buf2).await.unwrap() else {
        panic!()
    };
    assert_eq!(m.address(), "/relay");
    // A datagram filling the buffer is reported, not cut silently.
    b.send(&Message::new("/big").arg(vec![0u8; 100]).into())
        .await
        .unwrap();
    let mut small = [0u8; 32];
    assert!(matches!(
        a.recv(&mut small).await,
        Err(Error::MaybeTruncated {
            len: 32,
            peer: None
        })
    ));
}
