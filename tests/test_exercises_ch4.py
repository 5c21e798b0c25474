import re

import numpy as np
import pytest
import torch

from dlnotes.exercises import verdict
from dlnotes.exercises.ch4 import KL_P, KL_Q, LINE_X, LINE_Y, QUADRATIC_A


# 4.1 — reference computed with torch's eigenvalue routine, not the checker's
L_MAX = torch.linalg.eigvalsh(torch.from_numpy(QUADRATIC_A)).max().item()
L_MIN = torch.linalg.eigvalsh(torch.from_numpy(QUADRATIC_A)).min().item()


def test_4_1_accepts_two_over_L():
    ok, out = verdict("4.1", 2 / L_MAX)
    assert ok and "Exercise 4.1: correct." in out


@pytest.mark.parametrize(
    "answer, hint",
    [
        (1 / L_MAX, "not the largest"),
        (2 / L_MIN, "flattest direction"),
        (2 / (L_MAX + L_MIN), "fastest rate"),
        (2 / 4.0, "largest entry of A"),
        (0.9, "diverges"),
        (0.01, "still converges"),
        (0, "step size is positive"),
        (-0.4, "step size is positive"),
        ("0.4", "one finite real number"),
        ([0.1, 0.2], "one finite real number"),
    ],
)
def test_4_1_explains_typical_mistakes(answer, hint):
    ok, out = verdict("4.1", answer)
    assert not ok and "not yet." in out and hint in out
    assert f"{2 / L_MAX:.4f}" not in out  # the message must not give the answer away


# 4.2 — Polyak's parameters for κ = 100, written out by hand
LR_42 = 4 / (10 + 1) ** 2
BETA_42 = (9 / 11) ** 2


def test_4_2_accepts_polyak_parameters():
    ok, out = verdict("4.2", (LR_42, BETA_42))
    assert ok and "double root" in out
    # the praise explains without numbers: neither the tuned pair nor the rates it reaches
    for number in (LR_42, BETA_42, 9 / 11, 99 / 101):
        assert f"{number:.3f}" not in out


@pytest.mark.parametrize(
    "answer, hint",
    [
        ((BETA_42, LR_42), "wrong order"),
        ((LR_42, 9 / 11), "rate you hope to reach"),
        ((2 / 101, 0.0), "plain gradient descent"),
        ((0.01, 1.2), "0 ≤ momentum < 1"),
        ((0.01, 0.5), "rate of"),
        (0.03, "pair (lr, momentum)"),
    ],
)
def test_4_2_explains_typical_mistakes(answer, hint):
    ok, out = verdict("4.2", answer)
    assert not ok and hint in out


# 4.3 — torch's KL as the reference
def torch_kl(p, q):
    return torch.nn.functional.kl_div(torch.from_numpy(q).log(), torch.from_numpy(p), reduction="sum").item()


KL_PQ, KL_QP = torch_kl(KL_P, KL_Q), torch_kl(KL_Q, KL_P)


def test_4_3_accepts_both_directions():
    ok, out = verdict("4.3", (KL_PQ, KL_QP))
    assert ok and "not symmetric" in out


@pytest.mark.parametrize(
    "answer, hint",
    [
        ((KL_QP, KL_PQ), "wrong order"),
        ((KL_PQ / np.log(2), KL_QP / np.log(2)), "bits"),
        ((-KL_PQ, -KL_QP), "never negative"),
        ((KL_PQ, -0.1), "never negative"),
        ((0.1, 0.2), "Σ p log(p/q)"),
        ((np.nan, 0.2), "finite real numbers"),
    ],
)
def test_4_3_explains_typical_mistakes(answer, hint):
    ok, out = verdict("4.3", answer)
    assert not ok and hint in out


# 4.4 — least squares from torch.linalg.lstsq, residuals summed by hand
design = torch.stack([torch.from_numpy(LINE_X), torch.ones(LINE_X.size, dtype=torch.float64)], dim=1)
W44, B44 = torch.linalg.lstsq(design, torch.from_numpy(LINE_Y)[:, None]).solution.ravel().tolist()
SSE44 = float(np.sum((LINE_Y - W44 * LINE_X - B44) ** 2))
N44 = LINE_X.size


