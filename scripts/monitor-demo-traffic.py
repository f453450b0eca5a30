#!/usr/bin/env python3
"""Demo traffic for `osc4rs monitor` (the screenshot of docs/monitor.md): LFOs, faders,
a sequencer's bundles (some late, some early), and now and then a malformed packet,
over UDP to 127.0.0.1:PORT, with the standard library only.

    python3 scripts/monitor-demo-traffic.py PORT [SECONDS]
"""

import math
import socket
import struct
import sys
import time

NTP_UNIX = 2_208_988_800


def pad(b):
    return b + b"\0" * (4 - len(b) % 4)


def message(address, tags, *args):
    out = pad(address.encode()) + pad(("," + tags).encode())
    for t, a in zip(tags, args):
        if t == "f":
            out += struct.pack(">f", a)
        elif t == "i":
            out += struct.pack(">i", a)
        elif t == "s":
            out += pad(a.encode())
    return out


def bundle(unix_time, *elements):
    secs = unix_time + NTP_UNIX
    tt = struct.pack(">II", int(secs), int((secs % 1) * 2**32))
    return b"#bundle\0" + tt + b"".join(struct.pack(">i", len(e)) + e for e in elements)


def main():
    port = int(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3600
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dest = ("127.0.0.1", port)
    t0 = time.time()
    n = 0
    while time.time() - t0 < seconds:
        t = time.time() - t0
        s.sendto(message("/lfo/sine", "f", math.sin(t * 2 * math.pi * 0.5)), dest)
        s.sendto(message("/lfo/saw", "f", (t * 0.7) % 1.0), dest)
        s.sendto(message("/synth/1/freq", "fi", 220 + 110 * math.sin(t), n % 128), dest)
        if n % 5 == 0:
            for f in range(1, 9):
                s.sendto(message(f"/mixer/fader/{f}", "f", 0.5 + 0.4 * math.sin(t * f / 3)), dest)
        if n % 25 == 0:
            s.sendto(message("/transport/status", "s", "playing"), dest)
            ahead = 0.05 if (n // 25) % 2 else -0.02
            s.sendto(bundle(time.time() + ahead, message("/seq/note", "ii", 60 + n % 12, 100),
                            message("/seq/gate", "i", 1)), dest)
        if n % 400 == 7:
            s.sendto(b"/broken\0,fs\0\0\0\0\x3f\x80", dest)
        n += 1
        time.sleep(0.01)


if __name__ == "__main__":
    main()
