#!/usr/bin/env python3
"""Load bench of `osc4rs monitor` (not a test; results go in docs/performance.md).

A sender (`osc4rs send --rate`) streams RATE messages per second across ADDRESSES
addresses over UDP into the monitor for SECONDS; meanwhile a page in headless Chromium
(scripts/monitor-browser.js, playwright-core) plots a few addresses and counts its
updates, animation frames and the latency of each update (the snapshot's server time
to its arrival in the page). The monitor's CPU comes from /proc/PID/stat (utime +
stime over the measured span) and its memory from /proc/PID/status (VmRSS sampled,
VmHWM at the end).

    cargo build --release -p osc4rs-cli
    python3 scripts/bench-monitor.py [--rate 50000] [--addresses 1000] [--seconds 10]
        [--bin PATH] [--no-browser]
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the command name: state is field 3; utime and stime are fields 14 and 15.
    return int(fields[11]) + int(fields[12])


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=int, default=50_000)
    ap.add_argument("--addresses", type=int, default=1_000)
    ap.add_argument("--seconds", type=float, default=10.0)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    ap.add_argument("--bin", default=os.path.join(target, "release", "osc4rs"))
    ap.add_argument("--no-browser", action="store_true")
    ap.add_argument("--screenshot", help="also save a screenshot of the page under load")
    a = ap.parse_args()

    port = free_port()
    monitor = subprocess.Popen(
        [a.bin, "monitor", f"osc.udp://127.0.0.1:{port}", "--http", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = monitor.stdout.readline().strip()
    pid = monitor.pid

    # One line per address; the sender repeats the file at the rate.
    lines = [f'/bench/{i:04d} ,ifs {i} {i / a.addresses:.3f} "x"' for i in range(a.addresses)]
    fd, packets = tempfile.mkstemp(suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write("\n".join(lines) + "\n")
    warmup, tail = 3.0, 2.0
    total = a.seconds + warmup + tail
    repeat = max(1, int(a.rate * total / a.addresses))
    sender = subprocess.Popen(
        [a.bin, "send", "--port", str(port), "--file", packets, "--repeat", str(repeat), "--rate", str(a.rate)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t_start = time.monotonic()

    rss = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                rss.append(status_kb(pid, "VmRSS"))
            except OSError:
                return
            time.sleep(0.25)

    threading.Thread(target=sample, daemon=True).start()

    page_stats = None
    if a.no_browser:
        time.sleep(warmup)
        c0, t0 = cpu_ticks(pid), time.monotonic()
        time.sleep(a.seconds)
        c1, t1 = cpu_ticks(pid), time.monotonic()
    else:
        time.sleep(1.0)
        plotted = ",".join(f"/bench/{i:04d}" for i in range(4))
        cmd = ["node", os.path.join(ROOT, "scripts/monitor-browser.js"), url, "--chromium", "chromium",
               "--select", plotted, "--measure", str(a.seconds)]
        if a.screenshot:
            cmd += ["--screenshot", a.screenshot]
        page = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        c0 = t0 = c1 = t1 = None
        for line in page.stdout:
            step = json.loads(line)
            if step["step"] == "selected":
                c0, t0 = cpu_ticks(pid), time.monotonic()
            elif step["step"] == "stats":
                c1, t1 = cpu_ticks(pid), time.monotonic()
                page_stats = step
            elif step["step"] in ("error", "pageerror"):
                print("page:", step, file=sys.stderr)
        page.wait()
        if c0 is None or c1 is None:
            sys.exit("the page did not run; see above")
    stop.set()
    hwm = status_kb(pid, "VmHWM")
    sender.wait(timeout=total + 30)
    elapsed = time.monotonic() - t_start
    monitor.terminate()
    err = monitor.communicate(timeout=10)[1]
    os.unlink(packets)

    cpu = (c1 - c0) / TICK / (t1 - t0)
    sent = repeat * a.addresses
    print(f"offered: {a.rate} msg/s across {a.addresses} addresses; sender sent {sent} in {elapsed:.1f} s "
          f"({sent / elapsed:.0f} msg/s incl. start-up)")
    print(f"monitor CPU: {cpu * 100:.1f}% of one core over {t1 - t0:.1f} s")
    print(f"monitor RSS: max sampled {max(rss) / 1024:.1f} MiB, VmHWM {hwm / 1024:.1f} MiB")
    final = [l for l in err.splitlines() if "packets," in l]
    if final:
        print(f"monitor at exit ({sent} sent): {final[-1].split(': ', 1)[1]}")
    if page_stats:
        s = page_stats
        last = s.get("last") or {}
        totals = last.get("totals", {})
        print(f"page: {s['updatesPerSec']:.1f} updates/s, {s['framesPerSec']:.1f} frames/s, "
              f"{s['drawsPerSec']:.1f} plot redraws/s; update latency median {s['latencyMedianMs']} ms, "
              f"p99 {s['latencyP99Ms']} ms, max {s['latencyMaxMs']} ms; "
              f"{s['bytesPerUpdate'] / 1024:.1f} KiB per update (largest {s['largestUpdate'] / 1024:.1f} KiB)")
        print(f"monitor's view: {totals.get('messages')} messages counted, rate shown "
              f"{totals.get('rate', 0):.0f}/s, {totals.get('addresses')} addresses")


if __name__ == "__main__":
    main()
