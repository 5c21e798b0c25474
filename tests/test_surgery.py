"""dlnotes.surgery: weights put back into models, masked fine-tuning, and units removed for real
(checked against the same network silenced in torch)."""

import numpy as np
import pytest
import torch

from testkit import raises_exactly
from dlnotes import compress, optim, surgery, train
from dlnotes.layers import Dropout, Linear, ReLU, Sequential, Tanh
from dlnotes.models import CNN, MLP


def mlp(seed=0, sizes=(5, 12, 9, 3), **kw):
    return MLP(list(sizes), rng=np.random.default_rng(seed), **kw)


def test_weight_arrays_are_the_live_matrices_and_kernels():
    model = mlp()
    weights = surgery.weight_arrays(model)
    assert [w.shape for w in weights] == [(12, 5), (9, 12), (3, 9)]
    assert all(w is p for w, p in zip(weights, model.parameters()[::2]))
    cnn = CNN(8, 4, (2, 3), rng=np.random.default_rng(1))
    assert [w.shape for w in surgery.weight_arrays(cnn)] == [(2, 1, 3, 3), (3, 2, 3, 3), (4, 12)]
    with raises_exactly(TypeError, "weight_arrays: model must be a dlnotes Layer, got list"):
        surgery.weight_arrays([np.zeros((2, 2))])


def test_with_weights_replaces_a_copy_and_leaves_the_model_alone():
    model = mlp()
    before = model.state_dict()
    new_weights = [np.full(w.shape, float(i)) for i, w in enumerate(surgery.weight_arrays(model))]
    new = surgery.with_weights(model, new_weights)
    for w, got in zip(new_weights, surgery.weight_arrays(new)):
        np.testing.assert_array_equal(got, w)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    biases = [p for p in new.parameters() if p.ndim == 1]
    np.testing.assert_array_equal(np.concatenate(biases), np.concatenate([before[k] for k in before if "bias" in k]))


def test_with_weights_rejects_mismatches():
    model = mlp()
    weights = surgery.weight_arrays(model)
    with raises_exactly(ValueError, "with_weights: weights must have one array per weight of model (3), got 2"):
        surgery.with_weights(model, weights[:2])
    with raises_exactly(ValueError, "with_weights: weights[1] must have shape (9, 12), got (12, 9)"):
        surgery.with_weights(model, [weights[0], weights[1].T, weights[2]])


def test_masked_optimizer_follows_the_wrapped_rule_on_kept_weights_only():
    rng = np.random.default_rng(2)
    model, twin = mlp(3), mlp(3)
    masks = compress.global_magnitude_masks(surgery.weight_arrays(model), 0.6)
    masked = surgery.MaskedOptimizer(optim.Adam(model.parameters(), lr=0.01), surgery.weight_arrays(model), masks)
    plain = optim.Adam(twin.parameters(), lr=0.01)
    for w, m in zip(surgery.weight_arrays(model), masks):  # masked at construction
        assert np.all(w[~m] == 0)
    for _ in range(5):
        grads = [rng.standard_normal(p.shape) for p in model.parameters()]
        masked.step(grads)
        plain.step(grads)
    # Adam is element-wise, so kept entries move exactly as without a mask; pruned ones stay 0
    for w, w_plain, m in zip(surgery.weight_arrays(model), surgery.weight_arrays(twin), masks):
        np.testing.assert_array_equal(w[m], w_plain[m])
        assert np.all(w[~m] == 0) and np.any(w_plain[~m] != 0)
    for b, b_plain in zip(model.parameters()[1::2], twin.parameters()[1::2]):
        np.testing.assert_array_equal(b, b_plain)


def test_masked_optimizer_trains_with_fit_and_forwards_lr():
    rng = np.random.default_rng(4)
    model = mlp(5)
    masks = [compress.magnitude_mask(w, 0.5) for w in surgery.weight_arrays(model)]
    opt = surgery.MaskedOptimizer(optim.SGD(model.parameters(), lr=0.1), surgery.weight_arrays(model), masks)
    opt.lr = 0.05
    assert opt.optimizer.lr == 0.05
    X, y = rng.standard_normal((30, 5)), rng.integers(0, 3, 30)
    history = train.fit(model, "cross_entropy", opt, (X, y), epochs=3, batch_size=8, rng=rng)
    assert history["lr"] == [0.05] * 3
    assert compress.sparsity(surgery.weight_arrays(model)) == pytest.approx(0.5, abs=0.01)


