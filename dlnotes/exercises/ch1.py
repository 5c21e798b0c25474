"""Checkers for chapter 1 (introduction). The exercise constants live here so that the notebook
and the checkers read the same numbers: ``from dlnotes.exercises.ch1 import BANDIT_MEANS``."""

import math

import numpy as np

from dlnotes.exercises import checker
from dlnotes.exercises.answers import call, close, first_hint, integer, real_number, real_numbers
from dlnotes.paradigms import kmeans_step

SIZES_TO_CHECK = ([2, 64, 64, 3], [784, 100, 10], [5, 1], [3, 7, 7, 7, 2])  # exercise 1.1
THRESHOLD_X, TARGET_X, TARGET_P = 3.0, 4.0, 0.9  # exercise 1.2
N_MODELS, N_TEST = 20, 100  # exercise 1.4
BANDIT_MEANS, BANDIT_EPSILON = (0.2, 0.5, 0.8), 0.15  # exercise 1.5


@checker("1.1")
def parameter_count(answer):
    """Answer: a function n_params(sizes) giving the number of trainable numbers of MLP(sizes)."""
    if not callable(answer):
        return False, "Give a function n_params(sizes) that returns an integer."
    for sizes in SIZES_TO_CHECK:
        got, error = call(answer, list(sizes))
        if error:
            return False, f"Calling your function raised {error}"
        if integer(got) is None:
            return False, f"n_params({sizes}) returned {type(got).__name__}; return an integer count."
        fan_in, fan_out = np.array(sizes[:-1]), np.array(sizes[1:])
        if got == int(np.sum(fan_in * fan_out + fan_out)):
            continue
        hint = first_hint(got, [
            (np.sum(fan_in * fan_out), "That counts the weights only: every output unit of a layer also has a bias."),
            (np.sum(fan_in * fan_out + fan_in), "One bias per *output* unit of each layer, not per input."),
            (np.sum(sizes), "That counts units (neurons); each unit has several parameters."),
            (np.sum(fan_in[:-1] * fan_out[:-1] + fan_out[:-1]), "The last (output) layer has parameters too."),
        ])
        return False, hint or f"n_params({sizes}) is not {got}. Count W (out × in) and b (out) of every layer."
    return True, "Weights and biases of every layer: Σ (n_in + 1)·n_out."


@checker("1.2")
def threshold_neuron(answer):
    """Answer: (w, b) with σ(w·3 + b) = 0.5 and σ(w·4 + b) = 0.9."""
    values = real_numbers(answer, 2)
    if values is None:
        return False, "Give a pair (w, b) of finite real numbers."
    w, b = values.tolist()
    slope = math.log(TARGET_P / (1 - TARGET_P))  # the logit of 0.9, per unit of x
    if math.isclose(w, slope, rel_tol=1e-6) and math.isclose(b, -THRESHOLD_X * slope, rel_tol=1e-6):
        return True, "σ crosses 0.5 where w·x + b = 0, at x = −b/w: the bias is what moves the threshold away from 0."
    if w == 0:
        return False, "With w = 0 the output is the constant σ(b): the slope must be non-zero."
    hint = first_hint((w, b), [
        ((slope, THRESHOLD_X * slope), "σ is 0.5 where w·x + b = 0; check the sign of b."),
        ((TARGET_P, -THRESHOLD_X * TARGET_P), "w is not the probability 0.9: σ(w·4 + b) must equal 0.9."),
        ((math.log10(9), -THRESHOLD_X * math.log10(9)), "σ uses e, so invert it with the natural logarithm."),
    ])
    if hint:
        return False, hint
    if math.isclose(-b / w, THRESHOLD_X, rel_tol=1e-6):
        return False, "The threshold is right; now choose the slope w so that σ(w·4 + b) = 0.9."
    return False, f"With these values σ(w·x + b) = 0.5 at x = {-b / w + 0.0:.4g}, not at x = {THRESHOLD_X:g}."


def _blobs_with_an_empty_centre():
    rng = np.random.default_rng(11)
    X = np.concatenate([rng.normal(c, 0.5, (15, 2)) for c in ((0, 0), (3, 0), (0, 3))])
    return X, np.array([[0.5, 0.5], [2.5, 0.5], [0.0, 2.5], [40.0, 40.0]])  # the last centre gets no point


