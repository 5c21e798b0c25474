"""Tools for the theory chapter: capacity, convexity along lines, and rates on quadratics.

The optimisation results concern the quadratic

    f(θ) = ½ θᵀ A θ − cᵀ θ,   A symmetric positive definite, eigenvalues m = λ_min ≤ … ≤ λ_max = L,

whose gradient A θ − c is linear, so the error e_k = θ_k − θ* of gradient descent with
momentum (heavy ball; the torch.optim.SGD rule at a constant learning rate)

    θ_{k+1} = θ_k − η ∇f(θ_k) + β (θ_k − θ_{k−1})

evolves by a fixed linear map. Along the eigenvector of λ the pair (e_{k+1}, e_k) is
multiplied by [[1 + β − ηλ, −β], [1, 0]], whose eigenvalues solve z² − (1 + β − ηλ) z + β = 0;
the largest |z| over the spectrum is the rate ρ with ‖e_k‖ ≈ C ρᵏ.
"""

import numpy as np

from dlnotes._checks import (
    as_float_array,
    check_generator,
    check_int,
    check_ndim,
    check_nonempty,
    check_real,
)


def polynomial_features(x, degree):
    """Legendre features [P_0(x), P_1(x), …, P_degree(x)] of points in [−1, 1].

    x: (N,). Returns (N, degree + 1). The Legendre polynomials span the same space as
    1, x, …, x^degree, so a least-squares fit is the same polynomial, but their columns are
    far better conditioned at high degree than raw powers. P_0 = 1, P_1 = x,
    P_2 = (3x² − 1)/2, and (n + 1) P_{n+1} = (2n + 1) x P_n − n P_{n−1}.
    """
    x = as_float_array(x, "x", "polynomial_features")
    check_ndim(x, 1, "x", "polynomial_features", "(N,)")
    degree = check_int(degree, "degree", "polynomial_features", low=0)
    if np.any(np.abs(x) > 1):
        raise ValueError(f"polynomial_features: x must lie in [-1, 1], got max |x| = {np.max(np.abs(x))}")
    return np.polynomial.legendre.legvander(x, degree)


def line_values(f, a, b, ts):
    """f((1 − t)·a + t·b) for each t in ``ts``: the 1-D slice of f through a and b.

    f: scalar function of an array shaped like a; a, b: same shape; ts: (T,). Returns (T,).
    """
    a = as_float_array(a, "a", "line_values")
    b = as_float_array(b, "b", "line_values")
    if a.shape != b.shape:
        raise ValueError(f"line_values: b must have the shape of a {a.shape}, got {b.shape}")
    ts = as_float_array(ts, "ts", "line_values")
    check_ndim(ts, 1, "ts", "line_values", "(T,)")
    return np.array([float(f((1.0 - t) * a + t * b)) for t in ts])


def convexity_gaps(f, a, b, ts):
    """Chord minus function along the segment from a to b, for each t in ``ts``:

        gap(t) = (1 − t) f(a) + t f(b) − f((1 − t) a + t b).

    A convex f has gap(t) ≥ 0 for every a, b and t in [0, 1]; one negative gap proves f is
    not convex. Returns (T,).
    """
    ends = line_values(f, a, b, [0.0, 1.0])
    ts = as_float_array(ts, "ts", "convexity_gaps")
    return (1.0 - ts) * ends[0] + ts * ends[1] - line_values(f, a, b, ts)


def random_spd_matrix(eigenvalues, rng):
    """Symmetric matrix Q diag(eigenvalues) Qᵀ with a random orthogonal Q.

    eigenvalues: (n,). rng: numpy Generator. Returns (n, n). Q comes from the QR
    decomposition of a Gaussian matrix, with column signs fixed so it is Haar-distributed.
    """
    lam = as_float_array(eigenvalues, "eigenvalues", "random_spd_matrix")
    check_ndim(lam, 1, "eigenvalues", "random_spd_matrix", "(n,)")
    check_nonempty(lam, "eigenvalues", "random_spd_matrix")
    check_generator(rng, "random_spd_matrix")
    q, r = np.linalg.qr(rng.standard_normal((lam.size, lam.size)))
    q = q * np.sign(np.diag(r))
    return (q * lam) @ q.T


def quadratic_rate(eigenvalues, lr, momentum=0.0):
    """Asymptotic rate ρ of heavy-ball momentum on a quadratic with this spectrum.

        ρ = max_λ max{|z| : z² − (1 + β − ηλ) z + β = 0}

    eigenvalues: (n,) of A; lr: η > 0; momentum: β in [0, 1). With β = 0 this is
    max_λ |1 − ηλ|, the rate of plain gradient descent. ρ < 1 means convergence.
    """
    lam = as_float_array(eigenvalues, "eigenvalues", "quadratic_rate")
    check_ndim(lam, 1, "eigenvalues", "quadratic_rate", "(n,)")
    check_nonempty(lam, "eigenvalues", "quadratic_rate")
    lr = check_real(lr, "lr", "quadratic_rate", low=0.0, low_open=True)
    beta = check_real(momentum, "momentum", "quadratic_rate", low=0.0, high=1.0, high_open=True)
    with np.errstate(over="ignore"):
        c = 1.0 + beta - lr * lam
    if not np.all(np.isfinite(c)):
        raise ValueError(f"quadratic_rate: lr must keep lr·eigenvalues finite, got {lr} (and max |λ| {np.max(np.abs(lam))})")
    root = np.sqrt(c.astype(complex) ** 2 - 4.0 * beta)
    return float(np.max(np.maximum(np.abs(c + root), np.abs(c - root))) / 2.0)


