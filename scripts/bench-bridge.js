// The Node.js side of scripts/bench-bridge.py (npm `osc` and `ws` from .node/):
//   node bench-bridge.js relay UDP_PORT REMOTE_UDP_PORT WS_PORT   osc.js's own UDP <-> WebSocket relay (osc.Relay, raw)
//   node bench-bridge.js echo ws://HOST:PORT/                     a WebSocket client that sends every message back
//   node bench-bridge.js stall ws://HOST:PORT/                    a WebSocket client that connects, then never reads
"use strict";
const osc = require("osc");
const WebSocket = require("ws");
const [mode, a, b, c] = process.argv.slice(2);
if (mode === "relay") {
    const udp = new osc.UDPPort({
        localAddress: "127.0.0.1", localPort: Number(a),
        remoteAddress: "127.0.0.1", remotePort: Number(b),
    });
    udp.open();
    const wss = new WebSocket.Server({ host: "127.0.0.1", port: Number(c) });
    wss.on("listening", () => console.log("listening"));
    wss.on("connection", (socket) => {
        const ws = new osc.WebSocketPort({ socket: socket });
        new osc.Relay(udp, ws, { raw: true });
    });
} else if (mode === "echo") {
    const socket = new WebSocket(a);
    socket.on("open", () => console.log("connected"));
    socket.on("message", (data) => socket.send(data, { binary: true }));
} else if (mode === "stall") {
    // A browser tab in the background: the connection is open and never read, so the
    // relay's writes fill the kernel's buffers and then the relay's own queue. A raw
    // socket (not `ws`, whose reader resumes on its own): the upgrade request is sent,
    // then nothing is read past Node's first 16 KiB.
    const net = require("net");
    const url = new URL(a);
    const socket = net.connect({ host: url.hostname, port: Number(url.port), readableHighWaterMark: 1024 }, () => {
        socket.write(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
            "Sec-WebSocket-Version: 13\r\n\r\n");
        socket.pause();
        console.log("connected");
    });
    setInterval(() => {}, 1 << 30); // a paused socket alone does not keep Node running
} else {
    console.error("usage: relay UDP REMOTE WS | echo URL | stall URL");
    process.exit(2);
}
