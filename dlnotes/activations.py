"""Activation functions and their derivatives, written to be numerically stable.

Each ``f(x)`` works elementwise on an array of any shape (float32 stays float32, integers
become float64) and has a partner ``f_grad(x)`` = f′(x), the derivative evaluated at ``x``.
A layer's backward multiplies it by the incoming gradient: ``grad_in = grad_out * f_grad(x)``.
``softmax`` and ``log_softmax`` act along one axis; their backward lives with the loss that
uses them (``dlnotes.losses.cross_entropy_grad``).

GELU needs the error function; it comes from ``scipy.special`` (scipy is pinned in
``requirements.txt``), the one import here beyond NumPy.

Matches torch.sigmoid, torch.tanh, torch.relu, F.leaky_relu, F.gelu(approximate="none" and "tanh"),
F.softmax and F.log_softmax to ~1e-15 in float64 (see ``tests/test_activations.py``).
"""

import math

import numpy as np
from scipy.special import erfc

from dlnotes._checks import as_float_array, check_one_axis, check_real

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def sigmoid(x):
    """Logistic sigmoid σ(x) = 1 / (1 + e^(−x)), range (0, 1), strictly increasing.

    Evaluated without overflow as σ(x) = 1/(1 + e^(−|x|)) for x ≥ 0 and
    e^(−|x|)/(1 + e^(−|x|)) for x < 0, so σ(1000) = 1 and σ(−1000) = 0 exactly.
    """
    x = as_float_array(x, "x", "sigmoid")
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x):
    """σ′(x) = σ(x)·(1 − σ(x)) ≤ 1/4 (maximum at x = 0); tends to 0 as |x| grows (saturation)."""
    s = sigmoid(as_float_array(x, "x", "sigmoid_grad"))
    return s * (1.0 - s)


def tanh(x):
    """Hyperbolic tangent tanh(x) = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ) = 2σ(2x) − 1, range (−1, 1).

    tanh is a sigmoid stretched to (−1, 1) and made zero-centred, not a more general function.
    """
    return np.tanh(as_float_array(x, "x", "tanh"))


def tanh_grad(x):
    """tanh′(x) = 1 − tanh²(x) ≤ 1 (maximum at x = 0); it saturates like σ′."""
    t = np.tanh(as_float_array(x, "x", "tanh_grad"))
    return 1.0 - t * t


def relu(x):
    """Rectified linear unit relu(x) = max(x, 0)."""
    return np.maximum(as_float_array(x, "x", "relu"), 0.0)


def relu_grad(x):
    """relu′(x) = 1 for x > 0, else 0 (the value 0 at x = 0 is the convention PyTorch uses)."""
    x = as_float_array(x, "x", "relu_grad")
    return (x > 0).astype(x.dtype)


def _slope(negative_slope, where):
    return check_real(negative_slope, "negative_slope", where)


def leaky_relu(x, negative_slope=0.01):
    """Leaky ReLU: x for x > 0, negative_slope·x otherwise (a small slope keeps units alive)."""
    x = as_float_array(x, "x", "leaky_relu")
    slope = _slope(negative_slope, "leaky_relu")
    with np.errstate(over="ignore"):  # a huge slope overflows to ±inf, as in torch
        return np.where(x > 0, x, x * slope)


def leaky_relu_grad(x, negative_slope=0.01):
    """leaky_relu′(x) = 1 for x > 0, negative_slope otherwise (x = 0 included, as in PyTorch)."""
    x = as_float_array(x, "x", "leaky_relu_grad")
    slope = _slope(negative_slope, "leaky_relu_grad")
    with np.errstate(over="ignore"):  # a slope beyond float32's range is inf in float32, as in torch
        return np.where(x > 0, 1.0, slope).astype(x.dtype)


def _normal_cdf(x):
    """Φ(x) = ½(1 + erf(x/√2)), computed as ½·erfc(−x/√2) so the left tail keeps its digits."""
    return 0.5 * erfc(-x * _INV_SQRT2)


def gelu(x):
    """Gaussian error linear unit, exact form: gelu(x) = x·Φ(x) = ½x·(1 + erf(x/√2)).

    Φ is the standard normal CDF. This is F.gelu(x, approximate="none"), not the tanh
    approximation.
    """
    x = as_float_array(x, "x", "gelu")
    return x * _normal_cdf(x)


def gelu_grad(x):
    """gelu′(x) = Φ(x) + x·φ(x), with φ(x) = e^(−x²/2)/√(2π) the standard normal density."""
    x = as_float_array(x, "x", "gelu_grad")
    with np.errstate(over="ignore", invalid="ignore"):  # x² overflows far out: _saturated gives the limit
        grad = _normal_cdf(x) + x * np.exp(-0.5 * x * x) * _INV_SQRT_2PI
    return _saturated(x, grad)


def _saturated(x, grad):
    """GELU's derivative where x³ would overflow (|x| > max^0.3 of x's dtype, inf included) is
    exactly 1 (x > 0) or 0, as the formula gives just below that point."""
    far = np.abs(x) > np.finfo(x.dtype).max ** 0.3
    return np.where(far, (x > 0).astype(grad.dtype), grad) if np.any(far) else grad


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715


def gelu_tanh(x):
    """GELU's tanh approximation (Hendrycks & Gimpel, 2016):

        gelu_tanh(x) = ½x·(1 + tanh(u)),   u = √(2/π)·(x + 0.044715·x³)

    This is F.gelu(x, approximate="tanh"). It is close to the exact x·Φ(x) of ``gelu`` but not
    equal to it: they differ by up to about 5e-4, near |x| ≈ 2.7.
    """
    x = as_float_array(x, "x", "gelu_tanh")
    return 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x**3)))


def gelu_tanh_grad(x):
    """gelu_tanh′(x) = ½(1 + tanh u) + ½x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²)."""
    x = as_float_array(x, "x", "gelu_tanh_grad")
    with np.errstate(over="ignore", invalid="ignore"):  # x³ overflows far out: _saturated gives the limit
        t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x**3))
        grad = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * x * x)
    return _saturated(x, grad)


def _shifted(x, axis, where):
    """x − max(x) along ``axis``: every entry ≤ 0, so exp never overflows. Softmax is shift-invariant."""
    x = as_float_array(x, "x", where)
    axis = check_one_axis(axis, x, where)
    return x - np.max(x, axis=axis, keepdims=True, initial=-np.inf), axis


def softmax(x, axis=-1):
    """softmax(x)_i = e^(x_i) / Σ_j e^(x_j) along ``axis``; entries in (0, 1) that sum to 1.

    Computed on x − max(x), which leaves the result unchanged and keeps exp ≤ 1.
    x: any shape with at least one axis; returns the same shape.
    """
    z, axis = _shifted(x, axis, "softmax")
    if z.size == 0:  # an empty input gives an empty output, as in torch
        return z
    e = np.exp(z)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """log softmax(x)_i = x_i − log Σ_j e^(x_j) = z_i − log Σ_j e^(z_j), with z = x − max(x).

    The shift makes the largest z equal 0, so the sum lies in [1, K] and its log is exact
    enough: logits of ±1000 give finite, exact results (log softmax([1000, −1000]) = [0, −2000]).
    x: any shape with at least one axis; returns the same shape.
    """
    z, axis = _shifted(x, axis, "log_softmax")
    if z.size == 0:
        return z
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))
