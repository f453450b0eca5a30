"""The pythonic runtime, osc4rs.Osc."""

import threading
import time

import pytest

from osc4rs import OSCBundle, OSCMessage, OSC_IMMEDIATELY, Osc
from osc4rs.oscmethod import OSCARG_ADDRESS, OSCARG_DATAUNPACK, OSCARG_MESSAGE


def wait(osc, done, timeout=5.0):
    end = time.monotonic() + timeout
    while not done() and time.monotonic() < end:
        osc.process(timeout=0.01)
        time.sleep(0.001)


@pytest.mark.parametrize("mode", ["eventloop", "comthreads", "allthreads"])
def test_round_trip_with_decorators(mode):
    got = []
    with Osc(mode, exec_threads=2) as osc:
        osc.udp_server("in", "127.0.0.1", 0)
        host, port = osc.local_addr("in")
        osc.udp_client("out", host, port)

        @osc.method("/synth/*/freq")
        def freq(hz):
            got.append(("freq", hz, threading.current_thread() is threading.main_thread()))

        @osc.method("/synth/*/name", argscheme=OSCARG_ADDRESS + OSCARG_DATAUNPACK)
        def name(address, text):
            got.append((address, text))

        osc.send(OSCBundle(OSC_IMMEDIATELY, [OSCMessage("/synth/1/freq", None, [440.5]),
                                             OSCMessage("/synth/2/name", ",s", ["sine"])]),
                 ["out"])
        wait(osc, lambda: len(got) >= 2)
    assert ("/synth/2/name", "sine") in got
    [(_, hz, in_main)] = [g for g in got if g[0] == "freq"]
    assert hz == 440.5
    assert in_main == (mode != "allthreads")


def test_two_runtimes_at_once_and_spec_matching():
    got = []
    with Osc("eventloop") as a, Osc("comthreads") as b:
        a.udp_server("in", "127.0.0.1", 0)
        b.udp_client("to-a", *a.local_addr("in"))

        @a.method("/x/*", argscheme=OSCARG_MESSAGE)
        def x(msg):
            got.append(msg)

        b.send(OSCMessage("/x/y/z", None, [1]), "to-a")  # '*' stops at '/': no match
        b.send(OSCMessage("/x/y", None, [2]), "to-a")
        wait(a, lambda: got)
        a.process(timeout=0.05)
    assert got == [OSCMessage("/x/y", ",i", (2,))]


def test_bad_target_and_terminated():
    osc = Osc()
    with pytest.raises(Exception):
        osc.send(OSCMessage("/a", None, []), "nobody")
    osc.terminate()
    osc.terminate()
    with pytest.raises(RuntimeError):
        osc.process()
