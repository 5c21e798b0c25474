"""Chapter 5 checkers: the reference solutions pass, typical mistakes get the matching hint.

The references are computed with PyTorch (autograd, torch.optim, nn.BatchNorm1d, nn.init) or by
hand in a comment, never by the checker's own code.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlnotes.exercises import verdict
from dlnotes.exercises.ch5 import (
    ADAM_GRADS, ADAM_LR, ADAM_START, BN_BATCH, BN_MOMENTUM, HE_SHAPE, SMOOTHING_EPS, SMOOTHING_K, TANH_X,
)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def tanh_slope(x):
    """5.1 by hand: d/dx [2σ(2x) − 1] = 4σ(2x)(1 − σ(2x))."""
    return 4 * sigmoid(2 * x) * (1 - sigmoid(2 * x))


GAP = math.log(0.91 / 0.01)  # 5.2 by hand: q_y = 1 − ε + ε/K = 0.91, q_k = ε/K = 0.01
HE = math.sqrt(2 / 64)  # 5.4 by hand: gain √2 over √fan_in, fan_in = 64 for a (32, 64) weight


def torch_adam(**kwargs):
    theta = torch.tensor(ADAM_START, requires_grad=True)
    opt = torch.optim.Adam([theta], lr=ADAM_LR, **kwargs)
    for g in ADAM_GRADS:
        theta.grad = torch.from_numpy(g.copy())
        opt.step()
    return theta.detach().numpy()


def adam_by_hand(correct_m, correct_v):
    theta, m, v = ADAM_START.copy(), np.zeros(2), np.zeros(2)
    for t, g in enumerate(ADAM_GRADS, start=1):
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g**2
        m_hat = m / (1 - 0.9**t) if correct_m else m
        v_hat = v / (1 - 0.999**t) if correct_v else v
        theta = theta - ADAM_LR * m_hat / (np.sqrt(v_hat) + 1e-8)
    return theta


def torch_running_var():
    bn = torch.nn.BatchNorm1d(BN_BATCH.shape[1], momentum=BN_MOMENTUM).double().train()
    bn(torch.from_numpy(BN_BATCH))
    return bn.running_var.numpy()


# --- the hand-written references agree with PyTorch


def test_5_1_reference_is_the_autograd_slope():
    x = torch.from_numpy(TANH_X).requires_grad_(True)
    torch.tanh(x).sum().backward()
    np.testing.assert_allclose(tanh_slope(TANH_X), x.grad.numpy(), rtol=1e-12)


def test_5_2_hand_value_is_the_torch_optimum():
    """Minimise nn.CrossEntropyLoss(label_smoothing=ε) over one logit vector with LBFGS."""
    z = torch.zeros(1, SMOOTHING_K, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([z], lr=1, max_iter=200, tolerance_grad=1e-14, tolerance_change=1e-16)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(z, torch.tensor([0]), label_smoothing=SMOOTHING_EPS)
        loss.backward()
        return loss

    opt.step(closure)
    assert (z[0, 0] - z[0, 1]).item() == pytest.approx(GAP, rel=1e-6)


def test_5_3_by_hand_formula_is_torch_adam():
    np.testing.assert_allclose(adam_by_hand(True, True), torch_adam(), rtol=1e-12)


def test_5_4_hand_value_matches_torch_init():
    torch.manual_seed(0)
    w = torch.empty(400 * HE_SHAPE[0], HE_SHAPE[1], dtype=torch.float64)
    torch.nn.init.kaiming_normal_(w, nonlinearity="relu")  # same fan_in = 64
    assert w.std().item() == pytest.approx(HE, rel=0.01)


# --- the checkers


REFERENCES = {"5.1": tanh_slope, "5.2": GAP, "5.3": torch_adam(), "5.4": HE, "5.5": torch_running_var()}


@pytest.mark.parametrize("exercise_id", sorted(REFERENCES))
def test_accepts_the_reference(exercise_id):
    ok, out = verdict(exercise_id, REFERENCES[exercise_id])
    assert ok and f"Exercise {exercise_id}: correct." in out


MISTAKES = [
    ("5.1", lambda x: tanh_slope(x) / 2, "second factor 2"),
    ("5.1", lambda x: tanh_slope(x) / 4, "Two factors of 2"),
    ("5.1", lambda x: sigmoid(x) * (1 - sigmoid(x)), "That is σ′(x)"),
    ("5.1", lambda x: 2 * sigmoid(2 * x) - 1, "tanh itself"),
    ("5.1", lambda x: -tanh_slope(x), "Not tanh′"),
    ("5.1", lambda x: np.ones(3), "shape (17,)"),
    ("5.1", lambda x: 1 / 0, "ZeroDivisionError"),
    ("5.1", 0.5, "Give a function"),
    ("5.2", math.log(0.9 / 0.01), "also receives its share"),
    ("5.2", math.log(0.9 / 0.1), "each wrong class gets ε/K"),
    ("5.2", math.log(0.91 / (0.1 / 9)), "the true one included"),
    ("5.2", 91.0, "its logarithm"),
    ("5.2", 1.0, "Not this gap"),
    ("5.2", float("inf"), "one finite number"),
    ("5.2", "4.5", "one finite number"),
    ("5.3", ADAM_START, "did not move"),
    ("5.3", 2 * ADAM_START - torch_adam(), "sign is flipped"),
    ("5.3", adam_by_hand(False, False), "Without bias correction"),
    ("5.3", adam_by_hand(True, False), "second moment needs its bias correction"),
    ("5.3", adam_by_hand(False, True), "first moment needs its bias correction"),
    ("5.3", ADAM_START - ADAM_LR * ADAM_GRADS.sum(axis=0), "plain SGD"),
    ("5.3", torch_adam(amsgrad=True) + 0.01, "Not θ after three Adam steps"),
    ("5.3", [1.0, 2.0, 3.0], "2 finite numbers"),
    ("5.3", ["a", "b"], "2 finite numbers"),
    ("5.4", math.sqrt(2 / 32), "fan_out"),
    ("5.4", math.sqrt(2 / 96), "Xavier"),
    ("5.4", 2 / 64, "variance"),
    ("5.4", 1 / 8, "factor 2"),
    ("5.4", 1 / math.sqrt(3 * 64), "torch's default Linear init"),
    ("5.4", 0.01, "Not He's standard deviation"),
    ("5.4", [0.1, 0.2], "one finite number"),
    ("5.5", 0.9 + 0.1 * BN_BATCH.var(axis=0), "unbiased variance"),
    ("5.5", 0.1 + 0.9 * BN_BATCH.var(axis=0, ddof=1), "weights are swapped"),
    ("5.5", BN_BATCH.var(axis=0, ddof=1), "batch's variance alone"),
    ("5.5", BN_BATCH.var(axis=0), "biased variance alone"),
    ("5.5", 0.9 + 0.1 * BN_BATCH.std(axis=0, ddof=1), "standard deviations"),
    ("5.5", np.ones(3), "Not the running variance"),
    ("5.5", np.ones(4), "3 finite numbers"),
]


@pytest.mark.parametrize("exercise_id, answer, hint", MISTAKES)
def test_explains_typical_mistakes(exercise_id, answer, hint):
    ok, out = verdict(exercise_id, answer)
    assert not ok and f"Exercise {exercise_id}: not yet." in out and hint in out
    reference = REFERENCES[exercise_id]
    if isinstance(reference, float):  # the message must not give the number away
        assert f"{reference:.3f}" not in out
