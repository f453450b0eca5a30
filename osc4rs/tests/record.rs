//! Recording a runtime's traffic from code and replaying it into another runtime, in
//! every mode: the application sees the same messages in the same order.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use osc4rs::record::{Recorder, read_recording, replay_into};
use osc4rs::{Message, Mode, Osc, Packet};

#[derive(Clone, Default)]
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);
impl Write for SharedBuffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn collector(osc: &Osc) -> Arc<Mutex<Vec<String>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    osc.method("/take/*", move |m: &Message| {
        s.lock().unwrap().push(m.to_string())
    })
    .unwrap();
    seen
}

fn pump(osc: &Osc, seen: &Mutex<Vec<String>>, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.lock().unwrap().len() < n && Instant::now() < deadline {
        osc.process_timeout(Duration::from_millis(5)).unwrap();
    }
}

#[test]
fn a_recorded_session_replays_into_another_runtime_in_every_mode() {
    for mode in Mode::ALL {
        let file = SharedBuffer::default();
        let recorder = Recorder::new(file.clone()).unwrap();
        let live = Osc::builder().mode(mode).start().unwrap();
        live.udp_server("in", "127.0.0.1:0").unwrap();
        live.set_hooks("in", Some(recorder.hooks("in")));
        let seen_live = collector(&live);
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..10 {
            let p = Packet::from(Message::new(format!("/take/{i}")).arg(i));
            tx.send_to(&p.to_bytes().unwrap(), live.local_addr("in").unwrap())
                .unwrap();
            std::thread::sleep(Duration::from_millis(3));
        }
        pump(&live, &seen_live, 10);
        live.terminate().unwrap();

        let text = file.0.lock().unwrap().clone();
        let records: Vec<_> = read_recording(&text[..]).map(Result::unwrap).collect();
        assert_eq!(records.len(), 10, "{mode:?}");
        let replay = Osc::builder().mode(mode).start().unwrap();
        let seen_replay = collector(&replay);
        let started = Instant::now();
        assert_eq!(replay_into(&replay, &records, "_local", 1.0).unwrap(), 10);
        assert!(
            started.elapsed() >= records[9].at - records[0].at,
            "{mode:?}: too fast"
        );
        pump(&replay, &seen_replay, 10);
        assert_eq!(
            *seen_replay.lock().unwrap(),
            *seen_live.lock().unwrap(),
            "{mode:?}"
        );
        replay.terminate().unwrap();
    }
}
