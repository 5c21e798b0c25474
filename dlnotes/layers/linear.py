"""The fully connected (dense, affine) layer."""

import math

import numpy as np

from dlnotes import init
from dlnotes._checks import as_float_array, check_bool, check_generator, check_int
from dlnotes.layers.base import Layer, init_rng, require_torch_type


class Linear(Layer):
    """y = x Wᵀ + b, as torch.nn.Linear.

    Shapes: x (*, in_features) → y (*, out_features); weight (out_features, in_features),
    bias (out_features,); ``*`` is any number of leading axes (usually just the batch N).

    backward, with the leading axes flattened into M rows:

        ∂L/∂W = dYᵀ X       (out, in)
        ∂L/∂b = Σ_rows dY   (out,)
        ∂L/∂X = dY W        (M, in)

    Default init as torch: W, b ~ U(−1/√in_features, 1/√in_features) (kaiming_uniform with a = √5
    for W). The bias is a learned parameter like W, merely initialised small.
    """

    torch_args = ("in_features", "out_features")

    def __init__(self, in_features, out_features, bias=True, *, rng, dtype=np.float64):
        super().__init__()
        self.in_features = check_int(in_features, "in_features", "Linear", low=1)
        self.out_features = check_int(out_features, "out_features", "Linear", low=1)
        bias = check_bool(bias, "bias", "Linear")
        rng = check_generator(rng, "Linear")
        shape = (self.out_features, self.in_features)
        self.params["weight"] = init.kaiming_uniform(shape, a=math.sqrt(5), rng=rng).astype(dtype)
        if bias:
            bound = 1 / math.sqrt(self.in_features)
            self.params["bias"] = init.uniform(self.out_features, bound, rng=rng).astype(dtype)
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}

    def hyperparameters(self):
        return {**super().hyperparameters(), "bias": "bias" in self.params}

    def forward(self, x, *, train=True):
        """x: (*, in_features) → (*, out_features). ``train`` is unused."""
        where = self._where("forward")
        self._check_train(train)
        x = as_float_array(x, "x", where)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"{where}: x must be (*, {self.in_features}), got shape {tuple(x.shape)}")
        y = x @ self.params["weight"].T
        if "bias" in self.params:
            y = y + self.params["bias"]
        return self._save(y, x)

    def backward(self, grad_out):
        """grad_out: (*, out_features) → ∂L/∂x: (*, in_features); fills grads."""
        grad_out, (x,) = self._saved(grad_out)
        dy = grad_out.reshape(-1, self.out_features)
        self.grads["weight"][...] = dy.T @ x.reshape(-1, self.in_features)
        if "bias" in self.params:
            self.grads["bias"][...] = dy.sum(axis=0)
        return grad_out @ self.params["weight"]

    @classmethod
    def structure_from_torch(cls, module, rng):
        require_torch_type(module, "Linear", "Linear.from_torch")
        return cls(module.in_features, module.out_features, bias=module.bias is not None, rng=init_rng(rng))
