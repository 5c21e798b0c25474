"""Conv2d, im2col and col2im against torch (float64), central differences, init, bad input."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from _layer_parity import ATOL, RTOL, assert_gradients_numerically, assert_matches_torch, assert_state_matches
from testkit import raises_exactly
from dlnotes.layers import Conv2d, Linear, col2im, im2col


@st.composite
def conv_cases(draw):
    """A torch Conv2d (float64, random weights) and an input that fits it."""
    groups = draw(st.integers(1, 3))
    in_ch, out_ch = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    h, w = (draw(st.integers(max(1, s - 2 * p), s - 2 * p + 5)) for s, p in zip(spans, padding))
    torch.manual_seed(draw(st.integers(0, 2**16)))
    module = torch.nn.Conv2d(in_ch, out_ch, kernel, stride, padding, dilation, groups,
                             bias=draw(st.booleans())).double()
    x = np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal((draw(st.integers(1, 3)), in_ch, h, w))
    return module, x


@settings(max_examples=40, deadline=None)
@given(conv_cases())
def test_conv2d_matches_torch(case):
    module, x = case
    layer = Conv2d.from_torch(module)
    y = assert_matches_torch(layer, module, x)
    assert y.shape == tuple(module(torch.from_numpy(x)).shape)


@settings(max_examples=20, deadline=None)
@given(conv_cases())
def test_im2col_matches_unfold_and_col2im_is_its_adjoint(case):
    module, x = case
    geometry = dict(stride=module.stride, padding=module.padding, dilation=module.dilation)
    cols = im2col(x, module.kernel_size, **geometry)
    n, c, kh, kw, ho, wo = cols.shape
    unfold = F.unfold(torch.from_numpy(x), module.kernel_size, **geometry).numpy()
    np.testing.assert_array_equal(cols.reshape(n, c * kh * kw, ho * wo), unfold)
    dcols = np.random.default_rng(0).standard_normal(cols.shape)
    folded = F.fold(torch.from_numpy(dcols.reshape(unfold.shape)), x.shape[2:], module.kernel_size, **geometry)
    np.testing.assert_allclose(col2im(dcols, x.shape, **geometry), folded.numpy(), rtol=RTOL, atol=ATOL)
    # adjoint: <im2col(x), d> = <x, col2im(d)>
    assert np.sum(cols * dcols) == pytest.approx(np.sum(x * col2im(dcols, x.shape, **geometry)), rel=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [dict(), dict(stride=2, padding=1), dict(dilation=2, padding=2, bias=False), dict(groups=2, stride=(1, 2))],
)
def test_conv2d_gradients_central_differences(kwargs):
    rng = np.random.default_rng(3)
    layer = Conv2d(2, 4, 3, rng=rng, **kwargs)
    assert_gradients_numerically(layer, rng.standard_normal((2, 2, 5, 6)))


def test_conv2d_batch_of_one_and_1x1_kernel():
    rng = np.random.default_rng(4)
    for layer, shape in [(Conv2d(3, 5, 1, rng=rng), (1, 3, 4, 4)), (Conv2d(1, 2, (2, 3), rng=rng), (1, 1, 2, 3))]:
        assert_matches_torch(layer, layer.to_torch(), rng.standard_normal(shape))


def test_conv2d_round_trip_through_torch():
    layer = Conv2d(4, 6, (3, 2), stride=(2, 1), padding=1, dilation=(1, 2), groups=2, rng=np.random.default_rng(5))
    module = layer.to_torch()
    assert module.weight.dtype == torch.float64 and module.groups == 2 and module.dilation == (1, 2)
    assert_state_matches(layer, module)
    back = Conv2d.from_torch(module)
    assert repr(back) == repr(layer)
    assert_state_matches(back, module)


def test_conv2d_default_init_is_torchs_distribution():
    """torch: W, b ~ U(±1/√fan_in) with fan_in = (C_in/G)·kh·kw; U(±a) has std a/√3."""
    layer = Conv2d(8, 64, 3, groups=2, rng=np.random.default_rng(6))
    bound = 1 / math.sqrt(4 * 9)
    weight, bias = layer.params["weight"], layer.params["bias"]
    assert weight.shape == (64, 4, 3, 3) and weight.dtype == np.float64
    assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
    assert weight.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    torch_weight = torch.nn.Conv2d(8, 64, 3, groups=2).weight.detach().numpy()
    assert np.abs(torch_weight).max() <= bound and torch_weight.std() == pytest.approx(weight.std(), rel=0.1)


def test_conv2d_float32_parameters_and_input_stay_float32():
    layer = Conv2d(1, 2, 3, rng=np.random.default_rng(7), dtype=np.float32)
    x = np.random.default_rng(8).standard_normal((2, 1, 5, 5)).astype(np.float32)
    assert layer.forward(x).dtype == np.float32
    assert layer.backward(np.ones((2, 2, 3, 3), np.float32)).dtype == np.float32


def test_parameter_count_conv_versus_dense():
    """A conv kernel spans all input channels (C_out·C_in·k·k weights) and is shared across positions,
    so its size does not depend on the image; a dense layer between the same maps does (errata #34)."""
    rng = np.random.default_rng(9)
    c_in, c_out, k, h, w = 3, 16, 3, 8, 8
    conv = Conv2d(c_in, c_out, k, padding=1, rng=rng)
    assert conv.num_parameters() == c_out * c_in * k * k + c_out
    assert conv.num_parameters() == sum(p.numel() for p in torch.nn.Conv2d(c_in, c_out, k).parameters())
    dense = Linear(c_in * h * w, c_out * h * w, rng=rng)
    assert dense.num_parameters() == (c_in * h * w) * (c_out * h * w) + c_out * h * w
    assert dense.num_parameters() > 400 * conv.num_parameters()


def test_conv2d_bad_input_messages():
    layer = Conv2d(3, 4, 5, padding=1, rng=np.random.default_rng(10))
    with raises_exactly(ValueError, "Conv2d.forward: x must be (N, 3, H, W), got shape (8, 1, 28, 28)"):
        layer.forward(np.zeros((8, 1, 28, 28)))
    with raises_exactly(ValueError, "Conv2d.forward: x must be (N, 3, H, W), got shape (3, 28, 28)"):
        layer.forward(np.zeros((3, 28, 28)))
    with raises_exactly(
        ValueError,
        "Conv2d.forward: x must have H + 2*padding >= 5 and W + 2*padding >= 5 (the dilated kernel), "
        "got shape (2, 3, 2, 9) with padding (1, 1)",
    ):
        layer.forward(np.zeros((2, 3, 2, 9)))
    with raises_exactly(TypeError, "Conv2d.forward: x must be a real numeric array, got dtype <U1"):
        layer.forward(np.array([["a"]]))
    layer.forward(np.zeros((2, 3, 4, 4)))
    with raises_exactly(
        ValueError,
        "Conv2d.backward: grad_out must have the forward "
        "output's shape (2, 4, 2, 2), got (2, 4, 3, 3)",
    ):
        layer.backward(np.zeros((2, 4, 3, 3)))


def test_im2col_col2im_bad_input_messages():
    with raises_exactly(ValueError, "im2col: x must be (N, C, H, W), got shape (5, 5)"):
        im2col(np.zeros((5, 5)), 3)
    with raises_exactly(ValueError, "col2im: cols must be (N, C, kh, kw, H_out, W_out), got shape (1, 2, 3)"):
        col2im(np.zeros((1, 2, 3)), (1, 1, 5, 5))
    with raises_exactly(
        ValueError,
        "col2im: cols must have shape (1, 1, 3, 3, 3, 3) for "
        "x_shape (1, 1, 5, 5), got (1, 1, 3, 3, 2, 2)",
    ):
        col2im(np.zeros((1, 1, 3, 3, 2, 2)), (1, 1, 5, 5))


def test_conv2d_bad_constructor_arguments():
    rng = np.random.default_rng(11)
    with raises_exactly(
        ValueError,
        "Conv2d: groups must divide in_channels and out_channels, "
        "got groups=2, in_channels=3, out_channels=4",
    ):
        Conv2d(3, 4, 3, groups=2, rng=rng)
    with raises_exactly(ValueError, "Conv2d: stride must be >= 1, got 0"):
        Conv2d(3, 4, 3, stride=0, rng=rng)
    with raises_exactly(ValueError, "Conv2d: padding must be >= 0, got -1"):
        Conv2d(3, 4, 3, padding=(1, -1), rng=rng)
    with raises_exactly(ValueError, "Conv2d: kernel_size must be an int or a pair of ints, got (1, 2, 3)"):
        Conv2d(3, 4, (1, 2, 3), rng=rng)
    with raises_exactly(ValueError, "Conv2d: padding must be an int or a pair of ints, got 'same'"):
        Conv2d(3, 4, 3, padding="same", rng=rng)
    with raises_exactly(
        TypeError,
        "Conv2d: rng must be a numpy.random.Generator "
        "(np.random.default_rng(seed)), got int",
    ):
        Conv2d(3, 4, 3, rng=0)


def test_conv2d_from_torch_refuses_unsupported_modules():
    with raises_exactly(
        ValueError,
        "Conv2d.from_torch: only padding_mode='zeros' is "
        "supported, got padding_mode='reflect'",
    ):
        Conv2d.from_torch(torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect"))
    with raises_exactly(TypeError, "Conv2d.from_torch: module must be a torch.nn.Conv2d, got Linear"):
        Conv2d.from_torch(torch.nn.Linear(2, 2))
