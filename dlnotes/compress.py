"""Model compression: magnitude pruning and post-training quantisation (chapter 7).

Pruning
-------
A mask is a boolean array of the weight's shape: ``True`` keeps a weight, ``False`` removes it;
the pruned weight is ``w * mask``. Three ways to choose the mask, each matching a function of
``torch.nn.utils.prune``:

======================================  ===============================  =====================================
dlnotes                                 torch.nn.utils.prune             what is removed
======================================  ===============================  =====================================
``magnitude_mask(w, s)``                ``l1_unstructured(m, n, s)``     the k smallest |w| of one tensor
``global_magnitude_masks(ws, s)``       ``global_unstructured(..., s)``  the k smallest |w| over all tensors
``channel_prune_mask(w, f, axis, p)``   ``ln_structured(m, n, f, p, d)`` the k slices along ``axis`` with the
                                                                         smallest L_p norm
======================================  ===============================  =====================================

How many: k = round(fraction · count) with Python's ``round`` (ties to even: 0.5·5 = 2.5 → 2),
exactly as torch computes ``nparams_toprune``, so the achieved sparsity is k / count.

Ties: when several magnitudes (or channel norms) are equal at the threshold, only some of them
may go. Here the choice is deterministic: a stable sort prunes the tied entries with the lowest
flat index (lowest channel index) first. torch uses ``torch.topk``, which documents no order
among equal values; in torch 2.13 on CPU, pruning 3 of 10 equal weights removes indices 6, 7, 8.
So with ties the *number* of pruned weights always agrees with torch but *which* tied weights
are pruned may not; with continuous random weights there are no ties and the masks are equal.

Quantisation
------------
Uniform affine quantisation maps a real x to an integer q in [q_min, q_max]:

    q  = clamp(round(x / scale) + zero_point, q_min, q_max)        (round half to even)
    x̂ = (q − zero_point) · scale                                   (dequantise)

``scheme="symmetric"``: signed integers [−2^(b−1), 2^(b−1) − 1], zero_point = 0,
    scale = max(|min x|, |max x|) / ((q_max − q_min) / 2)   (= max|x| / 127.5 for 8 bits).
``scheme="affine"``: unsigned integers [0, 2^b − 1], with x_min = min(min x, 0), x_max = max(max x, 0):
    scale = (x_max − x_min) / (q_max − q_min),   zero_point = q_min − round(x_min / scale).
In both, scale is at least float32's machine epsilon (so an all-zero tensor still gets a valid scale).
The range always contains 0, so 0 (padding, ReLU outputs, pruned weights) is represented exactly.

These are the formulas of ``torch.ao.quantization.MinMaxObserver`` (qint8 with
``per_tensor_symmetric``; quint8 with ``per_tensor_affine``) and ``PerChannelMinMaxObserver``
(``per_channel_symmetric`` / ``per_channel_affine``) with ``quant_min``/``quant_max`` set for b bits.
Rounding is half to even (``np.rint``), as in ``torch.quantize_per_tensor`` and
``torch.fake_quantize_per_tensor_affine``: 0.5 → 0, 1.5 → 2, 2.5 → 2. torch multiplies by a
float32 reciprocal 1/scale where this module divides by scale in float64; the two can differ
only for an x within a rounding error of a half-way point. torch's quantise and fake-quantise
kernels work in float32 (even on float64 input), so their outputs agree with these float64 ones
to float32 precision; observers work in float32 unless built with
``factory_kwargs={"dtype": torch.float64}``, and then agree exactly.

Per-channel (``axis=a``): one scale and zero point per slice along ``axis`` (per output channel
for a weight ``(C_out, C_in, kH, kW)`` with ``axis=0``). scale and zero_point are then returned
with the shape of ``x`` reduced to length 1 on every other axis, e.g. ``(C_out, 1, 1, 1)``, so
``(q − zero_point) · scale`` broadcasts; ``scale.ravel()`` is torch's ``(C_out,)`` vector.
"""

