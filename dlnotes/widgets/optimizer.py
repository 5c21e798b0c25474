"""The optimiser-trajectory explorer: several optimisers on one 2-D surface, side by side.

The browser computes the paths (``optmath.js``, a port of ``dlnotes.optim`` and
``dlnotes.surfaces`` checked against them to 1e-9 by the tests), so the sliders keep working in
the static HTML book. The synced traits below are the whole state; ``paths`` recomputes the same
paths in Python with ``dlnotes.trajectories.run``.

``DEFAULT_LRS[surface][optimizer]`` is the learning rate the explorer starts from on each surface
(public: chapter 5 runs ``torch.optim`` at the same rates).
"""

import anywidget
import traitlets

from dlnotes import surfaces, trajectories
from dlnotes._checks import check_choice, check_int, check_real
from dlnotes.widgets._bundle import css, esm

_LABELS = {
    "quadratic": "ill-conditioned quadratic",
    "rosenbrock": "Rosenbrock valley",
    "beale": "Beale",
    "saddle": "saddle point",
    "himmelblau": "Himmelblau (four minima)",
}


def _lrs(gradient, adagrad, adaptive, **own):
    """Learning rates per optimiser: one for the SGD family, one for Adagrad, one for the rest,
    unless ``own`` gives an optimiser its own."""
    sgd = dict.fromkeys(("sgd", "momentum", "nesterov"), gradient)
    return {**sgd, "adagrad": adagrad, **dict.fromkeys(("rmsprop", "adam", "adamw"), adaptive), **own}


# Starting learning rates. With every other control at its default, each optimiser converges on
# every surface: its path stays finite for MAX_STEPS steps (the most the widget allows) and ends within
# 0.15 of a minimum, on the quadratic for every condition number the slider offers (κ ≤ 100). That
# caps the SGD family's rate on the quadratic below Nesterov's limit 2(1 + μ)/((1 + 2μ)·κ) ≈ 0.0136
# at μ = 0.9, κ = 100 (SGD's own is 2/κ = 0.02). RMSprop's step does not shrink with the gradient,
# so it hovers near a minimum at a distance set by its rate; in Rosenbrock's narrow valley that
# needs a smaller rate than Adam's. SGD's step scales with the gradient and the adaptive methods'
# does not, hence the families. tests/test_widgets.py checks all of this.
DEFAULT_LRS = {
    "quadratic": _lrs(0.01, 0.5, 0.1),
    "rosenbrock": _lrs(1e-3, 0.3, 0.1, rmsprop=0.01),
    "beale": _lrs(3e-3, 0.3, 0.03),
    "saddle": _lrs(0.03, 0.3, 0.03),
    "himmelblau": _lrs(3e-3, 0.3, 0.03),
}

# Hyper-parameters with no control: torch's defaults, sent to the browser so both sides agree.
FIXED_HYPER = {"adagrad": {"eps": 1e-10}, "rmsprop": {"alpha": 0.99, "eps": 1e-8},
               "adam": {"eps": 1e-8}, "adamw": {"eps": 1e-8}}


def _surface_info(name):
    """What the browser needs to know about a surface besides its formula."""
    s = surfaces.get(name)
    return {"label": _LABELS[name], "xlim": s.xlim, "ylim": s.ylim, "start": s.start, "minima": s.minima,
            "f_min": s.f_min, "lr": DEFAULT_LRS[name]}


SURFACE_INFO = {name: _surface_info(name) for name in surfaces.NAMES}

# The most steps the widget runs: the ``steps`` trait refuses more, and the steps slider ends here
# (the front end reads it from the ``max_steps`` trait).
MAX_STEPS = 5000


class OptimizerExplorer(anywidget.AnyWidget):
    """Optimiser paths on a 2-D surface, with a loss-versus-step panel. Traits (all synced):

    surface: one of surfaces.NAMES; condition: κ ≥ 1 of the quadratic
    optimizers: the shown subset of trajectories.OPTIMIZERS; lrs: {optimizer: lr ≥ 0} for all of them
    momentum: μ in (0, 1) of momentum and nesterov; beta1, beta2 in [0, 1) of Adam and AdamW;
    weight_decay: λ ≥ 0 of AdamW; steps: 1 … MAX_STEPS (5000); start: [x, y]

    Changing ``surface`` resets ``start`` and ``lrs`` to that surface's defaults.
    """

    _esm = esm("optimizer.js")
    _css = css()

    surface = traitlets.Unicode("quadratic").tag(sync=True)
    condition = traitlets.Float(10.0).tag(sync=True)
    optimizers = traitlets.List(traitlets.Unicode(), ["sgd", "momentum", "adam"]).tag(sync=True)
    lrs = traitlets.Dict().tag(sync=True)
    momentum = traitlets.Float(0.9).tag(sync=True)
    beta1 = traitlets.Float(0.9).tag(sync=True)
    beta2 = traitlets.Float(0.999).tag(sync=True)
    weight_decay = traitlets.Float(0.01).tag(sync=True)
    steps = traitlets.Int(150).tag(sync=True)
    max_steps = traitlets.Int(MAX_STEPS, read_only=True).tag(sync=True)
    start = traitlets.List(traitlets.Float()).tag(sync=True)
    surface_info = traitlets.Dict(SURFACE_INFO).tag(sync=True)
    fixed_hyper = traitlets.Dict(FIXED_HYPER).tag(sync=True)

    def __init__(self, surface="quadratic", **kwargs):
        check_choice(surface, "surface", "OptimizerExplorer", surfaces.NAMES)
        defaults = {"lrs": DEFAULT_LRS[surface], "start": list(SURFACE_INFO[surface]["start"])}
        super().__init__(surface=surface, **{**defaults, **kwargs})
        self.observe(self._reset_for_surface, "surface")

    def __repr__(self):
        return f"OptimizerExplorer(surface={self.surface!r}, optimizers={self.optimizers!r}, steps={self.steps})"

    def _reset_for_surface(self, change):
        self.lrs = DEFAULT_LRS[change.new]
        self.start = list(SURFACE_INFO[change.new]["start"])

    @traitlets.validate("surface")
    def _check_surface(self, proposal):
        return check_choice(proposal.value, "surface", "OptimizerExplorer", surfaces.NAMES)

    @traitlets.validate("condition")
    def _check_condition(self, proposal):
        return check_real(proposal.value, "condition", "OptimizerExplorer", low=1.0)

    @traitlets.validate("optimizers")
    def _check_optimizers(self, proposal):
        chosen = [check_choice(name, "optimizers[i]", "OptimizerExplorer", trajectories.OPTIMIZERS)
                  for name in proposal.value]
        return [name for name in trajectories.OPTIMIZERS if name in chosen]

    @traitlets.validate("lrs")
    def _check_lrs(self, proposal):
        lrs = proposal.value
        if set(lrs) != set(trajectories.OPTIMIZERS):
            raise ValueError(
                f"OptimizerExplorer: lrs must have one entry per optimizer "
                f"({', '.join(trajectories.OPTIMIZERS)}), got {', '.join(lrs)}"
            )
        return {name: check_real(lrs[name], f"lrs[{name!r}]", "OptimizerExplorer", low=0.0)
                for name in trajectories.OPTIMIZERS}

    @traitlets.validate("momentum", "beta1", "beta2")
    def _check_fraction(self, proposal):
        open_low = proposal.trait.name == "momentum"  # Nesterov needs μ > 0
        return check_real(proposal.value, proposal.trait.name, "OptimizerExplorer", low=0.0, low_open=open_low,
                          high=1.0, high_open=True)

    @traitlets.validate("weight_decay")
    def _check_weight_decay(self, proposal):
        return check_real(proposal.value, "weight_decay", "OptimizerExplorer", low=0.0)

    @traitlets.validate("steps")
    def _check_steps(self, proposal):
        return check_int(proposal.value, "steps", "OptimizerExplorer", low=1, high=MAX_STEPS)

    @traitlets.validate("start")
    def _check_start(self, proposal):
        if len(proposal.value) != 2:
            raise ValueError(f"OptimizerExplorer: start must be a point [x, y], got {proposal.value!r}")
        return [check_real(c, "start", "OptimizerExplorer") for c in proposal.value]

    def hyper(self, name):
        """Keyword arguments of trajectories.run for optimiser ``name`` (as the browser's hyperFor)."""
        hyper = {"lr": self.lrs[name], **FIXED_HYPER.get(name, {})}
        if name in ("momentum", "nesterov"):
            hyper["momentum"] = self.momentum
        if name in ("adam", "adamw"):
            hyper["betas"] = (self.beta1, self.beta2)
        if name == "adamw":
            hyper["weight_decay"] = self.weight_decay
        return hyper

    @property
    def paths(self):
        """{optimizer: (steps + 1, 2) array} for the shown optimisers, computed in Python."""
        surface = surfaces.get(self.surface, **({"condition": self.condition} if self.surface == "quadratic" else {}))
        return {name: trajectories.run(surface, name, self.start, self.steps, **self.hyper(name))
                for name in self.optimizers}


def optimizer_explorer(surface="quadratic", optimizers=("sgd", "momentum", "adam"), **traits):
    """The explorer, ready to display: ``optimizer_explorer("rosenbrock", ["sgd", "adam"])``.

    ``traits`` set any other trait of ``OptimizerExplorer`` (steps=300, condition=50, start=[-4, 2], …).
    """
    return OptimizerExplorer(surface=surface, optimizers=list(optimizers), **traits)
