"""dlnotes RNN/LSTM/GRU against torch.nn (float64, copied weights): outputs, final states and
every gradient (input, parameters, initial state) from BPTT; central differences; bad input."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes.gradcheck import numerical_gradient, relative_error
from dlnotes.layers.recurrent import GRU, LSTM, RNN
from testkit import raises_exactly

RTOL, ATOL = 1e-10, 1e-12
CLASSES = [RNN, LSTM, GRU]


def as_tuple(state):
    """LSTM states are tuples (h, c); RNN/GRU states a single array."""
    return tuple(state) if isinstance(state, tuple) else (state,)


def like_state(cls, arrays):
    return tuple(arrays) if cls is LSTM else arrays[0]


def case(cls, steps, n, i, h, batch_first, bias=True, seed=0, with_h0=True, with_grad_state=True):
    """A layer, its input, initial state, and random upstream gradients for output and final state."""
    rng = np.random.default_rng(seed)
    layer = cls(i, h, bias=bias, batch_first=batch_first, rng=rng)
    x = rng.normal(size=(n, steps, i) if batch_first else (steps, n, i))
    n_states = 2 if cls is LSTM else 1
    h0 = like_state(cls, [rng.normal(size=(1, n, h)) for _ in range(n_states)]) if with_h0 else None
    g_out = rng.normal(size=(n, steps, h) if batch_first else (steps, n, h))
    g_state = like_state(cls, [rng.normal(size=(1, n, h)) for _ in range(n_states)]) if with_grad_state else None
    return layer, x, h0, g_out, g_state


def torch_reference(layer, x, h0, g_out, g_state):
    """Forward and autograd backward through the torch twin of ``layer``."""
    module = layer.to_torch()
    xt = torch.tensor(x, requires_grad=True)
    h0t = None if h0 is None else tuple(torch.tensor(s, requires_grad=True) for s in as_tuple(h0))
    out, state = module(xt, None if h0t is None else (h0t if len(h0t) == 2 else h0t[0]))
    total = (out * torch.from_numpy(g_out)).sum()
    if g_state is not None:
        total = total + sum((s * torch.from_numpy(g)).sum() for s, g in zip(as_tuple(state), as_tuple(g_state)))
    total.backward()
    return {
        "out": out.detach().numpy(),
        "state": [s.detach().numpy() for s in as_tuple(state)],
        "dx": xt.grad.numpy(),
        "dh0": None if h0t is None else [s.grad.numpy() for s in h0t],
        "grads": {name: p.grad.numpy() for name, p in module.named_parameters()},
    }


def assert_matches_torch(layer, x, h0, g_out, g_state):
    ref = torch_reference(layer, x, h0, g_out, g_state)
    out, state = layer.forward_with_state(x, h0)
    dx = layer.backward(g_out, g_state)
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)  # noqa: E731
    close(out, ref["out"])
    for ours, theirs in zip(as_tuple(state), ref["state"], strict=True):
        close(ours, theirs)
    close(dx, ref["dx"])
    assert list(layer.grads) == list(ref["grads"])
    for name, g in ref["grads"].items():
        close(layer.grads[name], g)
    if h0 is not None:
        for ours, theirs in zip(as_tuple(layer.grad_h0), ref["dh0"], strict=True):
            close(ours, theirs)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_matches_torch(cls, batch_first, bias):
    assert_matches_torch(*case(cls, 7, 4, 3, 5, batch_first, bias=bias))


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("steps, n", [(1, 3), (6, 1), (1, 1)])
def test_matches_torch_sequence_or_batch_of_one(cls, steps, n):
    assert_matches_torch(*case(cls, steps, n, 2, 3, batch_first=False))


@pytest.mark.parametrize("cls", CLASSES)
def test_zero_initial_state_and_no_state_gradient(cls):
    layer, x, _, g_out, _ = case(cls, 5, 3, 2, 4, batch_first=True, with_h0=False, with_grad_state=False)
    assert_matches_torch(layer, x, None, g_out, None)
    # with h0 = None the state gradient is still reported: equal to the one for explicit zeros
    zeros = like_state(cls, [np.zeros((1, 3, 4))] * (2 if cls is LSTM else 1))
    grad_h0 = [g.copy() for g in as_tuple(layer.grad_h0)]
    layer.forward(x, zeros)
    layer.backward(g_out)
    for a, b in zip(grad_h0, as_tuple(layer.grad_h0), strict=True):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=30, deadline=None)
@given(cls=st.sampled_from(CLASSES), steps=st.integers(1, 6), n=st.integers(1, 4), i=st.integers(1, 5),
       h=st.integers(1, 5), batch_first=st.booleans(), seed=st.integers(0, 2**16))
def test_matches_torch_random_sizes(cls, steps, n, i, h, batch_first, seed):
    assert_matches_torch(*case(cls, steps, n, i, h, batch_first, seed=seed))


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_bptt_central_differences(cls, batch_first):
    """Every gradient of L = Σ out ⊙ G + Σ state ⊙ G_s against central differences."""
    layer, x, h0, g_out, g_state = case(cls, 4, 2, 3, 3, batch_first, seed=3)
    h0 = as_tuple(h0)

    def objective(x_, h0_):
        out, state = layer.forward_with_state(x_, like_state(cls, h0_))
        return np.sum(out * g_out) + sum(np.sum(s * g) for s, g in zip(as_tuple(state), as_tuple(g_state)))

    layer.forward(x, like_state(cls, h0))
    dx = layer.backward(g_out, g_state)
    analytic = {name: g.copy() for name, g in layer.grads.items()}
    grad_h0 = as_tuple(layer.grad_h0)
    assert relative_error(dx, numerical_gradient(lambda v: objective(v, h0), x)) < 1e-8
    for k in range(len(h0)):
        swap = lambda v, k=k: objective(x, h0[:k] + (v,) + h0[k + 1:])  # noqa: E731
        assert relative_error(grad_h0[k], numerical_gradient(swap, h0[k])) < 1e-8
    for name, p in layer.params.items():
        def with_param(v, p=p):
            saved = p.copy()
            p[...] = v
            try:
                return objective(x, h0)
            finally:
                p[...] = saved
        assert relative_error(analytic[name], numerical_gradient(with_param, p.copy())) < 1e-8, name


@pytest.mark.parametrize("cls", CLASSES)
def test_backward_overwrites_gradients(cls):
    layer, x, h0, g_out, g_state = case(cls, 3, 2, 2, 3, batch_first=False)
    layer.forward(x, h0)
    layer.backward(g_out, g_state)
    first = {k: g.copy() for k, g in layer.grads.items()}
    layer.backward(g_out, g_state)
    for k, g in layer.grads.items():
        np.testing.assert_array_equal(g, first[k])


@pytest.mark.parametrize("cls", CLASSES)
def test_torch_round_trip_and_parameter_order(cls):
    module = getattr(torch.nn, cls.__name__)(3, 4, batch_first=True, bias=False)
    layer = cls.from_torch(module)
    assert (layer.input_size, layer.hidden_size, layer.bias, layer.batch_first) == (3, 4, False, True)
    assert [name for name, _ in layer.named_parameters()] == [name for name, _ in module.named_parameters()]
    for name, p in module.named_parameters():
        np.testing.assert_array_equal(layer.params[name], p.detach().double().numpy())
    back = layer.to_torch()
    assert back.batch_first and back.bias is False and back.weight_hh_l0.dtype == torch.float64
    for name, p in back.named_parameters():
        np.testing.assert_array_equal(p.detach().numpy(), layer.params[name])


@pytest.mark.parametrize("cls, gates", [(RNN, 1), (LSTM, 4), (GRU, 3)])
def test_default_init_like_torch(cls, gates):
    """Every parameter ~ U(−1/√H, 1/√H): bounded, and with the uniform's std bound/√3."""
    h = 100
    layer = cls(50, h, rng=np.random.default_rng(1))
    bound = 1 / math.sqrt(h)
    assert layer.params["weight_ih_l0"].shape == (gates * h, 50)
    assert layer.params["weight_hh_l0"].shape == (gates * h, h)
    for name, p in layer.params.items():
        assert p.dtype == np.float64 and np.abs(p).max() <= bound, name
        if p.ndim == 2:
            assert abs(p.std() / (bound / math.sqrt(3)) - 1) < 0.03, name
    same = cls(50, h, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(same.params["weight_hh_l0"], layer.params["weight_hh_l0"])


@pytest.mark.parametrize("cls", CLASSES)
def test_float32_stays_float32(cls):
    layer64, x, h0, g_out, g_state = case(cls, 5, 3, 2, 4, batch_first=False)
    layer32 = cls(2, 4, rng=np.random.default_rng(0), dtype=np.float32)
    for name, p in layer64.params.items():
        layer32.params[name][...] = p
    out32 = layer32.forward(x.astype(np.float32))
    dx32 = layer32.backward(g_out.astype(np.float32))
    out64 = layer64.forward(x)
    dx64 = layer64.backward(g_out)
    assert out32.dtype == dx32.dtype == layer32.grads["weight_hh_l0"].dtype == np.float32
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dx32, dx64, rtol=1e-4, atol=1e-5)


