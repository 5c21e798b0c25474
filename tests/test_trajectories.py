"""dlnotes.trajectories: paths equal those of torch.optim driven by torch.autograd on the same surface."""

import warnings

import numpy as np
import pytest
import torch

from dlnotes import surfaces, trajectories

# The reference: torch.optim classes with the same defaults as trajectories.run's names, single-tensor code.
TORCH = {
    "sgd": (torch.optim.SGD, {}),
    "momentum": (torch.optim.SGD, {"momentum": 0.9}),
    "nesterov": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "adagrad": (torch.optim.Adagrad, {}),
    "rmsprop": (torch.optim.RMSprop, {}),
    "adam": (torch.optim.Adam, {}),
    "adamw": (torch.optim.AdamW, {}),
}

# A learning rate per surface and optimiser family that converges without diverging in 150 steps.
LR = {
    "quadratic": {"sgd": 0.03, "adagrad": 0.5, "adaptive": 0.1},
    "rosenbrock": {"sgd": 1e-3, "adagrad": 0.3, "adaptive": 0.03},
    "beale": {"sgd": 3e-3, "adagrad": 0.3, "adaptive": 0.03},
    "saddle": {"sgd": 0.03, "adagrad": 0.3, "adaptive": 0.03},
    "himmelblau": {"sgd": 3e-3, "adagrad": 0.3, "adaptive": 0.03},
}


def _lr(surface, name):
    family = "sgd" if name in ("sgd", "momentum", "nesterov") else "adagrad" if name == "adagrad" else "adaptive"
    return LR[surface][family]


def torch_path(surface, name, start, steps, **hyper):
    """Same loop in PyTorch: gradients from autograd of surface.f, updates by torch.optim."""
    theta = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    cls, defaults = TORCH[name]
    opt = cls([theta], **{**defaults, **hyper}, foreach=False)
    path = [theta.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        surface.f(theta[0], theta[1]).backward()
        opt.step()
        path.append(theta.detach().clone())
    return torch.stack(path).numpy()


@pytest.mark.parametrize("optimizer", trajectories.OPTIMIZERS)
@pytest.mark.parametrize("name", surfaces.NAMES)
def test_path_equals_torch_optim(name, optimizer):
    surface = surfaces.get(name)
    lr = _lr(name, optimizer)
    path = trajectories.run(surface, optimizer, surface.start, 150, lr=lr)
    expected = torch_path(surface, optimizer, surface.start, 150, lr=lr)
    assert path.shape == (151, 2)
    assert np.all(np.isfinite(path))
    np.testing.assert_allclose(path, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "optimizer, hyper",
    [
        ("momentum", {"momentum": 0.5, "dampening": 0.5}),
        ("nesterov", {"momentum": 0.95}),
        ("rmsprop", {"alpha": 0.9, "centered": True}),
        ("adam", {"betas": (0.5, 0.9), "eps": 1e-6}),
        ("adam", {"betas": (0.3, 0.99)}),  # β1 < 0.5: the other branch of the lerp
        ("adamw", {"betas": (0.8, 0.99), "weight_decay": 0.3}),
        ("sgd", {"weight_decay": 0.1}),
    ],
)
def test_hyper_parameters_reach_the_optimiser(optimizer, hyper):
    surface = surfaces.quadratic(condition=30.0)
    start = (3.0, -1.5)
    path = trajectories.run(surface, optimizer, start, 120, lr=0.02, **hyper)
    expected = torch_path(surface, optimizer, start, 120, lr=0.02, **hyper)
    np.testing.assert_allclose(path, expected, rtol=1e-10, atol=1e-12)
    assert not np.allclose(path, trajectories.run(surface, optimizer, start, 120, lr=0.02))


def test_gradient_descent_on_a_quadratic_is_a_geometric_sequence():
    # ∇f = (x, κy), so θ_t = ((1 − lr)^t x0, (1 − lr·κ)^t y0) by hand.
    kappa, lr, steps = 8.0, 0.1, 40
    path = trajectories.run(surfaces.quadratic(kappa), "sgd", (2.0, -1.0), steps, lr=lr)
    t = np.arange(steps + 1)
    np.testing.assert_allclose(path[:, 0], 2.0 * (1 - lr) ** t, rtol=1e-12)
    np.testing.assert_allclose(path[:, 1], -1.0 * (1 - lr * kappa) ** t, rtol=1e-12, atol=1e-300)


def test_defaults_start_and_names():
    path = trajectories.run("beale", "adam", steps=0)
    assert path.shape == (1, 2) and tuple(path[0]) == surfaces.beale().start
    assert trajectories.run("quadratic", "sgd", [1, 2], 3, lr=0.1)[0].tolist() == [1.0, 2.0]


def test_divergence_gives_non_finite_values_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = trajectories.run("rosenbrock", "sgd", (-1.5, 2.0), 60, lr=0.1)
    assert path.shape == (61, 2) and not np.all(np.isfinite(path[-1]))


def test_bad_input():
    with pytest.raises(ValueError, match=r"run: optimizer must be one of sgd, momentum, .*, got 'lbfgs'"):
        trajectories.run("beale", "lbfgs")
    with pytest.raises(ValueError, match=r"surfaces.get: name must be one of .*, got 'bowl'"):
        trajectories.run("bowl", "sgd")
    with pytest.raises(TypeError, match=r"run: surface must be a Surface or a name, got int"):
        trajectories.run(3, "sgd")
    with pytest.raises(ValueError, match=r"SGD: lr must be in \[0.0, inf\], got -0.1"):
        trajectories.run("beale", "sgd", lr=-0.1)
    with pytest.raises(ValueError, match=r"Adam: betas\[0\] must be in \[0.0, 1.0\), got 1.0"):
        trajectories.run("beale", "adam", betas=(1.0, 0.999))
    with pytest.raises(ValueError, match=r"run: steps must be >= 0, got -1"):
        trajectories.run("beale", "sgd", steps=-1)
    with pytest.raises(ValueError, match=r"run: start must be a point \(x, y\), got \(1.0,\)"):
        trajectories.run("beale", "sgd", start=(1.0,))
    with pytest.raises(ValueError, match=r"run: start must be finite, got nan"):
        trajectories.run("beale", "sgd", start=(1.0, float("nan")))
