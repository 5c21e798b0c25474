// Runs the attention explorer's math (attnmath.js `attend`) under Node and prints the results as JSON.
//
//   node run_attnmath.mjs MODULE < request.json > reply.json
//
// MODULE is any ES module exporting `attend` (attnmath.js, or the whole bundled widget module that
// anywidget loads); it is imported from a data: URL, as the browser imports a blob.
// request: {"states": [{queries, keys, values, dk, scaled, mask, padding}], "repeat": n}
//          (repeat > 0: also time attend on each state, median in ms)
// reply:   {"results": [{scores, weights, outputs}], "ms": [median per state]}; -Infinity comes back as null.
import { readFileSync } from "node:fs";

const source = readFileSync(process.argv[2], "utf8");
const mod = await import(`data:text/javascript;base64,${Buffer.from(source).toString("base64")}`);
const request = JSON.parse(readFileSync(0, "utf8"));
const states = request.states || [];
const results = states.map((s) => mod.attend(s));

function medianMs(state, repeat) {
  const times = [];
  for (let i = 0; i < repeat; i++) {
    const t0 = process.hrtime.bigint();
    mod.attend(state);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
const ms = request.repeat ? states.map((s) => medianMs(s, request.repeat)) : [];

process.stdout.write(JSON.stringify({ results, ms }));
