"""dlnotes.compress against torch.nn.utils.prune, torch's quantisation functions and observers."""


import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.ao.quantization import MinMaxObserver, PerChannelMinMaxObserver
from torch.nn.utils import prune

from dlnotes import compress as C

SETTINGS = settings(max_examples=25, deadline=None)
seeds = st.integers(0, 2**32 - 1)
shapes = st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple)
shapes_2d_up = st.lists(st.integers(1, 6), min_size=2, max_size=4).map(tuple)
fractions = st.floats(0.0, 1.0)
bit_widths = st.integers(2, 16)
schemes = st.sampled_from(["symmetric", "affine"])

# torch.quantize_per_* warn that quantized dtypes are deprecated; the arithmetic is what we compare.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def holder(w):
    """A bare torch module owning ``w`` as parameter "weight", for torch.nn.utils.prune."""
    module = torch.nn.Module()
    module.weight = torch.nn.Parameter(torch.tensor(w))
    return module


# ---------------------------------------------------------------------------- pruning vs torch


@SETTINGS
@given(shapes, fractions, seeds)
def test_magnitude_mask_matches_l1_unstructured(shape, s, seed):
    w = np.random.default_rng(seed).normal(size=shape)  # continuous: no ties
    module = holder(w)
    prune.l1_unstructured(module, "weight", amount=s)
    np.testing.assert_array_equal(C.magnitude_mask(w, s), module.weight_mask.numpy().astype(bool))


@SETTINGS
@given(st.lists(shapes, min_size=1, max_size=4), fractions, seeds)
def test_global_masks_match_global_unstructured(shape_list, s, seed):
    rng = np.random.default_rng(seed)
    # layers on different scales, so a global threshold prunes them unevenly
    weights = [rng.normal(size=shp) * 10.0 ** rng.uniform(-2, 1) for shp in shape_list]
    modules = [holder(w) for w in weights]
    prune.global_unstructured([(m, "weight") for m in modules], pruning_method=prune.L1Unstructured, amount=s)
    for ours, m in zip(C.global_magnitude_masks(weights, s), modules):
        np.testing.assert_array_equal(ours, m.weight_mask.numpy().astype(bool))


