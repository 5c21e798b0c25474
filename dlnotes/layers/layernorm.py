"""Layer normalisation (Ba, Kiros & Hinton, 2016): standardise each example over its features."""

import numbers

import numpy as np

from dlnotes._checks import as_float_array, check_int, check_real
from dlnotes.layers.base import Layer, require_torch_type


class LayerNorm(Layer):
    """y = γ ⊙ (x − μ) / √(s² + eps) + β over the last ``len(normalized_shape)`` axes, as torch.nn.LayerNorm.

    μ and s² (the biased variance, dividing by m) are computed for every example and position on
    its own, over the m = prod(normalized_shape) trailing values; γ (``weight``) and β (``bias``)
    have shape ``normalized_shape``. Unlike batch norm nothing depends on the other examples of the
    batch, so training and evaluation compute the same function and there are no running statistics.

    backward, with x̂ = (x − μ)/√(s² + eps), dx̂ = dy ⊙ γ and means over the m normalised values:

        ∂L/∂x = (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂)) / √(s² + eps)
        ∂L/∂γ = Σ dy ⊙ x̂,   ∂L/∂β = Σ dy      (sums over the leading axes)

    Shapes: x (*, *normalized_shape) → y of the same shape.
    """

    torch_args = ("normalized_shape", "eps", "elementwise_affine")

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, *, dtype=np.float64):
        super().__init__()
        where = "LayerNorm"
        if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, bool):
            normalized_shape = (normalized_shape,)
        if not isinstance(normalized_shape, (tuple, list)) or not normalized_shape:
            raise TypeError(f"{where}: normalized_shape must be an int or a non-empty tuple of ints, "
                            f"got {normalized_shape!r}")
        self.normalized_shape = tuple(check_int(n, "normalized_shape", where, low=1) for n in normalized_shape)
        self.eps = check_real(eps, "eps", where, low=0.0, low_open=True)
        if not isinstance(elementwise_affine, bool):
            raise TypeError(f"{where}: elementwise_affine must be a bool, got {type(elementwise_affine).__name__}")
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.params = {"weight": np.ones(self.normalized_shape, dtype),
                           "bias": np.zeros(self.normalized_shape, dtype)}
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}

    def forward(self, x, *, train=True):
        """x: (*, *normalized_shape) → y, same shape. ``train`` changes nothing (no batch statistics)."""
        where = self._where("forward")
        self._check_train(train)
        x = as_float_array(x, "x", where)
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k:] != self.normalized_shape or x.ndim < k:
            layout = "(*, " + ", ".join(map(str, self.normalized_shape)) + ")"
            raise ValueError(f"{where}: x must be {layout}, got shape {tuple(x.shape)}")
        axes = tuple(range(x.ndim - k, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        inv_std = 1.0 / np.sqrt(x.var(axis=axes, keepdims=True) + self.eps)
        x_hat = (x - mean) * inv_std
        y = x_hat * self.params["weight"] + self.params["bias"] if self.elementwise_affine else x_hat
        return self._save(y, x_hat, inv_std, axes)

    def backward(self, grad_out):
        """grad_out: the shape of x → ∂L/∂x; fills grads (γ, β) when elementwise_affine."""
        grad_out, (x_hat, inv_std, axes) = self._saved(grad_out)
        leading = tuple(range(grad_out.ndim - len(axes)))
        dx_hat = grad_out
        if self.elementwise_affine:
            self.grads["weight"][...] = (grad_out * x_hat).sum(axis=leading)
            self.grads["bias"][...] = grad_out.sum(axis=leading)
            dx_hat = grad_out * self.params["weight"]
        centred = dx_hat - dx_hat.mean(axis=axes, keepdims=True)
        return (centred - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)) * inv_std

    @classmethod
    def structure_from_torch(cls, module, rng):
        where = "LayerNorm.from_torch"
        require_torch_type(module, "LayerNorm", where)
        if module.elementwise_affine:
            if module.bias is None:
                raise ValueError(f"{where}: only bias=True is supported, got a module without bias")
        return cls(tuple(module.normalized_shape), module.eps, module.elementwise_affine)
