#!/usr/bin/env python3
"""One ping-pong pair of osc4rs_facade_bench, with a tool wrapped around one end: to
count the system calls or the instructions of a round trip's hops, which the
`latency` driver (scripts/bench-facade.sh) only times. See docs/performance.md.

    scripts/hop-pair.py KIND ROUNDS [--cpu N] [--wrap ping|pong|both] [--pong KIND2] [TOOL ARGS...]

KIND is a kind of `osc4rs_facade_bench ping` (plain, plain+epoll, eventloop, ...);
`--pong KIND2` gives the pong another kind (as `latency-layers` pairs a plain ping
with a `reactor` or `dispatch` pong).
TOOL ARGS run the wrapped end; `{end}` in them becomes `ping` or `pong`, so one
command names an output per end. `--cpu N` pins both ends to CPU N (a hop is then a
context switch). Prints the ping's RESULT line. Examples:

    scripts/hop-pair.py eventloop 2000 --cpu 0 --wrap both strace -f -o /tmp/st-{end}
    scripts/hop-pair.py eventloop 3000 --cpu 0 valgrind --tool=callgrind \\
        --callgrind-out-file=/tmp/cg-{end}.out

BIN (environment) names the bench binary; default target/release/osc4rs_facade_bench
(`cargo build --release -p osc4rs-benches`).
"""

import os
import signal
import subprocess
import sys


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    kind, rounds, rest = args[0], int(args[1]), args[2:]
    cpu, wrap_end, pong_kind = None, "pong", kind
    while rest and rest[0] in ("--cpu", "--wrap", "--pong"):
        if rest[0] == "--cpu":
            cpu = rest[1]
        elif rest[0] == "--wrap":
            wrap_end = rest[1]
        else:
            pong_kind = rest[1]
        rest = rest[2:]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = os.environ.get(
        "BIN", os.path.join(root, "target", "release", "osc4rs_facade_bench")
    )

    def command(end, *extra):
        wrapped = wrap_end in (end, "both")
        tool = [a.replace("{end}", end) for a in rest] if wrapped else []
        pin = ["taskset", "-c", cpu] if cpu is not None else []
        return pin + tool + [binary, end, pong_kind if end == "pong" else kind, *extra]

    ping = subprocess.Popen(
        command("ping"), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    ping_port = ping.stdout.readline().split()[1]
    pong = subprocess.Popen(command("pong", ping_port), stdout=subprocess.PIPE, text=True)
    pong_port = pong.stdout.readline().split()[1]
    ping.stdin.write(f"{pong_port}\ngo {rounds}\n")
    ping.stdin.flush()
    while ping.stdout.readline().strip() != "DONE":
        pass
    ping.stdin.close()
    print(ping.stdout.read().strip())
    ping.wait()
    # SIGINT lets a wrapping tool (valgrind, strace) write its output before the
    # pong ends.
    pong.send_signal(signal.SIGINT)
    try:
        pong.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pong.kill()


if __name__ == "__main__":
    main()
