"""The attention explorer: one query's scores, softmax weights and output, live in the page.

Python draws seeded queries and keys (one row per token, ``max(DKS)`` features, entries N(0, 1))
and 2-D values, and stores them in the synced traits; the browser (``attnmath.js``) computes
scaled dot-product attention from them on every change of a control, with the first ``dk``
features. ``weights``/``outputs`` compute the same in Python with ``dlnotes.layers.attention``.
"""

import math

import anywidget
import numpy as np
import traitlets

from dlnotes._checks import check_choice
from dlnotes.layers.attention import attention_weights, causal_mask
from dlnotes.widgets._bundle import HERE, css, esm

TOKENS = ("the", "cat", "sat", "on", "the", "mat")
DKS = (1, 2, 4, 8, 16, 32, 64)
MASKS = ("none", "causal", "padding")
PADDING = 2  # with mask "padding", the last two keys are padding
SEED = 0


def _draw(seed=SEED):
    """(queries, keys, values): (T, 64), (T, 64), (T, 2) as nested lists, from a seeded Generator."""
    rng = np.random.default_rng(seed)
    count = len(TOKENS)
    queries, keys = rng.standard_normal((2, count, max(DKS)))
    angles = 2 * np.pi * np.arange(count) / count
    values = np.stack([np.cos(angles), np.sin(angles)], axis=1) + 0.2 * rng.standard_normal((count, 2))
    return queries.tolist(), keys.tolist(), values.tolist()


def mask_array(mask, count, padding=PADDING):
    """Boolean (count, count), True where a query may not attend: ``attnmath.js``'s ``blocked``."""
    if mask == "causal":
        return causal_mask(count)
    blocked = np.zeros((count, count), dtype=bool)
    if mask == "padding":
        blocked[:, count - padding:] = True
    return blocked


class AttentionExplorer(anywidget.AnyWidget):
    """Traits: query (a position), dk (one of DKS), scaled (divide by √dk), mask (one of MASKS)."""

    _esm = esm("attention.js")
    _css = css() + (HERE / "attention.css").read_text(encoding="utf-8")

    query = traitlets.Int(2).tag(sync=True)
    dk = traitlets.Int(16).tag(sync=True)
    scaled = traitlets.Bool(True).tag(sync=True)
    mask = traitlets.Unicode("none").tag(sync=True)
    tokens = traitlets.List(list(TOKENS)).tag(sync=True)
    padding = traitlets.Int(PADDING).tag(sync=True)
    options = traitlets.Dict({"dks": DKS, "masks": MASKS}).tag(sync=True)
    query_vectors = traitlets.List().tag(sync=True)
    key_vectors = traitlets.List().tag(sync=True)
    value_vectors = traitlets.List().tag(sync=True)

    def __init__(self, seed=SEED, **traits):
        queries, keys, values = _draw(seed)
        super().__init__(query_vectors=queries, key_vectors=keys, value_vectors=values, **traits)

    def __repr__(self):
        return f"AttentionExplorer(query={self.query}, dk={self.dk}, scaled={self.scaled}, mask={self.mask!r})"

    @traitlets.validate("query")
    def _check_query(self, proposal):
        if not 0 <= proposal.value < len(self.tokens):
            raise ValueError(f"AttentionExplorer: query must be in [0, {len(self.tokens) - 1}], got {proposal.value}")
        return proposal.value

    @traitlets.validate("dk", "mask")
    def _check_choice(self, proposal):
        name = proposal.trait.name
        return check_choice(proposal.value, name, "AttentionExplorer", self.options[f"{name}s"])

    @property
    def weights(self):
        """(T, T): the softmax weights of every query, as the page computes them."""
        q, k = (np.asarray(a)[:, :self.dk] for a in (self.query_vectors, self.key_vectors))
        scale = 1 / math.sqrt(self.dk) if self.scaled else 1.0
        return attention_weights(q, k, mask_array(self.mask, len(self.tokens), self.padding), scale)

    @property
    def outputs(self):
        """(T, 2): each query's weighted mean of the values."""
        return self.weights @ np.asarray(self.value_vectors)


def attention_explorer(**traits):
    """The explorer, ready to display: ``attention_explorer(dk=64, scaled=False)``."""
    return AttentionExplorer(**traits)
