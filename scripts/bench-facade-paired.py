#!/usr/bin/env python3
"""Receiver CPU per message of two (or more) builds of osc4rs_facade_bench, side by
side, at a fixed send rate: for each round, each receiver kind, each build in turn,
runs `BIN recv KIND COUNT 300` and `BIN send PORT COUNT RATE` (separate processes on
127.0.0.1) and reads the receiver's CPU time per received message. Prints a Markdown
table: per build, the median CPU per message and the ratio to the same build's
`baseline` kind in the same round (median and range over rounds), and the last build
against the first, paired per round (median and range). A fixed rate keeps every
receiver out of loss, so the ratios compare the same work; the builds alternate per
kind so that a noisy moment hits both. See docs/performance.md.

    scripts/bench-facade-paired.py COUNT RATE ROUNDS OLD_BIN NEW_BIN [...] -- KIND...

Example (old and new builds copied aside first):

    scripts/bench-facade-paired.py 300000 150000 8 /tmp/old /tmp/new -- \\
        baseline eventloop comthreads comthreads+view allthreads allthreads+view
"""

import collections
import os
import statistics as st
import subprocess
import sys


def one(binary, kind, count, rate):
    recv = subprocess.Popen(
        [binary, "recv", kind, str(count), "300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    port = recv.stdout.readline().split()[1]
    subprocess.run(
        [binary, "send", port, str(count), str(rate)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    out = recv.stdout.read()
    recv.wait()
    fields = dict(x.split("=", 1) for x in out.split()[1:] if "=" in x)
    return int(fields["cpu_ns"]) / max(1, int(fields["received"])), int(fields["lost"])


def main():
    args = sys.argv[1:]
    if "--" not in args or len(args) < 6:
        sys.exit(__doc__)
    count, rate, rounds = int(args[0]), int(args[1]), int(args[2])
    split = args.index("--")
    bins, kinds = args[3:split], args[split + 1 :]
    if "baseline" not in kinds:
        kinds.insert(0, "baseline")
    res = collections.defaultdict(list)
    for n in range(rounds):
        for kind in kinds:
            for b in bins:
                res[(b, kind)].append(one(b, kind, count, rate))
        load = open("/proc/loadavg").read().split()[0]
        print(f"round {n + 1} of {rounds} done, load {load}", file=sys.stderr)
    base = {b: [x[0] for x in res[(b, "baseline")]] for b in bins}
    print(
        f"{count} messages at {rate} msg/s, {rounds} rounds; median CPU per message "
        "(ratio to the same build's baseline: median, range)\n"
    )
    names = [os.path.basename(b) for b in bins]
    head = " | ".join(names)
    print(f"| kind | {head} | {names[-1]} / {names[0]}, paired |")
    print("|---|" + "---|" * len(bins) + "---|")
    for kind in kinds:
        cells = []
        for b in bins:
            v = [x[0] for x in res[(b, kind)]]
            r = [x / y for x, y in zip(v, base[b])]
            lost = sum(x[1] for x in res[(b, kind)])
            lost = f", lost {lost}" if lost else ""
            cells.append(f"{st.median(v):.0f} ns ({st.median(r):.2f}x; {min(r):.2f}-{max(r):.2f}{lost})")
        p = [x[0] / y[0] for x, y in zip(res[(bins[-1], kind)], res[(bins[0], kind)])]
        print(f"| {kind} | " + " | ".join(cells) + f" | {st.median(p):.2f}x ({min(p):.2f}-{max(p):.2f}) |")


if __name__ == "__main__":
    main()
