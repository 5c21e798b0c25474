"""Argument checks shared by the public functions of dlnotes.

Every message has the form ``"<function>: <argument> must be <expected>, got <actual>"``
so a reader sees at once which call, which argument and what was wrong.
"""

import numbers

import numpy as np


def as_float_array(x, name, where):
    """Return ``x`` as a floating-point ndarray (float64 unless it already is float32/float64).

    Accepts anything ``np.asarray`` reads, torch tensors included (a tensor that tracks gradients
    is refused: dlnotes computes its own gradients, so torch's would silently stay empty).
    Raises TypeError for non-numeric input (strings, objects, complex numbers).
    """
    if getattr(x, "requires_grad", False) is True:
        raise TypeError(
            f"{where}: {name} must be an array or a tensor without gradient tracking, "
            f"got a {type(x).__name__} with requires_grad=True (pass x.detach())"
        )
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


def check_int(value, name, where, low=None, high=None):
    """Check an integer hyper-parameter (bools refused), optionally ``>= low`` and ``<= high``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: {name} must be an integer, got {type(value).__name__}")
    if low is not None and value < low:
        raise ValueError(f"{where}: {name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{where}: {name} must be <= {high}, got {value}")
    return int(value)


def check_generator(rng, where):
    """Require a numpy.random.Generator so every random draw is seeded by the caller."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{where}: rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
            f"got {type(rng).__name__}"
        )
    return rng


def check_bool(value, name, where):
    """Require a real bool (numpy's included): ``train="no"`` or ``bias=0`` would otherwise be read
    by truthiness and do the opposite of what the caller meant."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}: {name} must be a bool, got {type(value).__name__}")
    return bool(value)


def check_choice(value, name, where, choices):
    """Require ``value`` to be one of ``choices`` (strings or ints; the message lists them in the
    order given); returns it. A bool never passes for an int choice, nor "1" for 1."""
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (str, numbers.Integral))
            or value not in choices):
        raise ValueError(f"{where}: {name} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


def check_finite(x, name, where):
    """Refuse NaN and ±inf: stateful operations call this before they change any state.

    ``x`` is a float array (after ``as_float_array``). The message says how many entries are bad.
    One pass without a temporary in the usual case: a NaN or ±inf entry makes x·x (a BLAS dot
    product) NaN or inf, so a finite x·x proves every entry finite; only a non-finite one (bad
    entries, or entries above ~1e154 whose squares overflow) pays for the entry-by-entry count.
    """
    flat = x.ravel(order="K")  # a view for any contiguous array
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.dot(flat, flat)):
            return x
    bad = x.size - np.count_nonzero(np.isfinite(x))
    if bad:
        raise ValueError(f"{where}: {name} must be finite, got {bad} NaN or infinite value(s)")
    return x


def check_axis(axis, ndim, name, where):
    """Normalise ``axis`` (None, an int or a tuple of ints) for an array of rank ``ndim``.

    Returns None or a sorted tuple of non-negative axes. Refuses bools, out-of-range and
    repeated axes (NumPy would wrap, or fail with its own text).
    """
    if axis is None:
        return None
    axes = axis if isinstance(axis, tuple) else (axis,)
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral):
            raise TypeError(f"{where}: {name} must be None, an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{where}: {name} must be in [{-ndim}, {ndim - 1}] for {ndim} axes, got {axis!r}")
    normal = tuple(int(a) % ndim for a in axes)
    if len(set(normal)) != len(normal):
        raise ValueError(f"{where}: {name} must not repeat an axis, got {axis!r}")
    return tuple(sorted(normal))


def check_one_axis(axis, array, where, array_name="x"):
    """``axis`` (an int; negative counts from the end) as a non-negative index into ``array.shape``."""
    axis = check_int(axis, "axis", where)
    if array.ndim == 0:
        raise ValueError(f"{where}: axis must name an axis of {array_name}, which has shape (), got {axis}")
    if not -array.ndim <= axis < array.ndim:
        raise ValueError(f"{where}: axis must be in [{-array.ndim}, {array.ndim - 1}] for {array_name} "
                         f"of shape {tuple(array.shape)}, got {axis}")
    return axis % array.ndim


def check_rows(X, y, where, *, min_rows=0):
    """X (an array with a row axis) and y (one entry per row of X), each as an array of its own
    dtype; at least ``min_rows`` rows."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0:
        raise ValueError(f"{where}: X must have a row axis, got a scalar")
    if len(X) < min_rows:
        count = "one row" if min_rows == 1 else f"{min_rows} rows"
        raise ValueError(f"{where}: X must have at least {count}, got shape {X.shape}")
    if y.ndim == 0 or y.shape[0] != X.shape[0]:
        raise ValueError(f"{where}: y must have one entry per row of X ({X.shape[0]}), got shape {y.shape}")
    return X, y


def check_values_in(x, name, where, low, high):
    """Require every entry of the float array ``x`` in [low, high]; NaN fails (NaN-proof range check:
    ``(x < low) | (x > high)`` is False for NaN)."""
    if not np.all((x >= low) & (x <= high)):
        nan = np.count_nonzero(np.isnan(x))
        detail = f"{nan} NaN value(s)" if nan else f"range [{x.min()}, {x.max()}]"
        raise ValueError(f"{where}: {name} must have values in [{low}, {high}], got {detail}")
    return x