@SETTINGS
@given(shapes_2d_up, fractions, st.data(), st.sampled_from([1, 2, 3, np.inf]), seeds)
def test_channel_prune_mask_matches_ln_structured(shape, f, data, p, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    w = np.random.default_rng(seed).normal(size=shape)
    module = holder(w)
    prune.ln_structured(module, "weight", amount=f, n=p, dim=axis)
    ours = C.channel_prune_mask(w, f, axis=axis, norm=p)
    np.testing.assert_array_equal(ours, module.weight_mask.numpy().astype(bool))


def test_channel_mask_removes_whole_rows_by_l1_norm():
    # row L1 norms: 6, 0.6, 3  -> pruning 1/3 of rows removes the middle row
    w = np.array([[1.0, -2.0, 3.0], [0.1, 0.2, -0.3], [-1.0, 1.0, 1.0]])
    expected = np.array([[True] * 3, [False] * 3, [True] * 3])
    np.testing.assert_array_equal(C.channel_prune_mask(w, 1 / 3, axis=0, norm=1), expected)
    # column L2 norms: sqrt(2.01), sqrt(5.04), sqrt(10.09): pruning 2/3 of columns keeps the last one
    expected = np.tile([False, False, True], (3, 1))
    np.testing.assert_array_equal(C.channel_prune_mask(w, 2 / 3, axis=1, norm=2), expected)


@SETTINGS
@given(shapes, fractions, seeds)
def test_sparsity_achieved_exactly(shape, s, seed):
    w = np.random.default_rng(seed).normal(size=shape)
    pruned = C.apply_masks([w], [C.magnitude_mask(w, s)])[0]
    module = holder(w)
    prune.l1_unstructured(module, "weight", amount=s)
    assert C.sparsity(pruned) == C.sparsity(module.weight.detach().numpy())
    # every kept weight is at least as large as every removed one
    kept, gone = np.abs(w[pruned != 0]), np.abs(w[pruned == 0])
    if kept.size and gone.size:
        assert kept.min() >= gone.max()


def test_count_rounds_half_to_even_like_torch():
    # 0.5 · 5 = 2.5 → 2 and 0.5 · 7 = 3.5 → 4 (Python's round, as torch uses)
    for n, expected in [(5, 2), (7, 4)]:
        w = np.arange(1.0, n + 1)
        assert np.count_nonzero(~C.magnitude_mask(w, 0.5)) == expected
        module = holder(w)
        prune.l1_unstructured(module, "weight", amount=0.5)
        assert int((module.weight_mask == 0).sum()) == expected


def test_ties_prune_lowest_index_first_and_count_matches_torch():
    w = np.array([3.0, 1.0, -1.0, 2.0, 1.0, -1.0])  # four |w| = 1 tied at indices 1, 2, 4, 5
    mask = C.magnitude_mask(w, 0.5)  # k = 3 of the tied four go
    np.testing.assert_array_equal(mask, [True, False, False, True, False, True])
    module = holder(w)
    prune.l1_unstructured(module, "weight", amount=0.5)
    torch_mask = module.weight_mask.numpy().astype(bool)
    assert np.count_nonzero(~torch_mask) == 3  # same number; torch.topk may pick other tied entries
    assert torch_mask[[0, 3]].all()  # the untied large weights survive in both
    # tied channel norms (rows 0 and 2): the lower index goes first
    rows = np.array([[1.0, 1.0], [5.0, 0.0], [-1.0, 1.0]])
    np.testing.assert_array_equal(C.channel_prune_mask(rows, 1 / 3)[:, 0], [False, True, True])


def test_global_threshold_differs_from_per_layer():
    small, large = np.full(4, 0.1) * [1, 2, 3, 4], np.full(4, 10.0) * [1, 2, 3, 4]
    masks = C.global_magnitude_masks([small, large], 0.5)
    # the 4 smallest of the 8 magnitudes are all in `small`
    np.testing.assert_array_equal(masks[0], [False] * 4)
    np.testing.assert_array_equal(masks[1], [True] * 4)


def test_apply_masks_copies_and_sparsity_of_lists():
    w = np.array([[1.0, -2.0], [3.0, 0.5]])
    out = C.apply_masks([w], [np.array([[True, False], [False, True]])])[0]
    np.testing.assert_array_equal(out, [[1.0, 0.0], [0.0, 0.5]])
    assert w[0, 1] == -2.0  # input untouched
    assert C.sparsity([out, np.zeros(2)]) == 4 / 6


# ---------------------------------------------------------------------------- quantisation


def observer(bits, scheme, axis, dtype=torch.float64):
    """torch's min/max observer configured for b bits; dtype is the observer's working precision."""
    qmin, qmax = C.qrange(bits, scheme)
    if bits <= 8:
        qdtype = torch.qint8 if scheme == "symmetric" else torch.quint8
    else:
        qdtype = torch.int16 if scheme == "symmetric" else torch.uint16
    kind = "tensor" if axis is None else "channel"
    qscheme = getattr(torch, f"per_{kind}_{scheme}")
    kwargs = dict(dtype=qdtype, qscheme=qscheme, quant_min=qmin, quant_max=qmax, factory_kwargs={"dtype": dtype})
    if axis is None:
        return MinMaxObserver(**kwargs)
    return PerChannelMinMaxObserver(ch_axis=axis, **kwargs)


def torch_qparams(x, bits, scheme, axis, dtype=torch.float64):
    obs = observer(bits, scheme, axis, dtype)
    obs(torch.tensor(x))
    scale, zero_point = obs.calculate_qparams()
    return scale.double().numpy(), zero_point.numpy()


@SETTINGS
@given(shapes, bit_widths, schemes, seeds, st.floats(-3, 3))
def test_choose_qparams_matches_minmax_observer(shape, bits, scheme, seed, log_shift):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape) * 10.0**log_shift + rng.normal() * 10.0**log_shift  # off-centre data
    scale, zp = C.choose_qparams(x, bits, scheme)
    t_scale, t_zp = torch_qparams(x, bits, scheme, None)
    np.testing.assert_allclose(scale, t_scale[0], rtol=1e-15, atol=0)
    assert zp == t_zp[0]


