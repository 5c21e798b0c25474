// The attention explorer: pick a query, the key dimension d_k, the 1/√d_k scale and a mask, and see
// the score matrix, the query's softmax weights and the output it mixes from the values. The math
// runs here (attnmath.js), so the page stays live without a kernel; Python (attention.py) only
// supplies the seeded queries, keys and values.
import { attend } from "./attnmath.js";
import {
  PALETTE, html, svg, fmt, scale, ticks, axes, slider, choice, toggle, save, listen, strings, describe, liveLine, marker,
} from "./kit.js";

const KEYS = ["query", "dk", "scaled", "mask"];
const TEXT = {
  en: {
    query: "query position", dk: "key dimension d_k", scaled: "divide scores by √d_k", mask: "mask",
    masks: { none: "none", causal: "causal (no looking ahead)", padding: "padding (last keys are padding)" },
    queryName: "Attention query position", dkName: "Attention key dimension d_k", maskName: "Attention mask",
    scoresTitle: "scores q·k", weightsTitle: "softmax weights of the query", outputTitle: "values and output",
    key: "key", weight: "weight",
    scoresLabel: (s) => `Score matrix, ${s.count} queries by ${s.count} keys, ${s.maskText}; row ${s.query} `
      + `(the chosen query) ranges from ${s.lo} to ${s.hi}.`,
    weightsLabel: (s) => `Bar chart of the ${s.count} softmax weights of query ${s.query}: largest ${s.top} `
      + `on key ${s.argmax}, ${s.zero} keys at weight 0.`,
    outputLabel: (s) => `The ${s.count} value vectors as points in the plane and the output of query ${s.query}, `
      + `their weighted mean, at (${s.out}).`,
    summary: (s) => `Query ${s.query}: largest weight ${s.top} on key ${s.argmax}; spread of its scores (std) `
      + `${s.std}; output (${s.out}).`,
  },
  zh: {
    query: "查询位置", dk: "键维度 d_k", scaled: "分数除以 √d_k", mask: "掩码",
    masks: { none: "无", causal: "因果（不看后面的位置）", padding: "填充（最后几个键是填充）" },
    queryName: "注意力查询位置", dkName: "注意力键维度 d_k", maskName: "注意力掩码",
    scoresTitle: "分数 q·k", weightsTitle: "该查询的 softmax 权重", outputTitle: "值向量与输出",
    key: "键", weight: "权重",
    scoresLabel: (s) => `分数矩阵，${s.count} 个查询乘 ${s.count} 个键，${s.maskText}；第 ${s.query} 行（所选查询）`
      + `从 ${s.lo} 到 ${s.hi}。`,
    weightsLabel: (s) => `查询 ${s.query} 的 ${s.count} 个 softmax 权重的柱状图：最大 ${s.top}，在键 ${s.argmax} 上；`
      + `${s.zero} 个键的权重为 0。`,
    outputLabel: (s) => `${s.count} 个值向量画成平面上的点，查询 ${s.query} 的输出是它们的加权平均，位于 (${s.out})。`,
    summary: (s) => `查询 ${s.query}：最大权重 ${s.top}，在键 ${s.argmax} 上；分数的标准差 ${s.std}；输出 (${s.out})。`,
  },
};
const CELL = 30;
let instances = 0;

// Colours: blue for positive scores, weights and the output; orange for negative scores and the values
const [ORANGE, BLUE] = [PALETTE[4], PALETTE[1]];

function panel(parent, role, width, height, title) {
  const box = html("figure", { class: "dln-panel" }, parent);
  html("figcaption", { class: "dln-label", text: title }, box);
  const plot = svg("svg", { class: "dln-plot", "data-role": role, viewBox: `0 0 ${width} ${height}` }, box);
  plot.style.setProperty("--dln-width", width);
  return plot;
}

function drawScores(root, scores, query, tokens) {
  const count = scores.length;
  const finite = scores.flat().filter(Number.isFinite);
  const top = Math.max(...finite.map(Math.abs), 1e-12);
  root.replaceChildren();
  const left = 44;
  scores.forEach((row, i) => row.forEach((s, j) => {
    const x = left + j * CELL;
    const y = 4 + i * CELL;
    const masked = !Number.isFinite(s);
    const alpha = masked ? 0 : Math.abs(s) / top;
    svg("rect", {
      x, y, width: CELL - 2, height: CELL - 2, class: masked ? "dln-cell dln-masked" : "dln-cell",
      fill: s >= 0 ? BLUE : ORANGE, "fill-opacity": alpha.toFixed(3),
    }, root);
    svg("text", { x: x + CELL / 2 - 1, y: y + CELL / 2 + 3, "text-anchor": "middle", class: "dln-cell-text",
      text: masked ? "×" : fmt(s, 2) }, root);
  }));
  svg("rect", { x: left - 2, y: 2 + query * CELL, width: count * CELL + 2, height: CELL + 2, class: "dln-focus",
    fill: "none" }, root);
  tokens.forEach((t, i) => {
    svg("text", { x: left - 6, y: 4 + i * CELL + CELL / 2 + 3, "text-anchor": "end", text: `${i} ${t}` }, root);
    svg("text", { x: left + i * CELL + CELL / 2, y: 4 + count * CELL + 12, "text-anchor": "middle", text: t }, root);
  });
}

