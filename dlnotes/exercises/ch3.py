"""Checkers for chapter 3 (tools and frameworks). The exercise data live here so the notebook and
the checker use the same numbers: ``from dlnotes.exercises.ch3 import twin_net, VMAP_X``.

The answers of 3.1 and 3.4 are PyTorch objects, so those checkers import torch when they run;
importing this module does not.
"""

import numpy as np

from dlnotes import activations, losses
from dlnotes.exercises import checker
from dlnotes.exercises.answers import call, close, first_hint, integer
from dlnotes.layers import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, Tanh
from dlnotes.optim import SGD
from dlnotes.parity import max_abs_diff, to_numpy

TWIN_SEED = 3  # exercise 3.1: the dlnotes network to rewrite as a torch.nn.Module
_data = np.random.default_rng(TWIN_SEED)
TWIN_PROBE = _data.normal(size=(4, 6))  # the input the 3.1 checker feeds both networks

DIGIT_IMAGE = (1, 8, 8)  # exercise 3.2: (channels, height, width) of one input image

VMAP_W = _data.normal(size=(3, 5))  # exercise 3.3: a linear classifier z = W x + b, 3 classes
VMAP_B = _data.normal(size=3)
VMAP_X = _data.normal(size=(8, 5))  # 8 examples of 5 features
VMAP_Y = np.array([0, 2, 1, 1, 0, 2, 2, 1])

STEP_LR = 0.5  # exercise 3.4: the learning rate the checker passes to sgd_step
_STEP_X = _data.normal(size=(7, 6))  # the batch the 3.4 checker passes
_STEP_Y = np.array([0, 1, 2, 2, 1, 0, 1])


def twin_net():
    """A fresh dlnotes ``Sequential(Linear(6, 5), Tanh(), Linear(5, 3))`` with fixed weights (3.1, 3.4)."""
    rng = np.random.default_rng(TWIN_SEED)
    return Sequential(Linear(6, 5, rng=rng), Tanh(), Linear(5, 3, rng=rng))


# ------------------------------------------------------------------------------- 3.1


def _twin_outputs(hidden):
    """Output of twin_net() on TWIN_PROBE with ``hidden`` as the activation between the layers."""
    first, _, last = twin_net()
    return last.forward(hidden(first.forward(TWIN_PROBE)))


@checker("3.1")
def module_twin(answer):
    """Answer: an instance of an nn.Module subclass computing twin_net() in float64."""
    from torch import nn

    if not isinstance(answer, nn.Module):
        return False, f"Give an instance of your torch.nn.Module subclass, not a {type(answer).__name__}."
    if isinstance(answer, nn.Sequential):
        return False, "That is an nn.Sequential, which to_torch() builds for you; write a subclass of nn.Module."
    expected_count = twin_net().num_parameters()
    count = sum(p.numel() for p in answer.parameters())
    if count != expected_count:
        return False, (f"Your module has {count} trainable numbers, the dlnotes network {expected_count}: "
                       "register both Linear layers (as attributes) with their biases.")
    import torch

    with torch.no_grad():
        out, error = call(answer, torch.from_numpy(TWIN_PROBE))
    if error:
        hint = " Make the parameters float64 with .double()." if "dtype" in error or "Double" in error else ""
        return False, f"Calling it on a float64 batch of shape {TWIN_PROBE.shape} raised {error}.{hint}"
    out = to_numpy(out)
    expected = _twin_outputs(activations.tanh)
    if out.shape != expected.shape:
        return False, f"The output should have shape {expected.shape} (batch, classes), got {out.shape}."
    if max_abs_diff(out, expected) < 1e-12:
        return True, "Same outputs as the dlnotes network, to round-off."
    hint = first_hint(out, [
        (_twin_outputs(lambda h: h), "The outputs match the network without its hidden activation: apply tanh."),
        (_twin_outputs(activations.relu), "The outputs match a ReLU network; the dlnotes network uses tanh."),
        (_twin_outputs(activations.sigmoid), "The outputs match a sigmoid network; the dlnotes network uses tanh."),
    ], rtol=0, atol=1e-10)
    if hint:
        return False, hint
    if max_abs_diff(out, expected) < 1e-5:
        return False, "Close, but only to float32 precision: copy the weights from the float64 arrays, in float64."
    return False, ("The outputs differ. Copy weight and bias of both layers from the dlnotes layers' params, "
                   "into the matching torch layers.")


# ------------------------------------------------------------------------------- 3.2


