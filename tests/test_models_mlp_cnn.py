"""MLP and CNN against their torch twins (float64): outputs, gradients, a few training steps,
the whole-model torch bridge, central differences, prediction helpers, bad input."""

import numpy as np
import pytest
import torch
from torch import nn

from _layer_parity import assert_gradients_numerically, assert_matches_torch, assert_state_matches
from testkit import raises_exactly
from dlnotes.activations import softmax
from dlnotes.layers import BatchNorm1d, Dropout, Linear, ReLU, Tanh
from dlnotes.models import CNN, MLP


def sgd_steps_match_torch(model, x, labels, steps=3, lr=0.1):
    """Cross-entropy + plain gradient descent for a few steps in dlnotes and in torch: same parameters after each."""
    module = model.to_torch()
    targets = torch.from_numpy(labels)
    for _ in range(steps):
        logits = model.forward(x)
        grad = softmax(logits) - np.eye(logits.shape[1])[labels]  # d mean-CE / d logits, times N
        model.backward(grad / len(labels))
        for param, g in zip(model.parameters(), model.gradients()):
            param -= lr * g
        module.zero_grad()
        nn.functional.cross_entropy(module(torch.from_numpy(x)), targets).backward()
        with torch.no_grad():
            for param in module.parameters():
                param -= lr * param.grad
        assert_state_matches(model, module)


def test_mlp_layout():
    model = MLP([4, 8, 6, 3], "tanh", rng=np.random.default_rng(0), batchnorm=True, dropout=0.25)
    kinds = [type(layer) for layer in model]
    assert kinds == [Linear, BatchNorm1d, Tanh, Dropout, Linear, BatchNorm1d, Tanh, Dropout, Linear]
    assert [p.shape for p in model.parameters()] == [(8, 4), (8,), (8,), (8,), (6, 8), (6,), (6,), (6,), (3, 6), (3,)]
    assert MLP([5, 2], rng=np.random.default_rng(0)).num_parameters() == 5 * 2 + 2  # logistic regression


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "leaky_relu", "gelu"])
@pytest.mark.parametrize("batchnorm", [False, True])
def test_mlp_matches_torch(activation, batchnorm):
    model = MLP([3, 7, 5, 4], activation, rng=np.random.default_rng(1), batchnorm=batchnorm)
    x = np.random.default_rng(2).standard_normal((6, 3))
    module = model.to_torch()
    assert_matches_torch(model, module, x, train=True)
    assert_matches_torch(model, module, x, train=False)
    assert_state_matches(model, module)


def test_mlp_with_dropout_matches_torch_in_eval_and_trains_like_torch():
    model = MLP([4, 16, 3], rng=np.random.default_rng(3), dropout=0.5)
    x = np.random.default_rng(4).standard_normal((10, 4))
    assert_matches_torch(model, model.to_torch(), x, train=False)
    plain = MLP([4, 16, 16, 3], "tanh", rng=np.random.default_rng(5), batchnorm=True)
    sgd_steps_match_torch(plain, x, np.arange(10) % 3)


def test_mlp_round_trip_through_torch():
    rng = np.random.default_rng(6)
    model = MLP([3, 5, 2], "leaky_relu", rng=rng, batchnorm=True, dropout=0.1)
    model.forward(rng.standard_normal((4, 3)))  # move the running statistics
    back = MLP.from_torch(model.to_torch(), rng=rng)
    assert (back.sizes, back.activation, back.batchnorm, back.dropout) == ([3, 5, 2], "leaky_relu", True, 0.1)
    assert_state_matches(back, model.to_torch())
    torch.manual_seed(7)
    built_in_torch = nn.Sequential(nn.Linear(2, 9), nn.ReLU(), nn.Linear(9, 9), nn.ReLU(), nn.Linear(9, 1)).double()
    from_torch = MLP.from_torch(built_in_torch)
    assert from_torch.sizes == [2, 9, 9, 1]
    assert_matches_torch(from_torch, built_in_torch, rng.standard_normal((3, 2)))


def test_mlp_gradients_central_differences():
    rng = np.random.default_rng(8)
    model = MLP([3, 4, 2], "gelu", rng=rng, batchnorm=True)
    assert_gradients_numerically(model, rng.standard_normal((5, 3)))


