"""The tape: the op nodes made since the last backward, in the order they were made.

Backward must visit every node an output depends on, each after all the nodes that use it.
Searching the graph for those nodes and sorting them costs more than applying the chain
rule itself. But the order in which nodes are made already is such an order: an op's
inputs exist before the op runs. So every op node is also appended to a list here as it is
made, and backward walks that list from the output back to the start.

The tape is a cache. Backward uses it only when it provably holds every op node the output
depends on, and searches the graph otherwise; the gradients are the same either way. The
tape holds the whole graph of an output made after the last backward unless some op node
was made from an op node older than that backward (a graph that grew out of an older
one). Every backward empties the tape, so a training loop keeps one step's graph on it at
a time; a tape that grows past ``LIMIT`` nodes (graphs built but never backpropagated,
without ``no_grad``) is emptied too, so it never holds more than that.

Leaves are not on the tape, but backward needs to know them: a leaf adds a call's whole
gradient to what it held (``old + sum``, as PyTorch does). So two more lists: the leaves
made since the last backward, and every input older than the tape that an op node uses
(usually a parameter; an older op node there means the tape does not hold the graph).

Like the switches in ``mode.py``, the tape is one per process, not per thread.

Python's cycle collector also gains: a node referenced by this list is seen as alive at
once, instead of first being taken for garbage (nothing older refers to it) and then moved
back when a younger node is found to use it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from operator import attrgetter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.value import Value

creation_number = attrgetter("_id")
"""A node's creation number (its private ``_id``): the key that orders nodes as made."""

LIMIT = 1_000_000
"""Op nodes the tape holds at most: about 150 MB of graph kept alive in the worst case."""

ops: list[Value] = []
"""Op nodes made since ``start``, oldest first."""

new_leaves: list[Value] = []
"""Leaves made since ``start`` while gradients were recorded."""

older: list[Value] = []
"""Inputs made before ``start`` of the op nodes on the tape, with repeats."""

start = 0
"""The creation number from which every op node is on the tape."""

stop = start + LIMIT
"""The creation number past which the tape is emptied, to bound what it keeps alive."""


def note_older_inputs(inputs: Sequence[Value]) -> None:
    """Note the inputs made before ``start`` among those of a new n-ary op node."""
    if inputs and min(map(creation_number, inputs)) < start:
        older.extend(x for x in inputs if x._id < start)


def note_new_leaf(leaf: Value) -> None:
    """Note a leaf made while gradients are recorded."""
    new_leaves.append(leaf)
    if len(new_leaves) > LIMIT:
        clear(leaf._id + 1)


def graph_of(root: Value) -> tuple[list[Value], list[Value]] | None:
    """Root's op nodes (in creation order, root last) and leaves, or None.

    None when the tape may not hold the whole graph: root was made before ``start`` (or is
    a leaf), or some op node on the tape uses an op node made before ``start``. The op
    nodes returned may include nodes of other graphs made in between; their gradient
    stays 0. The leaves may include other graphs' leaves too; they receive nothing.
    """
    if root._id < start or root._op.arity == 0:
        return None
    inputs = dict.fromkeys(older)
    if any(x._op.arity for x in inputs):
        return None
    # Usually root is the last node made: then the tape itself is the list (no copy).
    nodes = ops if ops[-1] is root else ops[: bisect_right(ops, root._id, key=creation_number)]
    return nodes, [*dict.fromkeys(new_leaves), *inputs]


def clear(next_id: int) -> None:
    """Empty the tape; ``next_id`` is the creation number the next node will get."""
    global start, stop
    # The same list objects: value.py holds their append methods.
    ops.clear()
    new_leaves.clear()
    older.clear()
    start = next_id
    stop = next_id + LIMIT
