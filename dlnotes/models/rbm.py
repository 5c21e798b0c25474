"""Restricted Boltzmann machines and deep belief networks (historical; chapter 6).

An RBM with binary visible units v ∈ {0,1}^D and hidden units h ∈ {0,1}^H has the energy

    E(v, h) = −bᵀv − cᵀh − vᵀW h          W: (D, H), b: (D,) visible bias, c: (H,) hidden bias

and the joint distribution p(v, h) = exp(−E(v, h)) / Z. There are no visible–visible or
hidden–hidden connections ("restricted"), so each layer is conditionally independent given the
other:

    p(h_j = 1 | v) = σ(c_j + (vᵀW)_j)         p(v_i = 1 | h) = σ(b_i + (W h)_i)

Summing h out gives the free energy, with p(v) = exp(−F(v)) / Z:

    F(v) = −bᵀv − Σ_j softplus(c_j + (vᵀW)_j),     softplus(a) = log(1 + eᵃ).

The log-likelihood gradient is ∂ log p(v)/∂W = ⟨v hᵀ⟩_data − ⟨v hᵀ⟩_model. The model expectation
needs Z, so contrastive divergence (CD-k, Hinton 2002) replaces it by the statistics after k
steps of Gibbs sampling started at the data. This is not the gradient of any objective, but it
works well in practice.

A deep belief network (Hinton, Osindero & Teh, 2006) stacks RBMs: train the first on the data,
then train the next on the hidden probabilities of the one below, and so on ("greedy layer-wise
pre-training"); the stack can initialise a feed-forward network that is then fine-tuned by
backpropagation. This was how deep networks were first trained successfully around 2006. It is
history now: with ReLUs, careful initialisation (Glorot 2010, He 2015), normalisation and
residual connections, deep networks train from random initialisation and modern networks do not
need pre-training of this kind. A DBN is a specific generative model made of stacked RBMs, not
a synonym for "deep neural network" (DNN), which is any network with many layers.
"""

import numpy as np

from dlnotes._checks import as_float_array, check_generator, check_int, check_nonempty, check_real, check_values_in
from dlnotes.activations import sigmoid


def _softplus(a):
    """log(1 + eᵃ) without overflow."""
    return np.logaddexp(0.0, a)


def _bernoulli(p, rng):
    """Binary states 1[u < p] with u ~ Uniform[0, 1) drawn as ``rng.random(p.shape)``."""
    return (rng.random(p.shape) < p).astype(np.float64)


def _units(x, n, name, where):
    """x as a non-empty float array (N, n) of values in [0, 1]."""
    x = as_float_array(x, name, where)
    if x.ndim != 2 or x.shape[1] != n:
        raise ValueError(f"{where}: {name} must be (N, {n}), got shape {tuple(x.shape)}")
    check_nonempty(x, name, where)
    return check_values_in(x, name, where, 0, 1)


