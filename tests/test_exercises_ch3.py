"""Chapter 3 checkers: reference solutions pass, typical mistakes get their hint. The references are
computed here with PyTorch (autograd, torch.optim, numel), independently of the checkers' NumPy."""

import copy
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from dlnotes.exercises import verdict
from dlnotes.exercises.ch3 import VMAP_B, VMAP_W, VMAP_X, VMAP_Y, twin_net


# ------------------------------------------------------------------------------- 3.1


class TwinNet(nn.Module):
    def __init__(self, activation=torch.tanh, bias=True):
        super().__init__()
        self.hidden = nn.Linear(6, 5, bias=bias)
        self.out = nn.Linear(5, 3)
        self.activation = activation

    def forward(self, x):
        return self.out(self.activation(self.hidden(x)))


def twin(activation=torch.tanh, dtype=torch.float64, copy_weights=True, via=None):
    """A TwinNet in ``dtype``; with copy_weights, its parameters are twin_net()'s (passed through ``via``)."""
    module = TwinNet(activation).to(dtype)
    if copy_weights:
        source = twin_net()
        with torch.no_grad():
            for layer, ours in ((module.hidden, source[0]), (module.out, source[2])):
                for name in ("weight", "bias"):
                    value = torch.from_numpy(ours.params[name])
                    getattr(layer, name).copy_(value if via is None else value.to(via))
    return module


def test_3_1_accepts_a_module_with_the_copied_weights():
    ok, out = verdict("3.1", twin())
    assert ok and "Exercise 3.1: correct." in out


@pytest.mark.parametrize(
    "make, hint",
    [
        (lambda: twin_net().to_torch(), "nn.Sequential"),
        (lambda: twin_net(), "Give an instance of your torch.nn.Module subclass, not a Sequential"),
        (lambda: np.zeros(3), "not a ndarray"),
        (lambda: twin(dtype=torch.float32), "float64 with .double()"),
        (lambda: twin(via=torch.float32), "only to float32 precision"),
        (lambda: twin(activation=lambda h: h), "without its hidden activation"),
        (lambda: twin(activation=torch.relu), "ReLU network"),
        (lambda: twin(activation=torch.sigmoid), "sigmoid network"),
        (lambda: twin(copy_weights=False), "Copy weight and bias of both layers"),
        (lambda: TwinNet(bias=False).double(), "has 48 trainable numbers, the dlnotes network 53"),
    ],
)
def test_3_1_explains_typical_mistakes(make, hint):
    ok, out = verdict("3.1", make())
    assert not ok and "not yet." in out and hint in out


def test_3_1_reports_a_wrong_output_shape():
    class Wide(TwinNet):
        def forward(self, x):
            return super().forward(x)[:, :2]

    ok, out = verdict("3.1", Wide().double())
    assert not ok and "shape (4, 3)" in out


# ------------------------------------------------------------------------------- 3.2


def digit_cnn(second_padding=0, flat=64):
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 16, 3, padding=second_padding), nn.ReLU(), nn.Flatten(), nn.Linear(flat, 10))


def count(module, kind=None):
    return sum(p.numel() for name, p in module.named_parameters() if kind is None or name.endswith(kind))


CNN = digit_cnn()
TOTAL = count(CNN)


