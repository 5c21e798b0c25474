"""dlnotes: small, readable NumPy reference implementations for the dlnotes textbook.

Every numerical result here is checked against PyTorch in ``tests/``. Import the
submodules you need, e.g. ``from dlnotes import activations, losses``.

Non-finite values (NaN, ±inf) follow one policy across the package:

- Pure functions (activations, losses, a layer's forward and backward, eval-mode batch norm)
  propagate NaN and inf as torch does: a NaN in comes out as a NaN where torch's would.
- Stateful operations refuse non-finite input before they change any state, with a ValueError
  naming the argument: an optimiser's ``step`` (the gradients), batch norm in training (its
  running statistics), ``load_state_dict`` and ``deploy.load_npz``, ``clip_grad_norm`` (it scales
  in place), RBM and DBN training. A refused call leaves every array as it was.
- Range checks are NaN-proof: they test that values lie inside the range (``(x >= 0) & (x <= 1)``),
  which NaN fails, never that they lie outside it (``(x < 0) | (x > 1)``, which NaN passes).
"""

__version__ = "0.1.0"
