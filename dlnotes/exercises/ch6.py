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
# 6.5: the (μ, log σ²) the reader's KL function is called with: 4 examples, 3 latent dimensions.
KL_MU = np.array([[0.0, 0.0, 0.0], [1.0, -0.5, 0.2], [0.3, 2.0, -1.0], [-0.7, 0.1, 0.4]])
KL_LOGVAR = np.array([[0.0, 0.0, 0.0], [-1.0, 0.5, 0.0], [0.2, -2.0, 1.0], [-0.3, 0.7, -0.6]])


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
        return True, f"Parameter sharing makes the convolution about {dense // conv:,} times smaller."
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
    """Answer: a function kl(mu, logvar) -> (N,) array of KL(N(μ, diag σ²) ‖ N(0, I)), one per example."""
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
    sigma_terms = 1.0 + 2 * KL_LOGVAR - KL_MU**2 - np.exp(2 * KL_LOGVAR)  # logvar read as log σ
    hint = first_hint(got, [
        (-expected, "Check the sign: a KL divergence is never negative."),
        (2 * expected, "Check the factor in front: the Gaussian log-density carries a 1/2."),
        (expected / latent, "Sum over the latent dimensions, do not average: the prior factorises into a product."),
        (-0.5 * sigma_terms.sum(axis=1), "logvar is log σ², not log σ: σ² = exp(logvar)."),
    ])
    return False, hint or "Not these values. Write log q − log p for one Gaussian dimension and take its expectation."
