"""Linear, Flatten and the activation layers against torch (float64), central differences, bad input."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

from _layer_parity import assert_gradients_numerically, assert_matches_torch, assert_state_matches
from testkit import raises_exactly
from dlnotes.layers import ACTIVATION_LAYERS, GELU, Flatten, LeakyReLU, Linear, activation_layer


@settings(max_examples=30, deadline=None)
@given(
    lead=array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=4),
    sizes=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_linear_matches_torch(lead, sizes, bias, seed):
    torch.manual_seed(seed)
    module = torch.nn.Linear(*sizes, bias=bias).double()
    x = np.random.default_rng(seed).standard_normal(lead + (sizes[0],))
    assert_matches_torch(Linear.from_torch(module), module, x)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients_central_differences(bias):
    rng = np.random.default_rng(0)
    assert_gradients_numerically(Linear(4, 3, bias, rng=rng), rng.standard_normal((5, 4)))


def test_linear_default_init_and_round_trip():
    """torch: W, b ~ U(±1/√in_features)."""
    layer = Linear(100, 300, rng=np.random.default_rng(1))
    bound = 1 / math.sqrt(100)
    assert np.abs(layer.params["weight"]).max() <= bound and np.abs(layer.params["bias"]).max() <= bound
    assert layer.params["weight"].std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    module = layer.to_torch()
    assert_state_matches(layer, module)
    assert repr(Linear.from_torch(module)) == repr(layer) == "Linear(in_features=100, out_features=300, bias=True)"


def test_linear_bad_input_messages():
    layer = Linear(4, 2, rng=np.random.default_rng(2))
    with raises_exactly(ValueError, "Linear.forward: x must be (*, 4), got shape (8, 3)"):
        layer.forward(np.zeros((8, 3)))
    with raises_exactly(ValueError, "Linear.forward: x must be (*, 4), got shape ()"):
        layer.forward(np.float64(1.0))
    with raises_exactly(ValueError, "Linear: in_features must be >= 1, got 0"):
        Linear(0, 2, rng=np.random.default_rng(2))
    with raises_exactly(RuntimeError, "Linear.backward: call forward before backward"):
        layer.backward(np.zeros((1, 2)))


@pytest.mark.parametrize("dims", [(1, -1), (0, 1), (2, 3), (-3, -2)])
def test_flatten_matches_torch(dims):
    module = torch.nn.Flatten(*dims)
    layer = Flatten.from_torch(module)
    assert (layer.start_dim, layer.end_dim) == dims
    assert_matches_torch(layer, module, np.random.default_rng(3).standard_normal((2, 3, 4, 5)))
    assert_gradients_numerically(layer, np.random.default_rng(4).standard_normal((2, 3, 2, 2)))


def test_flatten_bad_input_message():
    with raises_exactly(ValueError, "Flatten.forward: x must have axes start_dim=1 <= end_dim=-1, got shape (5,)"):
        Flatten().forward(np.zeros(5))
    with raises_exactly(ValueError, "Flatten.forward: x must have axes start_dim=2 <= end_dim=1, got shape (2, 3, 4)"):
        Flatten(2, 1).forward(np.zeros((2, 3, 4)))


@pytest.mark.parametrize("name", sorted(ACTIVATION_LAYERS))
def test_activation_layers_match_torch(name):
    layer = activation_layer(name)
    module = layer.to_torch()
    assert type(module).__name__ == type(layer).__name__
    x = np.random.default_rng(4).standard_normal((3, 4, 5)) * 3
    x[0, 0, :2] = [0.0, 40.0]  # the kink and saturation
    assert_matches_torch(type(layer).from_torch(module), module, x)
    assert_gradients_numerically(layer, np.random.default_rng(5).standard_normal((2, 3)))


def test_leaky_relu_slope_round_trips():
    module = torch.nn.LeakyReLU(0.2)
    layer = LeakyReLU.from_torch(module)
    assert layer.negative_slope == 0.2 and layer.to_torch().negative_slope == 0.2
    assert_matches_torch(layer, module, np.random.default_rng(6).standard_normal((4, 3)))


def test_activation_bad_arguments():
    with raises_exactly(
        ValueError,
        "activation_layer: activation must be one of relu, sigmoid, tanh, leaky_relu, gelu, got 'softplus'",
    ):
        activation_layer("softplus")
    with raises_exactly(ValueError, "GELU.from_torch: only approximate='none' is supported, got approximate='tanh'"):
        GELU.from_torch(torch.nn.GELU(approximate="tanh"))
    with raises_exactly(TypeError, "ReLU.forward: x must be a real numeric array, got dtype complex128"):
        activation_layer("relu").forward(np.ones(2, complex))
