"""SequenceModel against torch (float64, copied weights): outputs and every gradient for RNN,
LSTM and GRU, many-to-one and many-to-many; training steps with fit + Adam against torch.optim.Adam;
the torch bridge; central differences; bad input."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from _layer_parity import assert_gradients_numerically, assert_state_matches
from testkit import raises_exactly
from dlnotes.layers.recurrent import GRU, LSTM, RNN
from dlnotes.models.sequence import SequenceModel
from dlnotes.optim import Adam
from dlnotes.train import fit

RTOL, ATOL = 1e-10, 1e-12
CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class Reference(nn.Module):
    """The model written directly in torch (not via SequenceModel.to_torch)."""

    def __init__(self, cell, input_size, hidden_size, output_size, many_to_many):
        super().__init__()
        self.rnn = CELLS[cell](input_size, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, output_size)
        self.many_to_many = many_to_many

    def forward(self, x):
        hs, h_n = self.rnn(x)
        h_last = h_n[0] if isinstance(self.rnn, nn.LSTM) else h_n  # the final state, not a slice of hs
        return self.head(hs) if self.many_to_many else self.head(h_last[0])


def reference_for(model):
    ref = Reference(model.cell, model.input_size, model.hidden_size, model.output_size, model.many_to_many).double()
    ref.load_state_dict({name: torch.from_numpy(a) for name, a in model.state_dict().items()})
    return ref


def build(cell, many_to_many, n=4, steps=5, i=3, h=6, o=2, seed=0):
    rng = np.random.default_rng(seed)
    model = SequenceModel(cell, i, h, o, many_to_many, rng=rng)
    return model, rng.standard_normal((n, steps, i))


def assert_matches_reference(model, x, seed=1):
    ref = reference_for(model)
    xt = torch.tensor(x, requires_grad=True)
    yt = ref(xt)
    g = np.random.default_rng(seed).standard_normal(tuple(yt.shape))
    yt.backward(torch.from_numpy(g))
    y = model.forward(x)
    dx = model.backward(g)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=RTOL, atol=ATOL)
    names = [name for name, _ in model.named_parameters()]
    assert names == [name for name, _ in ref.named_parameters()]
    for name, grad, (_, p) in zip(names, model.gradients(), ref.named_parameters()):
        np.testing.assert_allclose(grad, p.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=name)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("many_to_many", [False, True])
def test_matches_torch(cell, many_to_many):
    model, x = build(cell, many_to_many)
    assert_matches_reference(model, x)
    expected = (4, 5, 2) if many_to_many else (4, 2)
    assert model.forward(x).shape == expected


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["rnn", "lstm", "gru"]), st.booleans(), st.integers(1, 5), st.integers(1, 7),
       st.integers(1, 4), st.integers(1, 6), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_matches_torch_random_sizes(cell, many_to_many, n, steps, i, h, o, seed):
    model, x = build(cell, many_to_many, n, steps, i, h, o, seed)
    assert_matches_reference(model, x, seed + 1)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("many_to_many", [False, True])
def test_central_differences(cell, many_to_many):
    model, x = build(cell, many_to_many, n=2, steps=4, i=2, h=3, o=2, seed=3)
    assert_gradients_numerically(model, x)


def test_many_to_one_ignores_all_but_the_last_step():
    """The head reads h_T only: with the recurrence cut (W_hh = 0), h_T depends on x_T alone,
    so every earlier input gets a zero gradient and x_T a non-zero one."""
    model, x = build("rnn", False, seed=4)
    model.rnn.params["weight_hh_l0"][...] = 0.0  # no recurrence: y depends on x_T alone
    model.forward(x)
    dx = model.backward(np.ones((4, 2)))
    assert np.all(dx[:, :-1] == 0.0) and np.all(np.abs(dx[:, -1]).sum(axis=1) > 0)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_fit_with_adam_matches_torch(cell):
    """Three epochs of dlnotes.train.fit (MSE, Adam) against the same batches in torch."""
    rng = np.random.default_rng(5)
    model = SequenceModel(cell, 2, 4, rng=rng)
    x, y = rng.standard_normal((10, 6, 2)), rng.standard_normal((10, 1))
    ref = reference_for(model)
    opt_t = torch.optim.Adam(ref.parameters(), lr=0.05)
    fit(model, "mse", Adam(model.parameters(), lr=0.05), (x, y), epochs=3, batch_size=4,
        rng=np.random.default_rng(6))
    order_rng = np.random.default_rng(6)  # the same shuffles as fit's batches
    for _ in range(3):
        order = order_rng.permutation(10)
        for start in range(0, 10, 4):
            idx = order[start:start + 4]
            opt_t.zero_grad()
            nn.functional.mse_loss(ref(torch.from_numpy(x[idx])), torch.from_numpy(y[idx])).backward()
            opt_t.step()
    assert_state_matches(model, ref)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("many_to_many", [False, True])
def test_torch_round_trip(cell, many_to_many):
    model, x = build(cell, many_to_many, seed=7)
    module = model.to_torch()
    assert module.many_to_many is many_to_many
    np.testing.assert_allclose(module(torch.from_numpy(x)).detach().numpy(), model.forward(x), rtol=RTOL, atol=ATOL)
    copy = SequenceModel.from_torch(reference_for(model))
    assert copy.hyperparameters() == model.hyperparameters()
    assert type(copy.rnn) is {"rnn": RNN, "lstm": LSTM, "gru": GRU}[cell]
    np.testing.assert_allclose(copy.forward(x), model.forward(x), rtol=0, atol=0)


def test_default_init_like_torch():
    """Every recurrent parameter ~ U(−1/√H, 1/√H); the head ~ U(−1/√H, 1/√H) too (fan-in H)."""
    model = SequenceModel("lstm", 3, 100, 50, rng=np.random.default_rng(8))
    bound = 1 / np.sqrt(100)
    for name, p in model.named_parameters():
        assert np.abs(p).max() <= bound, name
        assert np.abs(p).max() > 0.9 * bound, name


def test_float32_stays_float32():
    model = SequenceModel("gru", 2, 3, rng=np.random.default_rng(9), dtype=np.float32)
    x = np.ones((2, 4, 2), np.float32)
    y = model.forward(x)
    assert y.dtype == np.float32 and model.backward(np.ones_like(y)).dtype == np.float32


def test_bad_arguments():
    rng = np.random.default_rng(0)
    with raises_exactly(ValueError, "SequenceModel: cell must be one of rnn, lstm, gru, got 'LSTM'"):
        SequenceModel("LSTM", 2, 3, rng=rng)
    with raises_exactly(TypeError, "SequenceModel: many_to_many must be a bool, got int"):
        SequenceModel("rnn", 2, 3, many_to_many=1, rng=rng)
    with raises_exactly(ValueError, "SequenceModel: hidden_size must be >= 1, got 0"):
        SequenceModel("rnn", 2, 0, rng=rng)
    with raises_exactly(TypeError, "SequenceModel: output_size must be an integer, got float"):
        SequenceModel("rnn", 2, 3, 1.0, rng=rng)
    with raises_exactly(TypeError, "LSTM: rng must be a numpy.random.Generator (np.random.default_rng(seed)), got int"):
        SequenceModel("lstm", 2, 3, rng=0)


def test_bad_input():
    model = SequenceModel("lstm", 2, 3, rng=np.random.default_rng(0))
    for shape in [(4, 5), (4, 5, 3), (4, 0, 2)]:
        with raises_exactly(ValueError, f"SequenceModel.forward: x must be (N, T, 2) with T >= 1, got shape {shape}"):
            model.forward(np.zeros(shape))
    with raises_exactly(RuntimeError, "SequenceModel.backward: call forward before backward"):
        model.backward(np.zeros((4, 1)))
    model.forward(np.zeros((4, 5, 2)))
    with raises_exactly(ValueError, "SequenceModel.backward: grad_out must have the forward output's shape (4, 1), "
                                    "got (4, 5, 1)"):
        model.backward(np.zeros((4, 5, 1)))


def test_from_torch_refuses_other_modules():
    with raises_exactly(TypeError, "SequenceModel.from_torch: module must have attributes rnn, head and "
                                   "many_to_many, got Linear"):
        SequenceModel.from_torch(nn.Linear(2, 3))
    ref = Reference("lstm", 2, 3, 1, False)
    ref.rnn = nn.LSTM(2, 3)  # batch_first=False
    with pytest.raises(ValueError, match="module.rnn must have batch_first=True and bias=True"):
        SequenceModel.from_torch(ref)
    ref.rnn = nn.LSTM(2, 3, num_layers=2, batch_first=True)
    with raises_exactly(ValueError, "LSTM.from_torch: only num_layers=1 is supported, got num_layers=2"):
        SequenceModel.from_torch(ref)
    ref.rnn = nn.LSTMCell(2, 3)
    with raises_exactly(TypeError, "SequenceModel.from_torch: module.rnn must be a torch.nn.RNN, LSTM or GRU, "
                                   "got LSTMCell"):
        SequenceModel.from_torch(ref)
    ref.rnn, ref.head = nn.LSTM(2, 3, batch_first=True), nn.Linear(4, 1)
    with pytest.raises(ValueError, match=r"module.head must be a Linear\(3, out\) with bias"):
        SequenceModel.from_torch(ref)
