"""The layer contract of ``dlnotes.layers.base.Layer``, checked on every layer, block and model:
keyword-only ``train``, recurrent layers inside ``Sequential``, repeated layer objects refused,
``load_state_dict`` that validates everything before writing, torch input, empty batches."""

import inspect

import numpy as np
import pytest
import torch
from torch import nn

import dlnotes.layers as layers
import dlnotes.models as models
from dlnotes.layers import (
    GRU, LSTM, RNN, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, DepthwiseSeparableConv, Dropout, Flatten, Layer,
    Linear, MaxPool2d, ReLU, ResidualBlock, Sequential, Tanh,
)
from dlnotes.models import CNN, MLP, SequenceModel
from testkit import assert_unchanged, raises_exactly, snapshot


def layer_classes():
    """Every public Layer subclass of dlnotes.layers and dlnotes.models (found by introspection)."""
    found = {obj for module in (layers, models) for obj in vars(module).values()
             if inspect.isclass(obj) and issubclass(obj, Layer)}
    return sorted(found - {Layer, models.VAE}, key=lambda cls: cls.__name__)  # the VAE's pass is loss(), see its docstring


def examples(rng):
    """(layer, a valid input) for every class of ``layer_classes()``."""
    img = rng.standard_normal((2, 3, 8, 8))
    return {
        "AvgPool2d": (AvgPool2d(2), img), "BatchNorm1d": (BatchNorm1d(3), rng.standard_normal((4, 3))),
        "BatchNorm2d": (BatchNorm2d(3), img), "CNN": (CNN(8, 4, rng=rng, in_channels=3), img),
        "Conv2d": (Conv2d(3, 2, 3, rng=rng), img), "DepthwiseSeparableConv": (DepthwiseSeparableConv(3, 4, rng=rng), img),
        "Dropout": (Dropout(0.5, rng=rng), img), "Dropout2d": (layers.Dropout2d(0.5, rng=rng), img),
        "Flatten": (Flatten(), img), "GELU": (layers.GELU(), img), "GRU": (GRU(8, 4, rng=rng), img[0]),
        "LSTM": (LSTM(8, 4, rng=rng), img[0]), "LeakyReLU": (layers.LeakyReLU(), img),
        "Linear": (Linear(8, 2, rng=rng), img), "MLP": (MLP([8, 5, 2], rng=rng), img[0, 0]),
        "MaxPool2d": (MaxPool2d(2), img), "RNN": (RNN(8, 4, rng=rng), img[0]), "ReLU": (ReLU(), img),
        "ResidualBlock": (ResidualBlock(3, 4, 2, rng=rng), img), "Sequential": (Sequential(Tanh(), ReLU()), img),
        "SequenceModel": (SequenceModel("gru", 8, 4, rng=rng), img[0]), "Sigmoid": (layers.Sigmoid(), img),
        "Tanh": (Tanh(), img),
        # attention lane: the Transformer's layers and model, on sequences (N, T, E) = img[0]
        "Embedding": (layers.Embedding(6, 3, rng=rng), np.array([[0, 5, 2], [1, 1, 4]])),
        "LayerNorm": (layers.LayerNorm(8), img), "MultiheadAttention": (layers.MultiheadAttention(8, 2, rng=rng), img[0]),
        "TransformerEncoderLayer": (layers.TransformerEncoderLayer(8, 2, 16, rng=rng), img[0]),
        "SequenceTransformer": (models.SequenceTransformer(8, 4, 2, 6, rng=rng), img[0]),
    }


def test_every_layer_has_an_example():
    assert [cls.__name__ for cls in layer_classes()] == sorted(examples(np.random.default_rng(0)))


