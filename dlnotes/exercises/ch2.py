"""Checkers for chapter 2 (deep-learning basics). The exercise data live here so the notebook and
the checker read the same numbers: ``from dlnotes.exercises.ch2 import POINT_21``."""

import numpy as np

from dlnotes import activations, losses
from dlnotes.exercises import checker
from dlnotes.exercises.answers import call, close, first_hint, integer, real_numbers
from dlnotes.layers import Linear, ReLU, Sequential

POINT_21 = (0.5, -1.0, 2.0)  # exercise 2.1: (x, y, z) for g = tanh(x·y) + x·z²
SIZES_22 = (64, 128, 32, 10)  # exercise 2.2: the layer sizes of an MLP
CHAIN_24 = {"depth": 20, "w": 3.0, "b": -1.5, "h0": 0.5}  # exercise 2.4: h_k = σ(w·h_{k−1} + b)


@checker("2.1")
def gradient_by_hand(answer):
    """Answer: (∂g/∂x, ∂g/∂y, ∂g/∂z) of g = tanh(x·y) + x·z² at POINT_21."""
    got = real_numbers(answer, 3)
    if got is None:
        return False, "Give three finite real numbers: (dg/dx, dg/dy, dg/dz)."
    x, y, z = POINT_21
    slope = activations.tanh_grad(x * y)  # tanh′ at the point
    want = np.array([y * slope + z**2, x * slope, 2 * x * z])
    if close(got, want):
        return True, "x reaches g along two paths; their contributions add up."
    if close(got, -want):
        return False, "Every sign is flipped: differentiate g itself, not −g."
    if close(got[0], y * slope) or close(got[0], z**2):
        return False, "dg/dx misses a path: x enters g twice, through tanh(x·y) and through x·z²; add both."
    if close(got[:2], [y * np.tanh(x * y) + z**2, x * np.tanh(x * y)]):
        return False, "The derivative of tanh(u) is 1 − tanh²(u), not tanh(u)."
    wrong = [name for name, g, w in zip(("dg/dx", "dg/dy", "dg/dz"), got, want) if not close(g, w)]
    return False, f"{', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} off. Apply the chain rule node by node."


def _shape_list(answer):
    """``answer`` as a list of shape tuples, or None if it is not a list of sequences of integers."""
    if isinstance(answer, (str, bytes)):
        return None
    try:
        shapes = [tuple(integer(n) for n in s) for s in answer]
    except TypeError:
        return None
    return shapes if all(None not in s for s in shapes) else None


@checker("2.2")
def parameter_shapes(answer):
    """Answer: (shapes, count): the shapes of [W1, b1, W2, b2, …] of an MLP with layer sizes SIZES_22,
    in torch's order, and its number of trainable parameters."""
    pairs = list(zip(SIZES_22[:-1], SIZES_22[1:]))
    want = [shape for n_in, n_out in pairs for shape in ((n_out, n_in), (n_out,))]
    if _shape_list(answer) is not None and len(answer) != 2:
        return False, "Give a pair (shapes, count): the list of shapes and the number of parameters."
    try:
        shape_answer, count_answer = answer
    except (TypeError, ValueError):
        return False, "Give a pair (shapes, count): a list of shape tuples, e.g. [(3, 2), (3,), …], and an integer."
    shapes, count = _shape_list(shape_answer), integer(count_answer)
    if shapes is None:
        return False, "The first item must be a list of shapes, one tuple per parameter array, e.g. [(3, 2), (3,), …]."
    if count is None:
        return False, f"The second item must be the parameter count as an integer, got {type(count_answer).__name__}."
    if shapes != want:
        if shapes == [s for s in want if len(s) == 2]:
            return False, "Every Linear layer also has a bias vector; list it after its weight matrix."
        if shapes == [s[::-1] if len(s) == 2 else s for s in want]:
            return False, "The weight matrices are transposed: torch stores W as (out, in), y = x Wᵀ + b."
        if shapes == [(1,) + s if len(s) == 1 else s for s in want]:
            return False, "A bias is a vector of shape (out_features,); broadcasting adds it to every row."
        if len(shapes) != len(want):
            return False, f"Expected {len(want)} arrays: one weight matrix and one bias per Linear layer."
        return False, "Some shapes are off. Layer k maps sizes[k] inputs to sizes[k+1] outputs."
    total = sum(int(np.prod(s)) for s in want)
    if count == total:
        return True, "W is (out, in) and b is (out,) for every Linear layer, and the count adds up their sizes."
    hint = first_hint(count, [
        (sum(n_in * n_out for n_in, n_out in pairs), "The shapes are right; the count leaves out the biases."),
        (sum(n_out for _, n_out in pairs), "The shapes are right; the count leaves out the weight matrices."),
        (sum(SIZES_22), "The shapes are right; the count adds up units, not parameters."),
        (sum((n_in + 1) * n_out for n_in, n_out in pairs[:-1]), "The shapes are right; count the output layer too."),
    ], rtol=0, atol=0.5)
    return False, hint or "The shapes are right but the count is not: add up the product of every shape."


