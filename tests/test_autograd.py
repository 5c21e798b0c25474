"""dlnotes.autograd against torch.autograd (float64) and against central differences."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from dlnotes import optim
from dlnotes.autograd import Tensor, TensorMLP, _unbroadcast, topological_order, zero_grad
from dlnotes.gradcheck import numerical_gradient, relative_error

FAST = settings(max_examples=25, deadline=None)


class OurOps:
    """The few calls whose spelling differs between dlnotes.autograd and torch."""

    tensor = staticmethod(lambda a: Tensor(a))
    sum = staticmethod(lambda t, axis=None, keepdims=False: t.sum(axis=axis, keepdims=keepdims))
    mean = staticmethod(lambda t, axis=None, keepdims=False: t.mean(axis=axis, keepdims=keepdims))
    log_softmax = staticmethod(lambda t, axis: t.log_softmax(axis=axis))
    transpose = staticmethod(lambda t, axes: t.transpose(axes))


class TorchOps:
    tensor = staticmethod(lambda a: torch.tensor(a, requires_grad=True))
    sum = staticmethod(lambda t, axis=None, keepdims=False: t.sum() if axis is None else t.sum(axis, keepdims))
    mean = staticmethod(lambda t, axis=None, keepdims=False: t.mean() if axis is None else t.mean(axis, keepdims))
    log_softmax = staticmethod(lambda t, axis: t.log_softmax(axis))
    transpose = staticmethod(lambda t, axes: t.permute(axes))


def network_expr(F, x, w, b, s):
    """x (N, D), w (K, D), b (K,) or (1, K) or (), s (N, 1): matmul, broadcasting, log_softmax, mean."""
    h = (x @ w.T + b).tanh()
    logp = F.log_softmax(h * s - 0.5, axis=-1)
    return -F.mean(F.sum(logp, axis=1)) + 0.1 * F.sum(F.mean(h**2, axis=0, keepdims=True))


def elementwise_expr(F, x, w, b, s):
    """Every elementwise op with scalars and arrays on both sides: exp, log, relu, sigmoid, /, **, neg."""
    softplus = (1.0 + x.exp()).log()
    y = softplus / (1 + x.sigmoid()) - 3 * x.relu() + (2.0 - x) ** 3 / 10 - (-s) * 0.5
    z = 1.0 / (1.5 + (w**2).sigmoid())
    return F.sum(F.mean(y, axis=1, keepdims=True) * s) + F.sum(z) + F.sum((b - 1) ** 2 * 2)


def reshape_expr(F, x, w, b, s):
    """reshape, permute, .T, sums over several axes, a matmul with a batch axis."""
    n, d = x.shape
    cube = (x @ w.T).reshape(n, 1, w.shape[0]) * x.reshape(n, d, 1)  # (N, D, K) by broadcasting
    moved = F.transpose(cube, (2, 0, 1))  # (K, N, D)
    batched = moved @ w.T  # (K, N, K)
    return F.sum(F.sum(moved, axis=(1, 2)) ** 2) + F.mean(batched.sigmoid()) + F.sum(s.T @ x) * F.mean(b)


EXPRESSIONS = [network_expr, elementwise_expr, reshape_expr]


@st.composite
def inputs(draw):
    n, d, k = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    b_shape = draw(st.sampled_from([(k,), (1, k), ()]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return [rng.standard_normal(shape) for shape in [(n, d), (k, d), b_shape, (n, 1)]]


def grads_of(F, expr, arrays):
    leaves = [F.tensor(a) for a in arrays]
    out = expr(F, *leaves)
    out.backward()
    value = out.data if isinstance(out, Tensor) else out.detach().numpy()
    return float(value), [leaf.grad if isinstance(leaf, Tensor) else leaf.grad.numpy() for leaf in leaves]


@pytest.mark.parametrize("expr", EXPRESSIONS)
@FAST
@given(arrays=inputs())
def test_gradients_match_torch(expr, arrays):
    value, ours = grads_of(OurOps, expr, arrays)
    ref_value, theirs = grads_of(TorchOps, expr, arrays)
    np.testing.assert_allclose(value, ref_value, rtol=1e-12, atol=1e-12)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("expr", EXPRESSIONS)
@settings(max_examples=10, deadline=None)
@given(arrays=inputs())
def test_gradients_match_central_differences(expr, arrays):
    _, ours = grads_of(OurOps, expr, arrays)
    for i, arr in enumerate(arrays):

        def f(a, i=i):
            args = [Tensor(a) if j == i else Tensor(other, requires_grad=False) for j, other in enumerate(arrays)]
            return expr(OurOps, *args).data

        # Central differences carry a round-off error of about eps·|f|/h, and these expressions reach
        # |f| ~ 1e4: scale the tolerance with the size of f instead of using a fixed 1e-7.
        tol = 1e-7 * max(1.0, abs(float(f(arr))) / 100.0)
        assert relative_error(ours[i], numerical_gradient(f, arr)) < tol


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((4, 2, 3), (3, 5)), ((2, 3), (4, 3, 2)), ((1, 2, 3), (4, 3, 1))],
)
def test_matmul_shapes_match_torch(shape_a, shape_b):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    _, ours = grads_of(OurOps, lambda F, x, y: F.sum((x @ y) ** 2), [a, b])
    _, theirs = grads_of(TorchOps, lambda F, x, y: F.sum((x @ y) ** 2), [a, b])
    for g, ref in zip(ours, theirs):
        np.testing.assert_allclose(g, ref, rtol=1e-10, atol=1e-12)


def test_log_softmax_stays_finite_at_extreme_logits():
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]])
    x = Tensor(logits)
    x.log_softmax(axis=1).sum().backward()
    tx = torch.tensor(logits, requires_grad=True)
    tx.log_softmax(1).sum().backward()
    assert np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_long_chain_backward_is_iterative():
    """2000 ops deep, twice Python's default recursion limit: backward must not recurse."""
    x = Tensor(np.array([0.3, -0.2]))
    tx = torch.tensor([0.3, -0.2], dtype=torch.float64, requires_grad=True)
    y, ty = x, tx
    for _ in range(1000):  # 2 ops per iteration
        y = (y * 0.999).tanh()
        ty = (ty * 0.999).tanh()
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-10)
    assert np.all(x.grad > 0)


