// The optimiser-trajectory explorer: an anywidget front end that computes every path in the browser
// (optmath.js), so the sliders keep working in a static HTML page with no kernel.
// Python (dlnotes/widgets/optimizer.py) inlines the two imports below into one module string.
import { SURFACE_FNS, runState } from "./optmath.js";
import {
  PALETTE, DASHES, MARKERS, html, svg, fmt, scale, ticks, logTicks, axes, slider, choice, onThemeChange, save,
  listen, strings, describe, liveLine, marker, legendKey,
} from "./kit.js";

const NAMES = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"];

// Every visible or announced string, in English and Chinese (kit.strings picks by the page's lang).
const TEXT = {
  en: {
    optimizers: {
      sgd: "SGD", momentum: "Momentum", nesterov: "Nesterov", adagrad: "Adagrad",
      rmsprop: "RMSprop", adam: "Adam", adamw: "AdamW",
    },
    surfaces: {},  // English surface names come from Python (SURFACE_INFO[...].label)
    surface: "surface", condition: "condition κ", steps: "steps", lr: "lr",
    lrName: (opt) => `${opt} learning rate`,
    momentum: "momentum β", beta1: "Adam β1", beta2: "Adam β2", weightDecay: "AdamW λ",
    momentumName: "momentum coefficient β", weightDecayName: "AdamW weight decay λ",
    startX: "start x", startY: "start y", reset: "reset start",
    startHint: (x, y) => `start (${x}, ${y}): click or drag on the map, or use the start sliders`,
    gap: (v) => `f − f* ${v}`, diverged: "diverged", step: "step",
    mapName: (surface, xs, ys, ends) => `Contour map of the ${surface} over x ${xs} and y ${ys}, with each `
      + `optimiser's path. ${ends}`,
    ends: (sx, sy, steps) => `From the start (${sx}, ${sy}) after ${steps} steps:`,
    endAt: (opt, x, y) => `${opt} ends at (${x}, ${y})`,
    endDiverged: (opt) => `${opt} diverges`,
    lossName: (steps, parts) => `Loss gap f(θ) − f* on a log scale against the step, 0 to ${steps}: ${parts}.`,
    lossPart: (opt, first, last) => `${opt} from ${first} to ${last}`,
    lossDiverged: (opt, first) => `${opt} from ${first}, then diverges`,
    summary: (steps, parts) => `After ${steps} steps: ${parts}.`,
    summaryPart: (opt, v) => `${opt} f − f* = ${v}`,
    none: "no optimiser shown",
  },
  zh: {
    optimizers: { momentum: "动量法" },
    surfaces: {
      quadratic: "病态二次函数", rosenbrock: "Rosenbrock 山谷", beale: "Beale 函数", saddle: "鞍点",
      himmelblau: "Himmelblau 函数(四个极小点)",
    },
    surface: "曲面", condition: "条件数 κ", steps: "步数", lr: "学习率",
    lrName: (opt) => `${opt} 学习率`,
    momentum: "动量 β", beta1: "Adam β1", beta2: "Adam β2", weightDecay: "AdamW λ",
    momentumName: "动量系数 β", weightDecayName: "AdamW 权重衰减 λ",
    startX: "起点 x", startY: "起点 y", reset: "重置起点",
    startHint: (x, y) => `起点 (${x}, ${y}):在图上点击或拖动,或用起点滑块移动`,
    diverged: "发散", step: "步",
    mapName: (surface, xs, ys, ends) => `${surface}的等高线图,x 取 ${xs},y 取 ${ys},并画出各优化器的路径。${ends}`,
    ends: (sx, sy, steps) => `从起点 (${sx}, ${sy}) 出发 ${steps} 步后:`,
    endAt: (opt, x, y) => `${opt} 停在 (${x}, ${y})`,
    endDiverged: (opt) => `${opt} 发散`,
    lossName: (steps, parts) => `损失差 f(θ) − f* 随步数(0 到 ${steps})变化,对数坐标:${parts}。`,
    lossPart: (opt, first, last) => `${opt} 从 ${first} 降到 ${last}`,
    lossDiverged: (opt, first) => `${opt} 从 ${first} 开始,随后发散`,
    summary: (steps, parts) => `${steps} 步后:${parts}。`,
    none: "未显示任何优化器",
  },
};
const KEYS = [
  "surface", "condition", "optimizers", "lrs", "momentum", "beta1", "beta2", "weight_decay", "steps", "start",
];
const BOX = { left: 46, top: 8, right: 416, bottom: 0 }; // bottom set per surface
const FLOOR = 1e-16; // f - f* below this is drawn at the floor of the log axis
let instances = 0;

