// spyglass view: the single-page app served by `spyglass view`. Hand-written, no
// build step. Each view is a hash route (#/db, #/table/NAME?…, #/row/NAME?key=…,
// #/diagram, #/sessions, #/session/NWB, #/traces/NWB?src=…&ch=…&t0=…&t1=…,
// #/sorting/SORTING_ID/CURATION_ID, #/position/NWB?merge=ID&lin=GRAPH/PARAMS), so a URL
// names what is shown and can be shared with a lab mate of the same server.
"use strict";

// the token came in the URL once; the server answered with a cookie, so drop it
if (location.search.includes("token=")) {
  history.replaceState(null, "", location.pathname + location.hash);
}

const app = document.getElementById("app");
window.__timings = [];

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c == null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// an export (`spyglass view --export`) carries its answers in data.js
const STATIC = window.__STATIC || null;

function staticKey(path, params) {
  const skip = path === "traces/data" ? ["t0", "t1", "px", "ch"] : [];
  const kv = Object.entries(params || {}).map(([k, v]) => [k, String(v)])
    .filter(([k, v]) => v !== "" && !skip.includes(k)).map(([k, v]) => k + "=" + v).sort();
  return path + "|" + kv.join("|");
}

async function api(path, params) {
  if (STATIC) {
    const key = staticKey(path, params);
    if (!(key in STATIC.answers)) throw new Error("this view is not in the export (" + key + ")");
    return STATIC.answers[key];
  }
  const q = params ? "?" + new URLSearchParams(params).toString() : "";
  const r = await fetch("/api/" + path + q, { credentials: "same-origin" });
  if (r.status === 401) throw new Error("not authorized: open the URL with the token that `spyglass view` printed");
  const ct = r.headers.get("content-type") || "";
  const body = ct.includes("json") ? await r.json() : await r.text();
  if (!r.ok) throw new Error((body && body.error) || String(body));
  return body;
}

// a traces window: from the server as bytes (`fmt=bin`: a JSON header, then the
// times as f64 and each channel's values as f32, little-endian), read as typed arrays
// without parsing numbers; from an export as its JSON
async function fetchWindow(q) {
  if (STATIC) return api("traces/data", q);
  const asked = performance.now();
  const url = "/api/traces/data?" + new URLSearchParams({ ...q, fmt: "bin" }).toString();
  const r = await fetch(url, { credentials: "same-origin" });
  if (r.status === 401) throw new Error("not authorized: open the URL with the token that `spyglass view` printed");
  if (!r.ok) {
    const ct = r.headers.get("content-type") || "";
    const body = ct.includes("json") ? await r.json() : await r.text();
    throw new Error((body && body.error) || String(body));
  }
  const buf = await r.arrayBuffer();
  const received = performance.now();
  const hl = new DataView(buf).getUint32(0, true);
  const d = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, hl)));
  let off = Math.ceil((4 + hl) / 8) * 8;
  const nt = d.nt;
  d.t = new Float64Array(buf, off, nt); off += 8 * nt;
  const lanes = () => d.channels.map(() => { const a = new Float32Array(buf, off, nt); off += 4 * nt; return a; });
  if (d.mode === "points") d.y = lanes(); else { d.min = lanes(); d.max = lanes(); }
  d.bytes = buf.byteLength;
  d.net_ms = received - asked;
  d.received = received;
  d.parse_ms = performance.now() - received;
  d.server_timing = r.headers.get("server-timing") || "";
  d.url = new URL(url, location.href).href;
  return d;
}

// the browser's own timing of a request (Resource Timing): queued in the browser
// before it was sent, sent until the answer's first byte, the answer's bytes, and the
// answer's end until the page's script had it (`received`, a performance.now())
function requestParts(url, received) {
  const e = performance.getEntriesByName(url, "resource").pop();
  performance.clearResourceTimings();
  if (!e) return {};
  return { queued_ms: e.requestStart - e.startTime, waiting_ms: e.responseStart - e.requestStart, body_ms: e.responseEnd - e.responseStart, handed_ms: received - e.responseEnd };
}

function parseHash() {
  const h = location.hash.replace(/^#\/?/, "");
  const [path, query] = h.split("?");
  const parts = path.split("/").map(decodeURIComponent);
  return { parts, params: new URLSearchParams(query || "") };
}

function go(parts, params) {
  const p = parts.map(encodeURIComponent).join("/");
  const q = params && [...params.keys()].length ? "?" + params.toString() : "";
  location.hash = "#/" + p + q;
}

function show(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

function tier(t) { return el("span", { class: "tier tier-" + t }, t); }

let current = null; // the view's cleanup

async function route() {
  if (current) { current(); current = null; }
  const { parts, params } = parseHash();
  const view = parts[0] || "db";
  document.body.dataset.ready = "0";
  app.replaceChildren(el("p", { class: "muted" }, "loading…"));
  try {
    if (view === "db") await viewSchemas();
    else if (view === "table") await viewTable(parts[1], params);
    else if (view === "row") await viewRow(parts[1], params);
    else if (view === "diagram") await viewDiagram(params);
    else if (view === "sessions") await viewSessions();
    else if (view === "session") await viewSession(parts[1]);
    else if (view === "traces") await viewTraces(parts[1], params);
    else if (view === "sorting") await viewSorting(parts[1], parts[2]);
    else if (view === "position") await viewPosition(parts[1], params);
    else app.replaceChildren(el("p", { class: "error" }, "no such view: " + view));
  } catch (e) {
    app.replaceChildren(el("p", { class: "error" }, String(e.message || e)));
  }
  document.body.dataset.view = view;
  document.body.dataset.ready = "1";
}

// ---- database -------------------------------------------------------------

async function viewSchemas() {
  const schemas = await api("schemas");
  const box = el("div", { class: "schemas" });
  for (const s of schemas) {
    box.append(el("div", { class: "schema" },
      el("h2", {}, s.schema, " ", el("a", { href: "#/diagram?schema=" + encodeURIComponent(s.schema), class: "muted" }, "diagram")),
      el("ul", {}, s.tables.map((t) =>
        el("li", {}, tier(t.tier), " ",
          el("a", { href: "#/table/" + encodeURIComponent(t.name) }, t.name.split(".").slice(1).join(".")),
          el("span", { class: "muted" }, " " + t.rows + " rows"))))));
  }
  app.replaceChildren(el("h1", {}, "Database"), box);
}

async function viewTable(name, params) {
  const offset = Number(params.get("offset") || 0);
  const limit = Number(params.get("limit") || 50);
  const where = params.get("where") || "";
  const key = params.get("key") || "";
  const t = await api("table", { name, where, key, offset, limit });
  const whereIn = el("input", { type: "text", value: where, placeholder: "SQL restriction, e.g. nwb_file_name LIKE 'demo%'" });
  const keyIn = el("input", { type: "text", value: key, placeholder: '{"attribute": value}' });
  const apply = () => {
    const p = new URLSearchParams();
    if (whereIn.value) p.set("where", whereIn.value);
    if (keyIn.value) p.set("key", keyIn.value);
    go(["table", name], p);
  };
  const page = (o) => {
    const p = new URLSearchParams(params);
    p.set("offset", String(Math.max(0, o)));
    go(["table", name], p);
  };
  const cols = t.heading.map((h) => h.name);
  const table = el("table", { class: "grid" },
    el("thead", {}, el("tr", {}, t.heading.map((h) =>
      el("th", { class: h.in_key ? "key" : "", title: h.type + (h.comment ? " — " + h.comment : "") }, h.name)))),
    el("tbody", {}, t.rows.map((r) => el("tr", {
      class: "clickable",
      onclick: () => {
        const k = {};
        for (const a of t.primary_key) k[a] = r[a];
        go(["row", name], new URLSearchParams({ key: JSON.stringify(k) }));
      },
    }, cols.map((c) => el("td", { title: show(r[c]) }, show(r[c])))))));
  const last = Math.min(t.offset + t.rows.length, t.total);
  app.replaceChildren(
    el("h1", {}, t.name, " ", tier(t.tier)),
    t.comment ? el("p", { class: "muted" }, t.comment) : null,
    el("div", { class: "toolbar" }, "where ", whereIn, " key ", keyIn, el("button", { onclick: apply }, "restrict")),
    el("div", { class: "toolbar" },
      el("button", { onclick: () => page(offset - limit), ...(offset <= 0 ? { disabled: "" } : {}) }, "◀ previous"),
      el("span", { id: "page-info" }, `rows ${t.total ? t.offset + 1 : 0}–${last} of ${t.total}`),
      el("button", { onclick: () => page(offset + limit), ...(last >= t.total ? { disabled: "" } : {}) }, "next ▶")),
    table);
}

async function viewRow(name, params) {
  const key = params.get("key") || "{}";
  const l = await api("lineage", { name, key });
  const list = (items) => items.length ? el("table", { class: "grid" },
    el("thead", {}, el("tr", {}, el("th", {}, "table"), el("th", {}, "tier"), el("th", {}, "rows"))),
    el("tbody", {}, items.map((i) => el("tr", {},
      el("td", {}, el("a", { href: "#/table/" + encodeURIComponent(i.name) + "?" + new URLSearchParams({ key: JSON.stringify(i.key) }) }, i.name)),
      el("td", {}, tier(i.tier)), el("td", {}, i.rows))))) : el("p", { class: "muted" }, "none");
  const row = el("div", { class: "card" }, el("dl", {}, Object.entries(l.row).flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, show(v))])));
  const sortingLink = l.name === "spikesorting_v1_curation.CurationV1"
    ? el("p", {}, el("a", { id: "open-sorting", href: `#/sorting/${l.row.sorting_id}/${l.row.curation_id}` }, "open the sorting view")) : null;
  app.replaceChildren(el("h1", {}, "Row of ", el("a", { href: "#/table/" + encodeURIComponent(name) }, l.name)),
    row, sortingLink, el("h2", {}, "Upstream"), list(l.upstream), el("h2", {}, "Downstream"), list(l.downstream));
}