import math
from collections.abc import Iterable

import numpy as np

from dlnotes._checks import as_float_array, check_choice, check_int, check_nonempty, check_one_axis, check_real

_SCHEMES = ("symmetric", "affine")
_MIN_SCALE = float(np.finfo(np.float32).eps)  # torch observers' eps
_MIN_BITS, _MAX_BITS = 2, 16


# --------------------------------------------------------------------------------------------
# pruning
# --------------------------------------------------------------------------------------------


def _weight(w, name, where):
    w = as_float_array(w, name, where)
    check_nonempty(w, name, where)
    return w


def _n_pruned(fraction, count, name, where):
    """k = round(fraction · count), ties to even, like torch's ``_compute_nparams_toprune``."""
    fraction = check_real(fraction, name, where, low=0.0, high=1.0)
    return round(fraction * count)


def _smallest_first_mask(scores, k):
    """Boolean mask over a 1-D score vector with its k smallest entries False (stable on ties)."""
    keep = np.ones(scores.shape, dtype=bool)
    keep[np.argsort(scores, kind="stable")[:k]] = False
    return keep


def magnitude_mask(w, sparsity):
    """Unstructured magnitude pruning of one tensor: remove the k = round(sparsity·w.size) smallest |w|.

    w: any shape. sparsity: fraction in [0, 1]. Returns a bool mask of w's shape (True = keep).
    Matches ``torch.nn.utils.prune.l1_unstructured(module, name, amount=sparsity)``
    (see the module docstring for ties).
    """
    where = "magnitude_mask"
    w = _weight(w, "w", where)
    k = _n_pruned(sparsity, w.size, "sparsity", where)
    return _smallest_first_mask(np.abs(w).ravel(), k).reshape(w.shape)


def global_magnitude_masks(weights, sparsity):
    """Global magnitude pruning: one threshold on |w| across all tensors together.

    Removes the k = round(sparsity · Σ sizes) smallest magnitudes of the concatenation, so layers
    with many small weights lose more than others. weights: a list of arrays (any shapes).
    Returns a list of bool masks. Matches ``torch.nn.utils.prune.global_unstructured(
    [(module, "weight"), ...], pruning_method=prune.L1Unstructured, amount=sparsity)``.
    """
    where = "global_magnitude_masks"
    if not isinstance(weights, (list, tuple)) or len(weights) == 0:
        raise TypeError(f"{where}: weights must be a non-empty list of arrays, got {type(weights).__name__}")
    arrays = [_weight(w, f"weights[{i}]", where) for i, w in enumerate(weights)]
    scores = np.concatenate([np.abs(w).ravel() for w in arrays])
    keep = _smallest_first_mask(scores, _n_pruned(sparsity, scores.size, "sparsity", where))
    ends = np.cumsum([w.size for w in arrays])[:-1]
    return [m.reshape(w.shape) for m, w in zip(np.split(keep, ends), arrays)]


def channel_prune_mask(w, fraction, axis=0, norm=1):
    """Structured pruning: remove whole slices along ``axis`` with the smallest L_p norm.

    For a Linear weight ``(out, in)`` with axis=0 a slice is an output row (a neuron); for a conv
    weight ``(C_out, C_in, kH, kW)`` it is an output channel (a filter). The norm of slice c is
    ‖w[c]‖_p = (Σ |w[c, ...]|^p)^(1/p) over all other axes (p = inf: the max);
    k = round(fraction · w.shape[axis]) slices go.

    w: at least 2-D. fraction in [0, 1]. norm: p > 0 or ``np.inf``. Returns a bool mask of w's shape.
    Matches ``torch.nn.utils.prune.ln_structured(module, name, amount=fraction, n=norm, dim=axis)``.
    """
    where = "channel_prune_mask"
    w = _weight(w, "w", where)
    if w.ndim < 2:
        raise ValueError(f"{where}: w must have at least 2 dimensions (channels × something), got shape {w.shape}")
    axis = check_one_axis(axis, w, where, "w")
    p = check_real(norm, "norm", where, low=0.0, low_open=True) if norm != np.inf else np.inf
    others = tuple(d for d in range(w.ndim) if d != axis)
    a = np.abs(w)
    norms = a.max(axis=others) if p == np.inf else np.sum(a**p, axis=others) ** (1.0 / p)
    keep = _smallest_first_mask(norms, _n_pruned(fraction, w.shape[axis], "fraction", where))
    shape = [1] * w.ndim
    shape[axis] = w.shape[axis]
    return np.broadcast_to(keep.reshape(shape), w.shape).copy()


