"""Dropout and Dropout2d: torch's mask reproduced exactly, the inverted-dropout expectation,
spatial mask shapes, eval mode, central differences, bad input."""

import numpy as np
import pytest
import torch

from _layer_parity import assert_gradients_numerically
from testkit import raises_exactly
from dlnotes.layers import Dropout, Dropout2d


@pytest.mark.parametrize("cls, shape", [(Dropout, (4, 7)), (Dropout, (2, 3, 5)), (Dropout2d, (3, 4, 5, 2))])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_with_torchs_mask_matches_exactly(cls, shape, p):
    """Read the kept units off torch's output (x has no zeros), hand that mask to dlnotes:
    output and input gradient agree to the last bit."""
    x = np.random.default_rng(0).uniform(0.5, 2.0, size=shape)
    g = np.random.default_rng(1).standard_normal(shape)
    torch.manual_seed(2)
    xt = torch.tensor(x, requires_grad=True)
    yt = getattr(torch.nn, cls.__name__)(p)(xt)
    yt.backward(torch.from_numpy(g))
    layer = cls(p, rng=np.random.default_rng(3))
    kept = yt.detach().numpy() != 0
    mask = kept if cls is Dropout else kept[:, :, :1, :1]
    np.testing.assert_array_equal(layer.forward(x, mask=mask), yt.detach().numpy())
    np.testing.assert_array_equal(layer.backward(g), xt.grad.numpy())
    assert layer.mask is mask


def test_inverted_dropout_keeps_the_expectation():
    """E[y] = x in training (errata #32): mean over many masks within 5 standard errors, where
    Var(y_i) = x_i²·p/(1−p). A layer that forgot the 1/(1−p) would be off by p·x."""
    p, draws = 0.3, 4000
    layer = Dropout(p, rng=np.random.default_rng(4))
    x = np.random.default_rng(5).uniform(0.5, 2.0, size=50)
    mean = np.mean([layer.forward(x) for _ in range(draws)], axis=0)
    standard_error = x * np.sqrt(p / (1 - p) / draws)
    assert np.all(np.abs(mean - x) < 5 * standard_error)
    assert np.all(np.abs(mean - (1 - p) * x) > 5 * standard_error)  # the test can tell the two apart
    np.testing.assert_array_equal(layer.forward(x, train=False), x)  # nothing to rescale at test time


def test_dropout_drops_a_fraction_p():
    layer = Dropout(0.25, rng=np.random.default_rng(6))
    y = layer.forward(np.ones(200_000))
    assert np.mean(y == 0) == pytest.approx(0.25, abs=5 * np.sqrt(0.25 * 0.75 / 200_000))
    assert set(np.unique(y)) == {0.0, 1 / 0.75}


def test_dropout2d_drops_whole_channels():
    """Spatial dropout (torch's nn.Dropout2d; errata #33): mask (N, C, 1, 1), a map is kept or zeroed whole."""
    layer = Dropout2d(0.5, rng=np.random.default_rng(7))
    x = np.random.default_rng(8).uniform(0.5, 2.0, size=(6, 5, 4, 3))
    y = layer.forward(x)
    assert layer.mask.shape == (6, 5, 1, 1)
    zeroed = np.all(y == 0, axis=(2, 3))
    kept = np.all(y != 0, axis=(2, 3))
    assert np.all(zeroed | kept) and zeroed.any() and kept.any()
    np.testing.assert_array_equal(zeroed, ~layer.mask[:, :, 0, 0])
    torch_noise = torch.nn.Dropout2d(0.5)(torch.ones(6, 5, 4, 3))
    assert torch.all((torch_noise == 0).all(dim=(2, 3)) | (torch_noise != 0).all(dim=(2, 3)))


@pytest.mark.parametrize("cls, shape", [(Dropout, (3, 4)), (Dropout2d, (2, 3, 2, 2))])
def test_dropout_gradients_central_differences(cls, shape):
    layer = cls(0.4, rng=np.random.default_rng(9))
    x = np.random.default_rng(10).standard_normal(shape)
    layer.forward(x)
    mask = layer.mask
    assert_gradients_numerically(layer, x, forward=lambda v: layer.forward(v, mask=mask))
    assert_gradients_numerically(layer, x, forward=lambda v: layer.forward(v, train=False))


def test_dropout_round_trip_and_rng_required():
    module = torch.nn.Dropout2d(0.3)
    layer = Dropout2d.from_torch(module, rng=np.random.default_rng(11))
    assert layer.p == 0.3 and type(layer.to_torch()) is torch.nn.Dropout2d
    with raises_exactly(
        TypeError,
        "Dropout: rng must be a numpy.random.Generator "
        "(np.random.default_rng(seed)), got NoneType",
    ):
        Dropout.from_torch(torch.nn.Dropout(0.3))


def test_dropout_bad_input_messages():
    rng = np.random.default_rng(12)
    with raises_exactly(ValueError, "Dropout: p must be in [0.0, 1.0), got 1.0"):
        Dropout(1.0, rng=rng)
    with raises_exactly(ValueError, "Dropout2d: p must be in [0.0, 1.0), got -0.1"):
        Dropout2d(-0.1, rng=rng)
    with raises_exactly(ValueError, "Dropout2d.forward: x must be (N, C, H, W), got shape (3, 4)"):
        Dropout2d(0.5, rng=rng).forward(np.ones((3, 4)))
    with raises_exactly(
        ValueError,
        "Dropout2d.forward: mask must be a boolean array of shape "
        "(2, 3, 1, 1), got bool of shape (2, 3, 4, 4)",
    ):
        Dropout2d(0.5, rng=rng).forward(np.ones((2, 3, 4, 4)), mask=np.ones((2, 3, 4, 4), bool))
    with raises_exactly(
        ValueError,
        "Dropout.forward: mask must be a boolean array of shape "
        "(2, 3), got float64 of shape (2, 3)",
    ):
        Dropout(0.5, rng=rng).forward(np.ones((2, 3)), mask=np.ones((2, 3)))
