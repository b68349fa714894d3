// The dashboard page: REST for the first load and on demand, server-sent events for live updates.
"use strict";

const state = { token: null, selected: null, windowName: null, windows: [], lastTs: {}, alerts: [], source: null };
const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}
const fmt = (v, digits = 3) => (v === null || v === undefined ? "—" : (v > 0 ? "+" : "") + v.toFixed(digits));
const signed = (v) => el("span", { class: v > 0 ? "pos" : v < 0 ? "neg" : "" }, fmt(v));
const when = (ms) => new Date(ms).toISOString().replace("T", " ").slice(0, 19) + "Z";

// --- token: ?token= once, then sessionStorage; 401 shows the login form ---
function loadToken() {
  const params = new URLSearchParams(location.search);
  if (params.has("token")) {
    sessionStorage.setItem("finsentry-token", params.get("token"));
    params.delete("token");
    history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
  }
  state.token = sessionStorage.getItem("finsentry-token");
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (state.token) headers.Authorization = "Bearer " + state.token;
  const res = await fetch(path, { ...options, headers });
  if (res.status === 401) { showLogin("the API needs a valid token"); throw new Error("unauthorized"); }
  const body = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(body && body.detail ? JSON.stringify(body.detail) : res.statusText);
  return body;
}

function showLogin(message) {
  if (state.source) { state.source.close(); state.source = null; }
  $("#main").hidden = true; $("#login").hidden = false; $("#login-error").textContent = message || "";
}

// --- tickers, movers and the selected ticker's chart ---
function renderTickers(list) {
  state.windows = list.windows;
  const sel = $("#window");
  if (!sel.options.length) {
    for (const w of list.windows) sel.append(el("option", {}, w));
    state.windowName = list.windows[0];
  }
  const rows = list.tickers.map((t) => el("tr", { class: t.ticker === state.selected ? "sel" : "", "data-ticker": t.ticker,
    onclick: () => select(t.ticker) }, el("td", {}, t.ticker), el("td", {}, signed(t.mean)), el("td", {}, String(t.volume)),
    el("td", {}, signed(t.ewma)), el("td", {}, signed(t.move))));
  $("#tickers tbody").replaceChildren(...rows);
  $("#movers").replaceChildren(...list.movers.map((t) => el("li", { onclick: () => select(t.ticker) },
    el("b", {}, t.ticker), " ", signed(t.move), el("span", { class: "muted" }, ` (mean ${fmt(t.mean)}, ${t.volume} articles)`))));
  if (!state.selected && list.tickers.length) {  // start with the top mover
    const first = list.movers[0] || list.tickers[0];
    state.lastTs[first.ticker] = first.last_ts_ms;
    select(first.ticker);
  }
  const current = list.tickers.find((t) => t.ticker === state.selected);
  if (current && current.last_ts_ms !== state.lastTs[current.ticker]) {
    state.lastTs[current.ticker] = current.last_ts_ms;
    loadSeries();
  }
}

function select(ticker) {
  state.selected = ticker;
  $("#selected").textContent = ticker;
  for (const tr of document.querySelectorAll("#tickers tbody tr")) tr.classList.toggle("sel", tr.dataset.ticker === ticker);
  loadSeries();
}

async function loadSeries() {
  if (!state.selected) return;
  const q = new URLSearchParams({ window: state.windowName || "" });
  try {
    const s = await api(`/api/tickers/${encodeURIComponent(state.selected)}?${q}`);
    drawChart($("#chart"), s.points, s.bucket_ms, s.bucket_ms * windowBuckets(s));
    $("#headlines").replaceChildren(...s.headlines.map((h) => el("li", {}, el("span", { class: "score" }, signed(h.score)),
      " ", h.text, el("span", { class: "muted small" }, ` ${h.label} · ${when(h.ts_ms)}`))));
  } catch (e) { /* a ticker that expired: keep the last chart */ }
}
const windowBuckets = (s) => Math.max(1, Math.round(spanMs(s.window) / s.bucket_ms));
function spanMs(name) {
  const m = /^(\d+)([smhd]?)$/.exec(name);
  return m ? Number(m[1]) * { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2]] * 1000 : 3600e3;
}

// --- alerts and silences ---
// A firing notice whose episode has since resolved is shown as ended (no silence button).
function renderAlert(item, ended) {
  const a = item.payload, w = a.window || {};
  const over = a.state === "firing" && ended.has(a.episode);
  const silence = el("button", { onclick: () => addSilence({ ticker: a.ticker, rule: a.rule }) },
    `Silence ${a.ticker}/${a.rule} ${$("#s-duration").value}`);
  return el("li", { class: `alert ${over ? "ended" : a.state}`, "data-id": a.id },
    el("span", { class: "badge" }, (a.notice || a.state) + (over ? " · since resolved" : "")), " ", el("b", {}, a.ticker),
    ` ${a.rule} ${a.direction} · `,
    `mean ${fmt(w.mean_before)} → ${fmt(w.mean_after)} (${fmt(a.sigma_distance, 1)}σ, ${w.articles} articles)`,
    el("div", { class: "muted small" }, `event ${a.event_at} · fired ${a.fired_at || "—"}`),
    el("ul", {}, ...(a.headlines || []).slice(0, 3).map((h) => el("li", {}, signed(h.score), " ", h.headline))),
    a.state === "firing" && !over ? silence : null);
}

