//! Every example of the osc4py3 documentation (`shared/osc4py3-doc.txt`: "Simple use"
//! and the `oscbuildparse` examples) through `osc4rs::as_eventloop` and the codec's
//! osc4py3 names, with only the Rust syntax changed: loopback addresses for the
//! documentation's LAN ones, chosen ports, Rust literals (`8.871f32` where osc4py3's
//! automatic typing makes a Python float an `f`), closures for handler functions. The
//! encoded bytes are compared with the documentation's hex dumps.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use osc4rs::codec::{TimeTag, Value, decode_packet, dumphex_buffer, encode_packet};
use osc4rs::{Bundle, Handler, Message, Packet};

#[test]
fn simple_use() {
    use osc4rs::as_eventloop::*;
    // osc_startup()
    osc_startup().unwrap();
    // osc_udp_server("192.168.0.0", 3721, "aservername")
    // osc_udp_server("0.0.0.0", 3724, "anotherserver")
    osc_udp_server("127.0.0.1", 0, "aservername").unwrap();
    osc_udp_server("127.0.0.1", 0, "anotherserver").unwrap();
    let port = osc_runtime()
        .unwrap()
        .local_addr("aservername")
        .unwrap()
        .port();
    // osc_udp_client("192.168.0.4", 2781, "aclientname")
    osc_udp_client("127.0.0.1", port, "aclientname").unwrap();

    // osc_method("/test", handlerfunction): the arguments as parameters.
    let args: Arc<Mutex<Vec<(String, i32, f32)>>> = Arc::default();
    let a = Arc::clone(&args);
    osc_method(
        "/test",
        Handler::typed(move |s: String, i: i32, f: f32| a.lock().unwrap().push((s, i, f))),
    )
    .unwrap();
    // osc_method("/test", handlerfunction2, needaddress=True): the address first.
    let addresses: Arc<Mutex<Vec<String>>> = Arc::default();
    let b = Arc::clone(&addresses);
    osc_method("/test", move |m: &Message| {
        b.lock().unwrap().push(m.address.clone())
    })
    .unwrap();

    // msg = oscbuildparse.OSCMessage("/test/me/", ",sif", ["text", 672, 8.871])
    // osc_send(msg, "aclientname")
    let msg = Message::with_tags(
        "/test/me/",
        ",sif",
        vec!["text".into(), 672.into(), 8.871.into()],
    )
    .unwrap();
    osc_send(msg, "aclientname").unwrap();
    // msg = oscbuildparse.OSCMessage("/test/me/", None, ["text", 672, 8.871])
    let msg = Message::new("/test/me/").arg("text").arg(672).arg(8.871f32);
    osc_send(msg, "aclientname").unwrap();

    // osc_process() in the event loop.
    let deadline = Instant::now() + Duration::from_secs(5);
    while (args.lock().unwrap().len() < 2 || addresses.lock().unwrap().len() < 2)
        && Instant::now() < deadline
    {
        osc_process().unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
    let want = ("text".to_owned(), 672, 8.871f32);
    assert_eq!(*args.lock().unwrap(), [want.clone(), want]);
    assert_eq!(*addresses.lock().unwrap(), ["/test/me/", "/test/me/"]);
    // osc_terminate()
    osc_terminate().unwrap();
}

/// The hex column of a `dumphex_buffer` dump, without spaces.
fn hex_column(dump: &str) -> String {
    dump.lines()
        .map(|l| l[4..44].replace(' ', ""))
        .collect::<Vec<_>>()
        .concat()
}

#[test]
fn array_arguments() {
    // Type tags ',ii[iiii]', arguments [3, 1, [4, 2, 8, 9]]
    let msg = Message::with_tags(
        "/array",
        ",ii[iiii]",
        vec![3.into(), 1.into(), vec![4, 2, 8, 9].into()],
    )
    .unwrap();
    let raw = encode_packet(&msg.clone().into()).unwrap();
    // The same message with automatic typing: a vector is an array.
    let auto = Message::new("/array").arg(3).arg(1).arg(vec![4, 2, 8, 9]);
    assert_eq!(encode_packet(&auto.into()).unwrap(), raw);
    // Decoded, the array comes back as one argument holding four (osc4py3: a tuple).
    let Packet::Message(back) = decode_packet(&raw).unwrap() else {
        panic!("not a message")
    };
    assert_eq!(back.type_tags(), ",ii[iiii]");
    assert_eq!(
        back.args,
        vec![
            Value::Int(3),
            Value::Int(1),
            Value::Array(vec![
                Value::Int(4),
                Value::Int(2),
                Value::Int(8),
                Value::Int(9)
            ])
        ]
    );
    assert_eq!(back, msg);
}

#[test]
fn message_with_explicit_tags() {
    // msg = OSCMessage('/my/pattern',',iisf',[1,3,"a string",11.3])
    let msg = Message::with_tags(
        "/my/pattern",
        ",iisf",
        vec![1.into(), 3.into(), "a string".into(), 11.3.into()],
    )
    .unwrap();
    // raw = encode_packet(msg)
    let raw = encode_packet(&msg.clone().into()).unwrap();
    // dumphex_buffer(raw)
    let dump = dumphex_buffer(&raw);
    assert!(
        dump.starts_with("000:2f6d792f 70617474 65726e00 2c696973"),
        "{dump}"
    );
    let doc = [
        "2f6d792f 70617474 65726e00 2c696973",
        "66000000 00000001 00000003 61207374",
        "72696e67 00000000 4134cccd",
    ];
    assert_eq!(hex_column(&dump), doc.concat().replace(' ', ""));
    // decode_packet(raw)
    let Packet::Message(back) = decode_packet(&raw).unwrap() else {
        panic!("not a message")
    };
    assert_eq!(back.address, "/my/pattern");
    assert_eq!(back.type_tags(), ",iisf");
    assert_eq!(back.args[3], Value::Float(11.3));
    assert_eq!(
        f64::from(back.args[3].as_f32().unwrap()),
        11.300000190734863
    );
}

#[test]
fn bundle_with_a_time() {
    // bun = OSCBundle(unixtime2timetag(time.time()+1), [OSCMessage("/first/message",
    //       ",ii",[1,2]), OSCMessage("/second/message",",fT",[4.5,True])])
    let later = TimeTag::from_unix_secs_f64(TimeTag::now().to_unix_secs_f64() + 1.0);
    assert!(later > TimeTag::now());
    // The documentation's run happened at 0xd2c3e04f.455a9000: the same bytes follow.
    let bun = Bundle::new(TimeTag::new(0xd2c3_e04f, 0x455a_9000))
        .add(Message::with_tags("/first/message", ",ii", vec![1.into(), 2.into()]).unwrap())
        .add(Message::with_tags("/second/message", ",fT", vec![4.5.into(), true.into()]).unwrap());
    let raw = encode_packet(&bun.clone().into()).unwrap();
    // The documentation's dump, line by line.
    let doc = [
        "2362756e 646c6500 d2c3e04f 455a9000",
        "0000001c 2f666972 73742f6d 65737361",
        "67650000 2c696900 00000001 00000002",
        "00000018 2f736563 6f6e642f 6d657373",
        "61676500 2c665400 40900000",
    ];
    assert_eq!(
        hex_column(&dumphex_buffer(&raw)),
        doc.concat().replace(' ', "")
    );
    assert_eq!(decode_packet(&raw).unwrap(), Packet::from(bun));
}

#[test]
fn automatic_typing() {
    // msg = OSCMessage("/shortcut/with/typedetection", None, [True, OSC_BANG, 12, 11.3])
    let msg = Message::new("/shortcut/with/typedetection")
        .arg(true)
        .arg(Value::Inf)
        .arg(12)
        .arg(11.3f32);
    let raw = encode_packet(&msg.clone().into()).unwrap();
    let doc = [
        "2f73686f 72746375 742f7769 74682f74",
        "79706564 65746563 74696f6e 00000000",
        "2c544969 66000000 0000000c 4134cccd",
    ];
    assert_eq!(
        hex_column(&dumphex_buffer(&raw)),
        doc.concat().replace(' ', "")
    );
    let Packet::Message(back) = decode_packet(&raw).unwrap() else {
        panic!("not a message")
    };
    assert_eq!(back.type_tags(), ",TIif");
    assert_eq!(back, msg);
}
