"""dlnotes: small, readable NumPy reference implementations for the dlnotes textbook.

Every numerical result here is checked against PyTorch in ``tests/``. Import the
submodules you need, e.g. ``from dlnotes import activations, losses``.
"""

__version__ = "0.1.0"
