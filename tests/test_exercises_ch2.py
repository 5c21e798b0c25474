import numpy as np
import pytest
import torch

from dlnotes.exercises import check, exercise_ids, verdict
from dlnotes.exercises.ch2 import CHAIN_24, POINT_21, SIZES_22


def test_chapter_2_registers_five_checkers():
    assert [i for i in exercise_ids() if i.startswith("2.")] == ["2.1", "2.2", "2.3", "2.4", "2.5"]


def test_check_prints_the_verdict_line_and_returns_nothing(capsys):
    assert check("2.2", "not shapes") is None
    assert capsys.readouterr().out == verdict("2.2", "not shapes")[1] + "\n"
    assert verdict("2.2", "not shapes")[1].startswith("Exercise 2.2: not yet. ")
    with pytest.raises(ValueError, match=r"^check: exercise_id must be one of 1\.1, .*, got '9\.9'$"):
        check("9.9", 0)


# 2.1 — the reference gradient comes from torch.autograd
def torch_grad_21():
    x, y, z = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in POINT_21)
    (torch.tanh(x * y) + x * z**2).backward()
    return np.array([x.grad.item(), y.grad.item(), z.grad.item()])


G21 = torch_grad_21()
X21, Y21, Z21 = POINT_21
SLOPE21 = 1 - np.tanh(X21 * Y21) ** 2  # tanh′(xy), by hand


def test_2_1_accepts_the_autograd_gradient():
    ok, out = verdict("2.1", tuple(G21))
    assert ok and "Exercise 2.1: correct." in out


@pytest.mark.parametrize(
    "answer, hint",
    [
        (-G21, "sign is flipped"),
        ((Y21 * SLOPE21, G21[1], G21[2]), "misses a path"),
        ((Z21**2, G21[1], G21[2]), "misses a path"),
        ((Y21 * np.tanh(X21 * Y21) + Z21**2, X21 * np.tanh(X21 * Y21), G21[2]), "1 − tanh²(u)"),
        ((G21[0], G21[1], Z21**2), "dg/dz is off"),
        ((0.0, 0.0, G21[2]), "dg/dx, dg/dy are off"),
        ((1.0, 2.0), "three finite real numbers"),
        ("1, 2, 3", "three finite real numbers"),
        ((np.inf, 0.0, 1.0), "three finite real numbers"),
    ],
)
def test_2_1_explains_typical_mistakes(answer, hint):
    ok, out = verdict("2.1", answer)
    assert not ok and "not yet." in out and hint in out
    assert f"{G21[0]:.3f}" not in out  # no message gives the answer away


# 2.2 — the reference shapes and count are read off a torch model
def torch_model(sizes):
    return torch.nn.Sequential(*[torch.nn.Linear(n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])])


SHAPES22 = [tuple(p.shape) for p in torch_model(SIZES_22).parameters()]
COUNT22 = sum(p.numel() for p in torch_model(SIZES_22).parameters())
WEIGHTS22 = sum(p.numel() for name, p in torch_model(SIZES_22).named_parameters() if name.endswith("weight"))
BIASES22 = COUNT22 - WEIGHTS22


def test_2_2_accepts_the_torch_shapes_and_count():
    ok, out = verdict("2.2", (SHAPES22, COUNT22))
    assert ok and "Exercise 2.2: correct." in out
    assert f"{COUNT22:,}" not in out and str(COUNT22) not in out  # the verdict restates no number


def test_2_2_accepts_numpy_shapes_lists_and_integers():
    ok, _ = verdict("2.2", [[list(s) for s in SHAPES22], np.int64(COUNT22)])
    assert ok


@pytest.mark.parametrize(
    "count, hint",
    [
        (WEIGHTS22, "leaves out the biases"),
        (BIASES22, "leaves out the weight matrices"),
        (sum(SIZES_22), "adds up units"),
        (COUNT22 - SHAPES22[-2][0] * SHAPES22[-2][1] - SHAPES22[-1][0], "output layer too"),
        (COUNT22 + 1, "the count is not"),
        (float(COUNT22), "as an integer"),
        (str(COUNT22), "as an integer"),
    ],
)
def test_2_2_checks_the_parameter_count(count, hint):
    ok, out = verdict("2.2", (SHAPES22, count))
    assert not ok and hint in out


@pytest.mark.parametrize(
    "answer, hint",
    [
        (([s[::-1] if len(s) == 2 else s for s in SHAPES22], COUNT22), "transposed"),
        (([s for s in SHAPES22 if len(s) == 2], COUNT22), "also has a bias"),
        (([(1,) + s if len(s) == 1 else s for s in SHAPES22], COUNT22), "vector of shape (out_features,)"),
        ((SHAPES22[:4], COUNT22), "Expected 6 arrays"),
        (([(128, 64), (128,), (32, 128), (32,), (10, 32), (32,)], COUNT22), "Some shapes are off"),
        (SHAPES22, "Give a pair (shapes, count)"),
        (([128, 64], COUNT22), "list of shapes"),
        (None, "Give a pair (shapes, count)"),
        ("not shapes", "Give a pair (shapes, count)"),
    ],
)
def test_2_2_explains_typical_mistakes(answer, hint):
    ok, out = verdict("2.2", answer)
    assert not ok and hint in out


# 2.3 — the reference backward is torch's softplus through autograd
def torch_softplus_backward(x, g):
    t = torch.tensor(x, requires_grad=True)
    torch.nn.functional.softplus(t).backward(torch.from_numpy(g))
    return t.grad.numpy()


def test_2_3_accepts_the_autograd_backward():
    ok, out = verdict("2.3", torch_softplus_backward)
    assert ok


def naive_backward(x, g):
    return g * np.exp(x) / (1 + np.exp(x))  # inf / inf = nan at x = 800


@pytest.mark.parametrize(
    "answer, hint",
    [
        (lambda x, g: torch_softplus_backward(x, np.ones_like(x)), "multiply by the upstream gradient"),
        (lambda x, g: g * np.logaddexp(0, x), "the forward value"),
        (naive_backward, "inf or nan"),
        (lambda x, g: -torch_softplus_backward(x, g), "Not the gradient"),
        (lambda x, g: torch_softplus_backward(x, g)[0], "shape of x (2, 3)"),
        (lambda x: x, "failed: TypeError"),
        (2.0, "Give a function"),
    ],
)
def test_2_3_explains_typical_mistakes(answer, hint):
    ok, out = verdict("2.3", answer)
    assert not ok and hint in out


# 2.4 — the reference derivative comes from torch.autograd through the whole chain
def torch_chain_derivative():
    h0 = torch.tensor(CHAIN_24["h0"], dtype=torch.float64, requires_grad=True)
    h = h0
    for _ in range(CHAIN_24["depth"]):
        h = torch.sigmoid(CHAIN_24["w"] * h + CHAIN_24["b"])
    h.backward()
    return h0.grad.item()


D24 = torch_chain_derivative()
FACTOR24 = CHAIN_24["w"] / 4  # z = 0 at every layer (h stays at 0.5), so each factor is w·σ′(0) = w/4


def test_2_4_accepts_the_autograd_derivative():
    ok, out = verdict("2.4", D24)
    assert ok and "geometric decay" in out
    assert f"{FACTOR24:.2f}" not in out and f"{D24:.2e}" not in out  # the verdict restates no number


def test_2_4_reference_is_the_geometric_product():
    assert D24 == pytest.approx(FACTOR24 ** CHAIN_24["depth"], rel=1e-12)


@pytest.mark.parametrize(
    "answer, hint",
    [
        (0.25 ** CHAIN_24["depth"], "not σ′(z) alone"),
        (1 / D24, "reciprocal"),
        (CHAIN_24["w"] ** CHAIN_24["depth"], "σ′ is missing"),
        (D24 / FACTOR24, "one factor per layer"),
        (D24 * FACTOR24, "one factor per layer"),
        (0.5, "what is z at every layer"),
        ([D24, D24], "one finite real number"),
    ],
)
def test_2_4_explains_typical_mistakes(answer, hint):
    ok, out = verdict("2.4", answer)
    assert not ok and hint in out


# 2.5 — the reference is torch.autograd on the same two-layer network
def autograd_grads(x, y, W1, b1, W2, b2):
    params = [torch.tensor(p, requires_grad=True) for p in (W1, b1, W2, b2)]
    tW1, tb1, tW2, tb2 = params
    hidden = torch.relu(torch.from_numpy(x) @ tW1.T + tb1)
    torch.nn.functional.mse_loss(hidden @ tW2.T + tb2, torch.from_numpy(y)).backward()
    return tuple(p.grad.numpy() for p in params)


def scaled(factor):
    return lambda *args: tuple(factor * g for g in autograd_grads(*args))


def without_relu_mask(x, y, W1, b1, W2, b2):
    """The mistake: backpropagating through ReLU as if it were the identity."""
    h = np.maximum(x @ W1.T + b1, 0)
    d_out = 2 * (h @ W2.T + b2 - y) / y.size
    d_hidden = d_out @ W2
    return d_hidden.T @ x, d_hidden.sum(0), d_out.T @ h, d_out.sum(0)


@pytest.mark.parametrize(
    "answer, hint",
    [
        (scaled(-1.0), "sign is flipped"),
        (scaled(3.0), "not only over the rows"),
        (scaled(0.5), "factor 2 from the square"),
        (scaled(24.0), "the 1/n of the mean"),
        (scaled(12.0), "both the 2"),
        (without_relu_mask, "relu′(z1)"),
        (lambda *args: (autograd_grads(*args)[0].T, *autograd_grads(*args)[1:]), "dW1 is transposed"),
        (lambda *args: autograd_grads(*args)[:3], "four arrays"),
        (lambda *args: (*autograd_grads(*args)[:2], np.zeros((3, 5)), np.zeros(3)), "dW2 or db2 is off"),
        (lambda *args: (*autograd_grads(*args)[:3], np.zeros(4)), "db2 must have the shape"),
        (lambda x, y: x, "failed: TypeError"),
        ("grads", "Give a function"),
    ],
)
def test_2_5_explains_typical_mistakes(answer, hint):
    ok, out = verdict("2.5", answer)
    assert not ok and hint in out


def test_2_5_accepts_the_autograd_gradients():
    ok, out = verdict("2.5", autograd_grads)
    assert ok and "Exercise 2.5: correct." in out
