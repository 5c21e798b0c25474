"""Sequential, ResidualBlock and DepthwiseSeparableConv against independently written torch
modules (float64): outputs, gradients, buffers; central differences; parameter counts."""

import numpy as np
import pytest
import torch
from torch import nn

from _layer_parity import assert_gradients_numerically, assert_matches_torch, assert_state_matches
from testkit import raises_exactly
from dlnotes.layers import (
    BatchNorm2d, Conv2d, DepthwiseSeparableConv, Dropout, Flatten, Linear, MaxPool2d, ReLU, ResidualBlock, Sequential,
)


class HeBasicBlock(nn.Module):
    """He et al. (2016) basic block written directly in torch: the reference for ResidualBlock."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + (x if self.downsample is None else self.downsample(x)))


def randomise_batchnorms(module, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for bn in (m for m in module.modules() if isinstance(m, nn.BatchNorm2d)):
            bn.weight.normal_()
            bn.bias.normal_()
            bn.running_mean.normal_()
            bn.running_var.uniform_(0.5, 2.0)
    return module.double()


@pytest.mark.parametrize("c_in, c_out, stride", [(3, 3, 1), (2, 4, 1), (3, 4, 2), (2, 2, 2)])
def test_residual_block_matches_torch_train_and_eval(c_in, c_out, stride):
    module = randomise_batchnorms(HeBasicBlock(c_in, c_out, stride), seed=c_in + stride)
    block = ResidualBlock.from_torch(module)
    assert (block.downsample is None) == (module.downsample is None)
    rng = np.random.default_rng(0)
    for _ in range(2):
        assert_matches_torch(block, module, rng.standard_normal((3, c_in, 7, 6)), train=True)
    assert_state_matches(block, module)
    assert_matches_torch(block, module, rng.standard_normal((1, c_in, 5, 5)), train=False)
    twin = block.to_torch()
    assert_state_matches(block, twin)
    assert_matches_torch(block, twin, rng.standard_normal((2, c_in, 4, 4)), train=False)


@pytest.mark.parametrize("c_in, c_out, stride", [(2, 2, 1), (2, 3, 2)])
def test_residual_block_gradients_central_differences(c_in, c_out, stride):
    rng = np.random.default_rng(1)
    block = ResidualBlock(c_in, c_out, stride, rng=rng)
    for bn in (block.bn1, block.bn2):
        bn.params["bias"][...] = rng.normal(size=c_out)  # move the final ReLU's kinks away from 0
    assert_gradients_numerically(block, rng.standard_normal((2, c_in, 4, 4)))


def test_identity_skip_carries_the_gradient():
    """With γ = 0 in the last BN the residual branch outputs 0, so y = relu(x) and the whole
    gradient reaches x through the skip: ∂L/∂x = dy·[x > 0] (errata #22)."""
    rng = np.random.default_rng(2)
    block = ResidualBlock(3, 3, rng=rng)
    block.bn2.params["weight"][...] = 0.0
    block.bn2.params["bias"][...] = 0.0
    x = rng.standard_normal((2, 3, 5, 5))
    g = rng.standard_normal((2, 3, 5, 5))
    np.testing.assert_array_equal(block.forward(x), np.maximum(x, 0))
    np.testing.assert_allclose(block.backward(g), g * (x > 0), atol=1e-12)


@pytest.mark.parametrize(
    "batchnorm, relu, stride", [(True, True, 1), (False, True, 2), (True, False, 1), (False, False, 1)]
)
def test_depthwise_separable_conv_matches_torch(batchnorm, relu, stride):
    c_in, c_out = 3, 5
    layers = [nn.Conv2d(c_in, c_in, 3, stride, 1, groups=c_in, bias=not batchnorm)]
    layers += [nn.BatchNorm2d(c_in)] * batchnorm + [nn.ReLU()] * relu
    layers += [nn.Conv2d(c_in, c_out, 1, bias=not batchnorm)]
    layers += [nn.BatchNorm2d(c_out)] * batchnorm + [nn.ReLU()] * relu
    module = randomise_batchnorms(nn.Sequential(*layers), seed=3)
    block = DepthwiseSeparableConv.from_torch(module)
    assert (block.batchnorm, block.relu, block.depthwise.groups) == (batchnorm, relu, c_in)
    x = np.random.default_rng(3).standard_normal((2, c_in, 6, 5))
    assert_matches_torch(block, module, x, train=True)
    assert_matches_torch(block, module, x, train=False)
    assert_state_matches(block, module)
    assert_gradients_numerically(block, x[:, :, :4, :4])


@pytest.mark.parametrize("c_in, c_out, k", [(32, 64, 3), (128, 256, 3), (16, 16, 5)])
def test_depthwise_separable_parameter_count(c_in, c_out, k):
    """Depthwise k×k per channel + pointwise 1×1: C_in·k² + C_in·C_out weights, against C_out·C_in·k²
    for a standard conv: a ratio 1/C_out + 1/k² (errata #23, the Xception/MobileNet building block)."""
    rng = np.random.default_rng(4)
    separable = DepthwiseSeparableConv(c_in, c_out, k, padding=k // 2, rng=rng, batchnorm=False, relu=False)
    standard = Conv2d(c_in, c_out, k, padding=k // 2, rng=rng, bias=False)
    separable_weights = separable.num_parameters() - (c_in + c_out)  # minus the two biases
    assert separable_weights == c_in * k * k + c_in * c_out
    assert standard.num_parameters() == c_out * c_in * k * k
    assert separable_weights / standard.num_parameters() == pytest.approx(1 / c_out + 1 / k**2)
    assert separable.num_parameters() == sum(p.numel() for p in separable.to_torch().parameters())


def test_sequential_matches_torch_and_keeps_torchs_parameter_order():
    torch.manual_seed(5)
    module = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Sequential(nn.Conv2d(4, 2, 1), nn.ReLU()), nn.Flatten(), nn.Linear(2 * 3 * 3, 3),
    ).double()
    model = Sequential.from_torch(module)
    assert [name for name, _ in model.named_parameters()] == [name for name, _ in module.named_parameters()]
    assert list(model.state_dict()) == list(module.state_dict())
    assert_matches_torch(model, module, np.random.default_rng(5).standard_normal((4, 1, 6, 7)))
    assert_state_matches(model, module)
    assert len(model) == 7 and isinstance(model[4], Sequential)
    twin = model.to_torch()
    assert [type(m).__name__ for m in twin.modules()] == [type(m).__name__ for m in module.modules()]
    assert repr(Sequential.from_torch(twin)) == repr(model)


def test_sequential_parameters_are_live_views_and_zero_grad_clears():
    rng = np.random.default_rng(6)
    model = Sequential(Linear(3, 4, rng=rng), ReLU(), Linear(4, 2, rng=rng))
    params, grads = model.parameters(), model.gradients()
    assert [p.shape for p in params] == [(4, 3), (4,), (2, 4), (2,)]
    params[0] += 1.0
    np.testing.assert_array_equal(model[0].params["weight"], params[0])
    model.forward(rng.standard_normal((5, 3)))
    model.backward(np.ones((5, 2)))
    assert all(g is h for g, h in zip(grads, model.gradients())) and any(np.any(g != 0) for g in grads)
    model.zero_grad()
    assert all(np.all(g == 0) for g in grads)
    assert model.num_parameters() == 3 * 4 + 4 + 4 * 2 + 2


def test_load_state_dict_copies_in_place_and_checks_keys_and_shapes():
    rng = np.random.default_rng(7)
    model = Sequential(Conv2d(1, 2, 3, rng=rng), BatchNorm2d(2))
    weight = model.parameters()[0]
    state = model.state_dict()
    state["0.weight"] = state["0.weight"] + 1.0
    model.load_state_dict(state)
    assert model.parameters()[0] is weight and np.array_equal(weight, state["0.weight"])
    del state["1.running_var"]
    state["extra"] = np.zeros(1)
    with raises_exactly(
        ValueError,
        "Sequential.load_state_dict: state must have the keys ['0.weight', '0.bias', '1.weight', '1.bias', "
        "'1.running_mean', '1.running_var', '1.num_batches_tracked'], missing ['1.running_var'], unexpected ['extra']",
    ):
        model.load_state_dict(state)
    bad = model.state_dict()
    bad["0.bias"] = np.zeros(3)
    with raises_exactly(ValueError, "Sequential.load_state_dict: 0.bias must have shape (2,), got (3,)"):
        model.load_state_dict(bad)


def test_container_bad_input_messages():
    with raises_exactly(TypeError, "Sequential: layer 1 must be a dlnotes Layer, got Linear"):
        Sequential(ReLU(), nn.Linear(2, 2))
    with raises_exactly(TypeError, "Sequential.from_torch: module[1] must be one of ['AvgPool2d', 'BasicBlock', 'BatchNorm1d', "
                        "'BatchNorm2d', 'Conv2d', 'Dropout', 'Dropout2d', 'Flatten', 'GELU', 'LeakyReLU', 'Linear', "
                        "'MaxPool2d', 'ReLU', 'Sequential', 'Sigmoid', 'Tanh'], got Softplus"):
        Sequential.from_torch(nn.Sequential(nn.ReLU(), nn.Softplus()))
    with raises_exactly(TypeError, "ResidualBlock.from_torch: module must have attributes "
                        "('conv1', 'bn1', 'conv2', 'bn2', 'downsample'), got Linear"):
        ResidualBlock.from_torch(nn.Linear(2, 2))
    with raises_exactly(ValueError, "ResidualBlock.forward: x must be (N, 3, H, W), got shape (2, 4, 5, 5)"):
        ResidualBlock(3, 3, rng=np.random.default_rng(8)).forward(np.zeros((2, 4, 5, 5)))
    with raises_exactly(
        ValueError,
        "DepthwiseSeparableConv.from_torch: module must hold 2 "
        "Conv2d (depthwise, pointwise), got 1",
    ):
        DepthwiseSeparableConv.from_torch(nn.Sequential(nn.Conv2d(2, 2, 3, groups=2)))
    wrong = nn.Sequential(nn.Conv2d(2, 2, 3, padding=1, groups=2), nn.MaxPool2d(2), nn.Conv2d(2, 4, 1))
    with pytest.raises(ValueError, match="^DepthwiseSeparableConv.from_torch: module must be laid out as\n"):
        DepthwiseSeparableConv.from_torch(wrong)
    with raises_exactly(
        TypeError,
        "Dropout: rng must be a numpy.random.Generator "
        "(np.random.default_rng(seed)), got NoneType",
    ):
        Sequential.from_torch(nn.Sequential(nn.Flatten(), nn.Dropout(0.1)))
    model = Sequential(Flatten(), Dropout(0.1, rng=np.random.default_rng(9)), MaxPool2d(2))
    with raises_exactly(RuntimeError, "MaxPool2d.backward: call forward before backward"):
        model.backward(np.zeros((1, 1)))
