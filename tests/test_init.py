"""dlnotes.init against torch.nn.init: fans, gains, and the distributions of large draws."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes import init

NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh", "relu", "selu"]


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(0, 6), min_size=2, max_size=5).map(tuple))
def test_fans_match_torch(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.fan_in_and_fan_out(shape) == expected


@pytest.mark.parametrize("shape", [(), (5,)])
def test_fans_need_two_dimensions_like_torch(shape):
    with pytest.raises(ValueError, match="dimensions"):
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    with pytest.raises(ValueError, match=r"^fan_in_and_fan_out: shape must have at least 2 dimensions"):
        init.fan_in_and_fan_out(shape)


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_gain_matches_torch(nonlinearity):
    assert init.calculate_gain(nonlinearity) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity), rel=1e-15
    )


@pytest.mark.parametrize("param", [None, 0, 0.2, math.sqrt(5.0), -1.5])
def test_leaky_relu_gain_matches_torch(param):
    assert init.calculate_gain("leaky_relu", param) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", param), rel=1e-15
    )


def std_standard_error(std, n, kurtosis):
    """Standard error of a sample std from n draws: (σ/2)·√((κ − 1)/n), κ the kurtosis."""
    return 0.5 * std * math.sqrt((kurtosis - 1.0) / n)


NORMAL_KURTOSIS, UNIFORM_KURTOSIS = 3.0, 9.0 / 5.0

# (initialiser, keyword arguments, kurtosis of its distribution); the same names exist in torch.nn.init
SHAPES = [(256, 300), (64, 32, 3, 3)]
SCHEMES = [
    ("xavier_uniform", {"gain": 1.0}, UNIFORM_KURTOSIS),
    ("xavier_uniform", {"gain": 5.0 / 3.0}, UNIFORM_KURTOSIS),
    ("xavier_normal", {"gain": 1.0}, NORMAL_KURTOSIS),
    ("kaiming_uniform", {}, UNIFORM_KURTOSIS),
    ("kaiming_uniform", {"a": math.sqrt(5.0)}, UNIFORM_KURTOSIS),
    ("kaiming_uniform", {"mode": "fan_out", "nonlinearity": "relu"}, UNIFORM_KURTOSIS),
    ("kaiming_normal", {}, NORMAL_KURTOSIS),
    ("kaiming_normal", {"mode": "fan_out", "nonlinearity": "tanh"}, NORMAL_KURTOSIS),
]


def theoretical_std(name, shape, kwargs):
    """The std each scheme is meant to give, from torch's fan and gain functions."""
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    if name.startswith("xavier"):
        return kwargs["gain"] * math.sqrt(2.0 / (fan_in + fan_out))
    gain = torch.nn.init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0))
    return gain / math.sqrt(fan_in if kwargs.get("mode", "fan_in") == "fan_in" else fan_out)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name, kwargs, kurtosis", SCHEMES)
def test_draws_have_the_theoretical_std_and_torch_distribution(name, kwargs, kurtosis, shape):
    w = getattr(init, name)(shape, **kwargs, rng=np.random.default_rng(1))
    assert w.shape == shape and w.dtype == np.float64
    std = theoretical_std(name, shape, kwargs)
    se = std_standard_error(std, w.size, kurtosis)
    assert abs(w.std() - std) < 4 * se
    assert abs(w.mean()) < 4 * std / math.sqrt(w.size)
    # the same scheme in torch gives a sample std within the combined error of ours
    torch.manual_seed(1)
    t = getattr(torch.nn.init, name + "_")(torch.empty(shape, dtype=torch.float64), **kwargs)
    assert abs(w.std() - t.std(correction=0).item()) < 4 * math.sqrt(2.0) * se
    if name.endswith("uniform"):
        bound = math.sqrt(3.0) * std
        assert np.abs(w).max() <= bound
        assert np.abs(w).max() > 0.999 * bound  # P(all |w| < 0.999 b) = 0.999^n ≈ e^-77 here


def test_torch_default_linear_init_bound():
    """kaiming_uniform with a = √5 (torch's Linear default) gives the bound 1/√fan_in."""
    w = init.kaiming_uniform((50, 400), a=math.sqrt(5.0), rng=np.random.default_rng(2))
    assert np.abs(w).max() <= 1.0 / math.sqrt(400)
    assert np.abs(w).max() > 0.999 / math.sqrt(400)


