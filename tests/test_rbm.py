"""RBM and DBN: exact enumeration on tiny machines, a CD-1 update derived by hand, shapes."""

import itertools
import math

import numpy as np
import pytest

from dlnotes.data import digits
from dlnotes.models.rbm import DBN, RBM


def sig(a):
    return 1.0 / (1.0 + math.exp(-a))


def tiny_rbm(n_visible, n_hidden, seed):
    """An RBM with parameters large enough that its distribution is far from uniform."""
    rbm = RBM(n_visible, n_hidden, rng=np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    for array in rbm.params.values():
        array[...] = rng.normal(scale=1.5, size=array.shape)
    return rbm


def all_states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def energy(rbm, v, h):
    """E(v, h) = −bᵀv − cᵀh − vᵀWh for one pair, written out with explicit sums."""
    W, b, c = rbm.params["weight"], rbm.params["visible_bias"], rbm.params["hidden_bias"]
    pair = sum(v[i] * W[i, j] * h[j] for i in range(len(v)) for j in range(len(h)))
    return -sum(b * v) - sum(c * h) - pair


def exact_distribution(rbm):
    """p(v) for every visible state, by summing exp(−E) over all (v, h): (2^D,)."""
    V, H = all_states(rbm.n_visible), all_states(rbm.n_hidden)
    weights = np.array([sum(math.exp(-energy(rbm, v, h)) for h in H) for v in V])
    return weights / weights.sum()


def test_free_energy_is_minus_log_sum_over_hidden_states():
    rbm = tiny_rbm(3, 2, seed=0)
    V, H = all_states(3), all_states(2)
    brute = np.array([-math.log(sum(math.exp(-energy(rbm, v, h)) for h in H)) for v in V])
    np.testing.assert_allclose(rbm.free_energy(V), brute, rtol=1e-13, atol=1e-13)
    # p(v) ∝ exp(−F(v)), normalised over all 2^3 visible states, is the exact marginal
    p = np.exp(-rbm.free_energy(V))
    np.testing.assert_allclose(p / p.sum(), exact_distribution(rbm), rtol=1e-12)


def test_conditionals_match_enumeration():
    rbm = tiny_rbm(3, 2, seed=1)
    V, H = all_states(3), all_states(2)
    for v in V:
        w = np.array([math.exp(-energy(rbm, v, h)) for h in H])
        np.testing.assert_allclose(rbm.hidden_probs(v[None])[0], (w / w.sum()) @ H, rtol=1e-12)
    for h in H:
        w = np.array([math.exp(-energy(rbm, v, h)) for v in V])
        np.testing.assert_allclose(rbm.visible_probs(h[None])[0], (w / w.sum()) @ V, rtol=1e-12)


def test_gibbs_chains_reach_the_exact_distribution():
    rbm = tiny_rbm(3, 2, seed=2)
    rng = np.random.default_rng(3)
    n = 20000
    start = (rng.random((n, 3)) < 0.5).astype(float)
    _, v = rbm.gibbs(start, 30, rng)
    index = v @ np.array([4.0, 2.0, 1.0])  # row order of all_states
    empirical = np.bincount(index.astype(int), minlength=8) / n
    p = exact_distribution(rbm)
    assert np.all(np.abs(empirical - p) < 4 * np.sqrt(p * (1 - p) / n) + 1e-3)


def test_cd1_update_by_hand():
    # 3 units: 2 visible, 1 hidden. Two training vectors.
    rbm = RBM(2, 1, rng=np.random.default_rng(0))
    rbm.params["weight"][...] = [[0.5], [-2.0]]
    rbm.params["visible_bias"][...] = [0.2, -0.1]
    rbm.params["hidden_bias"][...] = [0.3]
    v0 = np.array([[1.0, 0.0], [0.0, 1.0]])
    lr = 0.1
    # CD-1 draws one uniform per hidden unit: default_rng(0).random((2, 1)) = [[0.63696...], [0.26979...]]
    u = np.random.default_rng(0).random((2, 1))
    np.testing.assert_allclose(u.ravel(), [0.6369616873214543, 0.2697867137638703], rtol=0, atol=0)
    # hidden probabilities on the data: σ(0.3 + 0.5) = 0.690 and σ(0.3 − 2.0) = 0.154
    p0 = [sig(0.8), sig(-1.7)]
    # samples 1[u < p]: 0.637 < 0.690 → 1 and 0.270 > 0.154 → 0
    h0 = [1.0, 0.0]
    assert [float(u[0, 0] < p0[0]), float(u[1, 0] < p0[1])] == h0
    # reconstructions σ(b + h W ᵀ): example 1 σ(0.2 + 0.5), σ(−0.1 − 2.0); example 2 σ(0.2), σ(−0.1)
    vk = [[sig(0.7), sig(-2.1)], [sig(0.2), sig(-0.1)]]
    # hidden probabilities on the reconstructions σ(0.3 + 0.5 v₁ − 2.0 v₂)
    pk = [sig(0.3 + 0.5 * vk[n][0] - 2.0 * vk[n][1]) for n in range(2)]
    # ΔW_i = lr · (Σ_n v0[n][i]·p0[n] − Σ_n vk[n][i]·pk[n]) / 2
    dW = [lr * sum(v0[n][i] * p0[n] - vk[n][i] * pk[n] for n in range(2)) / 2 for i in range(2)]
    db = [lr * sum(v0[n][i] - vk[n][i] for n in range(2)) / 2 for i in range(2)]
    dc = lr * sum(p0[n] - pk[n] for n in range(2)) / 2

    rbm.cd_step(v0, k=1, lr=lr, rng=np.random.default_rng(0))
    np.testing.assert_allclose(rbm.params["weight"].ravel(), [0.5 + dW[0], -2.0 + dW[1]], rtol=1e-14)
    np.testing.assert_allclose(rbm.params["visible_bias"], [0.2 + db[0], -0.1 + db[1]], rtol=1e-14)
    np.testing.assert_allclose(rbm.params["hidden_bias"], [0.3 + dc], rtol=1e-14)


def test_cdk_follows_the_documented_chain():
    rbm = tiny_rbm(4, 3, seed=4)
    W, b, c = (rbm.params[k].copy() for k in ("weight", "visible_bias", "hidden_bias"))
    v0 = (np.random.default_rng(5).random((6, 4)) < 0.5).astype(float)
    lr, k = 0.05, 3
    # replay the draws: h₀, then (v, h) for each of the k − 1 intermediate steps
    u = np.random.default_rng(6)
    s = lambda a: 1.0 / (1.0 + np.exp(-a))  # noqa: E731
    p0 = s(c + v0 @ W)
    h = (u.random(p0.shape) < p0) * 1.0
    for _ in range(k - 1):
        pv = s(b + h @ W.T)
        v = (u.random(pv.shape) < pv) * 1.0
        ph = s(c + v @ W)
        h = (u.random(ph.shape) < ph) * 1.0
    vk = s(b + h @ W.T)
    pk = s(c + vk @ W)
    rbm.cd_step(v0, k=k, lr=lr, rng=np.random.default_rng(6))
    np.testing.assert_allclose(rbm.params["weight"], W + lr * (v0.T @ p0 - vk.T @ pk) / 6, rtol=1e-14)
    np.testing.assert_allclose(rbm.params["visible_bias"], b + lr * (v0 - vk).mean(0), rtol=1e-14)
    np.testing.assert_allclose(rbm.params["hidden_bias"], c + lr * (p0 - pk).mean(0), rtol=1e-14)


def test_cd1_raises_the_exact_likelihood():
    data = np.array([[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 0, 0], [1, 1, 1, 0]], dtype=float)
    rbm = RBM(4, 3, rng=np.random.default_rng(7))
    V = all_states(4)
    index = (data @ [8.0, 4.0, 2.0, 1.0]).astype(int)

    def mean_log_likelihood():
        log_p = -rbm.free_energy(V)
        log_p -= np.logaddexp.reduce(log_p)
        return log_p[index].mean()

    before = mean_log_likelihood()
    rng = np.random.default_rng(8)
    for _ in range(300):
        rbm.cd_step(data, k=1, lr=0.1, rng=rng)
    assert mean_log_likelihood() > before + 1.0  # from about log(1/16) = −2.77 per vector
    assert rbm.reconstruction_error(data) < 0.5


def test_reconstruction_error_by_hand():
    rbm = RBM(2, 1, rng=np.random.default_rng(0))
    rbm.params["weight"][...] = 0.0
    rbm.params["visible_bias"][...] = [0.0, math.log(3.0)]  # p(v=1) = 0.5 and 0.75 whatever h is
    # (1 − 0.5)² + (0 − 0.75)² = 0.8125
    assert rbm.reconstruction_error(np.array([[1.0, 0.0]])) == pytest.approx(0.8125, rel=1e-14)


def test_dbn_shapes_and_greedy_stacking():
    X = digits(seed=0).train[0]
    dbn = DBN([64, 32, 8], rng=np.random.default_rng(0))
    assert [(r.n_visible, r.n_hidden) for r in dbn.rbms] == [(64, 32), (32, 8)]
    untrained = dbn.rbms[0].reconstruction_error(X)
    history = dbn.pretrain(X, epochs=5, batch_size=20, lr=0.1, rng=np.random.default_rng(1))
    assert [len(h) for h in history] == [5, 5]
    assert history[0][-1] < 0.5 * untrained and history[0][-1] < history[0][0]
    # layer 2 was trained on layer 1's hidden probabilities: its error is measured on those
    assert history[1][-1] == pytest.approx(dbn.rbms[1].reconstruction_error(dbn.rbms[0].hidden_probs(X)))
    features = dbn.transform(X)
    assert features.shape == (len(X), 8)
    assert np.all((features > 0) & (features < 1))


def test_bad_inputs():
    rbm = RBM(3, 2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"RBM.free_energy: v must be \(N, 3\), got shape \(2, 4\)"):
        rbm.free_energy(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"RBM.hidden_probs: v must have values in \[0, 1\], got range \[0.0, 2.0\]"):
        rbm.hidden_probs(np.array([[0.0, 1.0, 2.0]]))
    with pytest.raises(ValueError, match=r"RBM.visible_probs: h must be \(N, 2\), got shape \(3,\)"):
        rbm.visible_probs(np.zeros(3))
    with pytest.raises(ValueError, match=r"RBM.sample_h: v must be \(N, 3\), got shape \(1, 2\)"):
        rbm.sample_h(np.zeros((1, 2)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="RBM.cd_step: k must be >= 1, got 0"):
        rbm.cd_step(np.zeros((1, 3)), k=0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"RBM.cd_step: lr must be in \[0.0, inf\], got -0.1"):
        rbm.cd_step(np.zeros((1, 3)), lr=-0.1, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="RBM.gibbs: rng must be a numpy.random.Generator"):
        rbm.gibbs(np.zeros((1, 3)), 1, rng=0)
    with pytest.raises(TypeError, match="RBM: rng must be a numpy.random.Generator"):
        RBM(3, 2, rng=None)
    with pytest.raises(ValueError, match="RBM: n_hidden must be >= 1, got 0"):
        RBM(3, 0, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"DBN: layer_sizes must be a list of at least 2 sizes, got \[5\]"):
        DBN([5], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"DBN.pretrain: X must be \(N, 4\), got shape \(3, 5\)"):
        DBN([4, 2], rng=np.random.default_rng(0)).pretrain(np.zeros((3, 5)), 1, 1, 0.1, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"DBN.pretrain: lr must be in \[0.0, inf\], got -1.0"):
        DBN([4, 2], rng=np.random.default_rng(0)).pretrain(np.zeros((3, 4)), 1, 1, -1, rng=np.random.default_rng(0))
