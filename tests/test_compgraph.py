"""dlnotes.compgraph: the layout of an autograd graph and its matplotlib drawing."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from dlnotes.autograd import Tensor  # noqa: E402
from dlnotes.compgraph import draw, layout  # noqa: E402


def example():
    """f = (a·b + c)·σ(d), the chapter's expression, after backward."""
    a, b, c, d = (Tensor(v) for v in (1.5, -2.0, 5.0, 0.5))
    f = (a * b + c) * d.sigmoid()
    f.backward()
    return (a, b, c, d), f


def test_layout_orders_inputs_before_consumers():
    (a, b, c, d), f = example()
    nodes = layout(f)
    assert len(nodes) == 8 and nodes[-1].tensor is f
    for i, node in enumerate(nodes):
        assert all(j < i and nodes[j].column < node.column for j in node.inputs)
    column = {id(n.tensor): n.column for n in nodes}
    # a·b and σ(d) are one step from the inputs, +c two, the product three; c sits next to +
    assert [column[id(t)] for t in (a, b, c, d, f)] == [0, 0, 1, 0, 3]


def test_layout_places_leaves_in_walk_order_and_operations_between_their_inputs():
    (a, b, c, d), f = example()
    nodes = layout(f)
    row = {id(n.tensor): n.row for n in nodes}
    assert [row[id(t)] for t in (a, b, c, d)] == [0.0, 1.0, 2.0, 3.0]
    for node in nodes:
        if node.inputs:
            assert node.row == pytest.approx(np.mean([nodes[j].row for j in node.inputs]))


def test_a_tensor_used_twice_is_one_node_with_two_edges():
    x = Tensor(3.0)
    nodes = layout(x * x)
    assert len(nodes) == 2 and nodes[1].inputs == (0, 0)


def drawn(f, names=None):
    fig, ax = plt.subplots()
    draw(f, names, ax=ax)
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    texts = [t.get_text() for t in ax.texts]
    plt.close(fig)
    return boxes, arrows, texts


def test_draw_shows_every_node_edge_value_and_gradient():
    (a, b, c, d), f = example()
    boxes, arrows, texts = drawn(f, {a: "a", b: "b", c: "c", d: "d"})
    assert len(boxes) == 8 and len(arrows) == 7
    assert {"a", "b", "c", "d", "×", "+", "σ"} <= set(texts)
    sigmoid_d = 1 / (1 + np.exp(-0.5))
    assert f"{float(f.data):.3f}" in texts and f"{sigmoid_d:.3f}" in texts
    # ∂f/∂d = (a·b + c)·σ′(d), written out by hand
    assert f"grad {(1.5 * -2.0 + 5.0) * sigmoid_d * (1 - sigmoid_d):.3f}" in texts
    assert "grad 1.000" in texts  # ∂f/∂f


def test_draw_before_backward_shows_no_gradients_and_constants_in_grey():
    x = Tensor(2.0)
    boxes, _, texts = drawn(x * 3.0)
    assert not any(t.startswith("grad") for t in texts)
    assert "3.000" in texts
    assert sum(box.get_facecolor()[0] == box.get_facecolor()[2] for box in boxes) == 1  # one grey box


def test_draw_shows_shapes_of_arrays():
    w = Tensor(np.ones((2, 3)))
    loss = (Tensor(np.ones((4, 3)), requires_grad=False) @ w.T).sum()
    loss.backward()
    _, _, texts = drawn(loss)
    assert "shape (2, 3)" in texts and "grad (2, 3)" in texts


def test_draw_makes_its_own_figure():
    _, f = example()
    ax = draw(f)
    assert ax.figure is not None and not ax.axison
    plt.close(ax.figure)


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="layout: output must be a dlnotes.autograd.Tensor, got float"):
        layout(1.0)
    with pytest.raises(TypeError, match=r"draw: names must be a dict \{Tensor: str\}, got list"):
        draw(Tensor(1.0) * 2.0, names=["x"])
