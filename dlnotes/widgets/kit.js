// Small DOM, SVG and axis helpers shared by the explorers. No dependencies: the widgets must run in
// a static HTML page with nothing but this code.

const SVG_NS = "http://www.w3.org/2000/svg";

// Line colours: seven hues (after Okabe & Ito's colour-blind-safe set) all at relative luminance 0.19.
// A 3:1 contrast (WCAG 1.4.11) against white needs a luminance below 0.30, against a page as dark as
// #14181e one above 0.12; at 0.19 each colour has over 4:1 against both, so one palette serves the
// light and the dark theme (tests/book/test_layout.py measures it on the built pages).
export const PALETTE = ["#A96B00", "#187FBB", "#008965", "#915ED7", "#CD5200", "#BE538D", "#DC3B55"];

// Dash patterns (SVG stroke-dasharray) and end-marker shapes that tell series apart without colour;
// series i uses DASHES[i] and MARKERS[i], as it uses PALETTE[i].
export const DASHES = ["", "7 3", "2 2.5", "9 3 2 3", "4 4", "12 3", "1.5 4"];
export const MARKERS = ["circle", "square", "triangle", "diamond", "down", "plus", "cross"];

function build(node, attrs, parent) {
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  if (parent) parent.appendChild(node);
  return node;
}

// <tag attrs> appended to parent; attrs.text sets the text content
export const html = (tag, attrs = {}, parent = null) => build(document.createElement(tag), attrs, parent);
export const svg = (tag, attrs = {}, parent = null) => build(document.createElementNS(SVG_NS, tag), attrs, parent);

// Compact number for labels: 0.001 -> "1e-3", 12.5 -> "12.5", 1e-12 -> "1e-12"
export function fmt(v, digits = 3) {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-2 || Math.abs(v) >= 1e4)) {
    const [mant, exp] = v.toExponential(digits - 1).split("e");
    return `${Number(mant)}e${Number(exp)}`;
  }
  return String(Number(v.toPrecision(digits)));
}

// Linear map of [d0, d1] onto [r0, r1], with .invert
export function scale(d0, d1, r0, r1) {
  const k = (r1 - r0) / (d1 - d0);
  const map = (v) => r0 + (v - d0) * k;
  map.invert = (r) => d0 + (r - r0) / k;
  return map;
}

// About n round numbers (1, 2, 5 × 10^k steps) covering [lo, hi]
export function ticks(lo, hi, n = 5) {
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : v); // no "-0" or 1e-17 labels
  }
  return out;
}

// Integer exponents e with 10^e in [10^lo, 10^hi], thinned to at most n labels
export function logTicks(lo, hi, n = 6) {
  const first = Math.ceil(lo - 1e-9);
  const last = Math.floor(hi + 1e-9);
  const every = Math.max(1, Math.ceil((last - first + 1) / n));
  const out = [];
  for (let e = first; e <= last; e += every) out.push(e);
  return out;
}

// Axes with ticks, grid lines and labels inside the <svg> `root`; x and y are scales (pixels).
// box = {left, top, right, bottom} in pixels; tick lists are in data units.
export function axes(root, box, { x, y, xTicks, yTicks, xFormat = fmt, yFormat = fmt, xLabel, yLabel }) {
  const g = svg("g", { class: "dln-axes" }, root);
  for (const v of xTicks) {
    const px = x(v);
    svg("line", { x1: px, x2: px, y1: box.top, y2: box.bottom, class: "dln-grid" }, g);
    svg("text", { x: px, y: box.bottom + 14, "text-anchor": "middle", text: xFormat(v) }, g);
  }
  for (const v of yTicks) {
    const py = y(v);
    svg("line", { x1: box.left, x2: box.right, y1: py, y2: py, class: "dln-grid" }, g);
    svg("text", { x: box.left - 5, y: py + 4, "text-anchor": "end", text: yFormat(v) }, g);
  }
  svg("rect", {
    x: box.left, y: box.top, width: box.right - box.left, height: box.bottom - box.top, class: "dln-frame",
  }, g);
  if (xLabel) {
    svg("text", { x: (box.left + box.right) / 2, y: box.bottom + 30, "text-anchor": "middle", text: xLabel }, g);
  }
  if (yLabel) {
    const cy = (box.top + box.bottom) / 2;
    svg("text", { x: 12, y: cy, "text-anchor": "middle", transform: `rotate(-90 12 ${cy})`, text: yLabel }, g);
  }
  return g;
}

// A labelled <input type=range> calling onInput(value). log = true slides over log10(value);
// values = [...] slides over the positions of a list. Returns {row, input, set(value)}.
// Options for assistive technology: name, the accessible name when the visible label alone is not
// distinct ("SGD learning rate" where the row shows "lr"); format(value), the text shown and announced
// (aria-valuetext), fmt by default. A screen reader then reads the value shown, not the position.
export function slider(parent, {
  label, control, min, max, step, value, log = false, values = null, onInput, name = null, format = fmt,
}) {
  const row = html("label", { class: "dln-slider" }, parent);
  html("span", { class: "dln-label", text: label }, row);
  const range = values ? { min: 0, max: values.length - 1, step: 1 } : { min, max, step };
  const input = html("input", { type: "range", ...range, "data-control": control }, row);
  if (name) input.setAttribute("aria-label", name);
  const out = html("output", { "aria-hidden": "true" }, row); // the input announces it (aria-valuetext)
  const toValue = (p) => (values ? values[p] : log ? 10 ** p : p);
  const show = (v) => {
    out.textContent = format(v);
    input.setAttribute("aria-valuetext", out.textContent);
  };
  const set = (v) => {
    input.value = values ? values.indexOf(v) : log ? Math.log10(v) : v;
    show(v);
  };
  input.addEventListener("input", () => {
    const v = toValue(Number(input.value));
    show(v);
    onInput(v);
  });
  set(value);
  return { row, input, set };
}

