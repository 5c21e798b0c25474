"""Whole networks assembled from ``dlnotes.layers``: MLP, a small CNN, a VAE, RBMs and a DBN.

Each is a Sequential with ``parameters()``/``gradients()`` for the optimisers,
``forward(x, *, train=True)``/``backward(grad_out)``, ``predict``/``predict_proba``, and
``to_torch()``/``from_torch()`` for the whole model. ``SequenceModel`` puts a Linear head on an
RNN, LSTM or GRU. The generative models (``VAE``, ``RBM``,
``DBN``) have their own training interfaces, described in their modules.
"""

from dlnotes.models.cnn import CNN
from dlnotes.models.mlp import MLP
from dlnotes.models.rbm import DBN, RBM
from dlnotes.models.sequence import SequenceModel
from dlnotes.models.vae import VAE
from dlnotes.models.transformer import SequenceTransformer

__all__ = ["CNN", "DBN", "MLP", "RBM", "SequenceModel", "VAE"]
__all__ += ["SequenceTransformer"]
