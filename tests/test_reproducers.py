"""Issue 14's remaining reproducers: each refused with the error type and a message naming the
argument (autograd shapes, quantisation scales, temperatures, optimiser options, ``fit``), and
refused calls of ``surgery`` and ``fit`` that change nothing."""

import numpy as np
import pytest

from dlnotes import compress, optim, surgery, trajectories
from dlnotes.autograd import Tensor
from dlnotes.layers import Linear, ReLU, Sequential
from dlnotes.layers.conv import col2im
from dlnotes.losses import mse, mse_grad
from dlnotes.schedules import MultiStepLR
from dlnotes.train import fit
from dlnotes.transfer import distillation_loss, distillation_loss_grad
from testkit import assert_unchanged, raises_exactly, snapshot


# ---- autograd.Tensor ------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["+", "-", "*", "/"])
def test_tensor_binary_op_refuses_shapes_that_do_not_broadcast(op):
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3)))
    with raises_exactly(ValueError, f"Tensor {op}: operand shapes (2, 3) and (4, 3) do not broadcast"):
        {"+": a.__add__, "-": a.__sub__, "*": a.__mul__, "/": a.__truediv__}[op](b)
    assert (a + Tensor(np.ones(3))).shape == (2, 3)  # broadcasting itself still works


def test_tensor_matmul_refuses_mismatched_inner_axes_naming_the_shapes():
    with raises_exactly(ValueError, "Tensor @: the last axis of the left operand must match the second-to-last "
                                    "axis of the right one, got shapes (2, 3) and (4, 3)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 3)))
    with raises_exactly(ValueError, "Tensor @: the last axis of the left operand must match the only "
                                    "axis of the right one, got shapes (2, 3) and (4,)"):
        Tensor(np.ones((2, 3))) @ np.ones(4)
    with raises_exactly(ValueError, "Tensor @: operand shapes (2, 2, 3) and (3, 3, 1) do not broadcast"):
        Tensor(np.ones((2, 2, 3))) @ Tensor(np.ones((3, 3, 1)))
    assert (Tensor(np.ones((5, 2, 3))) @ Tensor(np.ones((3, 4)))).shape == (5, 2, 4)


def test_tensor_reshape_refuses_a_shape_that_does_not_fit():
    t = Tensor(np.ones((2, 3)))
    with raises_exactly(ValueError, "Tensor.reshape: shape (4, 2) does not fit the 6 elements of shape (2, 3)"):
        t.reshape(4, 2)
    with raises_exactly(ValueError, "Tensor.reshape: shape (-1, -1) does not fit the 6 elements of shape (2, 3)"):
        t.reshape(-1, -1)
    with raises_exactly(ValueError, "Tensor.reshape: shape (4, -1) does not fit the 6 elements of shape (2, 3)"):
        t.reshape((4, -1))
    with raises_exactly(ValueError, "Tensor.reshape: shape must be integers >= -1, got (2.0, 3)"):
        t.reshape(2.0, 3)
    assert t.reshape(-1).shape == (6,) and t.reshape((3, 2)).shape == (3, 2)
    assert Tensor(np.ones((0, 3))).reshape(-1, 3).shape == (0, 3)


def test_tensor_sum_refuses_a_repeated_axis():
    t = Tensor(np.ones((2, 3)))
    with raises_exactly(ValueError, "Tensor.sum: axis must not repeat an axis, got (0, 0)"):
        t.sum(axis=(0, 0))
    with raises_exactly(ValueError, "Tensor.mean: axis must not repeat an axis, got (1, -1)"):
        t.mean(axis=(1, -1))


def test_tensor_transpose_refuses_axes_that_are_not_a_permutation():
    t = Tensor(np.ones((2, 3)))
    with raises_exactly(ValueError, "Tensor.transpose: axes must be a permutation of the 2 axes of shape (2, 3), "
                                    "got (0, 5)"):
        t.transpose(0, 5)
    with raises_exactly(ValueError, "Tensor.transpose: axes must be a permutation of the 2 axes of shape (2, 3), "
                                    "got (1, 1)"):
        t.transpose((1, 1))
    assert t.transpose(1, 0).shape == (3, 2) and t.transpose(-1, 0).shape == (3, 2) and t.T.shape == (3, 2)


def test_tensor_requires_grad_must_be_a_bool():
    with raises_exactly(TypeError, "Tensor: requires_grad must be a bool, got str"):
        Tensor(np.ones(2), requires_grad="no")
    assert Tensor(np.ones(2), requires_grad=np.bool_(False)).requires_grad is False


# ---- compress -------------------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [-0.1, 0.0, np.nan, np.inf])
def test_dequantize_refuses_a_scale_that_is_not_positive_and_finite(scale):
    with raises_exactly(ValueError, f"dequantize: scale must be positive and finite, got {float(scale)}"):
        compress.dequantize(np.array([1, 2], dtype=np.int8), scale)
    with raises_exactly(ValueError, f"dequantize: scale must be positive and finite, got {float(scale)}"):
        compress.dequantize(np.ones((2, 2), dtype=np.int8), np.array([[0.5], [scale]]))


def test_affine_quantisation_of_extreme_values_does_not_overflow():
    x = np.array([-1e308, 0.0, 1e308])
    with np.errstate(all="raise"):
        q, scale, zero_point = compress.quantize(x, scheme="affine")
    assert np.isfinite(scale) and scale > 0
    x_hat = compress.dequantize(q, scale, zero_point)
    assert np.all(np.isfinite(x_hat))
    assert np.all(np.abs(x_hat - x) <= scale)
    assert np.all(np.isfinite(compress.fake_quantize(np.array([[-1e308, 1e308], [1.0, 2.0]]), scheme="affine", axis=0)))


# ---- transfer, deploy, conv, schedules, trajectories ----------------------------------------------

@pytest.mark.parametrize("fn", [distillation_loss, distillation_loss_grad])
def test_distillation_refuses_a_temperature_whose_square_overflows(fn):
    s = np.zeros((2, 3))
    with raises_exactly(ValueError, f"{fn.__name__}: temperature must be in (0.0, 1e+154], got 1e+300"):
        fn(s, s, temperature=1e300)
    assert fn(s, s, temperature=1e154) is not None


def test_export_onnx_accepts_a_module_without_parameters(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    from dlnotes import deploy

    with pytest.warns(DeprecationWarning):
        path = deploy.export_onnx(torch.nn.ReLU(), np.array([[-1.0, 2.0]]), tmp_path / "relu.onnx", dynamo=False)
    got = deploy.run_onnx(deploy.onnx_session(path), np.array([[-1.0, 2.0], [3.0, -4.0]]))
    np.testing.assert_array_equal(got, [[0.0, 2.0], [3.0, 0.0]])


def test_col2im_refuses_an_x_shape_that_is_not_four_integers():
    cols = np.zeros((1, 1, 1, 1, 1, 5))
    with raises_exactly(ValueError, "col2im: x_shape must be 4 non-negative integers (N, C, H, W), got (1, 1, 5)"):
        col2im(cols, (1, 1, 5))
    with raises_exactly(ValueError, "col2im: x_shape must be 4 non-negative integers (N, C, H, W), got (1, 1, 1.5, 5)"):
        col2im(cols, (1, 1, 1.5, 5))
    assert col2im(cols, (1, 1, 1, 5)).shape == (1, 1, 1, 5)


def test_multistep_lr_milestones_must_be_a_sequence():
    opt = optim.SGD([np.zeros(2)], lr=0.1)
    with raises_exactly(TypeError, "MultiStepLR: milestones must be a sequence of epochs, got int"):
        MultiStepLR(opt, 5)
    with raises_exactly(TypeError, "MultiStepLR: milestones must be a sequence of epochs, got str"):
        MultiStepLR(opt, "5")
    MultiStepLR(opt, (2, 4))


def test_trajectories_run_refuses_an_option_the_optimiser_does_not_take():
    with raises_exactly(TypeError, "run: betas is not an option of SGD "
                                   "(it takes dampening, lr, momentum, nesterov, weight_decay)"):
        trajectories.run(trajectories.surfaces.NAMES[0], "sgd", steps=2, betas=(0.9, 0.99))


# ---- fit and surgery: refused calls change nothing ------------------------------------------------

def _model(seed):
    rng = np.random.default_rng(seed)
    return Sequential(Linear(3, 4, rng=rng), ReLU(), Linear(4, 2, rng=rng))


def _data():
    rng = np.random.default_rng(1)
    return rng.standard_normal((8, 3)), rng.standard_normal((8, 2))


def test_fit_refuses_an_optimizer_built_on_another_model_and_changes_nothing():
    model, other = _model(0), _model(1)
    opt = optim.SGD(other.parameters(), lr=0.1, momentum=0.9)
    before = snapshot(model, other, opt)
    with raises_exactly(ValueError, "fit: optimizer must be built on model.parameters() (the same arrays, in order), "
                                    "got one on 4 other array(s): it would train nothing"):
        fit(model, (mse, mse_grad), opt, _data(), 2, 4, rng=np.random.default_rng(0), progress=False)
    assert_unchanged(before, model, other, opt)


@pytest.mark.parametrize("bad, exc", [
    (dict(epochs=0), ValueError), (dict(batch_size=0), ValueError), (dict(l1=-1.0), ValueError),
    (dict(clip_norm=0.0), ValueError), (dict(rng=0), TypeError),
])
def test_fit_refused_calls_change_nothing(bad, exc):
    model = _model(0)
    opt = optim.Adam(model.parameters(), lr=0.1)
    X, y = _data()
    before = snapshot(model, opt, X, y)
    args = {**dict(epochs=2, batch_size=4, rng=np.random.default_rng(0), progress=False), **bad}
    with pytest.raises(exc, match=f"^fit: {next(iter(bad))} "):
        fit(model, (mse, mse_grad), opt, (X, y), **args)
    assert_unchanged(before, model, opt, X, y)


def test_surgery_refused_calls_change_nothing():
    model = _model(0)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    weights = surgery.weight_arrays(model)
    masks = [np.ones(w.shape, bool) for w in weights]
    before = snapshot(model, opt, weights, masks)
    with pytest.raises(ValueError, match=r"^with_weights: weights\[1\] must have shape"):
        surgery.with_weights(model, [np.zeros(weights[0].shape), np.zeros((1, 1))])
    with pytest.raises(ValueError, match=r"^MaskedOptimizer: masks\[1\] must have shape"):
        surgery.MaskedOptimizer(opt, weights, [np.zeros(weights[0].shape, bool), np.zeros((1, 1), bool)])
    with pytest.raises(ValueError, match=r"^remove_units: keep must"):
        surgery.remove_units(model, 0, np.zeros(4, bool))
    with pytest.raises(ValueError, match=r"^remove_units: keep must be a bool array"):
        surgery.remove_units(model, 0, np.ones(3, bool))
    assert_unchanged(before, model, opt, weights, masks)
    masked = surgery.MaskedOptimizer(opt, weights, masks)
    before = snapshot(model, opt, masked)
    with pytest.raises(ValueError, match=r"^SGD\.step: grads\[1\] must be finite"):
        masked.step([np.zeros(p.shape) + (np.nan if i == 1 else 0.0) for i, p in enumerate(model.parameters())])
    assert_unchanged(before, model, opt, masked)