def test_3_2_the_torch_network_has_the_described_shape():
    assert CNN(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


def test_3_2_accepts_the_torch_count():
    ok, out = verdict("3.2", TOTAL)
    assert ok and "Exercise 3.2: correct." in out


@pytest.mark.parametrize(
    "answer, hint",
    [
        (count(CNN, "weight"), "leaves out the biases"),
        (TOTAL - CNN[3].weight.numel() + 16 * 3 * 3, "spans every input channel"),
        (count(digit_cnn(second_padding=1, flat=16 * 4 * 4)), "shrinks the feature map"),
        (TOTAL + 1, "track the map size"),
        (float(TOTAL), "Give a whole number"),
        (True, "Give a whole number"),
    ],
)
def test_3_2_explains_typical_mistakes(answer, hint):
    ok, out = verdict("3.2", answer)
    assert not ok and hint in out and str(TOTAL) not in out


# ------------------------------------------------------------------------------- 3.3


def loop_per_example():
    """The loop of the exercise text: torch.autograd one example at a time."""
    W, b = torch.tensor(VMAP_W, requires_grad=True), torch.from_numpy(VMAP_B)
    rows = []
    for x_i, y_i in zip(torch.from_numpy(VMAP_X), torch.from_numpy(VMAP_Y)):
        loss_i = F.cross_entropy((W @ x_i + b)[None], y_i[None])
        rows.append(torch.autograd.grad(loss_i, W)[0])
    return torch.stack(rows)


PER_EXAMPLE = loop_per_example()


def test_3_3_accepts_the_loop_result_as_tensor_and_array():
    assert verdict("3.3", PER_EXAMPLE)[0]
    assert verdict("3.3", PER_EXAMPLE.numpy())[0]


def test_3_3_accepts_vmap_of_grad():
    def example_loss(W, x, y):
        return F.cross_entropy((W @ x + torch.from_numpy(VMAP_B))[None], y[None])

    got = vmap(grad(example_loss), in_dims=(None, 0, 0))(*map(torch.from_numpy, (VMAP_W, VMAP_X, VMAP_Y)))
    assert verdict("3.3", got)[0]


@pytest.mark.parametrize(
    "answer, hint",
    [
        (PER_EXAMPLE.mean(0).expand(8, 3, 5), "the same gradient"),
        (PER_EXAMPLE / 8, "1/8 of the expected"),
        (-PER_EXAMPLE, "sign is flipped"),
        (PER_EXAMPLE.mean(0), "one gradient for the whole batch"),
        (PER_EXAMPLE.transpose(1, 2), "axes are swapped"),
        (PER_EXAMPLE[:4], "should have shape (8, 3, 5)"),
        (PER_EXAMPLE.flip(0), "check the labels"),
        (np.array(["a"] * 3), "array or tensor of numbers"),
    ],
)
def test_3_3_explains_typical_mistakes(answer, hint):
    ok, out = verdict("3.3", answer)
    assert not ok and hint in out


# ------------------------------------------------------------------------------- 3.4


def pure_step(module, params, x, y, lr):
    g = grad(lambda p: F.cross_entropy(functional_call(module, p, (x,)), y))(params)
    return {name: p - lr * g[name] for name, p in params.items()}


def optim_step(module, params, x, y, lr):
    """The same step taken by torch.optim.SGD on a copy of the module."""
    clone = copy.deepcopy(module)
    clone.load_state_dict(params)
    opt = torch.optim.SGD(clone.parameters(), lr=lr)
    F.cross_entropy(clone(x), y).backward()
    opt.step()
    return {name: p.detach().clone() for name, p in clone.named_parameters()}


@pytest.mark.parametrize("answer", [pure_step, optim_step])
def test_3_4_accepts_the_functional_and_the_torch_optim_step(answer):
    ok, out = verdict("3.4", answer)
    assert ok and "Exercise 3.4: correct." in out


def in_place(module, params, x, y, lr):
    g = grad(lambda p: F.cross_entropy(functional_call(module, p, (x,)), y))(params)
    for name, p in params.items():
        p -= lr * g[name]
    return params


def mutates_the_dict(module, params, x, y, lr):
    params.update(pure_step(module, params, x, y, lr))
    return params


def grads_only(module, params, x, y, lr):
    return grad(lambda p: F.cross_entropy(functional_call(module, p, (x,)), y))(params)


def summed_loss(module, params, x, y, lr):
    g = grad(lambda p: F.cross_entropy(functional_call(module, p, (x,)), y, reduction="sum"))(params)
    return {name: p - lr * g[name] for name, p in params.items()}


@pytest.mark.parametrize(
    "answer, hint",
    [
        (in_place, "changed the params you passed in"),
        (mutates_the_dict, "changed the params you passed in"),
        (lambda m, p, x, y, lr: pure_step(m, p, x, y, -lr), "moved uphill"),
        (grads_only, "returns the gradients"),
        (lambda m, p, x, y, lr: pure_step(m, p, x, y, 1.0), "not scaled by lr"),
        (summed_loss, "use the mean cross-entropy"),
        (lambda m, p, x, y, lr: pure_step(m, p, x, y, lr / 2), "differ from θ − lr·∇L(θ)"),
        (lambda m, p, x, y, lr: list(pure_step(m, p, x, y, lr).values()), "Return a dict with the keys"),
        (lambda m, p, x, y, lr: {k: v[None] for k, v in pure_step(m, p, x, y, lr).items()}, "the shape of the parameter"),
        (lambda m, p, x: None, "raised TypeError"),
        ("sgd_step", "Give a function"),
    ],
)
def test_3_4_explains_typical_mistakes(answer, hint):
    ok, out = verdict("3.4", answer)
    assert not ok and hint in out


def test_importing_the_checkers_does_not_import_torch():
    code = "import sys, dlnotes.exercises.ch3; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
