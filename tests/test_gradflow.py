"""dlnotes.gradflow: gradient norms and activation spreads against the same network in PyTorch."""

import itertools

import numpy as np
import pytest
import torch

from dlnotes import gradflow

CONFIGS = list(itertools.product(gradflow.ACTIVATIONS, gradflow.INITS, (False, True), (False, True)))


def torch_profile(depth, width, activation, init, residual, batchnorm, batch, seed):
    """The recipe of gradflow.profiles, with the forward and backward passes done by torch.autograd."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, width))
    blocks = gradflow.build_mlp(depth, width, activation, init, batchnorm, rng=rng)
    modules = [block.to_torch().train() for block in blocks]  # same weights, torch.nn layers
    h = torch.from_numpy(x)
    stds = []
    for module in modules:
        a = module(h)
        h = h + a if residual else a
        stds.append(h.std(correction=0).item())
    loss = 0.5 * h.pow(2).mean()
    loss.backward()
    norms = [torch.linalg.norm(module[0].weight.grad).item() for module in modules]
    return np.array(norms), np.array(stds), loss.item()


@pytest.mark.parametrize("activation, init, residual, batchnorm", CONFIGS)
def test_profile_matches_torch(activation, init, residual, batchnorm):
    ours = gradflow.profile(7, 12, activation, init, residual, batchnorm, batch=24, seed=3)
    norms, stds, loss = torch_profile(7, 12, activation, init, residual, batchnorm, batch=24, seed=3)
    assert ours.grad_norms.shape == ours.activation_stds.shape == (7,)
    np.testing.assert_allclose(ours.grad_norms, norms, rtol=1e-10)
    np.testing.assert_allclose(ours.activation_stds, stds, rtol=1e-10)
    assert ours.loss == pytest.approx(loss, rel=1e-10)


def test_one_sweep_equals_separate_networks():
    depths = (1, 4, 9)
    sweep = gradflow.profiles(depths, 10, "gelu", "he", residual=True, batchnorm=True, batch=16, seed=5)
    assert sorted(sweep) == list(depths)
    for d in depths:
        alone = gradflow.profile(d, 10, "gelu", "he", residual=True, batchnorm=True, batch=16, seed=5)
        np.testing.assert_array_equal(sweep[d].grad_norms, alone.grad_norms)
        np.testing.assert_array_equal(sweep[d].activation_stds, alone.activation_stds)
        assert sweep[d].loss == alone.loss


def test_deterministic_for_a_seed():
    a, b = (gradflow.profile(5, 8, "tanh", "xavier", batch=16, seed=1) for _ in range(2))
    c = gradflow.profile(5, 8, "tanh", "xavier", batch=16, seed=2)
    np.testing.assert_array_equal(a.grad_norms, b.grad_norms)
    assert not np.allclose(a.grad_norms, c.grad_norms)


@pytest.mark.parametrize("init, std", [("small", lambda w: 0.01), ("xavier", lambda w: (2 / (2 * w)) ** 0.5),
                                       ("he", lambda w: (2 / w) ** 0.5)])
def test_initial_weights_have_the_scheme_std(init, std):
    blocks = gradflow.build_mlp(3, 64, "relu", init, rng=np.random.default_rng(0))
    for block in blocks:
        weight = block[0].params["weight"]
        assert weight.std() == pytest.approx(std(64), rel=0.05)
        assert np.all(block[0].params["bias"] == 0)


def test_vanishing_and_healthy_profiles():
    # errata #4/#7: sigmoid and tanh at depth 30 vanish towards the input; ReLU with He init does not
    sigmoid = gradflow.profile(30, 64, "sigmoid", "xavier")
    relu = gradflow.profile(30, 64, "relu", "he")
    assert sigmoid.grad_norms[0] / sigmoid.grad_norms[-1] < 1e-10
    assert 0.1 < relu.grad_norms[0] / relu.grad_norms[-1] < 10
    assert 0.3 < relu.activation_stds[-1] < 3
    # errata #22: the skip connection carries the gradient back to the first layer
    skip = gradflow.profile(30, 64, "sigmoid", "xavier", residual=True)
    assert skip.grad_norms[0] / skip.grad_norms[-1] > 1e6 * sigmoid.grad_norms[0] / sigmoid.grad_norms[-1]


def test_tiny_gradients_do_not_underflow_in_the_norm():
    # small init, depth 50: entries near 1e-169, whose squares (1e-338) are below float64's range
    p = gradflow.profile(50, 16, "gelu", "small")
    assert np.all(p.grad_norms > 0) and np.all(p.grad_norms < 1e-150)


def test_bad_input():
    with pytest.raises(ValueError, match=r"profile: depth must be >= 1, got 0"):
        gradflow.profile(0)
    with pytest.raises(ValueError, match=r"profiles: activation must be one of sigmoid, tanh, relu, gelu, got 'elu'"):
        gradflow.profile(3, activation="elu")
    with pytest.raises(ValueError, match=r"profiles: init must be one of small, xavier, he, got 'orthogonal'"):
        gradflow.profile(3, init="orthogonal")
    with pytest.raises(ValueError, match=r"profiles: width must be >= 1, got 0"):
        gradflow.profile(3, width=0)
    with pytest.raises(ValueError, match=r"profiles: batch must be >= 2, got 1"):
        gradflow.profile(3, batch=1)
    with pytest.raises(ValueError, match=r"profiles: depths must name at least one depth, got none"):
        gradflow.profiles(())
    with pytest.raises(TypeError, match=r"build_mlp: rng must be a numpy.random.Generator"):
        gradflow.build_mlp(3, 8, "relu", "he", rng=0)
