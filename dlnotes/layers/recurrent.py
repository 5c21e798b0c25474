"""Recurrent layers: Elman RNN (tanh), LSTM and GRU — one layer, laid out exactly as torch.nn.

Every cell splits its pre-activations into an input half and a hidden half,

    a_x(t) = x_t W_ihᵀ + b_ih        (N, G·H)   computed for all t in one matrix product
    a_h(t) = h_{t−1} W_hhᵀ + b_hh    (N, G·H)   computed step by step (it needs h_{t−1})

with G gate blocks stacked along the rows of ``weight_ih_l0`` (G·H, I) and ``weight_hh_l0``
(G·H, H), in torch's order:

    RNN  (G = 1):  h_t = tanh(a_x + a_h)
    LSTM (G = 4):  [i, f, g, o] = [σ, σ, tanh, σ](a_x + a_h)
                   c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)          (Hochreiter & Schmidhuber 1997)
    GRU  (G = 3):  r = σ(a_x,r + a_h,r),  z = σ(a_x,z + a_h,z)
                   n = tanh(a_x,n + r ⊙ a_h,n)        (r gates W_hn h + b_hn, bias included)
                   h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}                             (Cho et al. 2014)

Shapes: x (T, N, I) and output (T, N, H); with ``batch_first=True`` x (N, T, I) and output
(N, T, H). States are always (1, N, H) — the leading 1 is torch's ``num_layers``.

Backpropagation through time is ordinary backpropagation on the network unrolled over T
steps: walk t = T−1 … 0, add the gradient arriving at h_t from the output to the one arriving
from step t+1, push it through the cell to d a_x(t), d a_h(t) and the previous state, and sum
the weight gradients over all steps. Matches torch.nn.RNN/LSTM/GRU (num_layers=1) to ~1e-13
in float64, outputs and gradients (``tests/test_recurrent.py``).
"""

import math

import numpy as np

from dlnotes import init
from dlnotes._checks import as_float_array, check_bool, check_generator, check_int
from dlnotes.layers.base import Layer, init_rng, require_torch_options, require_torch_type


def _sigmoid(a):
    """σ(a) = (1 + tanh(a/2)) / 2: the same function as ``dlnotes.activations.sigmoid``, finite for
    every a and without its branches, so about 3× faster on small arrays; the time loop calls it
    up to three times per step."""
    return 0.5 + 0.5 * np.tanh(0.5 * a)


