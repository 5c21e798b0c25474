"""The Transformer encoder block (Vaswani et al., 2017): self-attention and a feed-forward network,
each wrapped in a residual connection and a layer norm."""

import numpy as np

from dlnotes._checks import as_float_array, check_choice, check_int, check_real
from dlnotes.layers.activation import activation_layer
from dlnotes.layers.attention import MultiheadAttention
from dlnotes.layers.base import Layer, init_rng, require_torch_type
from dlnotes.layers.dropout import Dropout
from dlnotes.layers.layernorm import LayerNorm
from dlnotes.layers.linear import Linear

# The feed-forward activations torch.nn.TransformerEncoderLayer accepts by name.
FFN_ACTIVATIONS = ("relu", "gelu")


class TransformerEncoderLayer(Layer):
    """As torch.nn.TransformerEncoderLayer(..., batch_first=True), x: (N, T, d_model) → same shape.

    With SA the multi-head self-attention, FF(h) = linear2(drop(act(linear1(h)))) and drop1, drop2
    dropout (identity in evaluation):

        post-norm (norm_first=False, the original):  h = norm1(x + drop1(SA(x)))
                                                     y = norm2(h + drop2(FF(h)))
        pre-norm  (norm_first=True):                 h = x + drop1(SA(norm1(x)))
                                                     y = h + drop2(FF(norm2(h)))

    backward follows the same lines upwards; at each residual sum the gradient splits and the two
    parts add up again at the sum's input. In pre-norm the path x → y is a chain of additions, so
    ∂y/∂x contains the identity; in post-norm every path goes through both layer norms.
    Parameters (torch's names and order): self_attn.in_proj_weight, self_attn.in_proj_bias,
    self_attn.out_proj.{weight, bias}, linear1.{weight, bias}, linear2.{weight, bias},
    norm1.{weight, bias}, norm2.{weight, bias}.
    """

    torch_args = ("d_model", "nhead", "dim_feedforward", "dropout", "activation", "layer_norm_eps", "norm_first")

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, norm_first=False, *, rng, dtype=np.float64):
        super().__init__()
        where = "TransformerEncoderLayer"
        self.d_model = check_int(d_model, "d_model", where, low=1)
        self.nhead = check_int(nhead, "nhead", where, low=1)
        self.dim_feedforward = check_int(dim_feedforward, "dim_feedforward", where, low=1)
        self.dropout = check_real(dropout, "dropout", where, low=0.0, high=1.0, high_open=True)
        self.activation = check_choice(activation, "activation", where, FFN_ACTIVATIONS)
        self.layer_norm_eps = check_real(layer_norm_eps, "layer_norm_eps", where, low=0.0, low_open=True)
        if not isinstance(norm_first, bool):
            raise TypeError(f"{where}: norm_first must be a bool, got {type(norm_first).__name__}")
        self.norm_first = norm_first
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=self.dropout, rng=rng, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, rng=rng, dtype=dtype)
        self.act = activation_layer(activation, where)
        self.linear2 = Linear(dim_feedforward, d_model, rng=rng, dtype=dtype)
        self.norm1 = LayerNorm(d_model, layer_norm_eps, dtype=dtype)
        self.norm2 = LayerNorm(d_model, layer_norm_eps, dtype=dtype)
        # torch's dropout, dropout1, dropout2; None when p = 0 (the identity, no random draws)
        self.drops = [Dropout(self.dropout, rng=rng) if self.dropout > 0 else None for _ in range(3)]

    def named_children(self):
        return [("self_attn", self.self_attn), ("linear1", self.linear1), ("linear2", self.linear2),
                ("norm1", self.norm1), ("norm2", self.norm2)]

    @property
    def attn_weights(self):
        """The self-attention weights of the last forward, (N, nhead, T, T)."""
        return self.self_attn.attn_weights

    def _drop(self, i, x, train):
        return x if self.drops[i] is None else self.drops[i].forward(x, train=train)

    def _drop_back(self, i, g):
        return g if self.drops[i] is None else self.drops[i].backward(g)

    def _sa(self, x, train, masks):
        return self._drop(1, self.self_attn.forward(x, train=train, **masks), train)

    def _sa_back(self, g):
        return self.self_attn.backward(self._drop_back(1, g))

    def _ff(self, h, train):
        inner = self._drop(0, self.act.forward(self.linear1.forward(h, train=train), train=train), train)
        return self._drop(2, self.linear2.forward(inner, train=train), train)

    def _ff_back(self, g):
        g = self.linear2.backward(self._drop_back(2, g))
        return self.linear1.backward(self.act.backward(self._drop_back(0, g)))

    def forward(self, x, *, train=True, src_mask=None, src_key_padding_mask=None):
        """x: (N, T, d_model) → (N, T, d_model). src_mask and src_key_padding_mask are the attention's
        attn_mask and key_padding_mask (see MultiheadAttention)."""
        where = self._where("forward")
        train = self._check_train(train)
        x = as_float_array(x, "x", where)
        if x.ndim != 3 or x.shape[2] != self.d_model or 0 in x.shape:
            raise ValueError(f"{where}: x must be (N, T, {self.d_model}), got shape {tuple(x.shape)}")
        masks = {"attn_mask": src_mask, "key_padding_mask": src_key_padding_mask}
        if self.norm_first:
            h = x + self._sa(self.norm1.forward(x, train=train), train, masks)
            y = h + self._ff(self.norm2.forward(h, train=train), train)
        else:
            h = self.norm1.forward(x + self._sa(x, train, masks), train=train)
            y = self.norm2.forward(h + self._ff(h, train), train=train)
        return self._save(y)

    def backward(self, grad_out):
        """grad_out: (N, T, d_model) → ∂L/∂x; fills every parameter's gradient."""
        grad_out, _ = self._saved(grad_out)
        if self.norm_first:
            d_h = grad_out + self.norm2.backward(self._ff_back(grad_out))
            return d_h + self.norm1.backward(self._sa_back(d_h))
        d_sum2 = self.norm2.backward(grad_out)            # ∂L/∂(h + FF(h))
        d_h = d_sum2 + self._ff_back(d_sum2)
        d_sum1 = self.norm1.backward(d_h)                 # ∂L/∂(x + SA(x))
        return d_sum1 + self._sa_back(d_sum1)

    def torch_structure(self):
        from torch import nn

        return nn.TransformerEncoderLayer(**self.hyperparameters(), batch_first=True)

    @classmethod
    def structure_from_torch(cls, module, rng):
        where = "TransformerEncoderLayer.from_torch"
        require_torch_type(module, "TransformerEncoderLayer", where)
        if not module.self_attn.batch_first:
            raise ValueError(f"{where}: only batch_first=True is supported, got batch_first=False")
        activation = {1: "relu", 2: "gelu"}.get(module.activation_relu_or_gelu)
        if activation is None:
            raise ValueError(f"{where}: activation must be relu or gelu, got {module.activation!r}")
        if module.linear1.bias is None or module.norm1.bias is None:
            raise ValueError(f"{where}: only bias=True is supported, got a module without biases")
        dropout = module.dropout.p
        if dropout > 0 and rng is None:
            raise TypeError(f"{where}: rng must be a numpy.random.Generator when dropout > 0, got None")
        return cls(module.self_attn.embed_dim, module.self_attn.num_heads, module.linear1.out_features,
                   dropout, activation, module.norm1.eps, bool(module.norm_first), rng=init_rng(rng))
