"""Weight initialisation: zeros, small normal, Xavier/Glorot and Kaiming/He, as torch.nn.init.

A weight of shape (out, in, *kernel) has

    fan_in  = in  · prod(kernel)     (inputs that feed one output unit)
    fan_out = out · prod(kernel)     (outputs one input unit feeds)

which is how torch.nn.init computes fans: a Linear weight (out, in) and a Conv2d weight
(C_out, C_in, kH, kW) follow the same rule. Each scheme picks the variance that keeps signals
(or gradients) at a constant scale through layers:

    Xavier/Glorot (2010):  Var(w) = gain² · 2 / (fan_in + fan_out)   (forward and backward balanced)
    Kaiming/He (2015):     Var(w) = gain² / fan                      (gain² = 2 for ReLU: Var = 2/fan_in)

Every function returns a new float64 array; randomness comes only from the ``rng``
(a numpy.random.Generator) that the caller passes, always by keyword and always last, as
torch.nn.init takes its ``generator``: ``kaiming_uniform(shape, a=math.sqrt(5), rng=rng)``.
The draws follow the same distributions as torch.nn.init, not the same random streams.
"""

import math
import numbers

import numpy as np

from dlnotes._checks import check_choice, check_generator, check_real


# Largest std, bound or gain accepted: the draws (a few std, the width 2·bound) must stay finite,
# or the Generator raises a bare OverflowError.
_MAX_SCALE = 1e300


def _check_shape(shape, where):
    """Return ``shape`` as a tuple of non-negative ints (an int alone means a 1-D shape)."""
    dims = (shape,) if isinstance(shape, numbers.Integral) else shape
    try:
        dims = tuple(dims)
    except TypeError:
        raise TypeError(f"{where}: shape must be a tuple of ints, got {type(shape).__name__}") from None
    if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 0 for d in dims):
        raise ValueError(f"{where}: shape must be a tuple of non-negative ints, got {shape!r}")
    return tuple(int(d) for d in dims)


def _fans(shape, where):
    shape = _check_shape(shape, where)
    if len(shape) < 2:
        raise ValueError(f"{where}: shape must have at least 2 dimensions (out, in, *kernel), got {shape}")
    receptive_field = math.prod(shape[2:])
    return shape, shape[1] * receptive_field, shape[0] * receptive_field


