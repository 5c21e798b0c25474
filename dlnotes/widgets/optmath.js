// Optimiser trajectories on 2-D surfaces, in the browser.
//
// A port of dlnotes/surfaces.py (the formulas) and of dlnotes/optim.py (the update rules, for the
// options the explorer exposes), written with the same floating-point operations in the same
// order, so a path computed here equals dlnotes.trajectories.run to about 1e-15
// (tests/test_widgets.py runs the bundled widget module under Node and compares).
// Pure functions only: no DOM, no imports.

// ---- surfaces: f(x, y, c) and grad(x, y, c) -> [df/dx, df/dy]; c is the quadratic's condition number
function bealeTerms(x, y) {
  const y2 = y * y;
  return [1.5 - x + x * y, 2.25 - x + x * y2, 2.625 - x + x * (y2 * y)];
}

export const SURFACE_FNS = {
  quadratic: {
    f: (x, y, c) => 0.5 * (x * x + c * (y * y)),
    grad: (x, y, c) => [x, c * y],
  },
  rosenbrock: {
    f: (x, y) => {
      const u = 1.0 - x;
      const v = y - x * x;
      return u * u + 100.0 * (v * v);
    },
    grad: (x, y) => {
      const v = y - x * x;
      return [-2.0 * (1.0 - x) - 400.0 * x * v, 200.0 * v];
    },
  },
  beale: {
    f: (x, y) => {
      const [r1, r2, r3] = bealeTerms(x, y);
      return r1 * r1 + r2 * r2 + r3 * r3;
    },
    grad: (x, y) => {
      const [r1, r2, r3] = bealeTerms(x, y);
      const y2 = y * y;
      return [
        2.0 * r1 * (y - 1.0) + 2.0 * r2 * (y2 - 1.0) + 2.0 * r3 * (y2 * y - 1.0),
        2.0 * r1 * x + 2.0 * r2 * (2.0 * x * y) + 2.0 * r3 * (3.0 * x * y2),
      ];
    },
  },
  saddle: {
    f: (x, y) => {
      const y2 = y * y;
      return 0.5 * (x * x) - 0.5 * y2 + 0.25 * (y2 * y2);
    },
    grad: (x, y) => [x, y * (y * y - 1.0)],
  },
  himmelblau: {
    f: (x, y) => {
      const a = x * x + y - 11.0;
      const b = x + y * y - 7.0;
      return a * a + b * b;
    },
    grad: (x, y) => {
      const a = x * x + y - 11.0;
      const b = x + y * y - 7.0;
      return [4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b];
    },
  },
};

// ---- optimisers: step(p, g) updates the array p in place, one coordinate at a time.
// Python's elementwise NumPy expressions become the same scalar expressions per coordinate.

// start <- start + w (end - start), in the form torch's lerp_ picks for |w| < 0.5 and otherwise
function lerp(start, end, w) {
  return Math.abs(w) < 0.5 ? start + w * (end - start) : end - (end - start) * (1.0 - w);
}

class SGD {
  // momentum = 0: plain SGD; nesterov uses g + μ·b (dampening and weight decay are not exposed: 0)
  constructor({ lr, momentum = 0, nesterov = false }) {
    Object.assign(this, { lr, momentum, nesterov, t: 0, buf: null });
  }

  step(p, g) {
    this.t += 1;
    if (this.buf === null) this.buf = p.map(() => 0);
    for (let i = 0; i < p.length; i++) {
      let d = g[i];
      if (this.momentum !== 0) {
        if (this.t === 1) {
          this.buf[i] = d;
        } else {
          this.buf[i] = this.buf[i] * this.momentum;
          this.buf[i] = this.buf[i] + d; // dlnotes.optim's (1 − dampening)·g with dampening 0: g exactly
        }
        d = this.nesterov ? d + this.momentum * this.buf[i] : this.buf[i];
      }
      p[i] = p[i] - this.lr * d;
    }
  }
}

class Adagrad {
  // lr_decay = 0, so lr_t = lr / (1 + (t − 1)·0) = lr exactly
  constructor({ lr, eps }) {
    Object.assign(this, { lr, eps, sum: null });
  }

