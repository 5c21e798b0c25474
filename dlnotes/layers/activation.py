"""Activation layers: the functions of ``dlnotes.activations`` with a forward/backward interface."""

from dlnotes import activations
from dlnotes._checks import as_float_array, check_choice, check_real
from dlnotes.layers.base import Layer, require_torch_options, require_torch_type


class _Elementwise(Layer):
    """y = f(x) elementwise; backward: ∂L/∂x = dy · f′(x), with f′ evaluated at the cached x."""

    def forward(self, x, *, train=True):
        """x: any shape → f(x), same shape. ``train`` is unused."""
        self._check_train(train)
        x = as_float_array(x, "x", self._where("forward"))
        return self._save(self.function(x), x)

    def backward(self, grad_out):
        """grad_out: the shape of x → grad_out · f′(x)."""
        grad_out, (x,) = self._saved(grad_out)
        return grad_out * self.derivative(x)


class ReLU(_Elementwise):
    """max(x, 0); derivative 1 for x > 0, else 0. As torch.nn.ReLU."""

    function = staticmethod(activations.relu)
    derivative = staticmethod(activations.relu_grad)


class Sigmoid(_Elementwise):
    """σ(x) = 1 / (1 + e^(−x)); derivative σ(1 − σ) ≤ 1/4. As torch.nn.Sigmoid."""

    function = staticmethod(activations.sigmoid)
    derivative = staticmethod(activations.sigmoid_grad)


class Tanh(_Elementwise):
    """tanh(x) = 2σ(2x) − 1; derivative 1 − tanh² ≤ 1. As torch.nn.Tanh."""

    function = staticmethod(activations.tanh)
    derivative = staticmethod(activations.tanh_grad)


class LeakyReLU(_Elementwise):
    """x for x > 0, negative_slope·x otherwise. As torch.nn.LeakyReLU."""

    torch_args = ("negative_slope",)

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = check_real(negative_slope, "negative_slope", "LeakyReLU")

    def function(self, x):
        return activations.leaky_relu(x, self.negative_slope)

    def derivative(self, x):
        return activations.leaky_relu_grad(x, self.negative_slope)


class GELU(_Elementwise):
    """x·Φ(x) with Φ the standard normal CDF (the exact, erf form). As torch.nn.GELU()."""

    function = staticmethod(activations.gelu)
    derivative = staticmethod(activations.gelu_grad)

    @classmethod
    def structure_from_torch(cls, module, rng):
        require_torch_type(module, "GELU", "GELU.from_torch")
        require_torch_options(module, "GELU.from_torch", approximate="none")
        return cls()


# The activation layers by the names that `activation=` arguments take (MLP, CNN, activation_layer).
ACTIVATION_LAYERS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh, "leaky_relu": LeakyReLU, "gelu": GELU}


def activation_layer(name, where="activation_layer"):
    """A new activation layer from its name: one of the keys of ``ACTIVATION_LAYERS``."""
    return ACTIVATION_LAYERS[check_choice(name, "activation", where, tuple(ACTIVATION_LAYERS))]()
