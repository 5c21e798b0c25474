"""2-D convolution (really cross-correlation, as in every framework) by im2col and matrix products.

im2col unfolds every receptive field of x into a column, so a convolution becomes one matrix
product (per group of channels); col2im is its adjoint (transpose) and carries gradients back to
the pixels. Both loop over the kh·kw kernel taps only; each tap moves a whole strided slice.
"""

import math
import numbers

import numpy as np

from dlnotes import init
from dlnotes._checks import check_bool, check_generator, check_int
from dlnotes.layers.base import Layer, check_input, init_rng, require_torch_options, require_torch_type


def pair(value, name, where, low):
    """An int or a pair of ints (each ``>= low``) as a tuple ``(vertical, horizontal)``."""
    if isinstance(value, numbers.Integral):
        value = (value, value)
    elif not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise ValueError(f"{where}: {name} must be an int or a pair of ints, got {value!r}")
    return tuple(check_int(v, name, where, low=low) for v in value)


def output_size(x_shape, kernel_size, stride, padding, dilation, where):
    """(H_out, W_out) of a sliding window over x: (N, C, H, W); all arguments are pairs.

    H_out = ⌊(H + 2·padding − dilation·(kh − 1) − 1) / stride⌋ + 1, and likewise for W.
    Raises ValueError when the dilated kernel does not fit in the padded input.
    """
    span = [d * (k - 1) + 1 for k, d in zip(kernel_size, dilation)]
    padded = [size + 2 * p for size, p in zip(x_shape[2:], padding)]
    if padded[0] < span[0] or padded[1] < span[1]:
        raise ValueError(
            f"{where}: x must have H + 2*padding >= {span[0]} and W + 2*padding >= {span[1]} "
            f"(the dilated kernel), got shape {tuple(x_shape)} with padding {padding}"
        )
    return tuple((n - s) // st + 1 for n, s, st in zip(padded, span, stride))


def _tap(i, j, out_hw, stride, dilation):
    """Index of the padded input that kernel tap (i, j) reads at every output position:
    rows i·dh + p·sh and columns j·dw + q·sw for p < H_out, q < W_out."""
    (ho, wo), (sh, sw), (dh, dw) = out_hw, stride, dilation
    return (
        slice(None),
        slice(None),
        slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
        slice(j * dw, j * dw + sw * (wo - 1) + 1, sw),
    )


def im2col(x, kernel_size, stride=1, padding=0, dilation=1, pad_value=0.0):
    """Unfold x: (N, C, H, W) into cols: (N, C, kh, kw, H_out, W_out), where

        cols[n, c, i, j, p, q] = x_pad[n, c, p·sh + i·dh, q·sw + j·dw]

    and x_pad is x with ``padding`` rows/columns of ``pad_value`` on each side: entry (n, :, :, :, p, q)
    is the receptive field of output pixel (p, q) of image n. kernel_size, stride, padding,
    dilation: ints or pairs.

    The result is a transposed view of memory laid out as (C, kh, kw, N, H_out, W_out), so the
    matrix a convolution multiplies, cols.transpose(1, 2, 3, 0, 4, 5).reshape(C·kh·kw, N·H_out·W_out)
    (one column per output pixel of every image), is a reshape without a copy.
    """
    where = "im2col"
    x = check_input(x, where, "(N, C, H, W)", 4)
    kernel_size, stride = pair(kernel_size, "kernel_size", where, 1), pair(stride, "stride", where, 1)
    padding, dilation = pair(padding, "padding", where, 0), pair(dilation, "dilation", where, 1)
    out_hw = output_size(x.shape, kernel_size, stride, padding, dilation, where)
    (ph, pw), (kh, kw) = padding, kernel_size
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    n, c = x.shape[:2]
    cols = np.empty((c, kh, kw, n) + out_hw, dtype=x.dtype).transpose(3, 0, 1, 2, 4, 5)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = x_pad[_tap(i, j, out_hw, stride, dilation)]
    return cols


def col2im(cols, x_shape, stride=1, padding=0, dilation=1):
    """Adjoint of im2col: fold cols: (N, C, kh, kw, H_out, W_out) back to (N, C, H, W).

    Every entry is added to the pixel it was read from, so a pixel seen by several receptive
    fields collects the sum of their gradients: dx = Σ_{taps} scatter(dcols). Padding is dropped.
    """
    where = "col2im"
    cols = check_input(cols, where, "(N, C, kh, kw, H_out, W_out)", 6, name="cols")
    n, c, kh, kw, ho, wo = cols.shape
    stride, padding = pair(stride, "stride", where, 1), pair(padding, "padding", where, 0)
    dilation = pair(dilation, "dilation", where, 1)
    if (
        not isinstance(x_shape, (tuple, list))
        or len(x_shape) != 4
        or any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 0 for d in x_shape)
    ):
        raise ValueError(f"{where}: x_shape must be 4 non-negative integers (N, C, H, W), got {x_shape!r}")
    expected = tuple(x_shape[:2]) + (kh, kw) + output_size(x_shape, (kh, kw), stride, padding, dilation, where)
    if cols.shape != expected:
        raise ValueError(f"{where}: cols must have shape {expected} for x_shape {tuple(x_shape)}, got {cols.shape}")
    (ph, pw), (h, w) = padding, x_shape[2:]
    dx_pad = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dx_pad[_tap(i, j, (ho, wo), stride, dilation)] += cols[:, :, i, j]
    return dx_pad[:, :, ph : ph + h, pw : pw + w]