const colour = (name) => PALETTE[NAMES.indexOf(name)];
const dash = (name) => DASHES[NAMES.indexOf(name)];
const shape = (name) => MARKERS[NAMES.indexOf(name)];
const gap = (f, fMin) => Math.max(f - fMin, FLOOR);

// What optmath.runState needs: the controls and the fixed hyper-parameters
const modelState = (model) => Object.fromEntries([...KEYS, "fixed_hyper"].map((key) => [key, model.get(key)]));

// Pixel height of the map for a surface: equal scales on both axes, within reason
function mapHeight(info) {
  const aspect = (info.ylim[1] - info.ylim[0]) / (info.xlim[1] - info.xlim[0]);
  return Math.round(Math.min(1.0, Math.max(0.6, aspect)) * (BOX.right - BOX.left));
}

// Filled, banded contours of log(f − f* + δ) painted into `canvas`, in the text colour `rgb`
function paintContours(canvas, info, f, condition, rgb) {
  const { width: w, height: h } = canvas;
  const q = new Float64Array(w * h);
  let top = 0;
  for (let j = 0; j < h; j++) {
    const y = info.ylim[1] - ((j + 0.5) / h) * (info.ylim[1] - info.ylim[0]);
    for (let i = 0; i < w; i++) {
      const x = info.xlim[0] + ((i + 0.5) / w) * (info.xlim[1] - info.xlim[0]);
      q[j * w + i] = f(x, y, condition) - info.f_min;
      top = Math.max(top, q[j * w + i]);
    }
  }
  const delta = top * 1e-5 || 1;
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < q.length; k++) {
    q[k] = Math.log(Math.max(q[k], 0) + delta);
    lo = Math.min(lo, q[k]);
    hi = Math.max(hi, q[k]);
  }
  const bands = 14;
  const band = q.map((v) => Math.min(bands - 1, Math.floor(((v - lo) / (hi - lo || 1)) * bands)));
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let k = 0; k < band.length; k++) {
    const i = k % w;
    const edge = (i + 1 < w && band[k + 1] !== band[k]) || (k + w < band.length && band[k + w] !== band[k]);
    const alpha = edge ? 0.42 : 0.04 + (0.16 * (bands - 1 - band[k])) / (bands - 1);
    img.data[4 * k] = rgb[0];
    img.data[4 * k + 1] = rgb[1];
    img.data[4 * k + 2] = rgb[2];
    img.data[4 * k + 3] = Math.round(255 * alpha);
  }
  ctx.putImageData(img, 0, 0);
}

function textRGB(node) {
  const m = getComputedStyle(node).color.match(/\d+(\.\d+)?/g) || ["0", "0", "0"];
  return m.slice(0, 3).map(Number);
}

// SVG "d" of a path in pixels, cut at the first non-finite point, clamped far outside the box
function pathData(path, x, y) {
  const clamp = (v) => Math.max(-1e4, Math.min(1e4, v));
  const pts = [];
  for (const [px, py] of path) {
    if (!Number.isFinite(px) || !Number.isFinite(py)) break;
    pts.push(`${clamp(x(px)).toFixed(1)},${clamp(y(py)).toFixed(1)}`);
  }
  return pts.length ? `M${pts.join("L")}` : "";
}

// The text (English or Chinese) for this page; surfaces without a translation keep Python's label
function pageText(model) {
  const t = strings(TEXT);
  const labels = Object.fromEntries(Object.entries(model.get("surface_info")).map(([name, info]) => [name, info.label]));
  return {
    ...t,
    optimizers: { ...TEXT.en.optimizers, ...t.optimizers },
    surfaces: { ...labels, ...t.surfaces },
  };
}

