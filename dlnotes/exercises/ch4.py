"""Checkers for chapter 4 (theory). The exercise data live here so the notebook and the
checker read the same numbers: ``from dlnotes.exercises.ch4 import QUADRATIC_A``."""

import numpy as np

from dlnotes.exercises import checker
from dlnotes.exercises.answers import call, close, first_hint, real_numbers
from dlnotes.probability import kl_divergence
from dlnotes.theory import optimal_gd, optimal_heavy_ball, quadratic_rate

QUADRATIC_A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])  # exercise 4.1
MOMENTUM_M, MOMENTUM_L = 1.0, 100.0  # exercise 4.2: smallest and largest curvature
KL_P = np.array([0.5, 0.3, 0.2])  # exercise 4.3
KL_Q = np.array([0.1, 0.6, 0.3])
LINE_X = np.arange(8.0)  # exercise 4.4
LINE_Y = np.array([1.1, 2.9, 5.2, 6.8, 9.1, 11.2, 12.8, 15.1])


@checker("4.1")
def largest_stable_step(answer):
    """Answer: the supremum of the step sizes for which GD converges on ½θᵀAθ − cᵀθ."""
    value = real_numbers(answer, 1)
    if value is None:
        return False, "Give one finite real number: the step size."
    eta = value[0]
    if eta <= 0:
        return False, "A step size is positive: with η ≤ 0 gradient descent does not move downhill at all."
    lam = np.linalg.eigvalsh(QUADRATIC_A)
    mu, L = lam[0], lam[-1]
    if close(eta, 2.0 / L):
        return True, "Below this step every direction contracts; at it, the steepest one stops shrinking."
    hint = first_hint(eta, [
        (1.0 / L, "That step converges, but it is not the largest: |1 − ηλ| may go up to 1, not just to 0."),
        (2.0 / mu, "That is the limit for the flattest direction; the steepest direction diverges first."),
        (2.0 / (L + mu), "That is the step with the fastest rate, not the largest step that still converges."),
        (2.0 / QUADRATIC_A.max(), "The largest entry of A is not its largest eigenvalue: the curvature lives there."),
    ])
    if hint:
        return False, hint
    side = "diverges" if quadratic_rate(lam, eta) >= 1 else "still converges, and a larger step would too"
    return False, f"At η = {eta:.4g} GD {side}. Work with the eigenvalues of A and the factor 1 − ηλ."


@checker("4.2")
def tuned_momentum(answer):
    """Answer: (lr, momentum) of Polyak's tuned heavy ball for curvatures in [1, 100]."""
    values = real_numbers(answer, 2)
    if values is None:
        return False, "Give a pair (lr, momentum) of finite real numbers."
    lr, beta = values
    best_lr, best_beta, best_rate = optimal_heavy_ball(MOMENTUM_L, MOMENTUM_M)
    gd_rate = optimal_gd(MOMENTUM_L, MOMENTUM_M)[1]
    if close(lr, best_lr) and close(beta, best_beta):
        return True, ("Both extreme curvatures sit on a double root, so every direction contracts at "
                      "(√κ − 1)/(√κ + 1) per step instead of plain GD's (κ − 1)/(κ + 1).")
    if close(lr, best_beta) and close(beta, best_lr):
        return False, "The two numbers are in the wrong order: (lr, momentum)."
    if close(beta, best_rate):
        return False, "Your momentum equals the rate you hope to reach; the tuned momentum is a different function of κ."
    if beta == 0:
        return False, "Momentum 0 is plain gradient descent; the exercise asks for the heavy ball."
    if not 0 <= beta < 1 or lr <= 0:
        return False, "Need lr > 0 and 0 ≤ momentum < 1."
    rate = quadratic_rate([MOMENTUM_M, MOMENTUM_L], lr, beta)
    beaten = "does not beat" if rate >= gd_rate else "beats"
    return False, (f"These parameters give a rate of {rate:.4f} per step, which {beaten} the best plain GD; "
                   "the tuned ones put both extreme curvatures on a double root of the 2×2 iteration matrix.")


