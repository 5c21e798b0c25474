"""Optimiser trajectories on the 2-D surfaces of ``dlnotes.surfaces``.

``run`` puts a point θ = (x, y) into a one-element parameter list and hands it to a real
``dlnotes.optim`` optimiser, exactly as a network's weights would be:

    θ ← start
    repeat steps times:  g ← ∇f(θ);  opt.step([g])      (θ is updated in place)

and returns every iterate. The names below choose the optimiser and its defaults:

    ==========  =====================================================
    sgd         SGD(lr)
    momentum    SGD(lr, momentum=0.9)
    nesterov    SGD(lr, momentum=0.9, nesterov=True)
    adagrad     Adagrad(lr)
    rmsprop     RMSprop(lr)
    adam        Adam(lr)
    adamw       AdamW(lr)
    ==========  =====================================================

Any keyword given to ``run`` (lr, momentum, betas, eps, weight_decay, alpha, …) overrides these.
"""

import inspect

import numpy as np

from dlnotes import optim, surfaces
from dlnotes._checks import check_choice, check_int, check_real

_OPTIMIZERS = {
    "sgd": (optim.SGD, {}),
    "momentum": (optim.SGD, {"momentum": 0.9}),
    "nesterov": (optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (optim.Adagrad, {}),
    "rmsprop": (optim.RMSprop, {}),
    "adam": (optim.Adam, {}),
    "adamw": (optim.AdamW, {}),
}
OPTIMIZERS = tuple(_OPTIMIZERS)


def run(surface, optimizer, start=None, steps=100, **hyper):
    """Iterates of ``optimizer`` on ``surface``: an array of shape (steps + 1, 2), row 0 = start.

    surface: a ``surfaces.Surface`` or a name from ``surfaces.NAMES``.
    optimizer: a name from ``OPTIMIZERS``; ``hyper`` are keyword arguments of its class.
    start: (x, y); defaults to the surface's start point.
    A diverging run fills the rest of the path with inf or nan instead of raising: once the
    gradient is no longer finite (the optimisers refuse such a step), its non-finite coordinates
    and every later row are nan.
    """
    if isinstance(surface, str):
        surface = surfaces.get(surface)
    elif not isinstance(surface, surfaces.Surface):
        raise TypeError(f"run: surface must be a Surface or a name, got {type(surface).__name__}")
    check_choice(optimizer, "optimizer", "run", OPTIMIZERS)
    steps = check_int(steps, "steps", "run", low=0)
    start = surface.start if start is None else start
    if len(start) != 2:
        raise ValueError(f"run: start must be a point (x, y), got {start!r}")
    theta = np.array([check_real(c, "start", "run") for c in start])

    cls, defaults = _OPTIMIZERS[optimizer]
    accepted = set(inspect.signature(cls).parameters) - {"params"}
    unknown = sorted(set(hyper) - accepted)
    if unknown:
        raise TypeError(
            f"run: {', '.join(unknown)} is not an option of {cls.__name__} "
            f"(it takes {', '.join(sorted(accepted))})"
        )
    opt = cls([theta], **{**defaults, **hyper})
    path = np.empty((steps + 1, 2))
    path[0] = theta
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            grad = np.array(surface.grad(theta[0], theta[1]))
            finite = np.isfinite(grad)
            if not finite.all():  # the updates are elementwise: step the finite coordinates only
                opt.step([np.where(finite, grad, 0.0)])
                path[t] = np.where(finite, theta, np.nan)
                path[t + 1 :] = np.nan
                break
            opt.step([grad])
            path[t] = theta
    return path
