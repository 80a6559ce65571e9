"""Backpropagation: the chain rule applied to every node, from the output back to the inputs.

For an output y and a node v used by ops o1..ok, the chain rule says

    dy/dv = sum over the ops oi that use v of  dy/doi * doi/dv

so once dy/doi is known for every user of v, dy/dv follows. Visiting nodes in decreasing
creation order guarantees that: an op is always created after its inputs, so all users of
v are visited before v. It is also the order PyTorch's engine uses, so gradients that are
sums of several contributions are added in the same order and agree to the last bit.

Where the list of nodes comes from: usually from the tape (``tape.py``), the op nodes in
the order they were made, which backward only has to read backwards. When the tape cannot
vouch for the whole graph, the graph is searched from the output with an explicit stack
and sorted. No recursion anywhere, so a chain a million nodes deep works as well as a
small one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from engine import tape
from engine.mode import enable_grad, no_grad, this_thread
from engine.value import LEAF, Value


def _reachable(root: Value) -> tuple[list[Value], list[Value]]:
    """The op nodes root depends on (in creation order, root last) and its leaves."""
    if root._op.arity == 0:
        return ([root], []) if root._op.shared is not LEAF else ([], [root])
    seen = {root}
    stack = [root]
    ops: list[Value] = []
    leaves: list[Value] = []
    while stack:
        node = stack.pop()
        arity = node._op.arity
        if arity == 0:
            # A leaf, or an op node without parents (an off ReLU neuron, see fused.py).
            (leaves if node._op.shared is LEAF else ops).append(node)
            continue
        ops.append(node)
        # Push each input not met before (written out per arity: this loop is hot).
        if arity == 2:
            a, b = node._a, node._b
            if a not in seen:
                seen.add(a)
                stack.append(a)
            if b not in seen:
                seen.add(b)
                stack.append(b)
        elif arity == 1:
            a = node._a
            if a not in seen:
                seen.add(a)
                stack.append(a)
        else:
            for parent in node._a if arity == "n" else node._a + node._b:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
    ops.sort(key=tape.creation_number)
    return ops, leaves


def backward_order(root: Value) -> list[Value]:
    """The op nodes in the order ``root.backward()`` applies their derivatives (root first)."""
    return _reachable(root)[0][::-1]


def contributions(node: Value, upstream: float) -> tuple[float, ...]:
    """What each parent of ``node`` receives when ``node``'s gradient is ``upstream``.

    Parent i receives ``upstream * d node / d parent_i``: one term of the chain rule's sum.
    """
    return tuple(_apply_derivative(node, upstream, on_values=False))


def _apply_derivative(node: Value, g: Any, on_values: bool) -> Sequence[Any]:
    """The op's derivative rule at ``node``, on floats or (``on_values``) on Values."""
    op, a, b = node._op, node._a, node._b
    if op.arity == 0:
        return ()
    if on_values:
        out: Any = node
    else:
        out = node.data
        a = a.data if op.arity in (1, 2) else [p.data for p in a]
        b = b.data if op.arity == 2 else [p.data for p in b] if op.arity == "n+n" else b
    if op.arity == 1:
        return (op.derivative(g, out, a, b),)
    return op.derivative(g, out, a, b)


def local_derivatives(node: Value) -> tuple[float, ...]:
    """d node / d parent for each parent of ``node`` (the contributions for upstream 1.0)."""
    return contributions(node, 1.0)


def _graph_of(root: Value) -> tuple[list[Value], list[Value], bool]:
    """The op nodes to visit (in creation order, root last: backward reads it backwards), the leaves.

    From the tape when it holds root's whole graph; then the list may also hold op nodes of
    other graphs (the third item is False: not every node listed is one root depends on).
    Otherwise from a search of the graph, which finds exactly root's nodes.
    """
    taped = this_thread.state.tape.graph_of(root)
    if taped is not None:
        return *taped, False
    return *_reachable(root), True


