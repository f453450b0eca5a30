#!/usr/bin/env python3
"""encode/decode calls per second from Python: osc4rs against osc4py3 and python-osc.

Run with the venv where the three are installed (scripts/python-tests.sh installs
osc4rs, scripts/install-peers.sh the others):

    .venv/bin/python scripts/bench-python.py [--seconds 1.0]

Each library encodes and decodes the same message (",sif": a string, an int, a float)
and a bundle of two such messages; the best of 5 runs is printed. Not a test: no
timing is asserted anywhere.
"""

import argparse
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
    return {
        "encode message": lambda: obp.encode_packet(msg),
        "decode message": lambda: obp.decode_packet(raw_msg),
        "encode bundle": lambda: obp.encode_packet(bun),
        "decode bundle": lambda: obp.decode_packet(raw_bun),
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    args = ap.parse_args()
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


if __name__ == "__main__":
    main()
