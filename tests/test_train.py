"""dlnotes.train: clip_grad_norm and the L1/L2 penalty against torch, a whole ``fit`` against the
same loop written in torch, early stopping on a scripted loss sequence, progress switches, and
bad arguments."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes import data, optim, schedules
from dlnotes.gradcheck import numerical_gradient, relative_error
from dlnotes.models import MLP
from dlnotes.train import EarlyStopping, _show_progress, clip_grad_norm, evaluate, fit, penalty
from testkit import raises_exactly


def random_arrays(shapes, seed):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s) * rng.uniform(0.1, 3.0) for s in shapes]


SHAPES = st.lists(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), min_size=1, max_size=4)


@settings(max_examples=30, deadline=None)
@given(shapes=SHAPES, max_norm=st.floats(0.01, 20.0), norm_type=st.sampled_from([1.0, 2.0, 3.5, np.inf]),
       seed=st.integers(0, 1000))
def test_clip_grad_norm_matches_torch(shapes, max_norm, norm_type, seed):
    ours = random_arrays(shapes, seed)
    params = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
    for p, g in zip(params, ours):
        p.grad = torch.from_numpy(g.copy())
    expected_total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type).item()
    total = clip_grad_norm(ours, max_norm, norm_type)
    assert total == pytest.approx(expected_total, rel=1e-12)
    for g, p in zip(ours, params):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_clip_grad_norm_only_shrinks():
    small = [np.array([0.3, 0.4])]
    assert clip_grad_norm(small, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(small[0], [0.3, 0.4])  # norm 0.5 < 1: untouched
    big = [np.array([3.0, 4.0])]
    clip_grad_norm(big, 1.0)
    assert np.linalg.norm(big[0]) == pytest.approx(5.0 / (5.0 + 1e-6))  # scale max_norm/(total + 1e-6)


def test_penalty_matches_autograd_and_central_differences():
    params = random_arrays([(3, 4), (3,), (2, 3, 2, 2)], 0)
    l1, l2 = 0.03, 0.2
    value, grads = penalty(params, l1, l2)
    ts = [torch.tensor(p, requires_grad=True) for p in params]
    expected = sum(l1 * t.abs().sum() + l2 * (t * t).sum() for t in ts if t.ndim >= 2)
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-13)
    assert ts[1].grad is None and not grads[1].any()  # the bias is not penalised
    for g, t in zip(grads[::2], ts[::2]):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-13, atol=0)
    numeric = numerical_gradient(lambda w: penalty([w], l1, l2)[0], params[0])
    assert relative_error(grads[0], numeric) < 1e-8


def test_fit_matches_the_same_loop_in_torch():
    """Full-batch training with momentum, L1+L2, clipping and a StepLR: the parameters after
    6 epochs agree with torch's to 1e-10 (batches are shuffled, but a full batch's mean loss
    does not depend on the order)."""
    rng = np.random.default_rng(0)
    X, y = data.spirals(10, 3, rng=rng)
    model = MLP([2, 6, 3], "tanh", rng=rng)
    net = model.to_torch()
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    sched = schedules.StepLR(opt, step_size=2, gamma=0.5)
    l1, l2, clip = 1e-3, 2e-3, 0.5
    history = fit(model, "cross_entropy", opt, (X, y), epochs=6, batch_size=len(X), rng=rng,
                  scheduler=sched, clip_norm=clip, l1=l1, l2=l2)

    t_opt = torch.optim.SGD(net.parameters(), lr=0.5, momentum=0.9)
    t_sched = torch.optim.lr_scheduler.StepLR(t_opt, step_size=2, gamma=0.5)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    losses, lrs = [], []
    for _ in range(6):
        lrs.append(t_opt.param_groups[0]["lr"])
        t_opt.zero_grad()
        data_loss = F.cross_entropy(net(Xt), yt)
        weights = [p for p in net.parameters() if p.ndim >= 2]
        (data_loss + sum(l1 * w.abs().sum() + l2 * (w * w).sum() for w in weights)).backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        t_opt.step()
        t_sched.step()
        losses.append(data_loss.item())
    for ours, theirs in zip(model.parameters(), net.parameters(), strict=True):
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(history["train_loss"], losses, rtol=1e-12)
    np.testing.assert_allclose(history["lr"], lrs, rtol=1e-15)
    assert set(history) == {"train_loss", "lr"}


def test_fit_lowers_the_loss_on_spirals():
    rng = np.random.default_rng(1)
    X, y = data.spirals(100, 3, noise=0.1, rng=rng)
    split = data.train_val_test_split(X, y, (0.8, 0.2, 0.0), rng=rng, stratify=True)
    model = MLP([2, 32, 32, 3], "relu", rng=rng)
    history = fit(model, "cross_entropy", optim.Adam(model.parameters(), lr=0.02), split.train,
                  epochs=60, batch_size=32, rng=rng, val_data=split.val)
    assert len(history["val_loss"]) == len(history["val_accuracy"]) == 60
    assert history["train_loss"][-1] < 0.3 * history["train_loss"][0]
    assert history["val_accuracy"][-1] > 0.9  # a linear model cannot pass ~0.5 on three spirals
    scores = evaluate(model, *split.val)
    assert scores["loss"] == history["val_loss"][-1]
    assert scores["accuracy"] == np.mean(model.predict(split.val[0]) == split.val[1])


class ScriptedModel:
    """Just parameters: epoch e of a scripted run sets them to e, so restoring is visible."""

    def __init__(self):
        self.w = np.zeros((2, 2))

    def parameters(self):
        return [self.w]


def test_early_stopping_stops_at_the_right_epoch_and_restores_the_best():
    losses = [1.0, 0.8, 0.85, 0.794, 0.791, 0.9, 0.5]
    # an improvement needs value < best − 0.005: epochs 0, 1 and 3 (0.794 < 0.795); epoch 4's
    # 0.791 is lower but not by min_delta; after two epochs without one (4, 5) it stops at 5
    stopper = EarlyStopping(patience=2, min_delta=0.005)
    model, history, stops = ScriptedModel(), {"val_loss": []}, []
    for epoch, value in enumerate(losses):
        model.w[...] = epoch
        history["val_loss"].append(value)
        if stopper(epoch, history, model):
            stops.append(epoch)
            break
    assert stops == [5] and stopper.stopped_epoch == 5
    assert stopper.best == 0.794 and stopper.best_epoch == 3
    stopper.on_train_end(model)
    np.testing.assert_array_equal(model.w, 3.0)

    keep = EarlyStopping(patience=2, restore_best=False)
    for epoch, value in enumerate(losses[:3]):
        model.w[...] = epoch
        keep(epoch, {"val_loss": losses[:epoch + 1]}, model)
    keep.on_train_end(model)
    np.testing.assert_array_equal(model.w, 2.0)


def test_early_stopping_inside_fit_restores_the_best_state():
    rng = np.random.default_rng(3)
    X, y = data.moons(60, noise=0.3, rng=rng)
    model = MLP([2, 64, 2], "relu", rng=rng, batchnorm=True)  # batch norm: buffers are restored too
    stopper = EarlyStopping(patience=3)
    # a learning rate this large makes the validation loss bounce, so patience runs out
    history = fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=2.0), (X[:40], y[:40]), epochs=200,
                  batch_size=8, rng=rng, val_data=(X[40:], y[40:]), callbacks=[stopper])
    assert stopper.stopped_epoch is not None and len(history["val_loss"]) == stopper.stopped_epoch + 1
    assert stopper.stopped_epoch - stopper.best_epoch == 3
    assert evaluate(model, X[40:], y[40:])["loss"] == min(history["val_loss"]) == stopper.best


def test_callbacks_all_run_and_any_can_stop():
    rng = np.random.default_rng(0)
    X, y = data.moons(20, rng=rng)
    seen = []
    stop_at_two = lambda epoch, history, model: epoch == 2  # noqa: E731
    record = lambda epoch, history, model: seen.append(len(history["train_loss"])) or False  # noqa: E731
    model = MLP([2, 4, 2], rng=rng)
    history = fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=10,
                  batch_size=5, rng=rng, callbacks=[stop_at_two, record])
    assert len(history["train_loss"]) == 3 and seen == [1, 2, 3]


def test_bce_and_mse_losses_and_accuracy():
    rng = np.random.default_rng(0)
    X, y = data.moons(40, rng=rng)
    model = MLP([2, 8, 1], rng=rng)
    target = y[:, None].astype(float)
    history = fit(model, "bce_with_logits", optim.Adam(model.parameters(), lr=0.05), (X, target),
                  epochs=30, batch_size=10, rng=rng, val_data=(X, target))
    out = model.forward(X, train=False)
    assert history["val_accuracy"][-1] == np.mean((out > 0) == (target > 0.5)) > 0.8
    reg = fit(model, "mse", optim.SGD(model.parameters(), lr=0.01), (X, target), epochs=2, batch_size=40,
              rng=rng, val_data=(X, target))
    assert "val_accuracy" not in reg and reg["val_loss"][-1] == pytest.approx(np.mean((model.forward(X) - target) ** 2))


def test_progress_is_off_unless_someone_watches(monkeypatch, capsys):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    assert _show_progress(True) and not _show_progress(False)
    assert not _show_progress(None)  # pytest captures stdout: not a terminal
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert not _show_progress(True)
    rng = np.random.default_rng(0)
    X, y = data.moons(10, rng=rng)
    model = MLP([2, 3, 2], rng=rng)
    monkeypatch.delenv("TQDM_DISABLE")
    fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), (X, y), 2, 5, rng=rng, progress=True)
    assert "epoch" in capsys.readouterr().err
    fit(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), (X, y), 2, 5, rng=rng)
    assert capsys.readouterr() == ("", "")


def test_bad_arguments():
    rng = np.random.default_rng(0)
    X, y = data.moons(10, rng=rng)
    model = MLP([2, 3, 2], rng=rng)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with raises_exactly(ValueError, "fit: loss must be one of ['bce_with_logits', 'cross_entropy', 'mse'] "
                                    "or a pair (loss_fn, grad_fn), got 'hinge'"):
        fit(model, "hinge", opt, (X, y), 1, 5, rng=rng)
    with raises_exactly(TypeError, "fit: data must be a pair (X, y), got ndarray"):
        fit(model, "mse", opt, X, 1, 5, rng=rng)
    with raises_exactly(ValueError, "fit: epochs must be >= 1, got 0"):
        fit(model, "mse", opt, (X, y), 0, 5, rng=rng)
    with raises_exactly(ValueError, "fit: clip_norm must be in (0.0, inf], got 0.0"):
        fit(model, "mse", opt, (X, y), 1, 5, rng=rng, clip_norm=0.0)
    with raises_exactly(TypeError, "fit: rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                                   "got NoneType"):
        fit(model, "mse", opt, (X, y), 1, 5, rng=None)
    with raises_exactly(ValueError, "clip_grad_norm: norm_type must be in [1.0, inf], got 0.5"):
        clip_grad_norm([np.ones(2)], 1.0, norm_type=0.5)
    with raises_exactly(ValueError, "EarlyStopping: patience must be >= 1, got 0"):
        EarlyStopping(patience=0)
    with raises_exactly(ValueError, "EarlyStopping: monitor must be a history key ['lr', 'train_loss'], "
                                    "got 'val_loss'"):
        fit(model, "cross_entropy", opt, (X, y), 1, 5, rng=rng, callbacks=[EarlyStopping(2)])
