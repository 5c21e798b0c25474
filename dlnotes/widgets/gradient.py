"""The gradient-flow explorer: vanishing and exploding gradients across the depth of an MLP.

Every configuration the controls can reach (depth × width × activation × initialisation ×
residual × batch norm) is computed once in Python with ``dlnotes.gradflow`` and stored in the
synced ``grid`` trait; the browser only selects and draws, so the page stays interactive without
a kernel. ``profile`` recomputes the current configuration at full precision.
"""

import functools
import itertools

import anywidget
import traitlets

from dlnotes import gradflow
from dlnotes._checks import check_choice
from dlnotes.widgets._bundle import css, esm

DEPTHS = (2, 5, 10, 20, 30, 50)
WIDTHS = (16, 64)
BATCH = 128
SEED = 0


def _key(activation, init, residual, batchnorm, width, depth):
    """The grid's key of one configuration (gradient.js builds the same string)."""
    return f"{activation}|{init}|{int(residual)}|{int(batchnorm)}|{width}|{depth}"


def _rounded(values):
    """4 significant digits: plenty for a log-scale plot, and a third of the JSON of full floats."""
    return [float(f"{v:.4g}") for v in values]


def _one_blas_thread():
    """A context limiting BLAS to one thread. The matrices here are tiny: extra threads only wait
    for each other, and on a busy machine (tests run in parallel) a 128×64 product then takes ms."""
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    return threadpool_limits(limits=1, user_api="blas")


@functools.cache
def grid():
    """{key: [grad_norms, activation_stds]} for every reachable configuration, rounded to 4 digits.

    About 2·10⁴ numbers (0.2 MB of JSON); a few seconds to compute, once per process.
    """
    table = {}
    with _one_blas_thread():
        for activation, init, residual, batchnorm, width in itertools.product(
            gradflow.ACTIVATIONS, gradflow.INITS, (False, True), (False, True), WIDTHS
        ):
            sweep = gradflow.profiles(DEPTHS, width, activation, init, residual, batchnorm, BATCH, SEED)
            for depth, p in sweep.items():
                table[_key(activation, init, residual, batchnorm, width, depth)] = [
                    _rounded(p.grad_norms), _rounded(p.activation_stds)
                ]
    return table


class GradientExplorer(anywidget.AnyWidget):
    """Per-layer ‖∂L/∂W_l‖ and std(h_l) of an MLP at initialisation (see dlnotes.gradflow). Traits:

    depth: one of DEPTHS; width: one of WIDTHS; activation: one of gradflow.ACTIVATIONS;
    init: one of gradflow.INITS; residual, batchnorm: bool.
    """

    _esm = esm("gradient.js")
    _css = css()

    depth = traitlets.Int(30).tag(sync=True)
    width = traitlets.Int(64).tag(sync=True)
    activation = traitlets.Unicode("sigmoid").tag(sync=True)
    init = traitlets.Unicode("xavier").tag(sync=True)
    residual = traitlets.Bool(False).tag(sync=True)
    batchnorm = traitlets.Bool(False).tag(sync=True)
    options = traitlets.Dict({"depths": DEPTHS, "widths": WIDTHS, "activations": gradflow.ACTIVATIONS,
                              "inits": gradflow.INITS}).tag(sync=True)
    grid = traitlets.Dict().tag(sync=True)

    @traitlets.default("grid")
    def _grid(self):
        return grid()

    def __repr__(self):
        return (f"GradientExplorer(depth={self.depth}, width={self.width}, activation={self.activation!r}, "
                f"init={self.init!r}, residual={self.residual}, batchnorm={self.batchnorm})")

    @traitlets.validate("depth", "width", "activation", "init")
    def _check_choice(self, proposal):
        name = proposal.trait.name
        return check_choice(proposal.value, name, "GradientExplorer", self.options[f"{name}s"])

    @property
    def config(self):
        """The current configuration's key in ``grid``."""
        return _key(self.activation, self.init, self.residual, self.batchnorm, self.width, self.depth)

    @property
    def profile(self):
        """gradflow.Profile of the current configuration, recomputed in Python at full precision."""
        with _one_blas_thread():
            return gradflow.profile(self.depth, self.width, self.activation, self.init, self.residual,
                                    self.batchnorm, BATCH, SEED)


def gradient_explorer(activation="sigmoid", depth=30, **traits):
    """The explorer, ready to display: ``gradient_explorer("relu", init="he")``.

    ``traits`` set any other trait of ``GradientExplorer`` (width, init, residual, batchnorm).
    """
    return GradientExplorer(activation=activation, depth=depth, **traits)
