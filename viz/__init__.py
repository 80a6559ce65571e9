"""Pictures of the chain rule: forward and backward graphs, and backprop step by step.

    from viz import draw_forward, draw_backward, backward_steps, save_backward_html
    y = (a*b + a**2).tanh(); y.backward()
    draw_forward(y)                  # values flowing forward (inline in Jupyter)
    draw_backward(y).render("y")     # gradients flowing back, the chain rule on every edge
    save_backward_html(y, "y.html")  # a page that steps through backprop node by node
    backward_steps(y)                # the same stepper, inline in a notebook

Read in this order: ``trace.py`` (the graph as plain data, and the chain rule's numbers on
each edge), ``draw.py`` (the two pictures, from the top down to their DOT nodes and edges),
``style.py`` (options, colours, names, text), ``graph.py`` (the DOT text and rendering
it), ``steps.py`` (one picture per backward step, pinned to one layout, shown as a
stepper), ``html.py`` (the stepper's page). Aside: ``examples.py`` writes the pictures in
docs/img, ``files.py`` saves files atomically and ``plots.py`` plots training with
matplotlib. Building pictures and their DOT text needs only Python; rendering them needs
Graphviz's ``dot`` program and the ``graphviz`` package that runs it
(``viz.GraphvizNotFound`` says how to install them).
"""

from viz.draw import draw_backward, draw_forward
from viz.graph import Graph, GraphvizNotFound
from viz.steps import Steps, backward_steps, save_backward_html
from viz.style import by_label_prefix, format_number
from viz.trace import Edge, Trace, trace

__all__ = [
    "Edge",
    "Graph",
    "GraphvizNotFound",
    "Steps",
    "Trace",
    "backward_steps",
    "by_label_prefix",
    "draw_backward",
    "draw_forward",
    "format_number",
    "save_backward_html",
    "trace",
]
