// osc4rs monitor page: talks to the monitor over a WebSocket on the same port.
// Every value shown comes from the network, so it is set with textContent only.
"use strict";

const $ = (id) => document.getElementById(id);
const COLORS = ["#5fb3f9", "#f7b955", "#7bd88f", "#ff6b6b", "#c792ea", "#89ddff", "#f78c6c", "#c3e88d"];
const MAX_PLOTS = 8;
const KEEP_BUNDLES = 50;
const KEEP_MALFORMED = 20;

// What tests and the load bench read (playwright: window.monitor).
const stats = {
  updates: 0, frames: 0, draws: 0, bytes: 0, largest: 0, latencyMs: 0, maxLatencyMs: 0, latencies: [],
  connected: false, lastSnapshot: null,
};
window.monitor = stats;

const state = {
  sort: "address", desc: false, filter: "", selected: [], paused: false,
  window: 10, plots: [], now: 0, dirty: false, sendId: 0,
};

let ws = null;

function send(obj) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(obj));
}

function plotWidth() {
  const c = document.querySelector("canvas.plot");
  return Math.max(100, Math.round((c ? c.clientWidth : $("plots").clientWidth) || 600));
}

function sendView() {
  send({ cmd: "view", filter: state.filter, sort: state.sort, desc: state.desc, limit: 500 });
}

function sendPlots() {
  send({ cmd: "plot", addresses: state.selected, window: state.window, points: plotWidth() });
}

function connect() {
  ws = new WebSocket(`ws://${location.host}/ws`);
  ws.onopen = () => {
    stats.connected = true;
    $("status").textContent = "live";
    $("status").className = "status live";
    sendView();
    sendPlots();
  };
  ws.onclose = () => {
    stats.connected = false;
    $("status").textContent = "disconnected — retrying";
    $("status").className = "status down";
    setTimeout(connect, 1000);
  };
  ws.onmessage = (ev) => {
    stats.bytes += ev.data.length;
    stats.largest = Math.max(stats.largest, ev.data.length);
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    switch (msg.type) {
      case "hello": $("endpoints").textContent = msg.endpoints.join("  "); break;
      case "snapshot": onSnapshot(msg); break;
      case "sent": onSent(msg); break;
      case "record": onRecord(msg); break;
      case "plot": onPlotAccepted(msg.addresses); break;
      case "error": onError(msg.error); break;
    }
  };
}

function fmtRate(r) { return r >= 100 ? r.toFixed(0) : r.toFixed(1); }
function fmtAge(a) {
  if (a < 1) return (a * 1000).toFixed(0) + " ms";
  if (a < 120) return a.toFixed(1) + " s";
  return (a / 60).toFixed(0) + " min";
}
function fmtTime(t) {
  const d = new Date(t * 1000);
  return d.toTimeString().slice(0, 8) + "." + String(d.getMilliseconds()).padStart(3, "0");
}
function cell(tr, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}

function onSnapshot(s) {
  stats.updates++;
  const lat = Math.max(0, Date.now() - s.now * 1000);
  stats.latencyMs = lat;
  stats.maxLatencyMs = Math.max(stats.maxLatencyMs, lat);
  stats.latencies.push(lat);
  if (stats.latencies.length > 1000) stats.latencies.shift();
  stats.lastSnapshot = { rows: s.rows.length, matching: s.matching, totals: s.totals };
  const t = s.totals;
  $("totals").textContent =
    `${t.messages} messages · ${fmtRate(t.rate)}/s · ${t.addresses} addresses` +
    (t.others ? ` (+${t.others} others)` : "") + ` · ${t.bundles} bundles · ${t.malformed} malformed`;
  $("matching").textContent = `${s.rows.length} of ${s.matching} rows`;
  renderRows(s.rows);
  renderBundles(s.bundles, t);
  renderMalformed(s.malformed, t);
  renderRecording(s.recording);
  if (!state.paused) {
    state.plots = s.plots;
    state.now = s.now;
    state.dirty = true;
  }
}

// Rows are updated in place (the same <tr> for the same position), so that a row
// under the mouse is still there when the click ends, and the page only touches
// the text that changed.
const ROW_CELLS = ["address", "sources", "tags", "value", "count num", "rate num", "age num"];

function setText(td, text) {
  if (td.textContent !== text) td.textContent = text;
}

