"""A refused call changes nothing: for each method that mutates state, a call that raises leaves
every array of the object (and of its arguments) bit for bit as it was. Also the NaN policy for
the stateful operations, and the data splits' disjointness."""

import numpy as np
import pytest
import torch

from dlnotes import compress, data, deploy, losses, optim
from dlnotes.activations import log_softmax, softmax
from dlnotes.layers import BatchNorm2d, Linear, Sequential
from dlnotes.models import DBN, MLP, RBM
from dlnotes.train import clip_grad_norm, penalty
from testkit import assert_unchanged, raises_exactly, snapshot

OPTIMIZERS = {
    "SGD": dict(momentum=0.9, nesterov=True), "Adagrad": {}, "RMSprop": dict(momentum=0.5, centered=True),
    "Adam": dict(amsgrad=True), "AdamW": {},
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_step_with_a_non_finite_gradient_changes_nothing(name):
    """The reproducer: a step with a NaN gradient wrote NaN into the parameters."""
    rng = np.random.default_rng(0)
    params = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
    opt = getattr(optim, name)(params, lr=0.1, **OPTIMIZERS[name])
    opt.step([rng.standard_normal((3, 2)), rng.standard_normal(4)])  # some state to keep
    before = snapshot(opt, params)
    for bad in (np.nan, np.inf):
        grads = [rng.standard_normal((3, 2)), rng.standard_normal(4)]
        grads[1][2] = bad
        with raises_exactly(ValueError, f"{name}.step: grads[1] must be finite, got 1 NaN or infinite value(s)"):
            opt.step(grads)
        assert_unchanged(before, opt, params)
    with raises_exactly(ValueError, f"{name}.step: grads[1] must have shape (4,) like params[1], got (5,)"):
        opt.step([np.zeros((3, 2)), np.zeros(5)])
    assert_unchanged(before, opt, params)


@pytest.mark.parametrize("name", ["Adagrad", "RMSprop", "Adam", "AdamW"])
def test_eps_zero_is_refused(name):
    """eps = 0 turned a zero gradient into 0/0 = NaN."""
    with raises_exactly(ValueError, f"{name}: eps must be in (0.0, inf], got 0.0"):
        getattr(optim, name)([np.zeros(2)], eps=0.0)


def test_read_only_parameters_are_refused():
    param = np.zeros(3)
    param.flags.writeable = False
    with raises_exactly(ValueError, "Adam: params[0] must be a writeable array (updated in place), got a read-only one"):
        optim.Adam([param])


def test_clip_grad_norm_takes_one_array_like_torch():
    """The reproducer: ``clip_grad_norm(np.array([3., 4.]), 1.0)`` returned 5.0 and clipped nothing."""
    g = np.array([3.0, 4.0])
    total = clip_grad_norm(g, 1.0)
    t = torch.tensor([3.0, 4.0], dtype=torch.float64, requires_grad=True)
    t.grad = torch.tensor([3.0, 4.0], dtype=torch.float64)
    want = torch.nn.utils.clip_grad_norm_(t, 1.0)
    assert total == pytest.approx(want.item(), rel=1e-15)
    np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-15)


def test_clip_grad_norm_checks_every_array_before_scaling():
    """The reproducer: a list with an int array was half-scaled before the error."""
    grads = [np.array([30.0, 40.0]), np.array([1, 2])]
    before = snapshot(grads)
    with raises_exactly(TypeError, "clip_grad_norm: grads[1] must be a writeable float array (scaled in place), "
                        "got dtype int64"):
        clip_grad_norm(grads, 1.0)
    assert_unchanged(before, grads)
    grads = [np.array([30.0, 40.0]), np.array([np.nan, 1.0])]
    before = snapshot(grads)
    with raises_exactly(ValueError, "clip_grad_norm: grads[1] must be finite, got 1 NaN or infinite value(s)"):
        clip_grad_norm(grads, 1.0)
    assert_unchanged(before, grads)


def test_batchnorm_statistics_refuse_non_finite_batches():
    rng = np.random.default_rng(1)
    bn = BatchNorm2d(2)
    bn.forward(rng.standard_normal((3, 2, 2, 2)))
    before = snapshot(bn)
    x = rng.standard_normal((3, 2, 2, 2))
    x[0, 1, 0, 0] = np.inf
    with raises_exactly(ValueError, "BatchNorm2d.forward: x must be finite, got 1 NaN or infinite value(s)"):
        bn.forward(x)
    assert_unchanged(before, bn)


