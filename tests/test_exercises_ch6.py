"""Chapter 6 checkers: reference answers computed with torch (not with the checkers' own code)
are accepted, typical mistakes are explained, and no message gives the answer away."""

import numpy as np
import pytest
import torch
from torch import nn

from dlnotes.exercises import verdict
from dlnotes.exercises.ch6 import (ATTN_67, BLOCK_66, CONV_61, CONV_62, GRU_64, KL_LOGVAR, KL_MU, STACK_63,
                                   attention_67, gru_64)


def assert_rejected(exercise_id, answer, hint, secret=None):
    ok, out = verdict(exercise_id, answer)
    assert not ok and f"Exercise {exercise_id}: not yet." in out and hint in out
    if secret is not None:
        assert secret not in out  # the message must not give the answer away


# --- 6.1: the shape torch's Conv2d produces ----------------------------------------------------

def torch_out_shape(**overrides):
    c = {**CONV_61, **overrides}
    conv = nn.Conv2d(1, 1, c["kernel_size"], c["stride"], c["padding"], c["dilation"])
    return tuple(conv(torch.zeros(1, 1, c["height"], c["width"])).shape[2:])


H61, W61 = torch_out_shape()


def test_6_1_accepts_torch_shape():
    ok, out = verdict("6.1", (H61, W61))
    assert ok and "Exercise 6.1: correct." in out
    assert verdict("6.1", np.array([H61, W61]))[0]


@pytest.mark.parametrize(
    "answer, hint",
    [
        (torch_out_shape(dilation=1), "dilation"),
        ((H61 - 1, W61 - 1), "Off by one"),
        ((W61, H61), "wrong order"),
        (torch_out_shape(stride=1), "stride is missing"),
        ((H61 + 50, W61), "Not these sizes"),
        ((float(H61), float(W61)), "pair of integers"),
        (H61, "pair of integers"),
    ],
)
def test_6_1_explains_mistakes(answer, hint):
    assert_rejected("6.1", answer, hint, secret=f"({H61}, {W61})")


