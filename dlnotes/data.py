"""Small, deterministic datasets and the plumbing to split and batch them.

Every generator draws only from the ``rng`` (a numpy.random.Generator) the caller passes, so a
seed fixes the data exactly. Features come back as float64 arrays, class labels as int64.

    spirals          K interleaved spiral arms in 2-D (classification, not linearly separable)
    moons            two interleaved half circles in 2-D (binary classification)
    sine_sequences   sines with random frequency and phase; predict the value ``horizon`` steps ahead
    adding_problem   sum the two marked numbers of a long sequence (Hochreiter & Schmidhuber 1997)
    digits           scikit-learn's 8×8 handwritten digits (1,797 images, shipped with the package)

``train_val_test_split`` cuts any (X, y) into three disjoint parts; ``batches`` iterates over
mini-batches, shuffled when given an ``rng``.
"""

import numbers
from typing import NamedTuple

import numpy as np

from dlnotes._checks import check_bool, check_generator, check_int, check_real, check_rows


class Split(NamedTuple):
    """Three disjoint parts of a dataset, each an (X, y) pair ready for ``dlnotes.train.fit``."""

    train: tuple
    val: tuple
    test: tuple


def spirals(n_per_class, n_classes=3, noise=0.2, *, rng):
    """K spiral arms, one class each, winding out from the origin.

    Point j of arm k (j = 0 … n−1, s = j/(n−1)) sits at radius s and angle
    θ = 4s + 2πk/K + noise·ε, ε ~ N(0, 1): every arm turns through 4 radians, the arms are
    rotated copies of one another. Returns X (K·n, 2) float64 and y (K·n,) int64, class k
    in rows k·n … (k+1)·n − 1.
    """
    n = check_int(n_per_class, "n_per_class", "spirals", low=2)
    k = check_int(n_classes, "n_classes", "spirals", low=2)
    noise = check_real(noise, "noise", "spirals", low=0.0)
    check_generator(rng, "spirals")
    s = np.tile(np.linspace(0.0, 1.0, n), k)
    y = np.repeat(np.arange(k), n)
    theta = 4.0 * s + 2.0 * np.pi * y / k + noise * rng.standard_normal(k * n)
    return np.stack([s * np.cos(theta), s * np.sin(theta)], axis=1), y


def moons(n, noise=0.1, *, rng):
    """Two interleaved half circles: class 0 the upper arc (cos t, sin t), class 1 the lower
    arc (1 − cos t, 1/2 − sin t), t evenly spaced in [0, π], plus N(0, noise²) on both
    coordinates. n points in all (⌈n/2⌉ of class 0). Returns X (n, 2) float64, y (n,) int64.
    """
    n = check_int(n, "n", "moons", low=2)
    noise = check_real(noise, "noise", "moons", low=0.0)
    check_generator(rng, "moons")
    n0 = n - n // 2
    t0, t1 = np.linspace(0.0, np.pi, n0), np.linspace(0.0, np.pi, n // 2)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1.0 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    return X, np.repeat([0, 1], [n0, n // 2])


def sine_sequences(n, seq_len, horizon=1, noise=0.0, omega=(0.1, 0.3), *, rng):
    """Sine waves to forecast: x_t = sin(ω t + φ) + noise·ε_t and target y_t = sin(ω (t + horizon) + φ).

    Each sequence draws its angular frequency ω ~ U(omega) (radians per step) and its phase
    φ ~ U(0, 2π). ``horizon=1`` is next-step prediction; a larger horizon asks the network to
    carry the phase further into the future. Returns X and Y, both (n, seq_len, 1) float64
    (batch first: use ``batch_first=True`` recurrent layers). Targets are noise-free.
    """
    where = "sine_sequences"
    n = check_int(n, "n", where, low=1)
    seq_len = check_int(seq_len, "seq_len", where, low=1)
    horizon = check_int(horizon, "horizon", where, low=1)
    noise = check_real(noise, "noise", where, low=0.0, high=1e150)  # noise·ε must stay finite
    if (
        not isinstance(omega, (tuple, list))
        or len(omega) != 2
        or any(isinstance(w, bool) or not isinstance(w, numbers.Real) or not np.isfinite(w) for w in omega)
        or not 0 < omega[0] <= omega[1]
    ):
        raise ValueError(f"{where}: omega must be a range (low, high) with 0 < low <= high, got {omega!r}")
    check_generator(rng, where)
    w = rng.uniform(omega[0], omega[1], size=(n, 1))
    phase = rng.uniform(0.0, 2.0 * np.pi, size=(n, 1))
    t = np.arange(seq_len)
    X = np.sin(w * t + phase) + noise * rng.standard_normal((n, seq_len))
    Y = np.sin(w * (t + horizon) + phase)
    return X[..., None], Y[..., None]


def adding_problem(n, seq_len, *, rng):
    """The adding problem (Hochreiter & Schmidhuber 1997), in the form of Le et al. (2015).

    Each input sequence has two channels: values v_t ~ U(0, 1) and a marker m_t that is 1 at
    exactly two steps — one in the first half, one in the second — and 0 elsewhere. The target
    is Σ_t m_t·v_t, the sum of the two marked values. A model that predicts the constant 1
    scores MSE ≈ 1/6; beating it needs memory across about seq_len/2 steps.
    Returns X (n, seq_len, 2) float64 and y (n,) float64.
    """
    n = check_int(n, "n", "adding_problem", low=1)
    seq_len = check_int(seq_len, "seq_len", "adding_problem", low=2)
    check_generator(rng, "adding_problem")
    half = seq_len // 2
    values = rng.uniform(0.0, 1.0, size=(n, seq_len))
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, seq_len, size=n)
    marks = np.zeros((n, seq_len))
    rows = np.arange(n)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    return np.stack([values, marks], axis=2), values[rows, first] + values[rows, second]