def test_4_4_accepts_the_mle():
    ok, out = verdict("4.4", (W44, B44, SSE44 / N44))
    assert ok


@pytest.mark.parametrize(
    "answer, hint",
    [
        ((W44, B44, SSE44 / (N44 - 2)), "That is the unbiased estimate"),
        ((W44, B44, SSE44 / (N44 - 1)), "does not give an unbiased estimate here"),
        ((W44, B44, np.sqrt(SSE44 / N44)), "That is s, a standard deviation"),
        ((W44, B44, SSE44), "sum of squared residuals"),
        ((W44, B44, 1.0), "s² is not"),
        ((2.0, 1.0, SSE44 / N44), "w and b are off"),
        ((W44, B44), "triple"),
    ],
)
def test_4_4_explains_typical_mistakes(answer, hint):
    ok, out = verdict("4.4", answer)
    assert not ok and hint in out


def test_4_4_does_not_call_n_minus_1_unbiased():
    """A two-parameter fit leaves n − 2 degrees of freedom: dividing by n − 1 is biased, and the
    checker must not say otherwise."""
    ok, out = verdict("4.4", (W44, B44, SSE44 / (N44 - 1)))
    assert not ok and "That is the unbiased" not in out and "n − 2" in out


def test_4_4_n_minus_2_is_the_unbiased_divisor():
    """The claim the 4.4 messages rest on, by simulation with torch: over many noise draws on
    LINE_X, SSE/(n − 2) averages to the true variance, SSE/(n − 1) and SSE/n fall short."""
    gen = torch.Generator().manual_seed(0)
    draws, s2 = 20_000, 0.25
    y = 2.0 * design[:, 0] + 1.0 + s2**0.5 * torch.randn(draws, N44, generator=gen, dtype=torch.float64)
    coef = torch.linalg.lstsq(design, y.T).solution                      # (2, draws)
    sse = ((y.T - design @ coef) ** 2).sum(dim=0)
    standard_error = (sse / (N44 - 2)).std().item() / draws**0.5
    assert abs((sse / (N44 - 2)).mean().item() - s2) < 4 * standard_error
    assert (sse / (N44 - 1)).mean().item() < s2 - 4 * standard_error


# 4.5 — the reference gradient comes from torch.autograd on z² with z = mu + sigma·eps
def autograd_reparam(mu, sigma, eps):
    tm = torch.tensor(mu, requires_grad=True)
    ts = torch.tensor(sigma, requires_grad=True)
    ((tm + ts * torch.from_numpy(eps)) ** 2).sum().backward()
    return tm.grad.numpy(), ts.grad.numpy()


def test_4_5_accepts_the_autograd_gradient():
    ok, out = verdict("4.5", autograd_reparam)
    assert ok


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda m, s, e: (2 * (m + s * e), 2 * (m + s * e)), "dz/ds is not 1"),
        (lambda m, s, e: (2 * m, 2 * s), "exact gradients"),
        (lambda m, s, e: (2 * (m + s * e), 2 * s * e), "d/ds is not"),
        (lambda m, s, e: (m + s * e, 2 * (m + s * e) * e), "d/dmu is not right"),
        (lambda m, s, e: (1.0, 2.0), "two arrays of shape (3,)"),
        (lambda m, s: (m, s), "failed: TypeError"),
        (0.5, "Give a function"),
    ],
)
def test_4_5_explains_typical_mistakes(answer, hint):
    ok, out = verdict("4.5", answer)
    assert not ok and hint in out


@pytest.mark.parametrize(
    "exercise_id, answer",
    [("4.1", 2 / L_MAX), ("4.2", (LR_42, BETA_42)), ("4.3", (KL_PQ, KL_QP)), ("4.4", (W44, B44, SSE44 / N44)),
     ("4.5", autograd_reparam)],
)
def test_praise_states_no_numbers(exercise_id, answer):
    """A correct answer is told why it is right, with no decimal number that could answer an exercise."""
    ok, out = verdict(exercise_id, answer)
    praise = out.split("correct.", 1)[1]
    assert ok and praise.strip() and not re.search(r"\d\.\d|\d{2,}", praise)
