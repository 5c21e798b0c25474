"""Batch normalisation (Ioffe & Szegedy, 2015) for dense and convolutional features."""

import numpy as np

from dlnotes._checks import check_finite, check_int, check_real
from dlnotes.layers.base import Layer, check_input, require_torch_options, require_torch_type


class _BatchNorm(Layer):
    """Per-channel standardisation with a learned scale γ (``weight``) and shift β (``bias``).

    Channel c is axis 1 of x; the statistics run over every other axis (m values per channel).

    train:  μ = mean(x),  σ² = mean((x − μ)²)   (biased: divides by m)
            x̂ = (x − μ) / √(σ² + eps),   y = γ·x̂ + β
            running_mean ← (1 − momentum)·running_mean + momentum·μ
            running_var  ← (1 − momentum)·running_var  + momentum·σ²·m/(m − 1)   (unbiased)
    eval:   the same with μ, σ² replaced by running_mean, running_var.

    backward (train; μ and σ² depend on x), with dx̂ = dy·γ and means over the m values:
            ∂L/∂x = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) / √(σ² + eps)
    backward (eval; the statistics are constants): ∂L/∂x = dx̂ / √(running_var + eps)
    both:   ∂L/∂γ = Σ dy·x̂,   ∂L/∂β = Σ dy

    Each channel is standardised on its own: features are not decorrelated (this is not whitening).
    Matches torch.nn.BatchNorm1d/2d(affine=True, track_running_stats=True) in both modes.
    """

    torch_args = ("num_features", "eps", "momentum")

    def __init__(self, num_features, eps=1e-5, momentum=0.1, *, dtype=np.float64):
        super().__init__()
        where = type(self).__name__
        self.num_features = check_int(num_features, "num_features", where, low=1)
        self.eps = check_real(eps, "eps", where, low=0.0, low_open=True)
        self.momentum = check_real(momentum, "momentum", where, low=0.0, high=1.0)
        self.params = {"weight": np.ones(num_features, dtype), "bias": np.zeros(num_features, dtype)}
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.buffers = {
            "running_mean": np.zeros(num_features, dtype),
            "running_var": np.ones(num_features, dtype),
            "num_batches_tracked": np.zeros((), np.int64),
        }

    def forward(self, x, *, train=True):
        """x: (N, C, *) → y of the same shape; ``train`` picks batch or running statistics."""
        where = self._where("forward")
        train = self._check_train(train)
        x = check_input(x, where, self.layout.format(C=self.num_features), self.ndims, self.num_features)
        axes = (0,) + tuple(range(2, x.ndim))
        m = x.size // self.num_features
        if train and x.size == 0:  # as torch: an empty output, the batch counted, statistics untouched
            self.buffers["num_batches_tracked"] += 1
            train = False
        if train:
            if m < 2:
                raise ValueError(
                    f"{where}: x must hold more than 1 value per channel in training, got shape {tuple(x.shape)}"
                )
            check_finite(x, "x", where)  # the running statistics would stay NaN for good
            mean, var = x.mean(axis=axes), x.var(axis=axes)
            self._update_running_stats(mean, var, m)
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        channel = (-1,) + (1,) * (x.ndim - 2)  # reshape (C,) to broadcast along axis 1
        inv_std = (1.0 / np.sqrt(var + self.eps)).reshape(channel)
        x_hat = (x - mean.reshape(channel)) * inv_std
        y = self.params["weight"].reshape(channel) * x_hat + self.params["bias"].reshape(channel)
        return self._save(y, x_hat, inv_std, axes, train)

    def _update_running_stats(self, mean, var, m):
        momentum, buffers = self.momentum, self.buffers
        buffers["running_mean"][...] = (1 - momentum) * buffers["running_mean"] + momentum * mean
        buffers["running_var"][...] = (1 - momentum) * buffers["running_var"] + momentum * var * m / (m - 1)
        buffers["num_batches_tracked"] += 1

    def backward(self, grad_out):
        """grad_out: the shape of x → ∂L/∂x; fills grads (γ, β)."""
        grad_out, (x_hat, inv_std, axes, train) = self._saved(grad_out)
        self.grads["weight"][...] = (grad_out * x_hat).sum(axis=axes)
        self.grads["bias"][...] = grad_out.sum(axis=axes)
        dx_hat = grad_out * self.params["weight"].reshape(inv_std.shape)
        if train:  # the paths through μ and σ² remove the mean and the x̂-component of dx̂
            mean_dx_hat = dx_hat.mean(axis=axes, keepdims=True)
            dx_hat = dx_hat - mean_dx_hat - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)
        return dx_hat * inv_std

    def check_state(self, state, where):
        """A variance cannot be negative, and the batch count is a non-negative integer."""
        if np.any(state["running_var"] < 0):
            raise ValueError(f"{where}: running_var must be >= 0, got minimum {state['running_var'].min()}")
        count = state["num_batches_tracked"]
        if count < 0 or count != np.floor(count):
            raise ValueError(f"{where}: num_batches_tracked must be a non-negative integer, got {count}")

    @classmethod
    def structure_from_torch(cls, module, rng):
        where = f"{cls.__name__}.from_torch"
        require_torch_type(module, cls.__name__, where)
        require_torch_options(module, where, affine=True, track_running_stats=True)
        if module.momentum is None:
            raise ValueError(f"{where}: momentum must be a number (None, a cumulative average, is not supported)")
        if module.bias is None:
            raise ValueError(f"{where}: only bias=True is supported, got a module without bias")
        return cls(module.num_features, module.eps, module.momentum)


class BatchNorm1d(_BatchNorm):
    """Batch norm over dense features (N, C) or sequences (N, C, L), as torch.nn.BatchNorm1d."""

    layout, ndims = "(N, {C}) or (N, {C}, L)", (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over feature maps (N, C, H, W): one μ, σ² per channel over N·H·W values,
    as torch.nn.BatchNorm2d."""

    layout, ndims = "(N, {C}, H, W)", 4