function renderRows(rows) {
  const body = $("addresses").tBodies[0];
  rows.forEach((r, i) => {
    let tr = body.rows[i];
    if (!tr) {
      tr = document.createElement("tr");
      for (const cls of ROW_CELLS) cell(tr, "", cls);
      body.appendChild(tr);
    }
    if (tr.dataset.address !== r.address) tr.dataset.address = r.address;
    tr.classList.toggle("selected", state.selected.includes(r.address));
    const c = tr.cells;
    setText(c[0], r.address);
    setText(c[1], r.sources.join(", "));
    c[1].title = r.sources.concat(r.channels).join("\n");
    setText(c[2], r.tags);
    setText(c[3], r.value);
    c[3].title = r.value;
    setText(c[4], String(r.count));
    setText(c[5], fmtRate(r.rate));
    c[5].dataset.rate = String(r.rate);
    setText(c[6], fmtAge(r.age));
  });
  while (body.rows.length > rows.length) body.deleteRow(body.rows.length - 1);
}

function renderBundles(list, t) {
  $("bundle-counts").textContent = `${t.bundles} (${t.late} late, ${t.early} early)`;
  const body = $("bundles").tBodies[0];
  for (const b of list) {
    const tr = document.createElement("tr");
    cell(tr, fmtTime(b.at));
    cell(tr, b.source);
    cell(tr, b.timetag);
    if (b.late === null) cell(tr, "immediately", "num");
    else cell(tr, (b.late >= 0 ? "+" : "") + (b.late * 1000).toFixed(1) + " ms", "num " + (b.late > 0 ? "late" : "early"));
    cell(tr, String(b.elements), "num");
    cell(tr, String(b.size), "num");
    body.insertBefore(tr, body.firstChild);
  }
  while (body.rows.length > KEEP_BUNDLES) body.deleteRow(body.rows.length - 1);
}

function renderMalformed(list, t) {
  $("malformed-count").textContent = String(t.malformed);
  const box = $("malformed");
  for (const m of list) {
    const div = document.createElement("div");
    div.className = "bad-packet";
    const head = document.createElement("div");
    head.className = "error";
    head.textContent = `${fmtTime(m.at)} from ${m.source} (${m.size} bytes): ${m.error}`;
    const pre = document.createElement("pre");
    pre.textContent = m.hex;
    div.appendChild(head);
    div.appendChild(pre);
    box.insertBefore(div, box.firstChild);
  }
  while (box.children.length > KEEP_MALFORMED) box.removeChild(box.lastChild);
}

function renderRecording(r) {
  const b = $("record");
  b.classList.toggle("on", r.active);
  b.textContent = r.active ? "■ Stop recording" : "● Record";
  const st = $("record-status");
  st.dataset.active = String(r.active);
  if (r.active) { st.textContent = `recording ${r.records} packets to ${r.path}`; st.className = "ok"; }
  else if (r.error) { st.textContent = r.error; st.className = "error"; }
  else if (r.path) { st.textContent = `recorded ${r.records} packets to ${r.path}`; st.className = ""; }
  else st.textContent = "";
}

function onSent(m) {
  const el = $("send-result");
  el.dataset.ok = String(m.ok);
  el.dataset.id = String(m.id);
  el.textContent = m.ok ? "✓ " + m.text : "✗ " + m.error;
  el.className = m.ok ? "ok" : "error";
}

function onRecord(m) {
  if (!m.ok) { $("record-status").textContent = m.error; $("record-status").className = "error"; }
}

function onError(e) {
  if (e.startsWith("view:")) { $("filter-error").textContent = e; }
  else console.warn("monitor:", e);
}

// ---- plots ----

function onPlotAccepted(addresses) {
  state.selected = addresses;
  const box = $("plots");
  const keep = new Set(addresses);
  for (const c of Array.from(box.querySelectorAll("canvas.plot"))) {
    if (!keep.has(c.dataset.address)) c.remove();
  }
  for (const a of addresses) {
    if (!box.querySelector(`canvas.plot[data-address="${CSS.escape(a)}"]`)) {
      const c = document.createElement("canvas");
      c.className = "plot";
      c.dataset.address = a;
      c.dataset.points = "0";
      c.addEventListener("wheel", (ev) => {
        ev.preventDefault();
        setWindow(state.window * (ev.deltaY > 0 ? 1.25 : 0.8));
      }, { passive: false });
      box.appendChild(c);
    }
  }
  for (const tr of $("addresses").tBodies[0].rows) {
    tr.classList.toggle("selected", keep.has(tr.dataset.address));
  }
  state.dirty = true;
}

function setWindow(w) {
  state.window = Math.min(3600, Math.max(0.1, w));
  sendPlots();
}

