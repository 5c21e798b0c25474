// The gradient-flow explorer: per-layer gradient norms and activation spreads of a deep MLP at
// initialisation. Python (dlnotes/widgets/gradient.py) precomputes every reachable configuration
// into the `grid` trait; this front end only selects and draws, so it works without a kernel.
import {
  PALETTE, DASHES, MARKERS, html, svg, fmt, scale, ticks, logTicks, axes, slider, choice, toggle, save, listen,
  strings, describe, liveLine, marker, legendKey,
} from "./kit.js";

const KEYS = ["depth", "width", "activation", "init", "residual", "batchnorm"];

// Every visible or announced string, in English and Chinese (kit.strings picks by the page's lang).
const TEXT = {
  en: {
    activations: { sigmoid: "sigmoid", tanh: "tanh", relu: "ReLU", gelu: "GELU" },
    inits: { small: "small normal (s = 0.01)", xavier: "Xavier / Glorot", he: "He / Kaiming" },
    depth: "depth", width: "width", init: "initialisation", activation: "activation",
    depthName: "depth D (number of layers)", widthName: "width (units per layer)",
    residual: "residual connections", batchnorm: "batch norm",
    layerAxis: "layer l (input side → loss side)", gradAxis: "‖∂ℒ/∂W_l‖", stdAxis: "std of h_l",
    gradName: "Gradient norm ‖∂ℒ/∂W_l‖ per layer", stdName: "Standard deviation of the activations h_l per layer",
    plotName: (what, depth, parts) => `${what}, log scale, layers 1 to ${depth} from the input side to the loss `
      + `side: ${parts}.`,
    curve: (act, first, last, depth) => `${act} from ${first} at layer 1 to ${last} at layer ${depth}`,
    chosen: (act) => `${act} (chosen)`,
    summary: (act, depth, ratio, std) => `${act}: gradient norm at layer 1 / at layer ${depth} = ${ratio}; `
      + `activation std at layer ${depth} = ${std}`,
  },
  zh: {
    inits: { small: "小正态 (s = 0.01)", xavier: "Xavier / Glorot", he: "He / Kaiming" },
    depth: "深度", width: "宽度", init: "初始化", activation: "激活函数",
    depthName: "深度 D(层数)", widthName: "宽度(每层单元数)",
    residual: "残差连接", batchnorm: "批归一化",
    layerAxis: "第 l 层(输入侧 → 损失侧)", stdAxis: "h_l 的标准差",
    gradName: "各层梯度范数 ‖∂ℒ/∂W_l‖", stdName: "各层激活 h_l 的标准差",
    plotName: (what, depth, parts) => `${what},对数坐标,第 1 层到第 ${depth} 层(输入侧到损失侧):${parts}。`,
    curve: (act, first, last, depth) => `${act} 从第 1 层的 ${first} 到第 ${depth} 层的 ${last}`,
    chosen: (act) => `${act}(所选)`,
    summary: (act, depth, ratio, std) => `${act}:第 1 层与第 ${depth} 层的梯度范数之比 = ${ratio};`
      + `第 ${depth} 层的激活标准差 = ${std}`,
  },
};
const SIZE = { width: 380, height: 270 };
const BOX = { left: 52, top: 8, right: 370, bottom: 230 };
let instances = 0;

// The grid's key, as GradientExplorer._key writes it
const gridKey = (s, activation) =>
  [activation, s.init, Number(s.residual), Number(s.batchnorm), s.width, s.depth].join("|");

function state(model) {
  return Object.fromEntries(KEYS.map((key) => [key, model.get(key)]));
}

// One log-scale panel: a curve per activation in its colour and dash pattern with a marker at its
// end, the chosen one bold with a marker at every layer; its description follows what is drawn.
function drawPanel(root, depth, curves, chosen, { yLabel, name }, style, t) {
  const logs = Object.fromEntries(Object.entries(curves).map(([name, c]) => [name, c.map((v) => Math.log10(v))]));
  const finite = Object.values(logs).flat().filter(Number.isFinite);
  let lo = Math.min(...finite) - 0.3;
  let hi = Math.max(...finite) + 0.3;
  if (hi - lo < 2) [lo, hi] = [(lo + hi) / 2 - 1, (lo + hi) / 2 + 1];
  const x = scale(0.5, depth + 0.5, BOX.left, BOX.right);
  const y = scale(lo, hi, BOX.bottom, BOX.top);
  root.replaceChildren();
  axes(root, BOX, {
    x, y, xTicks: ticks(1, depth, Math.min(5, depth - 1)), yTicks: logTicks(lo, hi), yFormat: (e) => `1e${e}`,
    xLabel: t.layerAxis, yLabel,
  });
  for (const act of [...Object.keys(logs).filter((n) => n !== chosen), chosen]) {
    const pts = logs[act].map((v, i) => [x(i + 1), y(v)]).filter(([, py]) => Number.isFinite(py));
    const d = `M${pts.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join("L")}`;
    const bold = act === chosen;
    const { colour, dash, shape } = style[act];
    svg("path", { d, class: bold ? "dln-trace" : "dln-trace dln-faint", stroke: colour, "stroke-dasharray": dash }, root);
    for (const [px, py] of bold ? pts : pts.slice(-1)) marker(root, shape, px, py, { r: bold ? 2.5 : 3, fill: colour });
  }
  const parts = Object.keys(curves).map((act) => {
    const c = curves[act];
    const label = act === chosen ? t.chosen(t.activations[act]) : t.activations[act];
    return t.curve(label, fmt(c[0], 2), fmt(c[c.length - 1], 2), depth);
  });
  describe(root, t.plotName(name, depth, parts.join("; ")));
}

