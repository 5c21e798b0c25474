"""Checkers for chapter 6 (neural-network models). The exercise data live here so the notebook
and the checker read the same numbers: ``from dlnotes.exercises.ch6 import CONV_61``."""

import numpy as np

from dlnotes.activations import sigmoid
from dlnotes.exercises import checker
from dlnotes.exercises.answers import call, close, first_hint, integers
from dlnotes.layers.conv import output_size
from dlnotes.layers.recurrent import GRU

# 6.1: one convolution's geometry (ints apply to both axes), on an input of height × width.
CONV_61 = {"height": 32, "width": 25, "kernel_size": 5, "stride": 2, "padding": 1, "dilation": 2}
# 6.2: a 5×5 convolution from 3 to 16 channels (bias, padding 2) on 32×32 images, and the dense
# layer (bias) that maps the same flattened input to the same flattened output.
CONV_62 = {"in_channels": 3, "out_channels": 16, "kernel_size": 5, "image_size": 32}
# 6.3: a stack of sliding windows (kind, kernel, stride, dilation), input first.
STACK_63 = [("conv", 3, 1, 1), ("conv", 3, 2, 1), ("maxpool", 2, 2, 1), ("conv", 3, 1, 2)]
# 6.4: the GRU, input x_t and previous state h_{t−1} the reader's function is called with.
GRU_64 = {"input_size": 3, "hidden_size": 4, "batch": 5, "seed": 64}
# 6.5: the (μ, log s²) the reader's KL function is called with: 4 examples, 3 latent dimensions.
KL_MU = np.array([[0.0, 0.0, 0.0], [1.0, -0.5, 0.2], [0.3, 2.0, -1.0], [-0.7, 0.1, 0.4]])
KL_LOGVAR = np.array([[0.0, 0.0, 0.0], [-1.0, 0.5, 0.0], [0.2, -2.0, 1.0], [-0.3, 0.7, -0.6]])
# 6.6: the Transformer block whose parameters the reader counts.
BLOCK_66 = {"d_model": 32, "nhead": 4, "dim_feedforward": 64}
# 6.7: the shapes and seed of the (q, k, v) the reader's causal attention is called with.
ATTN_67 = {"length": 5, "d_k": 4, "d_v": 3, "seed": 67}


# --- 6.1 output size --------------------------------------------------------------------------

def _out(size, k, s, p, d, rounding=np.floor, plus_one=1):
    return int(rounding((size + 2 * p - d * (k - 1) - 1) / s)) + plus_one


@checker("6.1")
def conv_output_size(answer):
    """Answer: (H_out, W_out) of the convolution CONV_61."""
    value = integers(answer, 2)
    if value is None:
        return False, "Give a pair of integers (H_out, W_out)."
    c = CONV_61
    geometry = [(c[key],) * 2 for key in ("kernel_size", "stride", "padding", "dilation")]
    expected = output_size((1, 1, c["height"], c["width"]), *geometry, where="6.1")
    if value == expected:
        return True, "The dilated kernel spans d·(k − 1) + 1 pixels; the rest is counting strides."
    k, s, p, d = c["kernel_size"], c["stride"], c["padding"], c["dilation"]
    sizes = (c["height"], c["width"])
    hint = first_hint(value, [
        (tuple(_out(n, k, s, p, 1) for n in sizes), "A dilated kernel covers more than k pixels: use the dilation."),
        (tuple(_out(n, k, s, p, d, np.ceil) for n in sizes), "Frameworks round the division down, not up."),
        (tuple(_out(n, k, s, p, d, plus_one=0) for n in sizes), "Off by one: count the first window position too."),
        (tuple(_out(n, k, s, p / 2, d) for n in sizes), "Padding is added on both sides of the image."),
        (tuple(_out(n, k, 1, p, d) for n in sizes), "The stride is missing: the window jumps s pixels at a time."),
        (expected[::-1], "Right numbers, wrong order: (H_out, W_out)."),
    ])
    return False, hint or "Not these sizes. Write the output-size formula for each axis separately."


# --- 6.2 parameter counts ---------------------------------------------------------------------