@pytest.mark.parametrize("cls", layer_classes(), ids=lambda cls: cls.__name__)
def test_train_is_keyword_only_and_a_bool(cls):
    train = inspect.signature(cls.forward).parameters["train"]
    assert train.kind is inspect.Parameter.KEYWORD_ONLY and train.default is True
    layer, x = examples(np.random.default_rng(1))[cls.__name__]
    y = layer.forward(x, train=False)
    before = snapshot(layer)
    for value, kind in (("no", "str"), (0, "int"), (None, "NoneType")):
        with raises_exactly(TypeError, f"{cls.__name__}.forward: train must be a bool, got {kind}"):
            layer.forward(x, train=value)
    assert_unchanged(before, layer)
    with pytest.raises(TypeError, match="positional argument"):
        layer.forward(x, False, False)  # recurrent layers take h0 second: a third positional is refused everywhere
    assert layer(x, train=False).shape == y.shape  # __call__ is forward


def test_positional_train_no_longer_lands_in_h0():
    """The reproducer: ``Sequential(RNN(3, 4, rng=r)).forward(x)`` failed with "h0 must be (1, 2, 4),
    got shape ()". Now the RNN composes, and matches torch's output and final state."""
    rng = np.random.default_rng(2)
    for cls, torch_cls in ((RNN, nn.RNN), (LSTM, nn.LSTM), (GRU, nn.GRU)):
        rec, head = cls(3, 4, rng=rng), Linear(4, 2, rng=rng)
        model = Sequential(rec, Tanh(), head)
        x, g = rng.standard_normal((5, 2, 3)), rng.standard_normal((5, 2, 2))
        y = model.forward(x)
        dx = model.backward(g)
        module = torch_cls(3, 4).double()
        module.load_state_dict({k: torch.from_numpy(v) for k, v in rec.state_dict().items()})
        lin = head.to_torch()
        xt = torch.tensor(x, requires_grad=True)
        out, state = module(xt)
        yt = lin(torch.tanh(out))
        yt.backward(torch.from_numpy(g))
        np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
        for ours, theirs in zip(rec.state if cls is LSTM else (rec.state,), state if cls is LSTM else (state,)):
            np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
        out2, state2 = rec.forward_with_state(x)  # the full-state API: torch's (output, h_n)
        np.testing.assert_allclose(out2, out.detach().numpy(), rtol=1e-10, atol=1e-12)
        assert state2 is rec.state


def test_repeated_layer_object_is_refused_at_construction():
    """The reproducer: ``Sequential(Linear, act, Linear, act)`` with one ReLU object gave a backward
    0.39 away from torch (the second forward overwrote the first one's cache)."""
    r1, r2 = np.random.default_rng(3), np.random.default_rng(4)
    act = ReLU()
    with raises_exactly(ValueError, "Sequential: layers must be distinct objects, got the same ReLU at '1' and '3' "
                        "(a layer caches one forward pass and holds one set of gradients; build a second "
                        "instance instead)"):
        Sequential(Linear(3, 3, rng=r1), act, Linear(3, 3, rng=r2), act)
    lin = Linear(2, 2, rng=r1)
    with raises_exactly(ValueError, "Sequential: layers must be distinct objects, got the same Linear at "
                        "'0.0' and '1' (a layer caches one forward pass and holds one set of gradients; "
                        "build a second instance instead)"):
        Sequential(Sequential(lin, ReLU()), lin)
    # two distinct ReLU objects give torch's gradients
    l1, l2 = Linear(3, 3, rng=r1), Linear(3, 3, rng=r2)
    model = Sequential(l1, ReLU(), l2, ReLU())
    x, g = r1.standard_normal((4, 3)), r1.standard_normal((4, 3))
    model.forward(x)
    dx = model.backward(g)
    module = model.to_torch()
    xt = torch.tensor(x, requires_grad=True)
    module(xt).backward(torch.from_numpy(g))
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-14)


def refused_load(layer, state, exc, message):
    before = snapshot(layer)
    with raises_exactly(exc, message):
        layer.load_state_dict(state)
    assert_unchanged(before, layer)