@checker("2.3")
def softplus_backward(answer):
    """Answer: a function backward(x, g) returning ∂L/∂x for y = softplus(x) = log(1 + eˣ), g = ∂L/∂y."""
    if not callable(answer):
        return False, "Give a function backward(x, g) that returns an array of the shape of x."
    x = np.array([[-800.0, -3.0, -0.5], [0.0, 0.7, 800.0]])
    g = np.array([[0.3, -1.2, 2.0], [1.0, -0.4, 0.9]])
    result, error = call(answer, x, g, quiet=True)
    if error:
        return False, f"Calling your function failed: {error}"
    got = np.asarray(result, dtype=float)
    if got.shape != x.shape:
        return False, f"Return an array of the shape of x {x.shape}, got {got.shape}."
    want = g * activations.sigmoid(x)
    if not np.all(np.isfinite(got)):
        return False, "Some entries are inf or nan at x = ±800: rewrite the derivative so nothing overflows."
    if close(got, want):
        return True, "softplus′ = σ, evaluated stably, times the upstream gradient."
    if close(got, activations.sigmoid(x)):
        return False, "That is dy/dx alone: multiply by the upstream gradient g (the chain rule)."
    if close(got, g * np.logaddexp(0.0, x)):
        return False, "That is g times softplus(x), the forward value; differentiate it first."
    return False, "Not the gradient. Differentiate log(1 + eˣ) and check it with numerical_gradient."


@checker("2.4")
def sigmoid_chain_ratio(answer):
    """Answer: ∂h_d/∂h_0 for the chain h_k = σ(w·h_{k−1} + b) described by CHAIN_24."""
    got = real_numbers(answer, 1)
    if got is None:
        return False, "Give one finite real number: the derivative dh_d/dh_0."
    d, w, b, h = CHAIN_24["depth"], CHAIN_24["w"], CHAIN_24["b"], CHAIN_24["h0"]
    factors = []
    for _ in range(d):  # the chain rule: one factor w·σ′(z_k) per layer
        z = w * h + b
        factors.append(w * activations.sigmoid_grad(z))
        h = activations.sigmoid(z)
    want = float(np.prod(factors))
    value = got[0]
    if close(value, want):
        return True, "Every layer sits at the same z, so every factor w·σ′(z) is the same: geometric decay with depth."
    slopes = float(np.prod([f / w for f in factors]))
    hints = [
        (slopes, "Each layer contributes w·σ′(z), not σ′(z) alone: the weight is part of the Jacobian."),
        (1.0 / want, "That is the reciprocal: backward multiplies by the Jacobians, it does not divide."),
        (w**d, "σ′ is missing: each layer also multiplies by the slope of the sigmoid at its input."),
        (want / factors[0], "Count the layers: there is one factor per layer, d in all."),
        (want * factors[0], "Count the layers: there is one factor per layer, d in all."),
    ]
    hint = first_hint(value, hints)
    if hint:
        return False, hint
    return False, "Not this value. Run the forward pass first: what is z at every layer?"


def _two_layer_grads(x, y, W1, b1, W2, b2):
    """The reference for 2.5: the layer-by-layer backward of dlnotes.layers."""
    rng = np.random.default_rng(0)  # any weights: they are replaced at once
    (n_hidden, n_in), n_out = W1.shape, W2.shape[0]
    net = Sequential(Linear(n_in, n_hidden, rng=rng), ReLU(), Linear(n_hidden, n_out, rng=rng))
    net.load_state_dict({"0.weight": W1, "0.bias": b1, "2.weight": W2, "2.bias": b2})
    net.backward(losses.mse_grad(net.forward(x), y))
    return [g.copy() for g in net.gradients()]


@checker("2.5")
def two_layer_backward(answer):
    """Answer: grads(x, y, W1, b1, W2, b2) -> (dW1, db1, dW2, db2) for L = mse(relu(x W1ᵀ + b1) W2ᵀ + b2, y)."""
    if not callable(answer):
        return False, "Give a function grads(x, y, W1, b1, W2, b2) returning (dW1, db1, dW2, db2)."
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((8, 4)), rng.standard_normal((8, 3))
    W1, b1 = rng.standard_normal((5, 4)), rng.standard_normal(5)
    W2, b2 = rng.standard_normal((3, 5)), rng.standard_normal(3)
    result, error = call(answer, x, y, W1, b1, W2, b2, quiet=True)
    if error:
        return False, f"Calling your function failed: {error}"
    try:
        got = [np.asarray(g, dtype=float) for g in result]
    except (TypeError, ValueError):
        return False, "Return a tuple of four arrays (dW1, db1, dW2, db2)."
    names = ("dW1", "db1", "dW2", "db2")
    want = _two_layer_grads(x, y, W1, b1, W2, b2)
    if len(got) != 4:
        return False, f"Return four arrays (dW1, db1, dW2, db2), got {len(got)}."
    for name, g, w in zip(names, got, want):
        if g.shape != w.shape:
            if g.shape == w.shape[::-1]:
                return False, f"{name} is transposed: a gradient has the shape of its parameter, {w.shape}."
            return False, f"{name} must have the shape of its parameter {w.shape}, got {g.shape}."
    if all(close(g, w) for g, w in zip(got, want)):
        return True, "All four match the layer-by-layer backward of dlnotes.layers."
    if all(close(g, -w) for g, w in zip(got, want)):
        return False, "Every sign is flipped: the loss is mean((ŷ − y)²), its gradient is 2(ŷ − y)/n."
    factors = (
        (y.shape[1], "the mean runs over every entry of ŷ (n = ŷ.size), not only over the rows"),
        (0.5, "the factor 2 from the square"),
        (y.size, "the 1/n of the mean"),
        (y.size / 2, "both the 2 from the square and the 1/n of the mean"),
    )
    for factor, why in factors:
        if all(close(g, factor * w) for g, w in zip(got, want)):
            return False, f"Off by a constant factor: in ∂L/∂ŷ, check {why}."
    if close(got[2], want[2]) and close(got[3], want[3]):
        return False, "dW2 and db2 are right; the first layer is not. Did you multiply by relu′(z1) on the way down?"
    return False, "dW2 or db2 is off already: start from ∂L/∂ŷ = 2(ŷ − y)/n with n = ŷ.size."
