"""osc_multicast_* and osc_broadcast_* (and their ttl), in every mode, osc4py3 1.0.8
against osc4rs. Each test re-runs itself inside a private network namespace
(conftest.inside_private_netns: only lo, with multicast and a route for 224.0.0.0/4),
so no datagram reaches a real network: multicast goes to 239.255.42.7 over lo,
broadcast to 127.255.255.255."""

import logging
import select
import socket
import struct
import time
from contextlib import contextmanager

import pytest

from conftest import MODES, OSC4PY3_BUGS, free_port, inside_private_netns, load

GROUP = "239.255.42.7"
BROADCAST = "127.255.255.255"
# Linux's IP_RECVTTL (Python's socket module does not name it).
IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


@contextmanager
def started(lib, mode):
    """The as_<mode> module of the library under test, started; terminated after."""
    m = load(lib, "as_" + mode)
    m.osc_startup(logger=logging.getLogger("osc-test"))
    try:
        yield m
    finally:
        m.osc_terminate()


def skip_known_bugs(lib, mode):
    if lib == "osc4py3" and mode in OSC4PY3_BUGS:
        pytest.skip(OSC4PY3_BUGS[mode])


def run_until(osc, done, timeout=5.0):
    end = time.monotonic() + timeout
    while not done() and time.monotonic() < end:
        osc.osc_process()
        time.sleep(0.002)
    end = time.monotonic() + 0.05  # a little longer, to see duplicates
    while time.monotonic() < end:
        osc.osc_process()
        time.sleep(0.002)


def round_trip(lib, osc, server, client, host_in, host_out):
    """A server and a client of the same kind on one port; what a message sent
    through the client brings to the server's method."""
    obp = load(lib, "oscbuildparse")
    port = free_port()
    server(host_in, port, "in")
    client(host_out, port, "out")
    got = []
    osc.osc_method("/cast", lambda *a: got.append(a))
    osc.osc_send(obp.OSCMessage("/cast", None, [1, 2.5, "x"]), "out")
    run_until(osc, lambda: got)
    return got


def test_multicast_round_trip(request, lib, mode):
    skip_known_bugs(lib, mode)
    if not inside_private_netns(request):
        return
    with started(lib, mode) as osc:
        got = round_trip(lib, osc, osc.osc_multicast_server, osc.osc_multicast_client,
                         GROUP, GROUP)
    assert got == [(1, 2.5, "x")]


def test_broadcast_round_trip(request, lib, mode):
    skip_known_bugs(lib, mode)
    if not inside_private_netns(request):
        return
    with started(lib, mode) as osc:
        got = round_trip(lib, osc, osc.osc_broadcast_server, osc.osc_broadcast_client,
                         "0.0.0.0", BROADCAST)
    assert got == [(1, 2.5, "x")]


def ttl_listener(kind, port):
    """A plain socket on ``port`` that reports each datagram's TTL (IP_RECVTTL),
    joined to GROUP for multicast."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    if kind == "multicast":
        mreq = struct.pack("4s4s", socket.inet_aton(GROUP), socket.inet_aton("0.0.0.0"))
        s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    return s


def received_ttls(process, sock, count):
    """{OSC address: TTL} of the first ``count`` datagrams ``sock`` receives, calling
    ``process()`` meanwhile (osc4py3's eventloop mode writes in osc_process())."""
    ttls = {}
    end = time.monotonic() + 5
    while len(ttls) < count and time.monotonic() < end:
        process()
        if not select.select([sock], [], [], 0.01)[0]:
            continue
        data, ancillary, _, _ = sock.recvmsg(65536, socket.CMSG_SPACE(4))
        ttl = [struct.unpack("i", d[:4])[0] for level, kind, d in ancillary
               if level == socket.IPPROTO_IP and kind == socket.IP_TTL]
        ttls[data.split(b"\0", 1)[0].decode()] = ttl[0] if ttl else None
    return ttls


@pytest.mark.parametrize("kind", ["multicast", "broadcast"])
def test_client_ttl_is_the_packets_ttl(request, lib, mode, kind):
    skip_known_bugs(lib, mode)
    if lib == "osc4py3" and kind == "broadcast":
        pytest.skip("osc4py3 1.0.8 sets a broadcast client's ttl as IP_MULTICAST_TTL, "
                    "which broadcasts do not use")
    if not inside_private_netns(request):
        return
    obp = load(lib, "oscbuildparse")
    port = free_port()
    sock = ttl_listener(kind, port)
    dest = GROUP if kind == "multicast" else BROADCAST
    try:
        with started(lib, mode) as osc:
            client = getattr(osc, "osc_%s_client" % kind)
            client(dest, port, "default")  # osc4py3's default ttl is 1
            client(dest, port, "five", ttl=5)
            client(dest, port, "many", 200)
            client(dest, port, "system", None)  # the system's default
            for name in ("default", "five", "many", "system"):
                osc.osc_send(obp.OSCMessage("/" + name, None, []), name)
            ttls = received_ttls(osc.osc_process, sock, 4)
    finally:
        sock.close()
    # Linux's defaults: 1 for multicast, net.ipv4.ip_default_ttl (64) otherwise.
    system = 1 if kind == "multicast" else 64
    assert ttls == {"/default": 1, "/five": 5, "/many": 200, "/system": system}


@pytest.mark.parametrize("kind", ["multicast", "broadcast"])
def test_osc_object_client_ttl(request, kind):
    if not inside_private_netns(request):
        return
    from osc4rs import Osc, OSCMessage

    port = free_port()
    sock = ttl_listener(kind, port)
    dest = GROUP if kind == "multicast" else BROADCAST
    try:
        with Osc("eventloop") as osc:
            getattr(osc, kind + "_client")("out", dest, port, ttl=7)
            server = getattr(osc, kind + "_server")
            server("in", GROUP if kind == "multicast" else "0.0.0.0", port)
            got = []
            osc.method("/t")(lambda: got.append(1))
            osc.send(OSCMessage("/t", None, []), "out")
            end = time.monotonic() + 5
            while not got and time.monotonic() < end:
                osc.process(timeout=0.01)
            ttls = received_ttls(osc.process, sock, 1)
    finally:
        sock.close()
    assert got == [1]
    assert ttls == {"/t": 7}
