"""Sequential: layers applied one after another, with the chain rule run backwards."""

from dlnotes.layers import activation, conv, dropout, linear, norm, pooling, shape
from dlnotes.layers.base import Layer, require_torch_type

# torch.nn class name → dlnotes class; the names are the same on both sides, except for blocks
# whose torch twin has its own name (they add themselves with ``register_torch_type``).
_LAYER_TYPES = {
    cls.__name__: cls
    for cls in (
        linear.Linear, conv.Conv2d, pooling.MaxPool2d, pooling.AvgPool2d, shape.Flatten,
        dropout.Dropout, dropout.Dropout2d, norm.BatchNorm1d, norm.BatchNorm2d,
        *activation.ACTIVATION_LAYERS.values(),
    )
}


def register_torch_type(torch_name, cls):
    """Let ``Sequential.from_torch`` convert children of the torch class ``torch_name`` with ``cls``."""
    _LAYER_TYPES[torch_name] = cls


def require_same_structure(layer, structure, module, where):
    """Raise ValueError unless ``layer`` and ``structure`` (``module`` as read by
    ``Sequential.structure_from_torch``) have the same layers with the same options.

    Used by ``from_torch`` of layers built from a few arguments (MLP, CNN, ...): they read the
    arguments off the torch module, rebuild themselves, then check that nothing was missed.
    """
    expected = repr(layer.torch_structure())
    if expected != repr(structure.torch_structure()):
        raise ValueError(f"{where}: module must be laid out as\n{expected}\ngot\n{module!r}")


class Sequential(Layer):
    """y = f_L(… f_2(f_1(x))), as torch.nn.Sequential.

    backward applies the chain rule in reverse order: g ← f_k.backward(g) for k = L … 1, each
    layer multiplying by its own Jacobian (transposed) and filling its own grads.
    ``parameters()``/``gradients()`` list every layer's arrays in order, with the dotted names
    of torch ("0.weight", "0.bias", "2.weight", …) in ``named_parameters()``.
    """

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential: layer {i} must be a dlnotes Layer, got {type(layer).__name__}")
        self.layers = list(layers)
        self._refuse_repeated_layers(type(self).__name__)

    def __repr__(self):
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"{type(self).__name__}({inner}\n)"

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, index):
        return self.layers[index]

    def named_children(self):
        return [(str(i), layer) for i, layer in enumerate(self.layers)]

    def forward(self, x, *, train=True):
        """Pass x through every layer in order; ``train`` is handed to each of them."""
        train = self._check_train(train)
        for layer in self.layers:
            x = layer.forward(x, train=train)
        return x

    def backward(self, grad_out):
        """Pass ∂L/∂y back through the layers in reverse order; returns ∂L/∂x."""
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    @classmethod
    def structure_from_torch(cls, module, rng):
        require_torch_type(module, "Sequential", f"{cls.__name__}.from_torch")
        layers = []
        for i, child in enumerate(module):
            kind = _LAYER_TYPES.get(type(child).__name__)
            if kind is None:
                raise TypeError(
                    f"{cls.__name__}.from_torch: module[{i}] must be one of {sorted(_LAYER_TYPES)}, "
                    f"got {type(child).__name__}"
                )
            layers.append(kind.structure_from_torch(child, rng))
        return Sequential(*layers)

    def torch_structure(self):
        from torch import nn

        return nn.Sequential(*(layer.torch_structure() for layer in self.layers))


register_torch_type("Sequential", Sequential)  # nested nn.Sequential modules convert too
