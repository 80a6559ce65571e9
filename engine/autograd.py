"""Backpropagation, fast: ``reference_backward`` (``chain_rule.py``) made quick for training.

The same chain rule in the same order, so the same floats, with three savings:

* The list of nodes usually comes from the tape (``tape.py``): the op nodes in the order
  they were made, which backward only has to read backwards. When the tape cannot vouch
  for the whole graph, the graph is searched (``graph_search``, which reads each node's
  storage directly instead of building its ``parents``) and sorted.
* A node whose gradient is 0 sends nothing (every contribution would be 0), unless its
  op can turn 0 into nan (0 * inf), as PyTorch's would.
* Gradients are added straight into ``.grad`` instead of a dictionary, and the rules are
  applied per kind of node written out (a call and a tuple saved per node).

``grad()`` at the end is the functional form, which can build the gradient as a graph.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

from engine import tape
from engine.mode import enable_grad, no_grad, this_thread
from engine.op import Kind, as_number
from engine.value import Value


def _nodes_to_visit(root: Value) -> tuple[list[Value], list[Value], bool]:
    """The op nodes to visit (in creation order, root last: backward reads it backwards), the leaves.

    From the tape when it holds root's whole graph; then the list may also hold op nodes of
    other graphs (the third item, ``exactly_roots``, is False: not every node listed is one
    root depends on).
    Otherwise from a search of the graph, which finds exactly root's nodes.
    """
    taped = this_thread.state.tape.graph_of(root)
    if taped is not None:
        return *taped, False
    return *graph_search(root), True


def graph_search(root: Value) -> tuple[list[Value], list[Value]]:
    """The op nodes root depends on (in creation order, root last) and its leaves.

    ``chain_rule.newest_first`` written for speed: an explicit stack (no recursion, so a
    chain a million nodes deep works too) over each node's storage, per kind of node,
    instead of building ``parents`` tuples.
    """
    LEAF, CONSTANT, UNARY, BINARY = Kind.LEAF, Kind.CONSTANT, Kind.UNARY, Kind.BINARY
    kind = root._op.kind
    if kind is LEAF or kind is CONSTANT:
        return ([], [root]) if kind is LEAF else ([root], [])
    seen = {root}
    stack = [root]
    ops: list[Value] = []
    leaves: list[Value] = []
    while stack:
        node = stack.pop()
        kind = node._op.kind
        if kind is LEAF:
            leaves.append(node)
            continue
        ops.append(node)
        # Push each input not met before (written out per kind: this loop is hot).
        if kind is BINARY:
            a, b = node._a, node._b
            if a not in seen:
                seen.add(a)
                stack.append(a)
            if b not in seen:
                seen.add(b)
                stack.append(b)
        elif kind is UNARY:
            a = node._a
            if a not in seen:
                seen.add(a)
                stack.append(a)
        elif kind is not CONSTANT:  # a constant has no inputs
            for parent in node._op.inputs(node._a, node._b):
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
    ops.sort(key=tape.creation_number)
    return ops, leaves


def backward(root: Value, grad: float = 1.0) -> None:
    """Set ``.grad`` of every node ``root`` depends on to d root / d node.

    The root is seeded with ``grad``. Op nodes get fresh gradients on every call; leaves
    add this call's gradient to what they hold (PyTorch's ``.grad`` accumulation), so two
    calls give twice the gradient until ``zero_grad()``.
    """
    seed = as_number(grad)
    if seed is None:
        raise TypeError(f"backward() takes a real number as grad, not {type(grad).__name__}")
    ops, leaves, exactly_roots = _nodes_to_visit(root)
    try:
        with accumulating:
            _chain_rule(root, seed, ops, leaves, exactly_roots)
    finally:
        this_thread.state.new_tape()


accumulating = threading.RLock()
"""Held by each backward while it adds into ``.grad``: one at a time, as PyTorch locks a leaf.

Threads may backpropagate into the same leaves (a model shared by several threads), and
``leaf.grad += d`` is a read, an add and a write, between which another thread may run:
without the lock, contributions get lost. Only the chain rule itself is held; threads
still build their graphs side by side. Re-entrant, so that a derivative may call backward.
"""


def _chain_rule(root: Value, seed: float, ops: list[Value], leaves: list[Value],
                exactly_roots: bool) -> None:
    """Backpropagate from ``root`` over ``ops`` (creation order), then update the leaves."""
    accumulated = [leaf.grad for leaf in leaves]
    # A leaf's .grad collects this call's sum first, from -0.0: the float that adding leaves
    # unchanged (-0.0 + c == c for every c, signed zeros included), so a leaf that receives
    # nothing ends as it began, even at -0.0.
    for leaf in leaves:
        leaf.grad = -0.0
    try:
        _push_gradients(root, seed, ops, exactly_roots)
    except BaseException:
        for leaf, before in zip(leaves, accumulated):
            leaf.grad = before  # a backward that fails leaves the leaves as they were
        raise
    # Leaves add the whole of this call's gradient to what they held, as PyTorch does.
    for leaf, before in zip(leaves, accumulated):
        leaf.grad = before + leaf.grad


def _push_gradients(root: Value, seed: float, ops: list[Value], exactly_roots: bool) -> None:
    """The chain rule itself: each op node, users before inputs, adds to its inputs' grads."""
    for node in ops:
        node.grad = 0.0
    root.grad = seed
    depends: set[Value] | None = None  # the op nodes root depends on, found if ever needed
    check = this_thread.state.anomaly_enabled
    read: dict[int, list[float]] = {}  # id of a tuple of inputs: their numbers
    UNARY, BINARY, NARY, NEURON = Kind.UNARY, Kind.BINARY, Kind.NARY, Kind.NEURON
    # The loop below is ``contributions(node, g)`` written out per kind: this is the hot
    # path of training, and inlining saves a call and a tuple for every node.
    for node in reversed(ops):
        op = node._op
        g = node.grad
        if g == 0.0:
            if op.zero_safe and math.isfinite(node.data):
                continue  # every contribution would be 0: nothing to add
            # 0 * inf must still give nan, but only on root's own nodes: a node of another
            # graph on the tape also has gradient 0 here, and must send nothing.
            if not exactly_roots:
                if depends is None:
                    depends = set(graph_search(root)[0])
                if node not in depends:
                    continue
        kind = op.kind
        if kind is BINARY:
            a, b = node._a, node._b
            da, db = op.derivative(g, node.data, a.data, b.data)
            a.grad += da
            b.grad += db
            if check:
                _check_backward(node, (da, db))
        elif kind is UNARY:
            a = node._a
            d = op.derivative(g, node.data, a.data, node._b)
            a.grad += d
            if check:
                _check_backward(node, (d,))
        elif kind is NARY or kind is NEURON:
            parents, b = node._a, node._b
            # The nodes of a layer share one tuple of weights (and, in a batch, the nodes of
            # one data point one tuple of inputs): their numbers are read once per backward.
            numbers = read.get(id(parents))
            if numbers is None:
                numbers = read[id(parents)] = [p.data for p in parents]
            if kind is NARY:
                inputs = b  # its constants
            else:  # a neuron's inputs, Values
                inputs = read.get(id(b))
                if inputs is None:
                    inputs = read[id(b)] = [x.data for x in b]
            if op.add_into is not None and not check:
                op.add_into(g, node.data, parents, numbers, b, inputs)  # a fused neuron
                continue
            ds = op.derivative(g, node.data, numbers, inputs)
            if kind is NEURON:  # weights and bias, then its inputs
                parents += b
            for p, d in zip(parents, ds):
                p.grad += d
            if check:
                _check_backward(node, ds)


def _check_backward(node: Value, grads: Sequence[float]) -> None:
    if all(math.isfinite(d) for d in grads):
        return
    inputs = ", ".join(
        f"{p.label}={p.data}" if p.label else str(p.data) for p in node.parents
    )
    name = f" (label {node.label!r})" if node.label else ""
    raise FloatingPointError(
        f"backward of {node.op!r}{name} produced gradient(s) {list(grads)} from inputs "
        f"{inputs} with upstream gradient {node.grad}"
    )


def grad(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list[Value]:
    """d output / d x for each x in ``inputs``, returned as Values; ``.grad`` is left alone.

    With ``create_graph=True`` each result is itself a graph built from the inputs, so it
    can be differentiated again: ``grad(grad(y, [x], True)[0], [x])`` is d2y/dx2. The
    derivative rules are the very ones ``backward()`` uses, evaluated on Values instead of
    floats. An input that ``output`` does not depend on gets 0.
    """
    for x in inputs:
        if type(x) is not Value:
            raise TypeError(f"grad() inputs must be Values, not {type(x).__name__}")
    if type(output) is not Value:
        raise TypeError(f"grad() output must be a Value, not {type(output).__name__}")
    ops = reversed(graph_search(output)[0])
    grads: dict[Value, Any] = {output: Value(1.0) if create_graph else 1.0}
    recording = enable_grad() if create_graph else no_grad()
    with recording:
        for node in ops:
            g = grads.get(node)
            if g is None:
                continue
            parents = node.parents
            ds = node._op.contributions(g, node, on_values=create_graph)
            for p, d in zip(parents, ds):
                before = grads.get(p)
                grads[p] = d if before is None else before + d
    return [_as_value(grads.get(x, 0.0)) for x in inputs]


def _as_value(x: Any) -> Value:
    return x if type(x) is Value else Value(x)
