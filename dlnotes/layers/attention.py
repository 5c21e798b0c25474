"""Scaled dot-product attention and multi-head self-attention (Vaswani et al., 2017).

For queries Q (T_q, d), keys K (T_k, d) and values V (T_k, d_v), with an additive mask M
(0 where a query may look, −∞ where it may not):

    S = Q Kᵀ / √d + M        scores       (T_q, T_k)
    A = softmax(S)           weights      each row sums to 1 over the keys
    O = A V                  output       (T_q, d_v): every query gets a weighted mean of the values

backward, with dO given (the softmax Jacobian of a row a is diag(a) − a aᵀ):

    dA = dO Vᵀ,   dV = Aᵀ dO,   dS = A ⊙ (dA − rowsum(dA ⊙ A)),
    dQ = dS K / √d,   dK = dSᵀ Q / √d.

Leading axes (batch, heads) are carried along by broadcasting.
"""

import math

import numpy as np

from dlnotes import init
from dlnotes._checks import as_float_array, check_int, check_real
from dlnotes.activations import softmax
from dlnotes.layers.base import Layer, init_rng, require_torch_type
from dlnotes.layers.dropout import Dropout
from dlnotes.layers.linear import Linear


def causal_mask(length):
    """Boolean (length, length) mask, True above the diagonal: query t may not attend to keys s > t.

    The boolean form of ``torch.nn.Transformer.generate_square_subsequent_mask`` (which writes −∞
    where this writes True).
    """
    length = check_int(length, "length", "causal_mask", low=1)
    return np.triu(np.ones((length, length), dtype=bool), k=1)


def additive_mask(mask, shape, name, where):
    """A mask as the array added to the scores: boolean True → −∞ (may not attend), False → 0;
    a float mask is returned as it is. Raises unless it has ``shape`` and no NaN or +∞."""
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise ValueError(f"{where}: {name} must have shape {shape}, got {tuple(mask.shape)}")
    if mask.dtype == bool:
        return np.where(mask, -np.inf, 0.0)
    if mask.dtype.kind != "f":
        raise TypeError(f"{where}: {name} must be a boolean or float array, got dtype {mask.dtype}")
    if np.isnan(mask).any() or np.isposinf(mask).any():
        raise ValueError(f"{where}: {name} must hold no NaN or +inf, got some")
    return mask


def softmax_backward(weights, grad_weights):
    """∂L/∂S from ∂L/∂A for A = softmax(S) along the last axis: A ⊙ (dA − Σ_j dA_j A_j)."""
    return weights * (grad_weights - np.sum(grad_weights * weights, axis=-1, keepdims=True))


def attention_weights(q, k, mask=None, scale=None):
    """A = softmax(q kᵀ · scale + M) for q (*, T_q, d), k (*, T_k, d); scale defaults to 1/√d.

    mask: None, boolean (True = blocked) or float (added), broadcastable to (*, T_q, T_k). A query
    with every key blocked has no weights to give (0/0); it is refused.
    """
    where = "attention_weights"
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else check_real(scale, "scale", where)
    scores = q @ k.swapaxes(-1, -2) * scale
    if mask is not None:
        mask = np.asarray(mask)
        scores = scores + (np.where(mask, -np.inf, 0.0) if mask.dtype == bool else mask)
        if np.isneginf(scores).all(axis=-1).any():
            raise ValueError(f"{where}: mask must leave every query at least one key, got a fully masked row")
    return softmax(scores, axis=-1)


def scaled_dot_product_attention(q, k, v, mask=None, scale=None):
    """(O, A) = (A v, A) with A = attention_weights(q, k, mask, scale), for q (*, T_q, d),
    k (*, T_k, d), v (*, T_k, d_v).

    Equal to torch.nn.functional.scaled_dot_product_attention (which returns O only).
    """
    where = "scaled_dot_product_attention"
    q, k, v = (as_float_array(a, name, where) for a, name in ((q, "q"), (k, "k"), (v, "v")))
    if q.ndim < 2 or k.ndim != q.ndim or v.ndim != q.ndim or k.shape[-1] != q.shape[-1] \
            or v.shape[-2] != k.shape[-2]:
        raise ValueError(f"{where}: q, k, v must be (*, T_q, d), (*, T_k, d), (*, T_k, d_v), "
                         f"got shapes {q.shape}, {k.shape}, {v.shape}")
    weights = attention_weights(q, k, mask, scale)
    return weights @ v, weights