def test_6_1_catches_rounding_up_and_one_sided_padding():
    c = CONV_61
    span = c["dilation"] * (c["kernel_size"] - 1) + 1
    ceil = tuple(-(-(n + 2 * c["padding"] - span) // c["stride"]) + 1 for n in (c["height"], c["width"]))
    assert_rejected("6.1", ceil, "round the division down")
    one_side = tuple((n + c["padding"] - span) // c["stride"] + 1 for n in (c["height"], c["width"]))
    assert_rejected("6.1", one_side, "both sides")


# --- 6.2: parameter counts from torch modules --------------------------------------------------

def n_params(module):
    return sum(p.numel() for p in module.parameters())


C_IN, C_OUT, K, S = (CONV_62[k] for k in ("in_channels", "out_channels", "kernel_size", "image_size"))
with torch.device("meta"):  # shapes only: the dense layer would hold 50M floats
    CONV = n_params(nn.Conv2d(C_IN, C_OUT, K, padding=K // 2))
    DENSE = n_params(nn.Linear(C_IN * S * S, C_OUT * S * S))
    DENSE_NO_BIAS = n_params(nn.Linear(C_IN * S * S, C_OUT * S * S, bias=False))


def test_6_2_accepts_torch_counts():
    ok, out = verdict("6.2", (CONV, DENSE))
    assert ok and "Exercise 6.2: correct." in out


@pytest.mark.parametrize(
    "answer, hint",
    [
        ((C_OUT * K * K + C_OUT, DENSE), "all input channels"),
        ((CONV - C_OUT, DENSE), "one bias per output channel"),
        ((C_IN * K * K + C_OUT, DENSE), "one C_in × k × k kernel per output channel"),
        ((CONV + 1, DENSE), "The conv count is off"),
        ((CONV, DENSE_NO_BIAS), "one bias per output unit"),
        ((CONV, C_IN * S * S * C_OUT + C_OUT), "whole flattened"),
        ((CONV, DENSE + 7), "one weight per (input unit, output unit) pair"),
        ((DENSE, CONV), "wrong order"),
        ((CONV,), "pair of integers"),
    ],
)
def test_6_2_explains_mistakes(answer, hint):
    assert_rejected("6.2", answer, hint, secret=f"{CONV}")


# --- 6.3: receptive field measured with torch autograd -----------------------------------------

def torch_stack(stack, use_dilation=True):
    layers = []
    for kind, k, s, d in stack:
        if kind == "conv":
            layers.append(nn.Conv2d(1, 1, k, s, dilation=d if use_dilation else 1, bias=False))
        else:  # the max-pool's window: average pooling has the same geometry and passes gradient to all of it
            layers.append(nn.AvgPool2d(k, s))
    return nn.Sequential(*layers).double()


def measured_field(stack):
    """Width of the set of input pixels that reach the centre output pixel (all-positive weights
    and inputs, so no gradient cancels)."""
    net = torch_stack(stack)
    for p in net.parameters():
        nn.init.constant_(p, 1.0)
    x = torch.rand(1, 1, 64, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) + 1.0
    x.requires_grad_(True)
    y = net(x)
    y[0, 0, y.shape[2] // 2, y.shape[3] // 2].backward()
    cols = torch.nonzero(x.grad[0, 0].abs().sum(0)).flatten()
    return int(cols.max() - cols.min() + 1)


FIELD = measured_field(STACK_63)


def test_6_3_accepts_measured_field():
    ok, out = verdict("6.3", FIELD)
    assert ok and "Exercise 6.3: correct." in out


def test_6_3_explains_mistakes():
    undilated = [(kind, k, s, 1) for kind, k, s, _ in STACK_63]
    summed = 1 + sum(d * (k - 1) for _, k, _, d in STACK_63)  # the strides forgotten
    assert_rejected("6.3", measured_field(undilated), "dilated", secret=str(FIELD))
    assert_rejected("6.3", summed, "Strides below a layer multiply", secret=str(FIELD))
    assert_rejected("6.3", FIELD - 1, "Off by one")
    assert_rejected("6.3", FIELD + 7, "Grow the field layer by layer")
    assert_rejected("6.3", "23", "one integer")


# --- 6.4: the GRU candidate, read off torch's GRUCell with the update gate shut --------------

def torch_candidate(gru, x, h):
    """With z ≡ 0 (its bias −∞ in effect) torch's h_t = (1 − z) n + z h_{t−1} is exactly n."""
    cell = nn.GRUCell(gru.input_size, gru.hidden_size).double()
    size = gru.hidden_size
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(torch.from_numpy(gru.params[name + "_l0"]))
        cell.bias_ih[size:2 * size] = -1e4  # σ(−1e4) = 0 in float64
        return cell(torch.from_numpy(x), torch.from_numpy(h)).numpy()


def test_6_4_accepts_torch_candidate():
    gru, x, h = gru_64()
    expected = torch_candidate(gru, x, h)
    ok, out = verdict("6.4", lambda *_: expected)
    assert ok and "Exercise 6.4: correct." in out
    assert expected.shape == (GRU_64["batch"], GRU_64["hidden_size"])


def blocks(gru):
    size = gru.hidden_size
    p = gru.params
    return [tuple(p[name][k * size:(k + 1) * size] for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                                                   "bias_hh_l0")) for k in range(3)]


def sigma(a):
    return 1 / (1 + np.exp(-a))


def cho(gru, x, h):
    """Cho et al.'s original candidate: the reset gate applied to h before the product."""
    (wr, ur, br, cr), _, (wn, un, bn, cn) = blocks(gru)
    r = sigma(x @ wr.T + br + h @ ur.T + cr)
    return np.tanh(x @ wn.T + bn + (r * h) @ un.T + cn)


def swapped_gates(gru, x, h):
    """The update gate z used where torch uses the reset gate."""
    _, (wz, uz, bz, cz), (wn, un, bn, cn) = blocks(gru)
    z = sigma(x @ wz.T + bz + h @ uz.T + cz)
    return np.tanh(x @ wn.T + bn + z * (h @ un.T + cn))


@pytest.mark.parametrize(
    "answer, hint",
    [
        (cho, "Cho et al. (2014)"),
        (swapped_gates, "update gate z"),
        (lambda gru, x, h: torch_candidate(gru, x, h) + 0.1, "Not the candidate"),
        (lambda gru, x, h: torch_candidate(gru, x, h)[:, :2], "shape (5, 4)"),
        (lambda gru, x, h: 1 / 0, "ZeroDivisionError"),
        (np.zeros((5, 4)), "Give a function"),
    ],
)
def test_6_4_explains_mistakes(answer, hint):
    assert_rejected("6.4", answer, hint)


def test_6_4_catches_the_bias_and_the_nonlinearity():
    def bias_outside(gru, x, h):
        (wr, ur, br, cr), _, (wn, un, bn, cn) = blocks(gru)
        r = sigma(x @ wr.T + br + h @ ur.T + cr)
        return np.tanh(x @ wn.T + bn + r * (h @ un.T) + cn)

    assert_rejected("6.4", bias_outside, "multiplies b_hn as well")
    assert_rejected("6.4", lambda gru, x, h: sigma(np.arctanh(torch_candidate(gru, x, h))), "tanh, not σ")


# --- 6.5: KL divergence from torch.distributions ----------------------------------------------

def torch_kl(mu, logvar):
    q = torch.distributions.Normal(torch.from_numpy(mu), torch.from_numpy(np.exp(0.5 * logvar)))
    prior = torch.distributions.Normal(torch.zeros(mu.shape, dtype=torch.float64), 1.0)
    return torch.distributions.kl_divergence(q, prior).sum(-1).numpy()


KL = torch_kl(KL_MU, KL_LOGVAR)


def test_6_5_accepts_torch_kl():
    ok, out = verdict("6.5", torch_kl)
    assert ok and "Exercise 6.5: correct." in out
    assert KL[0] == 0 and np.all(KL[1:] > 0)


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda mu, lv: -torch_kl(mu, lv), "never negative"),
        (lambda mu, lv: 2 * torch_kl(mu, lv), "1/2"),
        (lambda mu, lv: torch_kl(mu, lv) / mu.shape[1], "do not average"),
        (lambda mu, lv: torch_kl(mu, 2 * lv), "log of the variance s², not of s"),
        (lambda mu, lv: torch_kl(mu, lv).mean(), "not a single number"),
        (lambda mu, lv: torch_kl(mu, lv)[:, None] * np.ones(3), "shape (4,)"),
        (lambda mu, lv: torch_kl(mu, lv) + 0.1, "Not these values"),
        ("kl", "Give a function"),
    ],
)
def test_6_5_explains_mistakes(answer, hint):
    assert_rejected("6.5", answer, hint)


# --- 6.6: the parameter count torch reports ---------------------------------------------------

def torch_block_count(**overrides):
    c = {**BLOCK_66, **overrides}
    block = nn.TransformerEncoderLayer(c["d_model"], c["nhead"], c["dim_feedforward"], batch_first=True)
    return sum(p.numel() for p in block.parameters())


def test_6_6_accepts_torch_count_and_leaks_nothing():
    count = torch_block_count()
    ok, out = verdict("6.6", count)
    assert ok and "Exercise 6.6: correct." in out and str(count) not in out and f"{count:,}" not in out
    assert not verdict("6.6", count + 1)[0]


def test_6_6_explains_the_usual_slips():
    e, h = BLOCK_66["d_model"], BLOCK_66["nhead"]
    count = torch_block_count()
    assert_rejected("6.6", count - 4 * e, "layer norms")
    assert_rejected("6.6", count - 2 * e, "two layer norms")
    assert_rejected("6.6", count - (e * e + e), "output projection")
    assert_rejected("6.6", count + (h - 1) * (4 * e * e + 4 * e), "Heads do not multiply")
    assert_rejected("6.6", "many", "one integer")


# --- 6.7: causal attention equal to torch's ----------------------------------------------------

def torch_causal(q, k, v):
    out = torch.nn.functional.scaled_dot_product_attention(
        *(torch.from_numpy(a)[None] for a in (q, k, v)), is_causal=True)
    return out[0].numpy()


def test_6_7_accepts_a_torch_based_answer():
    ok, out = verdict("6.7", torch_causal)
    assert ok and "Exercise 6.7: correct." in out
    q, k, v = attention_67()
    assert q.shape == (ATTN_67["length"], ATTN_67["d_k"]) and v.shape[1] == ATTN_67["d_v"]


def test_6_7_explains_the_usual_slips():
    def unscaled(q, k, v):
        return torch_causal(q * np.sqrt(q.shape[1]), k, v)

    def unmasked(q, k, v):
        out = torch.nn.functional.scaled_dot_product_attention(*(torch.from_numpy(a)[None] for a in (q, k, v)))
        return out[0].numpy()

    def reversed_mask(q, k, v):  # block the past instead of the future: attend to keys s >= t
        flip = slice(None, None, -1)
        return torch_causal(*(a[flip].copy() for a in (q, k, v)))[flip]

    assert_rejected("6.7", unscaled, "√d_k")
    assert_rejected("6.7", unmasked, "mask is missing")
    assert_rejected("6.7", reversed_mask, "wrong way round")
    assert_rejected("6.7", lambda q, k, v: v[:2], "shape")
    assert_rejected("6.7", 3, "function")
