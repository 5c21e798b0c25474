"""dlnotes.losses against torch.nn.functional (float64): values, autograd gradients, central differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from dlnotes import losses as L
from dlnotes.gradcheck import numerical_gradient, relative_error
from testkit import raises_exactly

RTOL, ATOL = 1e-10, 1e-12
FAST = settings(max_examples=30, deadline=None)


def floats(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def torch_loss_and_grad(torch_loss, first, *rest):
    """torch loss value and its gradient w.r.t. the first argument, via autograd."""
    t = torch.from_numpy(first.copy()).requires_grad_(True)
    loss = torch_loss(t, *rest)
    loss.backward()
    return loss.item(), t.grad.numpy()


def assert_matches(ours_loss, ours_grad, torch_loss, torch_grad):
    assert ours_loss == pytest.approx(torch_loss, rel=RTOL, abs=ATOL)
    np.testing.assert_allclose(ours_grad, torch_grad, rtol=RTOL, atol=ATOL)


# ---------------------------------------------------------------- cross-entropy

@st.composite
def ce_cases(draw, low=-50.0, high=50.0):
    n, k = draw(st.integers(1, 6), label="N"), draw(st.integers(1, 6), label="K")
    logits = draw(arrays(np.float64, (n, k), elements=floats(low, high)), label="logits")
    labels = draw(arrays(np.int64, (n,), elements=st.integers(0, k - 1)), label="labels")
    smoothing = draw(st.sampled_from([0.0, 1.0]) | floats(0.0, 1.0), label="label_smoothing")
    weight = draw(st.none() | arrays(np.float64, (k,), elements=floats(0.1, 5.0)), label="weight")
    return logits, labels, smoothing, weight


def torch_cross_entropy(logits, labels, smoothing, weight):
    w = None if weight is None else torch.from_numpy(weight)
    return torch_loss_and_grad(
        lambda t: F.cross_entropy(t, torch.from_numpy(labels), weight=w, label_smoothing=smoothing), logits
    )


@settings(max_examples=60, deadline=None)
@given(case=ce_cases())
def test_cross_entropy_matches_torch(case):
    logits, labels, smoothing, weight = case
    assert_matches(
        L.cross_entropy(logits, labels, label_smoothing=smoothing, weight=weight),
        L.cross_entropy_grad(logits, labels, label_smoothing=smoothing, weight=weight),
        *torch_cross_entropy(logits, labels, smoothing, weight),
    )


@FAST
@given(case=ce_cases(low=-5.0, high=5.0))
def test_cross_entropy_grad_matches_central_differences(case):
    logits, labels, smoothing, weight = case
    numeric = numerical_gradient(lambda z: L.cross_entropy(z, labels, smoothing, weight), logits)
    assert relative_error(L.cross_entropy_grad(logits, labels, smoothing, weight), numeric) < 1e-7


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_huge_logits_finite_and_equal_torch(smoothing):
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0], [0.0, 0.0, -1000.0]])
    labels = np.array([1, 0, 2])
    weight = np.array([1.0, 2.0, 0.5])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = L.cross_entropy(logits, labels, smoothing, weight)
        grad = L.cross_entropy_grad(logits, labels, smoothing, weight)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert_matches(loss, grad, *torch_cross_entropy(logits, labels, smoothing, weight))


def test_cross_entropy_with_label_smoothing_matches_the_module():
    """Errata #31: target (1 − ε)·one-hot + ε/K, as nn.CrossEntropyLoss(label_smoothing=0.1)."""
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(size=(8, 5)), rng.integers(0, 5, size=8)
    module = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    expected = module(torch.from_numpy(logits), torch.from_numpy(labels)).item()
    assert L.cross_entropy(logits, labels, label_smoothing=0.1) == pytest.approx(expected, rel=1e-14)
    # the same number from the smoothed target written out by hand
    target = 0.9 * np.eye(5)[labels] + 0.1 / 5
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    assert L.cross_entropy(logits, labels, label_smoothing=0.1) == pytest.approx(
        -(target * log_p).sum(axis=1).mean(), rel=1e-14
    )


def test_cross_entropy_uniform_weights_change_nothing():
    """A weighted mean with equal weights is the plain mean."""
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)
    weight = np.full(4, 3.7)
    assert L.cross_entropy(logits, labels, 0.2, weight) == pytest.approx(L.cross_entropy(logits, labels, 0.2))
    np.testing.assert_allclose(
        L.cross_entropy_grad(logits, labels, 0.2, weight), L.cross_entropy_grad(logits, labels, 0.2),
        rtol=1e-12, atol=1e-16,
    )