@checker("6.2")
def conv_vs_dense_parameters(answer):
    """Answer: (parameters of the conv layer, parameters of the equivalent dense layer) for CONV_62."""
    value = integers(answer, 2)
    if value is None:
        return False, "Give a pair of integers (conv parameters, dense parameters)."
    c_in, c_out, k, s = (CONV_62[key] for key in ("in_channels", "out_channels", "kernel_size", "image_size"))
    conv, dense = c_out * c_in * k * k + c_out, (c_in * s * s) * (c_out * s * s) + c_out * s * s
    conv_ok, dense_ok = value[0] == conv, value[1] == dense
    if conv_ok and dense_ok:
        return True, ("Parameter sharing: the convolution's count does not depend on the image size, while the "
                      "dense layer's grows with the square of the number of pixels.")
    if value == (dense, conv):
        return False, "Right numbers, wrong order: (conv, dense)."
    if not conv_ok:
        hint = {c_out * k * k + c_out: "Each kernel spans all input channels: its weight has a C_in axis too.",
                c_out * c_in * k * k: "The conv layer has one bias per output channel as well.",
                c_in * k * k + c_out: "There is one C_in × k × k kernel per output channel, not one in all."}
        return False, hint.get(value[0], "The conv count is off: count the weight tensor's entries, then the biases.")
    if value[1] == dense - c_out * s * s:
        return False, "The conv count is right. The dense layer has one bias per output unit."
    if value[1] == (c_in * s * s) * (c_out * s * s) // (s * s) or value[1] == (c_in * s * s) * c_out + c_out:
        return False, "The conv count is right. The dense layer's output is the whole flattened C_out × H × W map."
    return False, "The conv count is right; the dense count is not: one weight per (input unit, output unit) pair."


# --- 6.3 receptive field ----------------------------------------------------------------------

def _receptive_field(stack, use_stride=True, use_dilation=True):
    r, jump = 1, 1
    for _, k, s, d in stack:
        r += (d if use_dilation else 1) * (k - 1) * (jump if use_stride else 1)
        jump *= s
    return r


@checker("6.3")
def receptive_field(answer):
    """Answer: the receptive field (one side, in input pixels) of one output pixel of STACK_63."""
    value = integers(answer, 1)
    if value is None:
        return False, "Give one integer: the side of the receptive field in input pixels."
    expected = _receptive_field(STACK_63)
    if value[0] == expected:
        return True, "Each window widens the field by (k − 1)·d times the product of the strides below it."
    hint = first_hint(value[0], [
        (_receptive_field(STACK_63, use_stride=False), "Strides below a layer multiply its contribution: a step of "
                                                       "one pixel there is several pixels of the input."),
        (_receptive_field(STACK_63, use_dilation=False), "The last convolution is dilated: its taps are d apart."),
        (_receptive_field(STACK_63, False, False), "Account for both the strides below each layer and the dilation."),
        (expected - 1, "Off by one: a single 1×1 window already sees one pixel."),
    ])
    return False, hint or "Not this size. Grow the field layer by layer, keeping track of the stride so far."


# --- 6.4 the GRU candidate -------------------------------------------------------------------

def gru_64():
    """The GRU layer, x_t (N, I) and h_{t−1} (N, H) of exercise 6.4."""
    rng = np.random.default_rng(GRU_64["seed"])
    gru = GRU(GRU_64["input_size"], GRU_64["hidden_size"], rng=rng)
    n = GRU_64["batch"]
    return gru, rng.standard_normal((n, GRU_64["input_size"])), rng.standard_normal((n, GRU_64["hidden_size"]))


def _candidates(gru, x, h):
    """{name: candidate} for the right n_t and for the usual slips, all (N, H)."""
    p, size = gru.params, gru.hidden_size
    rows = [slice(k * size, (k + 1) * size) for k in range(3)]  # torch's blocks r, z, n

    def half(name, block, v):
        return v @ p[f"weight_{name}_l0"][block].T + p[f"bias_{name}_l0"][block]

    def gate(block):
        return sigmoid(half("ih", block, x) + half("hh", block, h))

    r, z = gate(rows[0]), gate(rows[1])
    w_hn, b_hn = p["weight_hh_l0"][rows[2]], p["bias_hh_l0"][rows[2]]
    x_n = half("ih", rows[2], x)
    return {
        "right": np.tanh(x_n + r * half("hh", rows[2], h)),
        "reset inside": np.tanh(x_n + (r * h) @ w_hn.T + b_hn),
        "bias outside": np.tanh(x_n + r * (h @ w_hn.T) + b_hn),
        "update as reset": np.tanh(x_n + z * half("hh", rows[2], h)),
        "no reset": np.tanh(x_n + half("hh", rows[2], h)),
        "sigmoid": sigmoid(x_n + r * half("hh", rows[2], h)),
    }


