"""dlnotes.plotting.decision_boundary: the grid it evaluates, what it draws, and bad arguments."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlnotes.plotting import decision_boundary  # noqa: E402
from testkit import raises_exactly

X = np.array([[0.0, 0.0], [2.0, 1.0], [1.0, 3.0], [0.5, 2.0]])
Y = np.array([0, 1, 2, 1])


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


def test_grid_spans_the_data_with_a_margin_and_holds_the_predictions(ax):
    seen = []

    def right_half(points):
        seen.append(points)
        return (points[:, 0] > 1.0).astype(int)

    grid = decision_boundary(ax, right_half, X, Y, resolution=11, margin=0.5)
    points = seen[0]
    assert points.shape == (121, 2)
    # x1 spans [0, 2] ± 0.5·2, x2 spans [0, 3] ± 0.5·3
    np.testing.assert_allclose(points.min(axis=0), [-1.0, -1.5])
    np.testing.assert_allclose(points.max(axis=0), [3.0, 4.5])
    # row i of the grid is the i-th value of x2, column j the j-th value of x1
    x1 = np.linspace(-1.0, 3.0, 11)
    np.testing.assert_array_equal(grid, np.tile((x1 > 1.0).astype(int), (11, 1)))


def test_draws_regions_and_points_with_axis_labels(ax):
    decision_boundary(ax, lambda p: np.zeros(len(p), dtype=int), X, Y, resolution=5)
    assert len(ax.collections) >= 2  # the filled regions and the scatter
    scatter = ax.collections[-1]
    np.testing.assert_array_equal(scatter.get_offsets(), X)
    # the three classes get three different colours, and the regions use the same palette
    ax.figure.canvas.draw()
    point_colours = scatter.get_facecolors()[:, :3]
    assert len({tuple(c) for c in point_colours}) == 3
    region_colours = ax.collections[0].get_facecolor()[:, :3]  # one band per class 0, 1, 2
    np.testing.assert_allclose(region_colours[Y], point_colours)
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"


def test_bad_arguments(ax):
    constant = lambda p: np.zeros(len(p), dtype=int)  # noqa: E731
    with raises_exactly(ValueError, "decision_boundary: X must be (N, 2) with N >= 1, got shape (4, 3)"):
        decision_boundary(ax, constant, np.zeros((4, 3)), Y)
    with raises_exactly(ValueError, "decision_boundary: y must be (4,) integer classes, got shape (4,) dtype float64"):
        decision_boundary(ax, constant, X, Y.astype(float))
    with raises_exactly(TypeError, "decision_boundary: predict_fn must be callable, got int"):
        decision_boundary(ax, 3, X, Y)
    with raises_exactly(ValueError, "decision_boundary: predict_fn must return (25,) integer classes, "
                                    "got shape (25, 3) dtype float64"):
        decision_boundary(ax, lambda p: np.zeros((len(p), 3)), X, Y, resolution=5)