// ---- diagram (the engine's SVG, with pan and zoom) ------------------------

async function viewDiagram(params) {
  const schema = params.get("schema") || "";
  const svgText = await api("diagram", schema ? { schema } : {});
  const box = el("div", { id: "diagram-box" });
  box.innerHTML = svgText;
  const svg = box.querySelector("svg");
  app.replaceChildren(el("h1", {}, "Dependency diagram", schema ? " of " + schema : ""),
    el("p", { class: "muted" }, "wheel to zoom, drag to pan"), box);
  if (!svg) return;
  const w = Number(svg.getAttribute("width")) || svg.viewBox.baseVal.width || 1000;
  const h = Number(svg.getAttribute("height")) || svg.viewBox.baseVal.height || 800;
  let vb = svg.viewBox.baseVal && svg.viewBox.baseVal.width ? [svg.viewBox.baseVal.x, svg.viewBox.baseVal.y, svg.viewBox.baseVal.width, svg.viewBox.baseVal.height] : [0, 0, w, h];
  svg.removeAttribute("width"); svg.removeAttribute("height");
  const set = () => svg.setAttribute("viewBox", vb.join(" "));
  set();
  box.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = box.getBoundingClientRect();
    const f = e.deltaY > 0 ? 1.2 : 1 / 1.2;
    const fx = (e.clientX - r.left) / r.width, fy = (e.clientY - r.top) / r.height;
    const nw = vb[2] * f, nh = vb[3] * f;
    vb = [vb[0] + (vb[2] - nw) * fx, vb[1] + (vb[3] - nh) * fy, nw, nh];
    set();
  }, { passive: false });
  let drag = null;
  box.addEventListener("mousedown", (e) => { drag = [e.clientX, e.clientY, vb[0], vb[1]]; });
  window.addEventListener("mouseup", () => { drag = null; });
  box.addEventListener("mousemove", (e) => {
    if (!drag) return;
    const r = box.getBoundingClientRect();
    vb[0] = drag[2] - (e.clientX - drag[0]) * vb[2] / r.width;
    vb[1] = drag[3] - (e.clientY - drag[1]) * vb[3] / r.height;
    set();
  });
}

// ---- sessions -------------------------------------------------------------