def fan_in_and_fan_out(shape):
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel), as torch.nn.init computes them.

    fan_in = in·prod(kernel), fan_out = out·prod(kernel). Needs at least 2 dimensions: a bias
    vector has no fan-in/fan-out pair.
    """
    _, fan_in, fan_out = _fans(shape, "fan_in_and_fan_out")
    return fan_in, fan_out


_UNIT_GAIN = ("linear", "conv1d", "conv2d", "conv3d",
              "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid")


def _gain(nonlinearity, param, where, param_name="param"):
    known = ", ".join(_UNIT_GAIN + ("tanh", "relu", "leaky_relu", "selu"))
    if not isinstance(nonlinearity, str):
        raise ValueError(f"{where}: nonlinearity must be one of {known}, got {nonlinearity!r}")
    if nonlinearity in _UNIT_GAIN:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        # |slope| <= 1e150 keeps slope² finite (a bare OverflowError otherwise)
        slope = 0.01 if param is None else check_real(param, param_name, where, low=-1e150, high=1e150)
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity == "selu":
        return 0.75
    raise ValueError(f"{where}: nonlinearity must be one of {known}, got {nonlinearity!r}")


def calculate_gain(nonlinearity, param=None):
    """Recommended gain for a nonlinearity, as torch.nn.init.calculate_gain.

        linear, conv*, sigmoid             1
        tanh                               5/3
        relu                               √2
        leaky_relu (slope a = param)       √(2 / (1 + a²)), a = 0.01 if param is None
        selu                               3/4
    """
    return _gain(nonlinearity, param, "calculate_gain")


def zeros(shape):
    """All zeros. Fine for biases; for weights it leaves every unit of a layer identical
    (same output, same gradient), so symmetry is never broken."""
    return np.zeros(_check_shape(shape, "zeros"), dtype=np.float64)


def normal(shape, std, *, rng):
    """w ~ N(0, std²): Var(w) = std². A fixed small std (e.g. 0.01) breaks symmetry but ignores
    the fan, so activations shrink or grow with depth."""
    shape = _check_shape(shape, "normal")
    std = check_real(std, "std", "normal", low=0.0, high=_MAX_SCALE)
    return check_generator(rng, "normal").normal(0.0, std, size=shape)


def uniform(shape, bound, *, rng):
    """w ~ U(−bound, bound): Var(w) = bound²/3. PyTorch's default Linear/Conv bias uses
    bound = 1/√fan_in."""
    shape = _check_shape(shape, "uniform")
    bound = check_real(bound, "bound", "uniform", low=0.0, high=_MAX_SCALE)
    return check_generator(rng, "uniform").uniform(-bound, bound, size=shape)


def _xavier_std(shape, gain, where):
    shape, fan_in, fan_out = _fans(shape, where)
    gain = check_real(gain, "gain", where, low=0.0, high=_MAX_SCALE)
    return shape, gain * math.sqrt(2.0 / max(fan_in + fan_out, 1))  # max(): empty shapes draw nothing


def xavier_uniform(shape, gain=1.0, *, rng):
    """Glorot uniform: w ~ U(−b, b), b = gain·√(6 / (fan_in + fan_out)).

    Preserves Var(w) = gain²·2/(fan_in + fan_out), the compromise between keeping the
    forward variance (1/fan_in) and the backward variance (1/fan_out). shape: (out, in, *kernel).
    """
    shape, std = _xavier_std(shape, gain, "xavier_uniform")
    bound = math.sqrt(3.0) * std  # U(−b, b) has variance b²/3
    return check_generator(rng, "xavier_uniform").uniform(-bound, bound, size=shape)


def xavier_normal(shape, gain=1.0, *, rng):
    """Glorot normal: w ~ N(0, std²), std = gain·√(2 / (fan_in + fan_out)).

    Preserves Var(w) = gain²·2/(fan_in + fan_out). shape: (out, in, *kernel).
    """
    shape, std = _xavier_std(shape, gain, "xavier_normal")
    return check_generator(rng, "xavier_normal").normal(0.0, std, size=shape)


def _kaiming_std(shape, a, mode, nonlinearity, where):
    shape, fan_in, fan_out = _fans(shape, where)
    check_choice(mode, "mode", where, ("fan_in", "fan_out"))
    fan = fan_in if mode == "fan_in" else fan_out
    gain = _gain(nonlinearity, a, where, "a")
    return shape, gain / math.sqrt(max(fan, 1))  # max(): empty shapes draw nothing


def kaiming_uniform(shape, a=0, mode="fan_in", nonlinearity="leaky_relu", *, rng):
    """He uniform: w ~ U(−b, b), b = gain·√(3 / fan), gain = calculate_gain(nonlinearity, a).

    Preserves Var(w) = gain²/fan; for ReLU (gain² = 2) and mode="fan_in" that is 2/fan_in, which
    keeps the second moment of the pre-activations constant through ReLU layers. mode="fan_out"
    keeps the backward gradients' variance instead. ``a`` is the negative slope of a leaky ReLU
    (ignored for other nonlinearities); torch's default Linear weight is a = √5, i.e.
    b = 1/√fan_in. shape: (out, in, *kernel).
    """
    shape, std = _kaiming_std(shape, a, mode, nonlinearity, "kaiming_uniform")
    bound = math.sqrt(3.0) * std
    return check_generator(rng, "kaiming_uniform").uniform(-bound, bound, size=shape)


def kaiming_normal(shape, a=0, mode="fan_in", nonlinearity="leaky_relu", *, rng):
    """He normal: w ~ N(0, std²), std = gain / √fan, gain = calculate_gain(nonlinearity, a).

    Preserves Var(w) = gain²/fan (2/fan_in for ReLU with mode="fan_in"). shape: (out, in, *kernel).
    """
    shape, std = _kaiming_std(shape, a, mode, nonlinearity, "kaiming_normal")
    return check_generator(rng, "kaiming_normal").normal(0.0, std, size=shape)