function drawWeights(root, weights, tokens, text) {
  root.replaceChildren();
  const box = { left: 40, top: 8, right: 270, bottom: 150 };
  const x = scale(-0.5, weights.length - 0.5, box.left, box.right);
  const y = scale(0, 1, box.bottom, box.top);
  axes(root, box, { x, y, xTicks: [], yTicks: ticks(0, 1, 4), yLabel: text.weight });
  weights.forEach((w, j) => {
    const h = box.bottom - y(w);
    svg("rect", { x: x(j) - 10, y: y(w), width: 20, height: Math.max(h, 0), fill: BLUE, "data-key": j }, root);
    svg("text", { x: x(j), y: box.bottom + 14, "text-anchor": "middle", text: tokens[j] }, root);
    svg("text", { x: x(j), y: y(w) - 3, "text-anchor": "middle", class: "dln-cell-text", text: fmt(w, 2) }, root);
  });
}

function drawOutput(root, values, weights, output, tokens) {
  root.replaceChildren();
  const box = { left: 34, top: 8, right: 214, bottom: 170 };
  const xs = values.map((v) => v[0]);
  const ys = values.map((v) => v[1]);
  const pad = 0.3;
  const x = scale(Math.min(...xs) - pad, Math.max(...xs) + pad, box.left, box.right);
  const y = scale(Math.min(...ys) - pad, Math.max(...ys) + pad, box.bottom, box.top);
  axes(root, box, { x, y, xTicks: ticks(Math.min(...xs), Math.max(...xs), 3),
    yTicks: ticks(Math.min(...ys), Math.max(...ys), 3) });
  values.forEach((v, j) => {
    svg("line", { x1: x(v[0]), y1: y(v[1]), x2: x(output[0]), y2: y(output[1]), class: "dln-link",
      "stroke-opacity": weights[j].toFixed(3), "stroke-width": (1 + 5 * weights[j]).toFixed(2) }, root);
    marker(root, "circle", x(v[0]), y(v[1]), { fill: ORANGE });
    svg("text", { x: x(v[0]) + 6, y: y(v[1]) - 5, text: tokens[j] }, root);
  });
  // the output: a square (values are circles), so shape tells them apart as well as colour
  marker(root, "square", x(output[0]), y(output[1]), { r: 5, fill: BLUE, "data-role": "output-marker" });
}

export default {
  render({ model, el }) {
    instances += 1;
    const text = strings(TEXT);
    const tokens = model.get("tokens");
    const options = model.get("options");
    const root = html("div", { class: "dln-widget dln-attn", "data-instance": instances }, el);
    const controls = html("div", { class: "dln-row" }, root);
    const querySlider = slider(controls, {
      label: text.query, name: text.queryName, control: "query", values: tokens.map((_, i) => i),
      value: model.get("query"), onInput: (v) => save(model, { query: v }),
    });
    const dkSlider = slider(controls, {
      label: text.dk, name: text.dkName, control: "dk", values: options.dks, value: model.get("dk"),
      onInput: (v) => save(model, { dk: v }),
    });
    const second = html("div", { class: "dln-row" }, root);
    const scaled = toggle(second, { label: text.scaled, control: "scaled", onChange: (v) => save(model, { scaled: v }) });
    const mask = choice(second, {
      label: text.mask, name: text.maskName, control: "mask", options: Object.fromEntries(options.masks.map((m) => [m, text.masks[m]])),
      onChange: (v) => save(model, { mask: v }),
    });
    const plots = html("div", { class: "dln-plots" }, root);
    const count = tokens.length;
    const scoresPlot = panel(plots, "scores", 44 + count * CELL + 4, count * CELL + 22, text.scoresTitle);
    const weightsPlot = panel(plots, "weights", 280, 170, text.weightsTitle);
    const outputPlot = panel(plots, "output", 224, 190, text.outputTitle);
    const summary = liveLine(root, { class: "dln-row dln-hint", "data-role": "summary" });

    const redraw = () => {
      const state = Object.fromEntries(KEYS.map((k) => [k, model.get(k)]));
      querySlider.set(state.query);
      dkSlider.set(state.dk);
      scaled.checked = state.scaled;
      mask.value = state.mask;
      const result = attend({
        queries: model.get("query_vectors"), keys: model.get("key_vectors"), values: model.get("value_vectors"),
        dk: state.dk, scaled: state.scaled, mask: state.mask, padding: model.get("padding"),
      });
      const q = state.query;
      const row = result.scores[q];
      const w = result.weights[q];
      const out = result.outputs[q];
      drawScores(scoresPlot, result.scores, q, tokens);
      drawWeights(weightsPlot, w, tokens, text);
      drawOutput(outputPlot, model.get("value_vectors"), w, out, tokens);
      const finite = row.filter(Number.isFinite);
      const mean = finite.reduce((a, b) => a + b, 0) / finite.length;
      const argmax = w.indexOf(Math.max(...w));
      const facts = {
        count, query: `${q} (${tokens[q]})`, maskText: text.masks[state.mask],
        lo: fmt(Math.min(...finite), 3), hi: fmt(Math.max(...finite), 3),
        top: fmt(w[argmax], 3), argmax: `${argmax} (${tokens[argmax]})`, zero: w.filter((v) => v === 0).length,
        std: fmt(Math.sqrt(finite.reduce((a, s) => a + (s - mean) ** 2, 0) / finite.length), 3),
        out: out.map((v) => fmt(v, 3)).join(", "),
      };
      describe(scoresPlot, text.scoresLabel(facts));
      describe(weightsPlot, text.weightsLabel(facts));
      describe(outputPlot, text.outputLabel(facts));
      weightsPlot.dataset.weights = JSON.stringify(w);
      outputPlot.dataset.output = JSON.stringify(out);
      summary.textContent = text.summary(facts);
    };

    redraw();
    return listen(model, KEYS, redraw);
  },
};
