"""Inverted dropout (Srivastava et al., 2014) and its spatial variant for feature maps."""

import numpy as np

from dlnotes._checks import as_float_array, check_generator, check_real
from dlnotes.layers.base import Layer, check_input, require_torch_type


class Dropout(Layer):
    """Inverted dropout, as torch.nn.Dropout.

    train:  m ~ Bernoulli(1 − p) independently per element,  y = x · m / (1 − p)
    eval:   y = x
    backward: ∂L/∂x = dy · m / (1 − p) after a training forward, dy after an eval one.

    Survivors are scaled up during training, so E[y] = x · (1 − p) / (1 − p) = x: the expected
    activation is the same in both modes and nothing is rescaled at test time. The mask drawn
    by the last forward is kept in ``mask`` (booleans, True = kept); pass ``mask=`` to forward to
    use a given one instead (for example torch's, to compare exactly). Masks come from the ``rng``
    given at construction.
    """

    torch_args = ("p",)

    def __init__(self, p=0.5, *, rng):
        super().__init__()
        where = type(self).__name__
        self.p = check_real(p, "p", where, low=0.0, high=1.0, high_open=True)
        self.rng = check_generator(rng, where)
        self.mask = None

    def _check(self, x):
        return as_float_array(x, "x", self._where("forward"))

    def mask_shape(self, x_shape):
        """One Bernoulli draw per element."""
        return x_shape

    def forward(self, x, *, train=True, mask=None):
        """x → y of the same shape; ``mask``: optional booleans of shape ``mask_shape(x.shape)``."""
        where = self._where("forward")
        train = self._check_train(train)
        x = self._check(x)
        if not train:
            self.mask = None
            return self._save(x, None)
        shape = self.mask_shape(x.shape)
        if mask is None:
            mask = self.rng.random(shape) >= self.p  # kept with probability 1 − p
        else:
            mask = np.asarray(mask)
            if mask.dtype != bool or mask.shape != shape:
                raise ValueError(
                    f"{where}: mask must be a boolean array of shape {shape}, "
                    f"got {mask.dtype} of shape {mask.shape}"
                )
        self.mask = mask
        scale = (mask / (1.0 - self.p)).astype(x.dtype)  # m / (1 − p): 0 or 1/(1 − p), broadcast over x
        return self._save(x * scale, scale)

    def backward(self, grad_out):
        """grad_out → ∂L/∂x = grad_out · m / (1 − p) (or grad_out after an eval forward)."""
        grad_out, (scale,) = self._saved(grad_out)
        return grad_out if scale is None else grad_out * scale

    @classmethod
    def structure_from_torch(cls, module, rng):
        require_torch_type(module, cls.__name__, f"{cls.__name__}.from_torch")
        return cls(module.p, rng=rng)


class Dropout2d(Dropout):
    """Spatial dropout (Tompson et al., 2015), as torch.nn.Dropout2d: whole channels are dropped.

    x: (N, C, H, W); one draw per (sample, channel), so the mask has shape (N, C, 1, 1) and
    y[n, c] = x[n, c] · m[n, c] / (1 − p). Neighbouring pixels of a feature map are strongly
    correlated, so dropping single pixels would barely regularise; dropping maps does.
    """

    def _check(self, x):
        return check_input(x, self._where("forward"), "(N, C, H, W)", 4)

    def mask_shape(self, x_shape):
        """One draw per feature map: (N, C, 1, 1)."""
        return x_shape[:2] + (1, 1)