def heavy_ball_matrix(curvature, lr, momentum=0.0):
    """The 2×2 iteration matrix of the heavy ball along one eigen-direction of curvature λ.

        (e_{k+1}, e_k) = T (e_k, e_{k−1}),   T = [[1 + β − ηλ, −β], [1, 0]]

    Its characteristic polynomial is z² − (1 + β − ηλ) z + β; the largest |eigenvalue| over the
    spectrum is ``quadratic_rate``. curvature: λ > 0; lr: η > 0; momentum: β in [0, 1).
    Returns (2, 2).
    """
    lam = check_real(curvature, "curvature", "heavy_ball_matrix", low=0.0, low_open=True)
    lr = check_real(lr, "lr", "heavy_ball_matrix", low=0.0, low_open=True)
    beta = check_real(momentum, "momentum", "heavy_ball_matrix", low=0.0, high=1.0, high_open=True)
    return np.array([[1.0 + beta - lr * lam, -beta], [1.0, 0.0]])


def _curvature_bounds(L, m, where):
    L = check_real(L, "L", where, low=0.0, low_open=True)
    m = check_real(m, "m", where, low=0.0, high=L, low_open=True)
    return L, m


def optimal_gd(L, m):
    """Best fixed step for gradient descent on a quadratic with curvatures in [m, L].

        η* = 2 / (L + m),   ρ* = (κ − 1) / (κ + 1),   κ = L / m

    Returns (lr, rate). Any step with 0 < η < 2/L converges, at rate max(|1 − ηm|, |1 − ηL|).
    """
    L, m = _curvature_bounds(L, m, "optimal_gd")
    kappa = L / m
    return 2.0 / (L + m), (kappa - 1.0) / (kappa + 1.0)


def optimal_heavy_ball(L, m):
    """Polyak's tuned heavy-ball parameters for a quadratic with curvatures in [m, L].

        η = 4 / (√L + √m)²,   β = ((√κ − 1) / (√κ + 1))²,   ρ = (√κ − 1) / (√κ + 1)

    These solve ηm = (1 − √β)² and ηL = (1 + √β)²: both extreme curvatures sit on a double
    root of z² − (1 + β − ηλ) z + β, so every direction contracts by √β per step.
    Returns (lr, momentum, rate). In torch.optim.SGD terms: SGD(lr=η, momentum=β).
    """
    L, m = _curvature_bounds(L, m, "optimal_heavy_ball")
    rate = (np.sqrt(L) - np.sqrt(m)) / (np.sqrt(L) + np.sqrt(m))
    return float(4.0 / (np.sqrt(L) + np.sqrt(m)) ** 2), float(rate**2), float(rate)


def measured_rate(errors, start=0):
    """Average contraction per step of a positive error sequence from index ``start`` on:

        ρ̂ = (e_K / e_start)^(1 / (K − start)),   K = len(errors) − 1

    errors: (K + 1,) e.g. ‖θ_k − θ*‖. Skip the transient with ``start``.
    """
    e = as_float_array(errors, "errors", "measured_rate")
    check_ndim(e, 1, "errors", "measured_rate", "(K + 1,)")
    start = check_int(start, "start", "measured_rate", low=0)
    if start > e.size - 2:
        raise ValueError(f"measured_rate: start must be <= len(errors) - 2 = {e.size - 2}, got {start}")
    if np.any(e[start:] <= 0):
        raise ValueError("measured_rate: errors must be > 0 from start on, got a value <= 0")
    return float(np.exp((np.log(e[-1]) - np.log(e[start])) / (e.size - 1 - start)))


def bias_variance(predictions, target):
    """Split the expected squared error of a learner over resampled training sets.

    predictions: (R, M), the fit from each of R training sets at M test points;
    target: (M,), the noise-free function at those points. With f̄ = mean over R,

        mean_r (f_r − f)² = (f̄ − f)² + mean_r (f_r − f̄)²     (at each point)

    Returns (bias², variance), each averaged over the M points. The noise variance s² is
    the third, irreducible term of the test error and is not included.
    """
    preds = as_float_array(predictions, "predictions", "bias_variance")
    check_ndim(preds, 2, "predictions", "bias_variance", "(R, M)")
    check_nonempty(preds, "predictions", "bias_variance")
    target = as_float_array(target, "target", "bias_variance")
    if target.shape != preds.shape[1:]:
        raise ValueError(f"bias_variance: target must have shape ({preds.shape[1]},), got {target.shape}")
    mean = preds.mean(axis=0)
    return float(np.mean((mean - target) ** 2)), float(np.mean(preds.var(axis=0)))