def test_masked_optimizer_rejects_bad_input():
    model, other = mlp(), mlp(1)
    weights = surgery.weight_arrays(model)
    masks = [np.ones(w.shape, dtype=bool) for w in weights]
    opt = optim.SGD(model.parameters(), lr=0.1)
    with raises_exactly(ValueError, "MaskedOptimizer: masks must have one mask per weight (3), got 2"):
        surgery.MaskedOptimizer(opt, weights, masks[:2])
    not_owned = "MaskedOptimizer: weights[0] must be one of the optimiser's params (the same array)"
    with raises_exactly(ValueError, not_owned):
        surgery.MaskedOptimizer(opt, surgery.weight_arrays(other), masks)
    with raises_exactly(ValueError, "MaskedOptimizer: masks[2] must have shape (3, 9), got (9, 3)"):
        surgery.MaskedOptimizer(opt, weights, masks[:2] + [masks[2].T])
    with raises_exactly(TypeError, "MaskedOptimizer: optimizer must be a dlnotes.optim optimiser, got list"):
        surgery.MaskedOptimizer([], weights, masks)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_remove_units_computes_what_the_silenced_network_computes(activation):
    rng = np.random.default_rng(6)
    model = mlp(7, activation=activation)
    keep = compress.channel_prune_mask(surgery.weight_arrays(model)[0], 0.5, axis=0)[:, 0]
    small = surgery.remove_units(model, 0, keep)
    assert small.sizes == [5, 6, 9, 3] and model.sizes == [5, 12, 9, 3]
    assert [w.shape for w in surgery.weight_arrays(small)] == [(6, 5), (9, 6), (3, 9)]
    # the reference: the full network in torch with the removed units' incoming weights and
    # biases zeroed, and (since tanh(0) = 0 and relu(0) = 0) nothing reaching the next layer
    module = model.to_torch()
    with torch.no_grad():
        module[0].weight[~torch.from_numpy(keep)] = 0.0
        module[0].bias[~torch.from_numpy(keep)] = 0.0
        x = rng.standard_normal((7, 5))
        want = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(small.forward(x, train=False), want, rtol=1e-12, atol=1e-14)
    # gradients still work on the smaller network: one step of training runs
    small.backward(np.ones((7, 3)))
    assert [g.shape for g in small.gradients()] == [p.shape for p in small.parameters()]


def test_remove_units_twice_and_through_dropout():
    rng = np.random.default_rng(8)
    model = mlp(9, dropout=0.3)
    small = surgery.remove_units(model, 0, np.arange(12) < 4)
    small = surgery.remove_units(small, 3, np.arange(9) % 3 == 0)  # layers: Linear ReLU Dropout Linear ...
    assert small.sizes == [5, 4, 3, 3]
    x = rng.standard_normal((2, 5))
    with torch.no_grad():
        want = small.to_torch().eval()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(small.forward(x, train=False), want, rtol=1e-12, atol=1e-14)


def test_remove_units_rejects_bad_input():
    model = mlp()
    keep = np.ones(12, dtype=bool)
    with raises_exactly(ValueError, "remove_units: index must point at a Linear layer of model, got 1"):
        surgery.remove_units(model, 1, keep)
    followed = "remove_units: layer {} must be followed by element-wise layers and then a Linear, got {}"
    with raises_exactly(ValueError, followed.format(4, "the end of the model")):
        surgery.remove_units(model, 4, np.ones(3, dtype=bool))
    with_bn = mlp(batchnorm=True)
    with raises_exactly(ValueError, followed.format(0, "BatchNorm1d")):
        surgery.remove_units(with_bn, 0, keep)
    with raises_exactly(ValueError, "remove_units: keep must be a bool array of shape (12,), got int64 (12,)"):
        surgery.remove_units(model, 0, np.ones(12, dtype=np.int64))
    with raises_exactly(ValueError, "remove_units: keep must keep at least one unit, got all False"):
        surgery.remove_units(model, 0, np.zeros(12, dtype=bool))
    with raises_exactly(TypeError, "remove_units: model must be a dlnotes Sequential (e.g. an MLP), got Linear"):
        surgery.remove_units(Linear(2, 2, rng=np.random.default_rng(0)), 0, keep)
    plain = Sequential(Linear(2, 3, rng=np.random.default_rng(0)), Tanh(), Dropout(0.1, rng=np.random.default_rng(0)),
                       Linear(3, 1, rng=np.random.default_rng(0)), ReLU())
    assert surgery.remove_units(plain, 0, np.array([True, False, True]))[3].in_features == 2
