#!/usr/bin/env python3
"""encode/decode calls per second from Python: osc4rs against osc4py3 and python-osc.

Run with the venv where the three are installed (scripts/python-tests.sh installs
osc4rs, scripts/install-peers.sh the others):

    .venv/bin/python scripts/bench-python.py [--seconds 1.0]

Each library encodes and decodes the same message (",sif": a string, an int, a float)
and a bundle of two such messages; the best of 5 runs is printed.

With --encode-detail, it prints instead the nanoseconds per encode_packet call for a
few messages beside the floor of such a call (the extension's _call_floor, which only
returns a bytearray of the same length).

With --receive N, it also sends N such datagrams over loopback UDP at --rate per
second to a receiver process running each library (osc4rs and osc4py3 in each mode,
python-osc's BlockingOSCUDPServer) with a Python handler that counts, and prints what
arrived, the loss and the receiver's CPU time per message. Not a test: no timing is
asserted anywhere.
"""

import argparse
import functools
import socket
import subprocess
import sys
import time


def rate(fn, seconds):
    """Calls per second of fn(), best of 5 runs of about seconds/5 each."""
    best = 0.0
    n = 1000
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - start
        best = max(best, n / elapsed)
        n = max(1000, int(best * seconds / 5))
    return best


def osc4_cases(mod):
    obp = __import__(mod + ".oscbuildparse", fromlist=["x"])
    msg = obp.OSCMessage("/test/me", ",sif", ["text", 672, 8.871])
    bun = obp.OSCBundle(obp.OSC_IMMEDIATELY, [msg, msg])
    raw_msg, raw_bun = bytes(obp.encode_packet(msg)), bytes(obp.encode_packet(bun))
    # functools.partial calls the function without a Python frame of its own, so
    # the loop adds as little as possible to what is measured.
    return {
        "encode message": functools.partial(obp.encode_packet, msg),
        "decode message": functools.partial(obp.decode_packet, raw_msg),
        "encode bundle": functools.partial(obp.encode_packet, bun),
        "decode bundle": functools.partial(obp.decode_packet, raw_bun),
    }


def pythonosc_cases():
    from pythonosc.osc_bundle import OscBundle
    from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
    from pythonosc.osc_message import OscMessage
    from pythonosc.osc_message_builder import OscMessageBuilder

    def build_msg():
        b = OscMessageBuilder("/test/me")
        b.add_arg("text")
        b.add_arg(672)
        b.add_arg(8.871)
        return b.build()

    def build_bun():
        b = OscBundleBuilder(IMMEDIATELY)
        b.add_content(build_msg())
        b.add_content(build_msg())
        return b.build()

    raw_msg, raw_bun = build_msg().dgram, build_bun().dgram
    return {
        "encode message": build_msg,
        "decode message": lambda: OscMessage(raw_msg).params,
        "encode bundle": build_bun,
        "decode bundle": lambda: [m.params for m in OscBundle(raw_bun)],
    }


def receiver(lib, mode, port, count):
    """Runs in a child process: counts /test messages until count or 2 s of silence,
    then prints "received cpu_seconds"."""
    got = [0]

    def handler(*args):
        got[0] += 1

    if lib == "python-osc":
        from pythonosc.dispatcher import Dispatcher
        from pythonosc.osc_server import BlockingOSCUDPServer

        d = Dispatcher()
        d.map("/test*", lambda addr, *args: handler())
        server = BlockingOSCUDPServer(("127.0.0.1", port), d)
        server.timeout = 0.05
        print("ready", flush=True)
        cpu0, last, seen = time.process_time(), time.monotonic(), 0
        while got[0] < count and time.monotonic() - last < 2:
            server.handle_request()
            if got[0] != seen:
                seen, last = got[0], time.monotonic()
        server.server_close()
    else:
        m = __import__(lib + ".as_" + mode, fromlist=["x"])
        m.osc_startup()
        m.osc_udp_server("127.0.0.1", port, "in")
        m.osc_method("/test", handler)
        print("ready", flush=True)
        cpu0, last, seen = time.process_time(), time.monotonic(), 0
        while got[0] < count and time.monotonic() - last < 2:
            m.osc_process()
            if mode == "allthreads" or got[0] == seen:
                time.sleep(0.0005)
            if got[0] != seen:
                seen, last = got[0], time.monotonic()
        m.osc_terminate()
    print(got[0], time.process_time() - cpu0, flush=True)