function buildControls(root, model, t) {
  const controls = html("div", { class: "dln-controls" }, root);
  const top = html("div", { class: "dln-row" }, controls);
  const infos = model.get("surface_info");
  const select = choice(top, {
    label: t.surface, control: "surface", options: t.surfaces,
    onChange: (name) => save(model, { surface: name, start: infos[name].start, lrs: { ...infos[name].lr } }),
  });
  const sliders = {
    condition: slider(top, {
      label: t.condition, control: "condition", min: 0, max: 2, step: 0.01, log: true,
      value: model.get("condition"), onInput: (v) => save(model, { condition: Number(v.toPrecision(3)) }),
    }),
    steps: slider(top, {
      label: t.steps, control: "steps", min: 10, max: model.get("max_steps"), step: 10,
      value: model.get("steps"), onInput: (v) => save(model, { steps: v }),
    }),
  };

  const list = html("div", { class: "dln-optlist" }, controls);
  const rows = {};
  for (const name of NAMES) {
    const row = html("div", { class: "dln-optrow", "data-optimizer": name }, list);
    const pick = html("label", { class: "dln-pick" }, row);
    const box = html("input", { type: "checkbox", "data-control": `use-${name}` }, pick);
    legendKey(pick, NAMES.indexOf(name));
    html("span", { text: t.optimizers[name] }, pick);
    box.addEventListener("change", () => {
      const chosen = new Set(model.get("optimizers"));
      if (box.checked) chosen.add(name);
      else chosen.delete(name);
      save(model, { optimizers: NAMES.filter((n) => chosen.has(n)) });
    });
    const lr = slider(row, {
      label: t.lr, name: t.lrName(t.optimizers[name]), control: `lr-${name}`, min: -4, max: 1, step: 0.01, log: true,
      value: model.get("lrs")[name],
      onInput: (v) => save(model, { lrs: { ...model.get("lrs"), [name]: Number(v.toPrecision(3)) } }),
    });
    rows[name] = { box, lr, result: html("span", { class: "dln-result" }, row) };
  }

  const hyper = html("div", { class: "dln-row" }, controls);
  const hyperSlider = (key, label, min, max, step, name = null) => {
    sliders[key] = slider(hyper, {
      label, name, control: key, min, max, step, value: model.get(key), onInput: (v) => save(model, { [key]: v }),
    });
  };
  hyperSlider("momentum", t.momentum, 0.01, 0.99, 0.01, t.momentumName);
  hyperSlider("beta1", t.beta1, 0, 0.99, 0.01);
  hyperSlider("beta2", t.beta2, 0.9, 0.999, 0.001);
  hyperSlider("weight_decay", t.weightDecay, 0, 0.5, 0.01, t.weightDecayName);

  // The start point, settable from the keyboard (the map takes clicks and drags); the range follows
  // the surface, see setStart below.
  const place = html("div", { class: "dln-row" }, controls);
  const start = ["x", "y"].map((axis, i) => slider(place, {
    label: axis === "x" ? t.startX : t.startY, control: `start-${axis}`, min: 0, max: 1, step: 0.01,
    value: model.get("start")[i],
    onInput: (v) => {
      const point = [...model.get("start")];
      point[i] = Number(v.toPrecision(4));
      save(model, { start: point });
    },
  }));
  return { select, sliders, rows, start };
}

// Puts the start sliders on the current surface's box (200 positions per axis) and at `point`
function setStart(start, info, point) {
  [info.xlim, info.ylim].forEach(([lo, hi], i) => {
    Object.assign(start[i].input, { min: lo, max: hi, step: (hi - lo) / 200 });
    start[i].set(point[i]);
  });
}

// A number in the descriptions: 3 significant digits
const say = (v) => fmt(v, 3);

