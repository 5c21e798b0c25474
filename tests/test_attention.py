"""dlnotes.layers.{attention, layernorm, embedding, positional, transformer} and
dlnotes.models.transformer against torch.nn (float64), and against central differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from _layer_parity import assert_gradients_numerically, assert_matches_torch, assert_state_matches
from testkit import raises_exactly
from dlnotes.layers import (Embedding, LayerNorm, MultiheadAttention, TransformerEncoderLayer, causal_mask,
                            scaled_dot_product_attention, sinusoidal_encoding)
from dlnotes.layers.attention import attention_weights, softmax_backward
from dlnotes.models import SequenceTransformer

RTOL, ATOL = 1e-10, 1e-12


def rng(seed=0):
    return np.random.default_rng(seed)


class SelfAttention(nn.MultiheadAttention):
    """torch's MultiheadAttention called as self-attention with the masks in ``masks``, returning the
    output only (same parameter names as the parent)."""

    masks = {}

    def forward(self, x):
        return super().forward(x, x, x, **self.masks)[0]


def self_attention(module, **masks):
    """``module`` (an nn.MultiheadAttention) as a SelfAttention with these masks, sharing its parameters."""
    module.__class__ = SelfAttention
    module.masks = masks
    return module


class WithMasks:
    """A dlnotes layer whose forward always gets the keyword arguments ``masks``."""

    def __init__(self, layer, **masks):
        self.layer, self.masks = layer, masks

    def forward(self, x, *, train=True):
        return self.layer.forward(x, train=train, **self.masks)

    def __getattr__(self, name):  # backward, named_parameters, gradients, ...
        return getattr(self.layer, name)


def torch_mha(e=8, h=2, bias=True, seed=0):
    torch.manual_seed(seed)
    module = nn.MultiheadAttention(e, h, bias=bias, batch_first=True).double()
    with torch.no_grad():  # torch initialises the biases at 0: draw them so their gradients matter
        for p in module.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return module


# ---- scaled dot-product attention ----------------------------------------------------------------

@pytest.mark.parametrize("mask_kind", [None, "bool", "float"])
def test_scaled_dot_product_attention_equals_torch(mask_kind):
    r = rng(1)
    q, k, v = r.standard_normal((2, 3, 5, 4)), r.standard_normal((2, 3, 6, 4)), r.standard_normal((2, 3, 6, 7))
    mask = {None: None, "bool": r.random((5, 6)) < 0.3, "float": r.standard_normal((5, 6))}[mask_kind]
    if mask_kind == "bool":
        mask[:, 0] = False  # every query keeps a key
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    t_mask = None if mask is None else torch.from_numpy(~mask if mask_kind == "bool" else mask)  # torch: True = attend
    expected = F.scaled_dot_product_attention(*(torch.from_numpy(a) for a in (q, k, v)), attn_mask=t_mask)
    np.testing.assert_allclose(out, expected.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-14)
    if mask_kind == "bool":
        assert np.all(weights[..., mask] == 0.0)


def test_softmax_backward_equals_autograd():
    r = rng(2)
    s, g = r.standard_normal((3, 4, 5)), r.standard_normal((3, 4, 5))
    st = torch.tensor(s, requires_grad=True)
    torch.softmax(st, dim=-1).backward(torch.from_numpy(g))
    a = attention_weights(s[..., None, :, :1] * 0 + 1, s[..., None, :, :1] * 0 + 1)  # uniform weights, shape check
    assert np.allclose(a, 1.0 / a.shape[-1])
    weights = np.exp(s) / np.exp(s).sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(softmax_backward(weights, g), st.grad.numpy(), rtol=RTOL, atol=ATOL)


def test_causal_mask_is_torchs_square_subsequent_mask():
    expected = nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64).numpy()
    np.testing.assert_array_equal(np.where(causal_mask(5), -np.inf, 0.0), expected)


def test_attention_refuses_a_fully_masked_query():
    q = np.ones((2, 3))
    with raises_exactly(ValueError, "attention_weights: mask must leave every query at least one key, "
                                    "got a fully masked row"):
        scaled_dot_product_attention(q, q, q, np.array([[True] * 2, [False] * 2]))
    with raises_exactly(ValueError, "scaled_dot_product_attention: q, k, v must be (*, T_q, d), (*, T_k, d), "
                                    "(*, T_k, d_v), got shapes (2, 3), (2, 4), (2, 3)"):
        scaled_dot_product_attention(q, np.ones((2, 4)), q)


# ---- MultiheadAttention --------------------------------------------------------------------------

@pytest.mark.parametrize("heads, bias", [(1, True), (2, True), (4, False)])
def test_mha_matches_torch(heads, bias):
    module = torch_mha(8, heads, bias)
    layer = MultiheadAttention.from_torch(module)
    assert_state_matches(layer, module)
    x = rng(3).standard_normal((3, 5, 8))
    _, weights = module(*(torch.from_numpy(x),) * 3, average_attn_weights=False)
    assert_matches_torch(layer, self_attention(module), x)
    np.testing.assert_allclose(layer.attn_weights, weights.detach().numpy(), rtol=RTOL, atol=ATOL)
    assert layer.attn_weights.shape == (3, heads, 5, 5)


def _masks(n=3, t=5, heads=2, seed=4):
    r = rng(seed)
    padding = np.zeros((n, t), dtype=bool)
    padding[0, 3:] = True            # sequence 0 has 3 tokens, sequence 1 has 4
    padding[1, 4:] = True
    return {
        "causal bool": {"attn_mask": causal_mask(t)},
        "causal float": {"attn_mask": np.where(causal_mask(t), -np.inf, 0.0)},
        "float bias": {"attn_mask": r.standard_normal((t, t))},
        "per-head bool": {"attn_mask": np.tile(causal_mask(t), (n * heads, 1, 1))},
        "padding bool": {"key_padding_mask": padding},
        "padding float": {"key_padding_mask": np.where(padding, -np.inf, 0.0)},
        "causal + padding": {"attn_mask": causal_mask(t), "key_padding_mask": padding},
    }


@pytest.mark.parametrize("name", list(_masks()))
def test_mha_masks_match_torch(name):
    masks = _masks()[name]
    module = torch_mha(8, 2)
    layer = MultiheadAttention.from_torch(module)
    t_masks = {key: torch.from_numpy(value) for key, value in masks.items()}
    x = rng(5).standard_normal((3, 5, 8))
    assert_matches_torch(WithMasks(layer, **masks), self_attention(module, **t_masks), x)
    if "key_padding_mask" in masks and masks["key_padding_mask"].dtype == bool:
        blocked = masks["key_padding_mask"][:, None, None, :] & np.ones((3, 2, 5, 5), dtype=bool)
        assert np.all(layer.attn_weights[blocked] == 0.0)


@pytest.mark.parametrize("masks", [{}, {"attn_mask": causal_mask(4)}])
def test_mha_gradients_numerically(masks):
    layer = MultiheadAttention(6, 3, rng=rng(6))
    for p in layer.parameters():
        p += 0.1 * rng(7).standard_normal(p.shape)
    assert_gradients_numerically(layer, rng(8).standard_normal((2, 4, 6)),
                                 forward=lambda v: layer.forward(v, **masks))


def test_mha_dropout_is_identity_in_eval_and_gradients_hold_with_a_fixed_mask():
    module = torch_mha(8, 2)
    module.dropout = 0.3
    layer = MultiheadAttention.from_torch(module, rng=rng(9))
    x = rng(10).standard_normal((2, 5, 8))
    assert_matches_torch(layer, self_attention(module), x, train=False)
    y_train = layer.forward(x, train=True)
    assert not np.allclose(y_train, layer.forward(x, train=False))

    def forward(v):
        layer._drop.rng = rng(11)   # the same attention-dropout mask at every call
        return layer.forward(v, train=True)

    assert_gradients_numerically(layer, x, forward=forward)


def test_mha_to_torch_round_trip():
    layer = MultiheadAttention(8, 2, rng=rng(12))
    module = layer.to_torch()
    assert isinstance(module, nn.MultiheadAttention) and module.batch_first
    assert_state_matches(layer, module)
    x = rng(13).standard_normal((2, 3, 8))
    np.testing.assert_allclose(layer.forward(x), self_attention(module)(torch.from_numpy(x)).detach().numpy(),
                               rtol=RTOL, atol=ATOL)


def test_mha_refuses_bad_arguments_and_changes_nothing():
    layer = MultiheadAttention(8, 2, rng=rng(14))
    before = layer.state_dict()
    x = np.ones((2, 3, 8))
    with raises_exactly(ValueError, "MultiheadAttention: embed_dim must be divisible by num_heads=3, got 8"):
        MultiheadAttention(8, 3, rng=rng())
    with raises_exactly(TypeError, "MultiheadAttention: bias must be a bool, got int"):
        MultiheadAttention(8, 2, 1, rng=rng())
    with raises_exactly(ValueError, "MultiheadAttention.forward: x must be (N, T, 8), got shape (2, 3, 7)"):
        layer.forward(np.ones((2, 3, 7)))
    with raises_exactly(ValueError, "MultiheadAttention.forward: attn_mask must have shape (3, 3), got (4, 4)"):
        layer.forward(x, attn_mask=causal_mask(4))
    with raises_exactly(ValueError, "MultiheadAttention.forward: key_padding_mask must have shape (2, 3), got (3,)"):
        layer.forward(x, key_padding_mask=np.zeros(3, dtype=bool))
    with raises_exactly(TypeError, "MultiheadAttention.forward: attn_mask must be a boolean or float array, "
                                   "got dtype int64"):
        layer.forward(x, attn_mask=np.zeros((3, 3), dtype=np.int64))
    with raises_exactly(ValueError, "MultiheadAttention.forward: attn_mask must hold no NaN or +inf, got some"):
        layer.forward(x, attn_mask=np.full((3, 3), np.nan))
    with raises_exactly(ValueError, "MultiheadAttention.forward: attn_mask and key_padding_mask must leave every "
                                    "query at least one key, got a query with all keys blocked"):
        layer.forward(x, key_padding_mask=np.ones((2, 3), dtype=bool))
    assert layer.attn_weights is None
    with raises_exactly(RuntimeError, "MultiheadAttention.backward: call forward before backward"):
        layer.backward(x)
    with raises_exactly(ValueError, "MultiheadAttention.from_torch: only batch_first=True is supported, got False"):
        MultiheadAttention.from_torch(nn.MultiheadAttention(8, 2))
    with raises_exactly(TypeError, "MultiheadAttention.from_torch: rng must be a numpy.random.Generator when "
                                   "dropout > 0, got None"):
        MultiheadAttention.from_torch(nn.MultiheadAttention(8, 2, dropout=0.1, batch_first=True))
    after = layer.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)


# ---- LayerNorm -----------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, normalized", [((4, 6), 6), ((2, 3, 5), (5,)), ((2, 3, 4, 5), (4, 5))])
def test_layernorm_matches_torch(shape, normalized):
    module = nn.LayerNorm(normalized, eps=1e-3).double()
    with torch.no_grad():
        module.weight.normal_()
        module.bias.normal_()
    layer = LayerNorm.from_torch(module)
    x = 3.0 + 2.0 * rng(15).standard_normal(shape)
    y = assert_matches_torch(layer, module, x)
    axes = tuple(range(-len(layer.normalized_shape), 0))
    x_hat = (y - layer.params["bias"]) / layer.params["weight"]
    np.testing.assert_allclose(x_hat.mean(axis=axes), 0.0, atol=1e-12)   # each example standardised
    assert_gradients_numerically(layer, x)


def test_layernorm_without_affine_and_its_refusals():
    layer = LayerNorm((3,), elementwise_affine=False)
    assert layer.params == {}
    assert_matches_torch(layer, nn.LayerNorm(3, elementwise_affine=False).double(), rng(16).standard_normal((4, 3)))
    with raises_exactly(ValueError, "LayerNorm.forward: x must be (*, 3), got shape (4, 2)"):
        layer.forward(np.ones((4, 2)))
    with raises_exactly(TypeError, "LayerNorm: normalized_shape must be an int or a non-empty tuple of ints, got ()"):
        LayerNorm(())
    with raises_exactly(ValueError, "LayerNorm: eps must be in (0.0, inf], got 0.0"):
        LayerNorm(3, eps=0.0)
    with raises_exactly(ValueError, "LayerNorm.from_torch: only bias=True is supported, got a module without bias"):
        LayerNorm.from_torch(nn.LayerNorm(3, bias=False))


def test_layernorm_does_not_mix_examples_unlike_batchnorm():
    layer = LayerNorm(4)
    x = rng(17).standard_normal((5, 4))
    alone = layer.forward(x[:1])
    together = layer.forward(x)[:1]
    np.testing.assert_array_equal(alone, together)


# ---- Embedding -----------------------------------------------------------------------------------

def test_embedding_matches_torch_with_repeated_tokens():
    torch.manual_seed(0)
    module = nn.Embedding(7, 3).double()
    layer = Embedding.from_torch(module)
    idx = np.array([[0, 3, 3], [6, 3, 1]])
    g = rng(18).standard_normal((2, 3, 3))
    out = module(torch.from_numpy(idx))
    out.backward(torch.from_numpy(g))
    np.testing.assert_array_equal(layer.forward(idx), out.detach().numpy())
    assert layer.backward(g) is None
    np.testing.assert_allclose(layer.grads["weight"], module.weight.grad.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(layer.grads["weight"][3], g[0, 1] + g[0, 2] + g[1, 1])  # used three times
    assert_state_matches(layer, layer.to_torch())


def test_embedding_refusals():
    layer = Embedding(5, 2, rng=rng())
    with raises_exactly(TypeError, "Embedding.forward: idx must be an integer array, got dtype float64"):
        layer.forward(np.array([0.0, 1.0]))
    with raises_exactly(ValueError, "Embedding.forward: idx must be in [0, 5), got values from -1 to 5"):
        layer.forward(np.array([-1, 5]))
    with raises_exactly(ValueError, "Embedding.from_torch: only padding_idx=None is supported, got padding_idx=0"):
        Embedding.from_torch(nn.Embedding(5, 2, padding_idx=0))
    with raises_exactly(TypeError, "Embedding: rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                                   "got NoneType"):
        Embedding(5, 2, rng=None)


# ---- positional encoding -------------------------------------------------------------------------

def test_sinusoidal_encoding_values_and_relative_shift():
    pe = sinusoidal_encoding(50, 8)
    # by hand: position 0 is (sin 0, cos 0, ...) = (0, 1, 0, 1, ...); pair 0 turns at ω_0 = 1
    np.testing.assert_array_equal(pe[0], [0, 1, 0, 1, 0, 1, 0, 1])
    np.testing.assert_allclose(pe[:, 0], np.sin(np.arange(50)), rtol=0, atol=1e-15)
    np.testing.assert_allclose(pe[7, 5], np.cos(7 * 10000 ** (-4 / 8)), rtol=1e-15)
    # PE[t + k] = R_k PE[t] with R_k a block rotation that depends on k only
    k = 3
    omega = 10000.0 ** (-np.arange(0, 8, 2) / 8)
    rotated = np.empty_like(pe[:-k])
    c, s = np.cos(k * omega), np.sin(k * omega)
    rotated[:, 0::2] = pe[:-k, 0::2] * c + pe[:-k, 1::2] * s
    rotated[:, 1::2] = pe[:-k, 1::2] * c - pe[:-k, 0::2] * s
    np.testing.assert_allclose(rotated, pe[k:], atol=1e-12)
    with raises_exactly(ValueError, "sinusoidal_encoding: d_model must be even, got 5"):
        sinusoidal_encoding(3, 5)


# ---- TransformerEncoderLayer ---------------------------------------------------------------------

def torch_block(activation="relu", norm_first=False, dropout=0.0, seed=0):
    torch.manual_seed(seed)
    module = nn.TransformerEncoderLayer(8, 2, 16, dropout, activation, batch_first=True,
                                        norm_first=norm_first).double()
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "norm" in name or "bias" in name:
                p.add_(0.1 * torch.randn_like(p))
    return module


class MaskedBlock(nn.TransformerEncoderLayer):
    """A TransformerEncoderLayer that applies the masks in ``masks`` (same parameter names)."""

    masks = {}

    def forward(self, x):
        return super().forward(x, **self.masks)


def masked_block(module, **masks):
    module.__class__ = MaskedBlock
    module.masks = masks
    return module


@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_matches_torch(activation, norm_first):
    module = torch_block(activation, norm_first)
    layer = TransformerEncoderLayer.from_torch(module)
    assert (layer.activation, layer.norm_first, layer.dim_feedforward) == (activation, norm_first, 16)
    assert_state_matches(layer, module)
    x = rng(19).standard_normal((2, 5, 8))
    assert_matches_torch(layer, module, x)
    padding = np.zeros((2, 5), dtype=bool)
    padding[1, 3:] = True
    masks = {"src_mask": causal_mask(5), "src_key_padding_mask": padding}
    assert_matches_torch(WithMasks(layer, **masks),
                         masked_block(module, **{k: torch.from_numpy(v) for k, v in masks.items()}), x)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_gradients_numerically(norm_first):
    layer = TransformerEncoderLayer(6, 2, 10, dropout=0.0, activation="gelu", norm_first=norm_first, rng=rng(20))
    for p in layer.parameters():
        p += 0.1 * rng(21).standard_normal(p.shape)
    assert_gradients_numerically(layer, rng(22).standard_normal((2, 4, 6)),
                                 forward=lambda v: layer.forward(v, src_mask=causal_mask(4)))


def test_encoder_layer_dropout_eval_matches_torch_and_train_gradients_hold():
    module = torch_block(dropout=0.2)
    layer = TransformerEncoderLayer.from_torch(module, rng=rng(23))
    x = rng(24).standard_normal((2, 5, 8))
    assert_matches_torch(layer, module, x, train=False)

    def forward(v):
        for drop in [*layer.drops, layer.self_attn._drop]:
            drop.rng = rng(25)
        return layer.forward(v, train=True)

    assert_gradients_numerically(layer, x, forward=forward)


def test_encoder_layer_round_trip_and_refusals():
    layer = TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", norm_first=True, rng=rng(26))
    module = layer.to_torch()
    assert module.norm_first and module.self_attn.batch_first and module.activation_relu_or_gelu == 2
    assert_state_matches(layer, module)
    with raises_exactly(ValueError, "TransformerEncoderLayer.forward: x must be (N, T, 8), got shape (2, 8)"):
        layer.forward(np.ones((2, 8)))
    with raises_exactly(ValueError, "TransformerEncoderLayer: activation must be one of relu, gelu, got 'tanh'"):
        TransformerEncoderLayer(8, 2, activation="tanh", rng=rng())
    with raises_exactly(ValueError, "TransformerEncoderLayer.from_torch: only batch_first=True is supported, "
                                    "got batch_first=False"):
        TransformerEncoderLayer.from_torch(nn.TransformerEncoderLayer(8, 2, 16))
    with raises_exactly(TypeError, "TransformerEncoderLayer.from_torch: rng must be a numpy.random.Generator when "
                                   "dropout > 0, got None"):
        TransformerEncoderLayer.from_torch(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True))


# ---- SequenceTransformer -------------------------------------------------------------------------

@pytest.mark.parametrize("causal, many_to_many, norm_first", [(False, False, False), (True, False, True),
                                                              (True, True, False)])
def test_sequence_transformer_matches_its_torch_twin(causal, many_to_many, norm_first):
    model = SequenceTransformer(2, 8, 2, 16, num_layers=2, output_size=3, causal=causal,
                                many_to_many=many_to_many, norm_first=norm_first, rng=rng(27))
    twin = model.to_torch()
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in twin.named_parameters()]
    assert_matches_torch(model, twin, rng(28).standard_normal((3, 6, 2)))


def test_causal_sequence_transformer_ignores_the_future():
    model = SequenceTransformer(2, 8, 2, 16, causal=True, many_to_many=True, rng=rng(29))
    x = rng(30).standard_normal((1, 6, 2))
    changed = x.copy()
    changed[0, 4:] += 1.0
    np.testing.assert_array_equal(model.forward(x)[:, :4], model.forward(changed)[:, :4])
    assert not np.allclose(model.forward(x)[:, 4:], model.forward(changed)[:, 4:])


def test_sequence_transformer_gradients_numerically():
    model = SequenceTransformer(2, 4, 2, 6, causal=True, rng=rng(31))
    assert_gradients_numerically(model, rng(32).standard_normal((2, 5, 2)))
