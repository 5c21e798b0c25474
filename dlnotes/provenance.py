"""The last cell of every chapter: which versions produced the page."""

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
