"""Pictures of the chain rule: forward and backward graphs, and backprop step by step.

    from viz import draw_forward, draw_backward, backward_steps, save_backward_html
    y = (a*b + a**2).tanh(); y.backward()
    draw_forward(y)                  # values flowing forward (inline in Jupyter)
    draw_backward(y).render("y")     # gradients flowing back, the chain rule on every edge
    save_backward_html(y, "y.html")  # a page that steps through backprop node by node

Read in this order: ``trace.py`` (the graph as plain data), ``flow.py`` (the chain rule's
numbers on each edge), ``style.py`` (options, colours, text), ``draw.py`` (the pictures),
``steps.py`` (one picture per backward step), ``html.py`` (the stepper page),
``examples.py`` (the pictures in docs/img). ``trace.py`` and ``flow.py`` need no graphviz;
rendering needs Graphviz's ``dot`` program (``viz.GraphvizNotFound`` says how to install it).
"""

from importlib import import_module
from typing import Any

from viz.trace import Edge, Trace, trace

# The drawing functions are imported on first use (PEP 562), so that the plain graph data
# (viz.trace, viz.flow) and viz.plots work where the graphviz package is not installed;
# drawing then raises ImportError naming it.
_LAZY = {
    "Graph": "viz.graph",
    "GraphvizNotFound": "viz.graph",
    "backward_steps": "viz.steps",
    "by_label_prefix": "viz.style",
    "draw_backward": "viz.draw",
    "draw_forward": "viz.draw",
    "format_number": "viz.style",
    "save_backward_html": "viz.html",
}
__all__ = [
    "Edge",
    "Graph",
    "GraphvizNotFound",
    "Trace",
    "backward_steps",
    "by_label_prefix",
    "draw_backward",
    "draw_forward",
    "format_number",
    "save_backward_html",
    "trace",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'viz' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
