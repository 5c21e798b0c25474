// The gradient-flow explorer: per-layer gradient norms and activation spreads of a deep MLP at
// initialisation. Python (dlnotes/widgets/gradient.py) precomputes every reachable configuration
// into the `grid` trait; this front end only selects and draws, so it works without a kernel.
import {
  PALETTE, html, svg, fmt, scale, ticks, logTicks, axes, slider, choice, toggle, save, listen,
} from "./kit.js";

const KEYS = ["depth", "width", "activation", "init", "residual", "batchnorm"];
const ACT_LABELS = { sigmoid: "sigmoid", tanh: "tanh", relu: "ReLU", gelu: "GELU" };
const INIT_LABELS = { small: "small normal (σ = 0.01)", xavier: "Xavier / Glorot", he: "He / Kaiming" };
const SIZE = { width: 380, height: 270 };
const BOX = { left: 52, top: 8, right: 370, bottom: 230 };
let instances = 0;

// The grid's key, as GradientExplorer._key writes it
const gridKey = (s, activation) =>
  [activation, s.init, Number(s.residual), Number(s.batchnorm), s.width, s.depth].join("|");

function state(model) {
  return Object.fromEntries(KEYS.map((key) => [key, model.get(key)]));
}

// One log-scale panel: a curve per activation, the chosen one bold with markers
function drawPanel(root, depth, curves, chosen, yLabel, colours) {
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
    xLabel: "layer l (input side → loss side)", yLabel,
  });
  for (const name of [...Object.keys(logs).filter((n) => n !== chosen), chosen]) {
    const pts = logs[name].map((v, i) => [x(i + 1), y(v)]).filter(([, py]) => Number.isFinite(py));
    const d = `M${pts.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join("L")}`;
    const bold = name === chosen;
    svg("path", { d, class: bold ? "dln-trace" : "dln-trace dln-faint", stroke: colours[name] }, root);
    if (bold) for (const [px, py] of pts) svg("circle", { cx: px, cy: py, r: 2.5, fill: colours[name] }, root);
  }
}

export default {
  render({ model, el }) {
    instances += 1;
    const options = model.get("options");
    const colours = Object.fromEntries(options.activations.map((name, i) => [name, PALETTE[i]]));
    const root = html("div", { class: "dln-widget dln-grad" }, el);
    const controls = html("div", { class: "dln-controls" }, root);
    const top = html("div", { class: "dln-row" }, controls);
    const sliders = {
      depth: slider(top, {
        label: "depth", control: "depth", values: options.depths, value: model.get("depth"),
        onInput: (v) => save(model, { depth: v }),
      }),
      width: slider(top, {
        label: "width", control: "width", values: options.widths, value: model.get("width"),
        onInput: (v) => save(model, { width: v }),
      }),
    };
    const init = choice(top, {
      label: "initialisation", control: "init",
      options: Object.fromEntries(options.inits.map((name) => [name, INIT_LABELS[name]])),
      onChange: (v) => save(model, { init: v }),
    });
    const second = html("div", { class: "dln-row" }, controls);
    html("span", { class: "dln-label", text: "activation" }, second);
    const radios = {};
    for (const name of options.activations) {
      const pick = html("label", { class: "dln-pick" }, second);
      radios[name] = html("input", {
        type: "radio", name: `dln-activation-${instances}`, "data-control": `activation-${name}`,
      }, pick);
      html("span", { class: "dln-swatch", style: `background:${colours[name]}` }, pick);
      html("span", { text: ACT_LABELS[name] }, pick);
      radios[name].addEventListener("change", () => save(model, { activation: name }));
    }
    const boxes = {};
    for (const [key, label] of [["residual", "residual connections"], ["batchnorm", "batch norm"]]) {
      boxes[key] = toggle(second, { label, control: key, onChange: (v) => save(model, { [key]: v }) });
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
    const summary = html("div", { class: "dln-row dln-hint" }, root);

    const redraw = () => {
      const s = state(model);
      const grid = model.get("grid");
      for (const key of ["depth", "width"]) sliders[key].set(s[key]);
      init.value = s.init;
      for (const [name, radio] of Object.entries(radios)) radio.checked = name === s.activation;
      for (const [key, box] of Object.entries(boxes)) box.checked = s[key];
      const entries = Object.fromEntries(options.activations.map((name) => [name, grid[gridKey(s, name)]]));
      const pick = (i) => Object.fromEntries(Object.entries(entries).map(([name, entry]) => [name, entry[i]]));
      drawPanel(gradPlot, s.depth, pick(0), s.activation, "‖∂L/∂W_l‖", colours);
      drawPanel(stdPlot, s.depth, pick(1), s.activation, "std of h_l", colours);
      const [norms, stds] = entries[s.activation];
      gradPlot.dataset.config = gridKey(s, s.activation);
      gradPlot.dataset.gradNorms = JSON.stringify(norms);
      stdPlot.dataset.activationStds = JSON.stringify(stds);
      const ratio = fmt(norms[0] / norms[norms.length - 1], 2);
      summary.textContent = `${ACT_LABELS[s.activation]}: gradient norm at layer 1 / at layer ${s.depth} = ${ratio}; `
        + `activation std at layer ${s.depth} = ${fmt(stds[stds.length - 1], 2)}`;
    };

    redraw();
    return listen(model, KEYS, redraw);
  },
};
