"""Checkers for chapter 5 (activations, losses, optimisers, training techniques). The exercise data
live here so the notebook and the checker read the same numbers:
``from dlnotes.exercises.ch5 import ADAM_GRADS``."""

import numpy as np

from dlnotes import activations, init, optim
from dlnotes.exercises import checker
from dlnotes.exercises.answers import call, close, first_hint, float_array

TANH_X = np.linspace(-4.0, 4.0, 17)  # exercise 5.1: where the reader's tanh′ is evaluated
SMOOTHING_K, SMOOTHING_EPS = 10, 0.1  # exercise 5.2: classes and label smoothing ε
ADAM_START = np.array([1.0, -0.5])  # exercise 5.3: θ₀ and one gradient per step
ADAM_GRADS = np.array([[0.5, -2.0], [0.1, -1.0], [-0.3, 0.2]])
ADAM_LR = 0.1
HE_SHAPE = (32, 64)  # exercise 5.4: weight of nn.Linear(64, 32), (out, in)
BN_BATCH = np.array([[1.0, 0.0, 5.0], [2.0, 0.5, 5.5], [4.0, -0.5, 4.0], [7.0, 1.0, 6.5], [1.0, 0.0, 4.0]])
BN_MOMENTUM = 0.1  # exercise 5.5: running_var after one training batch, starting from 1


def _verdict(value, want, praise, mistakes, fallback):
    """(True, praise) for the right value, else (False, the matching hint or the fallback)."""
    if close(value, want):
        return True, praise
    return False, first_hint(value, mistakes) or fallback


@checker("5.1")
def tanh_slope_from_sigmoid(answer):
    """Answer: a function x -> tanh′(x), written with the sigmoid only (tanh x = 2σ(2x) − 1)."""
    if not callable(answer):
        return False, "Give a function that takes an array x and returns tanh′(x) elementwise."
    got, error = call(lambda: float_array(answer(TANH_X), TANH_X.shape), quiet=True)
    if error:
        return False, f"Calling your function on an array failed: {error}"
    if got is None:
        return False, f"Return one finite number per entry of x: shape {TANH_X.shape}."
    s2 = activations.sigmoid(2 * TANH_X)
    return _verdict(got, 1 - np.tanh(TANH_X) ** 2, "d/dx [2σ(2x) − 1] is 1 − tanh²(x) everywhere.", [
        (2 * s2 * (1 - s2), "Half the right size: the inner 2x contributes a second factor 2 (chain rule)."),
        (s2 * (1 - s2), "Two factors of 2 are missing: one from 2σ(·), one from the inner 2x."),
        (activations.sigmoid_grad(TANH_X), "That is σ′(x); differentiate 2σ(2x) − 1 instead."),
        (2 * s2 - 1, "That is tanh itself, not its derivative."),
    ], "Not tanh′. Differentiate 2σ(2x) − 1 with σ′ = σ(1 − σ) and the chain rule.")


@checker("5.2")
def smoothed_margin(answer):
    """Answer: the logit gap z_y − z_k (k ≠ y) that minimises cross-entropy with label smoothing ε, K classes."""
    got = float_array(answer, ())
    if got is None:
        return False, "Give one finite number: the gap z_y − z_k between the true class and any other."
    k, eps = SMOOTHING_K, SMOOTHING_EPS
    true_mass, other_mass = 1 - eps + eps / k, eps / k
    return _verdict(got, np.log(true_mass / other_mass),
                    "At this gap softmax(z) equals the smoothed target, so the loss cannot go lower.", [
        (np.log((1 - eps) / other_mass), "The true class also receives its share ε/K of the smoothing mass."),
        (np.log((1 - eps) / eps), "ε is spread over all K classes: each wrong class gets ε/K, not ε."),
        (np.log(true_mass / (eps / (k - 1))), "PyTorch spreads ε over all K classes (ε/K each), the true one included."),
        (true_mass / other_mass, "That is the ratio of probabilities; the logits differ by its logarithm."),
    ], "Not this gap. At the optimum softmax(z) equals the smoothed target q; take log q_y − log q_k.")


def _adam_reference():
    theta = ADAM_START.copy()
    opt = optim.Adam([theta], lr=ADAM_LR)
    for g in ADAM_GRADS:
        opt.step([g])
    return theta


