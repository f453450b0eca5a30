#!/usr/bin/env python3
"""User and system CPU per round trip of one ping-pong pair of osc4rs_facade_bench,
both ends on CPU 0: to see how much of a kind's extra cost over the plain pair is the
program's own code and how much is the kernel's. See docs/performance.md.

    scripts/hop-cpu-split.py KIND ROUNDS

The total is each process's scheduled run time (/proc/PID/schedstat, exact); it is
split between user and system time in the proportion of the tick-based counts in
/proc/PID/stat, so use enough rounds (50,000 or more) and compare kinds alternated.
BIN (environment) names the bench binary; default target/release/osc4rs_facade_bench.
"""

import os
import subprocess
import sys


def times(pid):
    """(user ticks, system ticks, run time in seconds) of a process so far."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    run = int(open(f"/proc/{pid}/schedstat").read().split()[0]) / 1e9
    return int(fields[11]), int(fields[12]), run


def go(ping, rounds):
    ping.stdin.write(f"go {rounds}\n")
    ping.stdin.flush()
    while ping.stdout.readline().strip() != "DONE":
        pass


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    kind, rounds = sys.argv[1], int(sys.argv[2])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = os.environ.get(
        "BIN", os.path.join(root, "target", "release", "osc4rs_facade_bench")
    )

    def start(*args):
        cmd = ["taskset", "-c", "0", binary, *args]
        return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    ping = start("ping", kind)
    ping_port = ping.stdout.readline().split()[1]
    pong = start("pong", kind, ping_port)
    pong_port = pong.stdout.readline().split()[1]
    ping.stdin.write(f"{pong_port}\n")
    go(ping, 2000)  # warm-up
    before = [times(ping.pid), times(pong.pid)]
    go(ping, rounds)
    after = [times(ping.pid), times(pong.pid)]
    ping.stdin.close()
    result = ping.stdout.read().split()
    ping.wait()
    pong.kill()
    pong.wait()
    median = next((r for r in result if r.startswith("median")), "")
    line = [kind, median]
    for end, a, b in zip(("ping", "pong"), before, after):
        user, system, run = (b[i] - a[i] for i in range(3))
        ticks = max(user + system, 1)
        per = run / rounds * 1e6
        line.append(f"{end}: user {per * user / ticks:.2f} us, system {per * system / ticks:.2f} us")
    print("  ".join(line))


if __name__ == "__main__":
    main()