@checker("6.4")
def gru_candidate(answer):
    """Answer: a function candidate(gru, x_t, h_prev) -> n_t (N, H), torch's GRU candidate state."""
    if not callable(answer):
        return False, "Give a function candidate(gru, x_t, h_prev) that returns an (N, H) array."
    gru, x, h = gru_64()
    got, error = call(lambda: np.asarray(answer(gru, x, h), dtype=float))
    if error:
        return False, f"Calling candidate(gru, x_t, h_prev) failed: {error}"
    if got.shape != h.shape:
        return False, f"Return one value per example and hidden unit: shape {h.shape}, got {got.shape}."
    options = _candidates(gru, x, h)
    if close(got, options["right"]):
        return True, "The reset gate scales the whole hidden half, W_hn h + b_hn, as torch computes it."
    hint = first_hint(got, [
        (options["reset inside"], "That is the form of Cho et al. (2014), r applied to h before W_hn; torch applies "
                                  "r after the product."),
        (options["bias outside"], "Almost: in torch the reset gate multiplies b_hn as well."),
        (options["update as reset"], "That uses the update gate z where the reset gate belongs: check the order."),
        (options["no reset"], "The reset gate is missing from the candidate."),
        (options["sigmoid"], "The candidate uses tanh, not σ."),
    ])
    return False, hint or "Not the candidate: take the n block of both weights and both biases, in torch's layout."


# --- 6.5 the KL term of the VAE ---------------------------------------------------------------

@checker("6.5")
def vae_kl(answer):
    """Answer: a function kl(mu, logvar) -> (N,) array of KL(N(μ, diag s²) ‖ N(0, I)), one per example."""
    if not callable(answer):
        return False, "Give a function kl(mu, logvar) that returns one KL value per example."
    got, error = call(lambda: np.asarray(answer(KL_MU.copy(), KL_LOGVAR.copy()), dtype=float))
    if error:
        return False, f"Calling kl(mu, logvar) with (4, 3) arrays failed: {error}"
    terms = 1.0 + KL_LOGVAR - KL_MU**2 - np.exp(KL_LOGVAR)  # (N, L)
    expected = -0.5 * terms.sum(axis=1)
    if close(got, expected):
        return True, "Zero for the first example, whose q is the prior itself; positive for the others."
    n, latent = KL_MU.shape
    if got.ndim == 0 or got.shape == (1,):
        return False, f"Return one KL value per example, an array of shape ({n},), not a single number."
    if got.shape != (n,):
        return False, f"Return an array of shape ({n},): sum over the latent dimensions, one value per example."
    sigma_terms = 1.0 + 2 * KL_LOGVAR - KL_MU**2 - np.exp(2 * KL_LOGVAR)  # logvar read as log s
    hint = first_hint(got, [
        (-expected, "Check the sign: a KL divergence is never negative."),
        (2 * expected, "Check the factor in front: the Gaussian log-density carries a 1/2."),
        (expected / latent, "Sum over the latent dimensions, do not average: the prior factorises into a product."),
        (-0.5 * sigma_terms.sum(axis=1), "logvar is the log of the variance s², not of s: s² = exp(logvar)."),
    ])
    return False, hint or "Not these values. Write log q − log p for one Gaussian dimension and take its expectation."


# --- 6.6 parameters of a Transformer block ----------------------------------------------------

def _block_counts(e, f, heads):
    """{name: count} for the right total and for the usual slips, E = d_model, F = dim_feedforward."""
    attention = 3 * e * e + 3 * e + e * e + e          # in_proj (3E × E) + bias, out_proj (E × E) + bias
    feed_forward = e * f + f + f * e + e               # linear1, linear2 with biases
    norms = 2 * 2 * e                                  # two layer norms, γ and β each
    return {
        "right": attention + feed_forward + norms,
        "no norms": attention + feed_forward,
        "no biases": 4 * e * e + 2 * e * f + norms,
        "no out_proj": attention - e * e - e + feed_forward + norms,
        "per head": heads * attention + feed_forward + norms,
        "one norm": attention + feed_forward + norms // 2,
    }