async function viewSessions() {
  const rows = await api("sessions");
  app.replaceChildren(el("h1", {}, "Sessions"), rows.length ? el("table", { class: "grid" },
    el("thead", {}, el("tr", {}, ["session", "subject", "description", "start", ""].map((h) => el("th", {}, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {},
      el("td", {}, el("a", { href: "#/session/" + encodeURIComponent(r.nwb_file_name) }, r.nwb_file_name)),
      el("td", {}, show(r.subject_id)), el("td", {}, show(r.session_description)),
      el("td", {}, show(r.session_start_time)),
      el("td", {}, el("a", { href: "#/traces/" + encodeURIComponent(r.nwb_file_name) }, "traces"))))))
    : el("p", { class: "muted" }, "no sessions: ingest one with `spyglass insert FILE.nwb`"));
}

function card(title, row, keys) {
  return el("div", { class: "card" }, el("h2", {}, title), el("dl", {},
    (keys || Object.keys(row)).flatMap((k) => [el("dt", {}, k), el("dd", {}, show(row[k]))])));
}

const NS = "http://www.w3.org/2000/svg";
function svgEl(tag, attrs, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

function probeLayout(electrodes, groups) {
  const names = groups.map((g) => g.electrode_group_name);
  const xs = electrodes.map((e) => Number(e.rel_x ?? e.x ?? 0));
  const ys = electrodes.map((e) => Number(e.rel_y ?? e.y ?? 0));
  const W = 320, H = 260, pad = 24;
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)], [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (x) => pad + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * (W - 2 * pad);
  const sy = (y) => H - pad - (y1 > y0 ? (y - y0) / (y1 - y0) : 0.5) * (H - 2 * pad);
  const svg = svgEl("svg", { width: W, height: H + 20 * Math.ceil(names.length / 3), id: "probe-layout" });
  electrodes.forEach((e, i) => {
    const c = svgEl("circle", { cx: sx(xs[i]), cy: sy(ys[i]), r: 5, fill: PALETTE[names.indexOf(e.electrode_group_name) % PALETTE.length], stroke: e.bad_channel === "True" ? "#000" : "none" });
    c.append(svgEl("title", {}, `electrode ${e.electrode_id} (group ${e.electrode_group_name}) rel (${xs[i]}, ${ys[i]})`));
    svg.append(c);
  });
  names.forEach((n, i) => {
    const g = groups[i];
    svg.append(svgEl("circle", { cx: 10 + (i % 3) * 105, cy: H + 6 + 20 * Math.floor(i / 3), r: 5, fill: PALETTE[i % PALETTE.length] }));
    svg.append(svgEl("text", { x: 20 + (i % 3) * 105, y: H + 10 + 20 * Math.floor(i / 3), "font-size": 11 }, `${n} ${g.region_name || ""}`));
  });
  return svg;
}

function intervalTimeline(intervals) {
  const all = intervals.flatMap((l) => l.valid_times.flat());
  if (!all.length) return el("p", { class: "muted" }, "no intervals");
  const t0 = Math.min(...all), t1 = Math.max(...all);
  const W = 900, left = 220, row = 18;
  const svg = svgEl("svg", { width: W, height: row * intervals.length + 30, id: "interval-timeline" });
  const x = (t) => left + (t1 > t0 ? (t - t0) / (t1 - t0) : 0) * (W - left - 10);
  intervals.forEach((l, i) => {
    svg.append(svgEl("text", { x: 4, y: i * row + 13, "font-size": 12 }, l.name.length > 30 ? l.name.slice(0, 29) + "…" : l.name));
    for (const [a, b] of l.valid_times) {
      const r = svgEl("rect", { x: x(a), y: i * row + 3, width: Math.max(1, x(b) - x(a)), height: row - 6, fill: PALETTE[i % PALETTE.length] });
      r.append(svgEl("title", {}, `${l.name}: ${a.toFixed(3)}–${b.toFixed(3)} s`));
      svg.append(r);
    }
  });
  const y = row * intervals.length + 18;
  for (let k = 0; k <= 4; k++) {
    const t = t0 + (t1 - t0) * k / 4;
    svg.append(svgEl("text", { x: x(t), y, "font-size": 11, "text-anchor": "middle" }, t.toFixed(1) + " s"));
  }
  return svg;
}

async function viewSession(nwb) {
  const s = await api("session", { nwb });
  const regionName = Object.fromEntries(s.regions.map((r) => [String(r.region_id), r.region_name]));
  const groups = s.electrode_groups.map((g) => ({ ...g, region_name: regionName[String(g.region_id)] || "" }));
  app.replaceChildren(
    el("h1", {}, "Session ", nwb, " ", el("a", { href: "#/traces/" + encodeURIComponent(nwb) }, "traces"),
      " ", el("a", { href: "#/position/" + encodeURIComponent(nwb), id: "position-link" }, "position")),
    el("div", { class: "cards" },
      card("Session", s.session, ["session_id", "session_description", "session_start_time", "subject_id", "institution_name", "lab_name", "experiment_description"].filter((k) => k in s.session)),
      ...s.subject.map((r) => card("Subject", r)),
      ...s.devices.map((r) => card("Acquisition device", r)),
      ...s.probes.map((r) => card("Probe", r))),
    el("h2", {}, "Electrode groups"),
    el("table", { class: "grid", id: "electrode-groups" },
      el("thead", {}, el("tr", {}, ["group", "region", "probe", "hemisphere", "electrodes", "description"].map((h) => el("th", {}, h)))),
      el("tbody", {}, groups.map((g) => el("tr", {},
        el("td", {}, g.electrode_group_name), el("td", {}, g.region_name), el("td", {}, show(g.probe_id)),
        el("td", {}, show(g.target_hemisphere)),
        el("td", {}, s.electrodes.filter((e) => e.electrode_group_name === g.electrode_group_name).length),
        el("td", {}, show(g.description)))))),
    el("h2", {}, "Probe layout"), s.electrodes.length ? probeLayout(s.electrodes, groups) : el("p", { class: "muted" }, "no electrodes"),
    el("h2", {}, "Intervals"), intervalTimeline(s.intervals),
    el("h2", {}, "Pipelines run (tables holding rows of this session)"),
    el("table", { class: "grid", id: "session-tables" },
      el("thead", {}, el("tr", {}, ["table", "tier", "rows"].map((h) => el("th", {}, h)))),
      el("tbody", {}, s.tables.map((t) => el("tr", {},
        el("td", {}, el("a", { href: "#/table/" + encodeURIComponent(t.name) + "?" + new URLSearchParams({ key: JSON.stringify({ nwb_file_name: nwb }) }) }, t.name)),
        el("td", {}, tier(t.tier)), el("td", {}, t.rows))))));
}

// ---- sorting (a CurationV1 row; curation with --allow-curation) -----------

const LABELS = ["accept", "mua", "noise", "artifact", "reject"];

function miniPlot(W, H, draw) {
  const svg = svgEl("svg", { width: W, height: H, class: "mini" });
  draw(svg);
  return svg;
}

// the box each contact's trace is drawn in (µm): 90 % of the smallest spacing of
// columns and of contacts within a column (a lone column twice as wide as tall)
function siteBox(locs) {
  const gap = (vals) => {
    const v = [...new Set(vals.map((x) => +x.toFixed(6)))].sort((a, b) => a - b);
    let g = Infinity;
    for (let i = 1; i < v.length; i++) g = Math.min(g, v[i] - v[i - 1]);
    return isFinite(g) ? g : null;
  };
  const dx = gap(locs.map((l) => l[0]));
  let dy = null;
  for (const x of new Set(locs.map((l) => l[0]))) {
    const g = gap(locs.filter((l) => l[0] === x).map((l) => l[1]));
    if (g != null) dy = dy == null ? g : Math.min(dy, g);
  }
  if (dx != null && dy != null) return [0.9 * dx, 0.9 * dy];
  if (dx != null) return [0.9 * dx, 0.45 * dx];
  if (dy != null) return [1.8 * dy, 0.9 * dy];
  return [40, 40];
}

// a unit's average template drawn on the probe: each channel's trace centred on its
// contact's position (equal µm scale in x and y; `scale` µV is half a box's height)
function probeWaveforms(probe, u, scale, colour, W, H) {
  const locs = probe.locations;
  const [bw, bh] = siteBox(locs);
  const xs = locs.map((l) => l[0]), ys = locs.map((l) => l[1]);
  const x0 = Math.min(...xs) - bw / 2, x1 = Math.max(...xs) + bw / 2;
  const y0 = Math.min(...ys) - bh / 2, y1 = Math.max(...ys) + bh / 2;
  const pad = 6;
  const k = Math.min((W - 2 * pad) / (x1 - x0), (H - 2 * pad) / (y1 - y0));
  const ox = (W - k * (x1 - x0)) / 2, oy = (H - k * (y1 - y0)) / 2;
  const X = (x) => ox + (x - x0) * k, Y = (y) => H - oy - (y - y0) * k;
  const svg = svgEl("svg", { width: W, height: H, class: "mini waveforms", id: "waveform-" + u.id });
  const ns = probe.num_samples;
  const drawn = [];
  locs.forEach((l, c) => {
    const cx = X(l[0]), cy = Y(l[1]);
    const half = bh * k / 2, wpx = bw * k;
    svg.append(svgEl("rect", { x: cx - wpx / 2, y: cy - half, width: wpx, height: 2 * half, fill: "none", stroke: "#eef1f5" }));
    const v = u.template[c];
    let d = "";
    for (let s = 0; s < ns; s++) {
      if (v[s] == null) continue;
      d += (d ? "L" : "M") + (cx - wpx / 2 + (s + 0.5) / ns * wpx).toFixed(2) + " " + (cy - v[s] / scale * half).toFixed(3);
    }
    const path = svgEl("path", { d, fill: "none", stroke: colour, "stroke-width": c === u.peak_channel ? 1.6 : 1, "data-channel": String(c) });
    path.append(svgEl("title", {}, `unit ${u.id}, electrode ${probe.channel_ids[c]} at (${l[0]}, ${l[1]}) µm`));
    svg.append(path);
    drawn.push({ channel: c, electrode_id: probe.channel_ids[c], x_um: l[0], y_um: l[1], cx, cy, width: wpx, half });
  });
  svg.append(svgEl("title", {}, `unit ${u.id}: average template on the probe, ${(probe.nbefore / probe.sampling_rate * 1e3).toFixed(1)} ms before to ${((ns - probe.nbefore) / probe.sampling_rate * 1e3).toFixed(1)} ms after the spike; half a box = ${scale.toFixed(0)} µV`));
  return { svg, drawn };
}

async function viewSorting(sid, cid) {
  const d = await api("sorting", { sorting_id: sid, curation_id: cid });
  window.__sorting = d;
  const labels = {};
  for (const u of d.units) labels[u.id] = [...u.labels];
  const groups = [];
  const selected = new Set();
  const colour = (id) => PALETTE[d.units.findIndex((u) => u.id === id) % PALETTE.length];

  // raster: one row per unit over the spikes' time span
  const all = d.units.flatMap((u) => u.amplitudes.t);
  const t0 = all.length ? Math.min(...all) : 0, t1 = all.length ? Math.max(...all) : 1;
  const RW = 1100, rowH = 18, RH = Math.max(1, d.units.length) * rowH + 24;
  const raster = svgEl("svg", { width: RW, height: RH, id: "raster" });
  const sx = (t) => 60 + (t1 > t0 ? (t - t0) / (t1 - t0) : 0.5) * (RW - 70);
  d.units.forEach((u, k) => {
    raster.append(svgEl("text", { x: 4, y: k * rowH + 13, "font-size": 11 }, "unit " + u.id));
    let path = "";
    for (const t of u.amplitudes.t) path += `M${sx(t).toFixed(1)} ${k * rowH + 2}v${rowH - 4}`;
    raster.append(svgEl("path", { d: path, stroke: colour(u.id), "stroke-width": 1 }));
  });
  raster.append(svgEl("text", { x: 60, y: RH - 6, "font-size": 11 }, `${t0.toFixed(2)} s`));
  raster.append(svgEl("text", { x: RW - 70, y: RH - 6, "font-size": 11 }, `${t1.toFixed(2)} s`));

  const acgPlot = (u) => miniPlot(160, 70, (svg) => {
    const m = Math.max(1, ...u.acg);
    const bw = 160 / u.acg.length;
    u.acg.forEach((c, i) => svg.append(svgEl("rect", { x: i * bw, y: 70 - 66 * c / m, width: Math.max(1, bw - 0.5), height: 66 * c / m, fill: colour(u.id) })));
    svg.append(svgEl("title", {}, `autocorrelogram ±${d.acg_window_ms} ms, ${d.acg_bin_ms} ms bins, peak ${m}`));
  });
  const ampPlot = (u) => miniPlot(220, 70, (svg) => {
    const a = u.amplitudes.amplitude.filter((x) => x != null);
    if (!a.length) return;
    const lo = Math.min(...a), hi = Math.max(...a);
    const sy = (v) => 66 - (hi > lo ? (v - lo) / (hi - lo) : 0.5) * 62;
    u.amplitudes.t.forEach((t, i) => {
      const v = u.amplitudes.amplitude[i];
      if (v == null) return;
      svg.append(svgEl("circle", { cx: 2 + (sx(t) - 60) / (RW - 70) * 216, cy: sy(v), r: 1.2, fill: colour(u.id) }));
    });
    svg.append(svgEl("title", {}, `amplitude on electrode ${u.amplitudes.channel}: ${lo.toFixed(1)}…${hi.toFixed(1)} µV`));
  });

  // average waveforms on the probe, one common µV scale (the largest |value|)
  let wscale = 0;
  for (const u of d.units) for (const tr of u.template) for (const v of tr) if (v != null) wscale = Math.max(wscale, Math.abs(v));
  if (!(wscale > 0)) wscale = 1;
  window.__waveforms = { scale_uv: wscale, units: [] };
  const waveCards = d.units.map((u) => {
    const { svg, drawn } = probeWaveforms(d.probe, u, wscale, colour(u.id), 200, 200);
    window.__waveforms.units.push({ id: u.id, channels: drawn });
    return el("div", { class: "card" }, el("div", { class: "legend" }, `unit ${u.id} · peak e${d.probe.channel_ids[u.peak_channel]}`), svg);
  });

  const metricNames = [...new Set(d.units.flatMap((u) => Object.keys(u.metrics)))];
  const tbody = el("tbody", {});
  const status = el("span", { id: "curation-status", class: "muted" });
  const groupsText = el("span", { id: "merge-groups" });
  const renderRows = () => {
    tbody.replaceChildren(...d.units.map((u) => {
      const box = el("input", { type: "checkbox", class: "pick", "data-unit": String(u.id) });
      box.checked = selected.has(u.id);
      box.addEventListener("change", () => { if (box.checked) selected.add(u.id); else selected.delete(u.id); });
      const g = groups.find((g) => g.includes(u.id));
      return el("tr", { id: "unit-" + u.id },
        el("td", {}, box), el("td", {}, u.id), el("td", {}, u.n_spikes),
        el("td", { class: "labels" }, (labels[u.id] || []).join(", ")),
        el("td", {}, g ? g.join("+") : u.merge_group.filter((x) => x !== "").join(", ")),
        metricNames.map((m) => el("td", {}, u.metrics[m] == null ? "" : Number(u.metrics[m]).toPrecision(4))),
        el("td", {}, acgPlot(u)), el("td", {}, ampPlot(u)));
    }));
    groupsText.textContent = groups.length ? "merge groups: " + groups.map((g) => "[" + g.join(", ") + "]").join(" ") : "";
  };
  renderRows();

  const label = (l) => {
    for (const id of selected) {
      const cur = labels[id] || (labels[id] = []);
      if (!cur.includes(l)) cur.push(l);
    }
    renderRows();
  };
  const merge = () => {
    const ids = [...selected].sort((a, b) => a - b);
    if (ids.length < 2) { status.textContent = "select two or more units to merge"; return; }
    for (let i = groups.length - 1; i >= 0; i--) if (groups[i].some((x) => ids.includes(x))) ids.push(...groups.splice(i, 1)[0]);
    groups.push([...new Set(ids)].sort((a, b) => a - b));
    selected.clear();
    renderRows();
  };
  const save = async () => {
    const body = { sorting_id: d.sorting_id, curation_id: d.curation_id, labels, merge_groups: groups, description: desc.value };
    const r = await fetch("/api/curation", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const out = await r.json().catch(() => ({}));
    window.__saved = { status: r.status, body: out };
    if (r.ok) {
      status.replaceChildren("saved as curation ", el("a", { href: `#/sorting/${d.sorting_id}/${out.curation_id}` }, String(out.curation_id)), ` (parent ${out.parent_curation_id}, by ${out.user})`);
    } else {
      status.textContent = "not saved: " + (out.error || r.status);
    }
  };
  const desc = el("input", { type: "text", id: "curation-description", placeholder: "description (optional)" });
  const tools = d.allow_curation
    ? el("div", { class: "toolbar", id: "curation-tools" }, "label selected: ",
      LABELS.map((l) => el("button", { id: "label-" + l, onclick: () => label(l) }, l)),
      el("button", { id: "clear-labels", onclick: () => { for (const id of selected) labels[id] = []; renderRows(); } }, "clear"),
      el("button", { id: "merge", onclick: merge }, "merge selected"),
      el("button", { id: "clear-merges", onclick: () => { groups.length = 0; renderRows(); } }, "clear merges"),
      desc, el("button", { id: "save-curation", onclick: () => { save().catch((e) => { status.textContent = String(e); }); } }, "save as new curation"),
      groupsText, status)
    : el("p", { class: "muted" }, "read-only: start `spyglass view --allow-curation` to label and merge units");

  app.replaceChildren(
    el("h1", {}, `Sorting ${d.sorting_id} / curation ${d.curation_id}`),
    el("p", { class: "muted" }, `${d.nwb_file_name}, ${d.sorter}; parent curation ${d.parent_curation_id}; ${d.description || ""}`),
    el("h2", {}, "Raster"), raster,
    el("h2", {}, "Units"), tools,
    el("table", { class: "grid", id: "units" },
      el("thead", {}, el("tr", {}, ["", "unit", "spikes", "labels", "merge group", ...metricNames, "autocorrelogram", "amplitude over time"].map((h) => el("th", {}, h)))),
      tbody),
    el("h2", {}, "Average waveforms on the probe"),
    el("p", { class: "muted" }, `each contact's mean waveform at its position (${d.probe.channel_ids.length} channels); half a box = ${wscale.toFixed(0)} µV`),
    el("div", { class: "cards", id: "waveforms" }, waveCards),
    el("h2", {}, "Curations of this sorting"),
    el("ul", {}, d.curations.map((c) => el("li", {}, el("a", { href: `#/sorting/${d.sorting_id}/${c.curation_id}` }, "curation " + c.curation_id), ` parent ${c.parent_curation_id} ${c.description}`))));
}

// ---- position (PositionOutput entries and their linearizations) ------------

// a panel of `W`×`H` with data ranges [x0,x1]×[y0,y1] mapped inside a margin
function frame(W, H, x0, x1, y0, y1, equal) {
  const m = { l: 48, r: 10, t: 8, b: 24 };
  let sx = (W - m.l - m.r) / ((x1 - x0) || 1), sy = (H - m.t - m.b) / ((y1 - y0) || 1);
  if (equal) sx = sy = Math.min(sx, sy);
  return { X: (x) => m.l + (x - x0) * sx, Y: (y) => H - m.b - (y - y0) * sy, m, W, H };
}

function range(arrs) {
  let lo = Infinity, hi = -Infinity;
  for (const a of arrs) for (const v of a) if (v != null) { if (v < lo) lo = v; if (v > hi) hi = v; }
  return lo <= hi ? [lo, hi] : [0, 1];
}

function axisText(svg, f, [x0, x1], [y0, y1], xl, yl) {
  svg.append(svgEl("text", { x: f.m.l, y: f.H - 6, "font-size": 11 }, x0.toFixed(1)));
  svg.append(svgEl("text", { x: f.W - f.m.r, y: f.H - 6, "font-size": 11, "text-anchor": "end" }, x1.toFixed(1) + " " + xl));
  svg.append(svgEl("text", { x: 2, y: f.Y(y1) + 10, "font-size": 11 }, y1.toFixed(1)));
  svg.append(svgEl("text", { x: 2, y: f.Y(y0), "font-size": 11 }, y0.toFixed(1) + " " + yl));
}

// a polyline of (xs, ys), broken where a value is missing
function pathOf(f, xs, ys) {
  let d = "", pen = false;
  for (let i = 0; i < xs.length; i++) {
    if (xs[i] == null || ys[i] == null) { pen = false; continue; }
    d += (pen ? "L" : "M") + f.X(xs[i]).toFixed(1) + " " + f.Y(ys[i]).toFixed(1);
    pen = true;
  }
  return d;
}

async function viewPosition(nwb, params) {
  const entries = await api("positions", { nwb });
  if (!entries.length) {
    app.replaceChildren(el("h1", {}, "Position of ", nwb), el("p", { class: "muted" }, "no PositionOutput entries for this session"));
    return;
  }
  const merge = params.get("merge") || entries[0].merge_id;
  const entry = entries.find((e) => e.merge_id === merge);
  if (!entry) throw new Error("no position entry " + merge + " in " + nwb);
  const lin = params.get("lin") || "";
  const [graph, lparams] = lin ? lin.split("/") : ["", ""];
  const q = { merge_id: merge };
  if (graph) { q.track_graph_name = graph; q.linearization_param_name = lparams; }
  const d = await api("position", q);
  window.__position = d;
  const picker = el("select", { id: "position-entry", onchange: (e) => go(["position", nwb], new URLSearchParams({ merge: e.target.value })) },
    entries.map((e) => { const o = el("option", { value: e.merge_id }, `${e.source} · ${e.interval_list_name} · ${e.params} · ${e.merge_id.slice(0, 8)}`); if (e.merge_id === merge) o.selected = true; return o; }));
  const linPicker = entry.linearizations.length
    ? el("select", { id: "position-linearization", onchange: (e) => go(["position", nwb], new URLSearchParams({ merge, lin: e.target.value })) },
      entry.linearizations.map((k) => { const v = k.track_graph_name + "/" + k.linearization_param_name; const o = el("option", { value: v }, "linearized on " + v); if (d.linearized && d.linearized.key.track_graph_name === k.track_graph_name && d.linearized.key.linearization_param_name === k.linearization_param_name) o.selected = true; return o; }))
    : el("span", { class: "muted" }, "not linearized");

  // the track: the head's path, the track graph, head direction every so often
  const W = 520, H = 420;
  const xr = range([d.x, d.linearized ? d.linearized.graph.node_positions.map((p) => p[0]) : []]);
  const yr = range([d.y, d.linearized ? d.linearized.graph.node_positions.map((p) => p[1]) : []]);
  const f = frame(W, H, xr[0], xr[1], yr[0], yr[1], true);
  const track = svgEl("svg", { width: W, height: H, id: "position-track", class: "mini" });
  if (d.linearized) {
    const g = d.linearized.graph;
    for (const [a, b] of g.edges) {
      const [p, r] = [g.node_positions[a], g.node_positions[b]];
      track.append(svgEl("line", { class: "edge", x1: f.X(p[0]), y1: f.Y(p[1]), x2: f.X(r[0]), y2: f.Y(r[1]), stroke: "#d0d4db", "stroke-width": 6, "stroke-linecap": "round" }));
    }
  }
  track.append(svgEl("path", { class: "head", d: pathOf(f, d.x, d.y), fill: "none", stroke: PALETTE[0], "stroke-width": 2 }));
  const every = Math.max(1, Math.floor(d.x.length / 60));
  const L = 14;
  let arrows = 0;
  for (let i = 0; i < d.x.length; i += every) {
    const [x, y, o] = [d.x[i], d.y[i], d.orientation[i]];
    if (x == null || y == null || o == null) continue;
    const [X, Y] = [f.X(x), f.Y(y)];
    track.append(svgEl("line", { class: "arrow", x1: X, y1: Y, x2: X + L * Math.cos(o), y2: Y - L * Math.sin(o), stroke: "#d62728", "stroke-width": 1.2 }));
    arrows++;
  }
  axisText(track, f, xr, yr, "cm", "cm");

  // speed, and linear position coloured by track segment, over time
  const series = (id, t, ys, label, colourOf) => {
    const SW = 640, SH = 200;
    const tr = range([t]), vr = range([ys]);
    const g = frame(SW, SH, tr[0], tr[1], vr[0], vr[1], false);
    const svg = svgEl("svg", { width: SW, height: SH, id, class: "mini" });
    if (colourOf) {
      for (let i = 0; i < t.length; i++) if (ys[i] != null) svg.append(svgEl("circle", { cx: g.X(t[i]).toFixed(1), cy: g.Y(ys[i]).toFixed(1), r: 1.3, fill: colourOf(i) }));
    } else {
      svg.append(svgEl("path", { d: pathOf(g, t, ys), fill: "none", stroke: PALETTE[1], "stroke-width": 1 }));
    }
    axisText(svg, g, tr, vr, "s", label);
    return svg;
  };
  const speed = series("position-speed", d.time, d.speed, "cm/s");
  const linear = d.linearized
    ? series("position-linear", d.linearized.time, d.linearized.linear_position, "cm", (i) => PALETTE[((d.linearized.track_segment_id[i] % PALETTE.length) + PALETTE.length) % PALETTE.length])
    : null;
  window.__positionDrawn = { arrows, head_points: d.x.filter((v, i) => v != null && d.y[i] != null).length };
  app.replaceChildren(
    el("h1", {}, "Position of ", el("a", { href: "#/session/" + encodeURIComponent(nwb) }, nwb)),
    el("div", { class: "toolbar" }, picker, linPicker),
    el("p", { class: "muted" }, `${d.source}, ${d.n_samples} samples` + (d.step > 1 ? ` (every ${d.step}th shown)` : "") + "; head position (blue) and direction (red), the track graph in grey"),
    el("div", { class: "cards" }, track, el("div", {}, el("h2", {}, "Speed"), speed,
      linear ? el("div", {}, el("h2", {}, "Linearized position (colour: track segment)"), linear) : null)));
}

// ---- traces ---------------------------------------------------------------

// the least and greatest value of an array (native calls over its values; NaNs
// skipped by a loop when there are any)
function extent(arr) {
  let lo = Math.min.apply(null, arr), hi = Math.max.apply(null, arr);
  if (Number.isNaN(lo) || Number.isNaN(hi)) {
    lo = Infinity; hi = -Infinity;
    for (let i = 0; i < arr.length; i++) { const v = arr[i]; if (v < lo) lo = v; if (v > hi) hi = v; }
  }
  return [lo, hi];
}

// the width of the traces canvas before it exists: the page's width less main's
// padding and the canvas' border (see app.css)
function tracesWidth() { return Math.max(100, Math.round(app.clientWidth - 2 * 14 - 2)); }

async function viewTraces(nwb, params) {
  const tStart = performance.now();
  performance.mark("traces:open");
  // a URL naming the window: its data is asked for with the sources, not after them
  let early = null;
  if (!STATIC && params.get("src") && params.get("t0") !== null && params.get("t1") !== null) {
    const q = { nwb, src: params.get("src"), ch: params.get("ch") || "", t0: Number(params.get("t0")), t1: Number(params.get("t1")), px: tracesWidth() };
    early = { q, req: fetchWindow(q).catch((e) => ({ error: e })) };
  }
  const [sources, overlays] = await Promise.all([api("traces/sources", { nwb }), api("traces/overlays", { nwb })]);
  if (!sources.traces.length) {
    app.replaceChildren(el("h1", {}, "Traces of ", nwb), el("p", { class: "muted" }, "no time series found"),
      ...sources.problems.map((p) => el("p", { class: "error" }, p)));
    return;
  }
  const src = sources.traces.find((t) => t.id === params.get("src")) || sources.traces[0];
  const nch = src.electrode_ids.length;
  let channels = (params.get("ch") || "").split(",").filter((x) => x !== "").map(Number).filter((c) => c >= 0 && c < nch);
  if (!channels.length) channels = [...Array(Math.min(nch, 8)).keys()];
  let t0 = Number(params.get("t0")), t1 = Number(params.get("t1"));
  if (!(isFinite(t0) && isFinite(t1) && t1 > t0) || params.get("t0") === null) {
    t0 = src.start; t1 = Math.min(src.end, src.start + 10);
  }
  const showIntervals = new Set((params.get("iv") || "").split("|").filter(Boolean));
  const showEvents = params.get("ev") !== "0";

  const select = el("select", { id: "source" }, sources.traces.map((t) => {
    const o = el("option", { value: t.id }, `${t.label} — ${t.electrode_ids.length} ch, ${t.rate ? t.rate + " Hz" : t.n_samples + " samples"}`);
    if (t.id === src.id) o.selected = true;
    return o;
  }));
  select.addEventListener("change", () => go(["traces", nwb], new URLSearchParams({ src: select.value })));
  const chIn = el("input", { type: "text", id: "channels", value: channels.join(","), size: 20, title: "channel indices, comma-separated (a-b for a range)" });
  chIn.addEventListener("change", () => {
    const out = [];
    for (const part of chIn.value.split(",")) {
      const m = part.trim().match(/^(\d+)(?:-(\d+))?$/);
      if (!m) continue;
      const a = Number(m[1]), b = m[2] ? Number(m[2]) : a;
      for (let c = a; c <= b && c < nch; c++) out.push(c);
    }
    if (out.length) { channels = out; update(); fetchOverview(); }
  });
  const ivBoxes = overlays.intervals.map((l) => {
    const cb = el("input", { type: "checkbox" });
    cb.checked = showIntervals.has(l.label);
    cb.addEventListener("change", () => { cb.checked ? showIntervals.add(l.label) : showIntervals.delete(l.label); update(false); });
    return el("label", {}, cb, " " + l.label);
  });
  const canvas = el("canvas", { id: "traces-canvas" });
  const ov = STATIC ? null : el("canvas", { id: "traces-overview", title: "the whole session (min/max of the channels shown); click to go there" });
  const status = el("span", { id: "traces-status", class: "legend" });
  const btn = (label, id, f) => el("button", { id, onclick: f }, label);
  // (what is absent, null, is left out: replaceChildren would show it as text)
  app.replaceChildren(...[
    el("h1", {}, "Traces of ", el("a", { href: "#/session/" + encodeURIComponent(nwb) }, nwb)),
    el("div", { class: "toolbar" }, select, " channels ", chIn, STATIC ? el("span", { class: "legend" }, "(an export: one window; zoom and pan with `spyglass view`)") : [
      btn("◀", "pan-left", () => pan(-0.5)), btn("▶", "pan-right", () => pan(0.5)),
      btn("zoom in", "zoom-in", () => zoom(0.5)), btn("zoom out", "zoom-out", () => zoom(2)),
      btn("whole session", "zoom-all", () => { t0 = src.start; t1 = src.end; state.kind = "zoom"; update(); })]),
    overlays.intervals.length ? el("div", { class: "toolbar legend" }, "intervals: ", ivBoxes,
      overlays.events.length ? ` events: ${overlays.events.map((e) => e.label + " (" + e.times.length + ")").join(", ")}` : "") : null,
    ov, canvas, status].filter((x) => x !== null));

  let seq = 0, data = null, first = true, pending = null, shown = null, size = null, img = null;
  // what was drawn, as plain arrays, for tests and scripts (made when asked for)
  const plain = (v) => v == null ? v : ArrayBuffer.isView(v) ? Array.from(v) : Array.isArray(v) ? v.map(plain) : v;
  Object.defineProperty(window, "__traces", {
    configurable: true,
    get: () => shown && { ...shown, t: plain(shown.t), y: plain(shown.y), min: plain(shown.min), max: plain(shown.max) },
  });
  const state = { kind: "first-paint" };
  function zoom(f, center) {
    const c = center ?? (t0 + t1) / 2;
    const w = Math.min(src.end - src.start, Math.max(1e-3, (t1 - t0) * f));
    t0 = c - (c - t0) * w / (t1 - t0); t1 = t0 + w;
    clamp(); state.kind = "zoom"; update();
  }
  function pan(f) { const w = t1 - t0; t0 += w * f; t1 += w * f; clamp(); state.kind = "pan"; update(); }
  function clamp() {
    const w = t1 - t0;
    if (t0 < src.start) { t0 = src.start; t1 = t0 + w; }
    if (t1 > src.end) { t1 = src.end; t0 = Math.max(src.start, t1 - w); }
  }
  async function update(refetch = true) {
    const p = new URLSearchParams({ src: src.id, ch: channels.join(","), t0: t0.toFixed(6), t1: t1.toFixed(6) });
    if (showIntervals.size) p.set("iv", [...showIntervals].join("|"));
    history.replaceState(null, "", "#/traces/" + encodeURIComponent(nwb) + "?" + p.toString());
    if (!refetch && data) { draw(); return; }
    const my = ++seq;
    const kind = first ? "first-paint" : state.kind;
    const started = first ? tStart : performance.now();
    performance.mark("traces:request:" + my);
    const px = STATIC ? 1600 : Math.max(100, Math.round(dims().W));
    const q = { nwb, src: src.id, ch: channels.join(","), t0, t1, px };
    const asked = performance.now();
    let req;
    // the early request's columns were counted before the page was laid out: a
    // scrollbar since makes the canvas a little narrower, and a few more columns than
    // pixels draw the same (each at its time)
    if (early && early.q.src === q.src && early.q.ch === (params.get("ch") ? q.ch : "") && early.q.t0 === t0 && early.q.t1 === t1 && early.q.px >= px && early.q.px <= px * 1.05) {
      req = early.req.then((d) => { if (d.error) throw d.error; return d; });
    } else {
      req = fetchWindow(q);
    }
    early = null;
    pending = req;
    let d;
    try { d = await req; } catch (e) { status.textContent = String(e.message || e); status.className = "error"; return; }
    if (my !== seq) return; // a newer window was asked for
    const fetched = performance.now();
    data = d;
    if (STATIC) { t0 = d.t0; t1 = d.t1; }
    draw();
    const drawn = performance.now();
    await new Promise((r) => requestAnimationFrame(() => r()));
    performance.mark("traces:paint:" + my);
    const ms = performance.now() - started;
    performance.measure("traces:" + kind, { start: started, end: performance.now() });
    window.__timings.push({ kind, ms, fetch_ms: fetched - asked, draw_ms: drawn - fetched, before_ms: asked - started, server_ms: d.server_ms, search_ms: d.search_ms, channels: channels.length, window_s: t1 - t0, mode: d.mode, samples: d.samples, columns: d.t.length, bytes: d.bytes, net_ms: d.net_ms, parse_ms: d.parse_ms, paint_ms: performance.now() - drawn, server_timing: d.server_timing, ...(d.url ? requestParts(d.url, d.received) : {}) });
    status.className = "legend";
    status.textContent = `${(t1 - t0).toFixed(3)} s from ${t0.toFixed(3)} s · ${channels.length} ch · ${d.mode}${d.per_bin ? " (" + d.per_bin + " samples/px)" : ""} · ${d.samples} samples · ${ms.toFixed(0)} ms (server ${d.server_ms.toFixed(0)} ms)`;
    first = false;
  }

  // the overview: the whole session's envelope, filled in by the server while shown
  let ovData = null, ovSeq = 0, ovTimer = null, alive = true;
  const OV_LEFT = 70, OV_RIGHT = 10;
  async function fetchOverview() {
    if (!ov) return;
    clearTimeout(ovTimer);
    const my = ++ovSeq;
    let o;
    try {
      o = await api("traces/overview", { nwb, src: src.id, ch: channels.join(","), px: Math.max(100, Math.round(ov.clientWidth - OV_LEFT - OV_RIGHT)) });
    } catch (e) { status.textContent = String(e.message || e); status.className = "error"; return; }
    if (my !== ovSeq || !alive) return;
    ovData = o;
    window.__overview = o;
    drawOverview();
    if (o.filled < 1) ovTimer = setTimeout(fetchOverview, 400);
  }
  function drawOverview() {
    if (!ov || !ovData) return;
    const o = ovData;
    const dpr = window.devicePixelRatio || 1;
    const W = ov.clientWidth, H = ov.clientHeight;
    if (ov.width !== Math.round(W * dpr) || ov.height !== Math.round(H * dpr)) { ov.width = Math.round(W * dpr); ov.height = Math.round(H * dpr); }
    const g = ov.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, W, H);
    const span = (o.end - o.start) || 1;
    const x = (t) => OV_LEFT + (t - o.start) / span * (W - OV_LEFT - OV_RIGHT);
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < o.t.length; i++) if (o.min[i] != null) { lo = Math.min(lo, o.min[i]); hi = Math.max(hi, o.max[i]); }
    if (!(hi > lo)) { lo -= 1; hi += 1; }
    const y = (v) => H - 3 - (v - lo) / (hi - lo) * (H - 6);
    g.strokeStyle = "#4b5563";
    g.lineWidth = 1;
    g.beginPath();
    for (let i = 0; i < o.t.length; i++) {
      if (o.min[i] == null) continue;
      const X = Math.round(x(o.t[i])) + 0.5;
      g.moveTo(X, y(o.max[i])); g.lineTo(X, y(o.min[i]) + 0.5);
    }
    g.stroke();
    g.fillStyle = "#1f6feb33";
    g.strokeStyle = "#1f6feb";
    const a = x(t0), b = Math.max(x(t1), a + 2);
    g.fillRect(a, 0, b - a, H); g.strokeRect(a + 0.5, 0.5, b - a - 1, H - 1);
    g.fillStyle = "#6b7280";
    g.font = "11px system-ui, sans-serif";
    g.fillText(o.filled < 1 ? `overview ${(100 * o.filled).toFixed(0)} %` : "overview", 4, H / 2 + 4);
  }
  if (ov) ov.addEventListener("click", (e) => {
    if (!ovData) return;
    const r = ov.getBoundingClientRect();
    const frac = Math.min(1, Math.max(0, (e.clientX - r.left - OV_LEFT) / (r.width - OV_LEFT - OV_RIGHT)));
    const c = ovData.start + frac * (ovData.end - ovData.start), w = t1 - t0;
    t0 = c - w / 2; t1 = t0 + w; clamp(); state.kind = "pan"; update();
  });
  // the canvas' size in CSS pixels, read once per layout (not per draw)
  const resized = () => { size = null; };
  function dims() {
    if (!size) size = { W: canvas.clientWidth, H: canvas.clientHeight };
    return size;
  }
  const LEFT = 70, RIGHT = 10, TOP = 8, BOTTOM = 26;
  // the canvas sized to its box (a size change clears and reallocates it: only then)
  // and its 2D context set to CSS pixels
  function canvasContext() {
    const dpr = window.devicePixelRatio || 1;
    const { W, H } = dims();
    const cw0 = Math.round(W * dpr), ch0 = Math.round(H * dpr);
    if (canvas.width !== cw0 || canvas.height !== ch0) { canvas.width = cw0; canvas.height = ch0; img = null; }
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { g, dpr, W, H };
  }
  // the lanes' labels and the time axis, in CSS pixels
  function drawLabels(g, W, H, lanes, label) {
    const x = (t) => LEFT + (t - t0) / (t1 - t0) * (W - LEFT - RIGHT);
    const lh = (H - TOP - BOTTOM) / Math.max(1, lanes);
    g.font = "11px system-ui, sans-serif";
    g.fillStyle = "#6b7280";
    for (let c = 0; c < lanes; c++) g.fillText(label(c), 4, TOP + c * lh + lh / 2 + 4);
    g.fillStyle = "#1d2330";
    g.textAlign = "center";
    for (let k = 0; k <= 5; k++) {
      const t = t0 + (t1 - t0) * k / 5;
      g.fillText(t.toFixed(t1 - t0 < 1 ? 3 : t1 - t0 < 100 ? 2 : 0) + " s", x(t), H - 8);
    }
    g.textAlign = "start";
  }
  // before the first window arrives (its request is under way): the page's layout,
  // the canvas, the columns' image and the labels, so that the window's drawing is
  // mostly its columns
  function drawFrame() {
    const { g, W, H } = canvasContext();
    g.clearRect(0, 0, W, H);
    if (!img) img = g.createImageData(canvas.width, canvas.height);
    drawLabels(g, W, H, channels.length, (c) => src.unit === "µV" ? `ch ${channels[c]} (e${src.electrode_ids[channels[c]]})` : `col ${channels[c]} (${src.unit})`);
  }
  function draw() {
    const d = data;
    const { g, dpr, W, H } = canvasContext();
    g.clearRect(0, 0, W, H);
    const left = LEFT, right = RIGHT, top = TOP, bottom = BOTTOM;
    const x = (t) => left + (t - t0) / (t1 - t0) * (W - left - right);
    const lanes = d.channels.length;
    const lh = (H - top - bottom) / Math.max(1, lanes);
    const drawn = [];
    const scales = [];
    for (let c = 0; c < lanes; c++) {
      let lo = Infinity, hi = -Infinity;
      const ys = d.mode === "points" ? [d.y[c]] : [d.min[c], d.max[c]];
      for (const arr of ys) { const [a, z] = extent(arr); if (a < lo) lo = a; if (z > hi) hi = z; }
      if (!(hi > lo)) { lo -= 1; hi += 1; }
      const y0 = top + c * lh;
      scales.push({ lo, hi, y0, y: (v) => y0 + lh - 2 - (v - lo) / (hi - lo) * (lh - 4) });
      drawn.push({ channel: d.channels[c], electrode_id: d.electrode_ids[c], lo, hi, top: y0, height: lh });
    }
    if (d.mode === "points") {
      for (let c = 0; c < lanes; c++) {
        const y = scales[c].y;
        g.strokeStyle = PALETTE[c % PALETTE.length];
        g.lineWidth = 1;
        g.beginPath();
        for (let i = 0; i < d.t.length; i++) { const X = x(d.t[i]), Y = y(d.y[c][i]); i ? g.lineTo(X, Y) : g.moveTo(X, Y); }
        g.stroke();
      }
    } else {
      // min/max columns written as pixels (a vertical run per column and lane): no
      // path to rasterize, whatever the number of lanes
      const cw = canvas.width, ch = canvas.height;
      if (!img) img = g.createImageData(cw, ch);
      const px = new Uint32Array(img.data.buffer);
      px.fill(0);
      const xa = Math.ceil(left * dpr), xb = Math.floor((W - right) * dpr);
      // each column's first and last pixel column, within the plot
      const nc = d.t.length, xs = new Int32Array(nc), xe = new Int32Array(nc), run = Math.ceil(dpr) - 1;
      for (let i = 0; i < nc; i++) xs[i] = Math.floor(x(d.t[i]) * dpr);
      for (let i = 0; i < nc; i++) {
        const X0 = xs[i];
        xe[i] = Math.min(Math.max(X0, Math.min(i + 1 < nc ? xs[i + 1] - 1 : X0, X0 + run)), xb);
        xs[i] = Math.max(X0, xa);
      }
      for (let c = 0; c < lanes; c++) {
        const hex = PALETTE[c % PALETTE.length];
        const rgba = (0xff << 24) | (parseInt(hex.slice(5, 7), 16) << 16) | (parseInt(hex.slice(3, 5), 16) << 8) | parseInt(hex.slice(1, 3), 16);
        const { lo, hi, y0 } = scales[c];
        // y(v) in device pixels: a - v · k
        const k = (lh - 4) / (hi - lo) * dpr, a = (y0 + lh - 2) * dpr + lo * k;
        const mn = d.min[c], mx = d.max[c];
        for (let i = 0; i < nc; i++) {
          const ya = Math.max(0, Math.floor(a - mx[i] * k)), yb = Math.min(ch - 1, Math.floor(a - mn[i] * k));
          if (yb < ya) continue;
          for (let X = xs[i], X2 = xe[i]; X <= X2; X++) for (let Y = ya, at = ya * cw + X; Y <= yb; Y++, at += cw) px[at] = rgba;
        }
      }
      g.putImageData(img, 0, 0);
    }
    // overlays behind the traces: interval lists (shaded) and events (orange)
    g.globalCompositeOperation = "destination-over";
    overlays.intervals.forEach((l, i) => {
      if (!showIntervals.has(l.label)) return;
      g.fillStyle = PALETTE[i % PALETTE.length] + "22";
      for (const [a, b] of l.times) if (b >= t0 && a <= t1) g.fillRect(x(Math.max(a, t0)), top, x(Math.min(b, t1)) - x(Math.max(a, t0)), H - top - bottom);
    });
    if (showEvents) {
      g.fillStyle = "#ff7f0e33";
      for (const e of overlays.events) for (const [a, b] of e.times) if (b >= t0 && a <= t1) g.fillRect(x(Math.max(a, t0)), top, Math.max(1, x(Math.min(b, t1)) - x(Math.max(a, t0))), H - top - bottom);
    }
    g.globalCompositeOperation = "source-over";
    drawLabels(g, W, H, lanes, (c) => d.unit === "µV" ? `ch ${d.channels[c]} (e${d.electrode_ids[c]})` : `col ${d.channels[c]} (${d.unit})`);
    drawOverview();
    // what was drawn, in data units, for tests and scripts
    shown = { nwb, src: src.id, unit: d.unit, t0, t1, mode: d.mode, per_bin: d.per_bin, samples: d.samples, t: d.t, y: d.y, min: d.min, max: d.max, lanes: drawn, width: W, left, right };
  }
  // wheel zooms about the pointer, drag pans
  canvas.addEventListener("wheel", (e) => {
    if (STATIC) return;
    e.preventDefault();
    const r = canvas.getBoundingClientRect();
    const frac = Math.min(1, Math.max(0, (e.clientX - r.left - 70) / (r.width - 80)));
    zoom(e.deltaY > 0 ? 1.5 : 1 / 1.5, t0 + frac * (t1 - t0));
  }, { passive: false });
  let drag = null;
  canvas.addEventListener("mousedown", (e) => { if (!STATIC) drag = { x: e.clientX, t0, t1 }; });
  const up = (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x;
    drag = null;
    if (Math.abs(dx) > 2) state.kind = "pan", update();
  };
  const move = (e) => {
    if (!drag) return;
    const dt = (e.clientX - drag.x) / (canvas.clientWidth - 80) * (drag.t1 - drag.t0);
    t0 = drag.t0 - dt; t1 = drag.t1 - dt; clamp();
    if (data) draw();
  };
  window.addEventListener("mouseup", up);
  window.addEventListener("mousemove", move);
  const resize = () => { resized(); if (data) update(); };
  window.addEventListener("resize", resize);
  current = () => {
    alive = false;
    clearTimeout(ovTimer);
    window.removeEventListener("mouseup", up);
    window.removeEventListener("mousemove", move);
    window.removeEventListener("resize", resize);
  };
  window.__tracesApi = { zoom, pan, get window() { return [t0, t1]; }, pending: () => pending };
  drawFrame();
  await update();
  fetchOverview();
}

api("info").then((i) => {
  document.getElementById("mode").textContent = `spyglass ${i.version} · ${i.read_only ? "read-only" : "curation allowed"}`;
}).catch(() => {});
if (STATIC) {
  // an export: the header lists its views
  document.querySelector("header nav").replaceChildren(...STATIC.views.map((v) =>
    el("a", { href: "#/" + v }, decodeURIComponent(v.split("?")[0]))));
}
window.addEventListener("hashchange", route);
if (!location.hash) history.replaceState(null, "", "#/" + (STATIC ? STATIC.views[0] : "db"));
route();
