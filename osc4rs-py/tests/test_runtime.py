"""Differential tests of the as_* modules over loopback UDP and TCP: handler
arguments for the argument schemes, in every mode, osc4py3 1.0.8 against osc4rs."""

import logging
import time

import pytest

from conftest import MODES, OSC4PY3_BUGS, free_port, load


@pytest.fixture(params=MODES)
def mode(request):
    """The scheduling mode under test."""
    return request.param


@pytest.fixture
def osc(lib, mode):
    """The as_<mode> module of the library under test, started; terminated after."""
    if lib == "osc4py3" and mode in OSC4PY3_BUGS:
        pytest.skip(OSC4PY3_BUGS[mode])
    m = load(lib, "as_" + mode)
    m.osc_startup(logger=logging.getLogger("osc-test"))
    yield m
    m.osc_terminate()


def run_until(osc, done, timeout=5.0):
    """Calls osc_process() until done() or the timeout."""
    end = time.monotonic() + timeout
    while not done() and time.monotonic() < end:
        osc.osc_process()
        time.sleep(0.002)
    # A little longer, to see duplicates.
    end = time.monotonic() + 0.05
    while time.monotonic() < end:
        osc.osc_process()
        time.sleep(0.002)


def loopback(osc):
    """A UDP server "srv" and a client "cli" sending to it."""
    port = free_port()
    osc.osc_udp_server("127.0.0.1", port, "srv")
    osc.osc_udp_client("127.0.0.1", port, "cli")
    return port


def test_star_import_gives_only_osc_functions(lib, mode):
    m = load(lib, "as_" + mode)
    namespace = {}
    exec("from %s.as_%s import *" % (lib, mode), namespace)
    names = {n for n in namespace if n != "__builtins__"}
    assert names and all(n.startswith("osc_") for n in names)
    assert {"osc_startup", "osc_terminate", "osc_process", "osc_method", "osc_send",
            "osc_udp_server", "osc_udp_client", "osc_broadcast_server",
            "osc_broadcast_client", "osc_multicast_server",
            "osc_multicast_client"} <= names
    assert all(callable(getattr(m, n)) for n in names)


def test_udp_round_trip_with_argschemes(lib, osc, om):
    obp = load(lib, "oscbuildparse")
    loopback(osc)
    got = {}

    def keep(key):
        return lambda *args: got.setdefault(key, []).append(args)

    osc.osc_method("/test", keep("unpack"))
    osc.osc_method("/test", keep("data"), argscheme=om.OSCARG_DATA)
    osc.osc_method("/test", keep("message"), argscheme=om.OSCARG_MESSAGE)
    osc.osc_method("/test", keep("msgunpack"), argscheme=om.OSCARG_MESSAGEUNPACK)
    osc.osc_method("/test", keep("addr+tags+data"),
                   argscheme=om.OSCARG_ADDRESS + om.OSCARG_TYPETAGS + om.OSCARG_DATAUNPACK)
    osc.osc_method("/test", keep("extra"), argscheme=om.OSCARG_EXTRA + om.OSCARG_DATA,
                   extra=("x", 1))
    osc.osc_method("/test", keep("extraunpack"), argscheme=om.OSCARG_EXTRAUNPACK,
                   extra=("x", 1))
    osc.osc_method("/test", keep("source"),
                   argscheme=om.OSCARG_READERNAME + om.OSCARG_SRCIDENT + om.OSCARG_READTIME)
    osc.osc_method("/test", keep("packopt"), argscheme=om.OSCARG_PACKOPT)
    osc.osc_method("/test", keep("methodfilter"), argscheme=om.OSCARG_METHODFILTER)
    osc.osc_method("/other", keep("other"))
    before = time.time()
    osc.osc_send(obp.OSCMessage("/test/me", ",sif", ["text", 672, 8.5]), "cli")
    run_until(osc, lambda: len(got) >= 10)
    data = ("text", 672, 8.5)
    assert got["unpack"] == [data]
    assert got["data"] == [(data,)]
    assert got["message"] == [(obp.OSCMessage("/test/me", ",sif", data),)]
    assert got["msgunpack"] == [("/test/me", ",sif", data)]
    assert got["addr+tags+data"] == [("/test/me", ",sif") + data]
    assert got["extra"] == [(("x", 1), data)]
    assert got["extraunpack"] == [("x", 1)]
    [(reader, source, readtime)] = got["source"]
    assert reader == "srv"
    assert tuple(source)[0] == "127.0.0.1" and isinstance(tuple(source)[1], int)
    assert before - 1 <= readtime <= time.time() + 1
    [(packopt,)] = got["packopt"]
    assert packopt.readername == "srv"
    [(mf,)] = got["methodfilter"]
    assert mf.addrpattern == "/test"
    assert "other" not in got


