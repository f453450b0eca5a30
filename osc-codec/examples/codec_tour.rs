//! A tour of the codec: build a message and a bundle, encode them, hex-dump the bytes,
//! decode them back (borrowed and owned) and print them in OSC text notation.
//!
//! Run with `cargo run -p osc-codec --example codec_tour`. Given files of raw packet
//! bytes (what another program sent: `cargo run -p osc-codec --example codec_tour --
//! packet.bin`), it parses each one instead and prints it in text notation.

use std::time::Duration;

use osc_codec::{ArgRef, Bundle, Packet, PacketRef, Rgba, TimeTag, decode, dumphex, osc_message};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if !files.is_empty() {
        return parse_files(&files);
    }
    tour()?;
    Ok(())
}

/// Parses packets that other programs wrote (one raw packet per file).
fn parse_files(files: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    for file in files {
        let bytes = std::fs::read(file)?;
        // Zero-copy: the view borrows `bytes`; every argument is checked.
        let packet = decode(&bytes).map_err(|e| format!("{file}: {e}"))?;
        println!("{packet}");
        if let PacketRef::Message(m) = packet {
            println!(
                "  {} argument(s), type tags {}",
                m.args().count(),
                m.type_tags()
            );
        }
    }
    Ok(())
}

fn tour() -> Result<(), osc_codec::Error> {
    let msg = osc_message!("/synth/1/freq", 440, 0.5f32, "sine");
    let bundle = Bundle::new(TimeTag::now() + Duration::from_millis(250))
        .add(msg.clone())
        .add(osc_message!(
            "/synth/1/color",
            Rgba::new(255, 128, 0, 255),
            vec![1, 2, 3],
            true
        ));

    for packet in [Packet::from(msg), Packet::from(bundle)] {
        let bytes = packet.to_bytes()?;
        println!("{packet}");
        println!("{} bytes:", bytes.len());
        print!("{}", dumphex(&bytes));

        // Zero-copy decode: strings and blobs are slices of `bytes`.
        match decode(&bytes)? {
            PacketRef::Message(m) => {
                let floats: Vec<f32> = m.args().filter_map(|a| a.as_f32()).collect();
                println!("decoded message {} with float args {floats:?}", m.address());
            }
            PacketRef::Bundle(b) => {
                println!("decoded bundle due at {:?}", b.timetag().to_system_time());
                for e in b.elements() {
                    if let PacketRef::Message(m) = e {
                        let first = m.args().next().unwrap_or(ArgRef::Nil);
                        println!("  element {} first arg {first:?}", m.address());
                    }
                }
            }
        }
        // Owned decode gives the same packet back.
        assert_eq!(Packet::decode(&bytes)?, packet);
        println!();
    }
    println!("round trips: ok");
    Ok(())
}
