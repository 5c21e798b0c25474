"""The last cell of every chapter: which versions produced the page.

The line describes the reader's environment, so nbval compares it only in part: the rules at the
end of ``nbval_sanitize.cfg`` blank the interpreter's version (any of 3.11-3.13) and PyTorch's
build label (``+cpu``, ``+cu130``), and keep NumPy's and PyTorch's releases, dlnotes's version and
the seed, which must match the stored page.
"""

import platform

import numpy as np

import dlnotes


def report(seed):
    """Return one line naming Python, NumPy, PyTorch (if installed), dlnotes and ``seed``."""
    parts = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    try:
        import torch
    except ImportError:
        parts.append("PyTorch not installed")
    else:
        parts.append(f"PyTorch {torch.__version__}")
    parts += [f"dlnotes {dlnotes.__version__}", f"seed {seed}"]
    return " | ".join(parts)
