"""The chain rule over a whole graph, in a dozen lines: read ``reference_backward`` first.

For an output y and a node v used by ops o1..ok, the chain rule says

    dy/dv = sum over the ops oi that use v of  dy/doi * doi/dv

so once dy/doi is known for every user of v, dy/dv follows. Visiting nodes in decreasing
creation order guarantees that: an op is always created after its inputs, so all users of
v are visited before v. It is also the order PyTorch's engine uses, so gradients that are
sums of several contributions are added in the same order and agree to the last bit.

Each term ``dy/doi * doi/dv`` is what ``contributions(oi, dy/doi)`` gives v: the op's own
derivative rule (in ``value.py``, beside its forward) times the upstream gradient.

``reference_backward`` is that algorithm and nothing else: it reads only each node's
``parents`` and its op's rule. ``Value.backward()`` (``autograd.py``) computes the very
same floats its own way, faster (it reads the nodes off the tape or searches the graph's
storage directly, and skips nodes whose gradient is 0); a property test
(tests/test_reference_backward.py) holds the two independent walks to the same bits.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.tape import creation_number
from engine.value import Value


def reference_backward(root: Value, grad: float = 1.0) -> None:
    """``root.backward(grad)`` written plainly: every node, users before their inputs.

    Same contract: afterwards ``node.grad`` is d root / d node for every op node root
    depends on, and each leaf has added this call's d root / d leaf to its ``.grad``.
    """
    order = newest_first(root)  # root first, every node before its inputs
    total = dict.fromkeys(order, 0.0)  # d root / d node, summed over its users
    total[root] = float(grad)
    for node in order:
        for parent, term in zip(node.parents, contributions(node, total[node])):
            total[parent] += term  # one term of the chain rule's sum
    for node in order:
        if node.is_leaf:
            node.grad += total[node]  # leaves accumulate across calls, like PyTorch's .grad
        else:
            node.grad = total[node]


def backward_order(root: Value) -> list[Value]:
    """The op nodes in the order ``root.backward()`` applies their derivatives (root first)."""
    return [node for node in newest_first(root) if not node.is_leaf]


def newest_first(root: Value) -> list[Value]:
    """Root and every node it depends on, newest first: each node before its inputs.

    The nodes are found by ``depends_on`` and sorted by creation, newest first. Any order
    that puts users before their inputs would give the right gradients; this one is
    PyTorch's, so a gradient that sums several terms adds them in PyTorch's order, to the
    same bits.
    """
    return sorted(depends_on(root), key=creation_number, reverse=True)


def depends_on(root: Value) -> Iterator[Value]:
    """Root, then every node it depends on, each once, as they are found.

    The nodes are found by following ``parents`` with a stack, not by recursion, so a chain
    a million nodes deep works too. A caller may stop early (``viz.trace`` refuses a graph
    too large to draw as soon as it has seen too many nodes).
    """
    yield root
    seen = {root}
    stack = [root]
    while stack:
        for parent in stack.pop().parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
                yield parent


def contributions(node: Value, upstream: float) -> tuple[float, ...]:
    """What each parent of ``node`` receives when ``node``'s gradient is ``upstream``.

    Parent i receives ``upstream * d node / d parent_i``: one term of the chain rule's sum,
    from the op's own rule (``Op.contributions``).
    """
    return tuple(node._op.contributions(upstream, node))


def local_derivatives(node: Value) -> tuple[float, ...]:
    """d node / d parent for each parent of ``node`` (the contributions for upstream 1.0)."""
    return contributions(node, 1.0)