def apply_masks(weights, masks):
    """Pruned copies ``w * mask`` for matching lists of weights and masks (the inputs are not modified)."""
    where = "apply_masks"
    if len(weights) != len(masks):
        raise ValueError(f"{where}: masks must have one mask per weight ({len(weights)}), got {len(masks)}")
    out = []
    for i, (w, m) in enumerate(zip(weights, masks)):
        w = as_float_array(w, f"weights[{i}]", where)
        m = np.asarray(m)
        if m.shape != w.shape:
            raise ValueError(f"{where}: masks[{i}] must have the shape of weights[{i}] {w.shape}, got {m.shape}")
        out.append(w * m.astype(bool))
    return out


def sparsity(w):
    """Fraction of exactly-zero entries of an array, or over a list of arrays together."""
    where = "sparsity"
    if isinstance(w, (list, tuple)):
        arrays = [as_float_array(a, f"w[{i}]", where) for i, a in enumerate(w)]
    else:  # a generator would otherwise be read as one object and count as "no zeros"
        arrays = [as_float_array(w, "w", where)]
    zeros = sum(int(np.count_nonzero(a == 0)) for a in arrays)
    total = sum(a.size for a in arrays)
    if total == 0:
        raise ValueError("sparsity: w must not be empty, got 0 elements")
    return zeros / total


# --------------------------------------------------------------------------------------------
# quantisation
# --------------------------------------------------------------------------------------------


def _check_bits(bits, where):
    bits = check_int(bits, "bits", where)
    if not _MIN_BITS <= bits <= _MAX_BITS:
        raise ValueError(f"{where}: bits must be in [{_MIN_BITS}, {_MAX_BITS}], got {bits}")
    return bits


def _check_scheme(scheme, where):
    return check_choice(scheme, "scheme", where, _SCHEMES)


def qrange(bits=8, scheme="symmetric"):
    """Integer range (q_min, q_max): signed [−2^(b−1), 2^(b−1)−1] for symmetric, [0, 2^b−1] for affine."""
    bits = _check_bits(bits, "qrange")
    if _check_scheme(scheme, "qrange") == "symmetric":
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def _finite_input(x, where):
    x = _weight(x, "x", where)
    if not np.all(np.isfinite(x)):
        bad = np.count_nonzero(~np.isfinite(x))
        raise ValueError(f"{where}: x must be finite (no NaN or inf), got {bad} non-finite entries")
    return x.astype(np.float64)


def _channel_axis(x, axis, where):
    """None (per tensor) or the channel axis as a non-negative int."""
    return None if axis is None else check_one_axis(axis, x, where)


def _qparam_shape(x, axis):
    """Shape of scale/zero_point: () per tensor, x's shape with 1 on all axes but ``axis`` per channel."""
    return () if axis is None else tuple(n if d == axis else 1 for d, n in enumerate(x.shape))


def _qparams(scale, zero_point, axis):
    """Per tensor: a Python float and int; per channel: float64 and int64 arrays of ``_qparam_shape``."""
    if axis is None:
        return float(scale), int(zero_point)
    return scale.astype(np.float64), zero_point.astype(np.int64)