@checker("1.3")
def lloyd_step(answer):
    """Answer: a function step(X, centers) -> (new_centers (K, d), labels (N,)), one Lloyd step."""
    if not callable(answer):
        return False, "Give a function step(X, centers) that returns (new_centers, labels)."
    X, centers = _blobs_with_an_empty_centre()
    got, error = call(answer, X, centers.copy())
    if error:
        return False, f"Calling your function raised {error}"
    if not isinstance(got, tuple) or len(got) != 2:
        return False, "Return a pair (new_centers, labels)."
    new, labels = (np.asarray(a) for a in got)
    ref_new, ref_labels = kmeans_step(X, centers)
    if new.shape == ref_labels.shape and labels.shape == ref_new.shape:
        return False, "The pair is in the wrong order: (new_centers, labels)."
    if labels.shape != ref_labels.shape:
        return False, f"labels must have one entry per point, shape {ref_labels.shape}; got {labels.shape}."
    if new.shape != ref_new.shape:
        return False, f"new_centers must have the shape of centers {ref_new.shape}; got {new.shape}."
    if not np.array_equal(labels, ref_labels):
        far = np.array_equal(labels, ((X[:, None] - centers[None]) ** 2).sum(-1).argmax(1))
        return False, ("Each point goes to its *nearest* centre (argmin), not the farthest." if far
                       else "Some points are assigned to the wrong centre: compare squared distances to every centre.")
    if np.any(~np.isfinite(new)):
        return False, "A centre that gets no point has no mean (NaN): leave it where it was."
    if np.allclose(new[:3], ref_new[:3]) and not np.allclose(new[3], centers[3]):
        return False, "A centre that gets no point should stay where it was."
    if not close(new, ref_new, rtol=1e-10):
        return False, "The assignments are right but the new centres are not: each is the mean of its points."
    return True, "Assignment then update: both halves can only lower the k-means objective."


def _expected_best(n_models, n_test):
    """E[max of n_models Binomial(n_test, 1/2)] / n_test, from E[M] = Σ_{k≥1} P(M ≥ k)."""
    k = np.arange(n_test + 1)
    pmf = np.array([math.comb(n_test, int(i)) for i in k], dtype=float) / 2.0**n_test
    cdf = np.cumsum(pmf)
    return float(np.sum(1.0 - cdf[:-1] ** n_models)) / n_test


@checker("1.4")
def best_of_many(answer):
    """Answer: the expected test accuracy of the best of N_MODELS coin-flip classifiers on N_TEST examples."""
    value = real_number(answer)
    if value is None:
        return False, "Give one finite real number: an accuracy between 0 and 1."
    exact = _expected_best(N_MODELS, N_TEST)
    if abs(value - exact) < 0.003:
        return True, ("No model is better than a coin, yet the winner's test score is above 0.5 on average: "
                      "choosing on the test set spends it.")
    if abs(value - 0.5) < 1e-9:
        return False, "0.5 is the expected score of any one model; the question asks about the best of them."
    if value > 1:
        return False, "An accuracy is a fraction between 0 and 1."
    side = "low" if value < exact else "high"
    return False, f"Too {side}. The maximum of {N_MODELS} binomial counts: use P(max < k) = P(one < k)^{N_MODELS}."


@checker("1.5")
def epsilon_greedy_reward(answer):
    """Answer: the long-run mean reward per step of ε-greedy on BANDIT_MEANS with ε = BANDIT_EPSILON."""
    value = real_number(answer)
    if value is None:
        return False, "Give one finite real number: the expected reward per step."
    means, eps = np.array(BANDIT_MEANS), BANDIT_EPSILON
    best = means.max()
    if math.isclose(value, (1 - eps) * best + eps * means.mean(), rel_tol=1e-6):
        return True, "Exploring costs ε·(best − average) per step, the price of never being sure."
    hint = first_hint(value, [
        (best, "That is the reward of always pulling the best arm; with probability ε the agent explores."),
        ((1 - eps) * best + eps * np.mean(means[means < best]),
         "An exploring step picks any arm uniformly at random, the best one included."),
        (means.mean(), "That is a purely random agent; ε-greedy exploits with probability 1 − ε."),
    ])
    return False, hint or "Average the reward over the two cases: exploit (probability 1 − ε) and explore (ε)."