def test_shared_subexpression_and_accumulation():
    """x used three times: d(x·x + x)/dx = 2x + 1; a second backward adds to .grad; zero_grad clears it."""
    x = Tensor(np.array([1.5, -2.0]))
    (x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, [4.0, -3.0])
    (x * x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, [8.0, -6.0])
    zero_grad([x])
    assert x.grad is None


def test_gradients_are_separate_arrays():
    a, b = Tensor(np.ones(3)), Tensor(np.ones(3))
    (a + b).sum().backward()
    a.grad *= 5  # must not change b.grad: add's backward hands the same g to both inputs
    np.testing.assert_array_equal(b.grad, np.ones(3))


def test_constants_get_no_gradient():
    c = Tensor(np.ones(2), requires_grad=False)
    x = Tensor(np.array([2.0, 3.0]))
    (c * x + np.array([1.0, 2.0])).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


def test_float32_stays_float32():
    x = Tensor(np.ones((2, 2), dtype=np.float32))
    y = (2.5 * x + 1).sigmoid().mean()
    y.backward()
    assert y.data.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize(
    ("grad_shape", "shape", "expected"),
    [
        ((4, 3), (3,), lambda g: g.sum(axis=0)),
        ((4, 3), (1, 3), lambda g: g.sum(axis=0, keepdims=True)),
        ((4, 3), (4, 1), lambda g: g.sum(axis=1, keepdims=True)),
        ((2, 4, 3), (4, 1), lambda g: g.sum(axis=(0, 2))[:, None]),
        ((4, 3), (), lambda g: g.sum()),
        ((4, 3), (4, 3), lambda g: g),
    ],
)
def test_unbroadcast(grad_shape, shape, expected):
    g = np.random.default_rng(6).standard_normal(grad_shape)
    out = _unbroadcast(g, shape)
    assert out.shape == shape
    np.testing.assert_allclose(out, expected(g), rtol=1e-14)


def blobs(rng, n=60):
    """Three Gaussian blobs in 2-D: inputs (n, 2), integer labels (n,)."""
    labels = rng.integers(0, 3, n)
    centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    return centres[labels] + 0.6 * rng.standard_normal((n, 2)), labels


def cross_entropy(logits, labels):
    """Mean −log p(label): log_softmax picked out by a one-hot mask (no indexing op needed)."""
    one_hot = np.eye(logits.shape[1])[labels]
    return -(logits.log_softmax(axis=1) * one_hot).sum() / len(labels)


