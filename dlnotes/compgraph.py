"""Draw the computational graph that ``dlnotes.autograd`` records, with matplotlib only.

Every ``Tensor`` produced by an operation remembers its inputs and the name of the operation, so
the graph behind a result can be read back from the result itself:

    a, b, c, d = (Tensor(v) for v in (1.5, -2.0, 5.0, 0.5))
    f = (a * b + c) * d.sigmoid()
    f.backward()
    draw(f, names={a: "a", b: "b", c: "c", d: "d"})

draws one box per node (inputs on the left, the result on the right), an arrow from every input to
the operation that uses it, and in each box the forward value and, below it, the gradient ∂f/∂node
left by ``backward`` (for arrays: the shape instead of the value). Meant for small expressions of a
dozen nodes or so; constants (``requires_grad=False``) are drawn as grey boxes.
"""

from dataclasses import dataclass

import numpy as np

from dlnotes.autograd import Tensor, topological_order

OP_LABELS = {"+": "+", "-": "−", "*": "×", "/": "÷", "@": "@", "**": "power", "neg": "−x", "sigmoid": "σ"}


@dataclass(frozen=True)
class Node:
    """One box: ``tensor``, its column (0 = leftmost) and row (may be fractional), its inputs' indices."""

    tensor: Tensor
    column: int
    row: float
    inputs: tuple


def layout(output):
    """The nodes of the graph that produced ``output``, inputs before their consumers.

    Columns: an operation sits one column right of its rightmost input; a leaf sits just left of
    its leftmost consumer. Rows: leaves are numbered 0, 1, 2, … in the order
    ``autograd.topological_order`` lists them (left to right as in the formula); an operation
    sits at the mean row of its inputs.
    Returns a list of ``Node``; ``output`` is the last one.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"layout: output must be a dlnotes.autograd.Tensor, got {type(output).__name__}")
    order = topological_order(output)
    column, row, leaves = {}, {}, 0
    for t in order:
        if t.parents:
            column[t] = 1 + max(column[p] for p in t.parents)
            row[t] = float(np.mean([row[p] for p in t.parents]))
        else:
            column[t], row[t], leaves = 0, float(leaves), leaves + 1
    for t in order:  # pull each leaf right, next to its first consumer
        consumers = [column[u] for u in order if any(p is t for p in u.parents)]
        if not t.parents and consumers:
            column[t] = min(consumers) - 1
    index = {t: i for i, t in enumerate(order)}
    return [Node(t, column[t], row[t], tuple(index[p] for p in t.parents)) for t in order]


def _label(t, name, digits):
    """Three lines: the name (or the operation), the value (or shape), the gradient (or '')."""
    title = name if name is not None else OP_LABELS.get(t.op, t.op)
    if t.data.size == 1:
        value = f"{float(t.data.reshape(())):.{digits}f}"
    else:
        value = f"shape {t.shape}"
    if t.grad is None:
        grad = ""
    elif t.grad.size == 1:
        grad = f"grad {float(t.grad.reshape(())):.{digits}f}"
    else:
        grad = f"grad {t.grad.shape}"
    return title, value, grad


def draw(output, names=None, ax=None, digits=3):
    """Draw the graph behind ``output`` on ``ax`` (a new figure if None) and return the axes.

    names: {Tensor: label} for the nodes to name (inputs, usually); other nodes show their
    operation (×, +, sigmoid, …). Each box shows the forward value and, in red, the gradient
    of the last ``backward`` call (absent if it was never called).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    names = {} if names is None else names
    if not isinstance(names, dict):
        raise TypeError(f"draw: names must be a dict {{Tensor: str}}, got {type(names).__name__}")
    nodes = layout(output)
    if ax is None:
        columns = 1 + max(n.column for n in nodes)
        rows = max(n.row for n in nodes) + 1
        _, ax = plt.subplots(figsize=(2.0 * columns + 0.5, 1.1 * rows + 0.6))
    width, height = 1.3, 0.8
    centre = [(2.0 * n.column, -1.1 * n.row) for n in nodes]
    for i, n in enumerate(nodes):
        x, y = centre[i]
        constant = not n.tensor.requires_grad
        ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                    boxstyle="round,pad=0.02,rounding_size=0.1",
                                    facecolor="#eeeeee" if constant else "#e8f0fb",
                                    edgecolor="gray" if constant else "#1f4e8c", linewidth=1.2))
        title, value, grad = _label(n.tensor, names.get(n.tensor), digits)
        ax.text(x, y + 0.22, title, ha="center", va="center", fontsize=10, fontweight="bold")
        ax.text(x, y, value, ha="center", va="center", fontsize=9)
        ax.text(x, y - 0.22, grad, ha="center", va="center", fontsize=9, color="#b22222")
        for j in n.inputs:
            (x0, y0) = centre[j]
            ax.add_patch(FancyArrowPatch((x0 + width / 2, y0), (x - width / 2, y), arrowstyle="-|>",
                                         mutation_scale=12, color="#555555", linewidth=1.0))
    xs, ys = np.array(centre).T
    ax.set_xlim(xs.min() - width, xs.max() + width)
    ax.set_ylim(ys.min() - height, ys.max() + height)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax
