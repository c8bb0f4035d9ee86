"""The dashboard's one page: static markup plus an inline script that polls ``api/run.json``.

The script builds every element with ``createElement``/``textContent`` and never assigns ``innerHTML``,
so names coming from the run (models, columns, workers, errors) cannot become markup. It loads nothing
from elsewhere, and the server sends a Content-Security-Policy allowing exactly this script (by hash),
inline styles and requests to its own origin.
"""

from __future__ import annotations

import base64
import hashlib
import json

from autolearn.report import _html as H
from autolearn.report._figures import STATUS_COLORS

POLL_MS = 2000

SCRIPT = """
"use strict";
const COLORS = __COLORS__;
const SVGNS = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
function svg(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}
function fmt(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return "";
    if (Number.isInteger(v)) return String(v);
    const s = v.toPrecision(5);
    return s.includes("e") ? s : s.replace(/\\.?0+$/, "");
  }
  return String(v);
}
function cards(summary, metric) {
  const items = [["trials", summary.trials], ["running", summary.running],
    ["best " + metric, summary.best_score], ["workers", summary.workers],
    ["busy workers", summary.utilization === null ? "n/a" : Math.round(100 * summary.utilization) + "%"],
    ["elapsed", summary.span_seconds.toFixed(1) + " s"]];
  for (const [k, v] of Object.entries(summary.statuses)) items.push([k, v]);
  const box = el("div", null, "cards");
  for (const [k, v] of items) {
    const c = el("div", null, "card");
    c.append(el("div", fmt(v), "v"), el("div", k, "k"));
    box.append(c);
  }
  $("cards").replaceChildren(box);
}
function table(board) {
  const t = el("table");
  t.id = "leaderboard-table";
  const head = el("tr");
  for (const c of board.columns) head.append(el("th", c));
  const thead = el("thead"); thead.append(head);
  const tbody = el("tbody");
  for (const row of board.rows) {
    const tr = el("tr");
    row.forEach((v) => tr.append(el("td", fmt(v), typeof v === "number" ? "num" : "")));
    tbody.append(tr);
  }
  t.append(thead, tbody);
  $("leaderboard").replaceChildren(t);
}
function axes(root, W, H, pad, xmax, ymin, ymax, xlabel, ylabel) {
  root.append(svg("line", {x1: pad, y1: H - pad, x2: W - 10, y2: H - pad, stroke: "#333"}));
  root.append(svg("line", {x1: pad, y1: 10, x2: pad, y2: H - pad, stroke: "#333"}));
  root.append(svg("text", {x: pad, y: H - pad + 16, "font-size": 11}, "0"));
  root.append(svg("text", {x: W - 10, y: H - pad + 16, "font-size": 11, "text-anchor": "end"}, fmt(xmax)));
  root.append(svg("text", {x: (W + pad) / 2, y: H - 6, "font-size": 12, "text-anchor": "middle"}, xlabel));
  root.append(svg("text", {x: pad - 4, y: H - pad, "font-size": 11, "text-anchor": "end"}, fmt(ymin)));
  root.append(svg("text", {x: pad - 4, y: 24, "font-size": 11, "text-anchor": "end"}, fmt(ymax)));
  root.append(svg("text", {x: 12, y: (H - pad) / 2, "font-size": 12, "text-anchor": "middle",
    transform: "rotate(-90 12 " + (H - pad) / 2 + ")"}, ylabel));
}
function history(h, metric) {
  const W = 720, H = 280, pad = 56;
  const root = svg("svg", {viewBox: "0 0 " + W + " " + H, width: W, height: H, id: "history-svg"});
  if (!h.points.length) {
    root.append(svg("text", {x: W / 2, y: H / 2, "text-anchor": "middle"}, "no successful trial yet"));
    $("history").replaceChildren(root); return;
  }
  const xs = h.points.map((p) => p[0]), ys = h.points.map((p) => p[1]);
  const xmax = Math.max(...xs, 1e-9), ymin = Math.min(...ys), ymax = Math.max(...ys);
  const sx = (x) => pad + (W - 10 - pad) * x / xmax;
  const sy = (y) => ymax > ymin ? H - pad - (H - pad - 20) * (y - ymin) / (ymax - ymin) : (H - pad + 20) / 2;
  axes(root, W, H, pad, xmax, ymin, ymax, "seconds since the first trial started", metric);
  for (const p of h.points) {
    const c = svg("circle", {cx: sx(p[0]), cy: sy(p[1]), r: 3.5, fill: COLORS.success, "fill-opacity": 0.6});
    c.append(svg("title", {}, "trial " + p[3] + ": " + fmt(p[1]) + " (budget " + fmt(p[2]) + ")"));
    root.append(c);
  }
  let d = "";
  h.best.forEach((b, i) => {
    d += (i ? " H " + sx(b[0]) + " V " : "M " + sx(b[0]) + " ") + sy(b[1]);
  });
  if (h.best.length) d += " H " + sx(xmax);
  root.append(svg("path", {d: d, fill: "none", stroke: "#000", "stroke-width": 1.8}));
  $("history").replaceChildren(root);
}
function timeline(tl) {
  const rowH = 26, pad = 150, W = 900, H = 50 + rowH * Math.max(tl.workers.length, 1);
  const root = svg("svg", {viewBox: "0 0 " + W + " " + H, width: W, height: H, id: "timeline-svg"});
  const span = Math.max(tl.span, 1e-9);
  const sx = (x) => pad + (W - 10 - pad) * x / span;
  tl.workers.forEach((w, i) => {
    root.append(svg("rect", {x: pad, y: 10 + i * rowH, width: W - 10 - pad, height: rowH - 6, fill: "#EEEEEE"}));
    root.append(svg("text", {x: pad - 6, y: 10 + i * rowH + rowH / 2, "font-size": 12, "text-anchor": "end"},
      w + "  " + Math.round(100 * tl.busy[i]) + "% busy"));
  });
  for (const b of tl.bars) {
    const r = svg("rect", {x: sx(b[1]), y: 10 + b[0] * rowH, width: Math.max(sx(b[1] + b[2]) - sx(b[1]), 1),
      height: rowH - 6, fill: COLORS[b[3]] || "#333", stroke: "#fff", "stroke-width": 0.5});
    r.append(svg("title", {}, "trial " + b[4] + " (" + b[3] + "): " + fmt(b[2]) + " s"));
    root.append(r);
  }
  root.append(svg("text", {x: W - 10, y: H - 8, "font-size": 11, "text-anchor": "end"}, fmt(span) + " s"));
  const kinds = [...new Set(tl.bars.map((b) => b[3]))].concat(["idle"]);
  kinds.forEach((k, i) => {
    root.append(svg("rect", {x: pad + i * 90, y: H - 20, width: 12, height: 12, fill: COLORS[k] || "#EEEEEE"}));
    root.append(svg("text", {x: pad + i * 90 + 16, y: H - 10, "font-size": 11}, k));
  });
  $("timeline").replaceChildren(root);
}
function render(d) {
  $("title").textContent = d.title;
  $("source").textContent = "source: " + d.source;
  if (d.error) { $("status").textContent = d.error; return; }
  cards(d.summary, d.metric);
  table(d.leaderboard);
  history(d.history, d.metric);
  timeline(d.timeline);
  const t = new Date(d.updated * 1000);
  $("status").textContent = "updated " + t.toLocaleTimeString() + (d.summary.running ? " (search running)" : "");
}
async function tick() {
  try {
    const r = await fetch("api/run.json", {cache: "no-store"});
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
  } catch (e) {
    $("status").textContent = "cannot reach the dashboard server: " + e.message;
  } finally {
    setTimeout(tick, __POLL_MS__);
  }
}
tick();
""".replace("__COLORS__", json.dumps(STATUS_COLORS)).replace("__POLL_MS__", str(POLL_MS))

