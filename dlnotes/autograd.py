"""A small reverse-mode automatic differentiation engine on NumPy arrays.

A ``Tensor`` wraps an array and remembers the operation that produced it. Every operation below
computes its result and defines, right beside it, its local backward: given g = ∂L/∂out it returns
∂L/∂input for each input (the chain rule, one node at a time). ``loss.backward()`` visits the graph
from the loss back to the leaves in reverse topological order and adds the gradients up:

    x = Tensor(np.random.default_rng(0).standard_normal((4, 3)))
    w = Tensor(np.zeros((2, 3)))
    loss = (x @ w.T).tanh().sum()
    loss.backward()          # fills w.grad (2, 3) and x.grad (4, 3)

Broadcasting works as in NumPy; its backward sums the gradient over the broadcast axes
(``_unbroadcast``). Python numbers and arrays may appear on either side of + − * / @.
Checked against torch.autograd in float64 in ``tests/test_autograd.py``.
"""

import numbers

import numpy as np

from dlnotes import activations
from dlnotes._checks import as_float_array, check_axis, check_bool, check_choice, check_generator


class Tensor:
    """An array with a gradient. data: ndarray (float64 unless float32 is given); grad: same shape or None.

    A float array passed as ``data`` is used as is, not copied, so an optimiser that updates
    ``t.data`` in place updates the Tensor.

    requires_grad=False marks a constant: no gradient is computed for it or through it alone.
    ``.grad`` accumulates over ``backward`` calls (as in PyTorch); ``zero_grad`` resets it.
    """

    __array_ufunc__ = None  # make `ndarray + Tensor` call Tensor.__radd__ instead of NumPy's loop

    def __init__(self, data, requires_grad=True):
        self.data = as_float_array(data, "data", "Tensor")
        self.requires_grad = check_bool(requires_grad, "requires_grad", "Tensor")
        self.grad = None
        self._parents = ()
        self._backward = None  # g ↦ (∂L/∂parent for each parent), set by the op that made this Tensor
        self._op = ""

    def __repr__(self):
        op = f", op={self._op!r}" if self._op else ""
        return f"Tensor(shape={self.shape}, dtype={self.data.dtype}{op})"

    @property
    def shape(self):
        return self.data.shape

    @property
    def parents(self):
        """The Tensors the operation that made this one consumed (constants included); () for a leaf."""
        return self._parents

    @property
    def op(self):
        """The symbol or name of that operation, e.g. "*" or "log"; "" for a leaf."""
        return self._op

    def _lift(self, other):
        """Wrap a number or array as a constant Tensor; numbers take this Tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, numbers.Real) and not isinstance(other, bool):
            return Tensor(np.asarray(other, dtype=self.data.dtype), requires_grad=False)
        return Tensor(as_float_array(other, "other", "Tensor"), requires_grad=False)

    # ---- arithmetic (binary ops broadcast; the engine un-broadcasts their gradients) --------------

    def __add__(self, other):
        other = self._lift(other)
        _check_broadcast(self, other, "+")

        def backward(g):  # ∂(a+b)/∂a = ∂(a+b)/∂b = 1
            return g, g

        return _node(self.data + other.data, (self, other), backward, "+")

    def __sub__(self, other):
        other = self._lift(other)
        _check_broadcast(self, other, "-")

        def backward(g):  # ∂(a−b)/∂a = 1, ∂(a−b)/∂b = −1
            return g, -g

        return _node(self.data - other.data, (self, other), backward, "-")

    def __mul__(self, other):
        other = self._lift(other)
        _check_broadcast(self, other, "*")

        def backward(g):  # ∂(a·b)/∂a = b, ∂(a·b)/∂b = a
            return g * other.data, g * self.data

        return _node(self.data * other.data, (self, other), backward, "*")

    def __truediv__(self, other):
        other = self._lift(other)
        _check_broadcast(self, other, "/")

        def backward(g):  # ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b²
            return g / other.data, -g * self.data / (other.data * other.data)

        return _node(self.data / other.data, (self, other), backward, "/")

    def __matmul__(self, other):
        other = self._lift(other)
        a, b = self.data, other.data
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"Tensor @: operands must have at least one axis, got shapes {a.shape} and {b.shape}")
        # A 1-D operand is a row (left) or a column (right) vector, as in np.matmul.
        a2 = a if a.ndim > 1 else a[None, :]
        b2 = b if b.ndim > 1 else b[:, None]
        if a2.shape[-1] != b2.shape[-2]:
            raise ValueError(
                f"Tensor @: the last axis of the left operand must match the "
                f"{'only' if b.ndim == 1 else 'second-to-last'} axis of the right one, "
                f"got shapes {a.shape} and {b.shape}"
            )
        _check_broadcast(a2.shape[:-2], b2.shape[:-2], "@", (a.shape, b.shape))

        def backward(g):  # C = A·B:  ∂L/∂A = G·Bᵀ,  ∂L/∂B = Aᵀ·G  (batch axes summed by _unbroadcast)
            g2 = g.reshape(np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (a2.shape[-2], b2.shape[-1]))
            grad_a = _unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
            grad_b = _unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape)
            return grad_a, grad_b

        return _node(a @ b, (self, other), backward, "@")

    def __pow__(self, exponent):
        if isinstance(exponent, bool) or not isinstance(exponent, numbers.Real):
            raise TypeError(f"Tensor **: exponent must be a real number, got {type(exponent).__name__}")
        p = float(exponent)

        def backward(g):  # ∂(aᵖ)/∂a = p·aᵖ⁻¹
            return (g * p * self.data ** (p - 1.0),)

        return _node(self.data**p, (self,), backward, "**")

    def __neg__(self):
        def backward(g):  # ∂(−a)/∂a = −1
            return (-g,)

        return _node(-self.data, (self,), backward, "neg")

    def __radd__(self, other):
        return self._lift(other) + self

    def __rsub__(self, other):
        return self._lift(other) - self

    def __rmul__(self, other):
        return self._lift(other) * self

    def __rtruediv__(self, other):
        return self._lift(other) / self

    def __rmatmul__(self, other):
        return self._lift(other) @ self

    # ---- elementwise functions --------------------------------------------------------------------

    def exp(self):
        out = np.exp(self.data)

        def backward(g):  # ∂eᵃ/∂a = eᵃ: reuse the forward result
            return (g * out,)

        return _node(out, (self,), backward, "exp")

    def log(self):
        def backward(g):  # ∂log a/∂a = 1/a
            return (g / self.data,)

        return _node(np.log(self.data), (self,), backward, "log")

    def relu(self):
        def backward(g):  # relu′(a) = 1 for a > 0, else 0
            return (g * activations.relu_grad(self.data),)

        return _node(activations.relu(self.data), (self,), backward, "relu")

    def sigmoid(self):
        out = activations.sigmoid(self.data)

        def backward(g):  # σ′ = σ·(1 − σ)
            return (g * out * (1.0 - out),)

        return _node(out, (self,), backward, "sigmoid")

    def tanh(self):
        out = activations.tanh(self.data)

        def backward(g):  # tanh′ = 1 − tanh²
            return (g * (1.0 - out * out),)

        return _node(out, (self,), backward, "tanh")

    def log_softmax(self, axis=-1):
        out = activations.log_softmax(self.data, axis=axis)

        def backward(g):  # y = x − logΣeˣ:  ∂L/∂x = g − softmax(x)·Σ g   (sums along axis)
            return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)

        return _node(out, (self,), backward, "log_softmax")

    # ---- reductions and shape changes -------------------------------------------------------------

    def sum(self, axis=None, keepdims=False):
        axes = _axes(axis, self.data.ndim, "Tensor.sum")

        def backward(g):  # every summed entry receives the gradient of the sum
            g = g if keepdims else np.expand_dims(g, axes)
            return (np.broadcast_to(g, self.shape),)

        return _node(np.sum(self.data, axis=axes, keepdims=keepdims), (self,), backward, "sum")

    def mean(self, axis=None, keepdims=False):
        axes = _axes(axis, self.data.ndim, "Tensor.mean")
        count = int(np.prod([self.shape[ax] for ax in axes]))
        return self.sum(axis=axes, keepdims=keepdims) / count

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        shape = tuple(shape)
        if any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < -1 for n in shape):
            raise ValueError(f"Tensor.reshape: shape must be integers >= -1, got {shape}")
        known = int(np.prod([n for n in shape if n != -1]))
        free = shape.count(-1)
        if free > 1 or (free == 0 and known != self.data.size) or (
            free == 1 and (known == 0 or self.data.size % known)
        ):
            raise ValueError(
                f"Tensor.reshape: shape {shape} does not fit the {self.data.size} elements of shape {self.shape}"
            )

        def backward(g):  # a reshape moves no values: reshape the gradient back
            return (g.reshape(self.shape),)

        return _node(self.data.reshape(shape), (self,), backward, "reshape")

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
        ndim = self.data.ndim
        if axes:
            bad = any(isinstance(ax, bool) or not isinstance(ax, numbers.Integral) or not -ndim <= ax < ndim
                      for ax in axes)
            if bad or len(axes) != ndim or len({ax % ndim for ax in axes}) != ndim:
                raise ValueError(
                    f"Tensor.transpose: axes must be a permutation of the {ndim} axes of shape {self.shape}, "
                    f"got {tuple(axes)}"
                )
        perm = tuple(ax % ndim for ax in axes) if axes else tuple(reversed(range(ndim)))

        def backward(g):  # undo the permutation
            return (np.transpose(g, np.argsort(perm)),)

        return _node(np.transpose(self.data, perm), (self,), backward, "transpose")

    @property
    def T(self):
        return self.transpose()

    # ---- the engine -------------------------------------------------------------------------------

    def backward(self, grad=None):
        """Add ∂self/∂t to ``t.grad`` for every Tensor t in the graph that requires grad.

        grad: ∂L/∂self, the shape of self; may be omitted when self holds a single number (it is 1).
        """
        if not self.requires_grad:
            raise ValueError("backward: this Tensor does not require grad (no input has requires_grad=True)")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward: grad must be given for a Tensor with more than one element, got shape {self.shape}"
                )
            grad = np.ones_like(self.data)
        grad = as_float_array(grad, "grad", "backward")
        if grad.shape != self.shape:
            raise ValueError(f"backward: grad must have shape {self.shape}, got {grad.shape}")

        pending = {self: grad}  # ∂L/∂node summed over the paths seen so far
        for node in reversed(topological_order(self)):
            if not node.requires_grad:
                continue  # a constant: no gradient flows to it
            g = pending.pop(node)
            node.grad = g.copy() if node.grad is None else node.grad + g
            if node._backward is None:
                continue  # a leaf
            for parent, parent_grad in zip(node._parents, node._backward(g)):
                if parent.requires_grad:
                    parent_grad = _unbroadcast(parent_grad, parent.shape)
                    pending[parent] = pending[parent] + parent_grad if parent in pending else parent_grad


def _node(data, parents, backward, op):
    """The Tensor an operation returns: its value, its inputs and its local backward."""
    out = Tensor(data, requires_grad=any(p.requires_grad for p in parents))
    if out.requires_grad:
        out._parents, out._backward, out._op = parents, backward, op
    return out


def topological_order(root):
    """Every Tensor ``root`` was computed from (constants included) and ``root`` itself, each after
    all of its inputs: the order a forward pass could recompute them in; ``backward`` walks it
    backwards, ``dlnotes.compgraph`` draws it.

    Depth-first search with an explicit stack, so a chain of any length works (no recursion). A
    node is pushed once to be expanded and once more to be emitted after its inputs; inputs are
    visited in the order the operation took them, so leaves appear left to right as in the formula.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"topological_order: root must be a dlnotes.autograd.Tensor, got {type(root).__name__}")
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in reversed(node._parents) if p not in visited)
    return order


