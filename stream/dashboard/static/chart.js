// A small dependency-free SVG line chart of mean signed score (-1..1) over event time, with volume bars.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function timeLabel(ms, spanMs) {
  const d = new Date(ms);
  const hh = String(d.getUTCHours()).padStart(2, "0"), mm = String(d.getUTCMinutes()).padStart(2, "0");
  const ss = String(d.getUTCSeconds()).padStart(2, "0");
  if (spanMs > 2 * 86400e3) return `${d.getUTCMonth() + 1}/${d.getUTCDate()} ${hh}h`;
  return spanMs > 3600e3 ? `${hh}:${mm}` : `${hh}:${mm}:${ss}`;
}

// points: [{t_ms, count, mean}], oldest first; bucketMs: bucket width; windowMs: whole window span.
function drawChart(svg, points, bucketMs, windowMs) {
  const W = 640, H = 260, L = 52, R = 12, T = 12, B = 44;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.replaceChildren();
  const end = points.length ? points[points.length - 1].t_ms + bucketMs : Date.now();
  const start = end - windowMs;
  const x = (t) => L + ((t - start) / (end - start)) * (W - L - R);
  const y = (v) => T + ((1 - v) / 2) * (H - T - B);
  const grid = svgEl("g", { class: "grid" });
  for (const v of [-1, -0.5, 0, 0.5, 1]) {
    grid.append(svgEl("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), class: v === 0 ? "zero" : "" }));
    grid.append(svgEl("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, (v > 0 ? "+" : "") + v.toFixed(1)));
  }
  for (let i = 0; i <= 5; i++) {
    const t = start + (i / 5) * (end - start);
    grid.append(svgEl("line", { x1: x(t), x2: x(t), y1: T, y2: H - B, class: "v" }));
    const anchor = i === 0 ? "start" : i === 5 ? "end" : "middle";
    grid.append(svgEl("text", { x: x(t), y: H - B + 16, "text-anchor": anchor }, timeLabel(t, end - start)));
  }
  svg.append(grid);
  svg.append(svgEl("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", class: "axis-title" },
    "event time (UTC)"));
  svg.append(svgEl("text", { x: 14, y: (T + H - B) / 2, "text-anchor": "middle", class: "axis-title",
    transform: `rotate(-90 14 ${(T + H - B) / 2})` }, "mean score (−1 … +1)"));
  const maxCount = Math.max(1, ...points.map((p) => p.count));
  const bars = svgEl("g", { class: "bars" });
  const bw = Math.max(1, x(start + bucketMs) - x(start) - 1);
  for (const p of points) {
    const h = (p.count / maxCount) * 40;
    const bar = svgEl("rect", { x: x(p.t_ms), y: H - B - h, width: bw, height: h });
    bar.append(svgEl("title", {}, `${p.count} articles`));
    bars.append(bar);
  }
  svg.append(bars);
  const d = points.map((p, i) => `${i ? "L" : "M"}${x(p.t_ms + bucketMs / 2).toFixed(1)},${y(p.mean).toFixed(1)}`);
  svg.append(svgEl("path", { d: d.join(" "), class: "line", "data-points": points.length }));
  for (const p of points) {
    const dot = svgEl("circle", { cx: x(p.t_ms + bucketMs / 2), cy: y(p.mean), r: 2.5,
      class: p.mean >= 0 ? "pos" : "neg" });
    dot.append(svgEl("title", {}, `${timeLabel(p.t_ms, 0)} UTC: mean ${p.mean.toFixed(3)}, ${p.count} articles`));
    svg.append(dot);
  }
  if (!points.length) {
    svg.append(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "empty" }, "no articles yet"));
  }
}