class RBM:
    """Bernoulli–Bernoulli restricted Boltzmann machine.

    n_visible D, n_hidden H. ``params`` (updated in place by ``cd_step``, which computes its own
    update rather than a gradient for an optimiser):
        weight        (D, H)  W ~ N(0, 0.01²)   (Hinton's "practical guide", 2010)
        visible_bias  (D,)    b = 0
        hidden_bias   (H,)    c = 0
    Visible data are (N, D) arrays of values in [0, 1] (binary, or probabilities such as pixel
    intensities or the hidden probabilities of the RBM below).

    Contract: an RBM is not a ``dlnotes.layers.Layer`` and does not follow the layer contract. CD-k
    is not the gradient of any objective, so there is no ``forward``/``backward`` pair and no
    ``grads`` for an optimiser; ``params`` (named as above) are updated in place by ``cd_step``,
    which checks all of its input (values in [0, 1], NaN refused) before writing anything. There
    is no torch.nn twin. The same holds for ``DBN``, a list of RBMs.
    """

    def __init__(self, n_visible, n_hidden, *, rng):
        self.n_visible = check_int(n_visible, "n_visible", "RBM", low=1)
        self.n_hidden = check_int(n_hidden, "n_hidden", "RBM", low=1)
        rng = check_generator(rng, "RBM")
        self.params = {
            "weight": 0.01 * rng.standard_normal((self.n_visible, self.n_hidden)),
            "visible_bias": np.zeros(self.n_visible),
            "hidden_bias": np.zeros(self.n_hidden),
        }

    def __repr__(self):
        return f"RBM(n_visible={self.n_visible}, n_hidden={self.n_hidden})"

    def _v(self, v, method):
        return _units(v, self.n_visible, "v", f"RBM.{method}")

    def _h(self, h, method):
        return _units(h, self.n_hidden, "h", f"RBM.{method}")

    # --- the two conditionals and the free energy ----------------------------------------------

    def _p_h(self, v):
        return sigmoid(self.params["hidden_bias"] + v @ self.params["weight"])

    def _p_v(self, h):
        return sigmoid(self.params["visible_bias"] + h @ self.params["weight"].T)

    def hidden_probs(self, v):
        """p(h = 1 | v) = σ(c + v W): (N, D) -> (N, H)."""
        return self._p_h(self._v(v, "hidden_probs"))

    def visible_probs(self, h):
        """p(v = 1 | h) = σ(b + h Wᵀ): (N, H) -> (N, D)."""
        return self._p_v(self._h(h, "visible_probs"))

    def sample_h(self, v, rng):
        """(p(h = 1 | v), a binary sample h = 1[u < p]): two (N, H) arrays."""
        p = self._p_h(self._v(v, "sample_h"))
        return p, _bernoulli(p, check_generator(rng, "RBM.sample_h"))

    def sample_v(self, h, rng):
        """(p(v = 1 | h), a binary sample v = 1[u < p]): two (N, D) arrays."""
        p = self._p_v(self._h(h, "sample_v"))
        return p, _bernoulli(p, check_generator(rng, "RBM.sample_v"))

    def free_energy(self, v):
        """F(v) = −bᵀv − Σ_j softplus(c_j + (vᵀW)_j), one value per row: (N, D) -> (N,)."""
        v = self._v(v, "free_energy")
        pre = self.params["hidden_bias"] + v @ self.params["weight"]
        return -v @ self.params["visible_bias"] - _softplus(pre).sum(axis=1)

    # --- sampling and learning -----------------------------------------------------------------

    def gibbs(self, v, k, rng):
        """k steps of block Gibbs sampling v → h → v, every state sampled.

        v: (N, D) start. Returns (p_v, v_k): the probabilities p(v = 1 | h) of the last step and
        the binary sample drawn from them, both (N, D). Draw order per step: h's uniforms, then v's.
        """
        where = "RBM.gibbs"
        v = self._v(v, "gibbs")
        k = check_int(k, "k", where, low=1)
        rng = check_generator(rng, where)
        for _ in range(k):
            h = _bernoulli(self._p_h(v), rng)
            p_v = self._p_v(h)
            v = _bernoulli(p_v, rng)
        return p_v, v

    def cd_step(self, v, k=1, lr=0.1, *, rng):
        """One contrastive-divergence (CD-k) update on the mini-batch v: (N, D).

            p₀ = σ(c + v₀W)                          hidden probabilities on the data
            chain: h ~ p₀, then k − 1 times (v ~ σ(b + hWᵀ), h ~ σ(c + vW))
            v_k = σ(b + hWᵀ)                         reconstruction kept as probabilities
            p_k = σ(c + v_kW)
            W ← W + lr · (v₀ᵀp₀ − v_kᵀp_k) / N
            b ← b + lr · mean over rows of (v₀ − v_k)
            c ← c + lr · mean over rows of (p₀ − p_k)

        Choices (Hinton's "practical guide", 2010): hidden states that *drive* the chain are
        sampled (binary), which keeps the chain stochastic and the hidden layer a bottleneck;
        the statistics use hidden *probabilities*, and the final reconstruction uses visible
        probabilities rather than a sample — the same expectation with less sampling noise.
        Intermediate visible states (k > 1) are sampled. Draws, in this order: the uniforms for
        h, then for each intermediate step those for v and for h.
        """
        where = "RBM.cd_step"
        v0 = self._v(v, "cd_step")
        k = check_int(k, "k", where, low=1)
        lr = check_real(lr, "lr", where, low=0.0)
        rng = check_generator(rng, where)
        p0 = self._p_h(v0)
        h = _bernoulli(p0, rng)
        for _ in range(k - 1):
            v = _bernoulli(self._p_v(h), rng)
            h = _bernoulli(self._p_h(v), rng)
        vk = self._p_v(h)
        pk = self._p_h(vk)
        n = v0.shape[0]
        self.params["weight"] += lr * (v0.T @ p0 - vk.T @ pk) / n
        self.params["visible_bias"] += lr * (v0 - vk).mean(axis=0)
        self.params["hidden_bias"] += lr * (p0 - pk).mean(axis=0)

    def reconstruction_error(self, v):
        """Mean over rows of Σ_i (v_i − v̂_i)², with the deterministic v̂ = σ(b + σ(c + vW) Wᵀ).

        A cheap progress monitor, not the likelihood: it can fall while p(v) gets worse.
        """
        v = self._v(v, "reconstruction_error")
        v_hat = self._p_v(self._p_h(v))
        return float(np.mean(np.sum((v - v_hat) ** 2, axis=1)))


