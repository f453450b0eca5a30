#!/usr/bin/env node
// Drives the osc4rs monitor page in headless Chromium (Debian's, through
// playwright-core: no browser download) for osc4rs-cli/tests/monitor.rs and
// scripts/bench-monitor.py. One JSON object per line on stdout:
//   {"step":"rows", "rows":[{address,count,value,rate,tags}...]}  the table, once `--wait-count` is reached
//   {"step":"selected", "address":...}                              a row was clicked; its plot exists
//   {"step":"plot", "points":N, "series":K}                         the plot drew `--expect-points` points
//   {"step":"paused", "points":N} / {"step":"resumed", "whilePaused", "after", "window"}
//   {"step":"sent", "ok":bool, "text":...}                          the send panel's answer
//   {"step":"screenshot", "path":...}
//   {"step":"sorted", "order":[...]}                              after clicking a column header
//   {"step":"filtered", "rows":[...]}                              after typing an OSC pattern in the filter
//   {"step":"stats", ...}                                           updates, frames, latency (bench)
// Usage: node scripts/monitor-browser.js URL [--wait-count ADDRESS=N] [--window SECONDS]
//   [--select ADDRESS[,ADDRESS...]]
//   [--expect-points N] [--pause-until ADDRESS=N --points-after N [--zoom SECONDS]]
//   [--send-url URL --send PACKET] [--screenshot PATH]
//   [--measure SECONDS] [--sort COLUMN] [--filter PATTERN --filter-count N] [--chromium PATH]
"use strict";

const path = require("path");
const root = path.resolve(__dirname, "..");
const { chromium } = require(path.join(root, ".node/node_modules/playwright-core"));

