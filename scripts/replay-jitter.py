#!/usr/bin/env python3
"""Replay timing of `osc4rs replay`: records 400 packets sent 5 ms apart on loopback,
replays them to a socket that timestamps each, and prints the timing error (each
packet's time from the first, against the recording). Needs target/release/osc4rs:
`cargo build --release -p osc4rs-cli`. Results in docs/performance.md."""
import socket, subprocess, time
B="target/release/osc4rs"
rec=subprocess.Popen([B,"record","--port","9531","--out","/tmp/j.rec","--timeout","3"])
time.sleep(0.4)
tx=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
msg=b"/j\x00\x00,i\x00\x00\x00\x00\x00\x01"
t0=time.perf_counter()
for i in range(400):
    while time.perf_counter()-t0 < i*0.005: pass
    tx.sendto(msg,("127.0.0.1",9531))
rec.wait()
ats=[float(l.split()[0]) for l in open("/tmp/j.rec") if not l.startswith("#")]
rx=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); rx.bind(("127.0.0.1",9532)); rx.settimeout(5)
rp=subprocess.Popen([B,"replay","/tmp/j.rec","--port","9532"],stderr=subprocess.DEVNULL)
times=[]
for _ in range(len(ats)):
    rx.recv(64); times.append(time.perf_counter())
rp.wait()
err=[abs((times[i]-times[0])-(ats[i]-ats[0]))*1e6 for i in range(len(ats))]
err.sort()
print(f"{len(ats)} packets, 5 ms apart: timing error median {err[len(err)//2]:.0f} us, p99 {err[int(len(err)*0.99)-1]:.0f} us, max {err[-1]:.0f} us")
