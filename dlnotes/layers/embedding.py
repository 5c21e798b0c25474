"""Embedding: a lookup table from integer tokens to learned vectors."""

import numpy as np

from dlnotes import init
from dlnotes._checks import check_generator, check_int
from dlnotes.layers.base import Layer, init_rng, require_torch_type


class Embedding(Layer):
    """y[…] = W[idx[…]], as torch.nn.Embedding (without padding_idx, max_norm or sparse gradients).

    weight W: (num_embeddings, embedding_dim), initialised N(0, 1) as torch does. The lookup is a
    product with one-hot rows, y = onehot(idx) W, so its gradient is

        ∂L/∂W[v] = Σ_{positions p with idx[p] = v} dy[p]      (a token used twice gets both gradients)

    Shapes: idx (*) integers in [0, num_embeddings) → y (*, embedding_dim). The indices are not
    differentiable, so ``backward`` fills ``grads`` and returns None.
    """

    torch_args = ("num_embeddings", "embedding_dim")

    def __init__(self, num_embeddings, embedding_dim, *, rng, dtype=np.float64):
        super().__init__()
        where = "Embedding"
        self.num_embeddings = check_int(num_embeddings, "num_embeddings", where, low=1)
        self.embedding_dim = check_int(embedding_dim, "embedding_dim", where, low=1)
        rng = check_generator(rng, where)
        self.params["weight"] = init.normal((self.num_embeddings, self.embedding_dim), 1.0, rng=rng).astype(dtype)
        self.grads["weight"] = np.zeros_like(self.params["weight"])

    def forward(self, idx, *, train=True):
        """idx: integer array (*) → (*, embedding_dim). ``train`` is unused."""
        where = self._where("forward")
        self._check_train(train)
        idx = np.asarray(idx)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"{where}: idx must be an integer array, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            raise ValueError(f"{where}: idx must be in [0, {self.num_embeddings}), "
                             f"got values from {idx.min()} to {idx.max()}")
        return self._save(self.params["weight"][idx], idx)

    def backward(self, grad_out):
        """grad_out: (*, embedding_dim) → None; adds each row of grad_out to its token's row of ∂L/∂W."""
        grad_out, (idx,) = self._saved(grad_out)
        self.grads["weight"][...] = 0.0
        np.add.at(self.grads["weight"], idx.reshape(-1), grad_out.reshape(-1, self.embedding_dim))
        return None

    @classmethod
    def structure_from_torch(cls, module, rng):
        where = "Embedding.from_torch"
        require_torch_type(module, "Embedding", where)
        for option, default in (("padding_idx", None), ("max_norm", None), ("sparse", False)):
            if getattr(module, option) != default:
                raise ValueError(f"{where}: only {option}={default!r} is supported, "
                                 f"got {option}={getattr(module, option)!r}")
        return cls(module.num_embeddings, module.embedding_dim, rng=init_rng(rng))