def backward(root: Value, grad: float = 1.0) -> None:
    """Set ``.grad`` of every node ``root`` depends on to d root / d node.

    The root is seeded with ``grad``. Op nodes get fresh gradients on every call; leaves
    add this call's gradient to what they hold (PyTorch's ``.grad`` accumulation), so two
    calls give twice the gradient until ``zero_grad()``.
    """
    seed = float(grad)
    ops, leaves, only_roots_nodes = _graph_of(root)
    try:
        _chain_rule(root, seed, ops, leaves, only_roots_nodes)
    finally:
        this_thread.state.new_tape()


def _chain_rule(root: Value, seed: float, ops: list[Value], leaves: list[Value],
                only_roots_nodes: bool) -> None:
    """Backpropagate from ``root`` over ``ops`` (creation order), then update the leaves."""
    accumulated = [leaf.grad for leaf in leaves]
    # A leaf's .grad collects this call's sum first, from -0.0: the float that adding leaves
    # unchanged (-0.0 + c == c for every c, signed zeros included), so a leaf that receives
    # nothing ends as it began, even at -0.0.
    for leaf in leaves:
        leaf.grad = -0.0
    try:
        _push_gradients(root, seed, ops, only_roots_nodes)
    except BaseException:
        for leaf, before in zip(leaves, accumulated):
            leaf.grad = before  # a backward that fails leaves the leaves as they were
        raise
    # Leaves add the whole of this call's gradient to what they held, as PyTorch does.
    for leaf, before in zip(leaves, accumulated):
        leaf.grad = before + leaf.grad


def _push_gradients(root: Value, seed: float, ops: list[Value], only_roots_nodes: bool) -> None:
    """The chain rule itself: each op node, users before inputs, adds to its inputs' grads."""
    for node in ops:
        node.grad = 0.0
    root.grad = seed
    depends: set[Value] | None = None  # the op nodes root depends on, found if ever needed
    check = this_thread.state.anomaly_enabled
    # The loop below is ``contributions(node, g)`` written out per arity: this is the hot
    # path of training, and inlining saves a call and a tuple for every node.
    for node in reversed(ops):
        op = node._op
        g = node.grad
        if g == 0.0:
            if op.zero_safe and math.isfinite(node.data):
                continue  # every contribution would be 0: nothing to add
            # 0 * inf must still give nan, but only on root's own nodes: a node of another
            # graph on the tape also has gradient 0 here, and must send nothing.
            if not only_roots_nodes:
                if depends is None:
                    depends = set(_reachable(root)[0])
                if node not in depends:
                    continue
        arity = op.arity
        if arity == 2:
            a, b = node._a, node._b
            da, db = op.derivative(g, node.data, a.data, b.data)
            a.grad += da
            b.grad += db
            if check:
                _check_backward(node, (da, db))
        elif arity == 1:
            a = node._a
            d = op.derivative(g, node.data, a.data, node._b)
            a.grad += d
            if check:
                _check_backward(node, (d,))
        elif arity:
            parents, b = node._a, node._b
            if arity == "n":
                ds = op.derivative(g, node.data, [p.data for p in parents], b)
            else:  # "n+n"
                ds = op.derivative(g, node.data, [p.data for p in parents], [x.data for x in b])
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
    ops = reversed(_reachable(output)[0])
    grads: dict[Value, Any] = {output: Value(1.0) if create_graph else 1.0}
    recording = enable_grad() if create_graph else no_grad()
    with recording:
        for node in ops:
            g = grads.get(node)
            if g is None:
                continue
            parents = node.parents
            ds = _apply_derivative(node, g, on_values=create_graph)
            for p, d in zip(parents, ds):
                before = grads.get(p)
                grads[p] = d if before is None else before + d
    return [_as_value(grads.get(x, 0.0)) for x in inputs]


def _as_value(x: Any) -> Value:
    return x if type(x) is Value else Value(x)