class MultiheadAttention(Layer):
    """Multi-head self-attention, as torch.nn.MultiheadAttention(embed_dim, num_heads, batch_first=True)
    called with query = key = value = x.

    x (N, T, E) is projected to queries, keys and values by one matrix, then split into h heads of
    d = E/h features each; every head attends on its own and the heads' outputs are concatenated
    and mixed by ``out_proj``:

        [Q | K | V] = x W_inᵀ + b_in                   in_proj_weight (3E, E), in_proj_bias (3E,)
        head_j = softmax(Q_j K_jᵀ/√d + M) V_j           (N, T, d), j = 1 … h
        y = [head_1 | … | head_h] W_outᵀ + b_out        out_proj.weight (E, E), out_proj.bias (E,)

    Masks as torch's: ``attn_mask`` (T, T) or (N·h, T, T), ``key_padding_mask`` (N, T); boolean
    True means "may not attend", float masks are added to the scores. A query whose keys are all
    blocked is refused (torch returns NaN there). The last weights stay in ``attn_weights``
    (N, h, T, T), per head (torch returns their mean over heads by default). ``dropout`` drops
    attention weights in training, as torch does. Init as torch: W_in Xavier-uniform, biases 0.
    """

    torch_args = ("embed_dim", "num_heads")

    def __init__(self, embed_dim, num_heads, bias=True, *, dropout=0.0, rng, dtype=np.float64):
        super().__init__()
        where = "MultiheadAttention"
        self.embed_dim = check_int(embed_dim, "embed_dim", where, low=1)
        self.num_heads = check_int(num_heads, "num_heads", where, low=1)
        if self.embed_dim % self.num_heads:
            raise ValueError(f"{where}: embed_dim must be divisible by num_heads={self.num_heads}, got {embed_dim}")
        if not isinstance(bias, bool):
            raise TypeError(f"{where}: bias must be a bool, got {type(bias).__name__}")
        self.dropout = check_real(dropout, "dropout", where, low=0.0, high=1.0, high_open=True)
        self.head_dim = self.embed_dim // self.num_heads
        e = self.embed_dim
        self.params["in_proj_weight"] = init.xavier_uniform((3 * e, e), rng=rng).astype(dtype)
        if bias:
            self.params["in_proj_bias"] = np.zeros(3 * e, dtype)
        self.grads = {name: np.zeros_like(p) for name, p in self.params.items()}
        self.out_proj = Linear(e, e, bias=bias, rng=rng, dtype=dtype)
        if bias:
            self.out_proj.params["bias"][...] = 0.0
        self._drop = Dropout(self.dropout, rng=rng) if self.dropout > 0 else None
        self.attn_weights = None

    def hyperparameters(self):
        return {**super().hyperparameters(), "dropout": self.dropout, "bias": "in_proj_bias" in self.params}

    def named_children(self):
        return [("out_proj", self.out_proj)]

    def _heads(self, a):
        """(N, T, E) → (N, h, T, d)."""
        n, t, _ = a.shape
        return a.reshape(n, t, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)

    def _merge(self, a):
        """(N, h, T, d) → (N, T, E): the heads side by side."""
        n, _, t, _ = a.shape
        return a.transpose(0, 2, 1, 3).reshape(n, t, self.embed_dim)

    def _mask(self, attn_mask, key_padding_mask, n, t):
        """The additive mask, broadcastable to (N, h, T, T), or None."""
        where = self._where("forward")
        total = None
        if attn_mask is not None:
            shape = np.shape(attn_mask)
            full = (n * self.num_heads, t, t)
            m = additive_mask(attn_mask, shape if shape == full else (t, t), "attn_mask", where)
            total = m.reshape(n, self.num_heads, t, t) if m.ndim == 3 else m
        if key_padding_mask is not None:
            m = additive_mask(key_padding_mask, (n, t), "key_padding_mask", where)[:, None, None, :]
            total = m if total is None else total + m
        if total is not None and np.isneginf(total).all(axis=-1).any():
            raise ValueError(f"{where}: attn_mask and key_padding_mask must leave every query at least one key, "
                             "got a query with all keys blocked")
        return total

    def forward(self, x, *, train=True, attn_mask=None, key_padding_mask=None):
        """x: (N, T, E) → y (N, T, E); see the class docstring for the masks."""
        where = self._where("forward")
        train = self._check_train(train)
        x = as_float_array(x, "x", where)
        if x.ndim != 3 or x.shape[2] != self.embed_dim or 0 in x.shape:
            raise ValueError(f"{where}: x must be (N, T, {self.embed_dim}), got shape {tuple(x.shape)}")
        n, t, e = x.shape
        mask = self._mask(attn_mask, key_padding_mask, n, t)
        qkv = x @ self.params["in_proj_weight"].T
        if "in_proj_bias" in self.params:
            qkv = qkv + self.params["in_proj_bias"]
        q, k, v = (self._heads(qkv[..., i * e:(i + 1) * e]) for i in range(3))
        scale = 1.0 / math.sqrt(self.head_dim)
        weights = attention_weights(q, k, mask, scale)           # (N, h, T, T)
        used = self._drop.forward(weights, train=train) if self._drop else weights
        y = self.out_proj.forward(self._merge(used @ v), train=train)
        self.attn_weights = weights
        return self._save(y, x, q, k, v, weights, used, scale)

    def backward(self, grad_out):
        """grad_out: (N, T, E) → ∂L/∂x (N, T, E); fills the gradients of all four parameters."""
        grad_out, (x, q, k, v, weights, used, scale) = self._saved(grad_out)
        d_o = self._heads(self.out_proj.backward(grad_out))       # (N, h, T, d)
        d_used = d_o @ v.swapaxes(-1, -2)
        d_v = used.swapaxes(-1, -2) @ d_o
        d_weights = self._drop.backward(d_used) if self._drop else d_used
        d_scores = softmax_backward(weights, d_weights)
        d_q = d_scores @ k * scale
        d_k = d_scores.swapaxes(-1, -2) @ q * scale
        d_qkv = np.concatenate([self._merge(d) for d in (d_q, d_k, d_v)], axis=-1)   # (N, T, 3E)
        rows = d_qkv.reshape(-1, 3 * self.embed_dim)
        self.grads["in_proj_weight"][...] = rows.T @ x.reshape(-1, self.embed_dim)
        if "in_proj_bias" in self.params:
            self.grads["in_proj_bias"][...] = rows.sum(axis=0)
        return d_qkv @ self.params["in_proj_weight"]

    def torch_structure(self):
        from torch import nn

        return nn.MultiheadAttention(self.embed_dim, self.num_heads, dropout=self.dropout,
                                     bias="in_proj_bias" in self.params, batch_first=True)

    @classmethod
    def structure_from_torch(cls, module, rng):
        where = "MultiheadAttention.from_torch"
        require_torch_type(module, "MultiheadAttention", where)
        for option, expected in (("batch_first", True), ("_qkv_same_embed_dim", True), ("add_zero_attn", False)):
            if getattr(module, option) != expected:
                raise ValueError(f"{where}: only {option}={expected} is supported, got {getattr(module, option)}")
        if module.bias_k is not None:
            raise ValueError(f"{where}: only add_bias_kv=False is supported, got a module with bias_k")
        if module.dropout > 0 and rng is None:
            raise TypeError(f"{where}: rng must be a numpy.random.Generator when dropout > 0, got None")
        return cls(module.embed_dim, module.num_heads, bias=module.in_proj_bias is not None,
                   dropout=module.dropout, rng=init_rng(rng))
