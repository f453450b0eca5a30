//! Broadcast and multicast, which must never reach a real network: each test re-runs
//! itself inside a private network namespace (`unshare -n`, as root) holding only `lo`
//! and a veth pair `v0`/`v1` whose two ends are both inside it, and is skipped with a
//! message where that is impossible. Multicast leaves through `v0` (192.0.2.1, a
//! documentation address that exists only inside the namespace), so the loop option
//! can be seen working: with loop off our own listener gets nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use common::{collect, collect_for, pkt};
use osc_channel::{Reactor, UdpConfig};
use osc_test_support::inside_private_netns;

const V0: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

fn v0_index() -> u32 {
    std::env::var("OSC4RS_V0_INDEX")
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn multicast_v4_with_loop_on() {
    if !inside_private_netns("multicast_v4_with_loop_on") {
        return;
    }
    let mut r = Reactor::new().unwrap();
    let group: IpAddr = "239.255.42.1".parse().unwrap();
    let mut scfg = UdpConfig::multicast_server(SocketAddr::new(group, 0));
    scfg.multicast.as_mut().unwrap().interface_v4 = V0;
    let srv = r.open_udp("mc-in", scfg).unwrap();
    let port = r.local_addr(srv).unwrap().port();
    let mut ccfg = UdpConfig::multicast_client(SocketAddr::new(group, port));
    ccfg.multicast.as_mut().unwrap().interface_v4 = V0;
    let cli = r.open_udp("mc-out", ccfg).unwrap();
    for i in 0..5 {
        r.send(cli, pkt(&format!("/mc/{i}")), None).unwrap();
    }
    let got = collect(&mut r, 5);
    assert_eq!(got.len(), 5);
    assert_eq!(got[0].name, "mc-in");
}

#[test]
fn multicast_v4_loop_off_is_applied() {
    if !inside_private_netns("multicast_v4_loop_off_is_applied") {
        return;
    }
    let mut r = Reactor::new().unwrap();
    let group: IpAddr = "239.255.42.2".parse().unwrap();
    let mut scfg = UdpConfig::multicast_server(SocketAddr::new(group, 0));
    scfg.multicast.as_mut().unwrap().interface_v4 = V0;
    let srv = r.open_udp("mc-in", scfg).unwrap();
    let port = r.local_addr(srv).unwrap().port();
    let mut ccfg = UdpConfig::multicast_client(SocketAddr::new(group, port));
    let m = ccfg.multicast.as_mut().unwrap();
    m.interface_v4 = V0;
    m.loop_back = false;
    let cli = r.open_udp("mc-out", ccfg).unwrap();
    r.send(cli, pkt("/not/looped"), None).unwrap();
    let got = collect_for(&mut r, 1, Duration::from_millis(300));
    assert!(
        got.is_empty(),
        "IP_MULTICAST_LOOP off: our own listener must not get it"
    );
    assert_eq!(r.stats(cli).unwrap().snapshot().packets_out, 1);
}

#[test]
fn multicast_v6() {
    if !inside_private_netns("multicast_v6") {
        return;
    }
    let mut r = Reactor::new().unwrap();
    let group: IpAddr = "ff02::4242".parse().unwrap();
    let v0_if = v0_index();
    let mut scfg = UdpConfig::multicast_server(SocketAddr::new(group, 0));
    scfg.multicast.as_mut().unwrap().interface_v6 = v0_if;
    let srv = r.open_udp("mc6-in", scfg).unwrap();
    let port = r.local_addr(srv).unwrap().port();
    let mut ccfg = UdpConfig::multicast_client(SocketAddr::new(group, port));
    ccfg.multicast.as_mut().unwrap().interface_v6 = v0_if;
    let cli = r.open_udp("mc6-out", ccfg).unwrap();
    r.send(cli, pkt("/mc6"), None).unwrap();
    let got = collect(&mut r, 1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, pkt("/mc6").to_vec());
}

#[test]
fn broadcast_on_loopback() {
    if !inside_private_netns("broadcast_on_loopback") {
        return;
    }
    let mut r = Reactor::new().unwrap();
    let srv = r
        .open_udp(
            "bc-in",
            UdpConfig::broadcast_server("0.0.0.0:0".parse().unwrap()),
        )
        .unwrap();
    let port = r.local_addr(srv).unwrap().port();
    let dest = SocketAddr::new("127.255.255.255".parse().unwrap(), port);
    let cli = r
        .open_udp("bc-out", UdpConfig::broadcast_client(dest))
        .unwrap();
    r.send(cli, pkt("/bc"), None).unwrap();
    let got = collect(&mut r, 1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, pkt("/bc").to_vec());
    // Without SO_BROADCAST the kernel refuses to send to a broadcast address.
    let plain = r.open_udp("plain", UdpConfig::client(dest)).unwrap();
    assert!(r.send(plain, pkt("/bc"), None).is_err());
}

/// A connected client keeps the source address it started with; when the host's
/// address changes, every send of that socket fails ("network unreachable") until it
/// is connected anew, which the channel does at the first failure.
#[test]
fn a_connected_client_follows_a_change_of_the_hosts_address() {
    if !inside_private_netns("a_connected_client_follows_a_change_of_the_hosts_address") {
        return;
    }
    let ip = |args: &str| {
        let ok = std::process::Command::new("ip")
            .args(args.split(' '))
            .status()
            .unwrap()
            .success();
        assert!(ok, "ip {args}");
    };
    let mut r = Reactor::new().unwrap();
    // A neighbour on v0's network: the datagrams leave through v0 (nobody answers).
    let dest = SocketAddr::new(Ipv4Addr::new(192, 0, 2, 77).into(), 9000);
    let cli = r.open_udp("out", UdpConfig::client(dest)).unwrap();
    assert_eq!(r.socket_info(cli).unwrap().connected, Some(dest));
    let writer = r.udp_writer(cli).unwrap();
    r.send(cli, pkt("/before"), None).unwrap();
    let before = r.local_addr(cli).unwrap();
    assert_eq!(before.ip(), IpAddr::from(V0));
    ip("addr del 192.0.2.1/24 dev v0");
    ip("addr add 192.0.2.2/24 dev v0");
    for i in 0..3 {
        r.send(cli, pkt(&format!("/after/{i}")), None).unwrap();
        writer.send(pkt(&format!("/after/w{i}")), None).unwrap();
    }
    assert_eq!(r.stats(cli).unwrap().snapshot().packets_out, 7);
    // The address the channel reports is the one it sends from now.
    let after = r.local_addr(cli).unwrap();
    assert_eq!(after.ip(), IpAddr::from(Ipv4Addr::new(192, 0, 2, 2)));
    assert_eq!(r.socket_info(cli).unwrap().local, after);
}
