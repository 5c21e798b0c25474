"""The Layer base class: parameters, gradients, state and the bridge to torch.nn.

A layer is a differentiable map y = f(x; θ). It keeps

    params   {name: array}  θ, named as in the matching torch.nn module ("weight", "bias")
    grads    {name: array}  ∂L/∂θ, same keys and shapes; ``backward`` overwrites them in place
    buffers  {name: array}  state that is not trained (BatchNorm's running statistics)

Optimisers update the ``params`` arrays in place, so a layer never rebinds them; the lists
from ``parameters()`` and ``gradients()`` therefore stay valid for the layer's whole life.
"""

from collections.abc import Mapping

import numpy as np

from dlnotes._checks import as_float_array, check_bool


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
    """Base class of every dlnotes layer, block and model: the layer contract.

    Every layer (and every container, block or model built from layers) provides

        forward(x, *, train=True) -> y   y = f(x; θ); caches what backward needs. ``train`` is
                                         keyword-only and must be a bool: True uses batch
                                         statistics and drops units, False is eval mode.
        backward(grad_out) -> grad_in    ∂L/∂x from ∂L/∂y (shaped like y); writes ∂L/∂θ into
                                         ``grads``, overwriting (no accumulation, unlike torch's
                                         ``.grad``): call it once after each ``forward``.
        params, grads, buffers           {name: array} named as in the matching torch.nn module;
                                         optimisers update ``params`` arrays in place, so a layer
                                         never rebinds them.
        state_dict() / load_state_dict(state)
                                         copies of params and buffers, torch's keys and order;
                                         loading validates every entry before writing any.
        from_torch(module) / to_torch()  the float64 twin of a torch.nn module, both ways.

    A subclass sets its hyper-parameters as attributes named like torch's (listed in
    ``torch_args``), fills the three dicts in ``__init__`` and implements ``forward`` and
    ``backward``. Containers and blocks list their sub-layers in ``named_children``. Two public
    hooks connect a class to torch, and a new layer overrides them when its constructor differs
    from torch's:

        structure_from_torch(module, rng)  a new dlnotes layer with the module's hyper-parameters
        torch_structure()                  a new torch module with this layer's hyper-parameters

    ``from_torch`` and ``to_torch`` then copy the weights through ``state_dict``.

    Recurrent layers (RNN, LSTM, GRU) follow the same contract: ``forward`` returns the output
    sequence and keeps the final state in ``state``; ``forward_with_state`` is torch's
    ``(output, h_n)`` form. A layer object appears at most once in a model: it keeps a single
    forward cache and a single set of gradients, so containers refuse a repeated object.

    Non-finite values: forward/backward propagate NaN and inf as torch does; an operation that
    changes state (batch-norm running statistics, ``load_state_dict``) refuses them first.
    """

    torch_args = ()

    def __init__(self):
        self.params = {}
        self.grads = {}
        self.buffers = {}
        self._cache = None
        self._out_shape = None

    def __call__(self, x, *, train=True):
        return self.forward(x, train=train)

    def __repr__(self):
        args = ", ".join(f"{name}={value!r}" for name, value in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"

    def hyperparameters(self):
        """{name: value} of the constructor arguments shared with the torch.nn module."""
        return {name: getattr(self, name) for name in self.torch_args}

    # --- forward/backward bookkeeping -------------------------------------------------------

    def _where(self, method):
        return f"{type(self).__name__}.{method}"

    def _check_train(self, train):
        """``train`` as a bool, refusing anything else (``"no"`` is truthy)."""
        return check_bool(train, "train", self._where("forward"))

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

    def named_layers(self, prefix=""):
        """Yield (dotted name, layer) for this layer and every layer below it, depth first."""
        yield prefix, self
        for child_name, child in self.named_children():
            yield from child.named_layers(f"{prefix}{child_name}.")

    def _refuse_repeated_layers(self, where):
        """Raise ValueError if one layer object appears twice below this one.

        A layer keeps the cache of its last forward and overwrites its ``grads`` in backward, so a
        second use would replace the first one's cache and gradients: backward would be wrong.
        """
        seen = {}
        for name, layer in self.named_layers():
            first = seen.setdefault(id(layer), name)
            if first != name:
                raise ValueError(
                    f"{where}: layers must be distinct objects, got the same {type(layer).__name__} at "
                    f"'{first.rstrip('.')}' and '{name.rstrip('.')}' (a layer caches one forward pass "
                    f"and holds one set of gradients; build a second instance instead)"
                )

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
        """Copy arrays from ``state`` (as ``state_dict()`` returns) into this layer, in place.

        Every entry is checked first — the keys, then each value's type, shape and finiteness,
        then what the owning layer requires of it (``check_state``) — and only then is anything
        written, so a refused call leaves the layer exactly as it was.
        """
        where = self._where("load_state_dict")
        if not isinstance(state, Mapping):
            raise TypeError(f"{where}: state must be a mapping of names to arrays, got {type(state).__name__}")
        own = dict(self._named(("params", "buffers")))
        missing, unexpected = own.keys() - state.keys(), state.keys() - own.keys()
        if missing or unexpected:
            raise ValueError(
                f"{where}: state must have the keys {list(own)}, "
                f"missing {sorted(missing)}, unexpected {sorted(map(str, unexpected))}"
            )
        values = {}
        for name, array in own.items():
            value = as_float_array(state[name], name, where)
            if value.shape != array.shape:
                raise ValueError(f"{where}: {name} must have shape {array.shape}, got {value.shape}")
            bad = value.size - np.count_nonzero(np.isfinite(value))
            if bad:
                raise ValueError(f"{where}: {name} must be finite, got {bad} NaN or infinite value(s)")
            values[name] = value
        for prefix, layer in self.named_layers():
            own_keys = [k for kind in ("params", "buffers") for k in getattr(layer, kind)]
            layer.check_state({k: values[prefix + k] for k in own_keys}, where)
        for name, array in own.items():
            array[...] = values[name]

    def check_state(self, state, where):
        """Raise ValueError if this layer's own entries of a state (already finite arrays of the
        right shapes, keyed without prefix) are invalid; subclasses with constraints (a
        non-negative running variance) override it. Called by ``load_state_dict`` before writing."""

    # --- the torch bridge ----------------------------------------------------------------------

    @classmethod
    def structure_from_torch(cls, module, rng):
        """A new layer with the hyper-parameters of ``module`` (weights not yet copied).

        The default reads ``torch_args`` off a ``torch.nn.<ClassName>``; override it when the
        constructor needs more (an ``rng``, options to check).
        """
        require_torch_type(module, cls.__name__, f"{cls.__name__}.from_torch")
        return cls(**{name: getattr(module, name) for name in cls.torch_args})

    def torch_structure(self):
        """A new torch module with this layer's hyper-parameters (weights not yet copied).

        The default builds ``torch.nn.<ClassName>(**hyperparameters())``.
        """
        from torch import nn

        return getattr(nn, type(self).__name__)(**self.hyperparameters())

    @classmethod
    def from_torch(cls, module, *, rng=None):
        """Build the dlnotes twin of a torch module and copy its parameters and buffers.

        ``rng`` feeds layers that draw random numbers after construction (Dropout); without
        one, such layers refuse to be built.
        """
        layer = cls.structure_from_torch(module, rng)
        layer.load_state_dict({name: t.detach().cpu().numpy() for name, t in module.state_dict().items()})
        return layer

    def to_torch(self):
        """The matching torch module in float64, with this layer's parameters and buffers."""
        import torch

        module = self.torch_structure().double()
        module.load_state_dict({name: torch.from_numpy(array) for name, array in self.state_dict().items()})
        return module
