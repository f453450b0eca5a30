#!/usr/bin/env python3
"""Relayed messages per second and relay CPU per message: `osc4rs bridge` against
osc.js's own relay (osc.Relay between a UDPPort and a WebSocketPort, in Node.js),
doing the same job in the same run, in turns; and, when built, `relay_floor` (benches/):
the least a relay can do, two threads blocking in one receive and one send per hop,
no poll, which no event loop goes below. A UDP socket sends COUNT messages at
RATE per second to the relay; the relay forwards each to a WebSocket client (Node.js
`ws`) that sends it back; the relay forwards it to the UDP socket again, which counts
them. CPU is the relay process's own (utime + stime from /proc). Loopback only.

    cargo build --release -p osc4rs-cli -p osc4rs-benches --bin osc4rs --bin relay_floor
    bash scripts/install-peers.sh
    python3 scripts/bench-bridge.py [COUNT [RATE [ROUNDS]]]   # defaults 100000 20000 3

`latency [COUNT [RATE [ROUNDS [PAD]]]]` measures what a slow WebSocket reader costs the
others: the same round trip through `osc4rs bridge`, each message numbered and timed,
with and without a second WebSocket client that connects and never reads (a
background tab), in turns; it prints round-trip percentiles, loss and the bridge's
peak memory (VmHWM) for both.
"""
import os, socket, struct, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release/osc4rs")
FLOOR = os.path.join(ROOT, "target/release/relay_floor")
NODE_ENV = dict(os.environ, NODE_PATH=os.path.join(ROOT, ".node/node_modules"))
JS = os.path.join(ROOT, "scripts/bench-bridge.js")
MSG = b"/fader/1\x00\x00\x00\x00,f\x00\x00?\x00\x00\x00"

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def cpu_split(pid):
    """(user, kernel) CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tck = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tck, int(fields[12]) / tck

def cpu_seconds(pid):
    return sum(cpu_split(pid))

def run(kind, count, rate):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    udp.bind(("127.0.0.1", 0))
    me = udp.getsockname()[1]
    a, w = free_port(), free_port()
    if kind == "osc4rs bridge":
        relay = subprocess.Popen([BIN, "bridge", f"listen:osc.udp://127.0.0.1:{a}",
                                  f"listen:ws://127.0.0.1:{w}/"], stderr=subprocess.DEVNULL)
        time.sleep(0.5)
    elif kind == "floor":
        relay = subprocess.Popen([FLOOR, str(a), str(w)], stdout=subprocess.PIPE)
        relay.stdout.readline()
    else:
        relay = subprocess.Popen(["node", JS, "relay", str(a), str(me), str(w)],
                                 env=NODE_ENV, stdout=subprocess.PIPE)
        relay.stdout.readline()
    echo = subprocess.Popen(["node", JS, "echo", f"ws://127.0.0.1:{w}/"], env=NODE_ENV,
                            stdout=subprocess.PIPE)
    echo.stdout.readline()
    time.sleep(0.3)
    # One message first, so that the bridge knows where to send (it relays to the
    # UDP senders it has heard from).
    udp.sendto(MSG, ("127.0.0.1", a)); udp.settimeout(5); udp.recv(64)
    cpu0 = cpu_split(relay.pid)
    got, t0 = 0, time.perf_counter()
    udp.setblocking(False)
    for i in range(count):
        while time.perf_counter() - t0 < i / rate:
            try:
                udp.recv(64); got += 1
            except BlockingIOError:
                pass
        udp.sendto(MSG, ("127.0.0.1", a))
    deadline = time.perf_counter() + 2
    while got < count and time.perf_counter() < deadline:
        try:
            udp.recv(64); got += 1
        except BlockingIOError:
            time.sleep(0.001)
    elapsed = time.perf_counter() - t0
    user, kernel = (b - a for a, b in zip(cpu0, cpu_split(relay.pid)))
    for p in (echo, relay):
        p.kill(); p.wait()
    return got, (user, kernel), elapsed

def peak_memory_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0

def latency_run(count, rate, stalled, pad):
    """Round trips through the bridge, numbered; returns (rtts in us, lost, peak KiB)."""
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    udp.bind(("127.0.0.1", 0))
    a, w = free_port(), free_port()
    relay = subprocess.Popen([BIN, "bridge", f"listen:osc.udp://127.0.0.1:{a}",
                              f"listen:ws://127.0.0.1:{w}/"], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    peers = []
    for mode in ["echo"] + (["stall"] if stalled else []):
        p = subprocess.Popen(["node", JS, mode, f"ws://127.0.0.1:{w}/"], env=NODE_ENV,
                             stdout=subprocess.PIPE)
        p.stdout.readline()
        peers.append(p)
    time.sleep(0.3)
    # /lat ,ib N BLOB: a number, and PAD bytes so that a reader that never reads
    # fills the kernel's buffers and then the bridge's bounded queue within the run.
    head = b"/lat\x00\x00\x00\x00,ib\x00"
    blob = struct.pack(">i", pad) + bytes(pad) + bytes(-pad % 4)
    msg = lambda n: head + struct.pack(">i", n) + blob
    udp.sendto(msg(-1), ("127.0.0.1", a)); udp.settimeout(5); udp.recv(65536)
    sent = [0.0] * count
    rtts = []
    udp.setblocking(False)

    def drain():
        while True:
            try:
                data = udp.recv(65536)
            except BlockingIOError:
                return
            (n,) = struct.unpack(">i", data[12:16])
            if 0 <= n < count:
                rtts.append((time.perf_counter() - sent[n]) * 1e6)

    t0 = time.perf_counter()
    for i in range(count):
        while time.perf_counter() - t0 < i / rate:
            drain()
        sent[i] = time.perf_counter()
        udp.sendto(msg(i), ("127.0.0.1", a))
    deadline = time.perf_counter() + 2
    while len(rtts) < count and time.perf_counter() < deadline:
        drain()
        time.sleep(0.001)
    peak = peak_memory_kib(relay.pid)
    for p in peers + [relay]:
        p.kill(); p.wait()
    return sorted(rtts), count - len(rtts), peak

def latency_main(args):
    count = int(args[0]) if args else 60000
    rate = float(args[1]) if len(args) > 1 else 20000
    rounds = int(args[2]) if len(args) > 2 else 3
    pad = int(args[3]) if len(args) > 3 else 1000
    cases = ["alone", "beside a reader that never reads"]
    results = {c: [] for c in cases}
    for r in range(rounds):
        for c in cases:
            rtts, lost, peak = latency_run(count, rate, c != "alone", pad)
            results[c].append((rtts, lost, peak))
            pct = lambda q: rtts[min(len(rtts) - 1, int(q * len(rtts)))] if rtts else float("nan")
            print(f"round {r}: {c:34} p50 {pct(0.5):7.0f} us  p99 {pct(0.99):7.0f} us  "
                  f"lost {lost}  bridge peak {peak / 1024:.1f} MiB", file=sys.stderr)
    print(f"\nUDP -> osc4rs bridge -> WebSocket echo -> bridge -> UDP, {count} numbered "
          f"messages of {20 + pad + (-pad % 4)} bytes at {rate:.0f}/s, {rounds} rounds "
          f"(median of the rounds' percentiles):\n")
    print("| the echo client | p50 round trip | p99 round trip | lost (worst round) | bridge peak memory |")
    print("|---|---|---|---|---|")
    for c in cases:
        def med(q):
            vals = sorted(r[min(len(r) - 1, int(q * len(r)))] for r, _, _ in results[c] if r)
            return vals[len(vals) // 2] if vals else float("nan")
        lost = max(l for _, l, _ in results[c])
        peak = max(p for _, _, p in results[c])
        print(f"| {c} | {med(0.5):.0f} us | {med(0.99):.0f} us | {lost} | {peak / 1024:.1f} MiB |")

def main():
    if sys.argv[1:2] == ["latency"]:
        return latency_main(sys.argv[2:])
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 20000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    kinds = ["osc4rs bridge", "osc.js relay"]
    if os.path.exists(FLOOR):
        kinds.append("floor")
    results = {k: [] for k in kinds}
    for r in range(rounds):
        for k in kinds:
            got, (user, kernel), elapsed = run(k, count, rate)
            results[k].append((got, user + kernel, user, kernel))
            print(f"round {r}: {k:14} {got}/{count} back, relay CPU {user + kernel:.2f} s "
                  f"(user {user:.2f}, kernel {kernel:.2f}), "
                  f"{(user + kernel) / max(got, 1) * 1e6:.1f} us/msg", file=sys.stderr)
    print(f"\nUDP -> relay -> WebSocket client (echo) -> relay -> UDP, {count} messages "
          f"at {rate:.0f}/s, median of {rounds} rounds:\n")
    # The user/kernel split (per round, above) comes from tick-based accounting, which
    # on a VM often books a whole round to one side: only the sum goes in the table.
    print("| relay | relay CPU per message (both hops) | lost (worst round) | ratio |")
    print("|---|---|---|---|")
    def median_of(k, i):
        per = sorted(x[i] / max(x[0], 1) for x in results[k])
        return per[len(per) // 2]
    med = {k: median_of(k, 1) for k in kinds}
    for k in kinds:
        lost = max(count - x[0] for x in results[k])
        print(f"| {k} | {med[k] * 1e6:.1f} us | {lost} | {med[k] / med[kinds[0]]:.2f}x |")

main()
