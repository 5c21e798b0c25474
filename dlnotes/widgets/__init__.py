"""Interactive explorers that stay interactive in the static HTML book.

Both are anywidgets: their JavaScript runs in the page, so moving a slider needs no kernel.

    from dlnotes.widgets import optimizer_explorer, gradient_explorer
    optimizer_explorer("rosenbrock", ["sgd", "momentum", "adam"])   # paths computed in the browser
    gradient_explorer(activation="sigmoid")                          # a grid precomputed in Python
"""

from dlnotes.widgets.gradient import GradientExplorer, gradient_explorer
from dlnotes.widgets.optimizer import OptimizerExplorer, optimizer_explorer

__all__ = ["GradientExplorer", "OptimizerExplorer", "gradient_explorer", "optimizer_explorer"]
from dlnotes.widgets.attention import AttentionExplorer, attention_explorer  # noqa: E402

__all__ += ["AttentionExplorer", "attention_explorer"]
