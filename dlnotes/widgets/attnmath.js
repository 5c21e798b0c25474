// The attention explorer's math, shared by the page and by the Node test (tests/js/run_attnmath.mjs):
// scaled dot-product attention of every query over every key, with one of three masks. Plain
// float64 loops in the same order as dlnotes.layers.attention: s = (q · k) · scale, then the mask.

// True where query i may not look at key j: "causal" hides later keys, "padding" the last `padding` keys
export function blocked(mask, i, j, count, padding) {
  if (mask === "causal") return j > i;
  if (mask === "padding") return j >= count - padding;
  return false;
}

// Softmax of one row, shifted by its maximum so exp never overflows; -Infinity gives weight 0
function softmaxRow(row) {
  const top = Math.max(...row);
  const e = row.map((s) => Math.exp(s - top));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

// {scores, weights, outputs}: scores[i][j] = (q_i · k_j) / √d_k (or unscaled) with blocked entries -Infinity,
// weights[i] = softmax(scores[i]), outputs[i] = Σ_j weights[i][j] v_j. Uses the first dk features of q and k.
export function attend({ queries, keys, values, dk, scaled, mask, padding }) {
  const count = queries.length;
  const scale = scaled ? 1 / Math.sqrt(dk) : 1;
  const scores = queries.map((q, i) => keys.map((k, j) => {
    if (blocked(mask, i, j, count, padding)) return -Infinity;
    let dot = 0;
    for (let c = 0; c < dk; c++) dot += q[c] * k[c];
    return dot * scale;
  }));
  const weights = scores.map(softmaxRow);
  const outputs = weights.map((w) => values[0].map((_, c) => w.reduce((acc, wj, j) => acc + wj * values[j][c], 0)));
  return { scores, weights, outputs };
}