@SETTINGS
@given(shapes_2d_up, st.data(), bit_widths, schemes, seeds)
def test_per_channel_qparams_match_per_channel_observer(shape, data, bits, scheme, seed):
    axis = data.draw(st.integers(0, len(shape) - 1))
    rng = np.random.default_rng(seed)
    offsets = rng.normal(size=shape[axis]).reshape([-1 if d == axis else 1 for d in range(len(shape))])
    x = rng.normal(size=shape) + offsets  # channels centred in different places
    scale, zp = C.choose_qparams(x, bits, scheme, axis=axis)
    t_scale, t_zp = torch_qparams(x, bits, scheme, axis)
    assert scale.shape == zp.shape == tuple(n if d == axis else 1 for d, n in enumerate(shape))
    np.testing.assert_allclose(scale.ravel(), t_scale, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(zp.ravel(), t_zp)


def test_qparams_match_default_float32_observer():
    x = np.random.default_rng(0).normal(size=(8, 5)).astype(np.float32)
    for scheme in ("symmetric", "affine"):
        scale, zp = C.choose_qparams(x, 8, scheme)
        t_scale, t_zp = torch_qparams(x, 8, scheme, None, dtype=torch.float32)
        np.testing.assert_allclose(scale, t_scale[0], rtol=1e-6)
        assert zp == t_zp[0]


def test_symmetric_and_affine_qparams_by_hand():
    x = np.array([-1.0, 0.25, 3.0])
    # symmetric 8-bit: scale = max|x| / ((127 − (−128)) / 2) = 3 / 127.5
    assert C.choose_qparams(x, 8, "symmetric") == (3 / 127.5, 0)
    # affine 4-bit: scale = (3 − (−1)) / 15, zero_point = 0 − round(−1 / scale) = round(3.75) = 4
    scale, zp = C.choose_qparams(x, 4, "affine")
    assert scale == 4 / 15 and zp == 4
    # an all-positive tensor still includes 0 in its range: zero_point = q_min
    assert C.choose_qparams(np.array([2.0, 5.0]), 8, "affine")[1] == 0
    # an all-zero tensor gets scale = float32 eps rather than 0
    assert C.choose_qparams(np.zeros(3), 8, "symmetric")[0] == np.finfo(np.float32).eps


def float32_scale(rng, size=None):
    """Scales torch can hold exactly (it stores them as float32)."""
    scale = np.asarray(rng.uniform(1e-3, 1.0, size=size), dtype=np.float32).astype(np.float64)
    return float(scale) if size is None else scale


def given_qparams_case(seed, shape, bits, scheme, axis):
    """(x, scale, zero_point, expected codes) for quantising with given parameters.

    Per tensor (axis None) scale/zero_point are a float and an int, per channel (C,) arrays.
    x is built from integer codes (a few beyond the range, to exercise clamping) plus an offset
    in [−0.4, 0.4] steps: 0.1 step away from every half-way point, where torch's float32
    x·(1/scale) and our float64 x/scale could round differently. Expected: clip(codes, q_min, q_max).
    """
    rng = np.random.default_rng(seed)
    qmin, qmax = C.qrange(bits, scheme)
    n = None if axis is None else shape[axis]
    scale = float32_scale(rng, n)
    zp = rng.integers(qmin, qmax + 1, size=n) if scheme == "affine" else np.zeros(n or (), np.int64)
    bshape = () if axis is None else [n if d == axis else 1 for d in range(len(shape))]
    codes = rng.integers(qmin - 3, qmax + 4, size=shape)
    x = (codes - zp.reshape(bshape) + rng.uniform(-0.4, 0.4, size=shape)) * np.reshape(scale, bshape)
    if axis is None:
        scale, zp = float(scale), int(zp)
    return x.astype(np.float32), scale, zp, np.clip(codes, qmin, qmax)


def draw_axis(data, shape):
    return data.draw(st.sampled_from([None, *range(len(shape))]), label="axis")


@SETTINGS
@given(shapes, st.data(), schemes, seeds)
def test_quantize_matches_torch_quantize_per_tensor_and_per_channel(shape, data, scheme, seed):
    axis = draw_axis(data, shape)
    x, scale, zp, expected = given_qparams_case(seed, shape, 8, scheme, axis)
    q, s, z = C.quantize(x, 8, scheme, axis=axis, scale=scale, zero_point=zp)
    qdtype = torch.qint8 if scheme == "symmetric" else torch.quint8
    if axis is None:
        tq = torch.quantize_per_tensor(torch.tensor(x), scale, zp, qdtype)
    else:
        tq = torch.quantize_per_channel(torch.tensor(x), torch.tensor(scale), torch.tensor(zp), axis, qdtype)
    np.testing.assert_array_equal(q, tq.int_repr().numpy())
    np.testing.assert_array_equal(q, expected)
    # torch dequantises in float32: agree to half a float32 ulp
    np.testing.assert_allclose(tq.dequantize().double().numpy(), C.dequantize(q, s, z), rtol=2.0**-24, atol=0)


@SETTINGS
@given(shapes, st.data(), bit_widths, schemes, seeds)
def test_fake_quantize_matches_torch(shape, data, bits, scheme, seed):
    axis = draw_axis(data, shape)
    x, scale, zp, _ = given_qparams_case(seed, shape, bits, scheme, axis)
    qmin, qmax = C.qrange(bits, scheme)
    ours = C.fake_quantize(x, bits, scheme, axis=axis, scale=scale, zero_point=zp)
    if axis is None:
        theirs = torch.fake_quantize_per_tensor_affine(torch.tensor(x), scale, zp, qmin, qmax)
    else:
        scale32, zp32 = torch.tensor(scale, dtype=torch.float32), torch.tensor(zp, dtype=torch.int32)
        theirs = torch.fake_quantize_per_channel_affine(torch.tensor(x), scale32, zp32, axis, qmin, qmax)
    # torch fake-quantises in float32: agree to half a float32 ulp
    np.testing.assert_allclose(theirs.double().numpy(), ours, rtol=2.0**-24, atol=0)


def test_rounding_is_half_to_even_like_torch():
    # x / scale = ±0.5, ±1.5, ±2.5 exactly (scale a power of two): rounds to 0, ±2, ±2
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5]) * 0.25
    q, _, _ = C.quantize(x, 8, "symmetric", scale=0.25)
    np.testing.assert_array_equal(q, [0, 2, 2, 0, -2, -2])
    tq = torch.quantize_per_tensor(torch.tensor(x, dtype=torch.float32), 0.25, 0, torch.qint8)
    np.testing.assert_array_equal(q, tq.int_repr().numpy())
    fq = torch.fake_quantize_per_tensor_affine(torch.tensor(x), 0.25, 0, -128, 127).numpy()
    np.testing.assert_array_equal(C.fake_quantize(x, 8, "symmetric", scale=0.25), fq)


