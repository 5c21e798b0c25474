"""Checkers of chapter 7: the reference answers pass, the usual mistakes get their hint, and no
message gives the answer away. References are computed here independently (torch, or by hand)."""

import re
import warnings

import numpy as np
import pytest
import torch
from torch.nn.utils import prune

from dlnotes.exercises import verdict
from dlnotes.exercises.ch7 import PRUNE_W1, PRUNE_W2, QUANT_X, REMOVED_74, SIZES_71, SIZES_74


def test_sizes_are_the_ones_the_references_assume():
    assert SIZES_71 == (64, 128, 128, 10) and SIZES_74 == (64, 128, 128, 10) and REMOVED_74 == 0.75


# 7.1 — by hand: weights 64·128 + 128·128 + 128·10 = 25856 int8 bytes; 266 biases and 266
# scales at 4 bytes each add 2128
SIZE_71 = 25856 + 4 * 266 + 4 * 266

# 7.2 — torch's quantiser with the scale and zero point worked out by hand:
# scale = (1.2 − (−0.6)) / 15 = 0.12, zero_point = 0 − round(−0.6 / 0.12) = 5 (all q lie in [0, 15],
# so torch's 8-bit clamp does not interfere)
SCALE_72, ZP_72 = 0.12, 5
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # quantized dtypes are deprecated; the arithmetic is not
    Q_72 = torch.quantize_per_tensor(torch.tensor(QUANT_X, dtype=torch.float32), SCALE_72, ZP_72,
                                     torch.quint8).int_repr().numpy().astype(np.int64)


# 7.3 — torch's global pruning on the two layers
def kept_by_torch_global():
    layers = [torch.nn.Linear(4, 3, bias=False).double(), torch.nn.Linear(4, 3, bias=False).double()]
    for layer, w in zip(layers, (PRUNE_W1, PRUNE_W2)):
        layer.weight.data = torch.tensor(w)
    prune.global_unstructured([(m, "weight") for m in layers], pruning_method=prune.L1Unstructured, amount=0.5)
    return tuple(int(m.weight_mask.sum()) for m in layers)


KEPT_73 = kept_by_torch_global()

# 7.4 — by hand: sizes become 64, 32, 32, 10 → 64·32 + 32·32 + 32·10 = 3392
MACS_74 = 64 * 32 + 32 * 32 + 32 * 10


# 7.5 — the reference is torch's softmax
def reference_soft_targets(logits, T):
    return torch.softmax(torch.from_numpy(np.asarray(logits, dtype=float)) / T, dim=1).numpy()


def naive_soft_targets(logits, T):
    e = np.exp(np.asarray(logits) / T)
    return e / e.sum(axis=1, keepdims=True)


def broken(logits, T):
    raise KeyError("oops")


def test_reference_values():
    np.testing.assert_array_equal(Q_72, [0, 4, 5, 8, 15])
    assert KEPT_73 == (10, 2)  # by hand: the 12 smallest of the 24 magnitudes are .05, .2 and ten of W2


@pytest.mark.parametrize(
    "exercise_id, answer",
    [
        ("7.1", SIZE_71),
        ("7.2", (Q_72, SCALE_72, ZP_72)),
        ("7.2", (Q_72.tolist(), np.float64(SCALE_72), np.int64(ZP_72))),
        ("7.3", KEPT_73),
        ("7.3", [np.int64(10), 2.0]),
        ("7.4", MACS_74),
        ("7.5", reference_soft_targets),
    ],
)
def test_reference_answers_pass(exercise_id, answer):
    ok, out = verdict(exercise_id, answer)
    assert ok and f"Exercise {exercise_id}: correct." in out


def test_correct_answers_are_explained_without_numbers():
    # a number in the praise could answer another exercise or restate a figure of the chapter
    for exercise_id, answer in [("7.1", SIZE_71), ("7.2", (Q_72, SCALE_72, ZP_72)), ("7.3", KEPT_73),
                                ("7.4", MACS_74), ("7.5", reference_soft_targets)]:
        ok, out = verdict(exercise_id, answer)
        praise = out.split("correct.", 1)[1]
        assert ok and praise.strip() and not re.findall(r"(?<![\w.])\d+(?:\.\d+)?", praise), out