class DBN:
    """Deep belief network: a stack of RBMs trained greedily, one layer at a time.

    layer_sizes [D, H1, H2, ...] builds RBM(D, H1), RBM(H1, H2), ... (Hinton, Osindero & Teh,
    2006). ``pretrain`` trains each RBM with CD-k on the hidden probabilities of the one below;
    ``transform`` maps data to the top layer's hidden probabilities (features for a classifier,
    or the starting weights of an MLP to fine-tune: Linear weight = Wᵀ, bias = c).
    """

    def __init__(self, layer_sizes, *, rng):
        where = "DBN"
        if not isinstance(layer_sizes, (list, tuple)) or len(layer_sizes) < 2:
            raise ValueError(f"{where}: layer_sizes must be a list of at least 2 sizes, got {layer_sizes!r}")
        sizes = [check_int(s, f"layer_sizes[{i}]", where, low=1) for i, s in enumerate(layer_sizes)]
        rng = check_generator(rng, where)
        self.rbms = [RBM(d, h, rng=rng) for d, h in zip(sizes[:-1], sizes[1:])]

    def __repr__(self):
        sizes = [self.rbms[0].n_visible] + [r.n_hidden for r in self.rbms]
        return f"DBN(layer_sizes={sizes})"

    def pretrain(self, X, epochs, batch_size, lr, k=1, *, rng):
        """Greedy layer-wise CD-k training. X: (N, D) in [0, 1].

        For each RBM in turn: ``epochs`` passes over the current inputs in shuffled mini-batches
        of ``batch_size``, one ``cd_step`` each; then the inputs of the next RBM are this RBM's
        hidden probabilities. Lower layers are frozen once trained.
        Returns history: per RBM, the reconstruction error after each epoch.
        """
        where = "DBN.pretrain"
        epochs = check_int(epochs, "epochs", where, low=1)
        batch_size = check_int(batch_size, "batch_size", where, low=1)
        lr = check_real(lr, "lr", where, low=0.0)
        k = check_int(k, "k", where, low=1)
        rng = check_generator(rng, where)
        X = _units(X, self.rbms[0].n_visible, "X", where)
        history = []
        for rbm in self.rbms:
            errors = []
            for _ in range(epochs):
                order = rng.permutation(X.shape[0])
                for start in range(0, X.shape[0], batch_size):
                    rbm.cd_step(X[order[start : start + batch_size]], k, lr, rng=rng)
                errors.append(rbm.reconstruction_error(X))
            history.append(errors)
            X = rbm.hidden_probs(X)
        return history

    def transform(self, X):
        """Top-layer hidden probabilities: X (N, D) -> (N, H_last), passing through every RBM."""
        X = _units(X, self.rbms[0].n_visible, "X", "DBN.transform")
        for rbm in self.rbms:
            X = rbm.hidden_probs(X)
        return X