@checker("4.3")
def kl_both_ways(answer):
    """Answer: (KL(p ‖ q), KL(q ‖ p)) in nats for the distributions KL_P, KL_Q."""
    values = real_numbers(answer, 2)
    if values is None:
        return False, "Give a pair (KL(p‖q), KL(q‖p)) of finite real numbers."
    forward, reverse = float(kl_divergence(KL_P, KL_Q)), float(kl_divergence(KL_Q, KL_P))
    if close(values, [forward, reverse]):
        return True, "The two directions differ: KL is not symmetric."
    hint = first_hint(values, [
        ([reverse, forward], "Right numbers, wrong order: KL(p‖q) averages log(p/q) under p."),
        ([forward / np.log(2), reverse / np.log(2)], "These are in bits (log base 2); the chapter uses nats."),
        ([-forward, -reverse], "Check the sign: a KL divergence is never negative."),
    ])
    if hint:
        return False, hint
    if np.any(values < 0):
        return False, "A KL divergence is never negative; check the sign and the order of p and q in the log."
    return False, "Not these values. KL(p‖q) = Σ p log(p/q), summed over the three outcomes."


@checker("4.4")
def gaussian_mle(answer):
    """Answer: (w, b, s2), the maximum-likelihood fit of y = w·x + b + N(0, s²) to LINE_X, LINE_Y."""
    values = real_numbers(answer, 3)
    if values is None:
        return False, "Give a triple (w, b, s2) of finite real numbers."
    w, b = np.polyfit(LINE_X, LINE_Y, 1)
    sse = float(np.sum((LINE_Y - (w * LINE_X + b)) ** 2))
    n = LINE_X.size
    if not close(values[:2], [w, b]):
        return False, "w and b are off: with s fixed, maximising the Gaussian likelihood is minimising squared error."
    s2 = values[2]
    if close(s2, sse / n):
        return True, "The likelihood is highest at these three values."
    hint = first_hint(s2, [
        (sse / (n - 2), "That is the unbiased estimate (two parameters were fitted, hence n − 2); the "
                        "likelihood peaks elsewhere: set the derivative of the NLL with respect to s² to zero."),
        (sse / (n - 1), "Dividing by n − 1 does not give an unbiased estimate here: the fit spent two parameters "
                        "(w and b), so unbiasedness would need n − 2. And the exercise asks for the maximum of the "
                        "likelihood: set the derivative of the NLL with respect to s² to zero."),
        (np.sqrt(sse / n), "That is s, a standard deviation; the exercise asks for the variance s²."),
        (sse, "That is the sum of squared residuals; the likelihood has one factor per point."),
    ])
    if hint:
        return False, hint
    return False, "w and b are right; s² is not. Write the mean NLL as a function of s² and minimise it."


def _two_arrays(pair):
    """The reader's pair of gradients as two float arrays (raises if it is not a pair)."""
    first, second = (np.asarray(g, dtype=float) for g in pair)
    return first, second


@checker("4.5")
def reparameterised_gradient(answer):
    """Answer: a function grad(mu, s, eps) -> (d/dmu, d/ds) of z², z = mu + s·eps."""
    if not callable(answer):
        return False, "Give a function grad(mu, s, eps) that returns a pair of arrays."
    mu, s = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.2, 0.7])
    eps = np.array([0.3, -1.1, 0.8])
    got, error = call(lambda: _two_arrays(answer(mu, s, eps)))
    if error:
        return False, f"Calling grad(mu, s, eps) with arrays of shape (3,) failed: {error}"
    got_mu, got_s = got
    if got_mu.shape != mu.shape or got_s.shape != mu.shape:
        return False, f"Return two arrays of shape {mu.shape}, one entry per (mu, s, eps) triple."
    z = mu + s * eps
    ok_mu, ok_s = close(got_mu, 2 * z), close(got_s, 2 * z * eps)
    if ok_mu and ok_s:
        return True, "Averaged over ε ~ N(0, 1) these give 2μ and 2s, the gradients of E[z²] = μ² + s²."
    if ok_mu and close(got_s, 2 * z):
        return False, "d/dmu is right. For d/ds, remember dz/ds is not 1."
    if close(got_mu, 2 * mu) or close(got_s, 2 * s):
        return False, "Those are the exact gradients of E[z²]; the exercise asks for the one-sample gradient at eps."
    if ok_mu:
        return False, "d/dmu is right; d/ds is not. Apply the chain rule through z = mu + s·eps."
    return False, "d/dmu is not right: differentiate z² through z = mu + s·eps, holding eps fixed."
