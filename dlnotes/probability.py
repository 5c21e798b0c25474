"""Entropy, cross-entropy and KL divergence of discrete distributions; the Gaussian NLL.

Everything is in nats (natural logarithm). A discrete distribution is an array of
non-negative numbers summing to 1 along its last axis, so ``p`` of shape ``(N, K)`` is N
distributions over K outcomes and the functions return shape ``(N,)``. The convention
0·log 0 = 0 is used throughout, so outcomes with p = 0 contribute nothing.

    H(p)        = −Σ_k p_k log p_k
    H(p, q)     = −Σ_k p_k log q_k
    KL(p ‖ q)   =  Σ_k p_k log(p_k / q_k) = H(p, q) − H(p) ≥ 0
"""

import numpy as np

from dlnotes._checks import as_float_array, check_nonempty, check_same_shape

_SUM_TOL = 1e-8  # how far Σ p may stray from 1 (float rounding), per distribution


def _distribution(p, name, where):
    """Validate an array of distributions along the last axis and return it as floats."""
    p = as_float_array(p, name, where)
    check_nonempty(p, name, where)
    if p.ndim == 0:
        raise ValueError(f"{where}: {name} must have at least one axis (..., K), got a scalar")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"{where}: {name} must contain finite non-negative probabilities, got min {p.min()}")
    worst = float(np.max(np.abs(p.sum(axis=-1) - 1.0)))
    if worst > _SUM_TOL:
        raise ValueError(f"{where}: {name} must sum to 1 along the last axis, got a sum off by {worst:.3g}")
    return p


def _p_log_q(p, q):
    """p·log q elementwise with 0·log q = 0 (even when q = 0); p > 0 with q = 0 gives −inf."""
    with np.errstate(divide="ignore"):
        return np.where(p > 0, p * np.log(np.where(p > 0, q, 1.0)), 0.0)


def entropy(p):
    """Shannon entropy H(p) = −Σ_k p_k log p_k in nats.

    p: (..., K) probabilities along the last axis. Returns (...). Ranges from 0 (a point
    mass) to log K (the uniform distribution). Matches
    ``torch.distributions.Categorical(probs=p).entropy()``.
    """
    p = _distribution(p, "p", "entropy")
    return -_p_log_q(p, p).sum(axis=-1)


def cross_entropy(p, q):
    """Cross-entropy H(p, q) = −Σ_k p_k log q_k in nats: the expected code length under q.

    p: (..., K) target distributions; q: (..., K) model distributions. Returns (...).
    With a one-hot p for class y this is −log q_y, the per-example loss that
    ``dlnotes.losses.cross_entropy`` averages. Infinite if q_k = 0 where p_k > 0.
    Matches ``torch.nn.functional.cross_entropy(log(q), p, reduction="none")``.
    """
    p = _distribution(p, "p", "cross_entropy")
    q = _distribution(q, "q", "cross_entropy")
    check_same_shape(p, q, "p", "q", "cross_entropy")
    return -_p_log_q(p, q).sum(axis=-1)


def kl_divergence(p, q):
    """Kullback–Leibler divergence KL(p ‖ q) = Σ_k p_k log(p_k / q_k) in nats.

    p, q: (..., K). Returns (...), always ≥ 0, zero only when p = q; not symmetric.
    Computed as Σ p (log p − log q) so small divergences keep their precision.
    Matches ``torch.nn.functional.kl_div(log(q), p, reduction="none").sum(-1)``.
    """
    p = _distribution(p, "p", "kl_divergence")
    q = _distribution(q, "q", "kl_divergence")
    check_same_shape(p, q, "p", "q", "kl_divergence")
    return (_p_log_q(p, p) - _p_log_q(p, q)).sum(axis=-1)


def gaussian_nll(x, mean, var):
    """Negative log-density of x under N(mean, var), elementwise:

        −log N(x; μ, σ²) = ½ log(2π σ²) + (x − μ)² / (2σ²)

    x, mean, var broadcast together; var > 0. With σ² fixed, the second term is the
    squared error divided by 2σ², so minimising the mean NLL over μ is minimising MSE.
    Matches ``torch.nn.functional.gaussian_nll_loss(mean, x, var, full=True,
    reduction="none")`` and ``-torch.distributions.Normal(mean, var**0.5).log_prob(x)``.
    """
    x = as_float_array(x, "x", "gaussian_nll")
    mean = as_float_array(mean, "mean", "gaussian_nll")
    var = as_float_array(var, "var", "gaussian_nll")
    try:
        np.broadcast_shapes(x.shape, mean.shape, var.shape)
    except ValueError:
        raise ValueError(
            f"gaussian_nll: mean and var must broadcast with x {x.shape}, got {mean.shape} and {var.shape}"
        ) from None
    if not np.all(var > 0):
        raise ValueError(f"gaussian_nll: var must be > 0 everywhere, got min {np.min(var)}")
    with np.errstate(over="ignore"):  # (x − μ)² beyond float64's range is inf, as in torch
        return 0.5 * (np.log(2.0 * np.pi * var) + (x - mean) ** 2 / var)
