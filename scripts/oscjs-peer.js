// osc.js (the npm package `osc`) as a WebSocket peer for the interop tests, in Node.js:
//   node scripts/oscjs-peer.js client ws://127.0.0.1:PORT/   send /oscjs/hello, print the reply
//   node scripts/oscjs-peer.js server PORT                   print each message, echo it as /echo...
// Messages are printed as one JSON line each ({address, args: [{type, value}]}), blobs
// as arrays of bytes. Installed by scripts/install-peers.sh (NODE_PATH=.node/node_modules).
"use strict";
const osc = require("osc");
const WebSocket = require("ws");

// One argument for printing: blobs as byte arrays, int64 as a decimal string (osc.js
// reads it as {high, low}), arrays element by element.
function plain(a) {
    if (Array.isArray(a)) {
        return a.map(plain);
    }
    let value = a.value;
    if (value instanceof Uint8Array) {
        value = Array.from(value);
    } else if (a.type === "h") {
        value = (BigInt(value.high) * 4294967296n + BigInt(value.low >>> 0)).toString();
    }
    return { type: a.type, value: value };
}

function show(msg) {
    console.log(JSON.stringify({ address: msg.address, args: (msg.args || []).map(plain) }));
}

const hello = {
    address: "/oscjs/hello",
    args: [
        { type: "i", value: 42 },
        { type: "f", value: 0.5 },
        { type: "s", value: "from osc.js" },
        { type: "b", value: new Uint8Array([1, 2, 3]) },
        { type: "d", value: 3.25 },
        { type: "T", value: true },
        { type: "F", value: false },
        { type: "N", value: null },
        { type: "c", value: "A" },
        { type: "r", value: { r: 255, g: 128, b: 0, a: 1.0 } }, // osc.js: alpha in 0..1
        { type: "m", value: new Uint8Array([0, 144, 60, 100]) },
        { type: "h", value: { high: 1, low: 2 } },
        { type: "S", value: "sym" },
        { type: "t", value: { raw: [3900000000, 2147483648] } },
        { type: "I", value: 1.0 },
        [{ type: "i", value: 1 }, { type: "s", value: "in an array" }],
    ],
};

const [mode, where] = process.argv.slice(2);
setTimeout(() => { console.error("oscjs-peer: timed out"); process.exit(2); }, 10000);

if (mode === "client") {
    const port = new osc.WebSocketPort({ url: where, metadata: true });
    port.on("ready", () => port.send(hello));
    port.on("message", (msg) => { show(msg); port.close(); process.exit(0); });
    port.on("error", (e) => { console.error("oscjs-peer:", e.message || e); process.exit(1); });
    port.open();
} else if (mode === "server") {
    const wss = new WebSocket.Server({ host: "127.0.0.1", port: Number(where) });
    wss.on("listening", () => console.log("listening"));
    // osc.js's own WebSocketPort would read blobs wrongly here: `ws` hands it pooled
    // Buffers (views at an offset into a larger ArrayBuffer), and osc.js 2.4.5 reads a
    // blob from the underlying ArrayBuffer without that offset. So the server copies
    // each frame and uses osc.js's codec (readPacket, writePacket) directly.
    wss.on("connection", (socket) => {
        socket.on("message", (data) => {
            const msg = osc.readPacket(Uint8Array.from(data), { metadata: true });
            show(msg);
            const echo = { address: "/echo" + msg.address, args: msg.args };
            socket.send(osc.writePacket(echo, { metadata: true }));
        });
    });
} else {
    console.error("usage: oscjs-peer.js client URL | server PORT");
    process.exit(2);
}
