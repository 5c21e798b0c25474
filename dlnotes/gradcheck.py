"""Central-difference gradient checks: the referee for every ``backward`` in dlnotes.

For a scalar function f and an array x,

    ∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / (2h),

with error O(h²) from truncation plus O(ε_mach/h) from round-off; h = 1e-6 in float64
leaves about 1e-9 relative error, which is what the tests allow.
"""

import numpy as np

from dlnotes._checks import as_float_array, check_real


def numerical_gradient(f, x, h=1e-6):
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    ``f`` is called with arrays of the shape of ``x``; it must return a scalar. ``x`` is not
    modified. Returns an array of the shape of ``x`` (float64). Costs 2·x.size calls of f.
    """
    x = as_float_array(x, "x", "numerical_gradient").astype(np.float64)
    h = check_real(h, "h", "numerical_gradient", low=0.0, low_open=True)
    grad = np.empty_like(x)
    flat = x.reshape(-1)  # a view: perturb in place, then restore
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + h
        f_plus = float(f(x))
        flat[i] = saved - h
        f_minus = float(f(x))
        flat[i] = saved
        grad.reshape(-1)[i] = (f_plus - f_minus) / (2.0 * h)
    return grad


def relative_error(analytic, numeric):
    """max |a − n| / max(1, |a|, |n|) elementwise, reduced by max: scale-aware and safe at 0."""
    a = as_float_array(analytic, "analytic", "relative_error").astype(np.float64)
    n = as_float_array(numeric, "numeric", "relative_error").astype(np.float64)
    if a.shape != n.shape:
        raise ValueError(f"relative_error: numeric must have the shape of analytic {a.shape}, got {n.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - n) / np.maximum(1.0, np.maximum(np.abs(a), np.abs(n)))))
