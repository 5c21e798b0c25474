"""Layers that only rearrange their input."""

import math

from dlnotes._checks import as_float_array, check_int
from dlnotes.layers.base import Layer


class Flatten(Layer):
    """Merge the axes start_dim … end_dim into one, as torch.nn.Flatten (default: all but the batch).

    (N, C, H, W) → (N, C·H·W). backward reshapes the gradient back: no arithmetic at all.
    """

    torch_args = ("start_dim", "end_dim")

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = check_int(start_dim, "start_dim", "Flatten")
        self.end_dim = check_int(end_dim, "end_dim", "Flatten")

    def forward(self, x, *, train=True):
        """x: (d0, …, d_{k−1}) → the same with d_start … d_end multiplied into one axis."""
        where = self._where("forward")
        self._check_train(train)
        x = as_float_array(x, "x", where)
        start, end = (d % x.ndim if -x.ndim <= d < x.ndim else None for d in (self.start_dim, self.end_dim))
        if start is None or end is None or start > end:
            raise ValueError(
                f"{where}: x must have axes start_dim={self.start_dim} <= end_dim={self.end_dim}, "
                f"got shape {tuple(x.shape)}"
            )
        y = x.reshape(x.shape[:start] + (math.prod(x.shape[start : end + 1]),) + x.shape[end + 1 :])
        return self._save(y, x.shape)

    def backward(self, grad_out):
        """grad_out: the flattened shape → ∂L/∂x: the input's shape."""
        grad_out, (x_shape,) = self._saved(grad_out)
        return grad_out.reshape(x_shape)
