"""Looking inside a network: unit health and gradient noise.

    preactivations(model, X)      the input z of every activation layer, in order (eval mode)
    dead_fraction(z)              share of ReLU units that are off (z ≤ 0) for every example
    saturated_fraction(z, name)   share of values where the activation's slope is below
                                  ``threshold`` × its peak slope (sigmoid, tanh)
    gradient_noise(model, X, y, batch_sizes, draws, rng=...)
                                  how far mini-batch gradients fall from the full-batch gradient

A dead ReLU unit receives no gradient (relu′ = 0 wherever it is off), so once it is off for every
input nothing moves its incoming weights again. A saturated sigmoid or tanh unit still receives
a gradient, but a tiny one: the backward pass multiplies by f′(z), which is near 0 in the tails.
"""

from typing import NamedTuple

import numpy as np

from dlnotes import activations, losses
from dlnotes._checks import (
    as_float_array, check_choice, check_generator, check_int, check_ndim, check_nonempty, check_real,
)
from dlnotes.layers.activation import ACTIVATION_LAYERS

_SLOPES = {  # f′ and its peak value f′(0)
    "sigmoid": (activations.sigmoid_grad, 0.25),
    "tanh": (activations.tanh_grad, 1.0),
}


def preactivations(model, X):
    """[z_1, …, z_L]: the array entering each activation layer of a Sequential ``model``.

    model: a dlnotes Sequential (an MLP, say) whose activation layers sit at its top level.
    X: the input batch. The forward pass runs in eval mode (no dropout masks, batch norm with its
    running statistics), so nothing in the model changes. Returns a list of arrays, z_l of shape
    (N, units of layer l).
    """
    layers = getattr(model, "layers", None)
    if layers is None:
        raise TypeError(f"preactivations: model must be a dlnotes Sequential, got {type(model).__name__}")
    kinds = tuple(ACTIVATION_LAYERS.values())
    h, found = X, []
    for layer in layers:
        if isinstance(layer, kinds):
            found.append(h)
        h = layer.forward(h, train=False)
    return found


def _units(z, where):
    z = as_float_array(z, "z", where)
    check_ndim(z, 2, "z", where, "(N, units)")
    check_nonempty(z, "z", where)
    return z


def dead_fraction(z):
    """Share of units j with z_ij ≤ 0 for every example i: ReLU units that output 0 on all of X.

    z: (N, units), the pre-activations of one ReLU layer. Returns a float in [0, 1].
    """
    z = _units(z, "dead_fraction")
    return float(np.mean(np.all(z <= 0, axis=0)))


def saturated_fraction(z, activation="sigmoid", threshold=0.1):
    """Share of entries z_ij where f′(z_ij) < threshold · f′(0), for f = sigmoid or tanh.

    f′(0) is the peak slope (1/4 for the sigmoid, 1 for tanh). With threshold 0.1 a value counts
    as saturated when it passes less than a tenth of that slope back: |z| > 3.64 for the sigmoid,
    |z| > 1.82 for tanh. z: (N, units). Returns a float in [0, 1].
    """
    z = _units(z, "saturated_fraction")
    check_choice(activation, "activation", "saturated_fraction", tuple(_SLOPES))
    threshold = check_real(threshold, "threshold", "saturated_fraction", low=0.0, high=1.0)
    slope, peak = _SLOPES[activation]
    return float(np.mean(slope(z) < threshold * peak))


class GradientNoise(NamedTuple):
    """Per batch size m (arrays of shape (len(batch_sizes),)):

    variance[k] = mean over draws of ‖g_B − g‖²,  cosine[k] = mean of cos∠(g_B, g);
    full_norm = ‖g‖, the norm of the full-batch gradient.
    """

    batch_sizes: np.ndarray
    variance: np.ndarray
    cosine: np.ndarray
    full_norm: float


def _flat_gradient(model, X, y, loss_grad):
    """All of ∂L/∂θ as one vector, for the mean loss over (X, y), in eval mode."""
    out = model.forward(X, train=False)
    model.backward(loss_grad(out, y))
    return np.concatenate([g.ravel() for g in model.gradients()])


def gradient_noise(model, X, y, batch_sizes, draws=50, *, rng, loss_grad=losses.cross_entropy_grad):
    """Compare mini-batch gradients g_B with the full-batch gradient g at the current parameters.

    For each m in ``batch_sizes``, draw ``draws`` batches of m distinct rows of (X, y) and average
    ‖g_B − g‖² and cos∠(g_B, g). Sampling m of N rows without replacement gives

        E‖g_B − g‖² = (tr Σ / m) · (N − m)/(N − 1),

    Σ the covariance of the N per-example gradients (normalised by N): the 1/m of independent
    draws, times a correction that reaches 0 at m = N. loss_grad: d loss / d output for the mean loss
    (default ``losses.cross_entropy_grad``). The forward passes run in eval mode; the model's
    parameters are not changed, its ``grads`` are overwritten. Returns a ``GradientNoise``.
    """
    where = "gradient_noise"
    check_generator(rng, where)
    n = len(X)
    sizes = np.array([check_int(m, "batch_sizes", where, low=1) for m in batch_sizes])
    if sizes.size == 0 or sizes.max() > n:
        raise ValueError(f"{where}: batch_sizes must be between 1 and len(X) = {n}, got {sizes.tolist()}")
    draws = check_int(draws, "draws", where, low=1)
    full = _flat_gradient(model, X, y, loss_grad)
    full_norm = float(np.linalg.norm(full))
    variance, cosine = [], []
    for m in sizes:
        g = np.stack([_flat_gradient(model, X[idx], y[idx], loss_grad)
                      for idx in (rng.permutation(n)[:m] for _ in range(draws))])  # (draws, P)
        variance.append(np.mean(np.sum((g - full) ** 2, axis=1)))
        cosine.append(np.mean(g @ full / (np.linalg.norm(g, axis=1) * full_norm)))
    return GradientNoise(sizes, np.array(variance), np.array(cosine), full_norm)
