"""Pictures of a computation graph: values flowing forward, gradients flowing back.

    draw_forward(y)    every Value with its label and data; each op as its own node;
                       edges run inputs -> op -> output
    draw_backward(y)   the same layout, arrows reversed (output -> inputs): every Value with
                       its grad, every op with its step number in backward's order, and
                       every edge with the chain rule's term
                           upstream x local = contribution
                       where upstream = d y / d out, local = d out / d input; a Value used
                       twice shows both contributions and their sum.

Both return a ``viz.Graph``: DOT text that viz writes itself (see ``viz.graph``), the
same text a ``graphviz.Digraph`` built the same way would hold. ``.source`` is that text,
``.render("y", format="svg")`` writes a picture through Graphviz, and a notebook displays
it inline. The backward picture keeps the forward picture's direction, inputs on the left
and the output on the right: its edges are written input -> op, as in the forward graph,
with ``dir=back``, so the arrows point from the output back to the inputs.

How a picture is built: ``viz.picture`` writes the nodes and edges of a trace,
``viz.clusters`` decides which box each node sits in, ``viz.terms`` writes the chain
rule's numbers as text.
"""

from __future__ import annotations

from engine import Value
from viz.flow import Flow, gradient_flow
from viz.graph import Graph
from viz.names import Params
from viz.picture import Picture
from viz.style import ClusterSpec, make_options
from viz.trace import Trace, trace


def draw_forward(
    root: Value,
    *,
    rankdir: str = "LR",
    precision: int = 4,
    params: Params = None,
    clusters: ClusterSpec = None,
    max_nodes: int | None = 300,
) -> Graph:
    """The forward graph of ``root``: how each value was computed from the ones before it.

    Nodes are named ``v0..vN`` in creation order. Options (shared by every drawing):
    ``rankdir`` "LR" or "TB"; ``precision`` significant digits (1e-5 stays 1e-05);
    ``params`` the Values to colour as parameters (other leaves are inputs): a model's
    ``parameters()``, or its ``named_parameters()`` (as a dict or as the list of pairs),
    which also names each parameter after PyTorch (``w[1,0]`` in a box ``layers.0``) and
    each fused neuron after its weights (``layers.0 neuron 1``), see ``viz.names``;
    ``clusters`` a mapping or a function from Value to a group name, drawn as one box per
    group (``viz.by_label_prefix`` groups "layers.0.neuron3.w1" under "layers.0.neuron3";
    what lies between two members of a group joins it, so a box has no holes);
    ``max_nodes`` the most Values drawn before a ValueError asks for a smaller graph.
    """
    options = make_options(rankdir, precision, params, clusters, max_nodes)
    graph_trace = trace(root, options.max_nodes)
    heading = f"forward: {_label_or_name(graph_trace, root)} = {options.number(root.data)}"
    return Picture(graph_trace, options, None).draw(heading)


def draw_backward(
    root: Value,
    *,
    rankdir: str = "LR",
    precision: int = 4,
    params: Params = None,
    clusters: ClusterSpec = None,
    max_nodes: int | None = 300,
) -> Graph:
    """The backward graph of ``root`` after ``root.backward()``: the chain rule on every edge.

    Each op node carries its step number k (backward processes op nodes in decreasing
    creation order, root first). Each edge from an op ``out`` to its operand ``p`` reads
    ``upstream x local = contribution``: d root/d out, times d out/d p, gives the share of
    d root/d p that flows along that edge. Each Value shows its grad; one used several
    times shows the sum ``grad = c1 + c2``. Before ``backward()`` the title says so.
    Options as in ``draw_forward``.
    """
    options = make_options(rankdir, precision, params, clusters, max_nodes)
    graph_trace = trace(root, options.max_nodes)
    flow = gradient_flow(graph_trace)
    name = _label_or_name(graph_trace, root)
    heading = f"backward: grad = d {name} / d node;  each edge: upstream × local = contribution"
    return Picture(graph_trace, options, flow).draw(heading, backward_warning(flow))


def backward_warning(flow: Flow) -> str:
    """A warning for the title when the stored gradients are not this graph's backward."""
    name = _label_or_name(flow.trace, flow.trace.root)
    if not flow.backward_was_run():
        return f"backward() has not been called yet: every grad is 0. Call {name}.backward() first."
    stale = flow.stale_nodes()
    if stale:
        names = ", ".join(flow.trace.name(v) for v in stale[:5])
        return (f"the grads of {names} do not come from {name}.backward(): "
                f"call it before drawing")
    return ""


def _label_or_name(graph_trace: Trace, value: Value) -> str:
    return value.label or graph_trace.name(value)