def test_rbm_and_dbn_refuse_nan_before_training():
    """The reproducer: ``RBM.cd_step`` with a NaN input poisoned the weights (the range check
    ``(x < 0) | (x > 1)`` is False for NaN)."""
    rng = np.random.default_rng(2)
    rbm = RBM(4, 3, rng=rng)
    v = rng.random((5, 4))
    v[1, 2] = np.nan
    before = snapshot(rbm)
    with raises_exactly(ValueError, "RBM.cd_step: v must have values in [0, 1], got 1 NaN value(s)"):
        rbm.cd_step(v, rng=rng)
    assert_unchanged(before, rbm)
    dbn = DBN([4, 3, 2], rng=rng)
    before = snapshot(dbn)
    with raises_exactly(ValueError, "DBN.pretrain: X must have values in [0, 1], got 1 NaN value(s)"):
        dbn.pretrain(v, epochs=1, batch_size=2, lr=0.1, rng=rng)
    assert_unchanged(before, dbn)


def test_load_npz_refused_leaves_the_model_unchanged(tmp_path):
    """The reproducer: ``deploy.load_npz`` wrote ``weight`` before refusing a wrong ``bias``."""
    rng = np.random.default_rng(3)
    model = Sequential(Linear(3, 2, rng=rng))
    path = tmp_path / "bad.npz"
    np.savez(path, **{"0.weight": np.full((2, 3), 9.0), "0.bias": np.zeros(5)})
    before = snapshot(model)
    with raises_exactly(ValueError, "Sequential.load_state_dict: 0.bias must have shape (2,), got (5,)"):
        deploy.load_npz(model, path)
    assert_unchanged(before, model)


def test_mlp_load_state_dict_refused_midway_changes_nothing():
    rng = np.random.default_rng(4)
    model = MLP([3, 4, 2], rng=rng, batchnorm=True)
    state = {k: v + 1.0 for k, v in model.state_dict().items()}
    state["1.running_var"] = -state["1.running_var"]
    before = snapshot(model)
    with raises_exactly(ValueError, "MLP.load_state_dict: running_var must be >= 0, got minimum -2.0"):
        model.load_state_dict(state)
    assert_unchanged(before, model)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 10, 33])
@pytest.mark.parametrize("fractions", [(0, 0.7, 0.3), (0, 0.5, 0.5), (1, 0, 0), (0, 1, 0), (0, 0, 1), (0.5, 0.5, 0),
                                       (0.7, 0.15, 0.15), (0.01, 0.5, 0.49), (0.34, 0.33, 0.33)])
@pytest.mark.parametrize("stratify", [False, True])
def test_splits_are_disjoint_and_cover_every_row(n, fractions, stratify):
    """The reproducer: fractions (0, .7, .3) on 5 rows put row 0 in train and test."""
    X = np.arange(float(n))[:, None]
    y = np.arange(n) % 2
    split = data.train_val_test_split(X, y, fractions, rng=np.random.default_rng(n), stratify=stratify)
    rows = np.concatenate([part[0][:, 0] for part in split])
    np.testing.assert_array_equal(np.sort(rows), X[:, 0])  # every row exactly once
    for part, fraction in zip(split, fractions):
        if fraction == 0:
            assert len(part[0]) == 0
        np.testing.assert_array_equal(y[part[0][:, 0].astype(int)], part[1])  # labels travel with rows


def test_stratify_refuses_nan_labels():
    X = np.arange(6.0)[:, None]
    y = np.array([0.0, 1.0, np.nan, 0.0, 1.0, 1.0])
    with raises_exactly(ValueError, "train_val_test_split: y must be 1-D finite class labels to stratify, "
                        "got dtype float64 of shape (6,) with NaN or inf"):
        data.train_val_test_split(X, y, (0.5, 0.25, 0.25), rng=np.random.default_rng(0), stratify=True)


def test_reproducers_of_silently_accepted_arguments():
    with raises_exactly(ValueError, "binary_cross_entropy_with_logits: target must have values in [0, 1], "
                        "got range [-1.0, 2.0]"):
        losses.binary_cross_entropy_with_logits(np.zeros(2), np.array([2.0, -1.0]))
    with raises_exactly(ValueError, "binary_cross_entropy_with_logits: pos_weight must be >= 0, got minimum -1.0"):
        losses.binary_cross_entropy_with_logits(np.zeros(2), np.ones(2), pos_weight=-1.0)
    assert np.isnan(losses.binary_cross_entropy_with_logits(np.zeros(2), np.array([np.nan, 1.0])))  # propagates
    with raises_exactly(ValueError, "penalty: l1 must be in [0.0, inf], got -1.0"):
        penalty([np.ones((2, 2))], l1=-1)
    with raises_exactly(TypeError, "sparsity: w must be a real numeric array, got dtype object"):
        compress.sparsity(a for a in [np.zeros(2)])
    for fn in (softmax, log_softmax):  # torch returns an empty tensor of the same shape
        assert fn(np.zeros((0, 3))).shape == (0, 3)