def test_cross_entropy_float32():
    rng = np.random.default_rng(2)
    logits, labels = rng.normal(size=(5, 3)).astype(np.float32), rng.integers(0, 3, size=5)
    grad = L.cross_entropy_grad(logits, labels, 0.1, np.array([1.0, 2.0, 3.0]))
    assert grad.dtype == np.float32
    loss, torch_grad = torch_cross_entropy(logits, labels, 0.1, np.array([1.0, 2.0, 3.0], dtype=np.float32))
    assert L.cross_entropy(logits, labels, 0.1, np.array([1.0, 2.0, 3.0])) == pytest.approx(loss, rel=1e-6)
    np.testing.assert_allclose(grad, torch_grad, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("fn", [L.cross_entropy, L.cross_entropy_grad], ids=lambda fn: fn.__name__)
def test_cross_entropy_bad_input(fn):
    name, z = fn.__name__, np.zeros((2, 3))
    with raises_exactly(ValueError, f"{name}: logits must not be empty, got shape (0, 3)"):
        fn(np.zeros((0, 3)), np.zeros(0, dtype=int))
    with raises_exactly(ValueError, f"{name}: logits must be (N, K), got shape (3,)"):
        fn(np.zeros(3), np.zeros(3, dtype=int))
    with raises_exactly(ValueError, f"{name}: labels must have shape (N,) = (2,) to match logits (2, 3), got (3,)"):
        fn(z, np.zeros(3, dtype=int))
    with raises_exactly(ValueError, f"{name}: labels must be in [0, 3) for logits (2, 3), got values from 0 to 3"):
        fn(z, np.array([0, 3]))
    with raises_exactly(ValueError, f"{name}: labels must be in [0, 3) for logits (2, 3), got values from -1 to 1"):
        fn(z, np.array([-1, 1]))
    with raises_exactly(TypeError, f"{name}: labels must be an integer array of class indices, got dtype float64"):
        fn(z, np.array([0.0, 1.0]))
    with raises_exactly(ValueError, f"{name}: label_smoothing must be in [0.0, 1.0], got 1.5"):
        fn(z, np.array([0, 1]), label_smoothing=1.5)
    with raises_exactly(ValueError, f"{name}: weight must have shape (K,) = (3,), got (2,)"):
        fn(z, np.array([0, 1]), weight=np.ones(2))
    with pytest.raises(ValueError, match=rf"^{name}: weight must be finite and >= 0"):
        fn(z, np.array([0, 1]), weight=np.array([1.0, -1.0, 1.0]))
    with pytest.raises(ValueError, match=rf"^{name}: weight of the labelled classes must not sum to 0"):
        fn(z, np.array([0, 1]), weight=np.array([0.0, 0.0, 1.0]))
    with raises_exactly(TypeError, f"{name}: logits must be a real numeric array, got dtype <U1"):
        fn(np.array([["a"]]), np.array([0]))


# ---------------------------------------------------------------- binary cross-entropy

@st.composite
def bce_cases(draw, low=-50.0, high=50.0):
    shape = draw(array_shapes(min_dims=1, max_dims=3, max_side=5), label="shape")
    logits = draw(arrays(np.float64, shape, elements=floats(low, high)), label="logits")
    target = draw(arrays(np.float64, shape, elements=floats(0.0, 1.0)), label="target")
    pos_weight = draw(st.none() | arrays(np.float64, shape[-1:], elements=floats(0.1, 5.0)), label="pos_weight")
    return logits, target, pos_weight


def torch_bce(logits, target, pos_weight):
    pw = None if pos_weight is None else torch.from_numpy(pos_weight)
    return torch_loss_and_grad(
        lambda t: F.binary_cross_entropy_with_logits(t, torch.from_numpy(target), pos_weight=pw), logits
    )


@settings(max_examples=60, deadline=None)
@given(case=bce_cases())
def test_bce_with_logits_matches_torch(case):
    logits, target, pos_weight = case
    assert_matches(
        L.binary_cross_entropy_with_logits(logits, target, pos_weight),
        L.binary_cross_entropy_with_logits_grad(logits, target, pos_weight),
        *torch_bce(logits, target, pos_weight),
    )


@FAST
@given(case=bce_cases(low=-8.0, high=8.0))
def test_bce_grad_matches_central_differences(case):
    logits, target, pos_weight = case
    numeric = numerical_gradient(lambda x: L.binary_cross_entropy_with_logits(x, target, pos_weight), logits)
    analytic = L.binary_cross_entropy_with_logits_grad(logits, target, pos_weight)
    assert relative_error(analytic, numeric) < 1e-7


@pytest.mark.parametrize("pos_weight", [None, np.array([0.5, 3.0])])
def test_bce_huge_logits_finite_and_equal_torch(pos_weight):
    logits = np.array([[1000.0, -1000.0], [-1000.0, 1000.0], [0.0, -745.0]])
    target = np.array([[1.0, 0.0], [1.0, 0.0], [0.5, 1.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss = L.binary_cross_entropy_with_logits(logits, target, pos_weight)
        grad = L.binary_cross_entropy_with_logits_grad(logits, target, pos_weight)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    assert_matches(loss, grad, *torch_bce(logits, target, pos_weight))


def test_bce_lower_for_better_predictions():
    """Errata #11: the loss grows with the mismatch between σ(x) and y; lower is better."""
    target = np.array([1.0, 0.0])
    good, bad = np.array([4.0, -4.0]), np.array([-4.0, 4.0])
    assert L.binary_cross_entropy_with_logits(good, target) < L.binary_cross_entropy_with_logits(bad, target)


@pytest.mark.parametrize(
    "fn", [L.binary_cross_entropy_with_logits, L.binary_cross_entropy_with_logits_grad], ids=lambda fn: fn.__name__
)
def test_bce_bad_input(fn):
    name = fn.__name__
    with raises_exactly(ValueError, f"{name}: target must have the shape of logits (2, 3), got (3,)"):
        fn(np.zeros((2, 3)), np.zeros(3))
    with raises_exactly(ValueError, f"{name}: logits must not be empty, got shape (0,)"):
        fn(np.zeros(0), np.zeros(0))
    with raises_exactly(ValueError, f"{name}: pos_weight must broadcast to the shape of logits (2, 3), got (2,)"):
        fn(np.zeros((2, 3)), np.zeros((2, 3)), pos_weight=np.ones(2))
    with raises_exactly(TypeError, f"{name}: target must be a real numeric array, got dtype object"):
        fn(np.zeros(2), np.array([None, None]))


# ---------------------------------------------------------------- MSE

@FAST
@given(data=st.data(), shape=array_shapes(min_dims=1, max_dims=3, max_side=5))
def test_mse_matches_torch_and_central_differences(data, shape):
    pred = data.draw(arrays(np.float64, shape, elements=floats(-10.0, 10.0)), label="pred")
    target = data.draw(arrays(np.float64, shape, elements=floats(-10.0, 10.0)), label="target")
    assert_matches(
        L.mse(pred, target), L.mse_grad(pred, target),
        *torch_loss_and_grad(lambda t: F.mse_loss(t, torch.from_numpy(target)), pred),
    )
    numeric = numerical_gradient(lambda p: L.mse(p, target), pred)
    assert relative_error(L.mse_grad(pred, target), numeric) < 1e-7


def test_mse_is_never_negative():
    """Errata #2: a prediction below the target gives a positive loss, like one above it."""
    target = np.array([2.0])
    assert L.mse(np.array([1.0]), target) == L.mse(np.array([3.0]), target) > 0
    assert L.mse(target, target) == 0.0


@pytest.mark.parametrize("fn", [L.mse, L.mse_grad], ids=lambda fn: fn.__name__)
def test_mse_bad_input(fn):
    name = fn.__name__
    with raises_exactly(ValueError, f"{name}: target must have the shape of pred (3,), got (3, 1)"):
        fn(np.zeros(3), np.zeros((3, 1)))
    with raises_exactly(ValueError, f"{name}: pred must not be empty, got shape (0, 2)"):
        fn(np.zeros((0, 2)), np.zeros((0, 2)))
    with raises_exactly(TypeError, f"{name}: pred must be a real numeric array, got dtype complex128"):
        fn(np.zeros(2, dtype=complex), np.zeros(2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.1}, {"weight": np.array([0.5, 2.0, 1.0, 0.0])}])
def test_cross_entropy_with_grad_is_the_pair_in_one_pass(dtype, kwargs):
    rng = np.random.default_rng(11)
    z = rng.normal(0.0, 3.0, size=(6, 4)).astype(dtype)
    y = rng.integers(0, 3, size=6)
    loss, grad = L.cross_entropy_with_grad(z, y, **kwargs)
    assert loss == L.cross_entropy(z, y, **kwargs)
    np.testing.assert_array_equal(grad, L.cross_entropy_grad(z, y, **kwargs))
    assert grad.dtype == dtype