function addAlerts(items, prepend) {
  const ids = new Set(state.alerts.map((i) => i.payload.id));
  const fresh = items.filter((i) => !ids.has(i.payload.id));
  state.alerts = prepend ? [...fresh.reverse(), ...state.alerts] : [...state.alerts, ...fresh];
  state.alerts = state.alerts.slice(0, 50);
  const ended = new Set(state.alerts.filter((i) => i.payload.state === "resolved").map((i) => i.payload.episode));
  $("#alerts").replaceChildren(...(state.alerts.length ? state.alerts.map((i) => renderAlert(i, ended))
    : [el("li", { class: "muted" }, "no alerts yet")]));
}

async function loadSilences() {
  const items = await api("/api/silences");
  $("#silences").replaceChildren(...items.map((s) => el("li", {}, el("b", {}, s.ticker || "any ticker"), ` / ${s.rule || "any rule"}`,
    el("span", { class: "muted" }, ` until ${when(s.ends_at * 1000)} ${s.comment ? "· " + s.comment : ""} `),
    el("button", { onclick: () => expireSilence(s.id) }, "Expire"))));
}

async function addSilence(fields) {
  $("#silence-error").textContent = "";
  const body = { duration: $("#s-duration").value, comment: $("#s-comment").value, ...fields };
  try {
    await api("/api/silences", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  } catch (e) { $("#silence-error").textContent = e.message; }
  await loadSilences();
}
async function expireSilence(id) { await api(`/api/silences/${id}/expire`, { method: "POST" }); await loadSilences(); }

// --- health ---
function renderHealth(h) {
  const part = (label, value, bad) => el("span", { class: bad ? "bad" : "" }, `${label} ${value}`);
  const n = (v, d, unit) => (v === null || v === undefined ? "—" : v.toFixed(d) + unit);
  const parts = [part("Redis", h.redis ? "ok" : "down", !h.redis), part("msg/s", n(h.messages_per_s, 1, "")),
    part("dead-letter", h.dead_letter_rate == null ? "—" : (100 * h.dead_letter_rate).toFixed(1) + "%", h.dead_letter_rate > 0.05),
    part("latency", n(h.batch_latency_s, 3, " s"))];
  for (const w of h.workers) {
    const title = w.error || `model ${w.model_version || "?"}, last batch ${n(w.last_batch_age_s, 0, " s")} ago`;
    parts.push(el("span", { class: w.up && w.ready ? "ok" : "bad", title },
      `${w.url.replace(/^https?:\/\//, "")} ${w.up ? (w.ready ? "ready" : "not ready") : "down"}`));
  }
  if (h.note) parts.push(el("span", { class: "muted", title: h.note }, h.note.split(":")[0]));
  $("#health").replaceChildren(...parts);
}

// --- live updates ---
function connect(after) {
  const q = new URLSearchParams({ after });
  if (state.token) q.set("token", state.token);
  const url = "/api/events?" + q;
  const source = (state.source = new EventSource(url));
  const live = (on) => { $("#live").className = "dot " + (on ? "on" : "off"); $("#live").textContent = on ? "live" : "reconnecting"; };
  source.onopen = () => live(true);
  source.onerror = () => live(false);
  source.addEventListener("tickers", (e) => renderTickers(JSON.parse(e.data)));
  source.addEventListener("alert", (e) => { addAlerts([JSON.parse(e.data)], true); loadSilences(); });
  source.addEventListener("health", (e) => renderHealth(JSON.parse(e.data)));
  source.addEventListener("problem", (e) => { live(false); $("#live").textContent = JSON.parse(e.data).detail; });
}

async function start() {
  $("#main").hidden = false; $("#login").hidden = true;
  renderTickers(await api("/api/tickers"));
  const feed = await api("/api/alerts?limit=30");
  addAlerts(feed.recent, false);
  await loadSilences();
  connect(feed.recent.length ? feed.recent[0].entry_id : "0-0");  // no alert between the two is missed
}

$("#login").addEventListener("submit", (e) => {
  e.preventDefault();
  state.token = $("#token").value;
  sessionStorage.setItem("finsentry-token", state.token);
  start().catch(() => {});
});
$("#window").addEventListener("change", (e) => { state.windowName = e.target.value; loadSeries(); });
$("#silence-form").addEventListener("submit", (e) => {
  e.preventDefault();
  addSilence({ ticker: $("#s-ticker").value.trim() || null, rule: $("#s-rule").value || null });
});
loadToken();
start().catch(() => {});
