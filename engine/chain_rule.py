"""The chain rule over a whole graph, in a dozen lines: read ``reference_backward`` first.

For an output y and a node v used by ops o1..ok, the chain rule says

    dy/dv = sum over the ops oi that use v of  dy/doi * doi/dv

so once dy/doi is known for every user of v, dy/dv follows. Visiting nodes in decreasing
creation order guarantees that: an op is always created after its inputs, so all users of
v are visited before v. It is also the order PyTorch's engine uses, so gradients that are
sums of several contributions are added in the same order and agree to the last bit.

Each term ``dy/doi * doi/dv`` is what ``contributions(oi, dy/doi)`` gives v: the op's own
derivative rule (in ``value.py``, beside its forward) times the upstream gradient.

``reference_backward`` is that algorithm and nothing else. ``Value.backward()``
(``autograd.py``) computes the very same floats faster (it reads the nodes off the tape
instead of searching the graph, and skips nodes whose gradient is 0); a property test
(tests/test_reference_backward.py) holds the two to the same bits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine import tape
from engine.value import Value


def reference_backward(root: Value, grad: float = 1.0) -> None:
    """``root.backward(grad)`` written plainly: every op node, users before their inputs.

    Same contract: afterwards ``node.grad`` is d root / d node for every op node root
    depends on, and each leaf has added this call's d root / d leaf to its ``.grad``.
    """
    ops, leaves = graph_search(root)
    ops.reverse()  # root first, every node before its inputs
    total = dict.fromkeys([*ops, *leaves], 0.0)  # d root / d node, summed over its users
    total[root] = float(grad)
    for node in ops:
        for parent, term in zip(node.parents, contributions(node, total[node])):
            total[parent] += term  # one term of the chain rule's sum
    for node in ops:
        node.grad = total[node]
    for leaf in leaves:
        leaf.grad += total[leaf]  # leaves accumulate across calls, like PyTorch's .grad


def backward_order(root: Value) -> list[Value]:
    """The op nodes in the order ``root.backward()`` applies their derivatives (root first)."""
    return graph_search(root)[0][::-1]


def graph_search(root: Value) -> tuple[list[Value], list[Value]]:
    """The op nodes root depends on (in creation order, root last) and its leaves.

    An explicit stack instead of recursion, so a chain a million nodes deep works too.
    """
    kind = root._op.kind
    if kind in ("leaf", "constant"):
        return ([], [root]) if kind == "leaf" else ([root], [])
    seen = {root}
    stack = [root]
    ops: list[Value] = []
    leaves: list[Value] = []
    while stack:
        node = stack.pop()
        kind = node._op.kind
        if kind == "leaf":
            leaves.append(node)
            continue
        ops.append(node)
        # Push each input not met before (written out per kind: this loop is hot).
        if kind == "binary":
            a, b = node._a, node._b
            if a not in seen:
                seen.add(a)
                stack.append(a)
            if b not in seen:
                seen.add(b)
                stack.append(b)
        elif kind == "unary":
            a = node._a
            if a not in seen:
                seen.add(a)
                stack.append(a)
        elif kind != "constant":  # a constant has no inputs
            for parent in node._op.inputs(node._a, node._b):
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
    ops.sort(key=tape.creation_number)
    return ops, leaves


def contributions(node: Value, upstream: float) -> tuple[float, ...]:
    """What each parent of ``node`` receives when ``node``'s gradient is ``upstream``.

    Parent i receives ``upstream * d node / d parent_i``: one term of the chain rule's sum.
    """
    return tuple(apply_derivative(node, upstream, on_values=False))


def apply_derivative(node: Value, g: Any, on_values: bool) -> Sequence[Any]:
    """The op's derivative rule at ``node``, on floats or (``on_values``) on Values."""
    op, a, b = node._op, node._a, node._b
    if op.kind in ("leaf", "constant"):
        return ()
    if on_values:
        out: Any = node
    else:
        out = node.data
        a = a.data if op.kind in ("unary", "binary") else [p.data for p in a]
        b = b.data if op.kind == "binary" else [p.data for p in b] if op.kind == "neuron" else b
    if op.kind == "unary":
        return (op.derivative(g, out, a, b),)
    return op.derivative(g, out, a, b)


def local_derivatives(node: Value) -> tuple[float, ...]:
    """d node / d parent for each parent of ``node`` (the contributions for upstream 1.0)."""
    return contributions(node, 1.0)
