#!/usr/bin/env python3
"""Relayed messages per second and relay CPU per message: `osc4rs bridge` against
osc.js's own relay (osc.Relay between a UDPPort and a WebSocketPort, in Node.js),
doing the same job in the same run, in turns. A UDP socket sends COUNT messages at
RATE per second to the relay; the relay forwards each to a WebSocket client (Node.js
`ws`) that sends it back; the relay forwards it to the UDP socket again, which counts
them. CPU is the relay process's own (utime + stime from /proc). Loopback only.

    cargo build --release -p osc4rs-cli && bash scripts/install-peers.sh
    python3 scripts/bench-bridge.py [COUNT [RATE [ROUNDS]]]   # defaults 100000 20000 3
"""
import os, socket, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release/osc4rs")
NODE_ENV = dict(os.environ, NODE_PATH=os.path.join(ROOT, ".node/node_modules"))
JS = os.path.join(ROOT, "scripts/bench-bridge.js")
MSG = b"/fader/1\x00\x00\x00\x00,f\x00\x00?\x00\x00\x00"

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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
    cpu0 = cpu_seconds(relay.pid)
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
    cpu = cpu_seconds(relay.pid) - cpu0
    for p in (echo, relay):
        p.kill(); p.wait()
    return got, cpu, elapsed

def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 20000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    kinds = ["osc4rs bridge", "osc.js relay"]
    results = {k: [] for k in kinds}
    for r in range(rounds):
        for k in kinds:
            got, cpu, elapsed = run(k, count, rate)
            results[k].append((got, cpu))
            print(f"round {r}: {k:14} {got}/{count} back, relay CPU {cpu:.2f} s, "
                  f"{cpu / max(got, 1) * 1e6:.1f} us/msg", file=sys.stderr)
    print(f"\nUDP -> relay -> WebSocket client (echo) -> relay -> UDP, {count} messages "
          f"at {rate:.0f}/s, median of {rounds} rounds:\n")
    print("| relay | relay CPU per message (both hops) | lost (worst round) | ratio |")
    print("|---|---|---|---|")
    med = {}
    for k in kinds:
        per = sorted(c / max(g, 1) for g, c in results[k])
        med[k] = per[len(per) // 2]
    for k in kinds:
        lost = max(count - g for g, _ in results[k])
        print(f"| {k} | {med[k] * 1e6:.1f} us | {lost} | {med[k] / med[kinds[0]]:.2f}x |")

main()