def _digit_cnn(second_padding=0):
    """(feature layers, classifier) of the network of exercise 3.2; the flattened size is read off
    a forward pass. ``second_padding=1`` gives the variant whose second conv keeps the map size."""
    rng = np.random.default_rng(0)
    features = Sequential(Conv2d(1, 8, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
                          Conv2d(8, 16, 3, padding=second_padding, rng=rng), ReLU(), Flatten())
    flat = features.forward(np.zeros((1,) + DIGIT_IMAGE)).shape[1]
    return features, Linear(flat, 10, rng=rng)


def _count(layers):
    return sum(layer.num_parameters() for layer in layers)


@checker("3.2")
def parameter_count(answer):
    """Answer: the number of trainable parameters of the CNN of exercise 3.2, an integer."""
    if integer(answer) is None:
        return False, f"Give a whole number (an int), got {type(answer).__name__}."
    features, classifier = _digit_cnn()
    total = _count([features, classifier])
    if answer == total:
        return True, "Each conv kernel spans all its input channels; pooling and flattening have no parameters."
    with_bias = [layer for layer in features.layers + [classifier] if "bias" in layer.params]
    biases = sum(layer.params["bias"].size for layer in with_bias)
    # a kernel counted as k×k only, instead of C_in × k × k
    kernel_only = sum(c.out_channels * (c.in_channels - 1) * np.prod(c.kernel_size)
                      for c in with_bias if isinstance(c, Conv2d))
    hint = first_hint(answer, [
        (total - biases, "That leaves out the biases: one per output channel or unit."),
        (total - kernel_only, "A conv kernel is not k×k alone: it spans every input channel (C_out × C_in × k × k)."),
        (_count(_digit_cnn(second_padding=1)),
         "The second conv has no padding, so it shrinks the feature map; recount the flattened size."),
    ], rtol=0, atol=1e-10)
    return False, hint or "Count weight and bias of each conv and of the Linear layer; track the map size layer by layer."


# ------------------------------------------------------------------------------- 3.3


def _per_example_grads():
    """∂ℓ_i/∂W for ℓ_i = cross-entropy of softmax(W x_i + b) at label y_i: (softmax_i − onehot_i) x_iᵀ."""
    delta = activations.softmax(VMAP_X @ VMAP_W.T + VMAP_B) - np.eye(3)[VMAP_Y]  # (N, K)
    return delta[:, :, None] * VMAP_X[:, None, :]  # (N, K, d)


@checker("3.3")
def per_example_gradients(answer):
    """Answer: the per-example gradients ∂ℓ_i/∂W, shape (8, 3, 5), as an array or tensor."""
    got = to_numpy(answer)
    if got.dtype.kind not in "fiu":
        return False, f"Give an array or tensor of numbers, got dtype {got.dtype}."
    expected = _per_example_grads()
    n, k, d = expected.shape
    if got.shape == (k, d):
        return False, f"That is one gradient for the whole batch; the exercise wants one per example, shape {expected.shape}."
    if got.shape == (n, d, k):
        return False, f"The axes are swapped: each example's gradient has the shape of W, {VMAP_W.shape}."
    if got.shape != expected.shape:
        return False, f"The answer should have shape {expected.shape} (examples, classes, features), got {got.shape}."
    if close(got, expected, rtol=1e-10):
        return True, "One gradient per example; their mean is the gradient of the batch loss."
    mean = np.broadcast_to(expected.mean(axis=0), expected.shape)
    hint = first_hint(got, [
        (mean, "Every example got the same gradient, that of the batch mean: differentiate one example's loss."),
        (expected / n, f"Each gradient is 1/{n} of the expected one: do not divide an example's loss by the batch size."),
        (-expected, "The sign is flipped: the gradient points uphill, towards larger loss."),
    ], rtol=0, atol=1e-10)
    return False, hint or "Each row should be the gradient of that example's cross-entropy alone; check the labels."


# ------------------------------------------------------------------------------- 3.4


def _reference_step():
    """(initial params, params after one SGD step, the gradients), by dlnotes' backward and optimiser."""
    net = twin_net()
    before = net.state_dict()
    out = net.forward(_STEP_X)
    net.backward(losses.cross_entropy_grad(out, _STEP_Y))
    grads = {name: g.copy() for (name, _), g in zip(net.named_parameters(), net.gradients())}
    SGD(net.parameters(), lr=STEP_LR).step(net.gradients())
    return before, net.state_dict(), grads


@checker("3.4")
def functional_sgd_step(answer):
    """Answer: sgd_step(module, params, x, y, lr) -> new params dict, without changing its inputs."""
    if not callable(answer):
        return False, "Give a function sgd_step(module, params, x, y, lr) that returns the new params dict."
    import torch

    before, after, grads = _reference_step()
    module = twin_net().to_torch()
    params = {name: torch.from_numpy(value.copy()) for name, value in before.items()}
    snapshot = {name: t.clone() for name, t in params.items()}
    x, y = torch.from_numpy(_STEP_X), torch.from_numpy(_STEP_Y)
    new, error = call(answer, module, params, x, y, STEP_LR)
    if error:
        return False, f"Calling sgd_step(module, params, x, y, lr) raised {error}"
    if any(not torch.equal(params[name], snapshot[name]) for name in params) or set(params) != set(snapshot):
        return False, "The step changed the params you passed in: a functional step leaves its inputs alone."
    if not isinstance(new, dict) or set(new) != set(after):
        return False, f"Return a dict with the keys {sorted(after)}, like the params you were given."
    got = {name: to_numpy(t) for name, t in new.items()}
    if any(got[name].shape != after[name].shape for name in after):
        return False, "Each returned tensor should have the shape of the parameter it replaces."

    def matches(reference):
        return all(close(got[name], reference[name], rtol=1e-10) for name in after)

    if matches(after):
        return True, "θ ← θ − lr·∇L(θ), computed without mutating anything: the step of torch.optim.SGD."
    n = len(_STEP_Y)
    wrong = [
        ({k: before[k] + STEP_LR * grads[k] for k in after}, "The parameters moved uphill: subtract lr·gradient."),
        (grads, "That returns the gradients; return the updated parameters θ − lr·∇L."),
        ({k: before[k] - grads[k] for k in after}, "The step is not scaled by lr."),
        ({k: before[k] - STEP_LR * n * grads[k] for k in after},
         "The step is too large by the batch size: use the mean cross-entropy, not the sum."),
    ]
    hint = next((message for reference, message in wrong if matches(reference)), None)
    return False, hint or "The new parameters differ from θ − lr·∇L(θ), the gradient of the mean cross-entropy."
