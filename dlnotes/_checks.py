"""Argument checks shared by the public functions of dlnotes.

Every message has the form ``"<function>: <argument> must be <expected>, got <actual>"``
so a reader sees at once which call, which argument and what was wrong.
"""

import numbers

import numpy as np


def as_float_array(x, name, where):
    """Return ``x`` as a floating-point ndarray (float64 unless it already is float32/float64).

    Raises TypeError for non-numeric input (strings, objects, complex numbers).
    """
    arr = np.asarray(x)
    if arr.dtype.kind == "f":
        return arr
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    raise TypeError(f"{where}: {name} must be a real numeric array, got dtype {arr.dtype}")


def check_ndim(x, ndim, name, where, layout):
    """Raise ValueError unless ``x.ndim`` is ``ndim`` (an int or a tuple of allowed ranks).

    ``layout`` describes the expected shape for the message, e.g. ``"(N, C, H, W)"``.
    """
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if x.ndim not in allowed:
        raise ValueError(f"{where}: {name} must be {layout}, got shape {tuple(x.shape)}")


def check_same_shape(a, b, name_a, name_b, where):
    """Raise ValueError unless two arrays have identical shapes."""
    if a.shape != b.shape:
        raise ValueError(
            f"{where}: {name_b} must have the shape of {name_a} {tuple(a.shape)}, got {tuple(b.shape)}"
        )


def check_nonempty(x, name, where):
    """Refuse empty arrays: a mean over nothing is undefined."""
    if x.size == 0:
        raise ValueError(f"{where}: {name} must not be empty, got shape {tuple(x.shape)}")


def check_real(value, name, where, low=None, high=None, low_open=False, high_open=False):
    """Check a scalar hyper-parameter: a finite real number inside an optional interval.

    ``low``/``high`` are inclusive unless ``low_open``/``high_open``. Returns it as float.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: {name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{where}: {name} must be finite, got {value}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        interval = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
        raise ValueError(f"{where}: {name} must be in {interval}, got {value}")
    return value


def check_int(value, name, where, low=None):
    """Check an integer hyper-parameter (bools refused), optionally ``>= low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be an integer, got {type(value).__name__}")
    if low is not None and value < low:
        raise ValueError(f"{where}: {name} must be >= {low}, got {value}")
    return int(value)


def check_generator(rng, where):
    """Require a numpy.random.Generator so every random draw is seeded by the caller."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{where}: rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng
