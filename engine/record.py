"""How a node is made: the one place that numbers nodes and writes them on the tape.

An op (``value.py``, ``fused.py``, ``define.py``) computes its forward and picks its
``Op``; the functions here make the node. Each does the same three steps, whatever the
kind of node (``op.Kind``):

1. the node takes the next creation number (``tape.numbers``, one counter for all threads);
2. each input numbered below the tape's ``start`` is noted in the tape's ``older`` list
   (backward needs to know the graph reaches back past the tape, ``tape.py``);
3. the node is appended to the tape (``ops``, or ``leaves`` for a leaf); a tape past its
   ``stop`` is replaced by a new one.

Under ``no_grad`` there is no tape: the result is a leaf numbered 0, with no parents.
Inside ``detect_anomaly`` a forward that gives nan or inf raises here, naming the op.

They are written once per storage layout for speed (they run once per node): ``make_node``
(one Value input and maybe numbers), ``make_node2`` (two Value inputs), ``make_node_n``
(a tuple of Value inputs) and ``make_layer`` (a layer of neurons for one data point).
tests/test_tape.py checks every kind of node against step 2 (NODE_KINDS).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from engine.mode import ThreadState, this_thread
from engine.op import LEAF, Kind, Op
from engine.tape import Tape, numbers
from engine.value import Value

_new = object.__new__


def record_leaf(leaf: Value) -> None:
    """Number a Value made directly, and put it on the tape's leaves (0 under no_grad)."""
    state = this_thread.state
    tape = state.recording
    if tape is None:
        leaf._number = 0  # no tape knows it: an op that uses it notes it on its tape
        return
    leaf._number = number = next(numbers)
    tape.leaves.append(leaf)
    tape.newest_leaf = number
    if number >= tape.stop:
        state.new_tape()


def make_node(op: Op, data: float, a: Value, b: Any) -> Value:
    """A node of ``op`` with one Value input ``a`` and the numbers ``b`` (or None)."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    state = this_thread.state
    tape = state.recording
    if tape is not None:
        out._number = number = next(numbers)
        out._op, out._a, out._b = op, a, b
        if a._number < tape.start:
            tape.older.append(a)
        tape.ops.append(out)
        if number >= tape.stop:
            state.new_tape()
    else:
        out._number, out._op, out._a, out._b = 0, LEAF, None, None
    if state.anomaly_enabled and not math.isfinite(data):
        report_forward_anomaly(op, data, a, b)
    return out


def make_node2(op: Op, data: float, a: Value, b: Value) -> Value:
    """``make_node`` for an op of two Value inputs (written out: + and * make most nodes)."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    state = this_thread.state
    tape = state.recording
    if tape is not None:
        out._number = number = next(numbers)
        out._op, out._a, out._b = op, a, b
        start = tape.start
        if a._number < start:
            tape.older.append(a)
        if b._number < start:
            tape.older.append(b)
        tape.ops.append(out)
        if number >= tape.stop:
            state.new_tape()
    else:
        out._number, out._op, out._a, out._b = 0, LEAF, None, None
    if state.anomaly_enabled and not math.isfinite(data):
        report_forward_anomaly(op, data, a, b)
    return out


def make_node_n(op: Op, data: float, inputs: tuple[Value, ...], b: Any) -> Value:
    """``make_node`` for an n-ary op: a tuple of Value inputs and the numbers ``b`` (or None)."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    state = this_thread.state
    tape = state.recording
    if tape is not None:
        out._number = number = next(numbers)
        out._op, out._a, out._b = op, inputs, b
        start = tape.start
        tape.older.extend([x for x in inputs if x._number < start])
        tape.ops.append(out)
        if number >= tape.stop:
            state.new_tape()
    else:
        out._number, out._op, out._a, out._b = 0, LEAF, None, None
    if state.anomaly_enabled and not math.isfinite(data):
        report_forward_anomaly(op, data, inputs, b)
    return out


def neuron_prefixes(tape: Tape, weights: Sequence[Sequence[Value]], biases: Sequence[Value]
                    ) -> list[tuple[Value, ...]]:
    """Each neuron's weights and bias as one tuple (w1..wn, b), their older ones noted.

    A layer called once per data point would otherwise build these tuples and check
    every weight again at each call; so they are kept per layer until this tape is
    replaced, and reused while the layer still holds the very same Values.
    """
    key = id(weights)
    kept = tape.layers.get(key)
    if kept is not None and kept[0] is weights and kept[1] == weights and kept[2] == biases:
        return kept[3]
    prefixes = [(*row, b) for row, b in zip(weights, biases)]
    start = tape.start
    for prefix in prefixes:
        tape.older.extend([x for x in prefix if x._number < start])
    # The copies let the next call see a Value replaced in place (kept[1] == weights
    # compares row by row, Value by Value, by identity).
    tape.layers[key] = (weights, [list(row) for row in weights], list(biases), prefixes)
    return prefixes


def make_layer(state: ThreadState, op: Op, outputs: list[float],
               prefixes: list[tuple[Value, ...]], point: tuple[Any, ...],
               xs: tuple[Value, ...], off: Op | None) -> list[Value]:
    """The nodes of a layer of neurons for one data point, one per number in ``outputs``.

    Neuron j keeps ``prefixes[j]`` (its weights and bias, from ``neuron_prefixes`` on the
    recording tape) and ``point`` (the inputs: the Values ``xs``, or numbers). With ``off``
    (a ReLU layer), a neuron whose output is <= 0 is off: it becomes an op node of ``off``
    without parents, since it sends nothing back. The tape may be replaced here (when full):
    the caller asks ``neuron_prefixes`` again for the new one.
    """
    tape = state.recording
    nodes = []
    if tape is None:
        for data in outputs:
            out = _new(Value)
            out.data = data
            out.grad = 0.0
            out._number, out._op, out._a, out._b = 0, LEAF, None, None
            nodes.append(out)
    else:
        if xs:
            start = tape.start
            tape.older.extend([x for x in xs if x._number < start])
        # The nodes are made here rather than by make_node (the same steps, without a call
        # per node): this loop makes most of a network's nodes.
        if off is None:
            for data, prefix in zip(outputs, prefixes):
                out = _new(Value)
                out.data = data
                out.grad = 0.0
                out._number = next(numbers)
                out._op, out._a, out._b = op, prefix, point
                nodes.append(out)
        else:
            for data, prefix in zip(outputs, prefixes):
                out = _new(Value)
                out.data = data
                out.grad = 0.0
                out._number = next(numbers)
                if data <= 0.0:
                    out._op, out._a, out._b = off, None, None
                else:
                    out._op, out._a, out._b = op, prefix, point
                nodes.append(out)
        tape.ops.extend(nodes)
        if nodes and nodes[-1]._number >= tape.stop:
            state.new_tape()
    if state.anomaly_enabled:
        for out, prefix in zip(nodes, prefixes):
            if not math.isfinite(out.data):
                report_forward_anomaly(op, out.data, prefix, point)
    return nodes


def report_forward_anomaly(op: Op, data: float, a: Any, b: Any) -> None:
    """Raise ``FloatingPointError`` for a forward of ``op`` that gave nan or inf (anomaly mode)."""
    described = ", ".join(_describe(x) for x in op.inputs(a, b))
    const = f" with constant {b!r}" if op.kind is Kind.UNARY and b is not None else ""
    raise FloatingPointError(f"{op.name!r} produced {data} from input(s) {described}{const}")


def _describe(x: Any) -> str:
    if type(x) is Value:
        return f"{x.label!r}={x.data}" if x.label else f"{x.data}"
    return repr(x)
