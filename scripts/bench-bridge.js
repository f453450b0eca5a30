// The Node.js side of scripts/bench-bridge.py (npm `osc` and `ws` from .node/):
//   node bench-bridge.js relay UDP_PORT REMOTE_UDP_PORT WS_PORT   osc.js's own UDP <-> WebSocket relay (osc.Relay, raw)
//   node bench-bridge.js echo ws://HOST:PORT/                     a WebSocket client that sends every message back
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
} else {
    console.error("usage: relay UDP REMOTE WS | echo URL");
    process.exit(2);
}