def _choose_qparams(x, bits, scheme, axis):
    qmin, qmax = qrange(bits, scheme)
    dims = None if axis is None else tuple(d for d in range(x.ndim) if d != axis)
    x_min = np.minimum(x.min(axis=dims, keepdims=axis is not None), 0.0)
    x_max = np.maximum(x.max(axis=dims, keepdims=axis is not None), 0.0)
    if scheme == "symmetric":
        scale = np.maximum(np.maximum(-x_min, x_max) / ((qmax - qmin) / 2), _MIN_SCALE)
        return _qparams(scale, np.zeros_like(scale), axis)
    with np.errstate(over="ignore"):
        span = x_max - x_min
    # x_max − x_min overflows for |x| near float64's max: divide first there (only there, so the
    # scale of ordinary input keeps its last bit).
    scale = np.where(np.isfinite(span), span / (qmax - qmin), x_max / (qmax - qmin) - x_min / (qmax - qmin))
    scale = np.maximum(scale, _MIN_SCALE)
    return _qparams(scale, np.clip(qmin - np.rint(x_min / scale), qmin, qmax), axis)


def choose_qparams(x, bits=8, scheme="symmetric", axis=None):
    """Scale and zero point from the min/max of x (per tensor, or per slice along ``axis``).

    Formulas in the module docstring. Returns (scale, zero_point): a float and an int per tensor,
    or float64/int64 arrays of x's shape reduced to 1 on all axes but ``axis``. Matches
    ``MinMaxObserver``/``PerChannelMinMaxObserver(ch_axis=axis)`` (qint8 symmetric, quint8 affine).
    """
    where = "choose_qparams"
    x = _finite_input(x, where)
    bits, scheme = _check_bits(bits, where), _check_scheme(scheme, where)
    return _choose_qparams(x, bits, scheme, _channel_axis(x, axis, where))


def _given_qparams(x, scale, zero_point, bits, scheme, axis, where):
    """Validate caller-supplied scale/zero_point and shape them to broadcast against x."""
    shape = _qparam_shape(x, axis)
    scale = as_float_array(scale, "scale", where).astype(np.float64)
    zero_point = np.zeros(shape, dtype=np.int64) if zero_point is None else np.asarray(zero_point)
    n = math.prod(shape)
    if scale.size != n or zero_point.size != n:
        what = "1 entry (per tensor)" if axis is None else f"{n} entries (one per channel)"
        raise ValueError(f"{where}: scale and zero_point must have {what}, got {scale.size} and {zero_point.size}")
    if not np.all(np.isfinite(scale) & (scale > 0)):
        raise ValueError(f"{where}: scale must be positive and finite, got min {scale.min()}")
    if zero_point.dtype.kind not in "iu":
        raise TypeError(f"{where}: zero_point must be integers, got dtype {zero_point.dtype}")
    qmin, qmax = qrange(bits, scheme)
    if np.any((zero_point < qmin) | (zero_point > qmax)):
        got = f"{zero_point.min()}..{zero_point.max()}"
        raise ValueError(f"{where}: zero_point must be in [{qmin}, {qmax}], got {got}")
    return _qparams(scale.reshape(shape), zero_point.reshape(shape), axis)


def _quantize(x, bits, scheme, axis, scale, zero_point, where):
    x = _finite_input(x, where)
    bits, scheme = _check_bits(bits, where), _check_scheme(scheme, where)
    axis = _channel_axis(x, axis, where)
    if scale is None:
        if zero_point is not None:
            raise ValueError(f"{where}: zero_point must be None when scale is None, got {zero_point!r}")
        scale, zero_point = _choose_qparams(x, bits, scheme, axis)
    else:
        scale, zero_point = _given_qparams(x, scale, zero_point, bits, scheme, axis, where)
    qmin, qmax = qrange(bits, scheme)
    dtype = np.dtype(f"{'int' if scheme == 'symmetric' else 'uint'}{8 if bits <= 8 else 16}")
    q = np.clip(np.rint(x / scale) + zero_point, qmin, qmax).astype(dtype)
    return q, scale, zero_point