_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")

# frame-ancestors only works as a header (browsers warn when a <meta> carries it), so the page's <meta>
# holds the rest and the server adds it to the header.
CSP_META = (f"default-src 'none'; script-src 'sha256-{_HASH}'; style-src 'unsafe-inline'; connect-src 'self'; "
            "img-src 'self' data:; base-uri 'none'; form-action 'none'")
CSP = CSP_META + "; frame-ancestors 'none'"

_BODY = """
<p id="status" class="note">loading…</p>
<section id="cards"></section>
<section><h2>Leaderboard</h2><div id="leaderboard" class="scroll"></div></section>
<section><h2>Best so far</h2><div id="history"></div></section>
<section><h2>Worker timeline</h2><div id="timeline"></div></section>
<p class="note">Static plots: %(links)s</p>
"""


def page(plot_names: list[str]) -> str:
    """The dashboard page; the title and source are filled in by the script from the JSON."""
    links = " · ".join(f'<a href="plot/{H.esc(n)}.png">{H.esc(n.replace("_", " "))}</a>' for n in plot_names)
    body = _BODY % {"links": links or "none (matplotlib is not installed)"}
    html = H.page("autolearn dashboard", "", body, csp=CSP_META)
    html = html.replace("<h1>autolearn dashboard</h1>", '<h1 id="title">autolearn dashboard</h1>', 1)
    html = html.replace('<div class="sub"></div>', '<div class="sub" id="source"></div>', 1)
    return html.replace("</body>", f"<script>{SCRIPT}</script></body>", 1)
