"""osc4rs (every mode) against real peers over loopback UDP: python-osc both ways,
liblo's oscsend into osc4rs."""

import shutil
import subprocess
import threading
import time

import pytest

from conftest import free_port, load

MODES = ["eventloop", "comthreads", "allthreads"]


@pytest.fixture(params=MODES)
def osc(request):
    """osc4rs.as_<mode>, started; terminated after."""
    m = load("osc4rs", "as_" + request.param)
    m.osc_startup()
    yield m
    m.osc_terminate()


def run_until(osc, done, timeout=5.0):
    end = time.monotonic() + timeout
    while not done() and time.monotonic() < end:
        osc.osc_process()
        time.sleep(0.002)


def test_python_osc_to_osc4rs(osc):
    udp_client = pytest.importorskip("pythonosc.udp_client")
    port = free_port()
    osc.osc_udp_server("127.0.0.1", port, "srv")
    got = []
    osc.osc_method("/po", lambda *a: got.append(a))
    udp_client.SimpleUDPClient("127.0.0.1", port).send_message("/po", [1, 2.5, "three"])
    run_until(osc, lambda: got)
    assert got == [(1, 2.5, "three")]


def test_osc4rs_to_python_osc(osc):
    pytest.importorskip("pythonosc")
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import ThreadingOSCUDPServer

    obp = load("osc4rs", "oscbuildparse")
    got = []
    d = Dispatcher()
    d.map("/to/po", lambda addr, *args: got.append((addr,) + args))
    server = ThreadingOSCUDPServer(("127.0.0.1", 0), d)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        osc.osc_udp_client("127.0.0.1", server.server_address[1], "po")
        osc.osc_send(obp.OSCMessage("/to/po", None, [7, "x", True]), "po")
        run_until(osc, lambda: got)
    finally:
        server.shutdown()
        server.server_close()
    assert got == [("/to/po", 7, "x", True)]


def test_liblo_oscsend_to_osc4rs(osc):
    oscsend = shutil.which("oscsend")
    if not oscsend:
        pytest.skip("liblo-tools (oscsend) not installed (scripts/install-peers.sh)")
    port = free_port()
    osc.osc_udp_server("127.0.0.1", port, "srv")
    got = []
    osc.osc_method("/lo", lambda *a: got.append(a))
    subprocess.run([oscsend, "127.0.0.1", str(port), "/lo", "ifs", "4", "0.5", "liblo"],
                   check=True, timeout=10)
    run_until(osc, lambda: got)
    assert got == [(4, 0.5, "liblo")]