export default {
  render({ model, el }) {
    instances += 1;
    const clipId = `dln-clip-${instances}`;
    const t = pageText(model);
    const root = html("div", { class: "dln-widget dln-opt" }, el);
    const ui = buildControls(root, model, t);
    const plots = html("div", { class: "dln-plots" }, root);
    const map = svg("svg", { class: "dln-plot", "data-role": "contour" }, plots);
    const loss = svg("svg", { class: "dln-plot", "data-role": "loss" }, plots);
    const footer = html("div", { class: "dln-row dln-hint" }, root);
    const startText = html("span", {}, footer);
    const reset = html("button", { type: "button", "data-control": "reset-start", text: t.reset }, footer);
    const summary = liveLine(root, { class: "dln-row dln-summary" });
    reset.addEventListener("click", () => {
      save(model, { start: model.get("surface_info")[model.get("surface")].start });
    });

    let imageKey = "";
    let frame = null; // per-surface pieces: scales and the layer the paths go into
    const drawMap = (state, info) => {
      const rgb = textRGB(root);
      const key = `${state.surface}|${state.condition}|${rgb}`;
      if (key === imageKey) return;
      imageKey = key;
      const box = { ...BOX, bottom: BOX.top + mapHeight(info) };
      const x = scale(info.xlim[0], info.xlim[1], box.left, box.right);
      const y = scale(info.ylim[0], info.ylim[1], box.bottom, box.top);
      map.replaceChildren();
      map.setAttribute("viewBox", `0 0 ${box.right + 8} ${box.bottom + 40}`);
      map.style.setProperty("--dln-width", box.right + 8);
      const clip = svg("clipPath", { id: clipId }, svg("defs", {}, map));
      svg("rect", { x: box.left, y: box.top, width: box.right - box.left, height: box.bottom - box.top }, clip);
      const [pw, ph] = [box.right - box.left, box.bottom - box.top];
      const holder = svg("foreignObject", { x: box.left, y: box.top, width: pw, height: ph }, map);
      const canvas = html("canvas", { class: "dln-contours" }, holder);
      const dpr = Math.min(window.devicePixelRatio || 1, 2);
      [canvas.width, canvas.height] = [Math.round(pw * dpr), Math.round(ph * dpr)];
      paintContours(canvas, info, SURFACE_FNS[state.surface].f, state.condition, rgb);
      axes(map, box, {
        x, y, xTicks: ticks(...info.xlim), yTicks: ticks(...info.ylim, 6), xLabel: "x", yLabel: "y",
      });
      for (const [mx, my] of info.minima) {
        svg("path", { d: `M${x(mx) - 5},${y(my)}h10M${x(mx)},${y(my) - 5}v10`, class: "dln-minimum" }, map);
      }
      frame = { box, x, y, layer: svg("g", { "clip-path": `url(#${clipId})` }, map) };
      loss.setAttribute("viewBox", `0 0 340 ${box.bottom + 40}`);
      loss.style.setProperty("--dln-width", 340);
    };

    const drawPaths = (state, info, paths) => {
      const { x, y, layer } = frame;
      layer.replaceChildren();
      const final = {};
      const ends = [];
      for (const [name, path] of Object.entries(paths)) {
        svg("path", {
          d: pathData(path, x, y), class: "dln-trace", stroke: colour(name), "stroke-dasharray": dash(name),
        }, layer);
        const [fx, fy] = path[path.length - 1];
        final[name] = [fx, fy].map((v) => (Number.isFinite(v) ? v : null));
        const label = t.optimizers[name];
        if (Number.isFinite(fx) && Number.isFinite(fy)) {
          marker(layer, shape(name), x(fx), y(fy), { fill: colour(name), class: "dln-marker dln-end" });
          ends.push(t.endAt(label, say(fx), say(fy)));
        } else {
          ends.push(t.endDiverged(label));
        }
      }
      const [sx, sy] = state.start;
      svg("circle", { cx: x(sx), cy: y(sy), r: 5, class: "dln-start" }, layer);
      map.dataset.final = JSON.stringify(final);
      startText.textContent = t.startHint(fmt(sx), fmt(sy));
      const span = ([lo, hi]) => `${fmt(lo)}…${fmt(hi)}`;
      const endText = ends.length ? `${t.ends(fmt(sx), fmt(sy), state.steps)} ${ends.join("; ")}.` : t.none;
      describe(map, t.mapName(t.surfaces[state.surface], span(info.xlim), span(info.ylim), endText));
    };

    const drawLoss = (state, info, paths) => {
      const f = SURFACE_FNS[state.surface].f;
      const box = { left: 52, top: BOX.top, right: 330, bottom: frame.box.bottom };
      const curves = {};
      let lo = Infinity;
      let hi = -Infinity;
      for (const [name, path] of Object.entries(paths)) {
        curves[name] = path.map(([px, py]) => Math.log10(gap(f(px, py, state.condition), info.f_min)));
        for (const v of curves[name]) {
          if (Number.isFinite(v)) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, Math.min(v, 16));
          }
        }
      }
      if (!(hi > lo)) [lo, hi] = [Number.isFinite(lo) ? lo - 1 : -1, Number.isFinite(lo) ? lo + 1 : 1];
      const x = scale(0, state.steps, box.left, box.right);
      const y = scale(lo, hi, box.bottom, box.top);
      loss.replaceChildren();
      axes(loss, box, {
        x, y, xTicks: ticks(0, state.steps), yTicks: logTicks(lo, hi), yFormat: (e) => `1e${e}`,
        xLabel: t.step, yLabel: "f(θ) − f*",
      });
      const parts = [];
      for (const [name, curve] of Object.entries(curves)) {
        const pts = [];
        let k = 0;
        for (; k < curve.length && Number.isFinite(curve[k]); k++) {
          pts.push([x(k), y(Math.min(curve[k], hi))]);
        }
        if (pts.length) {
          const d = `M${pts.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join("L")}`;
          svg("path", { d, class: "dln-trace", stroke: colour(name), "stroke-dasharray": dash(name) }, loss);
          marker(loss, shape(name), ...pts[pts.length - 1], { fill: colour(name) });
        }
        const label = t.optimizers[name];
        const first = say(10 ** curve[0]);
        parts.push(k === curve.length ? t.lossPart(label, first, say(10 ** curve[k - 1])) : t.lossDiverged(label, first));
      }
      describe(loss, t.lossName(state.steps, parts.length ? parts.join("; ") : t.none));
    };

    const redraw = () => {
      const state = modelState(model);
      const info = model.get("surface_info")[state.surface];
      ui.select.value = state.surface;
      ui.sliders.condition.row.hidden = state.surface !== "quadratic";
      for (const key of Object.keys(ui.sliders)) ui.sliders[key].set(state[key]);
      setStart(ui.start, info, state.start);
      drawMap(state, info);
      const paths = runState(state);
      drawPaths(state, info, paths);
      drawLoss(state, info, paths);
      const results = [];
      for (const name of NAMES) {
        const row = ui.rows[name];
        row.box.checked = name in paths;
        row.lr.set(state.lrs[name]);
        const end = paths[name] && paths[name][paths[name].length - 1];
        const f = end && SURFACE_FNS[state.surface].f(end[0], end[1], state.condition) - info.f_min;
        row.result.textContent = end ? (Number.isFinite(f) ? t.gap(fmt(f, 2)) : t.diverged) : "";
        if (end) results.push(Number.isFinite(f) ? t.summaryPart(t.optimizers[name], fmt(f, 2)) : `${t.optimizers[name]} ${t.diverged}`);
      }
      summary.textContent = results.length ? t.summary(state.steps, results.join("; ")) : t.none;
    };

    // click or drag on the map: the start point follows the pointer
    const moveStart = (event) => {
      if (!frame) return;
      const pt = new DOMPoint(event.clientX, event.clientY).matrixTransform(map.getScreenCTM().inverse());
      const { box, x, y } = frame;
      if (pt.x < box.left || pt.x > box.right || pt.y < box.top || pt.y > box.bottom) return;
      save(model, { start: [Number(x.invert(pt.x).toPrecision(4)), Number(y.invert(pt.y).toPrecision(4))] });
    };
    map.addEventListener("pointerdown", (event) => {
      map.setPointerCapture(event.pointerId);
      moveStart(event);
    });
    map.addEventListener("pointermove", (event) => {
      if (event.buttons) moveStart(event);
    });

    const unlisten = listen(model, KEYS, redraw);
    const unwatch = onThemeChange(redraw);
    redraw();
    return () => {
      unlisten();
      unwatch();
    };
  },
};