@pytest.mark.parametrize("image_size, channels", [(8, (8, 16)), (28, (4, 6))])
def test_cnn_matches_torch(image_size, channels):
    model = CNN(image_size, 10, channels, rng=np.random.default_rng(9))
    side = image_size // 4
    assert model[-1].in_features == channels[1] * side * side
    x = np.random.default_rng(10).standard_normal((3, 1, image_size, image_size))
    module = model.to_torch()
    assert_matches_torch(model, module, x)
    assert model.num_parameters() == sum(p.numel() for p in module.parameters())


def test_cnn_trains_like_torch_on_digits_sized_images():
    rng = np.random.default_rng(11)
    model = CNN(8, 4, (3, 5), rng=rng)
    sgd_steps_match_torch(model, rng.standard_normal((12, 1, 8, 8)), rng.integers(0, 4, size=12))


def test_cnn_round_trip_and_a_model_built_in_torch():
    model = CNN(28, 10, (4, 6), rng=np.random.default_rng(12), in_channels=3)
    back = CNN.from_torch(model.to_torch())
    assert (back.image_size, back.in_channels, repr(back)) == (28, 3, repr(model))
    torch.manual_seed(13)
    built_in_torch = nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 2 * 2, 5),
    ).double()
    from_torch = CNN.from_torch(built_in_torch)
    assert from_torch.image_size == 8
    assert_matches_torch(from_torch, built_in_torch, np.random.default_rng(14).standard_normal((2, 1, 8, 8)))


def test_cnn_gradients_central_differences():
    rng = np.random.default_rng(15)
    model = CNN(8, 3, (2, 2), rng=rng)
    assert_gradients_numerically(model, rng.standard_normal((2, 1, 8, 8)))


def test_predict_helpers():
    rng = np.random.default_rng(16)
    model = MLP([4, 8, 3], rng=rng, dropout=0.5)
    x = rng.standard_normal((7, 4))
    logits = model.to_torch().eval()(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(model.predict_proba(x), torch.softmax(torch.from_numpy(logits), 1).numpy(), rtol=1e-12)
    np.testing.assert_array_equal(model.predict(x), logits.argmax(axis=1))


def test_model_bad_arguments():
    rng = np.random.default_rng(17)
    with raises_exactly(ValueError, "MLP: sizes must be a list of at least the input and output sizes, got [3]"):
        MLP([3], rng=rng)
    with raises_exactly(ValueError, "MLP: sizes[1] must be >= 1, got 0"):
        MLP([3, 0, 2], rng=rng)
    with raises_exactly(
        ValueError,
        "MLP: activation must be one of relu, sigmoid, tanh, leaky_relu, gelu, got 'swish'",
    ):
        MLP([3, 4, 2], "swish", rng=rng)
    with raises_exactly(ValueError, "MLP: dropout must be in [0.0, 1.0), got 1.0"):
        MLP([3, 4, 2], rng=rng, dropout=1.0)
    with raises_exactly(
        TypeError,
        "Linear: rng must be a numpy.random.Generator "
        "(np.random.default_rng(seed)), got int",
    ):
        MLP([3, 4, 2], rng=3)
    with raises_exactly(ValueError, "CNN: image_size must be >= 4, got 3"):
        CNN(3, rng=rng)
    with raises_exactly(
        ValueError,
        "CNN.forward: x must be (N, 1, H, W) with H // 4 = W // 4 = "
        "2 (e.g. 8 x 8), got shape (5, 1, 28, 28)",
    ):
        CNN(8, rng=rng).forward(np.zeros((5, 1, 28, 28)))
    with raises_exactly(
        ValueError,
        "CNN.forward: x must be (N, 1, H, W) with H // 4 = W // 4 = "
        "7 (e.g. 28 x 28), got shape (5, 28, 28)",
    ):
        CNN(28, rng=rng).forward(np.zeros((5, 28, 28)))
    tanh_net = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1))
    with pytest.raises(ValueError, match="^MLP.from_torch: module must be laid out as\n"):
        MLP.from_torch(tanh_net)
    with raises_exactly(
        ValueError,
        "CNN.from_torch: module must hold 2 Conv2d and 1 "
        "Linear, got Sequential(\n  (0): ReLU()\n)",
    ):
        CNN.from_torch(nn.Sequential(nn.ReLU()))
    assert isinstance(MLP.from_torch(nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)))[1], ReLU)
