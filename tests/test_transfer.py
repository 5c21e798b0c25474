"""dlnotes.transfer: class selection, per-class subsets, frozen features and new heads against
torch, and the distillation loss against torch's KL divergence and central differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from testkit import raises_exactly
from dlnotes import transfer
from dlnotes.gradcheck import numerical_gradient, relative_error
from dlnotes.layers import BatchNorm1d, Linear, ReLU, Sequential
from dlnotes.models import CNN, MLP

SETTINGS = settings(max_examples=25, deadline=None)


def labelled(n=40, classes=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 3)), rng.integers(0, classes, n)


# ------------------------------------------------------------------------------ data helpers


def test_select_classes_keeps_rows_in_order_and_renumbers():
    X, y = labelled()
    X_sub, y_sub = transfer.select_classes(X, y, [4, 1])
    rows = [i for i in range(len(y)) if y[i] in (4, 1)]  # the rows, found one by one
    np.testing.assert_array_equal(X_sub, X[rows])
    np.testing.assert_array_equal(y_sub, [0 if y[i] == 4 else 1 for i in rows])
    assert y_sub.dtype == np.int64
    X_r, y_r = transfer.select_classes(X, y, range(5, 6))  # a range works too
    assert len(X_r) == np.count_nonzero(y == 5) and set(y_r) == {0}


@pytest.mark.parametrize(
    "X, y, classes, message",
    [
        (np.zeros((3, 2)), np.array([0.0, 1.0, 1.0]), [0],
         "select_classes: y must be a 1-D integer array of class labels, got shape (3,) dtype float64"),
        (np.zeros((2, 2)), np.array([0, 1, 1]), [0],
         "select_classes: y must have one entry per row of X (2), got shape (3,)"),
        (np.zeros((3, 2)), np.array([0, 1, 1]), [],
         "select_classes: classes must be a non-empty list of integer labels, got []"),
        (np.zeros((3, 2)), np.array([0, 1, 1]), [1, 1], "select_classes: classes must not repeat a label, got [1, 1]"),
    ],
)
def test_select_classes_rejects_bad_input(X, y, classes, message):
    with raises_exactly(ValueError, message):
        transfer.select_classes(X, y, classes)


def test_take_per_class_draws_n_of_each_class_without_replacement():
    X, y = labelled(n=60, classes=4)
    X_sub, y_sub = transfer.take_per_class(X, y, 5, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(y_sub, np.repeat(np.arange(4), 5))
    for row, label in zip(X_sub, y_sub):  # every row is a real example of its class
        match = np.flatnonzero((X == row).all(axis=1))
        assert len(match) == 1 and y[match[0]] == label
    assert len({row.tobytes() for row in X_sub}) == len(X_sub)
    again = transfer.take_per_class(X, y, 5, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(again[0], X_sub)


def test_take_per_class_returns_a_whole_small_class():
    X, y = np.arange(7.0)[:, None], np.array([0, 0, 0, 0, 0, 1, 1])
    _, y_sub = transfer.take_per_class(X, y, 3, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(np.bincount(y_sub), [3, 2])


def test_take_per_class_rejects_bad_input():
    X, y = labelled()
    with raises_exactly(ValueError, "take_per_class: n must be >= 1, got 0"):
        transfer.take_per_class(X, y, 0, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="take_per_class: rng must be a numpy.random.Generator"):
        transfer.take_per_class(X, y, 2, rng=0)


# ------------------------------------------------------------------------------ features and heads


@pytest.mark.parametrize("depth", [None, 0, 1, 2, 3, 5])
def test_features_match_the_torch_prefix(depth):
    model = MLP([6, 8, 5, 3], rng=np.random.default_rng(2))
    x = np.random.default_rng(3).standard_normal((4, 6))
    module = model.to_torch().eval()
    stop = len(model) - 1 if depth is None else depth
    with torch.no_grad():
        want = module[:stop](torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(transfer.features(model, x, depth), want, rtol=1e-12, atol=1e-14)


def test_features_use_eval_mode_and_leave_batchnorm_statistics_alone():
    rng = np.random.default_rng(4)
    model = MLP([3, 5, 2], rng=rng, batchnorm=True)
    model.forward(rng.standard_normal((8, 3)) * 3 + 1)  # move the running statistics away from 0/1
    before = model.state_dict()
    x = rng.standard_normal((6, 3))
    with torch.no_grad():
        want = model.to_torch().eval()[:3](torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(transfer.features(model, x), want, rtol=1e-12, atol=1e-14)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_features_reject_bad_input():
    model = MLP([3, 4, 2], rng=np.random.default_rng(0))
    with raises_exactly(ValueError, "features: depth must be at most the number of layers (3), got 4"):
        transfer.features(model, np.zeros((1, 3)), 4)
    with pytest.raises(TypeError, match="features: model must be a non-empty dlnotes Sequential"):
        transfer.features(Linear(3, 2, rng=np.random.default_rng(0)), np.zeros((1, 3)))


def test_replace_head_copies_the_body_and_draws_a_fresh_head():
    model = MLP([6, 8, 8, 5], rng=np.random.default_rng(5))
    new = transfer.replace_head(model, 3, rng=np.random.default_rng(6))
    fresh = Linear(8, 3, rng=np.random.default_rng(6))  # the same draws, made directly
    assert new.sizes == [6, 8, 8, 3] and model.sizes == [6, 8, 8, 5]
    for name in ("weight", "bias"):
        np.testing.assert_array_equal(new[-1].params[name], fresh.params[name])
    for old_p, new_p in zip(model.parameters()[:-2], new.parameters()[:-2]):
        np.testing.assert_array_equal(old_p, new_p)
        assert not np.shares_memory(old_p, new_p)  # a copy: fine-tuning leaves the original alone
    x = np.random.default_rng(7).standard_normal((4, 6))
    with torch.no_grad():
        want = new.to_torch()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(new.forward(x, train=False), want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(transfer.features(new, x), transfer.features(model, x), rtol=0, atol=0)


def test_replace_head_works_for_a_cnn_and_checks_the_last_layer():
    cnn = CNN(8, 10, (2, 3), rng=np.random.default_rng(8))
    new = transfer.replace_head(cnn, 4, rng=np.random.default_rng(9))
    assert new.forward(np.zeros((2, 1, 8, 8))).shape == (2, 4)
    assert type(CNN.from_torch(new.to_torch())) is CNN
    no_head = Sequential(Linear(3, 2, rng=np.random.default_rng(0)), BatchNorm1d(2))
    with raises_exactly(TypeError, "replace_head: model's last layer must be a Linear, got BatchNorm1d"):
        transfer.replace_head(no_head, 2, rng=np.random.default_rng(0))
    with raises_exactly(ValueError, "replace_head: out_features must be >= 1, got 0"):
        transfer.replace_head(Sequential(ReLU(), Linear(3, 2, rng=np.random.default_rng(0))), 0,
                              rng=np.random.default_rng(0))


# ------------------------------------------------------------------------------ distillation


def torch_distillation(student, teacher, T):
    s = torch.tensor(student, requires_grad=True)
    loss = T**2 * F.kl_div(F.log_softmax(s / T, 1), F.log_softmax(torch.from_numpy(teacher) / T, 1),
                           log_target=True, reduction="batchmean")
    loss.backward()
    return loss.item(), s.grad.numpy()


@SETTINGS
@given(st.integers(1, 6), st.integers(2, 7), st.floats(0.5, 10.0), st.integers(0, 2**32 - 1))
def test_distillation_loss_and_grad_match_torch(n, k, T, seed):
    rng = np.random.default_rng(seed)
    student, teacher = rng.normal(0, 3, (n, k)), rng.normal(0, 3, (n, k))
    want_loss, want_grad = torch_distillation(student, teacher, T)
    np.testing.assert_allclose(transfer.distillation_loss(student, teacher, T), want_loss, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(transfer.distillation_loss_grad(student, teacher, T), want_grad, rtol=1e-10, atol=1e-13)


def test_distillation_grad_central_differences_and_zero_at_the_teacher():
    rng = np.random.default_rng(10)
    student, teacher = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    numeric = numerical_gradient(lambda s: transfer.distillation_loss(s, teacher, 2.5), student)
    assert relative_error(transfer.distillation_loss_grad(student, teacher, 2.5), numeric) < 1e-7
    assert transfer.distillation_loss(teacher, teacher, 2.5) == pytest.approx(0.0, abs=1e-15)
    shifted = teacher + 7.0  # softmax ignores a constant shift per row: still a perfect match
    assert np.abs(transfer.distillation_loss_grad(shifted, teacher, 2.5)).max() < 1e-15


def test_distillation_stays_finite_for_extreme_logits():
    student = np.array([[1000.0, -1000.0, 0.0]])
    teacher = np.array([[-1000.0, 1000.0, 0.0]])
    want_loss, want_grad = torch_distillation(student, teacher, 1.0)
    assert np.isfinite(transfer.distillation_loss(student, teacher, 1.0))
    np.testing.assert_allclose(transfer.distillation_loss(student, teacher, 1.0), want_loss, rtol=1e-12)
    np.testing.assert_allclose(transfer.distillation_loss_grad(student, teacher, 1.0), want_grad, atol=1e-15)


@pytest.mark.parametrize(
    "student, teacher, T, exc, message",
    [
        (np.zeros(3), np.zeros(3), 2.0, ValueError,
         "distillation_loss: student_logits must be (N, K) with N >= 1, got shape (3,)"),
        (np.zeros((2, 3)), np.zeros((2, 4)), 2.0, ValueError,
         "distillation_loss: teacher_logits must have the shape of student_logits (2, 3), got (2, 4)"),
        (np.zeros((2, 3)), np.zeros((2, 3)), 0.0, ValueError,
         "distillation_loss: temperature must be in (0.0, 1e+154], got 0.0"),
        (np.zeros((2, 3)), np.zeros((2, 3)), "2", TypeError,
         "distillation_loss: temperature must be a real number, got str"),
    ],
)
def test_distillation_rejects_bad_input(student, teacher, T, exc, message):
    with raises_exactly(exc, message):
        transfer.distillation_loss(student, teacher, T)