export default {
  render({ model, el }) {
    instances += 1;
    const options = model.get("options");
    const t = strings(TEXT);
    t.activations = { ...TEXT.en.activations, ...t.activations };
    const style = Object.fromEntries(options.activations.map((name, i) => [
      name, { colour: PALETTE[i], dash: DASHES[i], shape: MARKERS[i], index: i },
    ]));
    const root = html("div", { class: "dln-widget dln-grad" }, el);
    const controls = html("div", { class: "dln-controls" }, root);
    const top = html("div", { class: "dln-row" }, controls);
    const sliders = {
      depth: slider(top, {
        label: t.depth, name: t.depthName, control: "depth", values: options.depths, value: model.get("depth"),
        onInput: (v) => save(model, { depth: v }),
      }),
      width: slider(top, {
        label: t.width, name: t.widthName, control: "width", values: options.widths, value: model.get("width"),
        onInput: (v) => save(model, { width: v }),
      }),
    };
    const init = choice(top, {
      label: t.init, control: "init",
      options: Object.fromEntries(options.inits.map((name) => [name, t.inits[name]])),
      onChange: (v) => save(model, { init: v }),
    });
    const second = html("div", { class: "dln-row" }, controls);
    const group = html("div", { class: "dln-row", role: "radiogroup", "aria-labelledby": `dln-act-${instances}` }, second);
    html("span", { class: "dln-label", id: `dln-act-${instances}`, text: t.activation }, group);
    const radios = {};
    for (const name of options.activations) {
      const pick = html("label", { class: "dln-pick" }, group);
      radios[name] = html("input", {
        type: "radio", name: `dln-activation-${instances}`, "data-control": `activation-${name}`,
      }, pick);
      legendKey(pick, style[name].index);
      html("span", { text: t.activations[name] }, pick);
      radios[name].addEventListener("change", () => save(model, { activation: name }));
    }
    const boxes = {};
    for (const key of ["residual", "batchnorm"]) {
      boxes[key] = toggle(second, { label: t[key], control: key, onChange: (v) => save(model, { [key]: v }) });
    }
    const plots = html("div", { class: "dln-plots" }, root);
    const panel = (role) => {
      const viewBox = `0 0 ${SIZE.width} ${SIZE.height}`;
      const plot = svg("svg", { class: "dln-plot", "data-role": role, viewBox }, plots);
      plot.style.setProperty("--dln-width", SIZE.width);
      return plot;
    };
    const gradPlot = panel("grad-norms");
    const stdPlot = panel("activation-stds");
    const summary = liveLine(root, { class: "dln-row dln-hint" });

    const redraw = () => {
      const s = state(model);
      const grid = model.get("grid");
      for (const key of ["depth", "width"]) sliders[key].set(s[key]);
      init.value = s.init;
      for (const [name, radio] of Object.entries(radios)) radio.checked = name === s.activation;
      for (const [key, box] of Object.entries(boxes)) box.checked = s[key];
      const entries = Object.fromEntries(options.activations.map((name) => [name, grid[gridKey(s, name)]]));
      const pick = (i) => Object.fromEntries(Object.entries(entries).map(([name, entry]) => [name, entry[i]]));
      drawPanel(gradPlot, s.depth, pick(0), s.activation, { yLabel: t.gradAxis, name: t.gradName }, style, t);
      drawPanel(stdPlot, s.depth, pick(1), s.activation, { yLabel: t.stdAxis, name: t.stdName }, style, t);
      const [norms, stds] = entries[s.activation];
      gradPlot.dataset.config = gridKey(s, s.activation);
      gradPlot.dataset.gradNorms = JSON.stringify(norms);
      stdPlot.dataset.activationStds = JSON.stringify(stds);
      const ratio = fmt(norms[0] / norms[norms.length - 1], 2);
      summary.textContent = t.summary(t.activations[s.activation], s.depth, ratio, fmt(stds[stds.length - 1], 2));
    };

    redraw();
    return listen(model, KEYS, redraw);
  },
};