def receive_bench(count, rate):
    """Sends count datagrams at rate/s to a receiver of each library; prints a table."""
    from osc4rs import oscbuildparse as obp

    raw = bytes(obp.encode_packet(obp.OSCMessage("/test/me", ",sif", ["text", 672, 8.871])))
    runs = [("osc4rs", m) for m in ("eventloop", "comthreads", "allthreads")]
    runs += [("osc4py3", m) for m in ("eventloop", "comthreads", "allthreads")]
    runs += [("python-osc", "blocking")]
    print("%-24s %10s %8s %16s" % ("receiver", "received", "loss", "CPU us/message"))
    for lib, mode in runs:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        child = subprocess.Popen([sys.executable, __file__, "--_receiver", lib, mode,
                                  str(port), str(count)],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if child.stdout.readline().strip() != "ready":
            print("%-24s did not start" % (lib + " " + mode))
            child.kill()
            continue
        out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        start = time.monotonic()
        for i in range(count):
            out.sendto(raw, ("127.0.0.1", port))
            if i % 100 == 99:
                delay = start + (i + 1) / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        out.close()
        try:
            line, _ = child.communicate(timeout=60)
            received, cpu = line.split()[:2]
            received, cpu = int(received), float(cpu)
        except (subprocess.TimeoutExpired, ValueError):
            child.kill()
            print("%-24s no result" % (lib + " " + mode))
            continue
        per = cpu / received * 1e6 if received else float("nan")
        print("%-24s %10d %7.1f%% %16.1f" % (lib + " " + mode, received,
                                             100.0 * (count - received) / count, per))


def encode_detail():
    """Nanoseconds per encode_packet call from Python (timeit, best of 7) for a few
    message shapes, beside the floor: the same call shape into the extension doing
    nothing but return a bytearray as long as the encoded message."""
    import timeit

    from osc4rs import _osc4rs
    from osc4rs import oscbuildparse as obp

    sif = obp.OSCMessage("/test/me", ",sif", ["text", 672, 8.871])
    size = len(obp.encode_packet(sif))
    cases = [
        ("encode ,sif", "enc(sif)"),
        ("encode ,sif types detected", "enc(auto)"),
        ("encode , (no argument)", "enc(empty)"),
        ("encode ,i", "enc(one)"),
        ("floor: _call_floor(msg) -> bytearray(%d)" % size, "floor(sif)"),
        ("floor: bytearray(bytes of %d) (a C builtin)" % size, "bytearray(raw)"),
    ]
    g = {
        "enc": obp.encode_packet, "floor": _osc4rs._call_floor, "sif": sif,
        "auto": obp.OSCMessage("/test/me", None, ["text", 672, 8.871]),
        "empty": obp.OSCMessage("/test/me", ",", []),
        "one": obp.OSCMessage("/test/me", ",i", [672]),
        "raw": bytes(obp.encode_packet(sif)),
    }
    try:
        from osc4py3 import oscbuildparse as o3
        g.update(o3=o3, sif3=o3.OSCMessage("/test/me", ",sif", ["text", 672, 8.871]))
        cases.append(("osc4py3 encode ,sif", "o3.encode_packet(sif3)"))
    except ImportError:
        pass
    print("ns per call (best of 7)")
    for label, stmt in cases:
        number = 20000 if stmt.startswith("o3") else 200000
        best = min(timeit.repeat(stmt, globals=g, number=number, repeat=7)) / number
        print("%-48s %8.1f" % (label, best * 1e9))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--_receiver":
        lib, mode, port, count = sys.argv[2:6]
        receiver(lib, mode, int(port), int(count))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    ap.add_argument("--receive", type=int, default=0, metavar="N",
                    help="also measure receiving N UDP datagrams per library")
    ap.add_argument("--rate", type=float, default=20000.0,
                    help="datagrams per second sent with --receive")
    ap.add_argument("--encode-detail", action="store_true",
                    help="only print ns per encode_packet call for a few messages, "
                         "and the floor of such a call")
    args = ap.parse_args()
    if args.encode_detail:
        encode_detail()
        return
    libs = {}
    for name, make in [("osc4rs", lambda: osc4_cases("osc4rs")),
                       ("osc4py3", lambda: osc4_cases("osc4py3")),
                       ("python-osc", pythonosc_cases)]:
        try:
            libs[name] = make()
        except ImportError as e:
            print("%s not installed (%s): skipped" % (name, e))
    ops = ["encode message", "decode message", "encode bundle", "decode bundle"]
    print("%-16s" % "calls/s" + "".join("%14s" % n for n in libs)
          + "".join("%18s" % ("osc4rs/" + n) for n in libs if n != "osc4rs"))
    for op in ops:
        rates = {n: rate(cases[op], args.seconds) for n, cases in libs.items()}
        line = "%-16s" % op + "".join("%14.0f" % rates[n] for n in libs)
        if "osc4rs" in rates:
            line += "".join("%17.1fx" % (rates["osc4rs"] / rates[n]) for n in libs if n != "osc4rs")
        print(line)
    if args.receive:
        print()
        receive_bench(args.receive, args.rate)


if __name__ == "__main__":
    main()
