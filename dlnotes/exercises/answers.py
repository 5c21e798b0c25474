"""Reading a reader's answer: the helpers every chapter's checkers share.

A checker works in three steps:

1. turn the answer into numbers, or learn that it is not the kind of answer asked for:
   :func:`real_number`, :func:`real_numbers`, :func:`float_array`, :func:`integer`,
   :func:`integers`, :func:`whole_number` each return ``None`` for anything else, so the checker
   can say what it expected instead of crashing;
2. run the reader's function without letting its errors escape: :func:`call`;
3. compare with the solution, then with the typical mistakes: :func:`close`, :func:`first_hint`.

Nothing here knows an exercise: tolerances are arguments, and the messages are the checkers' own.
"""

import contextlib
import math
import numbers

import numpy as np


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def real_number(answer):
    """``answer`` as a float if it is one finite real number, else None.

    A number in a container (``[0.5]``), a bool, a string, nan and ±inf are all None.
    """
    if not _is_real(answer) or not math.isfinite(answer):
        return None
    return float(answer)


def real_numbers(answer, n):
    """``answer`` as a float array of shape (n,) if it holds exactly n finite real numbers, else None.

    Nesting is flattened, so for n = 2 the answers ``(1, 2.5)``, ``[[1, 2.5]]`` and
    ``np.array([1, 2.5])`` all give ``array([1. , 2.5])``. Bools and strings are not numbers.
    """
    values = np.atleast_1d(np.asarray(answer, dtype=object)).ravel()
    if values.size != n or not all(_is_real(v) for v in values):
        return None
    values = values.astype(float)
    return values if np.all(np.isfinite(values)) else None


def float_array(answer, shape):
    """``answer`` as a finite float array of ``shape``, else None.

    Anything NumPy reads as an integer or float array of that many entries is reshaped to
    ``shape``: a scalar in a list, a flat list for a vector. Ragged lists, strings, booleans and
    object arrays are None.
    """
    try:
        values = np.asarray(answer)
    except ValueError:  # a ragged list
        return None
    if values.dtype.kind not in "iuf":
        return None
    values = values.astype(float)
    if values.shape != shape and values.size == math.prod(shape):
        values = values.reshape(shape)
    return values if values.shape == shape and np.all(np.isfinite(values)) else None


def integer(answer):
    """``answer`` as an int if its type is an integer type (``int``, ``np.int64``, ...), else None.

    ``3.0`` and ``True`` are None; see :func:`whole_number` to accept ``3.0``.
    """
    return int(answer) if _is_int(answer) else None


def integers(answer, n):
    """``answer`` as a tuple of n ints if it is n values of integer type, else None.

    One int counts as a sequence of one; a tuple, list or array is flattened. Floats, even ``3.0``,
    and bools are None.
    """
    values = answer if isinstance(answer, (tuple, list, np.ndarray)) else [answer]
    values = list(np.ravel(np.asarray(values, dtype=object)))
    if len(values) != n or not all(_is_int(v) for v in values):
        return None
    return tuple(int(v) for v in values)


def whole_number(answer):
    """``answer`` as an int if it is a real number with no fractional part (``3`` or ``3.0``), else None."""
    if not _is_real(answer) or not float(answer).is_integer():
        return None
    return int(answer)


def call(fn, *args, quiet=False):
    """Run the reader's ``fn(*args)``: ``(result, None)``, or ``(None, "TypeError: ...")`` if it raised.

    The checker words the failure itself, e.g. ``f"Calling your function failed: {error}"``.
    ``quiet=True`` silences NumPy's floating-point warnings (overflow, invalid value) while ``fn``
    runs, for checkers that test for inf and nan themselves. To catch errors of a conversion too,
    pass a function that calls and converts: ``call(lambda: np.asarray(fn(x), dtype=float))``.
    """
    try:
        with np.errstate(all="ignore") if quiet else contextlib.nullcontext():
            return fn(*args), None
    except Exception as err:  # the reader's code: report whatever went wrong
        return None, f"{type(err).__name__}: {err}"


def close(value, expected, rtol=1e-6, atol=1e-12):
    """True if ``value`` has the shape of ``expected`` and |value − expected| ≤ atol + rtol·|expected|
    entrywise (``np.allclose``, without broadcasting).

    ``rtol = atol = 0`` asks for equality of the float64 values, which for integers is exact up
    to 2**53 (counts, sizes).
    """
    return bool(np.shape(value) == np.shape(expected) and np.allclose(value, expected, rtol=rtol, atol=atol))


def first_hint(value, mistakes, rtol=1e-6, atol=1e-12):
    """The message of the first ``(expected, message)`` in ``mistakes`` with ``close(value, expected)``.

    ``mistakes`` lists the results of typical wrong solutions with what to say about each; None
    when ``value`` matches none of them.
    """
    return next((message for expected, message in mistakes if close(value, expected, rtol, atol)), None)
