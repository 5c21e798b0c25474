"""Parity with PyTorch in one line: how far is a dlnotes result from torch's?

    >>> print(report("softmax", softmax(x), torch.softmax(torch.from_numpy(x), -1)))
    softmax: max |dlnotes - torch| = 2.2e-16

dlnotes never imports torch itself: a tensor can only exist if the caller has imported torch,
so ``to_numpy`` looks it up in ``sys.modules`` and the package runs without torch installed.
"""

import sys

import numpy as np


def to_numpy(t):
    """A NumPy array from a torch tensor (detached, on the CPU) or anything array-like."""
    torch = sys.modules.get("torch")  # None unless the caller imported torch
    if torch is not None and isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t)


def max_abs_diff(a, b):
    """max |a − b| over all entries, as a float; a and b (arrays or tensors) must have one shape."""
    a, b = to_numpy(a), to_numpy(b)
    if a.shape != b.shape:
        raise ValueError(f"max_abs_diff: b must have the shape of a {a.shape}, got {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def report(name, a, b):
    """One line such as ``"softmax: max |dlnotes - torch| = 2.2e-16"`` (a: dlnotes, b: torch)."""
    return f"{name}: max |dlnotes - torch| = {max_abs_diff(a, b):.1e}"