def test_lstm_remembers_where_the_rnn_forgets():
    """The forget gate's additive path: with f ≈ 1, i ≈ 0 the LSTM's cell keeps c0 for 100 steps
    and d c_T / d c0 stays 1, while a tanh RNN's gradient to h0 shrinks geometrically."""
    rng = np.random.default_rng(0)
    steps, h = 100, 2
    lstm = LSTM(1, h, bias=True, rng=rng)
    for p in lstm.params.values():
        p[...] = 0.0
    lstm.params["bias_ih_l0"][h:2 * h] = 50.0   # forget gate saturated open
    lstm.params["bias_ih_l0"][:h] = -50.0       # input gate shut
    c0 = np.ones((1, 1, h))
    _, (_, c_n) = lstm.forward_with_state(np.zeros((steps, 1, 1)), (np.zeros((1, 1, h)), c0))
    np.testing.assert_allclose(c_n, c0, rtol=1e-12)
    lstm.backward(np.zeros((steps, 1, h)), (np.zeros((1, 1, h)), np.ones((1, 1, h))))
    np.testing.assert_allclose(lstm.grad_h0[1], 1.0, rtol=1e-12)

    rnn = RNN(1, h, rng=rng)
    rnn.params["weight_hh_l0"][...] = 0.5 * np.eye(h)
    rnn.forward(np.zeros((steps, 1, 1)), np.zeros((1, 1, h)))
    rnn.backward(np.zeros((steps, 1, h)), np.ones((1, 1, h)))
    assert np.abs(rnn.grad_h0).max() < 1e-20  # ≈ 0.5**100 times the tanh′ factors