def _blocks(a, k):
    """Split the gate pre-activations (N, k·H) into k views (N, H), in torch's gate order."""
    return a.reshape(a.shape[0], k, a.shape[1] // k).swapaxes(0, 1)


class _Recurrent(Layer):
    """The machinery RNN, LSTM and GRU share: parameters, checks, the time loop and BPTT.

    A subclass sets ``gates`` (G) and ``state_names`` (("h",) or ("h", "c")) and writes one
    step: ``_step(a_x, a_h, states) -> (new_states, cache)`` and
    ``_step_backward(d_states, cache) -> (d_a_x, d_a_h, d_prev_direct)``, where
    ``d_prev_direct`` is the gradient reaching the previous states by paths that skip W_hh.
    """

    gates = 1
    state_names = ("h",)
    torch_args = ("input_size", "hidden_size", "bias", "batch_first")
    torch_options = {"num_layers": 1, "bidirectional": False}  # what from_torch accepts

    def __init__(self, input_size, hidden_size, bias=True, batch_first=False, *, rng, dtype=np.float64):
        super().__init__()
        name = type(self).__name__
        self.input_size = check_int(input_size, "input_size", name, low=1)
        self.hidden_size = check_int(hidden_size, "hidden_size", name, low=1)
        self.bias = check_bool(bias, "bias", name)
        self.batch_first = check_bool(batch_first, "batch_first", name)
        check_generator(rng, name)
        gh, h = self.gates * self.hidden_size, self.hidden_size
        shapes = {"weight_ih_l0": (gh, self.input_size), "weight_hh_l0": (gh, h)}
        if bias:
            shapes.update(bias_ih_l0=(gh,), bias_hh_l0=(gh,))
        bound = 1.0 / math.sqrt(h)  # torch: every parameter ~ U(−1/√H, 1/√H)
        self.params.update({k: init.uniform(s, bound, rng=rng).astype(dtype) for k, s in shapes.items()})
        self.grads.update({k: np.zeros_like(v) for k, v in self.params.items()})
        self.grad_h0 = None
        self.state = None

    def __call__(self, x, h0=None, *, train=True):
        return self.forward(x, h0, train=train)

    # States: public (1, N, H) arrays (a tuple for LSTM) <-> internal tuple of (N, H) arrays.
    def _public(self, states):
        arrays = tuple(s[None] for s in states)
        return arrays if len(arrays) > 1 else arrays[0]

    def _internal(self, value, arg, names, n, where):
        if len(names) > 1:
            if not isinstance(value, (tuple, list)) or len(value) != len(names):
                raise TypeError(f"{where}: {arg} must be a tuple ({', '.join(names)}), got {type(value).__name__}")
        else:
            value = (value,)
        states = []
        for arr, name in zip(value, names):
            arr = as_float_array(arr, name, where)
            if arr.shape != (1, n, self.hidden_size):
                raise ValueError(f"{where}: {name} must be (1, {n}, {self.hidden_size}), got shape {arr.shape}")
            states.append(arr[0])
        return tuple(states)

    def forward(self, x, h0=None, *, train=True):
        """Run the layer over a whole sequence; returns the output sequence, as every layer does.

        x: (T, N, I), or (N, T, I) with batch_first. h0: initial state (1, N, H), zeros when None;
        for LSTM a tuple (h0, c0). ``train`` is accepted for the layer contract and changes
        nothing (no dropout here). Returns output (T, N, H) — or (N, T, H) — holding h_1 … h_T,
        so the layer composes in ``Sequential``. The final state h_n (1, N, H), for LSTM the
        tuple (h_n, c_n), is kept in ``self.state``; ``forward_with_state`` returns both.
        """
        return self.forward_with_state(x, h0, train=train)[0]

    def forward_with_state(self, x, h0=None, *, train=True):
        """torch's form: (output, final state), with the arguments and shapes of ``forward``."""
        where = self._where("forward")
        self._check_train(train)
        x = as_float_array(x, "x", where)
        layout = f"(N, T, {self.input_size})" if self.batch_first else f"(T, N, {self.input_size})"
        if x.ndim != 3 or x.shape[2] != self.input_size or x.shape[int(self.batch_first)] == 0:
            raise ValueError(f"{where}: x must be {layout} with T >= 1, got shape {x.shape}")
        x = x.swapaxes(0, 1) if self.batch_first else x
        n = x.shape[1]
        if h0 is None:
            states = tuple(np.zeros((n, self.hidden_size), dtype=x.dtype) for _ in self.state_names)
        else:
            states = self._internal(h0, "h0", tuple(s + "0" for s in self.state_names), n, where)
        h_first = states[0]
        # Wᵀ as contiguous copies: OpenBLAS multiplies by a transposed *view* of a small matrix
        # many times slower on a busy machine, and the loop below multiplies by W_hhᵀ every step.
        w_ih_t, w_hh_t = (np.ascontiguousarray(self.params[f"weight_{k}_l0"].T) for k in ("ih", "hh"))
        b_ih, b_hh = (self.params["bias_ih_l0"], self.params["bias_hh_l0"]) if self.bias else (0.0, 0.0)
        a_x = x @ w_ih_t + b_ih  # (T, N, G·H): the input half of every gate, all steps at once
        output = np.empty(x.shape[:2] + (self.hidden_size,), dtype=a_x.dtype)
        caches = []
        for t in range(x.shape[0]):
            states, cache = self._step(a_x[t], states[0] @ w_hh_t + b_hh, states)
            output[t] = states[0]
            caches.append(cache)
        h_prev = np.concatenate([h_first[None], output[:-1]])  # h_{t−1} for t = 0 … T−1
        output = self._save(output.swapaxes(0, 1) if self.batch_first else output, x, h_prev, caches)
        self.state = self._public(states)
        return output, self.state

    def backward(self, grad_out, grad_state=None):
        """Backpropagation through time.

        grad_out: d loss / d output, shaped like the output. grad_state: d loss / d final
        state, shaped like it (a tuple for LSTM), or None for zero. Fills ``grads`` and
        ``grad_h0`` (d loss / d initial state, shaped like h0: a tuple (d h0, d c0) for LSTM);
        returns d loss / d x, shaped like x.
        """
        where = self._where("backward")
        grad_out, (x, h_prev, caches) = self._saved(grad_out)
        grad_out = grad_out.swapaxes(0, 1) if self.batch_first else grad_out
        steps, n, _ = x.shape
        if grad_state is None:
            d_states = (0.0,) * len(self.state_names)
        else:
            names = tuple(f"grad_{s}_n" for s in self.state_names)
            d_states = self._internal(grad_state, "grad_state", names, n, where)
        w_hh = self.params["weight_hh_l0"]
        dtype = np.result_type(grad_out, w_hh)
        d_ax = np.empty((steps, n, self.gates * self.hidden_size), dtype=dtype)
        d_ah = np.empty_like(d_ax)
        for t in reversed(range(steps)):
            d_states = (d_states[0] + grad_out[t],) + d_states[1:]  # from the output and from step t+1
            d_ax[t], d_ah[t], d_states = self._step_backward(d_states, caches[t])
            d_states = (d_states[0] + d_ah[t] @ w_hh,) + d_states[1:]  # h_{t−1} also feeds a_h(t)
        rows = steps * n  # weight gradients: sum over time and batch in one product
        gh = self.gates * self.hidden_size
        self.grads["weight_ih_l0"][...] = d_ax.reshape(rows, gh).T @ x.reshape(rows, self.input_size)
        self.grads["weight_hh_l0"][...] = d_ah.reshape(rows, gh).T @ h_prev.reshape(rows, self.hidden_size)
        if self.bias:
            self.grads["bias_ih_l0"][...] = d_ax.sum(axis=(0, 1))
            self.grads["bias_hh_l0"][...] = d_ah.sum(axis=(0, 1))
        self.grad_h0 = self._public(d_states)
        dx = d_ax @ self.params["weight_ih_l0"]
        return dx.swapaxes(0, 1) if self.batch_first else dx

    @classmethod
    def structure_from_torch(cls, module, rng):
        where = f"{cls.__name__}.from_torch"
        require_torch_type(module, cls.__name__, where)
        require_torch_options(module, where, **cls.torch_options)
        return cls(**{name: getattr(module, name) for name in cls.torch_args}, rng=init_rng(rng))


class RNN(_Recurrent):
    """Elman RNN with tanh: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh).

    Backward: d a = d h_t ⊙ (1 − h_t²); the same d a flows to both halves, and h_{t−1}
    reaches h_t only through W_hh. Repeated multiplication by W_hhᵀ·diag(1 − h²) is why
    gradients vanish or explode over long sequences.
    """

    gates = 1
    state_names = ("h",)
    torch_options = {**_Recurrent.torch_options, "nonlinearity": "tanh"}

    def _step(self, a_x, a_h, states):
        h = np.tanh(a_x + a_h)
        return (h,), h

    def _step_backward(self, d_states, h):
        d_a = d_states[0] * (1.0 - h * h)
        return d_a, d_a, (0.0,)


class LSTM(_Recurrent):
    """Long short-term memory, gates i, f, g, o stacked in that order (torch's layout).

    i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o) with a = a_x + a_h,
    c_t = f ⊙ c_{t−1} + i ⊙ g,   h_t = o ⊙ tanh(c_t).

    Backward, with d c collecting both the direct d c_t and d h_t ⊙ o ⊙ (1 − tanh² c_t):
    d o = d h_t ⊙ tanh c_t, d i = d c ⊙ g, d g = d c ⊙ i, d f = d c ⊙ c_{t−1},
    d c_{t−1} = d c ⊙ f — the additive path through the cell that lets gradients survive long spans.
    State and ``grad_h0`` are tuples (h, c).
    """

    gates = 4
    state_names = ("h", "c")
    torch_options = {**_Recurrent.torch_options, "proj_size": 0}

    def _step(self, a_x, a_h, states):
        _, c_prev = states
        a_i, a_f, a_g, a_o = _blocks(a_x + a_h, 4)
        i, f, g, o = _sigmoid(a_i), _sigmoid(a_f), np.tanh(a_g), _sigmoid(a_o)
        c = f * c_prev + i * g
        tanh_c = np.tanh(c)
        return (o * tanh_c, c), (i, f, g, o, c_prev, tanh_c)

    def _step_backward(self, d_states, cache):
        d_h, d_c = d_states
        i, f, g, o, c_prev, tanh_c = cache
        d_c = d_c + d_h * o * (1.0 - tanh_c * tanh_c)
        d_a = np.concatenate([d_c * g * i * (1.0 - i),             # through i = σ(a_i)
                              d_c * c_prev * f * (1.0 - f),        # through f = σ(a_f)
                              d_c * i * (1.0 - g * g),             # through g = tanh(a_g)
                              d_h * tanh_c * o * (1.0 - o)], axis=1)  # through o = σ(a_o)
        return d_a, d_a, (0.0, d_c * f)


class GRU(_Recurrent):
    """Gated recurrent unit, gates r, z, n stacked in that order (torch's layout).

    r = σ(a_x,r + a_h,r), z = σ(a_x,z + a_h,z), n = tanh(a_x,n + r ⊙ a_h,n),
    h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}.

    Because r multiplies the whole hidden half a_h,n (bias b_hn included), the two halves get
    different gradients for the n block: d a_x,n = d a_n but d a_h,n = d a_n ⊙ r.
    """

    gates = 3
    state_names = ("h",)

    def _step(self, a_x, a_h, states):
        (h_prev,) = states
        x_r, x_z, x_n = _blocks(a_x, 3)
        h_r, h_z, h_n = _blocks(a_h, 3)
        r, z = _sigmoid(x_r + h_r), _sigmoid(x_z + h_z)
        n = np.tanh(x_n + r * h_n)
        return ((1.0 - z) * n + z * h_prev,), (r, z, n, h_n, h_prev)

    def _step_backward(self, d_states, cache):
        (d_h,) = d_states
        r, z, n, h_n, h_prev = cache
        d_an = d_h * (1.0 - z) * (1.0 - n * n)
        d_ar = d_an * h_n * r * (1.0 - r)
        d_az = d_h * (h_prev - n) * z * (1.0 - z)
        d_ax = np.concatenate([d_ar, d_az, d_an], axis=1)
        d_ah = np.concatenate([d_ar, d_az, d_an * r], axis=1)
        return d_ax, d_ah, (d_h * z,)
