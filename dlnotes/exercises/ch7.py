"""Checkers for chapter 7 (deployment, transfer, compression). The exercise data live here so the
notebook and the checker read the same numbers: ``from dlnotes.exercises.ch7 import QUANT_X``."""

import numbers

import numpy as np

from dlnotes import compress
from dlnotes.activations import softmax
from dlnotes.exercises import checker
from dlnotes.exercises.answers import call, close, first_hint, whole_number

SIZES_71 = (64, 128, 128, 10)  # exercise 7.1: the MLP whose int8 size is asked for
QUANT_X = np.array([-0.6, -0.1, 0.0, 0.35, 1.2])  # exercise 7.2: quantise to 4-bit affine
PRUNE_W1 = np.array([[0.9, -1.3, 0.2, 2.1],  # exercise 7.3: two layers on different scales
                     [-0.4, 1.7, -2.5, 0.6],
                     [1.1, -0.05, 0.8, -1.6]])
PRUNE_W2 = np.array([[0.12, -0.03, 0.31, -0.22],
                     [-0.41, 0.07, 0.15, 0.5],
                     [0.02, -0.18, 0.26, -0.09]])
SIZES_74, REMOVED_74 = (64, 128, 128, 10), 0.75  # exercise 7.4: remove 75% of each hidden layer's units

_RTOL = 1e-9


def _int8_size(sizes, scales_per_layer, bias_bytes=4, scale_bytes=4):
    """Bytes of an MLP with int8 weights, biases of bias_bytes and the given number of scales."""
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    units = sum(sizes[1:])
    return weights + units * bias_bytes + scales_per_layer * scale_bytes


@checker("7.1")
def int8_model_size(answer):
    """Answer: bytes of the SIZES_71 MLP with int8 per-channel weights, float32 scales and biases."""
    got = whole_number(answer)
    if got is None:
        return False, "Give one whole number of bytes."
    units = sum(SIZES_71[1:])
    weights = sum(a * b for a, b in zip(SIZES_71[:-1], SIZES_71[1:]))
    want = _int8_size(SIZES_71, units)
    if got == want:
        return True, ("The one-byte weights dominate; the float32 scale and bias of every output row "
                      "add little on top.")
    hint = first_hint(got, [
        (weights, "Only the int8 weights are counted: the biases and the per-channel scales take bytes too."),
        (want - 4 * units, "One group of float32 numbers is missing: each output channel has a bias and a scale."),
        (_int8_size(SIZES_71, len(SIZES_71) - 1), "Per-channel means one scale per output row, not one per layer."),
        (_int8_size(SIZES_71, units, bias_bytes=1), "Biases usually stay in float32 (4 bytes each): they are few."),
        (want * 8, "That is a number of bits; the question asks for bytes."),
        (4 * (weights + units), "That is the float32 size of the model, before quantisation."),
        (8 * (weights + units), "That is the float64 size of the model, before quantisation."),
    ], rtol=0, atol=0)
    return False, hint or "Count the weights (1 byte each), then the biases and scales (4 bytes each), layer by layer."


def _quant_answer(answer):
    """(q as int array, scale, zero_point) from the reader's triple, or None."""
    if not isinstance(answer, (tuple, list)) or len(answer) != 3:
        return None
    q, scale, zero_point = answer
    q = np.asarray(q)
    if q.shape != QUANT_X.shape or q.dtype.kind not in "iuf" or not np.all(np.isfinite(q)):
        return None
    if not isinstance(scale, numbers.Real) or whole_number(zero_point) is None:
        return None
    return q.astype(np.int64), float(scale), whole_number(zero_point)


@checker("7.2")
def affine_4bit(answer):
    """Answer: (q, scale, zero_point) of QUANT_X in 4-bit affine quantisation."""
    got = _quant_answer(answer)
    if got is None:
        n = QUANT_X.shape[0]
        return False, f"Give a triple (q, scale, zero_point): q {n} integers, a scale, an integer zero point."
    q, scale, zero_point = got
    want_q, want_scale, want_zp = compress.quantize(QUANT_X, 4, "affine")
    scale_ok = np.isclose(scale, want_scale, rtol=_RTOL)
    if scale_ok and zero_point == want_zp and np.array_equal(q, want_q):
        return True, "Both ends of the range and zero itself land exactly on the integer grid."
    sym_scale = compress.choose_qparams(QUANT_X, 4, "symmetric")[0]
    if np.isclose(scale, sym_scale, rtol=_RTOL):
        return False, "That scale belongs to the symmetric scheme; affine spreads [min, max] over all 16 levels."
    if np.isclose(scale, (QUANT_X.max() - QUANT_X.min()) / 2**4, rtol=_RTOL):
        return False, "4 bits give 16 levels but only 15 steps between the lowest and the highest."
    if not scale_ok:
        return False, "The scale is off: it is the width of the range divided by the number of steps."
    if zero_point == -want_zp:
        return False, "The zero point has the wrong sign: it is the integer that represents 0.0, so it lies in [0, 15]."
    if zero_point != want_zp:
        return False, "The zero point is off: it is the integer that 0.0 maps to."
    floor_q = np.clip(np.floor(QUANT_X / want_scale) + want_zp, 0, 15)
    if np.array_equal(q, floor_q):
        return False, "Round to the nearest integer, not down."
    if np.array_equal(q, np.rint(QUANT_X / want_scale)):
        return False, "Add the zero point after rounding (and clamp to [0, 15])."
    return False, "Scale and zero point are right; recompute q = clamp(round(x / scale) + zero_point, 0, 15)."


