"""Model surgery: apply pruning masks and quantised weights to a whole network (chapter 7).

``dlnotes.compress`` decides *which* weights to remove or how to round them, one array at a
time. This module puts the result back into a network:

    weight_arrays    the weight matrices / kernels of a model (ndim ≥ 2): what gets pruned or quantised
    with_weights     a copy of a model with those arrays replaced (pruned or fake-quantised)
    MaskedOptimizer  wraps an optimiser so pruned weights stay exactly zero while fine-tuning
    remove_units     structured pruning made real: a smaller dense network without the pruned units

Biases are left alone: they are few (one per unit), and pruning or coarsely rounding them saves
almost nothing while shifting every activation.
"""

import copy

import numpy as np

from dlnotes._checks import check_int
from dlnotes.layers.activation import ACTIVATION_LAYERS
from dlnotes.layers.base import Layer
from dlnotes.layers.container import Sequential
from dlnotes.layers.dropout import Dropout
from dlnotes.layers.linear import Linear

# layers that act on each unit separately, so a removed unit can simply be skipped through them
_ELEMENTWISE = (*ACTIVATION_LAYERS.values(), Dropout)


def weight_arrays(model):
    """The parameter arrays with at least 2 dimensions (Linear weights, conv kernels), in
    ``model.parameters()`` order. These are the live arrays: changing them changes the model."""
    if not isinstance(model, Layer):
        raise TypeError(f"weight_arrays: model must be a dlnotes Layer, got {type(model).__name__}")
    return [p for p in model.parameters() if p.ndim >= 2]


def with_weights(model, weights):
    """A deep copy of ``model`` whose weight arrays (as listed by :func:`weight_arrays`) are
    replaced by ``weights``, e.g. ``compress.apply_masks(...)`` or fake-quantised copies.
    The original model is not modified."""
    where = "with_weights"
    new = copy.deepcopy(model)
    targets = weight_arrays(new)
    if len(weights) != len(targets):
        raise ValueError(
            f"{where}: weights must have one array per weight of model ({len(targets)}), got {len(weights)}"
        )
    for i, (target, w) in enumerate(zip(targets, weights)):
        w = np.asarray(w)
        if w.shape != target.shape:
            raise ValueError(f"{where}: weights[{i}] must have shape {target.shape}, got {w.shape}")
        target[...] = w
    return new


class MaskedOptimizer:
    """Keep pruned weights at zero during fine-tuning: after every step, w ← w ⊙ mask.

        optimizer.step(grads)                   # the wrapped rule (SGD, Adam, ...), unchanged
        w_j ← w_j ⊙ m_j   for each masked weight

    Zeroing after the step (rather than only zeroing the gradient) also undoes what momentum or
    Adam's running averages would otherwise move. ``weights`` must be arrays the optimiser
    updates (e.g. ``weight_arrays(model)``), ``masks`` boolean arrays of the same shapes
    (True = keep). ``lr`` reads and sets the wrapped optimiser's rate, so ``fit`` and schedules
    work unchanged. The weights are masked once at construction.
    """

    def __init__(self, optimizer, weights, masks):
        where = "MaskedOptimizer"
        if not hasattr(optimizer, "step") or not hasattr(optimizer, "params"):
            raise TypeError(f"{where}: optimizer must be a dlnotes.optim optimiser, got {type(optimizer).__name__}")
        if len(weights) != len(masks):
            raise ValueError(f"{where}: masks must have one mask per weight ({len(weights)}), got {len(masks)}")
        owned = {id(p) for p in optimizer.params}
        for i, (w, m) in enumerate(zip(weights, masks)):
            if id(w) not in owned:
                raise ValueError(f"{where}: weights[{i}] must be one of the optimiser's params (the same array)")
            if np.shape(m) != w.shape:
                raise ValueError(f"{where}: masks[{i}] must have shape {w.shape}, got {np.shape(m)}")
        self.optimizer = optimizer
        self.weights = list(weights)
        self.masks = [np.asarray(m, dtype=bool) for m in masks]
        self._apply()

    @property
    def lr(self):
        return self.optimizer.lr

    @lr.setter
    def lr(self, value):
        self.optimizer.lr = value

    def _apply(self):
        for w, m in zip(self.weights, self.masks):
            w *= m

    def step(self, grads):
        """One step of the wrapped optimiser, then re-apply the masks."""
        self.optimizer.step(grads)
        self._apply()


def remove_units(model, index, keep):
    """Delete hidden units for real: a smaller dense copy of ``model``.

    ``model.layers[index]`` must be a Linear(in, out) and the next Linear, at some j > index,
    must be reachable through parameter-free element-wise layers only (ReLU, Tanh, ...).
    keep: bool (out,), True for the units to keep. Unit u is row u of W_index and entry u of
    b_index (its incoming weights) and column u of W_j (its outgoing weights), so

        W_index ← W_index[keep, :],  b_index ← b_index[keep],  W_j ← W_j[:, keep]

    Removing a unit equals silencing it: the smaller network computes exactly what the old one
    computes when the removed units output 0 (their rows of W_index and entries of b_index set to
    0, e.g. with ``compress.channel_prune_mask(W_index, f, axis=0)``, and an activation with
    f(0) = 0 such as ReLU). It does so with fewer multiply-adds in both matrix products, because
    the matrices themselves are smaller. For an MLP ``sizes`` is updated.
    """
    where = "remove_units"
    if not isinstance(model, Sequential):
        raise TypeError(f"{where}: model must be a dlnotes Sequential (e.g. an MLP), got {type(model).__name__}")
    layers = model.layers
    index = check_int(index, "index", where, low=0)
    if index >= len(layers) or not isinstance(layers[index], Linear):
        raise ValueError(f"{where}: index must point at a Linear layer of model, got {index}")
    nxt = index + 1
    while nxt < len(layers) and isinstance(layers[nxt], _ELEMENTWISE):
        nxt += 1
    if nxt == len(layers) or not isinstance(layers[nxt], Linear):
        got = "the end of the model" if nxt == len(layers) else type(layers[nxt]).__name__
        raise ValueError(f"{where}: layer {index} must be followed by element-wise layers and then a Linear, got {got}")
    keep = np.asarray(keep)
    out = layers[index].out_features
    if keep.shape != (out,) or keep.dtype != bool:
        raise ValueError(f"{where}: keep must be a bool array of shape ({out},), got {keep.dtype} {keep.shape}")
    if not keep.any():
        raise ValueError(f"{where}: keep must keep at least one unit, got all False")
    new = copy.deepcopy(model)
    first, second = new.layers[index], new.layers[nxt]
    first.params = {name: p[keep] for name, p in first.params.items()}
    second.params["weight"] = second.params["weight"][:, keep]
    for layer in (first, second):
        layer.grads = {name: np.zeros_like(p) for name, p in layer.params.items()}
    first.out_features = second.in_features = int(keep.sum())
    if hasattr(new, "sizes"):
        new.sizes = [new.sizes[0]] + [layer.out_features for layer in new.layers if isinstance(layer, Linear)]
    return new