def test_mlp_gradients_match_torch_on_the_same_weights():
    rng = np.random.default_rng(7)
    x, y = blobs(rng)
    model = TensorMLP([2, 8, 8, 3], rng=rng, activation="relu")
    cross_entropy(model(x), y).backward()
    torch_params = [torch.tensor(p.data, requires_grad=True) for p in model.parameters()]
    h = torch.tensor(x)
    for k in range(0, len(torch_params), 2):
        h = h @ torch_params[k].T + torch_params[k + 1]
        h = h.relu() if k < len(torch_params) - 2 else h
    torch.nn.functional.cross_entropy(h, torch.tensor(y)).backward()
    for ours, theirs in zip(model.parameters(), torch_params):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_mlp_trained_with_sgd_lowers_its_loss():
    rng = np.random.default_rng(8)
    x, y = blobs(rng)
    model = TensorMLP([2, 16, 3], rng=rng)
    params = model.parameters()
    opt = optim.SGD([p.data for p in params], lr=0.5, momentum=0.9)
    losses = []
    for _ in range(60):
        zero_grad(params)
        loss = cross_entropy(model(x), y)
        loss.backward()
        opt.step([p.grad for p in params])
        losses.append(float(loss.data))
    assert losses[-1] < 0.25 * losses[0]
    accuracy = np.mean(np.argmax(model(x).data, axis=1) == y)
    assert accuracy > 0.9


# ---- bad input --------------------------------------------------------------------------------


def test_bad_inputs():
    x = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"backward: grad must be given for a Tensor with more than one element"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"backward: grad must have shape \(2, 3\), got \(3,\)"):
        (x * 2).backward(np.ones(3))
    with pytest.raises(ValueError, match=r"backward: this Tensor does not require grad"):
        Tensor(np.ones(1), requires_grad=False).backward()
    with pytest.raises(TypeError, match=r"Tensor \*\*: exponent must be a real number, got Tensor"):
        x**x
    with pytest.raises(TypeError, match=r"Tensor: data must be a real numeric array, got dtype <U3"):
        Tensor("abc")
    with pytest.raises(TypeError, match=r"Tensor: other must be a real numeric array, got dtype <U1"):
        x + "a"
    with pytest.raises(ValueError, match=r"Tensor.sum: axis must be in \[-2, 1\] for 2 axes, got 2"):
        x.sum(axis=2)
    with pytest.raises(TypeError, match=r"Tensor.mean: axis must be None, an int or a tuple of ints, got \(0, 1.5\)"):
        x.mean(axis=(0, 1.5))
    with pytest.raises(ValueError, match=r"log_softmax: axis must be in \[-2, 1\] for x of shape \(2, 3\), got 5"):
        x.log_softmax(axis=5)
    with pytest.raises(ValueError, match=r"Tensor @: operands must have at least one axis"):
        x @ Tensor(2.0)
    with pytest.raises(ValueError, match=r"TensorMLP: activation must be one of tanh, relu, sigmoid, got 'gelu'"):
        TensorMLP([2, 3], rng=np.random.default_rng(0), activation="gelu")
    with pytest.raises(ValueError, match=r"TensorMLP: sizes must be two or more positive integers, got \[2\]"):
        TensorMLP([2], rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"TensorMLP: rng must be a numpy.random.Generator"):
        TensorMLP([2, 3], rng=0)


def test_the_graph_is_readable_through_parents_and_op():
    a, b = Tensor(np.ones(2)), Tensor(np.full(2, 3.0))
    c = a * b
    d = c + 1.0
    assert c.parents[0] is a and c.parents[1] is b and c.op == "*"
    assert d.parents[0] is c and d.parents[1].requires_grad is False and d.op == "+"
    assert a.parents == () and a.op == ""


def test_topological_order_lists_every_node_after_its_inputs_in_argument_order():
    a, b, d = Tensor(1.5), Tensor(-2.0), Tensor(0.5)
    ab = a * b
    s = ab + 5.0  # the constant 5.0 becomes a leaf of its own
    sd = d.sigmoid()
    f = s * sd
    order = topological_order(f)
    constant = s.parents[1]
    assert order == [a, b, ab, constant, s, d, sd, f]
    assert topological_order(a) == [a]
    x = Tensor(3.0)
    square = x * x
    assert topological_order(square) == [x, square]  # an input used twice is listed once
    with pytest.raises(TypeError, match=r"^topological_order: root must be a dlnotes.autograd.Tensor, got float$"):
        topological_order(1.0)


def test_topological_order_handles_a_long_chain_without_recursion():
    x = Tensor(np.ones(2))
    y = x
    for _ in range(5000):
        y = y * 1.0
    order = topological_order(y)
    assert order[0] is x and order[-1] is y and len(order) == 1 + 2 * 5000  # x, then (constant, product) × 5000