def quantize(x, bits=8, scheme="symmetric", axis=None, *, scale=None, zero_point=None):
    """Quantise x to b-bit integers: q = clamp(round(x / scale) + zero_point, q_min, q_max).

    x: any shape, finite. bits: 2..16. scheme: "symmetric" (signed, zero_point 0) or "affine"
    (unsigned). axis: None for one scale per tensor, or the channel axis for one per slice.
    scale/zero_point: by default chosen by :func:`choose_qparams`; pass them to quantise with given
    parameters (a scalar, or one value per channel; zero_point defaults to 0).

    Returns (q, scale, zero_point); q is int8/uint8 for bits ≤ 8, else int16/uint16.
    Matches ``torch.quantize_per_tensor`` / ``torch.quantize_per_channel`` given the same
    scale and zero_point (``.int_repr()``).
    """
    return _quantize(x, bits, scheme, axis, scale, zero_point, "quantize")


def _extreme(scale):
    """The first entry of ``scale`` that is not positive and finite (for a message)."""
    flat = scale.ravel()
    return flat[~(np.isfinite(flat) & (flat > 0))][0]


def dequantize(q, scale, zero_point=0):
    """x̂ = (q − zero_point) · scale in float64; scale and zero_point as returned by :func:`quantize`."""
    q = np.asarray(q)
    if q.dtype.kind not in "iu":
        raise TypeError(f"dequantize: q must be an integer array, got dtype {q.dtype}")
    scale = as_float_array(scale, "scale", "dequantize").astype(np.float64)
    if not np.all(np.isfinite(scale) & (scale > 0)):
        raise ValueError(f"dequantize: scale must be positive and finite, got {_extreme(scale)}")
    return (q.astype(np.float64) - np.asarray(zero_point)) * scale


def fake_quantize(x, bits=8, scheme="symmetric", axis=None, *, scale=None, zero_point=None):
    """Quantise then dequantise: the float values a b-bit model would compute with (x's shape).

    Same arguments as :func:`quantize`. Each entry moves by at most scale/2 unless it lies outside
    the representable range. Matches ``torch.fake_quantize_per_tensor_affine`` /
    ``torch.fake_quantize_per_channel_affine`` with quant_min, quant_max = :func:`qrange`.
    """
    return dequantize(*_quantize(x, bits, scheme, axis, scale, zero_point, "fake_quantize"))


def quantization_error(x, bits=8, scheme="symmetric", axis=None):
    """Root-mean-square error sqrt(mean((x − fake_quantize(x))²)) with qparams from :func:`choose_qparams`.

    Rounding error is roughly uniform on [−scale/2, scale/2], so the RMS is about scale/√12:
    each extra bit halves it.
    """
    x = _finite_input(x, "quantization_error")
    x_hat = dequantize(*_quantize(x, bits, scheme, axis, None, None, "quantization_error"))
    return float(np.sqrt(np.mean((x - x_hat) ** 2)))


def model_size_bytes(arrays, bits=32):
    """Storage of the arrays at ``bits`` per entry, packed: Σ ceil(size · bits / 8) bytes.

    Counts the weights only; per-tensor quantisation adds one scale and zero point per tensor,
    per-channel one pair per channel (a few bytes each, negligible for all but tiny layers).
    """
    bits = check_int(bits, "bits", "model_size_bytes", low=1)
    if isinstance(arrays, np.ndarray):
        arrays = [arrays]
    if isinstance(arrays, (str, bytes)) or not isinstance(arrays, Iterable):
        raise TypeError(f"model_size_bytes: arrays must be an array or a list of arrays, got {type(arrays).__name__}")
    return sum(math.ceil(np.asarray(a).size * bits / 8) for a in arrays)
