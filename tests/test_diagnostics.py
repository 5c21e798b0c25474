"""dlnotes.diagnostics: pre-activations, dead and saturated units, gradient noise, checked with torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes import diagnostics, losses
from dlnotes.models import MLP


def torch_preactivations(module, x):
    """Inputs of every activation module of an nn.Sequential, captured with forward hooks."""
    captured = []
    kinds = (torch.nn.ReLU, torch.nn.Sigmoid, torch.nn.Tanh, torch.nn.LeakyReLU, torch.nn.GELU)
    hooks = [m.register_forward_hook(lambda _, inputs, __: captured.append(inputs[0].detach().numpy()))
             for m in module if isinstance(m, kinds)]
    module(torch.from_numpy(x))
    for hook in hooks:
        hook.remove()
    return captured


@pytest.mark.parametrize("activation, batchnorm, dropout", [("relu", False, 0.0), ("tanh", True, 0.3),
                                                            ("sigmoid", True, 0.0), ("gelu", False, 0.5)])
def test_preactivations_match_torch_hooks(activation, batchnorm, dropout):
    rng = np.random.default_rng(1)
    model = MLP([5, 7, 6, 3], activation, rng=rng, batchnorm=batchnorm, dropout=dropout)
    x = rng.standard_normal((11, 5))
    model.forward(x, train=True)  # move the running statistics away from their start
    state = model.state_dict()
    ours = diagnostics.preactivations(model, x)
    theirs = torch_preactivations(model.to_torch().eval(), x)
    assert [z.shape for z in ours] == [(11, 7), (11, 6)]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    for name, array in model.state_dict().items():  # eval mode: nothing changed
        np.testing.assert_array_equal(array, state[name])


def test_preactivations_rejects_a_single_layer():
    with pytest.raises(TypeError, match="preactivations: model must be a dlnotes Sequential, got ndarray"):
        diagnostics.preactivations(np.zeros((2, 2)), np.zeros((1, 2)))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 20), st.integers(1, 12), st.integers(0, 2**31 - 1))
def test_dead_fraction_matches_torch(n, units, seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, units)) - rng.uniform(0, 3, units)  # some columns mostly negative
    expected = (torch.relu(torch.from_numpy(z)).amax(dim=0) == 0).double().mean().item()
    assert diagnostics.dead_fraction(z) == pytest.approx(expected, abs=0)


def test_dead_fraction_by_hand():
    z = np.array([[-1.0, 2.0, 0.0], [-3.0, -1.0, 0.0]])  # column 0 always off, 1 alive once, 2 at 0: off
    assert diagnostics.dead_fraction(z) == pytest.approx(2 / 3)


@pytest.mark.parametrize("activation, fn", [("sigmoid", torch.sigmoid), ("tanh", torch.tanh)])
@pytest.mark.parametrize("threshold", [0.01, 0.1, 0.5])
def test_saturated_fraction_uses_the_slope_from_autograd(activation, fn, threshold):
    z = np.linspace(-8, 8, 1001).reshape(77, 13)
    t = torch.from_numpy(z).requires_grad_(True)
    fn(t).sum().backward()
    peak = torch.autograd.functional.jacobian(fn, torch.zeros((), dtype=torch.float64)).item()
    expected = (t.grad < threshold * peak).double().mean().item()
    assert diagnostics.saturated_fraction(z, activation, threshold) == pytest.approx(expected, abs=0)


def test_saturated_fraction_thresholds_in_the_docstring():
    # sigmoid: σ′/σ′(0) = 0.1 at |z| = 2·arccosh(√10) = 3.64; tanh: sech² = 0.1 at |z| = arccosh(√10) = 1.82
    edge = np.arccosh(np.sqrt(10))
    z = np.array([[2 * edge - 1e-6, 2 * edge + 1e-6]])
    assert diagnostics.saturated_fraction(z, "sigmoid") == 0.5
    assert diagnostics.saturated_fraction(z / 2, "tanh") == 0.5


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: diagnostics.dead_fraction(np.zeros(3)), ValueError, r"dead_fraction: z must be \(N, units\)"),
        (lambda: diagnostics.dead_fraction(np.zeros((0, 3))), ValueError, "dead_fraction: z must not be empty"),
        (lambda: diagnostics.saturated_fraction(np.zeros((2, 2)), "relu"), ValueError,
         "saturated_fraction: activation must be one of sigmoid, tanh, got 'relu'"),
        (lambda: diagnostics.saturated_fraction(np.zeros((2, 2)), threshold=2.0), ValueError,
         r"saturated_fraction: threshold must be in \[0.0, 1.0\], got 2.0"),
        (lambda: diagnostics.saturated_fraction(np.array([["a"]])), TypeError,
         "saturated_fraction: z must be a real numeric array"),
    ],
)
def test_unit_checks_reject_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


def small_problem(seed=0, n=40):
    rng = np.random.default_rng(seed)
    model = MLP([4, 6, 3], "tanh", rng=rng)
    X = rng.standard_normal((n, 4))
    y = rng.integers(0, 3, n)
    return model, X, y


def torch_gradient(module, X, y):
    module.zero_grad()
    F.cross_entropy(module(torch.from_numpy(X)), torch.from_numpy(y)).backward()
    return torch.cat([p.grad.ravel() for p in module.parameters()])


def test_gradient_noise_full_batch_matches_torch():
    model, X, y = small_problem()
    params = [p.copy() for p in model.parameters()]
    noise = diagnostics.gradient_noise(model, X, y, [len(X)], draws=3, rng=np.random.default_rng(0))
    full = torch_gradient(model.to_torch(), X, y)
    assert noise.full_norm == pytest.approx(torch.linalg.norm(full).item(), rel=1e-12)
    np.testing.assert_allclose(noise.variance, [0.0], atol=1e-28)  # every "batch" is the whole set
    np.testing.assert_allclose(noise.cosine, [1.0], rtol=1e-12)
    for before, after in zip(params, model.parameters()):
        np.testing.assert_array_equal(before, after)


def test_gradient_noise_follows_the_sampling_formula():
    model, X, y = small_problem(n=30)
    module = model.to_torch()
    full = torch_gradient(module, X, y).numpy()
    per_example = np.stack([torch_gradient(module, X[i:i + 1], y[i:i + 1]).numpy() for i in range(len(X))])
    trace_sigma = np.sum((per_example - full) ** 2) / len(X)  # tr Σ, population covariance
    sizes = np.array([1, 5, 15])
    noise = diagnostics.gradient_noise(model, X, y, sizes, draws=3000, rng=np.random.default_rng(1))
    expected = trace_sigma / sizes * (len(X) - sizes) / (len(X) - 1)
    np.testing.assert_allclose(noise.variance, expected, rtol=0.08)  # 3000 draws: a few % of noise
    assert np.all(np.diff(noise.cosine) > 0)  # larger batches point closer to the full gradient
    cos_one = np.mean(per_example @ full / (np.linalg.norm(per_example, axis=1) * np.linalg.norm(full)))
    assert noise.cosine[0] == pytest.approx(cos_one, abs=0.03)


def test_gradient_noise_accepts_another_loss():
    rng = np.random.default_rng(2)
    model = MLP([3, 4, 2], "relu", rng=rng)
    X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    noise = diagnostics.gradient_noise(model, X, Y, [10], draws=1, rng=rng, loss_grad=losses.mse_grad)
    module = model.to_torch()
    F.mse_loss(module(torch.from_numpy(X)), torch.from_numpy(Y)).backward()
    norm = torch.linalg.norm(torch.cat([p.grad.ravel() for p in module.parameters()])).item()
    assert noise.full_norm == pytest.approx(norm, rel=1e-12)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"batch_sizes": [0]}, ValueError, "gradient_noise: batch_sizes must be >= 1, got 0"),
        ({"batch_sizes": [41]}, ValueError, r"gradient_noise: batch_sizes must be between 1 and len\(X\) = 40"),
        ({"batch_sizes": []}, ValueError, "gradient_noise: batch_sizes must be between 1"),
        ({"batch_sizes": [2], "draws": 0}, ValueError, "gradient_noise: draws must be >= 1, got 0"),
        ({"batch_sizes": [2], "rng": 0}, TypeError, "gradient_noise: rng must be a numpy.random.Generator"),
    ],
)
def test_gradient_noise_rejects_bad_input(kwargs, error, message):
    model, X, y = small_problem()
    kwargs = {"rng": np.random.default_rng(0), **kwargs}
    with pytest.raises(error, match=message):
        diagnostics.gradient_noise(model, X, y, **kwargs)
