import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes.theory import (
    bias_variance,
    convexity_gaps,
    line_values,
    measured_rate,
    optimal_gd,
    heavy_ball_matrix,
    optimal_heavy_ball,
    polynomial_features,
    quadratic_rate,
    random_spd_matrix,
)

SETTINGS = settings(max_examples=25, deadline=None)


@SETTINGS
@given(st.integers(0, 10_000), st.integers(0, 12))
def test_polynomial_features_match_torch_legendre(seed, degree):
    x = np.random.default_rng(seed).uniform(-1, 1, size=9)
    tx = torch.from_numpy(x)
    expected = np.stack([torch.special.legendre_polynomial_p(tx, n).numpy() for n in range(degree + 1)], axis=1)
    np.testing.assert_allclose(polynomial_features(x, degree), expected, rtol=1e-10, atol=1e-13)


def test_line_values_and_gaps_of_squared_norm():
    # (1-t)|a|² + t|b|² − |(1-t)a + tb|² = t(1-t)|a − b|², expanded by hand
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3, 4))
    ts = np.linspace(0, 1, 11)

    def sq(w):
        return np.sum(w**2)

    np.testing.assert_allclose(line_values(sq, a, b, ts), [sq((1 - t) * a + t * b) for t in ts], rtol=1e-15)
    np.testing.assert_allclose(convexity_gaps(sq, a, b, ts), ts * (1 - ts) * sq(a - b), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(convexity_gaps(lambda w: -sq(w), a, b, ts), -ts * (1 - ts) * sq(a - b), atol=1e-12)


def test_logistic_loss_from_torch_has_non_negative_gaps_and_a_sine_has_negative_ones():
    rng = np.random.default_rng(1)
    X, y = torch.from_numpy(rng.normal(size=(40, 3))), torch.from_numpy((rng.random(40) < 0.5) * 1.0)

    def logistic(w):
        return torch.nn.functional.binary_cross_entropy_with_logits(X @ torch.from_numpy(w), y).item()

    ts = np.linspace(0, 1, 21)
    for _ in range(5):
        a, b = rng.normal(scale=3.0, size=(2, 3))
        assert convexity_gaps(logistic, a, b, ts).min() >= -1e-12
    assert convexity_gaps(lambda w: np.sin(w).sum(), np.array([0.0]), np.array([np.pi]), ts).min() < -0.5


def test_random_spd_matrix_has_the_requested_spectrum():
    lam = np.array([1.0, 3.0, 10.0, 100.0])
    A = random_spd_matrix(lam, np.random.default_rng(2))
    np.testing.assert_allclose(A, A.T, atol=1e-12)
    np.testing.assert_allclose(np.linalg.eigvalsh(A), lam, rtol=1e-12)


def heavy_ball_block_matrix(A, lr, momentum):
    """The 2n×2n map (x_{k+1} − x*, x_k − x*) = M (x_k − x*, x_{k−1} − x*) of the heavy ball."""
    n = A.shape[0]
    eye = np.eye(n)
    return np.block([[(1 + momentum) * eye - lr * A, -momentum * eye], [eye, np.zeros((n, n))]])


@SETTINGS
@given(st.integers(0, 10_000), st.floats(0.01, 0.3), st.floats(0.0, 0.95))
def test_quadratic_rate_is_spectral_radius_of_the_iteration_matrix(seed, lr, momentum):
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.1, 10.0, size=4)
    A = random_spd_matrix(lam, rng)
    radius = np.max(np.abs(np.linalg.eigvals(heavy_ball_block_matrix(A, lr, momentum))))
    assert quadratic_rate(lam, lr, momentum) == pytest.approx(radius, rel=1e-6)


