"""The graph behind a Value as plain data, and backward's arithmetic on it: no graphviz.

``trace(y)`` walks from ``y`` back to its leaves and returns every Value it depends on,
numbered ``v0, v1, ...`` in the order they were created (inputs first, ``y`` last), and
one edge per operand: ``a * a`` has two edges from ``a``, at positions 0 and 1. The same
graph always gives the same names and the same order, so pictures can be compared as text.

``gradient_flow(trace)`` is the chain rule on that graph, as numbers: who sends what to
whom, at which step. Backward visits the op nodes in ``engine.backward_order`` (root
first). At step k, node ``out`` holds its gradient ``g = d root / d out`` and sends each of
its operands ``p``

    contribution = upstream x local = g * d out / d p

and ``p.grad`` is the sum of the contributions it receives. Each ``Message`` is one such
term, with the exact floats the engine computes (``engine.contributions`` and
``engine.local_derivatives``), so a picture's arithmetic is the engine's arithmetic. The
contribution is computed by the op's own rule, so in the last bit it may differ from the
product of the two numbers shown beside it (sigmoid computes ``(g * (1 - s)) * s``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from engine import Value, backward_order, contributions, local_derivatives
from engine.chain_rule import depends_on
from engine.tape import creation_number  # the engine's creation order, for sorting only

# ---- the graph -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Edge:
    """``parent`` is operand number ``position`` of the op that made ``child``."""

    parent: Value
    child: Value
    position: int


@dataclass(frozen=True)
class Trace:
    """The Values ``root`` depends on (creation order, root last) and the edges between them."""

    root: Value
    values: tuple[Value, ...]
    edges: tuple[Edge, ...]
    names: Mapping[Value, str]

    def name(self, value: Value) -> str:
        """The node's name in pictures: ``v`` and its rank in creation order."""
        return self.names[value]


def trace(root: Value, max_nodes: int | None = None) -> Trace:
    """Collect ``root`` and every Value it depends on, without recursion.

    Raises ValueError as soon as more than ``max_nodes`` Values are found (None: no limit),
    so that a graph too large to draw is refused before any work is spent on it.
    """
    if type(root) is not Value:
        raise TypeError(f"expected a Value to draw, not {type(root).__name__}")
    seen = []
    for value in depends_on(root):
        seen.append(value)
        if max_nodes is not None and len(seen) > max_nodes:
            raise ValueError(
                f"this graph has more than max_nodes={max_nodes} Values, too many to "
                f"read in one picture; draw a smaller graph (one neuron, or the loss "
                f"of one sample on a tiny model) or pass a larger max_nodes"
            )
    values = tuple(sorted(seen, key=creation_number))
    names = {value: f"v{i}" for i, value in enumerate(values)}
    edges = tuple(
        Edge(parent, child, position)
        for child in values
        for position, parent in enumerate(child.parents)
    )
    return Trace(root, values, edges, names)


# ---- backward's messages on it --------------------------------------------------------------

@dataclass(frozen=True)
class Message:
    """At backward step ``step``, ``edge.child`` sends ``edge.parent`` its ``contribution``."""

    edge: Edge
    step: int
    upstream: float
    local: float
    contribution: float


@dataclass(frozen=True)
class Flow:
    """Every message of one backward pass over a trace, in the order backward adds them."""

    trace: Trace
    steps: tuple[Value, ...]
    step_of: Mapping[Value, int]
    messages: tuple[Message, ...]
    inbox: Mapping[Value, tuple[Message, ...]]
    last_use: Mapping[Value, int]

    @property
    def seed(self) -> float:
        """The root's gradient, where backward starts (1.0 after ``root.backward()``)."""
        return self.trace.root.grad

    def received(self, value: Value, after_step: int | None = None) -> list[Message]:
        """The messages ``value`` has received once ``after_step`` steps ran (None: all)."""
        inbox = self.inbox.get(value, ())
        return [m for m in inbox if after_step is None or m.step <= after_step]

    def grad_after(self, value: Value, after_step: int | None = None) -> float | None:
        """``value``'s gradient summed so far, in backward's order; None before any message.

        The root holds the seed from step 0 on. Every other node starts from 0.0 and adds
        its messages one by one, exactly as the engine does.
        """
        if value is self.trace.root:
            return self.seed
        terms = self.received(value, after_step)
        if not terms:
            return None
        total = 0.0
        for m in terms:
            total += m.contribution
        return total

    def is_complete(self, value: Value, after_step: int) -> bool:
        """True once every op that uses ``value`` has sent it its contribution."""
        return self.last_use.get(value, 0) <= after_step

    def backward_was_run(self) -> bool:
        """False while every gradient is 0: the state before ``root.backward()``."""
        return any(v.grad != 0.0 for v in self.trace.values)

    def stale_nodes(self) -> list[Value]:
        """Op nodes whose stored ``.grad`` is not the sum of what they receive from here.

        Empty after ``root.backward()``. Not empty when the gradients come from a backward
        over another root (or were set by hand), so a picture must say so.
        """
        stale = []
        for value in self.steps:
            if value is self.trace.root:
                continue
            summed = self.grad_after(value)
            if not same_float(summed, value.grad):
                stale.append(value)
        return stale


def gradient_flow(trace: Trace) -> Flow:
    """The messages of backward over ``trace``, from the stored ``.grad`` of each op node.

    Each op node's upstream gradient is its ``.grad`` (final once its users are done,
    which backward's order guarantees), so ``root.backward()`` must have run first for
    the numbers to be those of this graph (``Flow.backward_was_run``, ``Flow.stale_nodes``).
    """
    steps = tuple(backward_order(trace.root))
    step_of = {value: k for k, value in enumerate(steps, start=1)}
    messages = []
    inbox: dict[Value, list[Message]] = {}
    for k, node in enumerate(steps, start=1):
        locals_ = local_derivatives(node)
        sent = contributions(node, node.grad)
        for position, parent in enumerate(node.parents):
            edge = Edge(parent, node, position)
            message = Message(edge, k, node.grad, locals_[position], sent[position])
            messages.append(message)
            inbox.setdefault(parent, []).append(message)
    # Steps go up as backward goes on, so a node's last message comes from its last user.
    last_use = {value: received[-1].step for value, received in inbox.items()}
    return Flow(trace, steps, step_of, tuple(messages),
                {value: tuple(received) for value, received in inbox.items()}, last_use)


def same_float(a: float | None, b: float) -> bool:
    """a == b for gradients: nan equals nan, and no gradient (None) equals 0.0."""
    if a is None:
        return b == 0.0
    return a == b or (math.isnan(a) and math.isnan(b))
