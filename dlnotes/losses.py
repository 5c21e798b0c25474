"""Loss functions (mean reduction) and their gradients with respect to the first argument.

Each ``loss(a, b)`` returns a Python float and ``loss_grad(a, b)`` returns d loss / d a, an
array of the shape of ``a``: the gradient that starts a network's backward pass.

    mse                                 mean((ŷ − y)²)
    binary_cross_entropy_with_logits    mean(−[p·y·log σ(x) + (1 − y)·log(1 − σ(x))]),  p = pos_weight
    cross_entropy                       −Σ_i Σ_k q_ik·log softmax(z_i)_k / Σ_i w_{y_i}

The cross-entropies take raw scores (logits), never probabilities: working from logits lets
them use log-sum-exp forms that stay finite for scores of ±1000. They are the negative
log-likelihood of a Bernoulli and a categorical model; they neither detect wrong labels nor fix
class imbalance by themselves (class weights do the latter).

Matches F.mse_loss, F.binary_cross_entropy_with_logits and F.cross_entropy (mean reduction) in
float64 to ~1e-15 (see ``tests/test_losses.py``).
"""

import numpy as np

from dlnotes._checks import (
    as_float_array,
    check_ndim,
    check_nonempty,
    check_real,
    check_same_shape,
)
from dlnotes.activations import sigmoid


def _pair(a, b, name_a, name_b, where):
    """Two non-empty float arrays of one shape (b cast to a's dtype)."""
    a = as_float_array(a, name_a, where)
    b = as_float_array(b, name_b, where)
    check_nonempty(a, name_a, where)
    check_same_shape(a, b, name_a, name_b, where)
    return a, b.astype(a.dtype, copy=False)


def mse(pred, target):
    """Mean squared error: L = (1/n)·Σ (ŷ − y)², n = pred.size. Always ≥ 0, zero only at ŷ = y.

    pred, target: arrays of one shape (no broadcasting).
    """
    pred, target = _pair(pred, target, "pred", "target", "mse")
    return float(np.mean((pred - target) ** 2))


def mse_grad(pred, target):
    """dL/dŷ = 2(ŷ − y)/n, shape of pred."""
    pred, target = _pair(pred, target, "pred", "target", "mse_grad")
    return 2.0 * (pred - target) / pred.size


def _bce_args(logits, target, pos_weight, where):
    """Validated (x, y, p); p is 1 when pos_weight is None, else broadcast to the shape of x."""
    x, y = _pair(logits, target, "logits", "target", where)
    outside = ~((y >= 0) & (y <= 1)) & ~np.isnan(y)  # NaN targets propagate, as in torch
    if outside.any():
        raise ValueError(f"{where}: target must have values in [0, 1], got range [{np.nanmin(y)}, {np.nanmax(y)}]")
    if pos_weight is None:
        return x, y, 1.0
    p = as_float_array(pos_weight, "pos_weight", where).astype(x.dtype, copy=False)
    if np.any(p < 0):
        raise ValueError(f"{where}: pos_weight must be >= 0, got minimum {np.nanmin(p)}")
    try:
        return x, y, np.broadcast_to(p, x.shape)
    except ValueError:
        raise ValueError(
            f"{where}: pos_weight must broadcast to the shape of logits {tuple(x.shape)}, "
            f"got {tuple(p.shape)}"
        ) from None


def binary_cross_entropy_with_logits(logits, target, pos_weight=None):
    """Binary cross-entropy on logits x with targets y ∈ [0, 1], mean over all elements.

        ℓ = −[p·y·log σ(x) + (1 − y)·log(1 − σ(x))] = (1 − y)·x + (1 + (p − 1)·y)·softplus(−x)

    using log σ(x) = −softplus(−x) and log(1 − σ(x)) = −x − softplus(−x), with the stable
    softplus(−x) = max(−x, 0) + log(1 + e^(−|x|)). ``pos_weight`` p (None means 1) weights the
    positive term, broadcast against the last axis as in PyTorch (shape (C,) for logits (N, C)).
    Lower is better: the loss grows as σ(x) moves away from y.
    logits, target: arrays of one shape.
    """
    x, y, p = _bce_args(logits, target, pos_weight, "binary_cross_entropy_with_logits")
    softplus_neg = np.maximum(-x, 0.0) + np.log1p(np.exp(-np.abs(x)))
    with np.errstate(over="ignore"):  # a huge pos_weight makes the loss inf, as in torch
        return float(np.mean((1.0 - y) * x + (1.0 + (p - 1.0) * y) * softplus_neg))


def binary_cross_entropy_with_logits_grad(logits, target, pos_weight=None):
    """dℓ/dx = [(1 − y) + (1 + (p − 1)·y)·(σ(x) − 1)] / n, which is (σ(x) − y)/n when p = 1."""
    x, y, p = _bce_args(logits, target, pos_weight, "binary_cross_entropy_with_logits_grad")
    return ((1.0 - y) + (1.0 + (p - 1.0) * y) * (sigmoid(x) - 1.0)) / x.size


