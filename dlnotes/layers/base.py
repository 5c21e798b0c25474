"""The Layer base class: parameters, gradients, state and the bridge to torch.nn.

A layer is a differentiable map y = f(x; θ). It keeps

    params   {name: array}  θ, named as in the matching torch.nn module ("weight", "bias")
    grads    {name: array}  ∂L/∂θ, same keys and shapes; ``backward`` overwrites them in place
    buffers  {name: array}  state that is not trained (BatchNorm's running statistics)

Optimisers update the ``params`` arrays in place, so a layer never rebinds them; the lists
from ``parameters()`` and ``gradients()`` therefore stay valid for the layer's whole life.
"""

import numpy as np

from dlnotes._checks import as_float_array


def init_rng(rng):
    """The Generator a layer built by ``from_torch`` initialises itself with.

    Its first draws are overwritten by the torch weights at once, so when the caller gives no
    ``rng`` any fixed Generator will do. Layers whose randomness matters later (Dropout) take
    the caller's ``rng`` instead.
    """
    return np.random.default_rng(0) if rng is None else rng


def check_input(x, where, layout, ndim, channels=None, name="x"):
    """Return ``x`` as a float array, raising ValueError unless ``x.ndim`` is in ``ndim``
    (an int or a tuple) and, when ``channels`` is given, ``x.shape[1] == channels``.

    The message names the argument and the expected layout, e.g.
    ``"Conv2d.forward: x must be (N, 3, H, W), got shape (8, 1, 28, 28)"``.
    """
    x = as_float_array(x, name, where)
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if x.ndim not in allowed or (channels is not None and x.shape[1] != channels):
        raise ValueError(f"{where}: {name} must be {layout}, got shape {tuple(x.shape)}")
    return x


def require_torch_type(module, name, where):
    """Raise TypeError unless ``module`` is a ``torch.nn.<name>``."""
    from torch import nn

    if not isinstance(module, getattr(nn, name)):
        raise TypeError(f"{where}: module must be a torch.nn.{name}, got {type(module).__name__}")


def require_torch_options(module, where, **expected):
    """Raise ValueError if a torch module uses an option dlnotes does not implement."""
    for option, value in expected.items():
        actual = getattr(module, option)
        if actual != value:
            raise ValueError(f"{where}: only {option}={value!r} is supported, got {option}={actual!r}")


class Layer:
    """Base class of every dlnotes layer.

    A subclass sets its hyper-parameters as attributes named like torch's (listed in
    ``torch_args``), fills ``params``/``grads``/``buffers`` in ``__init__`` and implements

        forward(x, train=True) -> y      caches what backward needs (via ``_save``)
        backward(grad_out) -> grad_in    ∂L/∂x from ∂L/∂y, writing ∂L/∂θ into ``grads``

    ``backward`` overwrites ``grads`` (no accumulation, unlike torch's ``.grad``); call it once
    after each ``forward``. Containers and blocks list their sub-layers in ``named_children``.
    """

    torch_args = ()

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.buffers = {}
        self._cache = None
        self._out_shape = None

    def __call__(self, x, train=True):
        return self.forward(x, train)

    def __repr__(self):
        args = ", ".join(f"{name}={value!r}" for name, value in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"

    def hyperparameters(self):
        """{name: value} of the constructor arguments shared with the torch.nn module."""
        return {name: getattr(self, name) for name in self.torch_args}

    # --- forward/backward bookkeeping -------------------------------------------------------

    def _where(self, method):
        return f"{type(self).__name__}.{method}"

    def _save(self, out, *cache):
        """Remember what backward needs and the output's shape; return ``out``."""
        self._cache = cache
        self._out_shape = out.shape
        return out

    def _saved(self, grad_out):
        """(grad_out as a checked float array, the cache saved by the last forward)."""
        where = self._where("backward")
        if self._cache is None:
            raise RuntimeError(f"{where}: call forward before backward")
        grad_out = as_float_array(grad_out, "grad_out", where)
        if grad_out.shape != self._out_shape:
            raise ValueError(
                f"{where}: grad_out must have the forward output's shape {tuple(self._out_shape)}, "
                f"got {tuple(grad_out.shape)}"
            )
        return grad_out, self._cache

    # --- parameters, in torch's order --------------------------------------------------------

    def named_children(self):
        """[(name, sub-layer)] in torch's registration order; leaves have none."""
        return []

    def _named(self, kinds, prefix=""):
        """Yield (dotted name, array) from the dicts ``kinds``: own entries first, then children's."""
        for kind in kinds:
            for name, array in getattr(self, kind).items():
                yield prefix + name, array
        for child_name, child in self.named_children():
            yield from child._named(kinds, f"{prefix}{child_name}.")

    def named_parameters(self):
        """[(name, array)] with torch's dotted names, in the order of ``module.named_parameters()``."""
        return list(self._named(("params",)))

    def parameters(self):
        """The parameter arrays (updated in place by an optimiser), in torch's order."""
        return [array for _, array in self._named(("params",))]

    def gradients(self):
        """The gradient arrays, in the order of ``parameters()``."""
        return [array for _, array in self._named(("grads",))]

    def num_parameters(self):
        """Total number of trainable scalars."""
        return sum(p.size for p in self.parameters())

    def zero_grad(self):
        """Set every gradient to zero, in place."""
        for grad in self.gradients():
            grad.fill(0)

    def state_dict(self):
        """{name: copy} of parameters and buffers, keyed and ordered like torch's ``state_dict()``."""
        return {name: array.copy() for name, array in self._named(("params", "buffers"))}

    def load_state_dict(self, state):
        """Copy arrays from ``state`` (as ``state_dict()`` returns) into this layer, in place."""
        where = self._where("load_state_dict")
        own = dict(self._named(("params", "buffers")))
        missing, unexpected = own.keys() - state.keys(), state.keys() - own.keys()
        if missing or unexpected:
            raise ValueError(
                f"{where}: state must have the keys {list(own)}, "
                f"missing {sorted(missing)}, unexpected {sorted(unexpected)}"
            )
        for name, array in own.items():
            value = np.asarray(state[name])
            if value.shape != array.shape:
                raise ValueError(f"{where}: {name} must have shape {array.shape}, got {value.shape}")
            array[...] = value

    # --- the torch bridge ----------------------------------------------------------------------

    @classmethod
    def _structure_from_torch(cls, module, rng):
        """A new layer with the hyper-parameters of ``module`` (weights not yet copied)."""
        require_torch_type(module, cls.__name__, f"{cls.__name__}.from_torch")
        return cls(**{name: getattr(module, name) for name in cls.torch_args})

    def _torch_structure(self):
        """A new torch module with this layer's hyper-parameters (weights not yet copied)."""
        from torch import nn

        return getattr(nn, type(self).__name__)(**self.hyperparameters())

    @classmethod
    def from_torch(cls, module, *, rng=None):
        """Build the dlnotes twin of a torch module and copy its parameters and buffers.

        ``rng`` feeds layers that draw random numbers after construction (Dropout); without
        one, such layers refuse to be built.
        """
        layer = cls._structure_from_torch(module, rng)
        layer.load_state_dict({name: t.detach().cpu().numpy() for name, t in module.state_dict().items()})
        return layer

    def to_torch(self):
        """The matching torch module in float64, with this layer's parameters and buffers."""
        import torch

        module = self._torch_structure().double()
        module.load_state_dict({name: torch.from_numpy(array) for name, array in self.state_dict().items()})
        return module