def _unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the backward of NumPy broadcasting.

    Broadcasting copied the input along new leading axes and along its size-1 axes; each copy
    received part of the gradient, so those parts add up. E.g. a bias (3,) added to x (N, 3)
    gets grad.sum(axis=0).
    """
    extra = grad.ndim - len(shape)
    grad = np.sum(grad, axis=tuple(range(extra))) if extra > 0 else grad
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    return np.sum(grad, axis=stretched, keepdims=True) if stretched else grad


def _check_broadcast(a, b, op, shapes=None):
    """Refuse operands (Tensors or shapes) that do not broadcast, naming both shapes."""
    sa = a.shape if isinstance(a, Tensor) else a
    sb = b.shape if isinstance(b, Tensor) else b
    try:
        np.broadcast_shapes(sa, sb)
    except ValueError:
        left, right = shapes if shapes is not None else (sa, sb)
        raise ValueError(f"Tensor {op}: operand shapes {left} and {right} do not broadcast") from None


def _axes(axis, ndim, where):
    """``axis`` (None: every axis; an int; a tuple or list of ints) as a sorted tuple of non-negative axes."""
    axes = check_axis(tuple(axis) if isinstance(axis, list) else axis, ndim, "axis", where)
    return tuple(range(ndim)) if axes is None else axes


def zero_grad(params):
    """Forget accumulated gradients: set ``p.grad = None`` for every Tensor in ``params``."""
    for p in params:
        p.grad = None


class TensorMLP:
    """A fully connected network built from Tensors: (Linear → activation) × (L−1) → Linear.

    sizes: (d_in, h_1, …, d_out). Layer k computes h ↦ h·W_kᵀ + b_k with W_k: (out, in), b_k: (out,),
    the layout of torch.nn.Linear, initialised like it: U(−1/√in, 1/√in) for weights and biases.
    x: (N, d_in) → (N, d_out). activation: "tanh", "relu" or "sigmoid".
    """

    def __init__(self, sizes, *, rng, activation="tanh"):
        check_choice(activation, "activation", "TensorMLP", ("tanh", "relu", "sigmoid"))
        if len(sizes) < 2 or any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1 for n in sizes):
            raise ValueError(f"TensorMLP: sizes must be two or more positive integers, got {sizes!r}")
        check_generator(rng, "TensorMLP")
        self.activation = activation
        self.layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / np.sqrt(n_in)
            weight = Tensor(rng.uniform(-bound, bound, (n_out, n_in)))
            bias = Tensor(rng.uniform(-bound, bound, n_out))
            self.layers.append((weight, bias))

    def __call__(self, x):
        h = x if isinstance(x, Tensor) else Tensor(x, requires_grad=False)
        for k, (weight, bias) in enumerate(self.layers):
            h = h @ weight.T + bias
            if k < len(self.layers) - 1:
                h = getattr(h, self.activation)()
        return h

    def parameters(self):
        """[W_1, b_1, W_2, b_2, …]: the Tensors to hand to an optimiser (via their .data arrays)."""
        return [t for layer in self.layers for t in layer]
