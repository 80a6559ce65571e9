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

How a picture is built, below the two functions: ``Picture`` writes a trace as DOT, a
table node for every Value (its label, its name ``v3``, its data; backward, also its grad
and, for a Value used several times, the contributions that sum to it) and an ellipse for
every op (``*``, ``tanh``, a neuron's ``w·x + b``; backward, also its step number), with
edges operand -> op -> result; ``cluster_of_each_value`` decides which box each node sits
in; ``chain_rule_term`` writes an edge's numbers as text. The graph and its numbers come
from ``viz.trace``, the options, colours and label text from ``viz.style``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from engine import Value
from viz.graph import Graph
from viz.style import (
    COLOURS,
    HIGHLIGHT,
    MUTED,
    ClusterSpec,
    Options,
    Params,
    escape,
    lines,
    make_options,
    op_text,
    operand_roles,
    small,
    table,
    title,
)
from viz.trace import Flow, Message, Trace, gradient_flow, same_float, trace

if TYPE_CHECKING:
    from viz.steps import Layout


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
    each fused neuron after its weights (``layers.0 neuron 1``), see ``viz.style``;
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


# ---- one trace as DOT: a table node for every Value, an ellipse for every op ----------------

DotNode = tuple[str, str, dict[str, str]]  # name, label, attributes
DotEdge = tuple[str, str, dict[str, str]]  # tail, head, attributes


class Picture:
    """Builds one DOT graph of a trace: forward (no flow) or backward (with a flow).

    ``after_step`` draws the backward pass part way, after that many steps (backward_steps
    uses it); None draws it complete. ``layout`` pins every node where it says, for frames
    that must not move (see ``viz.steps``); None lets ``dot`` lay the picture out.
    """

    def __init__(self, graph_trace: Trace, options: Options, flow: Flow | None,
                 after_step: int | None = None, layout: Layout | None = None) -> None:
        self.trace = graph_trace
        self.options = options
        self.flow = flow
        self.after_step = after_step
        self.layout = layout
        self.group_of: Mapping[Value, str | None] = {}

    # ---- the whole graph -------------------------------------------------------------------

    def draw(self, heading: str, note: str = "", caption: str = "") -> Graph:
        """The graph: nodes (grouped into clusters when asked), then edges, then the title."""
        is_frame = self.after_step is not None  # one frame of backward_steps
        pinned = self.layout is not None
        graph = Graph(
            format="svg",
            caption=caption,
            # neato -n2 keeps the pinned positions and only routes the edges.
            engine="neato" if pinned else "dot",
            neato_no_op=2 if pinned else None,
            graph_attr={"rankdir": self.options.rankdir, "labelloc": "t",
                        "label": title(heading, note, highlight=is_frame),
                        "fontname": "Helvetica", "nodesep": "0.3", "ranksep": "0.4",
                        # A title wider than the picture grows it to the right only.
                        **({"splines": "true", "labeljust": "l"} if pinned else {})},
            node_attr={"fontname": "Helvetica", "fontsize": "12"},
            edge_attr={"fontname": "Helvetica", "fontsize": "10"},
        )
        groups: dict[str | None, list[DotNode]] = {None: []}
        self.group_of = cluster_of_each_value(self.trace, self.options)
        for value in self.trace.values:
            groups.setdefault(self.group_of[value], []).extend(self._nodes(value))
        for name, label, attrs in groups.pop(None):
            graph.node(name, label, **attrs)
        if self.layout is not None:
            for corner, attrs in self.layout.corner_points():
                graph.node(corner, "", **attrs)
        for k, (group, nodes) in enumerate(groups.items()):
            with graph.subgraph(name=f"cluster_{k}") as box:
                pinned_box = self.layout.cluster_box(f"cluster_{k}") if self.layout else {}
                box.attr(label=f"<{escape(group)}>", style="rounded", color="gray50",
                         fontname="Helvetica", fontsize="11", **pinned_box)
                for name, label, attrs in nodes:
                    box.node(name, label, **attrs)
        for tail, head, attrs in self._edges():
            graph.edge(tail, head, **attrs)
        return graph

    # ---- nodes -----------------------------------------------------------------------------

    def _nodes(self, value: Value) -> list[DotNode]:
        """The value node of ``value`` and, when it has operands, its op node."""
        name = self.trace.name(value)
        current = self._is_current(value)
        fill = COLOURS[self.options.kind(value, self.trace.root)]
        rows = [self._header(value), *self._value_rows(value)]
        border = 3 if current else 1
        colour = HIGHLIGHT if current else "gray30"
        nodes = [(name, table(rows, fill, border, colour), self._pinned(name, shape="plain"))]
        if value.parents:
            op_rows = lines(op_text(value, self.options))
            if self.flow is not None:
                step = self.flow.step_of[value]
                done = self.after_step is None or step <= self.after_step
                op_rows += "<BR/>" + small(f"step {step}", "gray20" if done else MUTED)
            nodes.append((f"{name}_op", f"<{op_rows}>", self._pinned(
                f"{name}_op", shape="ellipse", style="filled", fillcolor=COLOURS["op"],
                margin="0.05", **({"color": HIGHLIGHT, "penwidth": "3"} if current else {}),
            )))
        return nodes

    def _header(self, value: Value) -> str:
        name = small(self.trace.name(value))
        label = self.options.shown_label(value, self.group_of.get(value))
        return f"<B>{escape(label)}</B> {name}" if label else name

    def _value_rows(self, value: Value) -> list[str]:
        data = f"data {self.options.number(value.data)}"
        if value.op and not value.parents:
            data += f" ({escape(value.op)}, a constant)"
        if self.flow is None:
            return [data]
        return [small(data), *self._grad_rows(value)]

    def _grad_rows(self, value: Value) -> list[str]:
        flow, number = self.flow, self.options.number
        assert flow is not None
        if value is self.trace.root:
            return [f"<B>grad {number(flow.seed)}</B> {small('(start)')}"]
        received = flow.received(value, self.after_step)
        if not received:
            return [small("grad ?", MUTED)]
        total = flow.grad_after(value, self.after_step)
        assert total is not None
        row = f"<B>grad {number(total)}</B>"
        if len(received) > 1:
            row += " = " + sum_of_contributions(received, self.options)
        complete = self.after_step is None or flow.is_complete(value, self.after_step)
        if not complete:
            return [row + " " + small("so far")]
        rows = [row]
        if self.after_step in (None, len(flow.steps)) and not same_float(total, value.grad):
            why = ("leaves add up over backward() calls" if not value.parents
                   else "not from this graph's backward()")
            rows.append(small(f".grad holds {number(value.grad)}: {why}", "firebrick"))
        return rows

    def _is_current(self, value: Value) -> bool:
        """True for the op node that backward processes at this frame's step."""
        return (self.flow is not None and self.after_step is not None
                and self.flow.step_of.get(value) == self.after_step)

    def _is_future(self, value: Value) -> bool:
        """True for an op node that backward processes after this frame's step."""
        return (self.flow is not None and self.after_step is not None
                and self.flow.step_of[value] > self.after_step)

    def _pinned(self, name: str, **attrs: str) -> dict[str, str]:
        return self.layout.pin(name, attrs) if self.layout is not None else attrs

    # ---- edges -----------------------------------------------------------------------------

    def _edges(self) -> list[DotEdge]:
        """Operand -> op edges (one per operand, repeats kept) and op -> value edges."""
        messages: dict[tuple[Value, int], Message] = {}
        if self.flow is not None:
            messages = {(m.edge.child, m.edge.position): m for m in self.flow.messages}
        edges = []
        for value in self.trace.values:
            if not value.parents:
                continue
            name = self.trace.name(value)
            roles = operand_roles(value)
            for position, parent in enumerate(value.parents):
                attrs = self._edge_style(messages.get((value, position)), roles[position])
                edges.append((self.trace.name(parent), f"{name}_op", attrs))
            out_attrs = {} if self.flow is None else {"dir": "back"}
            if self._is_current(value):
                out_attrs.update(color=HIGHLIGHT, penwidth="2")
            elif self._is_future(value):
                out_attrs.update(color=MUTED, style="dashed")
            edges.append((f"{name}_op", name, out_attrs))
        return edges

    def _edge_style(self, message: Message | None, role: str) -> dict[str, str]:
        if self.flow is None or message is None:
            return {"label": f"<{role}>"} if role else {}
        attrs = {"dir": "back"}
        if self.after_step is not None and message.step > self.after_step:
            attrs.update(color=MUTED, style="dashed")
            return {**attrs, "label": f"<{role}>"} if role else attrs
        text = chain_rule_term(message, self.options)
        if role:
            text = f"{role}: {text}"
        # A white backing keeps the numbers readable where an edge runs through its label.
        attrs["label"] = (f'<<TABLE BORDER="0" CELLBORDER="0" CELLPADDING="1" BGCOLOR="white">'
                          f"<TR><TD>{escape(text)}</TD></TR></TABLE>>")
        if self.after_step is not None and message.step == self.after_step:
            attrs.update(color=HIGHLIGHT, fontcolor=HIGHLIGHT, penwidth="2")
        return attrs


# ---- which box each node sits in ------------------------------------------------------------

def cluster_of_each_value(graph_trace: Trace, options: Options) -> dict[Value, str | None]:
    """The cluster of every Value: the one ``options.clusters`` gives it, else the one it
    lies inside of.

    A Value the clusters leave out joins group G when it lies on a path from a member of
    G to another member of G (everything computed between a neuron's weights and its
    labelled output is part of that neuron), and no other group claims it. This keeps
    boxes whole: a box with holes makes Graphviz's layout route edges in and out of it.
    """
    given = {value: options.cluster_of(value) for value in graph_trace.values}
    if not any(given.values()):
        return given
    users: dict[Value, list[Value]] = {}
    for edge in graph_trace.edges:
        users.setdefault(edge.parent, []).append(edge.child)
    from_above: dict[Value, set[str]] = {}   # groups with a member upstream of the node
    for value in graph_trace.values:         # creation order: operands before results
        from_above[value] = set().union(
            *(_groups_at_or_beyond(p, given, from_above) for p in value.parents))
    from_below: dict[Value, set[str]] = {}   # groups with a member downstream of it
    for value in reversed(graph_trace.values):
        from_below[value] = set().union(
            *(_groups_at_or_beyond(u, given, from_below) for u in users.get(value, ())))
    group_of = dict(given)
    for value, group in given.items():
        between = from_above[value] & from_below[value]
        if group is None and len(between) == 1:
            group_of[value] = between.pop()
    return group_of


def _groups_at_or_beyond(value: Value, given: Mapping[Value, str | None],
                         beyond: Mapping[Value, set[str]]) -> set[str]:
    """The groups with a member beyond ``value`` (``beyond[value]``), and its own group."""
    group = given[value]
    return beyond[value] | {group} if group else beyond[value]


# ---- the chain rule's arithmetic as text ----------------------------------------------------

def chain_rule_term(message: Message, options: Options) -> str:
    """``upstream × local = contribution`` with the message's numbers: ``0.5 × (-3) = -1.5``."""
    number = options.number
    return (f"{number(message.upstream)} × {parenthesize_negative(number(message.local))} = "
            f"{number(message.contribution)}")


def sum_of_contributions(received: Sequence[Message], options: Options) -> str:
    """The contributions a Value received, added up in backward's order: ``0.5 + (-1)``."""
    return " + ".join(parenthesize_negative(options.number(m.contribution)) for m in received)


def parenthesize_negative(text: str) -> str:
    """A number's text in parentheses when it is negative, so that ``× -3`` reads ``× (-3)``."""
    return f"({text})" if text.startswith("-") else text
