"""The graph behind a Value, as plain data: nodes and edges in a fixed order, no graphviz.

``trace(y)`` walks from ``y`` back to its leaves and returns every Value it depends on,
numbered ``v0, v1, ...`` in the order they were created (inputs first, ``y`` last), and
one edge per operand: ``a * a`` has two edges from ``a``, at positions 0 and 1. The same
graph always gives the same names and the same order, so pictures can be compared as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine import Value
from engine.tape import creation_number  # the engine's creation order, for sorting only


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
    seen = {root}
    stack = [root]
    while stack:
        for parent in stack.pop().parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
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
