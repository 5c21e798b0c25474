"""Shared checks for the layer tests: a dlnotes layer against a torch module, and against
central differences. Imported by tests/test_layers_*.py and tests/test_models_mlp_cnn.py."""

import numpy as np
import torch

from dlnotes.gradcheck import numerical_gradient, relative_error

RTOL, ATOL = 1e-10, 1e-12
GRADCHECK_TOL = 1e-7  # central differences with h = 1e-6 are good to ~1e-9


def assert_matches_torch(layer, module, x, train=True, seed=0):
    """Forward and backward through ``layer`` and ``module`` with the same upstream gradient;
    assert equal outputs, input gradients and every parameter gradient (float64)."""
    module.train(train)
    module.zero_grad()  # torch accumulates .grad; dlnotes overwrites grads
    xt = torch.tensor(x, requires_grad=True)
    yt = module(xt)
    g = np.random.default_rng(seed).standard_normal(tuple(yt.shape))
    yt.backward(torch.from_numpy(g))
    y = layer.forward(x, train=train)
    dx = layer.backward(g)
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=RTOL, atol=ATOL, err_msg="output")
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg="input gradient")
    torch_params = dict(module.named_parameters())
    names = [name for name, _ in layer.named_parameters()]
    assert names == list(torch_params)
    for name, grad in zip(names, layer.gradients()):
        np.testing.assert_allclose(grad, torch_params[name].grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=name)
    return y


def assert_state_matches(layer, module):
    """Parameters and buffers of ``layer`` equal those of ``module`` (same names, same order)."""
    ours, theirs = layer.state_dict(), module.state_dict()
    assert list(ours) == list(theirs)
    for name, value in ours.items():
        np.testing.assert_allclose(value, theirs[name].numpy(), rtol=RTOL, atol=ATOL, err_msg=name)


def assert_gradients_numerically(layer, x, forward=None, seed=1):
    """backward against central differences of L = Σ g·forward(x), for x and every parameter.

    ``forward`` defaults to ``layer.forward`` in training mode; pass one to fix randomness
    (a dropout mask) or the mode.
    """
    forward = forward or layer.forward
    g = np.random.default_rng(seed).standard_normal(forward(x).shape)

    def loss(v):
        return np.sum(g * forward(v))

    forward(x)
    dx = layer.backward(g)
    analytic = [grad.copy() for grad in layer.gradients()]
    assert relative_error(dx, numerical_gradient(loss, x)) < GRADCHECK_TOL

    for (name, param), grad in zip(layer.named_parameters(), analytic):
        saved = param.copy()

        def loss_of_param(v, param=param):
            param[...] = v
            return loss(x)

        numeric = numerical_gradient(loss_of_param, saved)
        param[...] = saved
        assert relative_error(grad, numeric) < GRADCHECK_TOL, name
