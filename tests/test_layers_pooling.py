"""MaxPool2d and AvgPool2d against torch (float64), ties, central differences, bad input."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from _layer_parity import assert_gradients_numerically, assert_matches_torch
from testkit import raises_exactly
from dlnotes.layers import AvgPool2d, MaxPool2d

POOLS = {"MaxPool2d": MaxPool2d, "AvgPool2d": AvgPool2d}


@st.composite
def pool_cases(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    h, w = (draw(st.integers(max(1, k - 2 * p), k - 2 * p + 6)) for k, p in zip(kernel, padding))
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 3)), h, w)
    return kernel, stride, padding, np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal(shape)


@pytest.mark.parametrize("name", list(POOLS))
@settings(max_examples=25, deadline=None)
@given(case=pool_cases())
def test_pool_matches_torch(name, case):
    kernel, stride, padding, x = case
    module = getattr(torch.nn, name)(kernel, stride, padding)
    assert_matches_torch(POOLS[name].from_torch(module), module, x)


def test_maxpool_ties_go_to_the_first_maximum_like_torch():
    """After a ReLU many windows are all zeros: the whole gradient goes to one pixel, the first."""
    x = np.maximum(np.random.default_rng(0).standard_normal((2, 3, 6, 6)), 0.0)
    x[0, 0] = 0.0  # a channel of ties only
    layer = MaxPool2d(2)
    assert_matches_torch(layer, torch.nn.MaxPool2d(2), x)
    grad = layer.backward(np.ones((2, 3, 3, 3)))
    np.testing.assert_array_equal(grad[0, 0, ::2, ::2], 1.0)
    assert grad[0, 0].sum() == 9


def test_maxpool_padding_never_wins():
    """x_pad uses −∞, so an all-negative image still pools to its own values."""
    x = -1.0 - np.random.default_rng(1).random((1, 1, 3, 3))
    assert np.all(MaxPool2d(2, stride=2, padding=1).forward(x) < -1.0)


@pytest.mark.parametrize("cls", [MaxPool2d, AvgPool2d])
@pytest.mark.parametrize(
    "kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1), dict(kernel_size=(2, 3), stride=1)]
)
def test_pool_gradients_central_differences(cls, kwargs):
    assert_gradients_numerically(cls(**kwargs), np.random.default_rng(2).standard_normal((2, 2, 5, 6)))


def test_pool_round_trip_through_torch():
    for layer in (MaxPool2d(3, 2, 1), AvgPool2d((2, 3), (1, 2))):
        back = type(layer).from_torch(layer.to_torch())
        assert repr(back) == repr(layer)


def test_pool_bad_input_messages():
    with raises_exactly(ValueError, "MaxPool2d.forward: x must be (N, C, H, W), got shape (3, 4, 4)"):
        MaxPool2d(2).forward(np.zeros((3, 4, 4)))
    with raises_exactly(
        ValueError,
        "AvgPool2d.forward: x must have H + 2*padding >= 3 and W + 2*padding >= 3 (the dilated kernel), "
        "got shape (1, 1, 1, 5) with padding (0, 0)",
    ):
        AvgPool2d(3).forward(np.zeros((1, 1, 1, 5)))
    with raises_exactly(ValueError, "MaxPool2d: padding must be at most half of kernel_size (2, 2), got (2, 2)"):
        MaxPool2d(2, padding=2)
    with raises_exactly(ValueError, "MaxPool2d.from_torch: only dilation=1 is supported, got dilation=2"):
        MaxPool2d.from_torch(torch.nn.MaxPool2d(2, dilation=2))
    with raises_exactly(ValueError, "AvgPool2d.from_torch: only ceil_mode=False is supported, got ceil_mode=True"):
        AvgPool2d.from_torch(torch.nn.AvgPool2d(2, ceil_mode=True))
    with raises_exactly(
        ValueError,
        "AvgPool2d.from_torch: only count_include_pad=True is "
        "supported, got count_include_pad=False",
    ):
        AvgPool2d.from_torch(torch.nn.AvgPool2d(2, count_include_pad=False))
