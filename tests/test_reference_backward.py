"""The fast backward (``Value.backward``) against the dozen-line ``reference_backward``.

``reference_backward`` is the chain rule written plainly (engine/chain_rule.py). The fast
one reads the tape, skips nodes whose gradient is 0 and adds straight into ``.grad``; on
any graph the two must give the same floats. No PyTorch here: this checks the core even
where no oracle is installed.
"""

from __future__ import annotations

import math

from hypothesis import given, note, settings
from hypothesis import strategies as st

from engine import Value, linear_batch, reference_backward, vsum
from engine.testing import VALUE_FUNCTIONS, expressions


def same_float(a: float, b: float) -> bool:
    """Equal bits, except that 0.0 and -0.0 count as one: a node the fast path skips (its
    gradient is 0) would only have added zeros, which can flip nothing but a zero's sign."""
    return (math.isnan(a) and math.isnan(b)) or a == b


def build_and_backpropagate(expr, old_grads, upstream, fast):
    leaves = [Value(x) for x in expr.leaves]
    for leaf, old in zip(leaves, old_grads):
        leaf.grad = old
    nodes = expr.evaluate(leaves, VALUE_FUNCTIONS)
    root = nodes[-1]
    if fast:
        root.backward(upstream)
    else:
        reference_backward(root, upstream)
    return [(n.data, n.grad) for n in nodes]


@settings(max_examples=300, deadline=None)
@given(expr=expressions(max_leaves=4, max_steps=10),
       old=st.lists(st.floats(-2, 2), min_size=4, max_size=4),
       upstream=st.sampled_from([1.0, -0.75, 3.5, 1e-3]))
def test_the_fast_backward_gives_the_reference_floats(expr, old, upstream):
    note(str(expr))
    fast = build_and_backpropagate(expr, old, upstream, fast=True)
    slow = build_and_backpropagate(expr, old, upstream, fast=False)
    for i, ((data, g_fast), (_, g_ref)) in enumerate(zip(fast, slow)):
        assert same_float(g_fast, g_ref), f"node {i} (data {data}): fast {g_fast!r}, reference {g_ref!r}"


@settings(max_examples=100, deadline=None)
@given(weights=st.lists(st.floats(-1, 1), min_size=24, max_size=24),
       points=st.lists(st.lists(st.floats(-2, 2), min_size=2, max_size=2), min_size=1, max_size=5),
       activation=st.sampled_from([None, "relu", "tanh", "sigmoid"]))
def test_fused_layers_give_the_reference_floats(weights, points, activation):
    results = []
    for backward in (Value.backward, reference_backward):
        w1 = [[Value(weights[2 * i]), Value(weights[2 * i + 1])] for i in range(4)]
        b1 = [Value(weights[8 + i]) for i in range(4)]
        w2 = [[Value(x) for x in weights[12:16]], [Value(x) for x in weights[16:20]]]
        b2 = [Value(weights[20]), Value(weights[21])]
        hidden = linear_batch(w1, b1, points, activation)
        outputs = linear_batch(w2, b2, hidden, activation)
        loss = vsum([o * o for row in outputs for o in row]) * weights[22] + w1[0][0] * weights[23]
        backward(loss, 0.5)
        params = [*(w for row in w1 + w2 for w in row), *b1, *b2]
        results.append([p.grad for p in params] + [h.grad for row in hidden for h in row])
    for i, (fast, ref) in enumerate(zip(*results)):
        assert same_float(fast, ref), f"entry {i}: fast {fast!r}, reference {ref!r}"


def test_the_reference_accumulates_into_leaves_and_refreshes_op_nodes():
    a, b = Value(2.0), Value(3.0)
    c = Value(4.0)
    ab = a * b
    y = ab * c
    reference_backward(y)
    reference_backward(y)
    assert (a.grad, b.grad, c.grad) == (24.0, 16.0, 12.0)  # twice the gradient
    assert ab.grad == 4.0  # d y / d ab of the latest call, as PyTorch would keep it
