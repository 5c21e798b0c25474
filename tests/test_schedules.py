"""dlnotes.schedules against torch.optim.lr_scheduler over 60 epochs (to 1e-12), the closed
forms against the schedulers, and bad arguments."""

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as T

from dlnotes import optim
from dlnotes import schedules as S
from testkit import raises_exactly

BASE_LR, EPOCHS = 0.3, 60

CASES = {
    "step": (lambda o: T.StepLR(o, step_size=7, gamma=0.5), lambda o: S.StepLR(o, step_size=7, gamma=0.5)),
    "multistep": (lambda o: T.MultiStepLR(o, milestones=[3, 10, 25], gamma=0.3),
                  lambda o: S.MultiStepLR(o, milestones=[3, 10, 25], gamma=0.3)),
    "exponential": (lambda o: T.ExponentialLR(o, gamma=0.93), lambda o: S.ExponentialLR(o, gamma=0.93)),
    "cosine": (lambda o: T.CosineAnnealingLR(o, T_max=20, eta_min=0.01),
               lambda o: S.CosineAnnealingLR(o, T_max=20, eta_min=0.01)),
    "cosine_to_zero": (lambda o: T.CosineAnnealingLR(o, T_max=EPOCHS), lambda o: S.CosineAnnealingLR(o, T_max=EPOCHS)),
    "linear": (lambda o: T.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=10),
               lambda o: S.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=10)),
    "linear_default": (lambda o: T.LinearLR(o), lambda o: S.LinearLR(o)),
    "warmup_cosine": (
        lambda o: T.SequentialLR(o, [T.LinearLR(o, start_factor=0.1, total_iters=5),
                                     T.CosineAnnealingLR(o, T_max=EPOCHS - 5, eta_min=0.001)], milestones=[5]),
        lambda o: S.WarmupCosineLR(o, warmup_epochs=5, total_epochs=EPOCHS, start_factor=0.1, eta_min=0.001)),
}


def lr_curves(make_torch, make_ours):
    """Learning rates seen at epochs 0 … EPOCHS−1 by a torch optimiser and a dlnotes one."""
    p = torch.zeros(1, requires_grad=True)
    torch_opt = torch.optim.SGD([p], lr=BASE_LR)
    torch_sched = make_torch(torch_opt)
    ours_opt = optim.SGD([np.zeros(1)], lr=BASE_LR)
    ours_sched = make_ours(ours_opt)
    theirs, ours, last = [], [], []
    for _ in range(EPOCHS):
        theirs.append(torch_opt.param_groups[0]["lr"])
        ours.append(ours_opt.lr)
        last.append((torch_sched.get_last_lr()[0], ours_sched.get_last_lr()))
        torch_opt.step()
        torch_sched.step()
        ours_sched.step()
    return np.array(theirs), np.array(ours), np.array(last), ours_sched


@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name):
    theirs, ours, last, sched = lr_curves(*CASES[name])
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12 * BASE_LR)
    np.testing.assert_allclose(last[:, 1], last[:, 0], rtol=0, atol=1e-12 * BASE_LR)
    np.testing.assert_array_equal(ours, last[:, 1])
    # the closed form, called on the whole range at once, is what the scheduler applied
    np.testing.assert_array_equal(sched.lr_at(np.arange(EPOCHS)), ours)
    assert sched.last_epoch == EPOCHS and sched.base_lr == BASE_LR
    assert np.ptp(ours) > 0.05  # the curve really moves


def test_closed_forms_by_hand():
    assert S.step_lr(14, 1.0, 7, 0.5) == 0.25            # two decays
    assert S.multistep_lr(10, 1.0, [3, 10], 0.1) == pytest.approx(0.01)  # both milestones passed
    assert S.exponential_lr(0, 2.0, 0.9) == 2.0
    assert S.cosine_annealing_lr(10, 1.0, 20, 0.2) == pytest.approx(0.6)  # halfway: the mean
    assert S.cosine_annealing_lr(20, 1.0, 20, 0.2) == pytest.approx(0.2)
    assert S.linear_lr(100, 1.0, 0.5, 1.0, 4) == 1.0     # flat after total_iters
    assert S.warmup_cosine_lr(0, 1.0, 4, 10, 0.25) == 0.25 and S.warmup_cosine_lr(4, 1.0, 4, 10, 0.25) == 1.0
    assert isinstance(S.step_lr(3, 1.0, 2), float)
    assert S.step_lr(np.arange(5), 1.0, 2).shape == (5,)


def test_bad_arguments():
    opt = optim.SGD([np.zeros(1)], lr=0.1)
    with raises_exactly(ValueError, "step_lr: epoch must be an integer >= 0 (or an array of them), got -1"):
        S.step_lr(-1, 0.1, 3)
    with raises_exactly(ValueError, "step_lr: epoch must be an integer >= 0 (or an array of them), got 1.5"):
        S.step_lr(1.5, 0.1, 3)
    with raises_exactly(ValueError, "exponential_lr: gamma must be in (0.0, inf], got 0.0"):
        S.ExponentialLR(opt, gamma=0.0)
    with raises_exactly(ValueError, "multistep_lr: milestones must be increasing integers >= 1, got [5, 3]"):
        S.MultiStepLR(opt, milestones=[5, 3])
    with raises_exactly(ValueError, "cosine_annealing_lr: T_max must be >= 1, got 0"):
        S.CosineAnnealingLR(opt, T_max=0)
    with raises_exactly(ValueError, "linear_lr: start_factor must be in (0.0, 1.0], got 0.0"):
        S.LinearLR(opt, start_factor=0.0)
    with raises_exactly(ValueError, "warmup_cosine_lr: total_epochs must be >= 6, got 5"):
        S.WarmupCosineLR(opt, warmup_epochs=5, total_epochs=5)
    with raises_exactly(TypeError, "StepLR: optimizer must have an lr attribute, got list"):
        S.StepLR([np.zeros(1)], step_size=2)
