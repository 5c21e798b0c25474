"""Figures the chapters draw more than once.

    decision_boundary   shade the plane by a classifier's prediction and scatter the data on top
"""

import numpy as np

from dlnotes._checks import as_float_array, check_int, check_real


def decision_boundary(ax, predict_fn, X, y, resolution=200, margin=0.1, alpha=0.3):
    """Colour each point of a grid over the data by the class ``predict_fn`` gives it, then
    scatter (X, y) in the same colours (class k: colour k of matplotlib's "tab10").

    predict_fn: maps an (M, 2) array of points to (M,) integer classes (e.g. ``model.predict``).
    X: (N, 2) points, y: (N,) integer classes. The grid has resolution × resolution points and
    extends ``margin`` × the data's range beyond it on every side. Axis labels x₁, x₂ are set.
    Returns the predicted classes on the grid, (resolution, resolution), row i at the i-th x₂.
    """
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap

    where = "decision_boundary"
    X = as_float_array(X, "X", where)
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise ValueError(f"{where}: X must be (N, 2) with N >= 1, got shape {X.shape}")
    y = np.asarray(y)
    if y.shape != (len(X),) or y.dtype.kind not in "iu":
        raise ValueError(f"{where}: y must be ({len(X)},) integer classes, got shape {y.shape} dtype {y.dtype}")
    resolution = check_int(resolution, "resolution", where, low=2)
    margin = check_real(margin, "margin", where, low=0.0)
    alpha = check_real(alpha, "alpha", where, low=0.0, high=1.0)
    if not callable(predict_fn):
        raise TypeError(f"{where}: predict_fn must be callable, got {type(predict_fn).__name__}")

    low, high = X.min(axis=0), X.max(axis=0)
    pad = margin * np.maximum(high - low, 1e-12)
    g1, g2 = (np.linspace(lo, hi, resolution) for lo, hi in zip(low - pad, high + pad))
    G1, G2 = np.meshgrid(g1, g2)
    grid = np.asarray(predict_fn(np.column_stack([G1.ravel(), G2.ravel()])))
    if grid.shape != (resolution * resolution,) or grid.dtype.kind not in "iu":
        raise ValueError(f"{where}: predict_fn must return ({resolution * resolution},) integer classes, "
                         f"got shape {grid.shape} dtype {grid.dtype}")
    grid = grid.reshape(resolution, resolution)

    n_classes = int(max(grid.max(), y.max())) + 1
    tab10 = colormaps["tab10"].colors
    cmap = ListedColormap([tab10[k % 10] for k in range(n_classes)])
    levels = np.arange(n_classes + 1) - 0.5
    ax.contourf(G1, G2, grid, levels=levels, cmap=cmap, alpha=alpha)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=n_classes - 0.5, s=14,
               edgecolors="k", linewidths=0.4)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return grid
