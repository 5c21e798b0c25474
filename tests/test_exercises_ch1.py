"""Chapter 1 checkers: each accepts a reference solution computed independently of the checker
(torch, a loop, a simulation, arithmetic by hand) and explains the typical wrong answers."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from dlnotes.exercises import verdict
from dlnotes.exercises.ch1 import BANDIT_EPSILON, BANDIT_MEANS, N_MODELS, N_TEST


# 1.1 — the count torch reports for the same stack of Linear layers
def torch_count(sizes):
    layers = [torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    return sum(p.numel() for p in torch.nn.Sequential(*layers).parameters())


def test_1_1_accepts_the_count():
    ok, out = verdict("1.1", torch_count)
    assert ok and "Exercise 1.1: correct." in out


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda s: sum(a * b for a, b in zip(s[:-1], s[1:])), "weights only"),
        (lambda s: sum((a + 1) * b + a - b for a, b in zip(s[:-1], s[1:])), "not per input"),
        (lambda s: sum(s), "counts units"),
        (lambda s: torch_count(s[:-1]) if len(s) > 2 else 0, "last (output) layer"),
        (lambda s: float(torch_count(s)), "return an integer"),
        (lambda s: s.shape, "raised AttributeError"),
        (lambda s: torch_count(s) + 1, "Count W (out × in) and b (out)"),
        (1233, "Give a function"),
    ],
)
def test_1_1_explains_typical_mistakes(answer, hint):
    ok, out = verdict("1.1", answer)
    assert not ok and "not yet." in out and hint in out


# 1.2 — w = logit(0.9) = ln 9 by hand; torch.logit as the independent reference
W_12 = torch.logit(torch.tensor(0.9, dtype=torch.float64)).item()


def test_1_2_accepts_the_neuron():
    assert W_12 == pytest.approx(math.log(9), rel=1e-14)
    ok, out = verdict("1.2", (W_12, -3 * W_12))
    assert ok and "threshold" in out
    assert f"{W_12:.2f}" not in out and "= 3" not in out  # the verdict restates no number


@pytest.mark.parametrize(
    "answer, hint",
    [
        ((W_12, 3 * W_12), "sign of b"),
        ((0.9, -2.7), "not the probability"),
        ((math.log10(9), -3 * math.log10(9)), "natural logarithm"),
        ((1.0, -3.0), "threshold is right"),
        ((1.0, 0.0), "at x = 0, not at x = 3"),
        ((0.0, 1.0), "slope must be non-zero"),
        ((1.0, 2.0, 3.0), "pair (w, b)"),
        (("1", 2), "pair (w, b)"),
    ],
)
def test_1_2_explains_typical_mistakes(answer, hint):
    ok, out = verdict("1.2", answer)
    assert not ok and "not yet." in out and hint in out
    assert f"{W_12:.3f}" not in out  # the message must not give w away


# 1.3 — one Lloyd step written with loops
def loop_step(X, centers):
    labels = np.array([int(np.argmin([np.sum((x - c) ** 2) for c in centers])) for x in X])
    new = np.array([X[labels == k].mean(axis=0) if np.any(labels == k) else c for k, c in enumerate(centers)])
    return new, labels


def test_1_3_accepts_a_lloyd_step():
    ok, out = verdict("1.3", loop_step)
    assert ok and "Exercise 1.3: correct." in out


def nan_for_empty(X, centers):
    labels = np.array([int(np.argmin([np.sum((x - c) ** 2) for c in centers])) for x in X])
    with np.errstate(invalid="ignore"):  # 0/0 for the centre without points
        return np.array([X[labels == k].sum(axis=0) / np.sum(labels == k) for k in range(len(centers))]), labels


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda X, c: loop_step(X, c)[::-1], "wrong order"),
        (lambda X, c: (loop_step(X, c)[0], ((X[:, None] - c[None]) ** 2).sum(-1).argmax(1)), "nearest"),
        (lambda X, c: (loop_step(X, c)[0], np.zeros(len(X), dtype=int)), "wrong centre"),
        (nan_for_empty, "no mean (NaN)"),
        (lambda X, c: (np.vstack([loop_step(X, c)[0][:3], [[0.0, 0.0]]]), loop_step(X, c)[1]), "stay where it was"),
        (lambda X, c: (loop_step(X, c)[0] + 0.1, loop_step(X, c)[1]), "mean of its points"),
        (lambda X, c: (loop_step(X, c)[0].T, loop_step(X, c)[1]), "shape of centers"),
        (lambda X, c: loop_step(X, c)[0], "pair (new_centers, labels)"),
        (lambda X: X, "raised TypeError"),
    ],
)
def test_1_3_explains_typical_mistakes(answer, hint):
    ok, out = verdict("1.3", answer)
    assert not ok and "not yet." in out and hint in out


# 1.4 — E[max] from the distribution of the maximum, P(M = k) = F(k)^m − F(k−1)^m, and a simulation
def expected_best_accuracy():
    k = np.arange(N_TEST + 1)
    cdf = stats.binom.cdf(k, N_TEST, 0.5)
    pmf_max = cdf**N_MODELS - np.concatenate([[0.0], cdf[:-1]]) ** N_MODELS
    return float(np.sum(k * pmf_max)) / N_TEST


def test_1_4_reference_agrees_with_simulation():
    rng = np.random.default_rng(0)
    simulated = rng.binomial(N_TEST, 0.5, size=(100_000, N_MODELS)).max(axis=1).mean() / N_TEST
    assert simulated == pytest.approx(expected_best_accuracy(), abs=0.001)


def test_1_4_accepts_exact_and_simulated_answers():
    ok, out = verdict("1.4", expected_best_accuracy())
    assert ok and "above 0.5" in out
    assert f"{expected_best_accuracy():.3f}" not in out and f"{expected_best_accuracy():.2f}" not in out  # no answer
    ok, _ = verdict("1.4", expected_best_accuracy() + 0.002)  # a Monte-Carlo estimate is fine
    assert ok


@pytest.mark.parametrize(
    "answer, hint",
    [(0.5, "any one model"), (0.55, "Too low"), (0.75, "Too high"), (62.0, "between 0 and 1"), ("0.6", "one finite")],
)
def test_1_4_explains_typical_mistakes(answer, hint):
    ok, out = verdict("1.4", answer)
    assert not ok and "not yet." in out and hint in out
    assert f"{expected_best_accuracy():.3f}" not in out


# 1.5 — by hand: 0.85·0.8 + 0.15·(0.2 + 0.5 + 0.8)/3 = 0.68 + 0.075 = 0.755
def test_1_5_accepts_the_long_run_reward():
    assert BANDIT_MEANS == (0.2, 0.5, 0.8) and BANDIT_EPSILON == 0.15
    ok, out = verdict("1.5", 0.755)
    assert ok and "Exercise 1.5: correct." in out


@pytest.mark.parametrize(
    "answer, hint",
    [
        (0.8, "always pulling the best arm"),
        (0.85 * 0.8 + 0.15 * 0.35, "best one included"),
        (0.5, "purely random agent"),
        (0.7, "exploit (probability 1 − ε)"),
        (None, "one finite real number"),
    ],
)
def test_1_5_explains_typical_mistakes(answer, hint):
    ok, out = verdict("1.5", answer)
    assert not ok and "not yet." in out and hint in out
