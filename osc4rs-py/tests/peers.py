#!/usr/bin/env python3
"""The Python interop peers of test_interop.py, each run as a process of its own with
the test's interpreter (the project's .venv: python-osc 1.9.3 and osc4py3 1.0.8, from
scripts/install-peers.sh). liblo's oscsend and oscdump are run directly by the tests.

    peers.py pythonosc-send udp|tcp1.0|tcp1.1 PORT   sends a bundle of PYTHONOSC_ARGS and
                                                     "/interop/two" to 127.0.0.1:PORT
    peers.py pythonosc-serve udp|tcp1.0|tcp1.1       prints "READY <port>", then the first
                                                     message received
    peers.py osc4py3-send PORT                       osc4py3 (eventloop) sends a bundle of
                                                     OSC4PY3_ARGS and "/interop/two" over UDP
    peers.py osc4py3-serve PORT [MODE]               osc4py3 (as_MODE, default eventloop) UDP
                                                     server on PORT: prints "READY", then the
                                                     first message

A received message prints as one line, ``repr((address, typetags, args))`` with the
arguments made plain (blobs as bytes; arrays, OSCmidi and OSCrgba as lists;
typetags None where the peer does not give them). The expected values below are
shared with the tests.
"""

import sys
import threading
import time

ADDRESS = "/interop/values"
# What python-osc sends and receives: its builder's types, arrays included.
PYTHONOSC_TAGS = ",ihfdsbTFNmr[is]"
PYTHONOSC_ARGS = [1, 2 ** 40, 0.5, 0.25, "text", b"\x00\x01ab", True, False, None,
                  (1, 2, 3, 4), 0x11223344, [1, "a"]]
# What osc4py3 sends and receives: its types, explicit type tags.
OSC4PY3_TAGS = ",ihfdsSbTFNmr[if]"
OSC4PY3_ARGS = [-7, 2 ** 40, 0.5, 0.25, "text", "sym", b"\xffblob", True, False, None,
                (1, 2, 3, 4), (0x11, 0x22, 0x33, 0x44), [3, 1.5]]


def plain(value):
    """A received argument as a plain value that repr() writes and literal_eval reads."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if type(value).__name__ == "OSCbang":  # infinitum
        return "OSCbang"
    if isinstance(value, (list, tuple)):  # arrays, OSCmidi, OSCrgba
        return [plain(v) for v in value]
    return value


def report(address, typetags, args):
    print(repr((address, typetags, [plain(a) for a in args])), flush=True)


def pythonosc_message(address):
    from pythonosc.osc_message_builder import OscMessageBuilder

    builder = OscMessageBuilder(address)
    for value, tag in zip(PYTHONOSC_ARGS[:-1], "ihfdsbTFNmr"):
        builder.add_arg(value, tag)
    builder.add_arg(PYTHONOSC_ARGS[-1])  # an array, typed by python-osc
    return builder.build()


def pythonosc_send(transport, port):
    from pythonosc import tcp_client, udp_client
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    from pythonosc.osc_message_builder import OscMessageBuilder

    bundle = OscBundleBuilder(IMMEDIATELY)
    bundle.add_content(pythonosc_message(ADDRESS))
    two = OscMessageBuilder("/interop/two")
    two.add_arg(2)
    bundle.add_content(two.build())
    msg = bundle.build()
    if transport == "udp":
        udp_client.UDPClient("127.0.0.1", port).send(msg)
    else:
        with tcp_client.TCPClient("127.0.0.1", port, mode=transport[3:]) as c:
            c.send(msg)
            time.sleep(0.2)  # let the receiver read before the connection closes


def pythonosc_serve(transport):
    from pythonosc import dispatcher, osc_server, osc_tcp_server

    done = threading.Event()

    def handler(address, *args):
        if not done.is_set():
            report(address, None, args)
            done.set()

    d = dispatcher.Dispatcher()
    d.set_default_handler(handler)
    if transport == "udp":
        server = osc_server.ThreadingOSCUDPServer(("127.0.0.1", 0), d)
    else:
        server = osc_tcp_server.ThreadingOSCTCPServer(("127.0.0.1", 0), d,
                                                      mode=transport[3:])
    print("READY", server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    done.wait(20)
    server.shutdown()
    server.server_close()


def osc4py3_send(port):
    from osc4py3 import as_eventloop as osc
    from osc4py3 import oscbuildparse as obp

    args = list(OSC4PY3_ARGS)
    args[10] = obp.OSCmidi(*args[10])
    args[11] = obp.OSCrgba(*args[11])
    osc.osc_startup()
    osc.osc_udp_client("127.0.0.1", port, "out")
    bundle = obp.OSCBundle(obp.OSC_IMMEDIATELY, [
        obp.OSCMessage(ADDRESS, OSC4PY3_TAGS, args),
        obp.OSCMessage("/interop/two", None, [2]),
    ])
    osc.osc_send(bundle, "out")
    end = time.monotonic() + 1.0  # osc4py3 writes in osc_process()
    while time.monotonic() < end:
        osc.osc_process()
        time.sleep(0.01)
    osc.osc_terminate()


def osc4py3_serve(port, mode="eventloop"):
    import importlib

    from osc4py3 import oscmethod as om

    osc = importlib.import_module("osc4py3.as_" + mode)

    got = []
    osc.osc_startup()
    osc.osc_udp_server("127.0.0.1", port, "in")
    osc.osc_method(ADDRESS, lambda *a: got.append(a),
                   argscheme=om.OSCARG_ADDRESS + om.OSCARG_TYPETAGS + om.OSCARG_DATA)
    print("READY", flush=True)
    end = time.monotonic() + 20
    while not got and time.monotonic() < end:
        osc.osc_process()
        time.sleep(0.005)
    osc.osc_terminate()
    if got:
        report(*got[0])


def main(argv):
    cmd = argv[0]
    if cmd == "pythonosc-send":
        pythonosc_send(argv[1], int(argv[2]))
    elif cmd == "pythonosc-serve":
        pythonosc_serve(argv[1])
    elif cmd == "osc4py3-send":
        osc4py3_send(int(argv[1]))
    elif cmd == "osc4py3-serve":
        osc4py3_serve(int(argv[1]), *argv[2:3])
    else:
        sys.exit("unknown command %r" % cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
