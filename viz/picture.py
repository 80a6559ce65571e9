"""One trace as DOT: a table node for every Value, an ellipse for every op, and the edges.

A Value's node shows its label, its name (``v3``) and its data; in a backward picture also
its grad, and, for a Value used several times, the contributions that sum to it. An op's
node shows the op (``*``, ``tanh``, a neuron's ``w·x + b``), and in a backward picture its
step number. Edges run operand -> op -> result; a backward picture writes on each operand
edge the chain rule's term (``viz.terms``). Values in a group are drawn inside one box
(``viz.clusters``); the frames of ``backward_steps`` are pinned to one layout
(``viz.pinning``).
"""

from __future__ import annotations

from collections.abc import Mapping

from engine import Value
from viz.clusters import cluster_of_each_value
from viz.flow import Flow, Message, same_float
from viz.graph import Graph
from viz.pinning import Layout
from viz.style import (
    COLOURS,
    HIGHLIGHT,
    MUTED,
    Options,
    escape,
    lines,
    op_text,
    operand_roles,
    small,
    table,
    title,
)
from viz.terms import chain_rule_term, sum_of_contributions
from viz.trace import Trace

DotNode = tuple[str, str, dict[str, str]]  # name, label, attributes
DotEdge = tuple[str, str, dict[str, str]]  # tail, head, attributes


class Picture:
    """Builds one DOT graph of a trace: forward (no flow) or backward (with a flow).

    ``after_step`` draws the backward pass part way, after that many steps (backward_steps
    uses it); None draws it complete. ``layout`` pins every node where it says, for frames
    that must not move (see ``viz.pinning``); None lets ``dot`` lay the picture out.
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
