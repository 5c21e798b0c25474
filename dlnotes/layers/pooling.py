"""Max and average pooling over (N, C, H, W), built on im2col/col2im from ``conv``."""

import math

import numpy as np

from dlnotes.layers.base import Layer, check_input, require_torch_options, require_torch_type
from dlnotes.layers.conv import col2im, im2col, output_size, pair


class _Pool2d(Layer):
    """Shared set-up: windows of ``kernel_size`` every ``stride`` (default: kernel_size) pixels,
    ``padding`` on each side (at most half the kernel, as torch requires). Each channel is
    pooled on its own: x (N, C, H, W) → y (N, C, H_out, W_out)."""

    torch_args = ("kernel_size", "stride", "padding")
    pad_value = 0.0

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        where = type(self).__name__
        self.kernel_size = pair(kernel_size, "kernel_size", where, 1)
        self.stride = self.kernel_size if stride is None else pair(stride, "stride", where, 1)
        self.padding = pair(padding, "padding", where, 0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(
                f"{where}: padding must be at most half of kernel_size {self.kernel_size}, got {self.padding}"
            )

    def _windows(self, x):
        """x checked, then its windows as cols (N, C, kh·kw, H_out, W_out)."""
        where = self._where("forward")
        x = check_input(x, where, "(N, C, H, W)", 4)
        output_size(x.shape, self.kernel_size, self.stride, self.padding, (1, 1), where)
        cols = im2col(x, self.kernel_size, self.stride, self.padding, pad_value=self.pad_value)
        return x, cols.reshape(cols.shape[:2] + (math.prod(self.kernel_size),) + cols.shape[-2:])

    def _scatter(self, dcols, x_shape):
        """Fold window gradients dcols (N, C, kh·kw, H_out, W_out) back onto the input pixels."""
        dcols = dcols.reshape(dcols.shape[:2] + self.kernel_size + dcols.shape[-2:])
        return col2im(dcols, x_shape, self.stride, self.padding)

    @classmethod
    def structure_from_torch(cls, module, rng):
        where = f"{cls.__name__}.from_torch"
        require_torch_type(module, cls.__name__, where)
        require_torch_options(module, where, ceil_mode=False, **cls.torch_defaults)
        return cls(module.kernel_size, module.stride, module.padding)


class MaxPool2d(_Pool2d):
    """y[n, c, p, q] = max over the window of x_pad (padding is −∞, so it never wins), as
    torch.nn.MaxPool2d.

    backward: the gradient goes to the arg-max of each window only (the first one on ties, in
    row-major window order, as torch); pixels in overlapping windows collect a sum.
    """

    pad_value = -np.inf
    torch_defaults = {"dilation": 1, "return_indices": False}

    def forward(self, x, *, train=True):
        """x: (N, C, H, W) → (N, C, H_out, W_out). ``train`` is unused."""
        self._check_train(train)
        x, cols = self._windows(x)
        winner = cols.argmax(axis=2)[:, :, None]  # (N, C, 1, H_out, W_out)
        y = np.take_along_axis(cols, winner, axis=2)[:, :, 0]
        return self._save(y, x.shape, cols.shape, winner)

    def backward(self, grad_out):
        """grad_out: (N, C, H_out, W_out) → ∂L/∂x: (N, C, H, W)."""
        grad_out, (x_shape, cols_shape, winner) = self._saved(grad_out)
        dcols = np.zeros(cols_shape, dtype=grad_out.dtype)
        np.put_along_axis(dcols, winner, grad_out[:, :, None], axis=2)
        return self._scatter(dcols, x_shape)


class AvgPool2d(_Pool2d):
    """y[n, c, p, q] = mean of the kh·kw window of x_pad, padding zeros included in the count,
    as torch.nn.AvgPool2d(count_include_pad=True).

    backward: each window spreads its gradient evenly, ∂L/∂x_pad += dy / (kh·kw) on every pixel.
    """

    torch_defaults = {"count_include_pad": True, "divisor_override": None}

    def forward(self, x, *, train=True):
        """x: (N, C, H, W) → (N, C, H_out, W_out). ``train`` is unused."""
        self._check_train(train)
        x, cols = self._windows(x)
        return self._save(cols.mean(axis=2), x.shape, cols.shape)

    def backward(self, grad_out):
        """grad_out: (N, C, H_out, W_out) → ∂L/∂x: (N, C, H, W)."""
        grad_out, (x_shape, cols_shape) = self._saved(grad_out)
        share = grad_out[:, :, None] / cols_shape[2]
        return self._scatter(np.broadcast_to(share, cols_shape), x_shape)
