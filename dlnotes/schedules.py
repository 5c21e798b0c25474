"""Learning-rate schedules: the closed-form curves and small schedulers that apply them.

Each function gives the learning rate at an epoch (an int or an array of ints, so a whole
curve is one call) from the base rate η₀:

    step_lr                η₀ · γ^⌊e / step_size⌋
    multistep_lr           η₀ · γ^(number of milestones ≤ e)
    exponential_lr         η₀ · γ^e
    cosine_annealing_lr    η_min + (η₀ − η_min) · (1 + cos(π e / T_max)) / 2
    linear_lr              η₀ · (s + (f − s) · min(e, total_iters) / total_iters)
    warmup_cosine_lr       linear warm-up from s·η₀ over w epochs, then cosine from η₀ to η_min
                           over the remaining total_epochs − w epochs

A scheduler wraps an optimiser (anything with an ``lr`` attribute, e.g. ``dlnotes.optim.SGD``):
it reads η₀ from ``optimizer.lr`` when built, sets ``optimizer.lr`` to the epoch-0 value, and
each ``step()`` (call it once per epoch, after the epoch's updates) moves to the next epoch:

    sched = CosineAnnealingLR(opt, T_max=50)
    for epoch in range(50):
        train_one_epoch(opt)
        sched.step()

The values match torch.optim.lr_scheduler (StepLR, MultiStepLR, ExponentialLR,
CosineAnnealingLR, LinearLR, and SequentialLR of LinearLR then CosineAnnealingLR) to 1e-12.
"""

from collections.abc import Iterable

import numpy as np

from dlnotes._checks import check_int, check_real


def _epochs(epoch, where):
    """The epoch(s) as an int64 array, each ≥ 0."""
    e = np.asarray(epoch)
    if e.dtype.kind not in "iu" or np.any(e < 0):
        raise ValueError(f"{where}: epoch must be an integer >= 0 (or an array of them), got {epoch!r}")
    return e.astype(np.int64)


def _result(lr):
    """A float for a single epoch, an array for an array of epochs."""
    return float(lr) if np.ndim(lr) == 0 else lr