  step(p, g) {
    if (this.sum === null) this.sum = p.map(() => 0);
    for (let i = 0; i < p.length; i++) {
      this.sum[i] = this.sum[i] + g[i] * g[i];
      const std = Math.sqrt(this.sum[i]) + this.eps;
      p[i] = p[i] + (-this.lr * g[i]) / std;
    }
  }
}

class RMSprop {
  constructor({ lr, alpha, eps }) {
    Object.assign(this, { lr, alpha, eps, sq: null });
  }

  step(p, g) {
    if (this.sq === null) this.sq = p.map(() => 0);
    for (let i = 0; i < p.length; i++) {
      this.sq[i] = this.sq[i] * this.alpha;
      this.sq[i] = this.sq[i] + (1.0 - this.alpha) * g[i] * g[i];
      const avg = Math.sqrt(this.sq[i]) + this.eps;
      p[i] = p[i] + (-this.lr * g[i]) / avg;
    }
  }
}

class Adam {
  // weight_decay λ is AdamW's decoupled decay, θ ← θ·(1 − lr·λ) before the moments; Adam has λ = 0
  constructor({ lr, beta1, beta2, eps, weight_decay = 0 }) {
    Object.assign(this, { lr, beta1, beta2, eps, weight_decay, t: 0, m: null, v: null });
  }

  step(p, g) {
    this.t += 1;
    if (this.m === null) {
      this.m = p.map(() => 0);
      this.v = p.map(() => 0);
    }
    const stepSize = this.lr / (1 - this.beta1 ** this.t);
    const bc2Sqrt = (1 - this.beta2 ** this.t) ** 0.5;
    for (let i = 0; i < p.length; i++) {
      if (this.weight_decay !== 0) p[i] = p[i] * (1 - this.lr * this.weight_decay);
      this.m[i] = lerp(this.m[i], g[i], 1 - this.beta1);
      this.v[i] = this.v[i] * this.beta2;
      this.v[i] = this.v[i] + (1 - this.beta2) * g[i] * g[i];
      const denom = Math.sqrt(this.v[i]) / bc2Sqrt + this.eps;
      p[i] = p[i] + (-stepSize * this.m[i]) / denom;
    }
  }
}

// The names of dlnotes.trajectories; every hyper-parameter is passed explicitly (see hyperFor)
const OPTIMIZERS = {
  sgd: (h) => new SGD(h),
  momentum: (h) => new SGD(h),
  nesterov: (h) => new SGD({ ...h, nesterov: true }),
  adagrad: (h) => new Adagrad(h),
  rmsprop: (h) => new RMSprop(h),
  adam: (h) => new Adam(h),
  adamw: (h) => new Adam(h),
};

// The (steps + 1) x 2 path as an array of [x, y]; diverging runs continue with inf/NaN like NumPy.
function runPath(surface, condition, optimizer, start, steps, hyper) {
  const { grad } = SURFACE_FNS[surface];
  const opt = OPTIMIZERS[optimizer](hyper);
  const p = [start[0], start[1]];
  const path = [[p[0], p[1]]];
  for (let t = 0; t < steps; t++) {
    opt.step(p, grad(p[0], p[1], condition));
    path.push([p[0], p[1]]);
  }
  return path;
}

// Hyper-parameters of one optimiser from the explorer's state (mirrors OptimizerExplorer._hyper)
function hyperFor(state, name) {
  const h = { lr: state.lrs[name], ...(state.fixed_hyper[name] || {}) };
  if (name === "momentum" || name === "nesterov") h.momentum = state.momentum;
  if (name === "adam" || name === "adamw") Object.assign(h, { beta1: state.beta1, beta2: state.beta2 });
  if (name === "adamw") h.weight_decay = state.weight_decay;
  return h;
}

// Every selected optimiser's path for an explorer state: {name: path}
export function runState(state) {
  const paths = {};
  for (const name of state.optimizers) {
    paths[name] = runPath(state.surface, state.condition, name, state.start, state.steps, hyperFor(state, name));
  }
  return paths;
}
