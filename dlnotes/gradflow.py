"""Vanishing and exploding gradients: what a deep MLP looks like at initialisation.

The network is ``depth`` blocks of the same width, each

    z_l = h_{l−1} W_lᵀ + b_l  [→ BatchNorm]  → a_l = act(z_l)
    h_l = a_l                     (plain)
    h_l = h_{l−1} + a_l           (residual)

on a fixed Gaussian batch h_0 = x ~ N(0, 1) of shape (batch, width), with the loss
L = ½·mean(h_L²). Backpropagation multiplies the gradient by one Jacobian per block,

    ∂L/∂h_{l−1} = (∂L/∂h_l · act′(z_l)) W_l      (+ ∂L/∂h_l with a skip connection),

so ‖∂L/∂W_l‖ shrinks or grows geometrically with the distance from the loss unless
act′ ≈ 1 where the units live, the initialisation keeps W_l's gain near 1 (Xavier for tanh,
He for ReLU), batch norm rescales, or the skip adds an identity path.

``profile(depth, ...)`` returns, for l = 1 … depth, the gradient norm ‖∂L/∂W_l‖_F and the standard
deviation of h_l; ``profiles(depths, ...)`` does several depths at the cost of about one.
Everything is deterministic for a given ``seed``.
"""

from dataclasses import dataclass

import numpy as np

from dlnotes import init as weight_init
from dlnotes._checks import check_choice, check_generator, check_int
from dlnotes.layers import BatchNorm1d, Linear, Sequential, activation_layer

ACTIVATIONS = ("sigmoid", "tanh", "relu", "gelu")
INITS = ("small", "xavier", "he")


def _weight(init, shape, rng):
    """small: N(0, 0.01²); xavier: N(0, 2/(fan_in + fan_out)); he: N(0, 2/fan_in)."""
    if init == "small":
        return weight_init.normal(shape, 0.01, rng=rng)
    if init == "xavier":
        return weight_init.xavier_normal(shape, rng=rng)
    return weight_init.kaiming_normal(shape, nonlinearity="relu", rng=rng)


def build_mlp(depth, width, activation, init, batchnorm=False, *, rng):
    """``depth`` blocks Sequential(Linear(width, width), [BatchNorm1d(width)], act), as a list.

    Weights drawn by ``init`` (one of ``INITS``), biases zero; ``activation`` one of ``ACTIVATIONS``.
    """
    where = "build_mlp"
    depth = check_int(depth, "depth", where, low=1)
    width = check_int(width, "width", where, low=1)
    check_choice(activation, "activation", where, ACTIVATIONS)
    check_choice(init, "init", where, INITS)
    check_generator(rng, where)
    blocks = []
    for _ in range(depth):
        linear = Linear(width, width, rng=rng)
        linear.params["weight"][...] = _weight(init, (width, width), rng)
        linear.params["bias"][...] = 0.0
        norm = [BatchNorm1d(width)] if batchnorm else []
        blocks.append(Sequential(linear, *norm, activation_layer(activation, where)))
    return blocks


@dataclass(frozen=True)
class Profile:
    """grad_norms[l] = ‖∂L/∂W_{l+1}‖_F and activation_stds[l] = std(h_{l+1}), shapes (depth,); loss = L."""

    grad_norms: np.ndarray
    activation_stds: np.ndarray
    loss: float


def _frobenius(a):
    """‖a‖_F, scaled by the largest entry first: vanishing gradients of 1e-170 would square to 0."""
    top = np.abs(a).max()
    return top * np.linalg.norm(a / top) if top > 0 else 0.0


def _weight_grad_norms(blocks, h, residual):
    """Backpropagate L = ½·mean(h²) from the top of ``blocks``; ‖∂L/∂W‖_F of each block, bottom first."""
    grad = h / h.size  # ∂L/∂h
    for block in reversed(blocks):
        through = block.backward(grad)
        grad = grad + through if residual else through
    return np.array([_frobenius(block[0].grads["weight"]) for block in blocks])


def profiles(depths, width=64, activation="tanh", init="xavier", residual=False, batchnorm=False, batch=128,
             seed=0):
    """{depth: Profile} for each depth in ``depths`` (see the module docstring).

    Recipe: rng = default_rng(seed); x = rng.standard_normal((batch, width)); then
    build_mlp(max(depths), …, rng=rng). Weights are drawn block after block, so the network of
    depth d is the first d blocks of the deepest one: one forward pass serves every depth, and
    each depth gets its own backward pass from its own loss ½·mean(h_d²).
    """
    where = "profiles"
    depths = sorted({check_int(d, "depth", where, low=1) for d in depths})
    if not depths:
        raise ValueError(f"{where}: depths must name at least one depth, got none")
    batch = check_int(batch, "batch", where, low=2)
    width = check_int(width, "width", where, low=1)
    check_choice(activation, "activation", where, ACTIVATIONS)
    check_choice(init, "init", where, INITS)
    rng = np.random.default_rng(check_int(seed, "seed", where, low=0))
    x = rng.standard_normal((batch, width))
    blocks = build_mlp(depths[-1], width, activation, init, batchnorm, rng=rng)
    hs = []
    h = x
    for block in blocks:
        a = block.forward(h, train=True)
        h = h + a if residual else a
        hs.append(h)
    stds = np.array([h.std() for h in hs])
    result = {}
    for d in depths:
        top = hs[d - 1]
        result[d] = Profile(_weight_grad_norms(blocks[:d], top, residual), stds[:d], float(0.5 * np.mean(top * top)))
    return result


def profile(depth, width=64, activation="tanh", init="xavier", residual=False, batchnorm=False, batch=128, seed=0):
    """Gradient norms and activation stds per block of a fresh network of ``depth`` blocks."""
    depth = check_int(depth, "depth", "profile", low=1)
    return profiles((depth,), width, activation, init, residual, batchnorm, batch, seed)[depth]
