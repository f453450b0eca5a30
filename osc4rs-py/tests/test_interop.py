"""osc4rs, in every mode, against real peers running as processes of their own, both
directions, over loopback UDP and TCP: python-osc 1.9.3 and osc4py3 1.0.8 (peers.py,
run with this interpreter; osc4py3 receives in each of its modes, and sends in
eventloop mode, the one whose sends work) and liblo 0.31 (oscsend, oscdump). Every
message carries every type the peer has, and the values (and type tags, where the
receiver sees them) are checked.

oscdump listens on every interface (liblo takes a host in its URL for a multicast
group), so the tests that start it run inside a private network namespace."""

import ast
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest

import peers
from conftest import MODES, OSC4PY3_BUGS, free_port, inside_private_netns, load
PEERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers.py")
NO_OSC4PY3_TCP = ("osc4py3 1.0.8 has no TCP channel in its as_* API (its osctcp module "
                  "is marked unfinished)")
NO_SLIP_CLIENT = ("osc_tcp_client writes OSC 1.0 length-prefixed frames: the osc4py3 API "
                  "has no framing option (osc_tcp_server reads both framings)")


@contextmanager
def started(mode):
    """osc4rs.as_<mode>, started; terminated after."""
    m = load("osc4rs", "as_" + mode)
    m.osc_startup()
    try:
        yield m
    finally:
        m.osc_terminate()


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


@pytest.fixture
def osc(mode):
    with started(mode) as m:
        yield m


def need_python_peer(module):
    pytest.importorskip(module, reason=module + " is not installed "
                        "(scripts/install-peers.sh installs it into .venv)")


def need_liblo(tool):
    path = shutil.which(tool)
    if not path:
        pytest.skip("liblo-tools (%s) is not installed (scripts/install-peers.sh)" % tool)
    return path


class Peer(object):
    """A peer process whose stdout lines are read by a thread of ours; killed at exit."""

    def __init__(self, args):
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def line(self, timeout=20.0):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail("the peer printed nothing; stderr: " + self.stderr())

    def stderr(self):
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stderr.read()

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@contextmanager
def peer(*args):
    p = Peer(list(args))
    try:
        yield p
    finally:
        p.close()


def run_until(osc, done, timeout=10.0):
    end = time.monotonic() + timeout
    while not done() and time.monotonic() < end:
        osc.osc_process()
        time.sleep(0.002)


def receiver(osc, transport):
    """A server of ``transport`` on a free loopback port and a method for
    peers.ADDRESS recording (typetags, plain args); (port, received)."""
    if transport == "udp":
        port = free_port()
        osc.osc_udp_server("127.0.0.1", port, "in")
    else:
        port = free_port(socket.SOCK_STREAM)
        osc.osc_tcp_server("127.0.0.1", port, "in")
    om = load("osc4rs", "oscmethod")
    got = []
    osc.osc_method(peers.ADDRESS,
                   lambda tags, data: got.append((tags, [peers.plain(a) for a in data])),
                   argscheme=om.OSCARG_TYPETAGS + om.OSCARG_DATA)
    return port, got