@SETTINGS
@given(shapes_2d_up, st.data(), bit_widths, schemes, seeds)
def test_round_trip_error_at_most_half_a_step(shape, data, bits, scheme, seed):
    axis = data.draw(st.sampled_from([None, *range(len(shape))]))
    rng = np.random.default_rng(seed)
    x = rng.standard_t(3, size=shape)  # heavy tails: the extremes must still fit
    q, scale, zp = C.quantize(x, bits, scheme, axis=axis)
    qmin, qmax = C.qrange(bits, scheme)
    assert q.min() >= qmin and q.max() <= qmax
    err = np.abs(C.dequantize(q, scale, zp) - x)
    assert np.all(err <= scale / 2 + 1e-15 * np.abs(x))  # plus float64 round-off in x / scale
    assert np.all(C.fake_quantize(np.zeros_like(x), bits, scheme, axis=axis, scale=scale, zero_point=zp) == 0)


def test_error_decreases_with_bits_and_per_channel_helps():
    rng = np.random.default_rng(1)
    # rows on very different scales: one scale per row beats one scale for the tensor
    w = rng.normal(size=(16, 64)) * np.logspace(-2, 0, 16)[:, None]
    for scheme in ("symmetric", "affine"):
        errors = [C.quantization_error(w, b, scheme) for b in range(2, 17)]
        assert all(e1 > e2 for e1, e2 in zip(errors, errors[1:]))
        assert C.quantization_error(w, 4, scheme, axis=0) < C.quantization_error(w, 4, scheme)
        # the smallest row is nearly all rounded to 0 by the tensor-wide scale, not by its own
        row0_tensor = np.abs(C.fake_quantize(w, 4, scheme) - w)[0].mean()
        row0_channel = np.abs(C.fake_quantize(w, 4, scheme, axis=0) - w)[0].mean()
        assert row0_channel < 0.25 * row0_tensor
    # uniform rounding noise: RMS ≈ scale / sqrt(12) for fine steps
    x = rng.uniform(-1, 1, size=20000)
    scale, _ = C.choose_qparams(x, 8, "symmetric")
    assert abs(C.quantization_error(x, 8) / (scale / np.sqrt(12)) - 1) < 0.05