@pytest.mark.parametrize("draw", ["normal", "uniform"])
def test_normal_and_uniform(draw):
    w = getattr(init, draw)((300, 400), 0.05, rng=np.random.default_rng(3))
    assert w.dtype == np.float64 and w.shape == (300, 400)
    std, kurtosis = (0.05, NORMAL_KURTOSIS) if draw == "normal" else (0.05 / math.sqrt(3.0), UNIFORM_KURTOSIS)
    assert abs(w.std() - std) < 4 * std_standard_error(std, w.size, kurtosis)
    assert abs(w.mean()) < 4 * std / math.sqrt(w.size)


def test_zeros():
    w = init.zeros((3, 4))
    assert w.dtype == np.float64 and w.shape == (3, 4) and not w.any()
    assert init.zeros(5).shape == (5,)


@pytest.mark.parametrize("name", ["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal"])
def test_randomness_comes_only_from_rng(name):
    fn = getattr(init, name)
    np.random.seed(0)
    global_state = np.random.get_state()[1].copy()
    a = fn((4, 5), rng=np.random.default_rng(7))
    b = fn((4, 5), rng=np.random.default_rng(7))
    c = fn((4, 5), rng=np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(np.random.get_state()[1], global_state)


@pytest.mark.parametrize("name", ["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal"])
def test_empty_shapes_draw_nothing(name):
    assert getattr(init, name)((0, 3), rng=np.random.default_rng(0)).shape == (0, 3)


@pytest.mark.parametrize("name", ["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal"])
def test_bad_arguments(name):
    fn = getattr(init, name)
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match=rf"^{name}: rng must be a numpy.random.Generator .* got RandomState"):
        fn((3, 4), rng=np.random.RandomState(0))
    with pytest.raises(TypeError, match=rf"^{name}: rng must be a numpy.random.Generator .* got int"):
        fn((3, 4), rng=0)
    with pytest.raises(ValueError, match=rf"^{name}: shape must have at least 2 dimensions .* got \(3,\)"):
        fn((3,), rng=rng)
    with pytest.raises(ValueError, match=rf"^{name}: shape must be a tuple of non-negative ints, got \(3, -1\)"):
        fn((3, -1), rng=rng)
    with pytest.raises(TypeError, match=rf"^{name}: shape must be a tuple of ints, got float"):
        fn(3.0, rng=rng)
    with pytest.raises(TypeError, match=r"missing 1 required keyword-only argument: 'rng'"):
        fn((3, 4), rng)  # keyword-only: by position the generator would have landed in gain or a


def test_bad_kaiming_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"^kaiming_normal: mode must be one of fan_in, fan_out, got 'fan_avg'"):
        init.kaiming_normal((3, 4), mode="fan_avg", rng=rng)
    with pytest.raises(ValueError, match=r"^kaiming_uniform: nonlinearity must be one of .*selu, got 'swish'"):
        init.kaiming_uniform((3, 4), nonlinearity="swish", rng=rng)
    with pytest.raises(TypeError, match=r"^kaiming_uniform: a must be a real number, got str"):
        init.kaiming_uniform((3, 4), a="0.1", rng=rng)


def test_bad_gain_and_std():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"^calculate_gain: nonlinearity must be one of .* got 'softmax'"):
        init.calculate_gain("softmax")
    with pytest.raises(TypeError, match=r"^calculate_gain: param must be a real number, got bool"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match=r"^xavier_normal: gain must be in \[0.0, 1e\+300\], got -1.0"):
        init.xavier_normal((3, 4), gain=-1.0, rng=rng)
    with pytest.raises(ValueError, match=r"^normal: std must be in \[0.0, 1e\+300\], got -0.1"):
        init.normal((3, 4), -0.1, rng=rng)
    with pytest.raises(ValueError, match=r"^uniform: bound must be finite, got inf"):
        init.uniform((3, 4), float("inf"), rng=rng)
    with pytest.raises(TypeError, match=r"^zeros: shape must be a tuple of ints, got NoneType"):
        init.zeros(None)
