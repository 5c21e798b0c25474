// Runs the browser's optimiser math under Node and prints the results as JSON.
//
//   node run_optmath.mjs MODULE < request.json > reply.json
//
// MODULE is any ES module exporting SURFACE_FNS and runState (optmath.js, or the whole bundled
// widget module that anywidget loads); it is imported from a data: URL, as the browser imports a blob.
// request: {"values": [{surface, condition, points: [[x, y], ...]}], "states": [explorer state],
//           "repeat": n}   (repeat > 0: also time runState on each state, median in ms)
// reply:   {"values": [[[f, df/dx, df/dy], ...]], "states": [{optimizer: path}], "ms": [median per state]}
// Non-finite numbers come back as null (JSON has no inf/nan).
import { readFileSync } from "node:fs";

const source = readFileSync(process.argv[2], "utf8");
const mod = await import(`data:text/javascript;base64,${Buffer.from(source).toString("base64")}`);
const request = JSON.parse(readFileSync(0, "utf8"));

const values = (request.values || []).map(({ surface, condition, points }) => {
  const { f, grad } = mod.SURFACE_FNS[surface];
  return points.map(([x, y]) => [f(x, y, condition), ...grad(x, y, condition)]);
});
const states = (request.states || []).map((s) => mod.runState(s));

function medianMs(state, repeat) {
  const times = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    mod.runState(state);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
const ms = request.repeat ? (request.states || []).map((s) => medianMs(s, request.repeat)) : [];

process.stdout.write(JSON.stringify({ values, states, ms }));