def test_bundle_and_every_type(lib, osc):
    obp = load(lib, "oscbuildparse")
    loopback(osc)
    got = []
    osc.osc_method("/b", lambda *a: got.append(a))
    args = [1, 2.5, "s", b"blob", 2 ** 40, 0.25, "S", "c", obp.OSCtimetag(1, 2),
            obp.OSCrgba(1, 2, 3, 4), obp.OSCmidi(1, 2, 3, 4), True, False, None,
            obp.OSC_INFINITUM, [1, [2]]]
    bun = obp.OSCBundle(obp.OSC_IMMEDIATELY, [
        obp.OSCMessage("/b/one", ",ifsbhdSctrmTFNI[i[i]]", args),
        obp.OSCMessage("/b/two", None, [])])
    osc.osc_send(bun, "cli")
    run_until(osc, lambda: len(got) >= 2)
    assert len(got) == 2
    one = got[0] if len(got[0]) else got[1]
    assert one[:3] == (1, 2.5, "s") and bytes(one[3]) == b"blob"
    assert one[4:8] == (2 ** 40, 0.25, "S", "c")
    assert one[8:11] == ((1, 2), (1, 2, 3, 4), (1, 2, 3, 4))
    assert one[11:14] == (True, False, None) and one[15] == (1, (2,))


def test_handler_that_raises_is_logged_and_dispatch_goes_on(lib, osc, caplog):
    obp = load(lib, "oscbuildparse")
    loopback(osc)
    got = []
    osc.osc_method("/boom", lambda *a: 1 / 0)
    osc.osc_method("/ok", lambda *a: got.append(a))
    with caplog.at_level(logging.ERROR, logger="osc-test"):
        osc.osc_send(obp.OSCMessage("/boom", None, []), "cli")
        osc.osc_send(obp.OSCMessage("/ok", None, [1]), "cli")
        run_until(osc, lambda: got)
    assert got == [(1,)]
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)


def test_send_to_a_group_of_names(lib, osc):
    if lib == "osc4py3":
        pytest.skip("osc4py3 1.0.8's flat_names adds the container instead of the names "
                    "(a list of names raises TypeError)")
    obp = load(lib, "oscbuildparse")
    p1, p2 = free_port(), free_port()
    osc.osc_udp_server("127.0.0.1", p1, "s1")
    osc.osc_udp_server("127.0.0.1", p2, "s2")
    osc.osc_udp_client("127.0.0.1", p1, "c1")
    osc.osc_udp_client("127.0.0.1", p2, "c2")
    got = []
    osc.osc_method("/g", lambda reader: got.append(reader),
                   argscheme=load(lib, "oscmethod").OSCARG_READERNAME)
    osc.osc_send(obp.OSCMessage("/g", None, []), ["c1", ("c2",)])
    run_until(osc, lambda: len(got) >= 2)
    assert sorted(got) == ["s1", "s2"]


@pytest.mark.parametrize("lib", ["osc4rs"])
def test_malformed_datagram_does_not_stop_dispatch(lib, osc):
    import socket

    obp = load(lib, "oscbuildparse")
    port = loopback(osc)
    got = []
    osc.osc_method("/after", lambda *a: got.append(a))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"/bad\0\0\0\0,i\0\0", ("127.0.0.1", port))
    s.close()
    osc.osc_send(obp.OSCMessage("/after", None, [2]), "cli")
    run_until(osc, lambda: got)
    assert got == [(2,)]


@pytest.mark.parametrize("lib", ["osc4rs"])
def test_tcp_round_trip(lib, osc):
    obp = load(lib, "oscbuildparse")
    import socket as _s
    port = free_port(_s.SOCK_STREAM)
    osc.osc_tcp_server("127.0.0.1", port, "tsrv")
    osc.osc_tcp_client("127.0.0.1", port, "tcli")
    got = []
    osc.osc_method("/tcp", lambda *a: got.append(a))
    end = time.monotonic() + 5
    while not got and time.monotonic() < end:
        osc.osc_send(obp.OSCMessage("/tcp", None, [len(got)]), "tcli")
        run_until(osc, lambda: got, timeout=0.2)
    assert got and got[0] == (0,)


@pytest.mark.parametrize("lib", ["osc4rs"])
def test_keyboard_interrupt_in_a_handler_reaches_the_loop(lib, mode, osc):
    if mode == "allthreads":
        pytest.skip("allthreads handlers do not run in osc_process()")
    obp = load(lib, "oscbuildparse")
    loopback(osc)

    def stop(*args):
        raise KeyboardInterrupt

    osc.osc_method("/stop", stop)
    osc.osc_send(obp.OSCMessage("/stop", None, []), "cli")
    with pytest.raises(KeyboardInterrupt):
        run_until(osc, lambda: False, timeout=2)


@pytest.mark.parametrize("lib", ["osc4rs"])
def test_runtime_log_records_reach_the_python_logger(lib, mode, caplog):
    import socket

    logger = logging.getLogger("osc-log-test")
    logger.setLevel(logging.DEBUG)
    m = load(lib, "as_" + mode)
    with caplog.at_level(logging.DEBUG, logger="osc-log-test"):
        m.osc_startup(logger=logger)
        port = free_port()
        m.osc_udp_server("127.0.0.1", port, "srv")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b"/bad\0\0\0\0,i\0\0", ("127.0.0.1", port))
        s.close()
        run_until(m, lambda: any("malformed" in r.getMessage() for r in caplog.records),
                  timeout=3)
        m.osc_terminate()
    texts = [r.getMessage() for r in caplog.records if r.name == "osc-log-test"]
    assert any("runtime started" in t for t in texts)
    assert any("malformed packet" in t and "srv" in t for t in texts)
    assert any(r.levelno == logging.WARNING and "malformed" in r.getMessage()
               for r in caplog.records)