def test_bad_input_messages():
    rng = np.random.default_rng(0)
    lstm = LSTM(8, 16, rng=rng)
    with raises_exactly(ValueError, "LSTM.forward: x must be (T, N, 8) with T >= 1, got shape (5, 3, 7)"):
        lstm.forward(np.zeros((5, 3, 7)))
    with raises_exactly(ValueError, "LSTM.forward: x must be (T, N, 8) with T >= 1, got shape (5, 8)"):
        lstm.forward(np.zeros((5, 8)))
    with raises_exactly(ValueError, "LSTM.forward: x must be (T, N, 8) with T >= 1, got shape (0, 3, 8)"):
        lstm.forward(np.zeros((0, 3, 8)))
    with raises_exactly(TypeError, "LSTM.forward: x must be a real numeric array, got dtype <U1"):
        lstm.forward(np.full((2, 3, 8), "a"))
    with raises_exactly(TypeError, "LSTM.forward: h0 must be a tuple (h0, c0), got ndarray"):
        lstm.forward(np.zeros((5, 3, 8)), np.zeros((1, 3, 16)))
    with raises_exactly(ValueError, "LSTM.forward: c0 must be (1, 3, 16), got shape (3, 16)"):
        lstm.forward(np.zeros((5, 3, 8)), (np.zeros((1, 3, 16)), np.zeros((3, 16))))
    with raises_exactly(RuntimeError, "LSTM.backward: call forward before backward"):
        LSTM(8, 16, rng=rng).backward(np.zeros((5, 3, 16)))
    lstm.forward(np.zeros((5, 3, 8)))
    with raises_exactly(ValueError, "LSTM.backward: grad_out must have the forward output's shape (5, 3, 16), "
                                    "got (3, 5, 16)"):
        lstm.backward(np.zeros((3, 5, 16)))
    with raises_exactly(ValueError, "LSTM.backward: grad_c_n must be (1, 3, 16), got shape (1, 3, 15)"):
        lstm.backward(np.zeros((5, 3, 16)), (np.zeros((1, 3, 16)), np.zeros((1, 3, 15))))

    gru = GRU(2, 4, batch_first=True, rng=rng)
    with raises_exactly(ValueError, "GRU.forward: x must be (N, T, 2) with T >= 1, got shape (3, 5, 4)"):
        gru.forward(np.zeros((3, 5, 4)))
    with raises_exactly(ValueError, "GRU.forward: h0 must be (1, 3, 4), got shape (1, 5, 4)"):
        gru.forward(np.zeros((3, 5, 2)), np.zeros((1, 5, 4)))
    gru.forward(np.zeros((3, 5, 2)))
    with raises_exactly(ValueError, "GRU.backward: grad_h_n must be (1, 3, 4), got shape (3, 4)"):
        gru.backward(np.zeros((3, 5, 4)), np.zeros((3, 4)))


def test_bad_constructor_and_torch_arguments():
    rng = np.random.default_rng(0)
    with raises_exactly(ValueError, "RNN: hidden_size must be >= 1, got 0"):
        RNN(3, 0, rng=rng)
    with raises_exactly(TypeError, "GRU: input_size must be an integer, got float"):
        GRU(3.0, 2, rng=rng)
    with raises_exactly(TypeError, "LSTM: batch_first must be a bool, got int"):
        LSTM(3, 2, batch_first=1, rng=rng)
    with raises_exactly(TypeError, "LSTM: rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                                   "got int"):
        LSTM(3, 2, rng=0)
    with raises_exactly(TypeError, "GRU.from_torch: module must be a torch.nn.GRU, got LSTM"):
        GRU.from_torch(torch.nn.LSTM(3, 2))
    with raises_exactly(ValueError, "LSTM.from_torch: only num_layers=1 is supported, got num_layers=2"):
        LSTM.from_torch(torch.nn.LSTM(3, 2, num_layers=2))
    with raises_exactly(ValueError, "GRU.from_torch: only bidirectional=False is supported, got bidirectional=True"):
        GRU.from_torch(torch.nn.GRU(3, 2, bidirectional=True))
    with raises_exactly(ValueError, "LSTM.from_torch: only proj_size=0 is supported, got proj_size=1"):
        LSTM.from_torch(torch.nn.LSTM(3, 2, proj_size=1))
    with raises_exactly(ValueError, "RNN.from_torch: only nonlinearity='tanh' is supported, got nonlinearity='relu'"):
        RNN.from_torch(torch.nn.RNN(3, 2, nonlinearity="relu"))