# what a wrong-answer message must never contain: the answer itself
SECRETS = {"7.1": [str(SIZE_71)], "7.2": ["[0, 4, 5, 8, 15]", "0.12"], "7.3": ["(10, 2)"], "7.4": [str(MACS_74)],
           "7.5": []}

MISTAKES = [
    ("7.1", 25856, "biases and the per-channel scales"),
    ("7.1", 25856 + 4 * 266, "One group of float32 numbers is missing"),
    ("7.1", 25856 + 4 * 266 + 4 * 3, "one scale per output row"),
    ("7.1", 25856 + 266 + 4 * 266, "Biases usually stay in float32"),
    ("7.1", 8 * SIZE_71, "number of bits"),
    ("7.1", 4 * (25856 + 266), "float32 size"),
    ("7.1", 8 * (25856 + 266), "float64 size"),
    ("7.1", 12345, "Count the weights"),
    ("7.1", 2.5, "whole number"),
    ("7.1", "27984", "whole number"),
    ("7.2", (np.array([-4, -1, 0, 2, 7]), 1.2 / 7.5, 0), "symmetric scheme"),
    ("7.2", (Q_72, 1.8 / 16, ZP_72), "only 15 steps"),
    ("7.2", (Q_72, 0.2, ZP_72), "The scale is off"),
    ("7.2", (Q_72, SCALE_72, -5), "wrong sign"),
    ("7.2", (Q_72, SCALE_72, 4), "zero point is off"),
    ("7.2", (np.clip(np.floor(QUANT_X / SCALE_72) + ZP_72, 0, 15), SCALE_72, ZP_72), "not down"),
    ("7.2", (np.rint(QUANT_X / SCALE_72), SCALE_72, ZP_72), "Add the zero point"),
    ("7.2", (np.array([0, 4, 5, 9, 15]), SCALE_72, ZP_72), "recompute q"),
    ("7.2", (Q_72, SCALE_72), "triple"),
    ("7.2", (Q_72[:3], SCALE_72, ZP_72), "triple"),
    ("7.2", (Q_72, SCALE_72, 5.5), "triple"),
    ("7.3", (6, 6), "per-layer pruning"),
    ("7.3", (2, 10), "pruned weights"),
    ("7.3", (9, 2), "add up to half of both layers"),
    ("7.3", (8, 4), "Sort all 24"),
    ("7.3", (10,), "pair of whole numbers"),
    ("7.3", (10.5, 1.5), "pair of whole numbers"),
    ("7.3", 12, "pair of whole numbers"),
    ("7.4", 25856, "the original network"),
    ("7.4", 6464, "both sides"),
    ("7.4", 64 * 32 + 128 * 32 + 128 * 10, "its column of the next weight matrix"),
    ("7.4", MACS_74 + 74, "bias additions"),
    ("7.4", 1000, "new layer sizes"),
    ("7.4", None, "whole number"),
    ("7.5", naive_soft_targets, "overflow"),
    ("7.5", lambda z, T: reference_soft_targets(z, 1.0), "divide the logits by T"),
    ("7.5", lambda z, T: reference_soft_targets(z * T * T, T), "do not multiply"),
    ("7.5", lambda z, T: torch.softmax(torch.from_numpy(z) / T, dim=0).numpy(), "axis 1"),
    ("7.5", lambda z, T: np.exp(z / T), "normalise"),
    ("7.5", lambda z, T: reference_soft_targets(z, T).T, "shape of the logits"),
    ("7.5", lambda z, T: reference_soft_targets(z, 1.3 * T), "probabilities are off"),
    ("7.5", broken, "KeyError"),
    ("7.5", "softmax", "Give a function"),
]


@pytest.mark.parametrize("exercise_id, answer, hint", MISTAKES)
def test_typical_mistakes_get_their_hint(exercise_id, answer, hint):
    ok, out = verdict(exercise_id, answer)
    assert not ok and f"Exercise {exercise_id}: not yet." in out and hint in out
    assert not any(secret in out for secret in SECRETS[exercise_id])
