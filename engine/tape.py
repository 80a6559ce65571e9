"""The tape: the op nodes one thread made since its last backward, in the order it made them.

Backward must visit every node an output depends on, each after all the nodes that use it.
Searching the graph for those nodes and sorting them costs more than applying the chain
rule itself. But the order in which nodes are made already is such an order: an op's
inputs exist before the op runs. So every op node is also appended to a list here as it is
made, and backward walks that list from the output back to the start.

The tape is a cache. Backward uses it only when it provably holds every op node the output
depends on, and searches the graph otherwise; the gradients are the same either way.

Which Values a tape knows follows from creation numbers (``_number``, one counter for all
threads). A tape starts at a number, ``start``; every op node recorded on it, and every
leaf made while it records (``leaves``), gets a number from ``start`` on. A leaf made under
``no_grad`` gets 0. So when an op uses an input numbered below ``start``, the tape notes it
in ``older``. At backward, the leaves there join ``leaves`` (backward needs them all: a
leaf adds a call's whole gradient to what it held, ``old + sum``, as PyTorch does); an op
node there means the tape does not hold whole graphs (one grew out of an older graph), and
backward searches instead.

Recording a node takes three steps, all in ``record.py`` (the only code that writes to a
tape while it records): the node takes the next number, every input numbered below
``start`` is appended to ``older``, and the node is appended to ``ops``; a full tape is
then replaced. This module holds the tape itself, what backward asks of it (``graph_of``),
and its end (``close``).

Each thread has its own tape (``mode.ThreadState``), so graphs built and backpropagated in
different threads never meet here. Numbers alone cannot tell threads apart, though: a node
another thread made after ``start`` has a number this tape would take for its own. So
before backward trusts a tape, it asks whether any other thread recorded a Value numbered
from ``start`` on (``others_since``: one look at each thread's newest number); if one did,
backward searches. Threads that record one after another never trigger it, and neither
do threads that only evaluate under ``no_grad``.

Every backward replaces its thread's tape by a new one, so a training loop keeps one step's
graph on it at a time; a tape that grows past ``LIMIT`` numbers (graphs built but never
backpropagated, without ``no_grad``) is replaced too, so it never holds more than that.
A thread that ends lets go of its tape's nodes at once (``let_go``).

A closed tape hands its list of op nodes to the newest of them (``Op.keeping``): when that
node goes, the list goes newest first, so a graph a million nodes deep is freed one node at
a time instead of by a million nested calls in C.

Python's cycle collector also gains: a node referenced by this list is seen as alive at
once, instead of first being taken for garbage (nothing older refers to it) and then moved
back when a younger node is found to use it.
"""

from __future__ import annotations

import os
import threading
from bisect import bisect_right
from itertools import count
from operator import attrgetter
from typing import TYPE_CHECKING

from engine.op import Kind

if TYPE_CHECKING:
    from engine.value import Value

numbers = count(1)
"""Creation numbers of recorded Values, in every thread (``next`` is atomic); 0 is unrecorded."""

creation_number = attrgetter("_number")
"""A node's creation number (its private ``_number``): the key that orders nodes as made."""

LIMIT = 1_000_000
"""Creation numbers a tape spans at most: about 150 MB of graph kept alive in the worst case."""