// A labelled <select> over options = {value: label}, calling onChange(value). Returns the <select>.
// name: the accessible name, when the visible label alone is not distinct.
export function choice(parent, { label, control, options, onChange, name = null }) {
  const row = html("label", { class: "dln-slider" }, parent);
  html("span", { class: "dln-label", text: label }, row);
  const select = html("select", { "data-control": control }, row);
  if (name) select.setAttribute("aria-label", name);
  for (const [value, text] of Object.entries(options)) html("option", { value, text }, select);
  select.addEventListener("change", () => onChange(select.value));
  return select;
}

// A labelled checkbox calling onChange(checked). Returns the <input>.
export function toggle(parent, { label, control, onChange }) {
  const row = html("label", { class: "dln-pick" }, parent);
  const box = html("input", { type: "checkbox", "data-control": control }, row);
  html("span", { text: label }, row);
  box.addEventListener("change", () => onChange(box.checked));
  return box;
}

// The reader's language for the explorers' strings: "zh" when the page's lang starts with "zh", else "en".
export function language() {
  const lang = (document.documentElement.lang || "").toLowerCase();
  return lang.startsWith("zh") ? "zh" : "en";
}

// The strings of the page's language from a table {en: {...}, zh: {...}}; a key missing in zh falls
// back to English. Values may be functions (templates) as well as text.
export function strings(table) {
  return language() === "zh" ? { ...table.en, ...table.zh } : table.en;
}

// Gives a plot (an <svg>) the role of one image and an accessible name that describes what it shows;
// call again whenever the picture changes so the description follows the state.
export function describe(plot, text) {
  plot.setAttribute("role", "img");
  plot.setAttribute("aria-label", text);
}

// A summary line that screen readers announce, politely, each time its text changes.
export function liveLine(parent, attrs = {}) {
  return html("div", { ...attrs, role: "status", "aria-live": "polite" }, parent);
}

// A small SVG end marker of the given MARKERS shape centred at (cx, cy), appended to parent.
export function marker(parent, shape, cx, cy, { r = 4, fill = "currentColor", ...attrs } = {}) {
  const d = {
    circle: `M${cx - r},${cy}a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0Z`,
    square: `M${cx - r},${cy - r}h${2 * r}v${2 * r}h${-2 * r}Z`,
    triangle: `M${cx},${cy - r * 1.2}L${cx + r * 1.1},${cy + r * 0.8}H${cx - r * 1.1}Z`,
    down: `M${cx},${cy + r * 1.2}L${cx + r * 1.1},${cy - r * 0.8}H${cx - r * 1.1}Z`,
    diamond: `M${cx},${cy - r * 1.3}L${cx + r},${cy}L${cx},${cy + r * 1.3}L${cx - r},${cy}Z`,
    plus: `M${cx - r},${cy}h${2 * r}M${cx},${cy - r}v${2 * r}`,
    cross: `M${cx - r},${cy - r}l${2 * r},${2 * r}M${cx + r},${cy - r}l${-2 * r},${2 * r}`,
  }[shape];
  const open = shape === "plus" || shape === "cross";
  return svg("path", {
    d, class: "dln-marker", fill: open ? "none" : fill, stroke: fill, "stroke-width": open ? 2 : 0.8, ...attrs,
  }, parent);
}

// A legend key: a short line in the series' colour and dash pattern with its marker, as an inline <svg>.
export function legendKey(parent, i) {
  const key = svg("svg", { class: "dln-key", viewBox: "0 0 28 10", width: 28, height: 10, "aria-hidden": "true" }, parent);
  svg("line", {
    x1: 1, x2: 27, y1: 5, y2: 5, stroke: PALETTE[i], "stroke-width": 2, "stroke-dasharray": DASHES[i],
  }, key);
  marker(key, MARKERS[i], 14, 5, { r: 3, fill: PALETTE[i] });
  return key;
}

// Calls redraw() when the page switches between light and dark theme; returns a disconnect function.
export function onThemeChange(redraw) {
  const watch = new MutationObserver(redraw);
  for (const node of [document.documentElement, document.body]) {
    watch.observe(node, { attributes: true, attributeFilter: ["data-theme", "data-jp-theme-light", "class"] });
  }
  const media = window.matchMedia("(prefers-color-scheme: dark)");
  media.addEventListener("change", redraw);
  return () => {
    watch.disconnect();
    media.removeEventListener("change", redraw);
  };
}

// Pushes a change to the model: local in a static page, synced to Python in a live kernel.
export function save(model, changes) {
  for (const [key, value] of Object.entries(changes)) model.set(key, value);
  model.save_changes();
}

// Subscribes redraw to every change:<key>; returns the unsubscribe function.
export function listen(model, keys, redraw) {
  for (const key of keys) model.on(`change:${key}`, redraw);
  return () => keys.forEach((key) => model.off(`change:${key}`, redraw));
}