def send_until(osc, chan, packet, peer_process, timeout=20.0):
    """Sends ``packet`` on ``chan`` until the peer prints a line (a TCP client may not
    be connected yet); the line, parsed."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        osc.osc_send(packet, chan)
        run_until(osc, lambda: False, timeout=0.05)
        try:
            return ast.literal_eval(peer_process.lines.get(timeout=0.2))
        except queue.Empty:
            continue
    pytest.fail("the peer printed nothing; stderr: " + peer_process.stderr())


def open_client(osc, transport, port, name="out"):
    if transport == "udp":
        osc.osc_udp_client("127.0.0.1", port, name)
    else:
        osc.osc_tcp_client("127.0.0.1", port, name)


def wait_listening(port, proc):
    """Waits until something accepts TCP connections on 127.0.0.1:port."""
    end = time.monotonic() + 10
    while time.monotonic() < end and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail("the peer never listened on TCP port %d" % port)


# --- python-osc -----------------------------------------------------------------------

# python-osc writes an RGBA from one int; osc4rs reads the four bytes.
PYTHONOSC_EXPECTED = (peers.PYTHONOSC_TAGS,
                      [peers.plain(a) for a in peers.PYTHONOSC_ARGS[:10]]
                      + [[0x11, 0x22, 0x33, 0x44], [1, "a"]])


@pytest.mark.parametrize("transport", ["udp", "tcp1.0", "tcp1.1"])
def test_python_osc_process_sends_to_osc4rs(osc, transport):
    need_python_peer("pythonosc")
    port, got = receiver(osc, transport)
    two = []
    osc.osc_method("/interop/two", lambda *a: two.append(a))
    subprocess.run([sys.executable, PEERS, "pythonosc-send", transport, str(port)],
                   check=True, timeout=30)
    run_until(osc, lambda: got and two)
    assert got == [PYTHONOSC_EXPECTED]
    assert two == [(2,)]


@pytest.mark.parametrize("transport", ["udp", "tcp1.0", "tcp1.1"])
def test_osc4rs_sends_to_python_osc_process(osc, transport):
    need_python_peer("pythonosc")
    if transport == "tcp1.1":
        pytest.skip(NO_SLIP_CLIENT)
    obp = load("osc4rs", "oscbuildparse")
    args = list(peers.PYTHONOSC_ARGS)
    args[9] = obp.OSCmidi(*args[9])
    args[10] = obp.OSCrgba(0x11, 0x22, 0x33, 0x44)
    msg = obp.OSCMessage(peers.ADDRESS, peers.PYTHONOSC_TAGS, args)
    with peer(sys.executable, PEERS, "pythonosc-serve", transport) as p:
        port = int(p.line().split()[1])
        open_client(osc, transport[:3], port)
        got = send_until(osc, "out", msg, p)
    # python-osc gives an RGBA as one int, and no type tags.
    assert got == (peers.ADDRESS, None, [peers.plain(a) for a in peers.PYTHONOSC_ARGS])


# --- osc4py3 --------------------------------------------------------------------------

OSC4PY3_EXPECTED = (peers.OSC4PY3_TAGS, [peers.plain(a) for a in peers.OSC4PY3_ARGS])


@pytest.mark.parametrize("peer_mode", MODES)
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_osc4py3_process_sends_to_osc4rs(osc, transport, peer_mode):
    need_python_peer("osc4py3")
    if transport == "tcp":
        pytest.skip(NO_OSC4PY3_TCP)
    if peer_mode in OSC4PY3_BUGS:
        pytest.skip(OSC4PY3_BUGS[peer_mode])
    port, got = receiver(osc, transport)
    two = []
    osc.osc_method("/interop/two", lambda *a: two.append(a))
    subprocess.run([sys.executable, PEERS, "osc4py3-send", str(port)], check=True,
                   timeout=30)
    run_until(osc, lambda: got and two)
    assert got == [OSC4PY3_EXPECTED]
    assert two == [(2,)]


@pytest.mark.parametrize("peer_mode", MODES)
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_osc4rs_sends_to_osc4py3_process(osc, transport, peer_mode):
    need_python_peer("osc4py3")
    if transport == "tcp":
        pytest.skip(NO_OSC4PY3_TCP)
    obp = load("osc4rs", "oscbuildparse")
    args = list(peers.OSC4PY3_ARGS)
    args[10] = obp.OSCmidi(*args[10])
    args[11] = obp.OSCrgba(*args[11])
    bundle = obp.OSCBundle(obp.OSC_IMMEDIATELY,
                           [obp.OSCMessage(peers.ADDRESS, peers.OSC4PY3_TAGS, args)])
    port = free_port()
    with peer(sys.executable, PEERS, "osc4py3-serve", str(port), peer_mode) as p:
        assert p.line() == "READY"
        open_client(osc, transport, port)
        got = send_until(osc, "out", bundle, p)
    assert got == (peers.ADDRESS,) + OSC4PY3_EXPECTED


# --- liblo ----------------------------------------------------------------------------

# oscsend's types, all of them; 'm' is written as 8 hex digits.
LIBLO_TAGS = "ihfdsScmTFNI"
LIBLO_VALUES = ["1", "5000000000", "0.5", "0.25", "str", "sym", "A", "01020304"]
LIBLO_EXPECTED = ("," + LIBLO_TAGS, [1, 5000000000, 0.5, 0.25, "str", "sym", "A",
                                     [1, 2, 3, 4], True, False, None, "OSCbang"])


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_liblo_oscsend_to_osc4rs(osc, transport):
    oscsend = need_liblo("oscsend")
    port, got = receiver(osc, transport)
    url = "osc.%s://127.0.0.1:%d" % (transport, port)
    subprocess.run([oscsend, url, peers.ADDRESS, LIBLO_TAGS] + LIBLO_VALUES, check=True,
                   timeout=30)
    run_until(osc, lambda: got)
    assert got == [LIBLO_EXPECTED]


# liblo 0.31 refuses messages with an RGBA or an array; osc4rs writes a 'c' argument
# the way osc4py3 does (the character in the first byte), which liblo reads as NUL.
TO_LIBLO_TAGS = ",ihfdsSmTFNIb"
TO_LIBLO_LINE = ('/interop/values ihfdsSmTFNIb 1 5000000000 0.500000 0.250000 "str" '
                 "'sym MIDI [0x01 0x02 0x03 0x04] #T #F Nil Infinitum [4b 0x1 0x2 0x61 0x62]")


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_osc4rs_sends_to_liblo_oscdump(request, mode, transport):
    if not inside_private_netns(request):
        return
    oscdump = need_liblo("oscdump")
    obp = load("osc4rs", "oscbuildparse")
    msg = obp.OSCMessage(peers.ADDRESS, TO_LIBLO_TAGS,
                         [1, 5000000000, 0.5, 0.25, "str", "sym", obp.OSCmidi(1, 2, 3, 4),
                          True, False, None, obp.OSC_INFINITUM, b"\x01\x02ab"])
    port = free_port(socket.SOCK_STREAM if transport == "tcp" else socket.SOCK_DGRAM)
    with started(mode) as osc, peer(oscdump, "-L", "osc.%s://:%d" % (transport, port)) as p:
        if transport == "tcp":
            wait_listening(port, p.proc)
        open_client(osc, transport, port)
        end = time.monotonic() + 20
        line = None
        while line is None and time.monotonic() < end:
            osc.osc_send(msg, "out")
            run_until(osc, lambda: False, timeout=0.05)
            try:
                line = p.lines.get(timeout=0.2)
            except queue.Empty:
                pass
    assert line is not None, "oscdump printed nothing"
    # oscdump prints the arrival time first.
    assert line.split(" ", 1)[1] == TO_LIBLO_LINE
