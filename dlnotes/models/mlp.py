"""The multilayer perceptron."""

import numpy as np

from dlnotes._checks import check_bool, check_int, check_real
from dlnotes.layers.activation import ACTIVATION_LAYERS, activation_layer
from dlnotes.layers.base import init_rng
from dlnotes.layers.container import Sequential, require_same_structure
from dlnotes.layers.dropout import Dropout
from dlnotes.layers.linear import Linear
from dlnotes.layers.norm import BatchNorm1d
from dlnotes.models.classifier import Classifier


class MLP(Classifier):
    """A fully connected network: for each hidden layer

        Linear → [BatchNorm1d] → activation → [Dropout]

    then a last Linear with no activation (its outputs are logits, or regression values).
    sizes = [in, h1, …, out] gives len(sizes) − 1 Linear layers; x (N, in) → (N, out).
    activation: one of "relu", "sigmoid", "tanh", "leaky_relu", "gelu". ``rng`` initialises the
    weights and draws the dropout masks. ``to_torch()`` gives the equivalent nn.Sequential.
    """

    def __init__(self, sizes, activation="relu", *, rng, batchnorm=False, dropout=0.0, dtype=np.float64):
        where = "MLP"
        if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
            raise ValueError(f"{where}: sizes must be a list of at least the input and output sizes, got {sizes!r}")
        sizes = [check_int(size, f"sizes[{i}]", where, low=1) for i, size in enumerate(sizes)]
        batchnorm = check_bool(batchnorm, "batchnorm", where)
        dropout = check_real(dropout, "dropout", where, low=0.0, high=1.0, high_open=True)
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(fan_in, fan_out, rng=rng, dtype=dtype))
            if i < len(sizes) - 2:  # a hidden layer
                if batchnorm:
                    layers.append(BatchNorm1d(fan_out, dtype=dtype))
                layers.append(activation_layer(activation, where))
                if dropout > 0:
                    layers.append(Dropout(dropout, rng=rng))
        super().__init__(*layers)
        self.sizes, self.activation = sizes, activation
        self.batchnorm, self.dropout = batchnorm, dropout

    @classmethod
    def structure_from_torch(cls, module, rng):
        """Read sizes, activation, batch norm and dropout off an nn.Sequential laid out as above."""
        where = "MLP.from_torch"
        structure = Sequential.structure_from_torch(module, rng)
        linears = [layer for layer in structure if isinstance(layer, Linear)]
        if not linears:
            raise ValueError(f"{where}: module must contain at least one Linear, got {module!r}")
        names = {kind: name for name, kind in ACTIVATION_LAYERS.items()}
        activations = [names[type(layer)] for layer in structure if type(layer) in names]
        dropouts = [layer.p for layer in structure if isinstance(layer, Dropout)]
        model = cls(
            [linears[0].in_features] + [layer.out_features for layer in linears],
            activations[0] if activations else "relu",
            rng=rng if dropouts else init_rng(rng),
            batchnorm=any(isinstance(layer, BatchNorm1d) for layer in structure),
            dropout=dropouts[0] if dropouts else 0.0,
        )
        require_same_structure(model, structure, module, where)
        return model
