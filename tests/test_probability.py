import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes.probability import cross_entropy, entropy, gaussian_nll, kl_divergence

SETTINGS = settings(max_examples=30, deadline=None)


def random_distributions(seed, n, k, zeros=False):
    """n random distributions over k outcomes; with ``zeros`` about a third of entries are 0."""
    rng = np.random.default_rng(seed)
    p = rng.exponential(size=(n, k))
    if zeros:
        p[rng.random((n, k)) < 0.3] = 0.0
        p[:, 0] += 1.0  # keep every row non-empty
    return p / p.sum(axis=1, keepdims=True)


def distribution_pair(args):
    """(p, q) of one shape from hypothesis' (seed, n, k, zeros); only p gets exact zeros."""
    seed, n, k, zeros = args
    return random_distributions(seed, n, k, zeros), random_distributions(seed + 1, n, k)


shapes = st.tuples(st.integers(0, 10_000), st.integers(1, 6), st.integers(1, 8), st.booleans())


@SETTINGS
@given(shapes)
def test_entropy_matches_torch_categorical(args):
    seed, n, k, zeros = args
    p = random_distributions(seed, n, k, zeros)
    expected = torch.distributions.Categorical(probs=torch.from_numpy(p)).entropy().numpy()
    np.testing.assert_allclose(entropy(p), expected, rtol=1e-12, atol=1e-15)


@SETTINGS
@given(shapes)
def test_cross_entropy_matches_torch_soft_target_cross_entropy(args):
    p, q = distribution_pair(args)
    expected = F.cross_entropy(torch.from_numpy(q).log(), torch.from_numpy(p), reduction="none").numpy()
    np.testing.assert_allclose(cross_entropy(p, q), expected, rtol=1e-12, atol=1e-15)


@SETTINGS
@given(shapes)
def test_kl_matches_torch_kl_div_and_distributions(args):
    p, q = distribution_pair(args)
    tp, tq = torch.from_numpy(p), torch.from_numpy(q)
    via_kl_div = F.kl_div(tq.log(), tp, reduction="none").sum(-1).numpy()
    via_dists = torch.distributions.kl_divergence(
        torch.distributions.Categorical(probs=tp), torch.distributions.Categorical(probs=tq)
    ).numpy()
    np.testing.assert_allclose(kl_divergence(p, q), via_kl_div, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(kl_divergence(p, q), via_dists, rtol=1e-10, atol=1e-14)


@SETTINGS
@given(shapes)
def test_kl_is_non_negative_and_equals_cross_entropy_minus_entropy(args):
    p, q = distribution_pair(args)
    kl = kl_divergence(p, q)
    assert np.all(kl >= 0)
    np.testing.assert_allclose(kl, cross_entropy(p, q) - entropy(p), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(kl_divergence(p, p), 0.0, atol=1e-15)


def test_kl_is_not_symmetric():
    p, q = np.array([0.9, 0.1]), np.array([0.5, 0.5])
    # by hand: 0.9 ln 1.8 + 0.1 ln 0.2 = 0.3681 and 0.5 ln(5/9) + 0.5 ln 5 = 0.5108
    assert kl_divergence(p, q) == pytest.approx(0.9 * np.log(1.8) + 0.1 * np.log(0.2), rel=1e-14)
    assert kl_divergence(q, p) == pytest.approx(0.5 * np.log(5 / 9) + 0.5 * np.log(5), rel=1e-14)
    assert abs(kl_divergence(p, q) - kl_divergence(q, p)) > 0.1


def test_entropy_extremes_point_mass_and_uniform():
    assert entropy([0.0, 1.0, 0.0]) == 0.0
    assert entropy(np.full(7, 1 / 7)) == pytest.approx(np.log(7), rel=1e-14)


def test_one_hot_cross_entropy_is_negative_log_probability_of_the_label():
    q = random_distributions(3, 5, 4)
    labels = np.array([0, 3, 1, 1, 2])
    one_hot = np.eye(4)[labels]
    np.testing.assert_allclose(cross_entropy(one_hot, q), -np.log(q[np.arange(5), labels]), rtol=1e-15)


def test_cross_entropy_is_infinite_where_the_model_gives_zero_to_a_possible_outcome():
    assert cross_entropy([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert cross_entropy([1.0, 0.0], [1.0, 0.0]) == 0.0  # 0 · log 0 counts as 0


def test_gaussian_nll_matches_torch():
    rng = np.random.default_rng(0)
    x, mean = rng.normal(size=(2, 6, 3))
    var = rng.uniform(0.1, 3.0, size=(6, 3))
    tx, tm, tv = (torch.from_numpy(a) for a in (x, mean, var))
    via_loss = F.gaussian_nll_loss(tm, tx, tv, full=True, reduction="none").numpy()
    via_normal = -torch.distributions.Normal(tm, tv.sqrt()).log_prob(tx).numpy()
    np.testing.assert_allclose(gaussian_nll(x, mean, var), via_loss, rtol=1e-12)
    np.testing.assert_allclose(gaussian_nll(x, mean, var), via_normal, rtol=1e-12)


def test_gaussian_nll_with_fixed_variance_is_scaled_squared_error_plus_constant():
    rng = np.random.default_rng(1)
    x, mean = rng.normal(size=(2, 50))
    const = 0.5 * np.log(2 * np.pi * 4.0)
    np.testing.assert_allclose(gaussian_nll(x, mean, 4.0), (x - mean) ** 2 / 8.0 + const, rtol=1e-14)


@pytest.mark.parametrize(
    "fn, args, match",
    [
        (entropy, ([0.5, -0.1, 0.6],), "entropy: p must contain finite non-negative probabilities"),
        (entropy, ([0.5, 0.6],), "entropy: p must sum to 1 along the last axis"),
        (entropy, (1.0,), "entropy: p must have at least one axis"),
        (entropy, (np.zeros((2, 0)),), "entropy: p must not be empty"),
        (cross_entropy, ([0.5, 0.5], [0.2, 0.3, 0.5]), r"cross_entropy: q must have the shape of p \(2,\)"),
        (cross_entropy, ([0.5, 0.5], [np.nan, 1.0]), "cross_entropy: q must contain finite"),
        (kl_divergence, ([0.5, 0.5], [0.7, 0.7]), "kl_divergence: q must sum to 1"),
        (gaussian_nll, (0.0, 0.0, 0.0), r"gaussian_nll: var must be > 0"),
        (gaussian_nll, (np.zeros(3), np.zeros(2), 1.0), "gaussian_nll: mean and var must broadcast with x"),
    ],
)
def test_bad_input_raises_value_error_naming_the_argument(fn, args, match):
    with pytest.raises(ValueError, match=match):
        fn(*args)


def test_non_numeric_input_raises_type_error():
    with pytest.raises(TypeError, match="entropy: p must be a real numeric array"):
        entropy(["a", "b"])
    with pytest.raises(TypeError, match="gaussian_nll: var must be a real numeric array"):
        gaussian_nll(0.0, 0.0, "1")