function args() {
  const a = { url: process.argv[2] };
  for (let i = 3; i < process.argv.length; i += 2) {
    a[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
  }
  return a;
}

const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const TIMEOUT = 30000;

// The browser's path: `--chromium` (a path, or a command name looked up on PATH).
function executable(name) {
  if (!name) return "/usr/bin/chromium";
  if (name.includes("/")) return name;
  return require("child_process").execFileSync("sh", ["-c", 'command -v "$0"', name]).toString().trim();
}

async function main() {
  const a = args();
  const browser = await chromium.launch({
    executablePath: executable(a.chromium),
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    page.on("pageerror", (e) => out({ step: "pageerror", error: String(e) }));
    await page.goto(a.url);
    await page.waitForFunction(() => window.monitor && window.monitor.connected, null, { timeout: TIMEOUT });

    if (a["wait-count"]) {
      const [addr, n] = a["wait-count"].split("=");
      await page.waitForFunction(
        ([addr, n]) => {
          const tr = document.querySelector(`#addresses tr[data-address="${CSS.escape(addr)}"]`);
          return tr && tr.querySelector("td.count").textContent === n;
        },
        [addr, n],
        { timeout: TIMEOUT },
      );
      const rows = await page.$$eval("#addresses tbody tr", (trs) =>
        trs.map((tr) => ({
          address: tr.dataset.address,
          sources: tr.querySelector("td.sources").textContent,
          tags: tr.querySelector("td.tags").textContent,
          value: tr.querySelector("td.value").textContent,
          count: Number(tr.querySelector("td.count").textContent),
          rate: Number(tr.querySelector("td.rate").dataset.rate),
          rateShown: tr.querySelector("td.rate").textContent,
        })),
      );
      out({ step: "rows", rows });
    }

    if (a.window) {
      // The plots' time window (an option of the menu, in seconds).
      await page.selectOption("#window", a.window);
    }

    if (a.select) {
      // One address, or several separated by commas (all plotted; the first checked).
      const all = a.select.split(",");
      a.select = all[0];
      for (const addr of all) {
        const row = `#addresses tr[data-address="${addr}"]`;
        await page.waitForSelector(row, { timeout: TIMEOUT });
        await page.click(row);
        await page.waitForSelector(`canvas.plot[data-address="${addr}"]`, { timeout: TIMEOUT });
      }
      out({ step: "selected", address: a.select });
      if (a["expect-points"]) {
        const want = Number(a["expect-points"]);
        await page.waitForFunction(
          ([addr, want]) => {
            const c = document.querySelector(`canvas.plot[data-address="${CSS.escape(addr)}"]`);
            return c && Number(c.dataset.points) >= want;
          },
          [a.select, want],
          { timeout: TIMEOUT },
        );
        const p = await page.$eval(`canvas.plot[data-address="${a.select}"]`, (c) => ({
          points: Number(c.dataset.points),
          series: Number(c.dataset.series),
        }));
        out({ step: "plot", ...p });
      }
    }

    if (a["pause-until"]) {
      // Pause: the plot stays as it was while the table goes on (to ADDRESS=N), then
      // resume; with --zoom, pick that window afterwards.
      const [addr, n] = a["pause-until"].split("=");
      const canvas = `canvas.plot[data-address="${a.select}"]`;
      await page.click("#pause");
      await page.waitForSelector(`${canvas}[data-paused="true"]`, { timeout: TIMEOUT });
      const before = Number(await page.getAttribute(canvas, "data-points"));
      out({ step: "paused", points: before });
      await page.waitForFunction(
        ([addr, n]) => {
          const tr = document.querySelector(`#addresses tr[data-address="${CSS.escape(addr)}"]`);
          return tr && tr.querySelector("td.count").textContent === n;
        },
        [addr, n],
        { timeout: TIMEOUT },
      );
      const whilePaused = Number(await page.getAttribute(canvas, "data-points"));
      await page.click("#pause");
      const want = Number(a["points-after"] || 0);
      await page.waitForFunction(
        ([sel, want]) => {
          const c = document.querySelector(sel);
          return c.dataset.paused === "false" && Number(c.dataset.points) >= want;
        },
        [canvas, want],
        { timeout: TIMEOUT },
      );
      const after = Number(await page.getAttribute(canvas, "data-points"));
      let window = null;
      if (a.zoom) {
        await page.selectOption("#window", a.zoom);
        await page.waitForSelector(`${canvas}[data-window="${a.zoom}"]`, { timeout: TIMEOUT });
        window = Number(await page.getAttribute(canvas, "data-window"));
      }
      out({ step: "resumed", whilePaused, after, window });
    }

    if (a.send) {
      await page.fill("#send-url", a["send-url"]);
      await page.fill("#send-packet", a.send);
      await page.click("#send");
      await page.waitForFunction(() => {
        const r = document.getElementById("send-result");
        return r.dataset.ok === "true" || r.dataset.ok === "false";
      }, null, { timeout: TIMEOUT });
      const r = await page.$eval("#send-result", (el) => ({ ok: el.dataset.ok === "true", text: el.textContent }));
      out({ step: "sent", ...r });
    }

    if (a.measure) {
      // Frames and updates the page handled while the monitor is under load.
      const before = await page.evaluate(() => ({ u: window.monitor.updates, f: window.monitor.frames, d: window.monitor.draws, b: window.monitor.bytes }));
      const t0 = Date.now();
      await page.waitForTimeout(Number(a.measure) * 1000);
      const secs = (Date.now() - t0) / 1000;
      const after = await page.evaluate(() => ({
        u: window.monitor.updates, f: window.monitor.frames, d: window.monitor.draws,
        b: window.monitor.bytes, largest: window.monitor.largest,
        lat: window.monitor.latencies.slice(), last: window.monitor.lastSnapshot,
      }));
      const lat = after.lat.slice(-Math.min(after.lat.length, after.u - before.u)).sort((x, y) => x - y);
      const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : null);
      out({
        step: "stats", seconds: secs,
        updatesPerSec: (after.u - before.u) / secs,
        framesPerSec: (after.f - before.f) / secs,
        drawsPerSec: (after.d - before.d) / secs,
        bytesPerUpdate: (after.b - before.b) / Math.max(1, after.u - before.u), largestUpdate: after.largest,
        latencyMedianMs: q(0.5), latencyP99Ms: q(0.99), latencyMaxMs: lat.length ? lat[lat.length - 1] : null,
        last: after.last,
      });
    }

    if (a.screenshot) {
      await page.waitForTimeout(300); // one more update and frame
      await page.screenshot({ path: a.screenshot, fullPage: true });
      out({ step: "screenshot", path: a.screenshot });
    }
    if (a.sort) {
      // Click a column header (count and rate sort largest first), then read the order.
      await page.click(`#addresses th[data-sort="${a.sort}"]`);
      await page.waitForFunction((key) => {
        const vals = Array.from(document.querySelectorAll("#addresses tbody td.count"), (td) => Number(td.textContent));
        return key !== "count" || vals.every((v, i) => i === 0 || vals[i - 1] >= v);
      }, a.sort, { timeout: TIMEOUT });
      const order = await page.$$eval("#addresses tbody tr", (trs) => trs.map((tr) => tr.dataset.address));
      out({ step: "sorted", order });
    }

    if (a.filter) {
      // Type an OSC pattern in the filter; the rows left are those the monitor matched.
      await page.fill("#filter", a.filter);
      await page.waitForFunction((want) => {
        const m = document.getElementById("matching").textContent;
        return m.endsWith(` of ${want} rows`);
      }, a["filter-count"] || "1", { timeout: TIMEOUT });
      const rows = await page.$$eval("#addresses tbody tr", (trs) => trs.map((tr) => tr.dataset.address));
      out({ step: "filtered", rows });
    }
  } finally {
    await browser.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => { out({ step: "error", error: String(e && e.stack || e) }); process.exit(1); },
);
