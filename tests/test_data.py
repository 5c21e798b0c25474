"""dlnotes.data: determinism under a seed, shapes and dtypes, class balance, value ranges,
disjoint splits, batching, and the messages for bad arguments."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes import data
from testkit import raises_exactly

RNG_MESSAGE = "rng must be a numpy.random.Generator (np.random.default_rng(seed)), got int"


def generate(name, seed):
    rng = np.random.default_rng(seed)
    return {
        "spirals": lambda: data.spirals(50, 4, noise=0.1, rng=rng),
        "moons": lambda: data.moons(51, noise=0.2, rng=rng),
        "sine_sequences": lambda: data.sine_sequences(6, 30, horizon=3, noise=0.1, rng=rng),
        "adding_problem": lambda: data.adding_problem(7, 20, rng=rng),
    }[name]()


@pytest.mark.parametrize("name", ["spirals", "moons", "sine_sequences", "adding_problem"])
def test_generators_are_deterministic_under_a_seed(name):
    a, b, c = generate(name, 7), generate(name, 7), generate(name, 8)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])
    assert a[0].dtype == np.float64


def test_spirals_shapes_balance_and_geometry():
    X, y = data.spirals(40, 3, noise=0.0, rng=np.random.default_rng(0))
    assert X.shape == (120, 2) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [40, 40, 40])
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius, np.tile(np.linspace(0, 1, 40), 3), atol=1e-15)
    # without noise, arm k is arm 0 rotated by 2πk/3
    rot = np.array([[np.cos(2 * np.pi / 3), -np.sin(2 * np.pi / 3)], [np.sin(2 * np.pi / 3), np.cos(2 * np.pi / 3)]])
    np.testing.assert_allclose(X[y == 1], X[y == 0] @ rot.T, atol=1e-14)


def test_moons_shapes_balance_and_arcs():
    X, y = data.moons(11, noise=0.0, rng=np.random.default_rng(0))
    assert X.shape == (11, 2) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [6, 5])
    np.testing.assert_allclose(np.hypot(*X[y == 0].T), 1.0)                    # unit upper arc
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0)  # shifted lower arc
    assert np.all(X[y == 0, 1] >= 0) and np.all(X[y == 1, 1] <= 0.5 + 1e-15)


def test_sine_sequences_targets_are_the_future():
    X, Y = data.sine_sequences(5, 40, horizon=4, rng=np.random.default_rng(0))
    assert X.shape == Y.shape == (5, 40, 1)
    np.testing.assert_allclose(X[:, 4:], Y[:, :-4], atol=1e-12)  # noise-free: y_t = x_{t+4}
    assert np.abs(X).max() <= 1.0
    noisy, clean = data.sine_sequences(5, 40, noise=0.1, rng=np.random.default_rng(0))
    assert 0 < np.abs(noisy[:, 1:] - clean[:, :-1]).max() < 1.0


def test_adding_problem_marks_and_targets():
    X, y = data.adding_problem(200, 30, rng=np.random.default_rng(0))
    assert X.shape == (200, 30, 2) and y.shape == (200,)
    values, marks = X[..., 0], X[..., 1]
    assert np.all((values >= 0) & (values < 1))
    np.testing.assert_array_equal(marks[:, :15].sum(axis=1), 1)  # one mark in each half
    np.testing.assert_array_equal(marks[:, 15:].sum(axis=1), 1)
    np.testing.assert_allclose(y, (values * marks).sum(axis=1), rtol=1e-15)
    assert abs(np.mean((y - 1.0) ** 2) - 1 / 6) < 0.05  # the constant-1 baseline, Var(U+U) = 1/6


@settings(max_examples=25, deadline=None)
@given(n=st.integers(3, 60), classes=st.integers(1, 4), seed=st.integers(0, 1000), stratify=st.booleans(),
       fractions=st.sampled_from([(0.7, 0.15, 0.15), (0.5, 0.5, 0.0), (0.6, 0.2, 0.2), (1.0, 0.0, 0.0)]))
def test_split_is_a_disjoint_partition(n, classes, seed, stratify, fractions):
    X = np.arange(n, dtype=np.float64)[:, None] * np.ones((1, 3))
    y = np.arange(n) % classes
    parts = data.train_val_test_split(X, y, fractions, rng=np.random.default_rng(seed), stratify=stratify)
    rows = np.concatenate([Xp[:, 0] for Xp, _ in parts]).astype(int)
    np.testing.assert_array_equal(np.sort(rows), np.arange(n))  # every row once
    for Xp, yp in parts:
        np.testing.assert_array_equal(yp, Xp[:, 0].astype(int) % classes)  # rows keep their labels
    assert abs(len(parts.val[0]) - fractions[1] * n) <= (classes if stratify else 1)


def test_digits_split_is_stratified_scaled_and_seeded():
    d = data.digits(seed=0)
    sizes = [len(X) for X, _ in d]
    assert sum(sizes) == 1797 and sizes[1] == sizes[2] == 269
    for X, y in d:
        assert X.dtype == np.float64 and X.shape[1] == 64 and y.dtype == np.int64
        assert X.min() == 0.0 and X.max() == 1.0
        share = np.bincount(y, minlength=10) / len(y)
        assert np.abs(share - 0.1).max() < 0.012  # each class ~10% of every part
    images = data.digits(seed=0, flatten=False)
    assert images.train[0].shape == (sizes[0], 1, 8, 8)
    np.testing.assert_array_equal(images.train[0].reshape(sizes[0], 64), d.train[0])
    other = data.digits(seed=1)
    assert not np.array_equal(other.test[1], d.test[1])
    train_rows = {r.tobytes() for r in d.train[0]}
    # a handful of digits images are exact duplicates of one another; nearly all test rows are new
    assert sum(r.tobytes() in train_rows for r in d.test[0]) <= 3


def test_batches_cover_the_data_in_order_or_shuffled():
    X = np.arange(10.0)[:, None]
    y = np.arange(10)
    ordered = list(data.batches(X, y, 4))
    assert [len(b) for b, _ in ordered] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b for b, _ in ordered])[:, 0], np.arange(10))
    rng = np.random.default_rng(0)
    first = np.concatenate([b[:, 0] for b, _ in data.batches(X, y, 3, rng)])
    second = np.concatenate([yb for _, yb in data.batches(X, y, 3, rng)])
    assert sorted(first) == list(range(10)) and sorted(second) == list(range(10))
    assert not np.array_equal(first, np.arange(10)) and not np.array_equal(first, second)
    for Xb, yb in data.batches(X, y, 3, np.random.default_rng(1)):
        np.testing.assert_array_equal(Xb[:, 0], yb)  # pairs stay together


def test_bad_arguments():
    rng = np.random.default_rng(0)
    with raises_exactly(ValueError, "spirals: n_classes must be >= 2, got 1"):
        data.spirals(10, 1, rng=rng)
    with raises_exactly(ValueError, "moons: noise must be in [0.0, inf], got -0.1"):
        data.moons(10, noise=-0.1, rng=rng)
    with raises_exactly(TypeError, "moons: " + RNG_MESSAGE):
        data.moons(10, rng=0)
    with raises_exactly(ValueError, "sine_sequences: omega must be a range (low, high) with 0 < low <= high, "
                                    "got (0.3, 0.1)"):
        data.sine_sequences(2, 5, omega=(0.3, 0.1), rng=rng)
    with raises_exactly(ValueError, "adding_problem: seq_len must be >= 2, got 1"):
        data.adding_problem(4, 1, rng=rng)
    with raises_exactly(ValueError, "train_val_test_split: fractions must be three numbers (train, val, test) "
                                    "summing to 1, got (0.5, 0.2, 0.2)"):
        data.train_val_test_split(np.zeros((5, 2)), np.zeros(5), (0.5, 0.2, 0.2), rng=rng)
    with raises_exactly(ValueError, "train_val_test_split: y must have one entry per row of X (5), got shape (4,)"):
        data.train_val_test_split(np.zeros((5, 2)), np.zeros(4), rng=rng)
    with raises_exactly(ValueError, "digits: val_fraction + test_fraction must be < 1, got 1.0"):
        data.digits(val_fraction=0.5, test_fraction=0.5)
    with raises_exactly(ValueError, "batches: batch_size must be >= 1, got 0"):
        data.batches(np.zeros((3, 1)), np.zeros(3), 0)  # checked at the call, not at the first next()
    with raises_exactly(ValueError, "batches: X must have at least one row, got shape (0, 2)"):
        data.batches(np.zeros((0, 2)), np.zeros(0), 2)