class Tape:
    """The op nodes one thread recorded since its last backward, and the leaves they use."""

    __slots__ = ("layers", "leaves", "newest_leaf", "older", "ops", "start", "stop")

    def __init__(self) -> None:
        self.ops: list[Value] = []
        """Op nodes recorded on this tape, oldest first."""
        self.leaves: list[Value] = []
        """Leaves made while this tape recorded, oldest first."""
        self.older: list[Value] = []
        """Inputs older than this tape of the op nodes on it (repeats possible)."""
        self.newest_leaf = 0
        """The number of the last leaf made while this tape recorded (0: none)."""
        self.layers: dict[int, tuple] = {}
        """Neuron inputs noted per layer, see ``record.neuron_prefixes``."""
        self.start = next(numbers)
        """The first creation number this tape records: everything older is noted when used."""
        self.stop = self.start + LIMIT
        """The creation number from which this tape is full."""
        with _lock:
            _open.add(self)

    def newest(self) -> int:
        """The number of the newest Value recorded on this tape (0: none)."""
        last = self.ops[-1:]  # one step: another thread may be emptying the list (``let_go``)
        return max(last[0]._number if last else 0, self.newest_leaf)

    def let_go(self) -> None:
        """Drop every node this tape holds, keeping its newest number; takes no lock.

        For a thread that has ended: its nodes are freed at once (not at some other
        thread's next backward), from wherever Python frees the thread's state.
        """
        self.newest_leaf = self.newest()  # first, so that newest() never goes back
        self.ops = []  # the list goes newest first: no deep recursion
        self.leaves.clear()
        self.older.clear()
        self.layers.clear()

    def graph_of(self, root: Value) -> tuple[list[Value], list[Value]] | None:
        """Root's op nodes (in creation order, root last) and leaves, or None.

        None when this tape may not hold the whole graph: root is not on it (or is a leaf),
        some op node on it uses an op node that is not, or another thread recorded Values
        since this tape started. The op nodes returned may include nodes of other graphs
        made in between; their gradient stays 0. The leaves may include other graphs' leaves
        too; they receive nothing.
        """
        leaf = Kind.LEAF  # read once: an Enum's member is slow to look up on its class
        if root._number < self.start or root._op.kind in (leaf, Kind.CONSTANT):
            return None
        older = dict.fromkeys(self.older)
        if any(x._op.kind is not leaf for x in older) or others_since(self):
            return None
        ops = self.ops
        # Usually root is the last node made: then the tape itself is the list (no copy).
        nodes = ops if ops[-1] is root else ops[: bisect_right(ops, root._number, key=creation_number)]
        return nodes, [*self.leaves, *older]

    def close(self) -> None:
        """Let go of every node, once this tape is replaced.

        The newest op node is given the others (``Op.keeping``), so that the graph, when it
        goes, is freed newest first without deep recursion.
        """
        with _lock:
            _retire_ended()
            _retire(self)
        ops = self.ops
        self.ops = []
        if ops:
            newest = ops.pop()
            newest._op = newest._op.keeping(ops)
        self.leaves.clear()
        self.older.clear()
        self.layers.clear()


# What backward asks before trusting a tape: did another thread record since it started?
_open: set[Tape] = set()
"""The tapes of live threads (each thread's current one)."""
_closed_newest = 0
"""The newest number recorded on any tape closed so far."""
tapes_of_ended_threads: list[Tape] = []
"""Tapes still to be counted as closed, their threads having ended (``ThreadState.__del__``).

A thread's state is freed wherever that happens: even inside ``others_since``, when the
cycle collector frees it there, or at interpreter exit. So it lets go of its tape's nodes
and appends the (empty) tape here, steps that need no lock (taking one could wait for
itself), and the tape is retired at the next look at the tapes.
"""
_lock = threading.Lock()


def open_tapes() -> int:
    """How many tapes of live threads are open (one per thread that used the engine)."""
    with _lock:
        _retire_ended()
        return len(_open)


def _retire(tape: Tape) -> None:
    """Count tape as closed: no longer open, its newest number kept (under ``_lock``)."""
    global _closed_newest
    _closed_newest = max(_closed_newest, tape.newest())
    _open.discard(tape)


def _retire_ended() -> None:
    """``_retire`` each tape in ``tapes_of_ended_threads`` (under ``_lock``)."""
    while tapes_of_ended_threads:
        _retire(tapes_of_ended_threads.pop())


def others_since(tape: Tape) -> bool:
    """True when some other tape, open or closed, recorded a Value numbered from tape.start on."""
    with _lock:  # a consistent view: a tape being closed is either open or counted as closed
        _retire_ended()
        if _closed_newest >= tape.start:
            return True
        for other in _open:
            if other is not tape and other.newest() >= tape.start:
                return True
        return False


def _after_fork_in_child() -> None:
    # A thread of the parent may have held the lock at the fork; in the child that thread
    # no longer exists, and would never release it.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