def test_load_state_dict_validates_everything_before_writing():
    rng = np.random.default_rng(5)
    lin = Linear(3, 2, rng=rng)
    # the reproducer: weight used to be all 9.0 after this refused call
    refused_load(lin, {"weight": np.full((2, 3), 9.0), "bias": np.zeros(5)}, ValueError,
                 "Linear.load_state_dict: bias must have shape (2,), got (5,)")
    refused_load(lin, None, TypeError, "Linear.load_state_dict: state must be a mapping of names to arrays, got NoneType")
    refused_load(lin, {"weight": np.full((2, 3), 9.0)}, ValueError,
                 "Linear.load_state_dict: state must have the keys ['weight', 'bias'], missing ['bias'], unexpected []")
    refused_load(lin, {"weight": np.full((2, 3), np.nan), "bias": np.zeros(2)}, ValueError,
                 "Linear.load_state_dict: weight must be finite, got 6 NaN or infinite value(s)")
    refused_load(lin, {"weight": np.full((2, 3), "a"), "bias": np.zeros(2)}, TypeError,
                 "Linear.load_state_dict: weight must be a real numeric array, got dtype <U1")
    bn = Sequential(Linear(3, 2, rng=rng), BatchNorm1d(2))
    state = bn.state_dict()
    state["0.weight"] = np.full((2, 3), 7.0)
    state["1.running_var"] = np.array([1.0, -0.5])  # written last: the weight above must not be touched
    refused_load(bn, state, ValueError, "Sequential.load_state_dict: running_var must be >= 0, got minimum -0.5")
    state["1.running_var"] = np.ones(2)
    state["1.num_batches_tracked"] = np.array(-1)
    refused_load(bn, state, ValueError,
                 "Sequential.load_state_dict: num_batches_tracked must be a non-negative integer, got -1.0")
    state["1.num_batches_tracked"] = np.array(3)
    bn.load_state_dict(state)  # a valid state is written in full
    np.testing.assert_array_equal(bn[0].params["weight"], 7.0)
    assert bn[1].buffers["num_batches_tracked"] == 3


def test_torch_input():
    rng = np.random.default_rng(6)
    block = ResidualBlock(3, 3, rng=rng)
    x = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_array_equal(block.forward(torch.from_numpy(x), train=False), block.forward(x, train=False))
    for layer in (block, Linear(4, 2, rng=rng), ReLU()):
        with raises_exactly(TypeError, f"{type(layer).__name__}.forward: x must be an array or a tensor without "
                            "gradient tracking, got a Tensor with requires_grad=True (pass x.detach())"):
            layer.forward(torch.ones(2, 3, 4, 4, requires_grad=True))


def test_sequential_from_torch_converts_a_residual_block_back():
    rng = np.random.default_rng(7)
    model = Sequential(ResidualBlock(3, 4, 2, rng=rng), Flatten(), Linear(16, 2, rng=rng))
    model.forward(rng.standard_normal((4, 3, 4, 4)))  # move the running statistics off their start
    copy = Sequential.from_torch(model.to_torch())
    assert isinstance(copy[0], ResidualBlock)
    x = rng.standard_normal((2, 3, 4, 4))
    np.testing.assert_array_equal(copy.forward(x, train=False), model.forward(x, train=False))


def test_bool_options_are_bools():
    rng = np.random.default_rng(8)
    with raises_exactly(TypeError, "Linear: bias must be a bool, got str"):
        Linear(2, 2, bias="no", rng=rng)
    with raises_exactly(TypeError, "Conv2d: bias must be a bool, got int"):
        Conv2d(2, 2, 3, bias=0, rng=rng)
    with raises_exactly(TypeError, "MLP: batchnorm must be a bool, got str"):
        MLP([2, 2], rng=rng, batchnorm="yes")
    with raises_exactly(ValueError, "MLP: sizes must be a list of at least the input and output sizes, got 3"):
        MLP(3, rng=rng)
    with raises_exactly(ValueError, "CNN: channels must be a pair (c1, c2) of channel counts, got (8,)"):
        CNN(channels=(8,), rng=rng)


