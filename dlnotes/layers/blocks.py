"""Two convolutional building blocks: the residual basic block and the depthwise-separable conv."""

import functools

import numpy as np

from dlnotes._checks import check_bool, check_int
from dlnotes.layers.activation import ReLU
from dlnotes.layers.base import Layer, check_input, init_rng
from dlnotes.layers.container import Sequential, register_torch_type, require_same_structure
from dlnotes.layers.conv import Conv2d
from dlnotes.layers.norm import BatchNorm2d


@functools.cache
def _torch_basic_block():
    """The torch twin of ResidualBlock, laid out like torchvision's BasicBlock (same state_dict names)."""
    from torch import nn

    class BasicBlock(nn.Module):
        def __init__(self, conv1, bn1, conv2, bn2, downsample):
            super().__init__()
            self.conv1, self.bn1, self.conv2, self.bn2 = conv1, bn1, conv2, bn2
            self.relu = nn.ReLU()
            self.downsample = downsample

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            identity = x if self.downsample is None else self.downsample(x)
            return self.relu(out + identity)

    return BasicBlock


class ResidualBlock(Layer):
    """The basic residual block of He et al. (2016): y = relu(F(x) + S(x)).

        F(x) = BN(conv3x3(relu(BN(conv3x3_stride(x)))))     the residual branch
        S(x) = x                                            if the shape is unchanged
        S(x) = BN(conv1x1_stride(x))                        projection otherwise

    backward: with g = dy · relu′(F(x) + S(x)), ∂L/∂x = F.backward(g) + S.backward(g); the skip
    adds g itself (identity) to the input gradient, so gradients reach early layers even when
    F's Jacobian is small. Convolutions have no bias (BN's β plays that role).

    Shapes: x (N, in_channels, H, W) → y (N, out_channels, H_out, W_out), H_out = ⌊(H − 1)/stride⌋ + 1.
    Children, named as torchvision's BasicBlock: conv1, bn1, conv2, bn2, downsample (a Sequential
    of conv and BN, or None).
    """

    def __init__(self, in_channels, out_channels, stride=1, *, rng, dtype=np.float64):
        super().__init__()
        self.in_channels = check_int(in_channels, "in_channels", "ResidualBlock", low=1)
        self.out_channels = check_int(out_channels, "out_channels", "ResidualBlock", low=1)
        self.stride = check_int(stride, "stride", "ResidualBlock", low=1)
        conv = functools.partial(Conv2d, bias=False, rng=rng, dtype=dtype)
        self.conv1 = conv(in_channels, out_channels, 3, stride, padding=1)
        self.bn1 = BatchNorm2d(out_channels, dtype=dtype)
        self.relu1 = ReLU()
        self.conv2 = conv(out_channels, out_channels, 3, padding=1)
        self.bn2 = BatchNorm2d(out_channels, dtype=dtype)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            projection = conv(in_channels, out_channels, 1, stride)
            self.downsample = Sequential(projection, BatchNorm2d(out_channels, dtype=dtype))
        self.relu_out = ReLU()

    def hyperparameters(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels, "stride": self.stride}

    def named_children(self):
        children = [("conv1", self.conv1), ("bn1", self.bn1), ("conv2", self.conv2), ("bn2", self.bn2)]
        return children + ([("downsample", self.downsample)] if self.downsample is not None else [])

    def forward(self, x, *, train=True):
        """x: (N, in_channels, H, W) → (N, out_channels, H_out, W_out)."""
        train = self._check_train(train)
        x = check_input(x, self._where("forward"), f"(N, {self.in_channels}, H, W)", 4, self.in_channels)
        h = self.relu1.forward(self.bn1.forward(self.conv1.forward(x, train=train), train=train))
        f = self.bn2.forward(self.conv2.forward(h, train=train), train=train)
        s = x if self.downsample is None else self.downsample.forward(x, train=train)
        return self.relu_out.forward(f + s)

    def backward(self, grad_out):
        """grad_out: (N, out_channels, H_out, W_out) → ∂L/∂x = residual path + skip path."""
        g = self.relu_out.backward(grad_out)
        g_residual = self.conv2.backward(self.bn2.backward(g))
        g_residual = self.conv1.backward(self.bn1.backward(self.relu1.backward(g_residual)))
        g_skip = g if self.downsample is None else self.downsample.backward(g)
        return g_residual + g_skip

    @classmethod
    def structure_from_torch(cls, module, rng):
        """Any torch module with conv1, bn1, conv2, bn2, downsample (torchvision's BasicBlock too)."""
        names = ("conv1", "bn1", "conv2", "bn2", "downsample")
        if not all(hasattr(module, name) for name in names):
            raise TypeError(
                f"ResidualBlock.from_torch: module must have attributes {names}, got {type(module).__name__}"
            )
        conv1 = module.conv1
        return cls(conv1.in_channels, conv1.out_channels, conv1.stride[0], rng=init_rng(rng))

    def torch_structure(self):
        children = [child.torch_structure() for _, child in self.named_children()]
        if self.downsample is None:
            children.append(None)
        return _torch_basic_block()(*children)