@checker("6.6")
def transformer_block_parameters(answer):
    """Answer: the number of parameters of TransformerEncoderLayer(**BLOCK_66)."""
    value = integers(answer, 1)
    if value is None:
        return False, "Give one integer: the number of trainable parameters."
    counts = _block_counts(BLOCK_66["d_model"], BLOCK_66["dim_feedforward"], BLOCK_66["nhead"])
    if value[0] == counts["right"]:
        return True, ("Attention costs 4E² + 4E whatever the number of heads (they split E, they do not "
                      "multiply it); the feed-forward network 2EF + F + E; each layer norm 2E.")
    hint = first_hint(value[0], [
        (counts["no norms"], "The two layer norms have parameters too: a scale and a shift per feature."),
        (counts["no biases"], "Every projection has a bias, the input projection three of them (q, k, v)."),
        (counts["no out_proj"], "The heads' outputs are mixed by an output projection, out_proj, with a bias."),
        (counts["per head"], "Heads do not multiply the projections: each head works on E/h of the E features."),
        (counts["one norm"], "There are two layer norms, one after (or before) each of the two sub-layers."),
    ])
    return False, hint or "Not this count. Add up the attention, the feed-forward network and the two norms."


# --- 6.7 causal attention by hand -------------------------------------------------------------

def attention_67():
    """(q, k, v) of exercise 6.7: (T, d_k), (T, d_k), (T, d_v) from a seeded Generator."""
    rng = np.random.default_rng(ATTN_67["seed"])
    t, d_k, d_v = ATTN_67["length"], ATTN_67["d_k"], ATTN_67["d_v"]
    return rng.standard_normal((t, d_k)), rng.standard_normal((t, d_k)), rng.standard_normal((t, d_v))


def _causal_candidates(q, k, v):
    """{name: output} for the right causal attention and for the usual slips, all (T, d_v)."""
    def attend(scores, blocked, axis=-1):
        scores = np.where(blocked, -np.inf, scores)
        weights = np.exp(scores - scores.max(axis=axis, keepdims=True))
        return (weights / weights.sum(axis=axis, keepdims=True)) @ v

    t, d = q.shape
    future = np.triu(np.ones((t, t), dtype=bool), k=1)
    none = np.zeros((t, t), dtype=bool)
    scores = q @ k.T / np.sqrt(d)
    return {
        "right": attend(scores, future),
        "no scale": attend(q @ k.T, future),
        "scale d": attend(q @ k.T / d, future),
        "no mask": attend(scores, none),
        "past blocked": attend(scores, future.T),
    }


@checker("6.7")
def causal_attention(answer):
    """Answer: a function causal_attention(q, k, v) -> (T, d_v), scaled dot-product attention with a causal mask."""
    if not callable(answer):
        return False, "Give a function causal_attention(q, k, v) that returns a (T, d_v) array."
    q, k, v = attention_67()
    got, error = call(lambda: np.asarray(answer(q.copy(), k.copy(), v.copy()), dtype=float))
    if error:
        return False, f"Calling causal_attention(q, k, v) failed: {error}"
    if got.shape != v.shape:
        return False, f"Return one output row per query, each of the values' width: shape {v.shape}, got {got.shape}."
    options = _causal_candidates(q, k, v)
    if close(got, options["right"]):
        return True, ("Each query mixes the values of its own and earlier positions only, with weights "
                      "softmax(q·k/√d_k) over those keys; the first query can only return the first value.")
    hint = first_hint(got, [
        (options["no scale"], "Divide the scores by √d_k before the softmax."),
        (options["scale d"], "The scale is 1/√d_k, not 1/d_k."),
        (options["no mask"], "The mask is missing: query t must not see keys after t."),
        (options["past blocked"], "The mask is the wrong way round: block the keys after the query, not before."),
    ])
    return False, hint or "Not these outputs. Score, mask the future with −∞, softmax each row, then mix the values."