class Conv2d(Layer):
    """2-D cross-correlation, as torch.nn.Conv2d (no kernel flip).

    With G groups, each output channel o sees only the C_in/G input channels of its group g:

        y[n, o, p, q] = b[o] + Σ_c Σ_{i,j} W[o, c, i, j] · x_pad[n, g·C_in/G + c, p·sh + i·dh, q·sw + j·dw]

    As matrix products (im2col), with K = (C_in/G)·kh·kw and one column per output pixel of
    every image (M = N·H_out·W_out columns):

        X_g = im2col(x) as (G, K, M),   W_g = weight as (G, C_out/G, K)
        Y_g = W_g @ X_g + b              forward: one matrix product per group
        ∂L/∂W_g = dY_g @ X_gᵀ            backward, weights
        ∂L/∂b   = Σ_{n, p, q} dY         backward, bias
        ∂L/∂x   = col2im(W_gᵀ @ dY_g)    backward, input (col2im is im2col's transpose)

    Shapes: x (N, C_in, H, W) → y (N, C_out, H_out, W_out); weight (C_out, C_in/G, kh, kw),
    bias (C_out,). Default init as torch: W, b ~ U(−1/√fan_in, 1/√fan_in), fan_in = (C_in/G)·kh·kw
    (kaiming_uniform with a = √5 for W).
    """

    torch_args = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups")

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, *, rng, dtype=np.float64):
        super().__init__()
        where = "Conv2d"
        self.in_channels = check_int(in_channels, "in_channels", where, low=1)
        self.out_channels = check_int(out_channels, "out_channels", where, low=1)
        self.kernel_size = pair(kernel_size, "kernel_size", where, 1)
        self.stride = pair(stride, "stride", where, 1)
        self.padding = pair(padding, "padding", where, 0)
        self.dilation = pair(dilation, "dilation", where, 1)
        self.groups = check_int(groups, "groups", where, low=1)
        if self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"{where}: groups must divide in_channels and out_channels, got groups={self.groups}, "
                f"in_channels={self.in_channels}, out_channels={self.out_channels}"
            )
        bias = check_bool(bias, "bias", where)
        rng = check_generator(rng, where)
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        fan_in = math.prod(shape[1:])
        self.params["weight"] = init.kaiming_uniform(shape, a=math.sqrt(5), rng=rng).astype(dtype)
        if bias:
            self.params["bias"] = init.uniform(self.out_channels, 1 / math.sqrt(fan_in), rng=rng).astype(dtype)
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}

    def hyperparameters(self):
        return {**super().hyperparameters(), "bias": "bias" in self.params}

    def _geometry(self):
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation)

    def forward(self, x, *, train=True):
        """x: (N, C_in, H, W) → (N, C_out, H_out, W_out). ``train`` is unused (no train/eval difference)."""
        where = self._where("forward")
        self._check_train(train)
        x = check_input(x, where, f"(N, {self.in_channels}, H, W)", 4, self.in_channels)
        output_size(x.shape, self.kernel_size, self.stride, self.padding, self.dilation, where)
        cols = im2col(x, self.kernel_size, **self._geometry())  # (N, C_in, kh, kw, H_out, W_out)
        n, ho, wo, g = x.shape[0], cols.shape[-2], cols.shape[-1], self.groups
        k = self.in_channels // g * math.prod(self.kernel_size)
        cols = cols.transpose(1, 2, 3, 0, 4, 5).reshape(g, k, n * ho * wo)  # X_g: (G, K, M), no copy
        y = self._grouped_weight() @ cols  # (G, C_out/G, M)
        y = y.reshape(self.out_channels, n, ho, wo).transpose(1, 0, 2, 3)
        if "bias" in self.params:
            y += self.params["bias"][:, None, None]
        return self._save(y, x.shape, cols)

    def _grouped_weight(self):
        """W_g: the weight (C_out, C_in/G, kh, kw) as (G, C_out/G, K), a view."""
        return self.params["weight"].reshape(self.groups, self.out_channels // self.groups, -1)

    def backward(self, grad_out):
        """grad_out: (N, C_out, H_out, W_out) → ∂L/∂x: (N, C_in, H, W); fills grads."""
        grad_out, (x_shape, cols) = self._saved(grad_out)
        n, _, ho, wo = grad_out.shape
        dy = grad_out.transpose(1, 0, 2, 3).reshape(self.groups, self.out_channels // self.groups, n * ho * wo)  # dY_g
        # ∂L/∂W_g = dY_g @ X_gᵀ, evaluated as (X_g @ dY_gᵀ)ᵀ: the same numbers, faster in BLAS
        grad_weight = (cols @ dy.swapaxes(-1, -2)).swapaxes(-1, -2)  # (G, C_out/G, K)
        self.grads["weight"][...] = grad_weight.reshape(self.grads["weight"].shape)
        if "bias" in self.params:
            self.grads["bias"][...] = grad_out.sum(axis=(0, 2, 3))
        dcols = self._grouped_weight().swapaxes(-1, -2) @ dy  # (G, K, M)
        dcols = dcols.reshape((self.in_channels,) + self.kernel_size + (n, ho, wo)).transpose(3, 0, 1, 2, 4, 5)
        return col2im(dcols, x_shape, **self._geometry())

    @classmethod
    def structure_from_torch(cls, module, rng):
        where = "Conv2d.from_torch"
        require_torch_type(module, "Conv2d", where)
        require_torch_options(module, where, padding_mode="zeros")
        args = {name: getattr(module, name) for name in cls.torch_args}
        return cls(**args, bias=module.bias is not None, rng=init_rng(rng))
