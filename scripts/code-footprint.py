#!/usr/bin/env python3
"""The code a unit of work runs, as distinct instructions and 64-byte cache lines:
from two callgrind profiles (made with --dump-instr=yes) of the same program doing
SHORT and LONG units of work (round trips, messages), the instructions whose count
grew by at least half a run per unit. With both ends of a round trip on one CPU, each
hop starts with cold caches, so the lines a hop touches cost more than its instruction
count says. See docs/performance.md.

    scripts/code-footprint.py SHORT.out LONG.out UNITS [TOP] [--locked BINARY]

UNITS is the difference in units between the two runs; TOP (default 25) the number of
functions listed, by the lines they own (a line goes to the function that runs most
of its instructions). `--locked BINARY` also lists the atomic read-modify-write
instructions (`lock`-prefixed, or `xchg` with memory) that ran per unit in BINARY's own
code, which must be the very binary profiled (`objdump` reads it; callgrind gives a
position-independent executable's addresses as they are in its file). Example, the
pong of a one-CPU pair:

    for n in 1000 3000; do scripts/hop-pair.py eventloop $n --cpu 0 valgrind \\
        --tool=callgrind --dump-instr=yes --callgrind-out-file=/tmp/fp-$n-{end}.out; done
    scripts/code-footprint.py /tmp/fp-1000-pong.out /tmp/fp-3000-pong.out 2000
"""

import collections
import os
import re
import subprocess
import sys

LINE = 64
# A cost line of a --dump-instr=yes profile: an address (absolute, relative to the
# previous one, or the same), a source line, the instruction count.
COST = re.compile(r"^(0x[0-9a-f]+|[+-]\d+|\*)\s+\S+\s+(\d+)")
NAME = re.compile(r"c?fn=\((\d+)\)(?: (.*))?")
OBJECT = re.compile(r"c?ob=\((\d+)\)(?: (.*))?")


def mention(pattern, line, table):
    """The name a compressed mention (`ob=(3) /lib/x.so`, later `ob=(3)`) stands for;
    the first mention, which carries the name, records it in `table`."""
    m = pattern.match(line.strip())
    if m.group(2):
        table[m.group(1)] = m.group(2)
    return table.get(m.group(1), "")


def profile(path):
    """Instructions run at each address, and the function each address is in. An
    address is a pair (object, address in it): callgrind gives each object's addresses
    relative to that object, so two objects' may be equal."""
    names, function, last, after_call = {}, "", 0, False
    objects, obj = {}, ""
    counts, owner = collections.Counter(), {}
    with open(path) as f:
        for line in f:
            if line.startswith(("ob=", "cob=")):
                # An object's name is given at its first mention, which may be as the
                # object of a called function (`cob=`).
                mentioned = mention(OBJECT, line, objects)
                if line.startswith("ob="):
                    obj = mentioned
                continue
            if line.startswith(("fn=", "cfn=")):
                mentioned = mention(NAME, line, names)
                if line.startswith("fn="):
                    function = mentioned
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
            counts[(obj, last)] += int(m.group(2))
            owner[(obj, last)] = function
    return counts, owner


def instructions_of(binary):
    """The instruction text at each address of `binary`'s code, from objdump."""
    listing = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", binary],
        capture_output=True, text=True, check=True,
    ).stdout
    text = {}
    for line in listing.splitlines():
        m = re.match(r"\s+([0-9a-f]+):\s+(\S.*)", line)
        if m:
            text[int(m.group(1), 16)] = m.group(2)
    return text


def is_locked(instruction):
    """An atomic read-modify-write: a `lock` prefix, or `xchg` with a memory operand
    (implicitly locked)."""
    return instruction.startswith("lock") or (
        instruction.startswith("xchg") and "(" in instruction
    )


def print_locked(run, owner, binary):
    """The atomic read-modify-writes among the instructions in `run` (per unit) that
    are in `binary`."""
    text = instructions_of(binary)
    path = os.path.realpath(binary)
    locked = [
        (a, n)
        for a, n in sorted(run.items())
        if os.path.realpath(a[0] or "?") == path and is_locked(text.get(a[1], ""))
    ]
    print(f"atomic read-modify-writes per unit: {sum(n for _, n in locked):.1f}")
    for a, n in locked:
        name = re.sub(r" \[.*\]$", "", owner[a])
        print(f"{n:7.1f}  {text[a[1]][:40]:40s}  {name[:90]}")


def main():
    args = sys.argv[1:]
    binary = None
    if "--locked" in args:
        at = args.index("--locked")
        if at + 1 >= len(args):
            sys.exit(__doc__)
        binary = args[at + 1]
        del args[at : at + 2]
    if len(args) < 3:
        sys.exit(__doc__)
    short, _ = profile(args[0])
    long_, owner = profile(args[1])
    units = int(args[2])
    top = int(args[3]) if len(args) > 3 else 25
    per_unit = {a: (n - short.get(a, 0)) / units for a, n in long_.items()}
    run = {a: n for a, n in per_unit.items() if n >= 0.5}
    lines = collections.defaultdict(collections.Counter)
    for a, n in run.items():
        lines[(a[0], a[1] // LINE)][owner[a]] += n
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
    objects = collections.Counter(obj for obj, _ in lines)
    print("  lines by object: " + ", ".join(
        f"{os.path.basename(obj) or '?'} {n}" for obj, n in objects.most_common()
    ))
    for function, n in by_function.most_common(top):
        name = re.sub(r" \[.*\]$", "", function)
        print(f"{n:5d} lines {instructions[function]:8.0f} instructions  {name[:110]}")
    if binary:
        print_locked(run, owner, binary)


if __name__ == "__main__":
    main()