@pytest.mark.parametrize("lam, lr, momentum", [(3.0, 0.1, 0.0), (3.0, 0.1, 0.9), (0.5, 0.7, 0.3), (20.0, 0.09, 0.5)])
def test_heavy_ball_matrix_maps_torch_sgd_errors(lam, lr, momentum):
    """On f(θ) = ½λθ² − cθ, torch.optim.SGD's errors obey (e_{k+1}, e_k) = T (e_k, e_{k−1})."""
    c = 1.5
    theta = torch.tensor([0.7], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([theta], lr=lr, momentum=momentum)
    errors = [theta.item() - c / lam]
    for _ in range(12):
        opt.zero_grad()
        (0.5 * lam * theta**2 - c * theta).sum().backward()
        opt.step()
        errors.append(theta.item() - c / lam)
    T = heavy_ball_matrix(lam, lr, momentum)
    for k in range(1, 12):
        np.testing.assert_allclose(T @ [errors[k], errors[k - 1]], [errors[k + 1], errors[k]], rtol=1e-12, atol=1e-14)
    moduli = np.abs(np.linalg.eigvals(T))
    assert moduli.max() == pytest.approx(quadratic_rate([lam], lr, momentum), rel=1e-9)


def test_tuned_heavy_ball_puts_both_extreme_curvatures_on_a_double_root():
    L, m = 100.0, 1.0
    lr, beta, rate = optimal_heavy_ball(L, m)
    for lam in (m, L):  # the discriminant (1 + β − ηλ)² − 4β vanishes at both ends
        assert (1 + beta - lr * lam) ** 2 - 4 * beta == pytest.approx(0.0, abs=1e-12)
    for lam in (m, 3.0, 30.0, L):  # and every curvature in between contracts by √β
        assert np.abs(np.linalg.eigvals(heavy_ball_matrix(lam, lr, beta))).max() == pytest.approx(rate, rel=1e-6)


def test_quadratic_rate_without_momentum_is_max_abs_one_minus_lr_lambda():
    lam = np.array([0.5, 2.0, 7.0])
    for lr in (0.05, 0.2, 0.29):
        assert quadratic_rate(lam, lr) == pytest.approx(np.max(np.abs(1 - lr * lam)), rel=1e-14)
    assert quadratic_rate(lam, 2.1 / 7.0) > 1.0  # past 2/L: divergence


def run_torch_sgd(A, lr, momentum, steps):
    """Distance to the minimiser of ½xᵀAx (x* = 0) along torch.optim.SGD's iterates."""
    x = torch.ones(A.shape[0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=lr, momentum=momentum)
    At = torch.from_numpy(A)
    errors = [x.norm().item()]
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * x @ At @ x).backward()
        opt.step()
        errors.append(x.norm().item())
    return np.array(errors)


def test_tuned_rates_agree_with_torch_sgd_runs():
    L, mu = 50.0, 1.0
    A = random_spd_matrix(np.array([mu, 7.0, L]), np.random.default_rng(3))
    lr, rate = optimal_gd(L, mu)
    assert lr == pytest.approx(2 / 51) and rate == pytest.approx(49 / 51)
    assert measured_rate(run_torch_sgd(A, lr, 0.0, 300), start=100) == pytest.approx(rate, rel=1e-3)
    lr, beta, rate = optimal_heavy_ball(L, mu)
    assert rate == pytest.approx((np.sqrt(50) - 1) / (np.sqrt(50) + 1), rel=1e-14)
    assert beta == pytest.approx(rate**2, rel=1e-14)
    assert quadratic_rate([mu, 7.0, L], lr, beta) == pytest.approx(rate, rel=1e-6)
    # at the tuned point the eigenvalues repeat, so e_k ~ k ρᵏ: allow for the polynomial factor
    assert measured_rate(run_torch_sgd(A, lr, beta, 300), start=150) == pytest.approx(rate, rel=1e-2)


def test_optimal_gd_step_minimises_the_rate_over_a_grid():
    lam = np.array([1.0, 20.0])
    lr, rate = optimal_gd(20.0, 1.0)
    grid = np.linspace(0.001, 0.099, 500)
    assert min(quadratic_rate(lam, g) for g in grid) >= rate - 1e-12
    assert quadratic_rate(lam, lr) == pytest.approx(rate, rel=1e-12)


def test_measured_rate_recovers_a_geometric_sequence():
    e = 3.0 * 0.8 ** np.arange(40)
    assert measured_rate(e) == pytest.approx(0.8, rel=1e-12)
    e[:5] = 100.0  # a transient that start= skips
    assert measured_rate(e, start=5) == pytest.approx(0.8, rel=1e-12)


def test_bias_variance_sum_to_the_mean_squared_error_over_resamples():
    rng = np.random.default_rng(4)
    target = rng.normal(size=7)
    preds = target + 0.3 + rng.normal(scale=0.5, size=(200, 7))
    bias2, var = bias_variance(preds, target)
    assert bias2 + var == pytest.approx(np.mean((preds - target) ** 2), rel=1e-12)
    # a shift of 0.3 gives bias² ≈ 0.09; noise of scale 0.5 gives variance ≈ 0.25
    assert bias2 == pytest.approx(0.09, abs=0.01) and var == pytest.approx(0.25, abs=0.02)
    assert bias_variance(np.tile(target, (5, 1)), target) == pytest.approx((0.0, 0.0), abs=1e-30)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: polynomial_features(np.array([0.0, 1.5]), 2), ValueError, r"x must lie in \[-1, 1\]"),
        (lambda: polynomial_features(np.zeros((2, 2)), 2), ValueError, r"x must be \(N,\), got shape \(2, 2\)"),
        (lambda: polynomial_features(np.zeros(2), -1), ValueError, "degree must be >= 0, got -1"),
        (lambda: polynomial_features(np.zeros(2), 2.0), TypeError, "degree must be an integer, got float"),
        (lambda: line_values(np.sum, np.zeros(2), np.zeros(3), [0.5]), ValueError, r"b must have the shape of a"),
        (lambda: random_spd_matrix([1.0, 2.0], 0), TypeError, "rng must be a numpy.random.Generator"),
        (lambda: quadratic_rate([1.0], 0.0), ValueError, r"quadratic_rate: lr must be in \(0.0, inf\]"),
        (lambda: quadratic_rate([1.0], 0.1, 1.0), ValueError, r"momentum must be in \[0.0, 1.0\)"),
        (lambda: optimal_gd(1.0, 2.0), ValueError, r"optimal_gd: m must be in \(0.0, 1.0\]"),
        (lambda: heavy_ball_matrix(0.0, 0.1), ValueError, r"heavy_ball_matrix: curvature must be in \(0.0, inf\]"),
        (lambda: heavy_ball_matrix(1.0, 0.1, 1.0), ValueError, r"heavy_ball_matrix: momentum must be in \[0.0, 1.0\)"),
        (lambda: optimal_heavy_ball(-1.0, 0.5), ValueError, r"optimal_heavy_ball: L must be in \(0.0"),
        (lambda: measured_rate([1.0, 0.0, 0.5]), ValueError, "errors must be > 0"),
        (lambda: measured_rate([1.0, 0.5], start=1), ValueError, "start must be <= len"),
        (lambda: bias_variance(np.zeros((3, 4)), np.zeros(3)), ValueError, r"target must have shape \(4,\)"),
    ],
)
def test_bad_input_messages_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call()
