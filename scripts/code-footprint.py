#!/usr/bin/env python3
"""The code a unit of work runs, as distinct instructions and 64-byte cache lines:
from two callgrind profiles (made with --dump-instr=yes) of the same program doing
SHORT and LONG units of work (round trips, messages), the instructions whose count
grew by at least half a run per unit. With both ends of a round trip on one CPU, each
hop starts with cold caches, so the lines a hop touches cost more than its instruction
count says. See docs/performance.md.

    scripts/code-footprint.py SHORT.out LONG.out UNITS [TOP]

UNITS is the difference in units between the two runs; TOP (default 25) the number of
functions listed, by the lines they own (a line goes to the function that runs most
of its instructions). Example, the pong of a one-CPU pair:

    for n in 1000 3000; do scripts/hop-pair.py eventloop $n --cpu 0 valgrind \\
        --tool=callgrind --dump-instr=yes --callgrind-out-file=/tmp/fp-$n-{end}.out; done
    scripts/code-footprint.py /tmp/fp-1000-pong.out /tmp/fp-3000-pong.out 2000
"""

import collections
import re
import sys

LINE = 64
# A cost line of a --dump-instr=yes profile: an address (absolute, relative to the
# previous one, or the same), a source line, the instruction count.
COST = re.compile(r"^(0x[0-9a-f]+|[+-]\d+|\*)\s+\S+\s+(\d+)")
NAME = re.compile(r"c?fn=\((\d+)\)(?: (.*))?")


def profile(path):
    """Instructions run at each address, and the function each address is in."""
    names, function, last, after_call = {}, "", 0, False
    counts, owner = collections.Counter(), {}
    with open(path) as f:
        for line in f:
            if line.startswith(("fn=", "cfn=")):
                m = NAME.match(line.strip())
                if m.group(2):
                    names[m.group(1)] = m.group(2)
                if line.startswith("fn="):
                    function = names.get(m.group(1), "")
                continue
            if line.startswith("calls="):
                # The next cost line is the call's inclusive cost, not instructions here.
                after_call = True
                continue
            m = COST.match(line)
            if not m:
                continue
            at = m.group(1)
            if at.startswith("0x"):
                last = int(at, 16)
            elif at != "*":
                last += int(at)
            if after_call:
                after_call = False
                continue
            counts[last] += int(m.group(2))
            owner[last] = function
    return counts, owner


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    short, _ = profile(sys.argv[1])
    long_, owner = profile(sys.argv[2])
    units = int(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 25
    per_unit = {a: (n - short.get(a, 0)) / units for a, n in long_.items()}
    run = {a: n for a, n in per_unit.items() if n >= 0.5}
    lines = collections.defaultdict(collections.Counter)
    for a, n in run.items():
        lines[a // LINE][owner[a]] += n
    by_function = collections.Counter()
    instructions = collections.Counter()
    for per_function in lines.values():
        by_function[per_function.most_common(1)[0][0]] += 1
        instructions.update(per_function)
    total = sum(n for n in per_unit.values() if n > 0)
    print(
        f"per unit: {total:.0f} instructions, {len(run)} distinct, "
        f"{len(lines)} code lines of {LINE} bytes"
    )
    for function, n in by_function.most_common(top):
        name = re.sub(r" \[.*\]$", "", function)
        print(f"{n:5d} lines {instructions[function]:8.0f} instructions  {name[:110]}")


if __name__ == "__main__":
    main()
