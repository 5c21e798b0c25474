"""Two-dimensional loss surfaces for watching optimisers move.

Each surface is a function f(x, y) with its gradient written out by hand, a plotting range, a
default start point and its known minima:

    =============  ==========================================  ========================
    name           f(x, y)                                     minima (f*)
    =============  ==========================================  ========================
    quadratic      ½ (x² + κ y²)   (condition number κ ≥ 1)    (0, 0)           (0)
    rosenbrock     (1 − x)² + 100 (y − x²)²                     (1, 1)           (0)
    beale          Σ_k (c_k − x + x yᵏ)², c = 1.5, 2.25, 2.625  (3, 0.5)         (0)
    saddle         ½ x² − ½ y² + ¼ y⁴   (saddle point at 0)     (0, ±1)          (−¼)
    himmelblau     (x² + y − 11)² + (x + y² − 7)²               four points      (0)
    =============  ==========================================  ========================

The formulas use only + − × on their arguments, so ``f`` works on floats, NumPy arrays and
torch tensors alike (the tests differentiate it with ``torch.autograd`` to check ``grad``).
Squares are written as products (``u * u``), never ``u ** 2``: the browser widget runs the same
formulas in JavaScript and gets the same bits only if the operations are the same.
"""

from dataclasses import dataclass

import numpy as np

from dlnotes._checks import check_choice, check_int, check_real


@dataclass(frozen=True)
class Surface:
    """A 2-D test function with its analytic gradient and what a plot needs.

    f(x, y) -> value and grad(x, y) -> (∂f/∂x, ∂f/∂y) accept scalars or arrays of one shape.
    xlim, ylim: plotting range; start: a default start point inside it; minima: the known
    minimisers; f_min: the minimum value (so f − f_min ≥ 0 can go on a log axis).
    """

    name: str
    f: object
    grad: object
    xlim: tuple
    ylim: tuple
    start: tuple
    minima: tuple
    f_min: float

    def mesh(self, num=200):
        """(X, Y, Z) on a num × num grid over the plotting range, for contour plots. Shapes (num, num)."""
        num = check_int(num, "num", "Surface.mesh", low=2)
        x = np.linspace(*self.xlim, num)
        y = np.linspace(*self.ylim, num)
        X, Y = np.meshgrid(x, y)
        return X, Y, self.f(X, Y)


def quadratic(condition=10.0):
    """f = ½ (x² + κ y²): Hessian diag(1, κ), condition number κ, minimum 0 at the origin.

    Gradient descent is stable for lr < 2/κ, and then the flat x direction shrinks only by
    (1 − lr) per step: the larger κ, the slower the crawl along the valley.
    """
    kappa = check_real(condition, "condition", "quadratic", low=1.0)

    def f(x, y):
        return 0.5 * (x * x + kappa * (y * y))

    def grad(x, y):
        return x, kappa * y

    return Surface("quadratic", f, grad, (-5.0, 5.0), (-3.0, 3.0), (-4.5, 2.0), ((0.0, 0.0),), 0.0)


def _rosenbrock_f(x, y):
    u = 1.0 - x
    v = y - x * x
    return u * u + 100.0 * (v * v)


def _rosenbrock_grad(x, y):
    v = y - x * x
    return -2.0 * (1.0 - x) - 400.0 * x * v, 200.0 * v


def rosenbrock():
    """f = (1 − x)² + 100 (y − x²)²: a curved, flat-bottomed valley; minimum 0 at (1, 1)."""
    return Surface("rosenbrock", _rosenbrock_f, _rosenbrock_grad, (-2.0, 2.0), (-1.0, 3.0),
                   (-1.2, 1.0), ((1.0, 1.0),), 0.0)


def _beale_terms(x, y):
    """The three residuals r_k = c_k − x + x·yᵏ of Beale's function."""
    y2 = y * y
    return 1.5 - x + x * y, 2.25 - x + x * y2, 2.625 - x + x * (y2 * y)


def _beale_f(x, y):
    r1, r2, r3 = _beale_terms(x, y)
    return r1 * r1 + r2 * r2 + r3 * r3


def _beale_grad(x, y):
    r1, r2, r3 = _beale_terms(x, y)
    y2 = y * y
    dx = 2.0 * r1 * (y - 1.0) + 2.0 * r2 * (y2 - 1.0) + 2.0 * r3 * (y2 * y - 1.0)
    dy = 2.0 * r1 * x + 2.0 * r2 * (2.0 * x * y) + 2.0 * r3 * (3.0 * x * y2)
    return dx, dy


def beale():
    """Beale's function: a flat plateau and steep walls; minimum 0 at (3, 0.5)."""
    return Surface("beale", _beale_f, _beale_grad, (-4.5, 4.5), (-4.5, 4.5), (1.0, 1.4),
                   ((3.0, 0.5),), 0.0)


def _saddle_f(x, y):
    y2 = y * y
    return 0.5 * (x * x) - 0.5 * y2 + 0.25 * (y2 * y2)


def _saddle_grad(x, y):
    return x, y * (y * y - 1.0)


def saddle():
    """f = ½ x² − ½ y² + ¼ y⁴: a saddle point at the origin (Hessian diag(1, −1)) between two
    minima −¼ at (0, ±1). Started exactly on the line y = 0, gradient descent never leaves it."""
    return Surface("saddle", _saddle_f, _saddle_grad, (-2.0, 2.0), (-1.6, 1.6), (-1.9, 0.01),
                   ((0.0, 1.0), (0.0, -1.0)), -0.25)


def _himmelblau_terms(x, y):
    return x * x + y - 11.0, x + y * y - 7.0


def _himmelblau_f(x, y):
    a, b = _himmelblau_terms(x, y)
    return a * a + b * b


def _himmelblau_grad(x, y):
    a, b = _himmelblau_terms(x, y)
    return 4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b


# Three of Himmelblau's minima have no closed form; these were found by Newton's method and are
# checked in the tests (gradient below 1e-12 there).
_HIMMELBLAU_MINIMA = (
    (3.0, 2.0),
    (-2.805118086952745, 3.131312518250573),
    (-3.7793102533777465, -3.2831859912861696),
    (3.5844283403304917, -1.8481265269644036),
)


def himmelblau():
    """f = (x² + y − 11)² + (x + y² − 7)²: four minima, all 0, separated by ridges and a local
    maximum near (−0.27, −0.92); from a start near a ridge, different optimisers end in different minima."""
    return Surface("himmelblau", _himmelblau_f, _himmelblau_grad, (-5.0, 5.0), (-5.0, 5.0),
                   (1.0, -0.8), _HIMMELBLAU_MINIMA, 0.0)


_FACTORIES = {
    "quadratic": quadratic,
    "rosenbrock": rosenbrock,
    "beale": beale,
    "saddle": saddle,
    "himmelblau": himmelblau,
}
NAMES = tuple(_FACTORIES)


def get(name, **params):
    """The surface called ``name`` (one of ``NAMES``); ``params`` go to its factory,
    e.g. ``get("quadratic", condition=50)``."""
    return _FACTORIES[check_choice(name, "name", "surfaces.get", NAMES)](**params)