function draw() {
  const byAddr = new Map(state.plots.map((p) => [p.address, p]));
  for (const c of document.querySelectorAll("canvas.plot")) {
    const w = c.clientWidth, h = c.clientHeight;
    if (c.width !== w) c.width = w;
    if (c.height !== h) c.height = h;
    const g = c.getContext("2d");
    g.clearRect(0, 0, w, h);
    const p = byAddr.get(c.dataset.address);
    const series = p ? p.series : [];
    const t1 = state.now, t0 = t1 - state.window;
    let lo = Infinity, hi = -Infinity;
    for (const s of series) for (const [, v] of s.points) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (!(hi >= lo)) { lo = 0; hi = 1; }
    if (hi === lo) { hi += 0.5; lo -= 0.5; }
    const pad = 16;
    const x = (t) => ((t - t0) / (t1 - t0)) * (w - 2) + 1;
    const y = (v) => h - pad - ((v - lo) / (hi - lo)) * (h - 2 * pad);
    g.strokeStyle = "#2c313c";
    g.beginPath(); g.moveTo(0, y(lo)); g.lineTo(w, y(lo)); g.moveTo(0, y(hi)); g.lineTo(w, y(hi)); g.stroke();
    let drawn = 0;
    series.forEach((s, i) => {
      const color = COLORS[i % COLORS.length];
      g.strokeStyle = color;
      g.fillStyle = color;
      g.beginPath();
      s.points.forEach(([t, v], k) => {
        const px = x(t), py = y(v);
        if (k === 0) g.moveTo(px, py); else g.lineTo(px, py);
        drawn++;
      });
      g.stroke();
      if (s.points.length < 200) for (const [t, v] of s.points) g.fillRect(x(t) - 1.5, y(v) - 1.5, 3, 3);
    });
    g.fillStyle = "#8a93a3";
    g.font = "11px ui-monospace, monospace";
    const legend = series.map((s) => `arg ${s.arg} (${s.tag})`).join("  ");
    g.fillText(`${c.dataset.address}  ${legend}${state.paused ? "  [paused]" : ""}`, 4, 11);
    g.fillText(String(+hi.toPrecision(6)), w - 80, pad - 3);
    g.fillText(String(+lo.toPrecision(6)), w - 80, h - 3);
    g.fillText(`${+state.window.toPrecision(3)} s`, 4, h - 3);
    c.dataset.points = String(drawn);
    c.dataset.window = String(state.window);
    c.dataset.paused = String(state.paused);
    c.dataset.series = String(series.length);
  }
  stats.draws++;
}

function frame() {
  stats.frames++;
  if (state.dirty) { state.dirty = false; draw(); }
  requestAnimationFrame(frame);
}

// ---- controls ----

function setup() {
  let timer = null;
  $("filter").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      state.filter = $("filter").value.trim();
      $("filter-error").textContent = "";
      sendView();
    }, 200);
  });
  for (const th of document.querySelectorAll("#addresses th[data-sort]")) {
    th.addEventListener("click", () => {
      const key = th.dataset.sort;
      if (state.sort === key) state.desc = !state.desc;
      else { state.sort = key; state.desc = key === "count" || key === "rate"; }
      for (const o of document.querySelectorAll("#addresses th")) o.className = "";
      th.className = "sorted " + (state.desc ? "desc" : "asc");
      sendView();
    });
  }
  $("addresses").addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr[data-address]");
    if (!tr) return;
    const a = tr.dataset.address;
    let sel = state.selected.filter((s) => s !== a);
    if (sel.length === state.selected.length) sel = sel.concat([a]).slice(-MAX_PLOTS);
    state.selected = sel;
    sendPlots();
  });
  $("pause").addEventListener("click", () => {
    state.paused = !state.paused;
    $("pause").textContent = state.paused ? "▶ Resume" : "❚❚ Pause";
    $("pause").classList.toggle("on", state.paused);
    state.dirty = true;
  });
  $("window").addEventListener("change", () => setWindow(Number($("window").value)));
  const doSend = () => {
    state.sendId++;
    $("send-result").textContent = "…";
    $("send-result").dataset.ok = "";
    send({ cmd: "send", id: state.sendId, url: $("send-url").value.trim(), packet: $("send-packet").value });
  };
  $("send").addEventListener("click", doSend);
  $("send-packet").addEventListener("keydown", (ev) => { if (ev.key === "Enter") doSend(); });
  $("record").addEventListener("click", () => {
    send({ cmd: "record", action: $("record").classList.contains("on") ? "stop" : "start" });
  });
  window.addEventListener("resize", () => { if (state.selected.length) sendPlots(); state.dirty = true; });
  requestAnimationFrame(frame);
  connect();
}

setup();
