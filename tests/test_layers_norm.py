"""BatchNorm1d/2d against torch (float64): train and eval outputs and gradients, running
statistics over several steps, central differences in both modes, bad input."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from _layer_parity import assert_gradients_numerically, assert_matches_torch, assert_state_matches
from testkit import raises_exactly
from dlnotes.layers import BatchNorm1d, BatchNorm2d

SHAPES = {"BatchNorm1d": [(5, 3), (2, 3, 4)], "BatchNorm2d": [(2, 3, 4, 5), (1, 3, 2, 1)]}
CLASSES = {"BatchNorm1d": BatchNorm1d, "BatchNorm2d": BatchNorm2d}


def torch_bn(name, num_features, momentum, seed):
    """A torch batch norm with random affine parameters and running statistics."""
    torch.manual_seed(seed)
    module = getattr(torch.nn, name)(num_features, eps=1e-5, momentum=momentum).double()
    with torch.no_grad():
        for tensor in (module.weight, module.bias, module.running_mean):
            tensor.normal_()
        module.running_var.uniform_(0.5, 2.0)
    return module


@pytest.mark.parametrize("name", list(CLASSES))
@settings(max_examples=15, deadline=None)
@given(momentum=st.floats(0.0, 1.0), steps=st.integers(1, 4), seed=st.integers(0, 2**16), which=st.integers(0, 1))
def test_batchnorm_train_then_eval_matches_torch(name, momentum, steps, seed, which):
    """Several training steps (batch stats; running stats updated with the unbiased variance),
    then eval (running stats): outputs, all gradients and every buffer equal torch's."""
    shape = SHAPES[name][which]
    module = torch_bn(name, shape[1], momentum, seed)
    layer = CLASSES[name].from_torch(module)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        assert_matches_torch(layer, module, 2.0 + 3.0 * rng.standard_normal(shape), train=True)
    assert_state_matches(layer, module)
    assert layer.buffers["num_batches_tracked"] == steps
    assert_matches_torch(layer, module, rng.standard_normal(shape), train=False)
    assert_state_matches(layer, module)  # eval leaves the buffers alone


def test_running_variance_is_unbiased_and_normalisation_biased():
    """With momentum 1 one step stores the batch statistics: the unbiased variance (ddof=1), while
    the output is standardised with the biased σ² (ddof=0), so Var(y) = σ² / (σ² + eps)."""
    x = np.array([[1.0], [2.0], [4.0], [9.0]])
    layer = BatchNorm1d(1, momentum=1.0)
    y = layer.forward(x)
    assert layer.buffers["running_var"][0] == pytest.approx(np.var(x, ddof=1))
    assert layer.buffers["running_mean"][0] == pytest.approx(4.0)
    assert np.var(y) == pytest.approx(np.var(x) / (np.var(x) + 1e-5), rel=1e-12)


@pytest.mark.parametrize("cls, shape", [(BatchNorm1d, (6, 3)), (BatchNorm1d, (3, 2, 4)), (BatchNorm2d, (3, 2, 3, 2))])
@pytest.mark.parametrize("train", [True, False])
def test_batchnorm_gradients_central_differences(cls, shape, train):
    rng = np.random.default_rng(1)
    layer = cls(shape[1])
    layer.params["weight"][...] = rng.normal(size=shape[1])
    layer.params["bias"][...] = rng.normal(size=shape[1])
    layer.buffers["running_mean"][...] = rng.normal(size=shape[1])
    layer.buffers["running_var"][...] = rng.uniform(0.5, 2.0, size=shape[1])
    assert_gradients_numerically(layer, rng.standard_normal(shape), forward=lambda v: layer.forward(v, train=train))


def test_batchnorm_standardises_each_feature_but_does_not_whiten():
    """Per-feature mean 0 and variance ~1 with γ = 1, β = 0; correlations between features stay (errata #19)."""
    rng = np.random.default_rng(2)
    z = rng.standard_normal((4000, 1))
    x = np.hstack([3 + 2 * z, -1 + 5 * z + 0.1 * rng.standard_normal((4000, 1))])
    y = BatchNorm1d(2).forward(x)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), 1.0, rtol=1e-5)
    assert np.corrcoef(y.T)[0, 1] > 0.99


def test_batchnorm_round_trip_and_float32():
    layer = BatchNorm2d(4, eps=1e-3, momentum=0.3)
    layer.forward(np.random.default_rng(3).standard_normal((2, 4, 3, 3)))
    back = BatchNorm2d.from_torch(layer.to_torch())
    assert repr(back) == repr(layer) == "BatchNorm2d(num_features=4, eps=0.001, momentum=0.3)"
    assert_state_matches(back, layer.to_torch())
    small = BatchNorm2d(2, dtype=np.float32)
    x32 = np.random.default_rng(4).standard_normal((3, 2, 2, 2)).astype(np.float32)
    assert small.forward(x32).dtype == np.float32 and small.backward(x32).dtype == np.float32


def test_batchnorm_bad_input_messages():
    with raises_exactly(ValueError, "BatchNorm2d.forward: x must be (N, 3, H, W), got shape (8, 1, 28, 28)"):
        BatchNorm2d(3).forward(np.zeros((8, 1, 28, 28)))
    with raises_exactly(ValueError, "BatchNorm1d.forward: x must be (N, 3) or (N, 3, L), got shape (8, 3, 2, 2)"):
        BatchNorm1d(3).forward(np.zeros((8, 3, 2, 2)))
    with raises_exactly(
        ValueError,
        "BatchNorm1d.forward: x must hold more than 1 value per "
        "channel in training, got shape (1, 3)",
    ):
        BatchNorm1d(3).forward(np.zeros((1, 3)))
    assert BatchNorm1d(3).forward(np.ones((1, 3)), train=False).shape == (1, 3)  # eval needs no batch
    with raises_exactly(ValueError, "BatchNorm1d: momentum must be in [0.0, 1.0], got 1.5"):
        BatchNorm1d(3, momentum=1.5)
    with raises_exactly(ValueError, "BatchNorm1d.from_torch: only affine=True is supported, got affine=False"):
        BatchNorm1d.from_torch(torch.nn.BatchNorm1d(3, affine=False))
    with raises_exactly(
        ValueError,
        "BatchNorm2d.from_torch: momentum must be a number (None, "
        "a cumulative average, is not supported)",
    ):
        BatchNorm2d.from_torch(torch.nn.BatchNorm2d(3, momentum=None))
    with raises_exactly(TypeError, "BatchNorm2d.from_torch: module must be a torch.nn.BatchNorm2d, got BatchNorm1d"):
        BatchNorm2d.from_torch(torch.nn.BatchNorm1d(3))