def step_lr(epoch, base_lr, step_size, gamma=0.1):
    """η₀ · γ^⌊e / step_size⌋: multiply by γ every ``step_size`` epochs (torch StepLR)."""
    e = _epochs(epoch, "step_lr")
    base_lr = check_real(base_lr, "base_lr", "step_lr", low=0.0)
    step_size = check_int(step_size, "step_size", "step_lr", low=1)
    gamma = check_real(gamma, "gamma", "step_lr", low=0.0, low_open=True)
    with np.errstate(over="ignore"):  # γ^k beyond float64's range is inf, as in torch
        return _result(base_lr * gamma ** (e // step_size))


def multistep_lr(epoch, base_lr, milestones, gamma=0.1):
    """η₀ · γ^k, k = number of milestones ≤ e: multiply by γ at each milestone (torch MultiStepLR)."""
    e = _epochs(epoch, "multistep_lr")
    base_lr = check_real(base_lr, "base_lr", "multistep_lr", low=0.0)
    m = np.asarray(milestones)
    if m.ndim != 1 or m.dtype.kind not in "iu" or np.any(np.diff(m) <= 0) or np.any(m < 1):
        raise ValueError(f"multistep_lr: milestones must be increasing integers >= 1, got {milestones!r}")
    gamma = check_real(gamma, "gamma", "multistep_lr", low=0.0, low_open=True)
    with np.errstate(over="ignore"):  # γ^k beyond float64's range is inf, as in torch
        return _result(base_lr * gamma ** np.searchsorted(m, e, side="right"))


def exponential_lr(epoch, base_lr, gamma):
    """η₀ · γ^e: multiply by γ every epoch (torch ExponentialLR)."""
    e = _epochs(epoch, "exponential_lr")
    base_lr = check_real(base_lr, "base_lr", "exponential_lr", low=0.0)
    gamma = check_real(gamma, "gamma", "exponential_lr", low=0.0, low_open=True)
    with np.errstate(over="ignore"):  # γ^e beyond float64's range is inf, as in torch
        return _result(base_lr * gamma ** e)


def cosine_annealing_lr(epoch, base_lr, T_max, eta_min=0.0):
    """η_min + (η₀ − η_min)·(1 + cos(π e / T_max))/2: half a cosine from η₀ at e = 0 down to
    η_min at e = T_max (SGDR of Loshchilov & Hutter 2017, without restarts; torch
    CosineAnnealingLR). Past T_max the cosine climbs again, as torch's does."""
    e = _epochs(epoch, "cosine_annealing_lr")
    base_lr = check_real(base_lr, "base_lr", "cosine_annealing_lr", low=0.0)
    T_max = check_int(T_max, "T_max", "cosine_annealing_lr", low=1)
    eta_min = check_real(eta_min, "eta_min", "cosine_annealing_lr", low=0.0)
    # ·((1 + cos)/2) equals ·(1 + cos)/2 bit for bit (halving is exact) and cannot overflow
    return _result(eta_min + (base_lr - eta_min) * ((1.0 + np.cos(np.pi * e / T_max)) / 2.0))


def linear_lr(epoch, base_lr, start_factor=1.0 / 3.0, end_factor=1.0, total_iters=5):
    """η₀ · (s + (f − s)·min(e, total_iters)/total_iters): a straight line from s·η₀ to f·η₀
    over ``total_iters`` epochs, then constant (torch LinearLR). With f = 1 it is a linear warm-up."""
    e = _epochs(epoch, "linear_lr")
    base_lr = check_real(base_lr, "base_lr", "linear_lr", low=0.0)
    s = check_real(start_factor, "start_factor", "linear_lr", low=0.0, high=1.0, low_open=True)
    f = check_real(end_factor, "end_factor", "linear_lr", low=0.0, high=1.0)
    total_iters = check_int(total_iters, "total_iters", "linear_lr", low=1)
    return _result(base_lr * (s + (f - s) * np.minimum(e, total_iters) / total_iters))


def warmup_cosine_lr(epoch, base_lr, warmup_epochs, total_epochs, start_factor=0.1, eta_min=0.0):
    """Linear warm-up then cosine annealing, the usual recipe for large batches and transformers.

    e < w:  η₀ · (s + (1 − s)·e/w)                                        (linear_lr with f = 1)
    e ≥ w:  η_min + (η₀ − η_min)·(1 + cos(π (e − w)/(total_epochs − w)))/2  (cosine_annealing_lr)

    w = warmup_epochs. Matches torch SequentialLR([LinearLR(opt, s, 1.0, w),
    CosineAnnealingLR(opt, total_epochs − w, eta_min)], milestones=[w]).
    """
    e = _epochs(epoch, "warmup_cosine_lr")
    w = check_int(warmup_epochs, "warmup_epochs", "warmup_cosine_lr", low=1)
    total = check_int(total_epochs, "total_epochs", "warmup_cosine_lr", low=w + 1)
    # checked here too, so that a refusal names this function, not the two it combines
    check_real(base_lr, "base_lr", "warmup_cosine_lr", low=0.0)
    check_real(start_factor, "start_factor", "warmup_cosine_lr", low=0.0, high=1.0, low_open=True)
    check_real(eta_min, "eta_min", "warmup_cosine_lr", low=0.0)
    warm = linear_lr(np.minimum(e, w), base_lr, start_factor, 1.0, w)
    cool = cosine_annealing_lr(np.maximum(e - w, 0), base_lr, total - w, eta_min)
    return _result(np.where(e < w, warm, cool))


class Scheduler:
    """Applies a closed-form schedule to an optimiser, one epoch at a time.

    schedule: one of the functions above, called as ``schedule(epoch, base_lr, **hyper)``.
    η₀ = ``optimizer.lr`` when the scheduler is built. ``step()`` advances one epoch and writes
    ``optimizer.lr = lr_at(last_epoch)``; ``get_last_lr()`` returns that value (a float:
    dlnotes optimisers have one learning rate, torch returns one per parameter group).
    """

    def __init__(self, optimizer, schedule, **hyper):
        if not hasattr(optimizer, "lr"):
            raise TypeError(f"{type(self).__name__}: optimizer must have an lr attribute, "
                            f"got {type(optimizer).__name__}")
        self.optimizer, self.schedule, self.hyper = optimizer, schedule, hyper
        self.base_lr = float(optimizer.lr)
        self.last_epoch = 0
        self._apply()

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyper.items())
        return f"{type(self).__name__}(base_lr={self.base_lr!r}, {args}, last_epoch={self.last_epoch})"

    def lr_at(self, epoch):
        """The closed form at ``epoch`` (an int or an array of ints)."""
        return self.schedule(epoch, self.base_lr, **self.hyper)

    def _apply(self):
        self._last_lr = self.lr_at(self.last_epoch)
        self.optimizer.lr = self._last_lr

    def step(self):
        """Move to the next epoch and set the optimiser's learning rate for it."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self):
        """The learning rate most recently set on the optimiser."""
        return self._last_lr


class StepLR(Scheduler):
    """η₀ · γ^⌊e / step_size⌋ (see ``step_lr``)."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        super().__init__(optimizer, step_lr, step_size=step_size, gamma=gamma)


class MultiStepLR(Scheduler):
    """η₀ · γ^(number of milestones ≤ e) (see ``multistep_lr``)."""

    def __init__(self, optimizer, milestones, gamma=0.1):
        if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Iterable):
            raise TypeError(
                f"MultiStepLR: milestones must be a sequence of epochs, got {type(milestones).__name__}"
            )
        super().__init__(optimizer, multistep_lr, milestones=list(milestones), gamma=gamma)


class ExponentialLR(Scheduler):
    """η₀ · γ^e (see ``exponential_lr``)."""

    def __init__(self, optimizer, gamma):
        super().__init__(optimizer, exponential_lr, gamma=gamma)


class CosineAnnealingLR(Scheduler):
    """η_min + (η₀ − η_min)·(1 + cos(π e / T_max))/2 (see ``cosine_annealing_lr``)."""

    def __init__(self, optimizer, T_max, eta_min=0.0):
        super().__init__(optimizer, cosine_annealing_lr, T_max=T_max, eta_min=eta_min)


class LinearLR(Scheduler):
    """η₀ · (s + (f − s)·min(e, total_iters)/total_iters) (see ``linear_lr``)."""

    def __init__(self, optimizer, start_factor=1.0 / 3.0, end_factor=1.0, total_iters=5):
        super().__init__(optimizer, linear_lr, start_factor=start_factor, end_factor=end_factor,
                         total_iters=total_iters)


class WarmupCosineLR(Scheduler):
    """Linear warm-up over ``warmup_epochs``, then cosine to η_min at ``total_epochs`` (see ``warmup_cosine_lr``)."""

    def __init__(self, optimizer, warmup_epochs, total_epochs, start_factor=0.1, eta_min=0.0):
        super().__init__(optimizer, warmup_cosine_lr, warmup_epochs=warmup_epochs, total_epochs=total_epochs,
                         start_factor=start_factor, eta_min=eta_min)
