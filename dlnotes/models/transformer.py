"""A small Transformer for sequences of vectors: an encoder, or a causal decoder with ``causal=True``.

    e_t = x_t W_embᵀ + b_emb + PE[t]          embed (Linear) plus the sinusoidal position code
    h   = block_D(… block_1(e))               D TransformerEncoderLayer blocks (dropout 0)
    many-to-one:   y   = W h_T + b            read out at the last position (the head)
    many-to-many:  y_t = W h_t + b            one prediction per position

With ``causal=True`` position t attends only to positions ≤ t, so y_t depends on x_1 … x_t alone:
a decoder-only model, like the LSTM it is compared with. Shapes: x (N, T, input_size) →
y (N, output_size), or (N, T, output_size) with ``many_to_many=True``.
"""

import functools

import numpy as np

from dlnotes._checks import check_int
from dlnotes.layers.attention import causal_mask
from dlnotes.layers.base import Layer, check_input
from dlnotes.layers.linear import Linear
from dlnotes.layers.positional import sinusoidal_encoding
from dlnotes.layers.transformer import TransformerEncoderLayer


@functools.cache
def _torch_sequence_transformer():
    """The torch twin: children ``embed``, ``layers`` (a ModuleList) and ``head``, same state_dict names."""
    import torch
    from torch import nn

    class TorchSequenceTransformer(nn.Module):
        def __init__(self, embed, layers, head, causal, many_to_many):
            super().__init__()
            self.embed, self.layers, self.head = embed, nn.ModuleList(layers), head
            self.causal, self.many_to_many = causal, many_to_many

        def forward(self, x):
            t, d = x.shape[1], self.embed.out_features
            h = self.embed(x) + torch.from_numpy(sinusoidal_encoding(t, d)).to(x.dtype)
            mask = torch.from_numpy(causal_mask(t)) if self.causal else None
            for layer in self.layers:
                h = layer(h, src_mask=mask)
            return self.head(h if self.many_to_many else h[:, -1])

    return TorchSequenceTransformer


class SequenceTransformer(Layer):
    """Embed + positions, ``num_layers`` encoder blocks, Linear head; see the module docstring.

    Children (torch names): ``embed`` (Linear input_size → d_model), ``layers.0`` … (blocks with
    dropout 0, ReLU, post-norm unless ``norm_first``) and ``head`` (Linear d_model → output_size).
    Trains with ``dlnotes.train.fit`` like ``SequenceModel``; ``attn_weights`` lists each block's last
    attention weights (N, nhead, T, T).
    """

    def __init__(self, input_size, d_model, nhead, dim_feedforward, num_layers=1, output_size=1,
                 causal=False, many_to_many=False, norm_first=False, *, rng, dtype=np.float64):
        super().__init__()
        where = "SequenceTransformer"
        self.input_size = check_int(input_size, "input_size", where, low=1)
        self.d_model = check_int(d_model, "d_model", where, low=2)
        if self.d_model % 2:
            raise ValueError(f"{where}: d_model must be even (sine and cosine pairs), got {d_model}")
        self.nhead = check_int(nhead, "nhead", where, low=1)
        self.dim_feedforward = check_int(dim_feedforward, "dim_feedforward", where, low=1)
        self.num_layers = check_int(num_layers, "num_layers", where, low=1)
        self.output_size = check_int(output_size, "output_size", where, low=1)
        for name, value in (("causal", causal), ("many_to_many", many_to_many), ("norm_first", norm_first)):
            if not isinstance(value, bool):
                raise TypeError(f"{where}: {name} must be a bool, got {type(value).__name__}")
        self.causal, self.many_to_many, self.norm_first = causal, many_to_many, norm_first
        self.embed = Linear(input_size, d_model, rng=rng, dtype=dtype)
        self.layers = [TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0, norm_first=norm_first,
                                               rng=rng, dtype=dtype) for _ in range(self.num_layers)]
        self.head = Linear(d_model, output_size, rng=rng, dtype=dtype)

    def hyperparameters(self):
        names = ("input_size", "d_model", "nhead", "dim_feedforward", "num_layers", "output_size", "causal",
                 "many_to_many", "norm_first")
        return {name: getattr(self, name) for name in names}

    def named_children(self):
        return [("embed", self.embed), *((f"layers.{i}", b) for i, b in enumerate(self.layers)), ("head", self.head)]

    @property
    def attn_weights(self):
        return [block.attn_weights for block in self.layers]

    def forward(self, x, *, train=True):
        """x: (N, T, input_size) → (N, output_size), or (N, T, output_size) if many_to_many."""
        where = self._where("forward")
        train = self._check_train(train)
        layout = f"(N, T, {self.input_size})"
        x = check_input(x, where, layout, 3)
        if x.shape[2] != self.input_size or 0 in x.shape:
            raise ValueError(f"{where}: x must be {layout}, got shape {tuple(x.shape)}")
        t = x.shape[1]
        h = self.embed.forward(x, train=train) + sinusoidal_encoding(t, self.d_model).astype(x.dtype)
        mask = causal_mask(t) if self.causal else None
        for block in self.layers:
            h = block.forward(h, train=train, src_mask=mask)
        y = self.head.forward(h if self.many_to_many else h[:, -1], train=train)
        return self._save(y, h.shape)

    def backward(self, grad_out):
        """grad_out: the output's shape → ∂L/∂x (N, T, input_size); fills every gradient.

        The head's gradient reaches the last position only (many-to-one) or every position; the
        blocks carry it back, and the position code, a constant, passes it unchanged to the embedding.
        """
        grad_out, (h_shape,) = self._saved(grad_out)
        d_head = self.head.backward(grad_out)
        if self.many_to_many:
            d_h = d_head
        else:
            d_h = np.zeros(h_shape, dtype=d_head.dtype)
            d_h[:, -1] = d_head
        for block in reversed(self.layers):
            d_h = block.backward(d_h)
        return self.embed.backward(d_h)

    def torch_structure(self):
        return _torch_sequence_transformer()(self.embed.torch_structure(),
                                             [b.torch_structure() for b in self.layers],
                                             self.head.torch_structure(), self.causal, self.many_to_many)