def _adam_variant(bias_correct_m, bias_correct_v):
    """Adam by hand with one or both bias corrections left out (typical slips)."""
    theta, m, v = ADAM_START.copy(), 0.0, 0.0
    for t, g in enumerate(ADAM_GRADS, start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        m_hat = m / (1 - 0.9**t) if bias_correct_m else m
        v_hat = v / (1 - 0.999**t) if bias_correct_v else v
        theta = theta - ADAM_LR * m_hat / (np.sqrt(v_hat) + 1e-8)
    return theta


@checker("5.3")
def adam_by_hand(answer):
    """Answer: θ after three Adam steps (lr = ADAM_LR, default betas and eps) from ADAM_START with ADAM_GRADS."""
    got = float_array(answer, ADAM_START.shape)
    if got is None:
        return False, f"Give θ as {ADAM_START.size} finite numbers, one per coordinate."
    want = _adam_reference()
    step = want - ADAM_START
    return _verdict(got, want, "Three steps of Adam, as torch.optim.Adam takes them.", [
        (ADAM_START, "θ did not move: the moments start at 0 and must average in each new gradient."),
        (ADAM_START - step, "The sign is flipped: Adam steps against m̂, downhill."),
        (_adam_variant(False, False), "Without bias correction: divide the first moment by 1 − β1ᵗ and the second by 1 − β2ᵗ."),
        (_adam_variant(True, False), "The second moment needs its bias correction 1 − β2ᵗ too."),
        (_adam_variant(False, True), "The first moment needs its bias correction 1 − β1ᵗ too."),
        (ADAM_START - ADAM_LR * ADAM_GRADS.sum(axis=0), "That is plain SGD; Adam rescales by the moment estimates."),
    ], "Not θ after three Adam steps. Update both moments first, then bias-correct both, then step.")


@checker("5.4")
def he_std(answer):
    """Answer: the standard deviation of He (Kaiming) normal initialisation for a ReLU layer of shape HE_SHAPE."""
    got = float_array(answer, ())
    if got is None:
        return False, "Give one finite number: the standard deviation of the weights."
    fan_out, fan_in = HE_SHAPE
    want = init.calculate_gain("relu") / np.sqrt(fan_in)
    return _verdict(got, want, "With this spread the second moment of the pre-activations stays constant through ReLU layers.", [
        (np.sqrt(2 / fan_out), "That uses fan_out; He's forward rule divides by the inputs of a unit, fan_in."),
        (np.sqrt(2 / (fan_in + fan_out)), "That is Xavier/Glorot's rule with gain 1, which averages the two fans; a ReLU layer needs He's rule."),
        (2 / fan_in, "That is the variance; the question asks for the standard deviation."),
        (np.sqrt(1 / fan_in), "ReLU zeroes half of its inputs: the variance needs a factor 2 (the gain √2)."),
        (1 / np.sqrt(3 * fan_in), "That is torch's default Linear init (uniform, a = √5), not He's ReLU rule."),
    ], "Not He's standard deviation. Which fan does a forward pass depend on, and what does ReLU do to variance?")


@checker("5.5")
def running_variance(answer):
    """Answer: BatchNorm1d's running_var after one training batch BN_BATCH, momentum BN_MOMENTUM, from 1."""
    shape = (BN_BATCH.shape[1],)
    got = float_array(answer, shape)
    if got is None:
        return False, f"Give running_var as {shape[0]} finite numbers, one per feature."
    mom = BN_MOMENTUM
    unbiased, biased = BN_BATCH.var(axis=0, ddof=1), BN_BATCH.var(axis=0)
    return _verdict(got, (1 - mom) * 1.0 + mom * unbiased,
                    "The batch is normalised with the biased variance, but the running estimate uses the unbiased one.", [
        ((1 - mom) + mom * biased, "Close: the running estimate uses the unbiased variance (divide by m − 1)."),
        (mom + (1 - mom) * unbiased, "The weights are swapped: the new batch gets weight momentum = 0.1."),
        (unbiased, "That is the batch's variance alone; running_var is a moving average starting at 1."),
        (biased, "That is the batch's biased variance alone; running_var is a moving average starting at 1."),
        ((1 - mom) + mom * np.sqrt(unbiased), "That averages standard deviations; the buffer holds variances."),
    ], "Not the running variance. Average the old value 1 with the batch's unbiased variance.")