def test_integer_dtypes():
    x = np.linspace(-1, 1, 7)
    assert C.quantize(x, 8, "symmetric")[0].dtype == np.int8
    assert C.quantize(x, 8, "affine")[0].dtype == np.uint8
    assert C.quantize(x, 9, "symmetric")[0].dtype == np.int16
    assert C.quantize(x, 16, "affine")[0].dtype == np.uint16


def test_model_size_bytes():
    layers = [np.zeros((10, 100)), np.zeros(10)]  # 1010 weights
    assert C.model_size_bytes(layers, 32) == 4040
    assert C.model_size_bytes(layers, 8) == 1010
    assert C.model_size_bytes(layers, 4) == 505
    assert C.model_size_bytes([np.zeros(3)], 3) == 2  # 9 bits round up to 2 bytes


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_bad_sparsity(bad):
    with pytest.raises(ValueError, match=rf"magnitude_mask: sparsity must be in \[0.0, 1.0\], got {bad}"):
        C.magnitude_mask(np.ones(3), bad)
    with pytest.raises(ValueError, match=r"global_magnitude_masks: sparsity must be in \[0.0, 1.0\]"):
        C.global_magnitude_masks([np.ones(3)], bad)
    with pytest.raises(ValueError, match=r"channel_prune_mask: fraction must be in \[0.0, 1.0\]"):
        C.channel_prune_mask(np.ones((3, 2)), bad)


@pytest.mark.parametrize("bits", [1, 17])
def test_bad_bits(bits):
    with pytest.raises(ValueError, match=rf"quantize: bits must be in \[2, 16\], got {bits}"):
        C.quantize(np.ones(3), bits)
    with pytest.raises(ValueError, match=rf"choose_qparams: bits must be in \[2, 16\], got {bits}"):
        C.choose_qparams(np.ones(3), bits)
    with pytest.raises(TypeError, match="fake_quantize: bits must be an integer, got float"):
        C.fake_quantize(np.ones(3), 8.0)


def test_bad_axis():
    with pytest.raises(ValueError, match=r"quantize: axis must be in \[-2, 1\] for x of shape \(3, 4\), got 2"):
        C.quantize(np.ones((3, 4)), axis=2)
    with pytest.raises(ValueError, match=r"channel_prune_mask: axis must be in \[-2, 1\] for w of shape \(3, 4\), got -3"):
        C.channel_prune_mask(np.ones((3, 4)), 0.5, axis=-3)


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="quantize: scheme must be one of symmetric, affine, got 'asym'"):
        C.quantize(np.ones(3), scheme="asym")
    with pytest.raises(ValueError, match="quantize: x must be finite"):
        C.quantize(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match=r"quantize: zero_point must be in \[0, 255\], got 256..256"):
        C.quantize(np.ones(3), 8, "affine", scale=0.1, zero_point=256)
    with pytest.raises(ValueError, match="quantize: scale must be positive and finite"):
        C.quantize(np.ones(3), scale=0.0)
    with pytest.raises(ValueError, match=r"quantize: scale and zero_point must have 3 entries \(one per channel\)"):
        C.quantize(np.ones((3, 2)), axis=0, scale=[0.1, 0.2])
    with pytest.raises(ValueError, match="quantize: zero_point must be None when scale is None"):
        C.quantize(np.ones(3), zero_point=0)
    with pytest.raises(TypeError, match="dequantize: q must be an integer array, got dtype float64"):
        C.dequantize(np.ones(3), 0.1)
    with pytest.raises(ValueError, match=r"channel_prune_mask: w must have at least 2 dimensions .* got shape \(4,\)"):
        C.channel_prune_mask(np.ones(4), 0.5)
    with pytest.raises(ValueError, match=r"channel_prune_mask: norm must be in \(0.0, inf\], got -1.0"):
        C.channel_prune_mask(np.ones((2, 2)), 0.5, norm=-1)
    with pytest.raises(TypeError, match="global_magnitude_masks: weights must be a non-empty list of arrays, got ndarray"):
        C.global_magnitude_masks(np.ones(3), 0.5)
    with pytest.raises(ValueError, match=r"apply_masks: masks\[0\] must have the shape of weights\[0\] \(3,\), got \(2,\)"):
        C.apply_masks([np.ones(3)], [np.ones(2)])
    with pytest.raises(ValueError, match=r"magnitude_mask: w must not be empty"):
        C.magnitude_mask(np.ones(0), 0.5)
