"""Layers with explicit forward and backward passes, each the twin of a torch.nn module.

Every layer keeps ``params``/``grads`` dicts named as in torch, caches in ``forward(x, *, train=True)``
what ``backward(grad_out)`` needs, and converts with ``from_torch(module)`` / ``to_torch()``.
The recurrent layers (RNN, LSTM, GRU) are in ``dlnotes.layers.recurrent``.
"""

from dlnotes.layers.activation import ACTIVATION_LAYERS, GELU, LeakyReLU, ReLU, Sigmoid, Tanh, activation_layer
from dlnotes.layers.base import Layer
from dlnotes.layers.blocks import DepthwiseSeparableConv, ResidualBlock
from dlnotes.layers.container import Sequential
from dlnotes.layers.conv import Conv2d, col2im, im2col
from dlnotes.layers.dropout import Dropout, Dropout2d
from dlnotes.layers.linear import Linear
from dlnotes.layers.norm import BatchNorm1d, BatchNorm2d
from dlnotes.layers.pooling import AvgPool2d, MaxPool2d
from dlnotes.layers.recurrent import GRU, LSTM, RNN
from dlnotes.layers.shape import Flatten
from dlnotes.layers.attention import MultiheadAttention, causal_mask, scaled_dot_product_attention
from dlnotes.layers.embedding import Embedding
from dlnotes.layers.layernorm import LayerNorm
from dlnotes.layers.positional import sinusoidal_encoding
from dlnotes.layers.transformer import TransformerEncoderLayer

__all__ = [
    "ACTIVATION_LAYERS", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "DepthwiseSeparableConv",
    "Dropout", "Dropout2d", "Flatten", "GELU", "GRU", "LSTM", "Layer", "LeakyReLU", "Linear", "MaxPool2d",
    "ReLU", "RNN", "ResidualBlock", "Sequential", "Sigmoid", "Tanh", "activation_layer", "col2im", "im2col",
]
__all__ += ["Embedding", "LayerNorm", "MultiheadAttention", "TransformerEncoderLayer", "causal_mask",
            "scaled_dot_product_attention", "sinusoidal_encoding"]