@checker("7.3")
def global_pruning_survivors(answer):
    """Answer: (weights kept in PRUNE_W1, weights kept in PRUNE_W2) after global 50% magnitude pruning."""
    values = answer if isinstance(answer, (tuple, list)) else None
    got = None if values is None or len(values) != 2 else tuple(whole_number(v) for v in values)
    if got is None or None in got:
        return False, "Give a pair of whole numbers: (kept in PRUNE_W1, kept in PRUNE_W2)."
    masks = compress.global_magnitude_masks([PRUNE_W1, PRUNE_W2], 0.5)
    want = tuple(int(m.sum()) for m in masks)
    if got == want:
        return True, "One threshold for both layers: the layer with small weights loses most of them."
    per_layer = tuple(int(compress.magnitude_mask(w, 0.5).sum()) for w in (PRUNE_W1, PRUNE_W2))
    pruned = tuple(w.size - k for w, k in zip((PRUNE_W1, PRUNE_W2), want))
    hint = first_hint(got, [
        (per_layer, "That is per-layer pruning (half of each layer); global pruning uses one threshold for both."),
        (pruned, "Those are the numbers of pruned weights, or the survivors in the wrong order: "
                 "give the kept ones, W1 first."),
    ], rtol=0, atol=0)
    if hint:
        return False, hint
    total = PRUNE_W1.size + PRUNE_W2.size
    if sum(got) != total // 2:
        return False, "Half of all the weights survive in total: the two counts must add up to half of both layers together."
    return False, "Sort all 24 magnitudes together and cut at the median."


@checker("7.4")
def structured_multiply_adds(answer):
    """Answer: multiply-adds per example of the SIZES_74 MLP after removing REMOVED_74 of each hidden layer."""
    got = whole_number(answer)
    if got is None:
        return False, "Give one whole number of multiply-adds."
    dense = [a * b for a, b in zip(SIZES_74[:-1], SIZES_74[1:])]
    kept = [SIZES_74[0]] + [round(n * (1 - REMOVED_74)) for n in SIZES_74[1:-1]] + [SIZES_74[-1]]
    want = sum(a * b for a, b in zip(kept[:-1], kept[1:]))
    if got == want:
        return True, ("A hidden layer that loses units shrinks the matrix into it and the matrix out of it, "
                      "so the product between the two hidden layers shrinks on both sides.")
    rows_only = sum(a * b for a, b in zip(SIZES_74[:-1], kept[1:]))
    hint = first_hint(got, [
        (sum(dense), "That is the original network; the smaller one has fewer units to multiply."),
        (round(sum(dense) * (1 - REMOVED_74)),
         "Removing units shrinks a weight matrix on both sides when both of its layers lose units."),
        (rows_only, "A removed unit also removes its column of the next weight matrix (its outgoing weights)."),
        (want + sum(kept[1:]), "Count only the multiply-adds of the matrix products; the bias additions are extra."),
    ], rtol=0, atol=0)
    return False, hint or "Work out the new layer sizes first, then add up in × out over the three Linear layers."


@checker("7.5")
def soft_targets(answer):
    """Answer: a function soft_targets(logits, T) -> the teacher's probabilities at temperature T."""
    if not callable(answer):
        return False, "Give a function soft_targets(logits, T) that returns an (N, K) array."
    logits = np.random.default_rng(75).normal(0.0, 3.0, (6, 4))
    extreme = np.array([[1000.0, 0.0, -1000.0]])
    cases = ((logits, 1.0), (logits, 3.0), (extreme, 1.0))
    outputs, error = call(lambda: [np.asarray(answer(z, T), dtype=float) for z, T in cases], quiet=True)
    if error:
        return False, f"Calling your function failed: {error}"
    for got, T in zip(outputs, (1.0, 3.0)):
        want = softmax(logits / T, axis=1)
        if got.shape != want.shape:
            return False, f"The result must have the shape of the logits {logits.shape}, got {got.shape}."
        if close(got, want, rtol=1e-9):
            continue
        if np.allclose(got.sum(axis=0), 1.0) and not np.allclose(got.sum(axis=1), 1.0):
            return False, "Each row (one example) must sum to 1: take the softmax over the classes, axis 1."
        if T != 1 and np.allclose(got, softmax(logits, axis=1)):
            return False, "The temperature has no effect: divide the logits by T before the softmax."
        if T != 1 and np.allclose(got, softmax(logits * T, axis=1)):
            return False, "A higher temperature must soften the distribution: divide by T, do not multiply."
        if not np.allclose(got.sum(axis=1), 1.0):
            return False, "The rows do not sum to 1: normalise the exponentials."
        return False, f"At T = {T:g} the probabilities are off."
    if not np.all(np.isfinite(outputs[2])):
        return False, "Large logits (±1000) overflow: subtract each row's maximum before exponentiating."
    return True, "Higher T flattens the distribution, so the teacher's near-misses become visible."