register_torch_type("BasicBlock", ResidualBlock)  # the class name of _torch_basic_block() and torchvision's


class DepthwiseSeparableConv(Sequential):
    """A k×k convolution factorised as in MobileNet (Howard et al., 2017) and Xception:

        depthwise:  Conv2d(C_in, C_in, k, stride, padding, groups=C_in)   one k×k filter per channel
        pointwise:  Conv2d(C_in, C_out, 1)                                mixes channels
        each optionally followed by BatchNorm2d and ReLU (the convs then drop their bias).

    Weights: C_in·k² + C_in·C_out instead of C_out·C_in·k² for a standard conv, a ratio of
    1/C_out + 1/k² (about 1/8 to 1/9 for k = 3 and wide layers). The multiply-adds shrink by
    the same ratio. Shapes: x (N, C_in, H, W) → (N, C_out, H_out, W_out).
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=1, *, rng,
                 batchnorm=True, relu=True, dtype=np.float64):
        where = "DepthwiseSeparableConv"
        self.in_channels = check_int(in_channels, "in_channels", where, low=1)
        self.out_channels = check_int(out_channels, "out_channels", where, low=1)
        self.batchnorm = check_bool(batchnorm, "batchnorm", where)
        self.relu = check_bool(relu, "relu", where)
        conv = functools.partial(Conv2d, bias=not batchnorm, rng=rng, dtype=dtype)
        depthwise = conv(in_channels, in_channels, kernel_size, stride, padding, groups=in_channels)
        pointwise = conv(in_channels, out_channels, 1)
        layers = []
        for conv_layer in (depthwise, pointwise):
            layers.append(conv_layer)
            if batchnorm:
                layers.append(BatchNorm2d(conv_layer.out_channels, dtype=dtype))
            if relu:
                layers.append(ReLU())
        super().__init__(*layers)
        self.depthwise, self.pointwise = depthwise, pointwise

    @classmethod
    def structure_from_torch(cls, module, rng):
        where = "DepthwiseSeparableConv.from_torch"
        structure = Sequential.structure_from_torch(module, rng)
        convs = [layer for layer in structure if isinstance(layer, Conv2d)]
        if len(convs) != 2:
            raise ValueError(f"{where}: module must hold 2 Conv2d (depthwise, pointwise), got {len(convs)}")
        depthwise = convs[0]
        block = cls(
            depthwise.in_channels, convs[1].out_channels, depthwise.kernel_size, depthwise.stride,
            depthwise.padding, rng=init_rng(rng),
            batchnorm=any(isinstance(layer, BatchNorm2d) for layer in structure),
            relu=any(isinstance(layer, ReLU) for layer in structure),
        )
        require_same_structure(block, structure, module, where)
        return block
