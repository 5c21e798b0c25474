"""A small LeNet-style convolutional network for square grey-scale images (8×8 digits, 28×28)."""

import math

import numpy as np

from dlnotes._checks import check_int
from dlnotes.layers.activation import ReLU
from dlnotes.layers.base import check_input, init_rng
from dlnotes.layers.container import Sequential, require_same_structure
from dlnotes.layers.conv import Conv2d
from dlnotes.layers.linear import Linear
from dlnotes.layers.pooling import MaxPool2d
from dlnotes.layers.shape import Flatten
from dlnotes.models.classifier import Classifier


class CNN(Classifier):
    """conv3×3 → ReLU → maxpool2 → conv3×3 → ReLU → maxpool2 → flatten → linear.

    The convolutions pad by 1, so only the pools shrink the image: S → ⌊S/2⌋ → ⌊S/4⌋ = s.
    Shapes: x (N, in_channels, S, S) → logits (N, num_classes); the linear layer has
    channels[1]·s² inputs (8×8 images: s = 2; 28×28: s = 7). ``to_torch()`` gives the
    equivalent nn.Sequential; ``from_torch`` recovers image_size as 4·s.
    """

    def __init__(self, image_size=28, num_classes=10, channels=(8, 16), *, rng, in_channels=1,
                 dtype=np.float64):
        where = "CNN"
        self.image_size = check_int(image_size, "image_size", where, low=4)
        self.in_channels = check_int(in_channels, "in_channels", where, low=1)
        if not isinstance(channels, (list, tuple)) or len(channels) != 2:
            raise ValueError(f"{where}: channels must be a pair (c1, c2) of channel counts, got {channels!r}")
        c1, c2 = (check_int(c, f"channels[{i}]", where, low=1) for i, c in enumerate(channels))
        conv = dict(kernel_size=3, padding=1, rng=rng, dtype=dtype)
        side = self.image_size // 4
        super().__init__(
            Conv2d(in_channels, c1, **conv), ReLU(), MaxPool2d(2),
            Conv2d(c1, c2, **conv), ReLU(), MaxPool2d(2),
            Flatten(), Linear(c2 * side * side, num_classes, rng=rng, dtype=dtype),
        )

    def forward(self, x, *, train=True):
        """x: (N, in_channels, S, S) with ⌊S/4⌋ = ⌊image_size/4⌋ → logits (N, num_classes)."""
        where = self._where("forward")
        size = self.image_size
        layout = f"(N, {self.in_channels}, H, W) with H // 4 = W // 4 = {size // 4} (e.g. {size} x {size})"
        x = check_input(x, where, layout, 4, self.in_channels)
        if x.shape[2] // 4 != size // 4 or x.shape[3] // 4 != size // 4:
            raise ValueError(f"{where}: x must be {layout}, got shape {tuple(x.shape)}")
        return super().forward(x, train=train)

    @classmethod
    def structure_from_torch(cls, module, rng):
        """Read channels, classes and image size off an nn.Sequential laid out as above."""
        where = "CNN.from_torch"
        structure = Sequential.structure_from_torch(module, rng)
        convs = [layer for layer in structure if isinstance(layer, Conv2d)]
        linears = [layer for layer in structure if isinstance(layer, Linear)]
        if len(convs) != 2 or len(linears) != 1:
            raise ValueError(f"{where}: module must hold 2 Conv2d and 1 Linear, got {module!r}")
        side = math.isqrt(linears[0].in_features // convs[1].out_channels)
        model = cls(
            4 * side, linears[0].out_features, (convs[0].out_channels, convs[1].out_channels),
            rng=init_rng(rng), in_channels=convs[0].in_channels,
        )
        require_same_structure(model, structure, module, where)
        return model
