"""dlnotes.paradigms: each small algorithm against an independent implementation (scikit-learn,
torch.distributions, a plain loop or a closed form), its defining property, and bad arguments."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans as SkKMeans
from sklearn.linear_model import Perceptron as SkPerceptron
from sklearn.semi_supervised import LabelPropagation

from dlnotes import data
from dlnotes.paradigms import (
    epsilon_greedy_bandit,
    gaussian_mixture,
    kmeans,
    kmeans_step,
    label_propagation,
    mixture_log_density,
    perceptron,
    sample_mixture,
)
from testkit import raises_exactly

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


def blobs(seed, n=60, centers=((0.0, 0.0), (4.0, 1.0), (1.0, 4.0))):
    rng = np.random.default_rng(seed)
    X = np.concatenate([rng.normal(c, 0.7, (n, 2)) for c in centers])
    return X, np.repeat(np.arange(len(centers)), n)


# ---------------------------------------------------------------- perceptron


@pytest.mark.parametrize("separable", [True, False])
def test_perceptron_matches_sklearn(separable):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    y = (X @ [1.0, -2.0, 0.5] + 0.3 > 0).astype(int) if separable else rng.integers(0, 2, 40)
    ours = perceptron(X, y, epochs=30, lr=0.5)
    sk = SkPerceptron(shuffle=False, eta0=0.5, max_iter=30, tol=None).fit(X, y)
    np.testing.assert_allclose(ours.weight, sk.coef_[0], rtol=1e-12, atol=1e-12)
    assert ours.bias == pytest.approx(sk.intercept_[0], rel=1e-12, abs=1e-12)
    assert (ours.mistakes[-1] == 0) == separable


def test_perceptron_learns_and_but_never_xor():
    # AND by hand: the first pass updates on (0,0), (0,1) and (1,1); the rule stops at w = (2, 1), b = −2
    # or another separating line, whichever it reaches first; any of them classifies all four points.
    and_fit = perceptron(XOR_X, np.array([0, 0, 0, 1]), epochs=50)
    assert and_fit.mistakes[-1] == 0
    np.testing.assert_array_equal(XOR_X @ and_fit.weight + and_fit.bias > 0, [False, False, False, True])
    xor_fit = perceptron(XOR_X, XOR_Y, epochs=50)
    assert len(xor_fit.mistakes) == 50 and xor_fit.mistakes.min() >= 1


def test_perceptron_bad_arguments():
    with raises_exactly(ValueError, "perceptron: y must contain only the labels 0 and 1, got [0, 1, 2]"):
        perceptron(XOR_X, np.array([0, 1, 2, 0]), epochs=1)
    with raises_exactly(ValueError, "perceptron: y must be (4,) integers >= 0, got shape (3,) dtype int64"):
        perceptron(XOR_X, np.array([0, 1, 1]), epochs=1)
    with raises_exactly(ValueError, "perceptron: X must be (N, d) with N >= 1, got shape (4,)"):
        perceptron(XOR_X[:, 0], XOR_Y, epochs=1)
    with raises_exactly(ValueError, "perceptron: lr must be in (0.0, inf], got 0.0"):
        perceptron(XOR_X, XOR_Y, epochs=1, lr=0.0)


# ---------------------------------------------------------------- k-means


def loop_kmeans_step(X, centers):
    """The same step written point by point, as a reference."""
    labels = np.array([min(range(len(centers)), key=lambda k: np.sum((x - centers[k]) ** 2)) for x in X])
    new = centers.copy()
    for k in range(len(centers)):
        members = [x for x, c in zip(X, labels) if c == k]
        if members:
            new[k] = np.mean(members, axis=0)
    return new, labels


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 5), d=st.integers(1, 3))
def test_kmeans_step_matches_a_loop(seed, k, d):
    rng = np.random.default_rng(seed)
    X, centers = rng.normal(size=(30, d)), rng.normal(size=(k, d)) * 2
    new, labels = kmeans_step(X, centers)
    ref_new, ref_labels = loop_kmeans_step(X, centers)
    np.testing.assert_array_equal(labels, ref_labels)
    np.testing.assert_allclose(new, ref_new, rtol=1e-13, atol=1e-14)


def test_kmeans_step_keeps_an_empty_centre():
    X, _ = blobs(0)
    centers = np.array([[0.0, 0.0], [100.0, 100.0]])
    new, labels = kmeans_step(X, centers)
    assert not np.any(labels == 1)
    np.testing.assert_array_equal(new[1], [100.0, 100.0])
    np.testing.assert_allclose(new[0], X.mean(axis=0), rtol=1e-13)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kmeans_matches_sklearn_from_the_same_start(seed):
    X, _ = blobs(seed)
    ours = kmeans(X, 3, rng=np.random.default_rng(seed))
    start = X[np.random.default_rng(seed).choice(len(X), size=3, replace=False)]  # kmeans' own first draw
    sk = SkKMeans(3, init=start, n_init=1, algorithm="lloyd", tol=0.0, max_iter=100).fit(X)
    np.testing.assert_allclose(ours.centers, sk.cluster_centers_, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(ours.labels, sk.labels_)
    assert ours.objective[-1] == pytest.approx(sk.inertia_, rel=1e-10)
    assert np.all(np.diff(ours.objective) <= 1e-9)  # Lloyd steps never raise J


def test_kmeans_bad_arguments():
    X, _ = blobs(0, n=2)
    with raises_exactly(ValueError, "kmeans: k must be <= the number of points (6), got 7"):
        kmeans(X, 7, rng=np.random.default_rng(0))
    with raises_exactly(TypeError, "kmeans: rng must be a numpy.random.Generator "
                                   "(np.random.default_rng(seed)), got int"):
        kmeans(X, 2, rng=0)
    with raises_exactly(ValueError, "kmeans_step: centers must be (K, 2), got shape (2, 3)"):
        kmeans_step(X, np.zeros((2, 3)))


# ---------------------------------------------------------------- Gaussian mixture


def test_gaussian_mixture_is_the_per_cluster_mle():
    X, labels = blobs(3, n=50)
    labels[:7] = 2  # uneven clusters
    mix = gaussian_mixture(X, labels)
    for k in range(3):
        members = X[labels == k]
        assert mix.weights[k] == pytest.approx(len(members) / len(X), rel=1e-15)
        np.testing.assert_allclose(mix.means[k], members.mean(axis=0), rtol=1e-13)
        np.testing.assert_allclose(mix.covs[k], np.cov(members.T, bias=True), rtol=1e-12)


def torch_mixture(mix):
    t = [torch.from_numpy(a) for a in mix]
    dist = torch.distributions
    return dist.MixtureSameFamily(dist.Categorical(probs=t[0]), dist.MultivariateNormal(t[1], covariance_matrix=t[2]))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 4), d=st.integers(1, 3))
def test_mixture_log_density_matches_torch(seed, k, d):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(k, d, d))
    mix = (rng.dirichlet(np.ones(k)), rng.normal(size=(k, d)) * 3, A @ A.transpose(0, 2, 1) + 0.1 * np.eye(d))
    X = rng.normal(size=(25, d)) * 4
    expected = torch_mixture(mix).log_prob(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(mixture_log_density(X, mix), expected, rtol=1e-11, atol=1e-11)


def test_mixture_log_density_stays_finite_far_away():
    mix = gaussian_mixture(*blobs(0))
    far = np.array([[1e3, -1e3]])
    value = mixture_log_density(far, mix)[0]
    assert np.isfinite(value) and value < -1e4
    assert value == pytest.approx(torch_mixture(mix).log_prob(torch.from_numpy(far)).item(), rel=1e-10)


def test_sample_mixture_has_the_mixture_moments():
    mix = gaussian_mixture(*blobs(0))
    X, z = sample_mixture(200_000, mix, rng=np.random.default_rng(0))
    np.testing.assert_allclose(np.bincount(z) / len(z), mix.weights, atol=0.005)
    for k in range(3):
        np.testing.assert_allclose(X[z == k].mean(axis=0), mix.means[k], atol=0.02)
        np.testing.assert_allclose(np.cov(X[z == k].T), mix.covs[k], atol=0.03)
    again, z_again = sample_mixture(200_000, mix, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(again, X)
    np.testing.assert_array_equal(z_again, z)


def test_mixture_bad_arguments():
    X, labels = blobs(0, n=5)
    with raises_exactly(ValueError, "gaussian_mixture: labels must give every cluster 0 … 3 more than d = 2 "
                                    "points, got counts [5, 5, 0, 5]"):
        gaussian_mixture(X, np.repeat([0, 1, 3], 5))
    mix = gaussian_mixture(X, labels)
    with raises_exactly(ValueError, "mixture_log_density: X must be (N, 2), got shape (4, 3)"):
        mixture_log_density(np.zeros((4, 3)), mix)
    with raises_exactly(TypeError, "sample_mixture: mixture must be a GaussianMixture "
                                   "(weights, means, covs), got list"):
        sample_mixture(3, list(mix), rng=np.random.default_rng(0))
    with raises_exactly(ValueError, "mixture_log_density: mixture must be (weights (K,), means (K, d), covs "
                                    "(K, d, d)), got shapes (2,), (3, 2), (3, 2, 2)"):
        mixture_log_density(X, (mix.weights[:2], mix.means, mix.covs))


# ---------------------------------------------------------------- label propagation


def propagate(X, y, sigma, steps):
    """The iterative form: F ← P F, then put the given labels back."""
    W = np.exp(-((X[:, None] - X[None]) ** 2).sum(-1) / (2 * sigma**2))
    np.fill_diagonal(W, 0)
    P = W / W.sum(1, keepdims=True)
    labelled = y >= 0
    F = np.zeros((len(X), y.max() + 1))
    F[labelled, y[labelled]] = 1
    for _ in range(steps):
        F = P @ F
        F[labelled] = 0
        F[labelled, y[labelled]] = 1
    return F


def few_labels(n=60, seed=0):
    X, y_true = data.moons(n, noise=0.05, rng=np.random.default_rng(seed))
    y = -np.ones(n, dtype=np.int64)
    y[[0, n - 1]] = y_true[[0, n - 1]]
    return X, y, y_true


def test_label_propagation_is_the_limit_of_propagation():
    X, y, _ = few_labels()
    F = label_propagation(X, y, sigma=0.3)
    np.testing.assert_allclose(F, propagate(X, y, 0.3, 5000), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(F.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(F[[0, -1]], np.eye(2)[y[[0, -1]]])


def test_label_propagation_agrees_with_sklearn():
    # sklearn keeps self-loops (w_ii = 1); they slow the iteration but do not move its fixed point.
    X, y, _ = few_labels()
    sk = LabelPropagation(kernel="rbf", gamma=1 / (2 * 0.3**2), max_iter=100_000, tol=1e-13).fit(X, y)
    F = label_propagation(X, y, sigma=0.3)
    np.testing.assert_allclose(F, sk.label_distributions_, atol=1e-6)


def test_two_labels_suffice_on_dense_moons():
    X, y, y_true = few_labels(n=200)
    assert np.mean(label_propagation(X, y, sigma=0.1).argmax(1) == y_true) == 1.0


def test_label_propagation_bad_arguments():
    X, y, _ = few_labels(10)
    with raises_exactly(ValueError, "label_propagation: y must label at least one point (labels >= 0), got only -1"):
        label_propagation(X, -np.ones(10, dtype=int), 0.3)
    with raises_exactly(ValueError, "label_propagation: y must be (10,) integers >= -1, got shape (10,) dtype float64"):
        label_propagation(X, y.astype(float), 0.3)
    with raises_exactly(ValueError, "label_propagation: sigma must be large enough for every point to have a "
                                    "neighbour, got 0.001"):
        label_propagation(X, y, 0.001)


# ---------------------------------------------------------------- bandit


def test_bandit_estimates_are_the_average_rewards():
    out = epsilon_greedy_bandit([0.2, 0.5, 0.8], 0.2, 300, rng=np.random.default_rng(0), runs=7)
    for run in range(7):
        for arm in range(3):
            pulled = out.actions[run] == arm
            expected = out.rewards[run, pulled].mean() if pulled.any() else 0.0
            assert out.estimates[run, arm] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_bandit_exploration_and_exploitation():
    rng = np.random.default_rng(0)
    uniform = epsilon_greedy_bandit([0.1, 0.9], 1.0, 200, rng=rng, runs=200)
    assert abs(uniform.actions.mean() - 0.5) < 0.01  # ε = 1: coin flips
    first = epsilon_greedy_bandit([0.1, 0.9], 0.0, 1, rng=rng, runs=2000)
    assert abs(first.actions.mean() - 0.5) < 0.04  # greedy with Q = 0 everywhere: ties broken at random
    # long run with correct estimates: (1 − ε)·μ* + ε·mean(μ) = 0.9·0.8 + 0.1·0.5 = 0.77
    late = epsilon_greedy_bandit([0.2, 0.8], 0.1, 400, rng=rng, runs=2000).rewards[:, 200:].mean()
    assert late == pytest.approx(0.77, abs=0.01)


def test_bandit_is_deterministic_under_a_seed():
    a = epsilon_greedy_bandit([0.3, 0.6], 0.1, 50, rng=np.random.default_rng(5), runs=3)
    b = epsilon_greedy_bandit([0.3, 0.6], 0.1, 50, rng=np.random.default_rng(5), runs=3)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)


def test_bandit_bad_arguments():
    rng = np.random.default_rng(0)
    with raises_exactly(ValueError, "epsilon_greedy_bandit: arm_means must be K >= 2 probabilities in [0, 1], "
                                    "got [0.5]"):
        epsilon_greedy_bandit([0.5], 0.1, 10, rng=rng)
    with raises_exactly(ValueError, "epsilon_greedy_bandit: arm_means must be K >= 2 probabilities in [0, 1], "
                                    "got [0.5, 1.5]"):
        epsilon_greedy_bandit([0.5, 1.5], 0.1, 10, rng=rng)
    with raises_exactly(ValueError, "epsilon_greedy_bandit: epsilon must be in [0.0, 1.0], got 1.5"):
        epsilon_greedy_bandit([0.5, 0.6], 1.5, 10, rng=rng)
    with raises_exactly(TypeError, "epsilon_greedy_bandit: steps must be an integer, got float"):
        epsilon_greedy_bandit([0.5, 0.6], 0.1, 10.0, rng=rng)