def _ce_args(logits, labels, label_smoothing, weight, where):
    """Validated (z, y, ε, w, w_y): logits (N, K), int labels (N,), class weights w (K,), w_y = w[y]."""
    z = as_float_array(logits, "logits", where)
    check_ndim(z, 2, "logits", where, "(N, K)")
    check_nonempty(z, "logits", where)
    n, k = z.shape
    y = np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{where}: labels must be an integer array of class indices, got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(
            f"{where}: labels must have shape (N,) = ({n},) to match logits {tuple(z.shape)}, "
            f"got {tuple(y.shape)}"
        )
    if y.min() < 0 or y.max() >= k:
        raise ValueError(
            f"{where}: labels must be in [0, {k}) for logits {tuple(z.shape)}, "
            f"got values from {y.min()} to {y.max()}"
        )
    eps = check_real(label_smoothing, "label_smoothing", where, low=0.0, high=1.0)
    if weight is None:
        w = np.ones(k, dtype=z.dtype)
    else:
        w = as_float_array(weight, "weight", where).astype(z.dtype, copy=False)
        if w.shape != (k,):
            raise ValueError(f"{where}: weight must have shape (K,) = ({k},), got {tuple(w.shape)}")
        if not np.all(np.isfinite(w) & (w >= 0)):
            raise ValueError(f"{where}: weight must be finite and >= 0, got {w}")
    w_y = w[y]
    if w_y.sum() == 0:
        raise ValueError(f"{where}: weight of the labelled classes must not sum to 0, got weight {w}")
    return z, y, eps, w, w_y


def _row_exp(z):
    """Row maxima m, e = exp(z − m) and row sums Σ_k e_ik of z (N, K).

    e has entries in (0, 1] (no overflow) and each row sum lies in [1, K], so
    log softmax(z)_ik = (z_ik − m_i) − log Σ_k e_ik and softmax(z)_ik = e_ik / Σ_k e_ik.
    """
    m = np.max(z, axis=1, keepdims=True)
    e = z - m
    np.exp(e, out=e)  # in place: one (N, K) temporary, not two
    return m[:, 0], e, e.sum(axis=1)


def cross_entropy(logits, labels, label_smoothing=0.0, weight=None):
    """Softmax cross-entropy with integer labels, mean reduction, as F.cross_entropy.

    With log-probabilities ℓ = log_softmax(z) (row-wise), class weights w (all 1 if None) and
    label smoothing ε, each row's target is the weighted, smoothed distribution

        q_ik = (1 − ε)·w_{y_i}·[k = y_i] + (ε/K)·w_k,

    and the loss is normalised by the weight of the labelled classes:

        L = −Σ_i Σ_k q_ik·ℓ_ik / Σ_i w_{y_i}.

    Without weights this is the mean over rows of −Σ_k q_ik·ℓ_ik with q = (1 − ε)·one-hot + ε/K.
    ℓ is never stored: with m_i = max_k z_ik and λ_i = log Σ_k e^(z_ik − m_i) ∈ [0, log K],
    −ℓ_ik = λ_i − (z_ik − m_i), so only the labelled entries and Σ_k w_k·ℓ_ik are formed.
    logits: (N, K); labels: (N,) integers in [0, K); weight: (K,) non-negative, or None.
    """
    args = _ce_args(logits, labels, label_smoothing, weight, "cross_entropy")
    m, _, row_sums = _row_exp(args[0])
    return _ce_value(*args, m, row_sums)


def cross_entropy_grad(logits, labels, label_smoothing=0.0, weight=None):
    """dL/dz_i = (s_i·softmax(z_i) − q_i) / Σ_j w_{y_j}, with s_i = Σ_k q_ik.

    Without weights or smoothing s_i = 1 and this is (softmax(z) − one-hot)/N. Shape (N, K).
    """
    args = _ce_args(logits, labels, label_smoothing, weight, "cross_entropy_grad")
    _, e, row_sums = _row_exp(args[0])
    return _ce_grad(*args[1:], e, row_sums)


def cross_entropy_with_grad(logits, labels, label_smoothing=0.0, weight=None):
    """(``cross_entropy(...)``, ``cross_entropy_grad(...)``) from one pass over the logits.

    The loss and its gradient share the row maxima and e^(z − m), the expensive part, so a
    training step that needs both computes them once, as torch's forward saves softmax for its
    backward.
    """
    args = _ce_args(logits, labels, label_smoothing, weight, "cross_entropy_with_grad")
    m, e, row_sums = _row_exp(args[0])
    loss = _ce_value(*args, m, row_sums)  # before _ce_grad overwrites e
    return loss, _ce_grad(*args[1:], e, row_sums)


def _ce_value(z, y, eps, w, w_y, m, row_sums):
    """L from the row maxima m and row sums of e^(z − m) (see ``cross_entropy``)."""
    lam = np.log(row_sums)
    nll = lam - (z[np.arange(len(y)), y] - m)  # −ℓ_{i, y_i}
    total = (1.0 - eps) * np.dot(w_y, nll)
    if eps > 0:  # −Σ_k w_k·ℓ_ik = Σw·(λ_i + m_i) − Σ_k w_k·z_ik
        total += (eps / w.size) * np.sum(w.sum() * (lam + m) - z @ w)
    return float(total / w_y.sum())


def _ce_grad(y, eps, w, w_y, e, row_sums):
    """dL/dz from e = e^(z − m) (overwritten: it becomes the gradient) and its row sums."""
    total_weight = w_y.sum()
    row_mass = (1.0 - eps) * w_y + (eps / w.size) * w.sum()  # s_i = Σ_k q_ik
    e *= (row_mass / (row_sums * total_weight))[:, None]  # s_i·softmax(z_i) / Σ w_y
    if eps > 0:
        e -= (eps / w.size / total_weight) * w
    e[np.arange(len(y)), y] -= (1.0 - eps) * w_y / total_weight
    return e