EMPTY_CASES = {
    "Conv2d": (lambda r: Conv2d(3, 2, 3, padding=1, rng=r), lambda m: nn.Conv2d(3, 2, 3, padding=1), (0, 3, 5, 5)),
    "MaxPool2d": (lambda r: MaxPool2d(2), lambda m: nn.MaxPool2d(2), (0, 3, 4, 4)),
    "AvgPool2d": (lambda r: AvgPool2d(2), lambda m: nn.AvgPool2d(2), (0, 3, 4, 4)),
    "BatchNorm2d": (lambda r: BatchNorm2d(3), lambda m: nn.BatchNorm2d(3), (0, 3, 4, 4)),
    "BatchNorm1d": (lambda r: BatchNorm1d(3), lambda m: nn.BatchNorm1d(3), (0, 3)),
    "Linear": (lambda r: Linear(3, 2, rng=r), lambda m: nn.Linear(3, 2), (0, 3)),
    "Flatten": (lambda r: Flatten(), lambda m: nn.Flatten(), (0, 3, 2, 2)),
    "ResidualBlock": (lambda r: ResidualBlock(3, 4, 2, rng=r), lambda m: m.to_torch(), (0, 3, 4, 4)),
    "DepthwiseSeparableConv": (lambda r: DepthwiseSeparableConv(3, 4, rng=r), lambda m: m.to_torch(), (0, 3, 4, 4)),
    "CNN": (lambda r: CNN(8, 3, rng=r), lambda m: m.to_torch(), (0, 1, 8, 8)),
    "RNN": (lambda r: RNN(3, 4, rng=r), lambda m: nn.RNN(3, 4), (5, 0, 3)),
    "LSTM": (lambda r: LSTM(3, 4, batch_first=True, rng=r), lambda m: nn.LSTM(3, 4, batch_first=True), (0, 5, 3)),
}


@pytest.mark.parametrize("name", EMPTY_CASES)
def test_empty_batch_gives_torchs_shapes(name):
    build, build_torch, shape = EMPTY_CASES[name]
    layer = build(np.random.default_rng(9))
    module = build_torch(layer).double().train()
    x = np.zeros(shape)
    want = module(torch.from_numpy(x))
    want = want[0] if isinstance(want, tuple) else want
    y = layer.forward(x)
    assert y.shape == tuple(want.shape)
    assert layer.backward(np.zeros(y.shape)).shape == shape
    if "BatchNorm" in name:  # torch counts the empty batch and leaves the statistics alone
        assert layer.buffers["num_batches_tracked"] == module.num_batches_tracked.item() == 1
        np.testing.assert_array_equal(layer.buffers["running_var"], module.running_var.numpy())
    if name == "CNN":
        assert layer.predict(x).shape == (0,) and layer.predict_proba(x).shape == (0, 3)


def test_batchnorm_refuses_non_finite_input_in_training_only():
    """The reproducer: one NaN in a training batch made the running statistics NaN for good."""
    rng = np.random.default_rng(10)
    bn = BatchNorm1d(3)
    bn.forward(rng.standard_normal((8, 3)))
    x = rng.standard_normal((8, 3))
    x[2, 1] = np.nan
    before = snapshot(bn)
    with raises_exactly(ValueError, "BatchNorm1d.forward: x must be finite, got 1 NaN or infinite value(s)"):
        bn.forward(x)
    assert_unchanged(before, bn)
    y = bn.forward(x, train=False)  # eval mode is a pure function: NaN propagates, as in torch
    module = bn.to_torch().eval()
    np.testing.assert_allclose(y, module(torch.from_numpy(x)).detach().numpy(), rtol=1e-12, equal_nan=True)
    assert np.isnan(y[2, 1]) and np.isfinite(np.delete(y, 2, axis=0)).all()
