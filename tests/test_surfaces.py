"""dlnotes.surfaces: analytic gradients against torch.autograd, minima, plotting ranges, bad input."""

import numpy as np
import pytest
import torch

from dlnotes import surfaces

# One instance of every surface, the quadratic at several condition numbers.
ALL = [surfaces.get(name) for name in surfaces.NAMES] + [surfaces.quadratic(c) for c in (1.0, 57.5)]
IDS = [f"{s.name}" for s in ALL[:-2]] + ["quadratic-k1", "quadratic-k57.5"]


def _points(surface, n=50, seed=0):
    """n random points in the plotting range widened by 20 %."""
    rng = np.random.default_rng(seed)
    lo = np.array([surface.xlim[0], surface.ylim[0]])
    hi = np.array([surface.xlim[1], surface.ylim[1]])
    centre, half = (lo + hi) / 2, 0.6 * (hi - lo)
    return rng.uniform(centre - half, centre + half, size=(n, 2))


@pytest.mark.parametrize("surface", ALL, ids=IDS)
def test_gradient_matches_torch_autograd(surface):
    pts = _points(surface)
    x = torch.tensor(pts[:, 0], requires_grad=True)
    y = torch.tensor(pts[:, 1], requires_grad=True)
    value = surface.f(x, y)
    value.sum().backward()
    gx, gy = surface.grad(pts[:, 0], pts[:, 1])
    np.testing.assert_allclose(surface.f(pts[:, 0], pts[:, 1]), value.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(gx, x.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gy, y.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("surface", ALL, ids=IDS)
def test_scalar_calls_agree_with_array_calls(surface):
    pts = _points(surface, n=5, seed=1)
    values = surface.f(pts[:, 0], pts[:, 1])
    gx, gy = surface.grad(pts[:, 0], pts[:, 1])
    for i, (x, y) in enumerate(pts):
        assert surface.f(float(x), float(y)) == values[i]
        assert surface.grad(float(x), float(y)) == (gx[i], gy[i])


@pytest.mark.parametrize("surface", ALL, ids=IDS)
def test_known_minima_are_minima(surface):
    rng = np.random.default_rng(2)
    for mx, my in surface.minima:
        gx, gy = surface.grad(mx, my)
        assert abs(gx) < 1e-12 and abs(gy) < 1e-12
        assert surface.f(mx, my) == pytest.approx(surface.f_min, abs=1e-12)
        # torch's Hessian at the point is positive definite: a minimum, not a saddle
        hess = torch.autograd.functional.hessian(
            lambda p: surface.f(p[0], p[1]), torch.tensor([mx, my], dtype=torch.float64)
        )
        assert torch.linalg.eigvalsh(hess).min() > 0
        # and no nearby point is lower
        near = np.array([mx, my]) + rng.normal(scale=1e-3, size=(100, 2))
        assert np.all(surface.f(near[:, 0], near[:, 1]) >= surface.f_min)


@pytest.mark.parametrize("surface", ALL, ids=IDS)
def test_plot_range_holds_start_and_minima(surface):
    for x, y in (surface.start, *surface.minima):
        assert surface.xlim[0] < x < surface.xlim[1] and surface.ylim[0] < y < surface.ylim[1]
    X, Y, Z = surface.mesh(num=30)
    assert X.shape == Y.shape == Z.shape == (30, 30)
    assert X.min() == surface.xlim[0] and Y.max() == surface.ylim[1]
    assert Z.min() >= surface.f_min


def test_saddle_has_a_saddle_at_the_origin():
    s = surfaces.saddle()
    assert s.grad(0.0, 0.0) == (0.0, 0.0)
    hess = torch.autograd.functional.hessian(lambda p: s.f(p[0], p[1]), torch.zeros(2, dtype=torch.float64))
    eig = torch.linalg.eigvalsh(hess)
    assert eig[0] < 0 < eig[1]


def test_quadratic_condition_number_is_the_hessian_ratio():
    s = surfaces.quadratic(condition=25.0)
    hess = torch.autograd.functional.hessian(lambda p: s.f(p[0], p[1]), torch.ones(2, dtype=torch.float64))
    eig = torch.linalg.eigvalsh(hess)
    assert float(eig[-1] / eig[0]) == pytest.approx(25.0, rel=1e-14)


def test_bad_input():
    with pytest.raises(ValueError, match=r"surfaces.get: name must be one of quadratic, .*, got 'bowl'"):
        surfaces.get("bowl")
    with pytest.raises(ValueError, match=r"quadratic: condition must be in \[1.0, inf\], got 0.5"):
        surfaces.get("quadratic", condition=0.5)
    with pytest.raises(TypeError, match=r"quadratic: condition must be a real number, got str"):
        surfaces.quadratic("10")
    with pytest.raises(ValueError, match=r"Surface.mesh: num must be >= 2, got 1"):
        surfaces.beale().mesh(num=1)
