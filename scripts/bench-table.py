#!/usr/bin/env python3
"""Prints a Markdown table from criterion results (target/criterion/GROUP/FUNCTION/new/estimates.json).

    scripts/bench-table.py codec       # the osc-codec vs rosc table of docs/performance-summary.md
    scripts/bench-table.py codec-read  # decoding a view, then reading every argument

For the codec table each row is one packet (criterion group); the columns are the
median time per operation of each function, and ratios of rosc to osc4rs.
"""
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"


def median_ns(group, function):
    path = ROOT / group / function / "new" / "estimates.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["median"]["point_estimate"]


def fmt(ns):
    if ns is None:
        return "-"
    return f"{ns:,.0f}" if ns >= 100 else f"{ns:.1f}"


def codec():
    groups = ["typical_ifs", "floats16", "bundle10x16f", "blob1k"]
    print("| packet | osc4rs decode (borrowed) | osc4rs decode (owned) | rosc decode_udp | rosc / borrowed | rosc / owned "
          "| osc4rs encode_into | osc4rs encode_to_vec | rosc encode_into | rosc / encode_into |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for g in groups:
        b = median_ns(g, "osc4rs_decode_borrowed")
        o = median_ns(g, "osc4rs_decode_owned")
        r = median_ns(g, "rosc_decode_udp")
        e = median_ns(g, "osc4rs_encode_into")
        v = median_ns(g, "osc4rs_encode_to_vec")
        re = median_ns(g, "rosc_encode_into")
        ratio = lambda a, c: f"{a / c:.1f}x" if a and c else "-"
        print(f"| `{g}` | {fmt(b)} | {fmt(o)} | {fmt(r)} | {ratio(r, b)} | {ratio(r, o)} "
              f"| {fmt(e)} | {fmt(v)} | {fmt(re)} | {ratio(re, e)} |")
    print("\nTimes are criterion medians in ns per operation.")


def codec_read():
    groups = ["typical_ifs", "floats16", "bundle10x16f", "blob1k"]
    print("| packet | decode (view) | decode + read every argument | reading adds "
          "| decode + `args_as` (types known) | `args_as` adds | read only (decoded view) "
          "| read only, each `ArgRef` opaque |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for g in groups:
        d = median_ns(g, "osc4rs_decode_borrowed")
        dr = median_ns(g, "osc4rs_decode_read_args")
        r = median_ns(g, "osc4rs_read_args")
        ro = median_ns(g, "osc4rs_read_args_opaque")
        t = median_ns(g, "osc4rs_decode_args_as")
        adds = lambda x: f"{(x / d - 1) * 100:+.0f}%" if d and x else "-"
        print(f"| `{g}` | {fmt(d)} | {fmt(dr)} | {adds(dr)} | {fmt(t)} | {adds(t)} | {fmt(r)} | {fmt(ro)} |")
    print("\nTimes are criterion medians in ns per operation.")


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "codec"
    {"codec": codec, "codec-read": codec_read}[which]()