def train_val_test_split(X, y, fractions=(0.7, 0.15, 0.15), *, rng, stratify=False):
    """Split (X, y) row-wise into three disjoint parts of sizes ≈ fractions × len(X).

    fractions: (train, val, test), each ≥ 0, summing to 1. With ``stratify=True`` (y integer
    class labels) every class is split in the same proportions, so all parts keep the class
    balance. Rows are drawn at random from ``rng``; within each part they keep a random order.
    Returns a ``Split`` of (X, y) pairs. The three parts are disjoint and cover every row; a part
    whose fraction is 0 is empty. Labels that cannot define classes (NaN, not 1-D) are refused
    when stratifying.
    """
    where = "train_val_test_split"
    X, y = check_rows(X, y, where, min_rows=1)
    if not isinstance(fractions, (tuple, list)):
        raise TypeError(f"{where}: fractions must be three numbers (train, val, test), got {type(fractions).__name__}")
    fractions = tuple(check_real(f, "fractions", where, low=0.0, high=1.0) for f in fractions)
    if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"{where}: fractions must be three numbers (train, val, test) summing to 1, "
                         f"got {fractions}")
    check_generator(rng, where)
    if check_bool(stratify, "stratify", where):
        if y.ndim != 1 or y.dtype.kind not in "biuUf" or (y.dtype.kind == "f" and not np.isfinite(y).all()):
            raise ValueError(f"{where}: y must be 1-D finite class labels to stratify, got dtype {y.dtype} "
                             f"of shape {y.shape}" + (" with NaN or inf" if y.dtype.kind == "f" else ""))
    order = rng.permutation(len(X))
    groups = [order[y[order] == c] for c in np.unique(y)] if stratify else [order]
    parts = ([], [], [])
    for idx in groups:  # a loop over classes, not over rows
        n_val = min(round(fractions[1] * len(idx)), len(idx))
        n_test = len(idx) - n_val if fractions[0] == 0 else min(round(fractions[2] * len(idx)), len(idx) - n_val)
        cuts = np.split(idx, [len(idx) - n_val - n_test, len(idx) - n_test])
        for part, cut in zip(parts, cuts):
            part.append(cut)
    parts = [rng.permutation(np.concatenate(p)) for p in parts]
    return Split(*((X[p], y[p]) for p in parts))


def digits(seed=0, val_fraction=0.15, test_fraction=0.15, flatten=True):
    """scikit-learn's 8×8 handwritten digits (UCI; 1,797 images, 10 classes), scaled to [0, 1].

    Pixel counts 0 … 16 are divided by 16. X rows are (64,) with ``flatten=True``, else
    (1, 8, 8) images for a CNN. The split is stratified by class and fixed by ``seed``.
    Returns a ``Split`` whose train/val/test are (X float64, y int64) pairs.
    """
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    where = "digits"
    seed = check_int(seed, "seed", where, low=0)
    val_fraction = check_real(val_fraction, "val_fraction", where, low=0.0, high=1.0)
    test_fraction = check_real(test_fraction, "test_fraction", where, low=0.0, high=1.0)
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"{where}: val_fraction + test_fraction must be < 1, got {val_fraction + test_fraction}")
    bunch = load_digits()
    X = bunch.data.astype(np.float64) / 16.0
    X = X if flatten else X.reshape(-1, 1, 8, 8)
    fractions = (1.0 - val_fraction - test_fraction, val_fraction, test_fraction)
    return train_val_test_split(X, bunch.target.astype(np.int64), fractions,
                                rng=np.random.default_rng(seed), stratify=True)


def batches(X, y, batch_size, rng=None):
    """An iterator over (X_batch, y_batch) of ``batch_size`` rows (the last one may be smaller).

    In order when ``rng`` is None; in a fresh random order each call when an ``rng`` is given,
    which is what one epoch of mini-batch SGD wants. Arguments are checked at the call.
    """
    X, y = check_rows(X, y, "batches", min_rows=1)
    size = check_int(batch_size, "batch_size", "batches", low=1)
    order = np.arange(len(X)) if rng is None else check_generator(rng, "batches").permutation(len(X))
    return ((X[order[i:i + size]], y[order[i:i + size]]) for i in range(0, len(X), size))
