"""The tape (engine/tape.py): backward reads the op nodes made since the last backward.

The tape is a cache: whenever ``Tape.graph_of(root)`` vouches for root's whole graph,
backward walks the tape instead of searching the graph, and the gradients must be the very
same floats either way. These tests compare the two paths (the search forced by patching
``Tape.graph_of`` to say "no"), and check the tape's own promises: every backward (even one
that raises) empties it, ``no_grad`` puts nothing on it, it never outgrows ``LIMIT``, nodes
of other graphs on it send nothing, and leaves add ``old + (this call's sum)`` like PyTorch.

Only the tape's small interface is used: this thread's tape (``mode.current().tape``), its
``ops``, ``leaves`` and ``graph_of``, and ``LIMIT``; a backward replaces the tape.
"""

from __future__ import annotations

import gc
import math
from typing import Any

import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from engine import (
    Value,
    define_op,
    detect_anomaly,
    grad,
    linear_batch,
    no_grad,
    tape,
    vsum,
)
from engine.mode import current
from engine.op import Kind
from engine.testing import OPS, VALUE_FUNCTIONS, Expression, Step, expressions
from tests.torch_oracle import close, identical, import_torch


def the_tape() -> tape.Tape:
    """This thread's tape."""
    return current().tape


def empty_the_tape() -> None:
    """Any backward empties the tape (the one of a lone leaf does nothing else)."""
    Value(0.0).backward()


@pytest.fixture(autouse=True)
def fresh_tape():
    """Each test starts with an empty tape, and leaves one behind (with LIMIT restored:
    autouse fixtures are torn down after ``monkeypatch``)."""
    empty_the_tape()
    yield
    empty_the_tape()


def t(x: float) -> Any:
    """A float64 tensor leaf (the oracle; a test that calls this skips without torch)."""
    torch = import_torch()
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def on_tape(node: Value, nodes: list[Value]) -> bool:
    return any(n is node for n in nodes)


# ---- 1. the tape path and the search path give the same bits ------------------------------

# Ops of "another graph" that make nan or inf from a leaf at 0 or below; their gradient is 0
# (root does not depend on them), and 0 * inf would be nan if they sent anything.
DECOYS = {
    "log": Value.log,
    "1/x": lambda v: 1.0 / v,
    "sqrt": Value.sqrt,
    "x**-1": lambda v: v ** -1.0,
    "exp(x+1000)": lambda v: (v + 1000.0).exp(),  # inf: exp is zero-safe only where finite
    "vsum(x, log x)": lambda v: vsum([v, v.log()]),
    "tanh(log x)": lambda v: v.log().tanh(),
}


@st.composite
def tape_cases(draw):
    """An Expression, the node to call backward on, which leaves are made before the last
    backward, what each leaf's .grad holds before, and decoys: (after which step, kind,
    which earlier node) of other graphs interleaved with the expression's nodes."""
    expr = draw(expressions(max_leaves=4, max_steps=8))
    n_leaves, n_nodes = len(expr.leaves), len(expr.names)
    root = draw(st.integers(n_leaves, n_nodes - 1))
    made_before = draw(st.lists(st.booleans(), min_size=n_leaves, max_size=n_leaves))
    old_grads = draw(st.lists(st.sampled_from([0.0, -0.0, 1.0, 1e-16]) | st.floats(0, 2) |
                              st.floats(-2, -1e-300), min_size=n_leaves, max_size=n_leaves))
    decoys = draw(st.lists(st.tuples(st.integers(-1, len(expr.steps) - 1),
                                     st.sampled_from(sorted(DECOYS)),
                                     st.integers(0, n_nodes - 1)), max_size=4))
    return expr, root, made_before, old_grads, decoys


def build_case(case) -> tuple[list[Value], list[Value], Value]:
    """The leaves, every op node made (from the tape, in creation order) and the root."""
    expr, root, made_before, old_grads, decoys = case
    empty_the_tape()
    older = {i: Value(x) for i, x in enumerate(expr.leaves) if made_before[i]}
    empty_the_tape()  # those leaves are now older than the tape
    leaves = [older.get(i) or Value(x) for i, x in enumerate(expr.leaves)]
    for leaf, g in zip(leaves, old_grads):
        leaf.grad = g
    nodes = list(leaves)

    def add_decoys(after_step: int) -> None:
        for step, kind, target in decoys:
            if step == after_step:
                DECOYS[kind](nodes[target % len(nodes)])

    add_decoys(-1)
    for k, step in enumerate(expr.steps):
        nodes.append(OPS[step.op].build(VALUE_FUNCTIONS, [nodes[i] for i in step.args],
                                        step.constant))
        add_decoys(k)
    return leaves, list(the_tape().ops), nodes[root]


ZERO_LEAVES = (
    Expression((0.0, -1.0), (Step("mul", (0, 1)), Step("sigmoid", (2,)), Step("add", (3, 0)))),
    2, [False, True], [1.0, 1e-16],
    [(-1, "log", 0), (-1, "1/x", 0), (0, "sqrt", 1), (1, "exp(x+1000)", 2), (2, "tanh(log x)", 3)],
)
SHARED = (
    Expression((1.5,), (Step("mul", (0, 0)), Step("add", (1, 1)), Step("vsum", (0, 1, 2, 2)),
                        Step("dot", (1, 2, 0, 3, 0)))),
    4, [True], [1.0], [(0, "log", 0), (3, "vsum(x, log x)", 1)],
)


@settings(max_examples=200, deadline=None)
@given(tape_cases())
@example(ZERO_LEAVES)
@example(SHARED)
def test_the_tape_path_gives_the_same_bits_as_the_graph_search(case):
    note(str(case[0]))
    leaves, made, root = build_case(case)
    taped = the_tape().graph_of(root)
    assert taped is not None, "the tape should hold this graph"
    assert taped[0][-1] is root
    root.backward()

    search_leaves, search_made, search_root = build_case(case)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tape.Tape, "graph_of", lambda self, root: None)
        search_root.backward()

    assert len(made) == len(search_made)
    for i, (ours, searched) in enumerate(zip(made, search_made)):
        assert identical(ours.data, searched.data)
        assert identical(ours.grad, searched.grad), (
            f"op node {i} ({ours.op}): tape {ours.grad!r}, search {searched.grad!r}")
    for name, ours, searched in zip(case[0].names, leaves, search_leaves):
        assert identical(ours.grad, searched.grad), (
            f"d/d{name}: tape {ours.grad!r}, search {searched.grad!r}")


def test_a_leaf_of_another_graph_keeps_its_negative_zero_grad():
    a, b = Value(0.0), Value(0.0)
    a.grad = -0.0
    a * 3.0  # another graph, on the tape
    y = b.exp()
    assert the_tape().graph_of(y) is not None
    y.backward()
    assert identical(a.grad, -0.0), f"a.grad became {a.grad!r}"


# ---- 2. a graph grown from an older one -----------------------------------------------------


def test_a_graph_grown_from_a_backpropagated_one_is_searched_and_exact():
    x = Value(0.7)
    h = x.tanh() * x
    y1 = h.exp() + h
    y1.backward()
    y2 = h * h.sigmoid() - x  # uses h, an op node made before the last backward
    assert the_tape().graph_of(y2) is None  # the tape holds y2's newer nodes only, not h's
    y2.backward()

    # The same calls, y2 built first: each backward finds its graph whole on the tape
    # or searches it, and y2's gradient must not depend on which.
    x2 = Value(0.7)
    h2 = x2.tanh() * x2
    y1_2 = h2.exp() + h2
    y2_2 = h2 * h2.sigmoid() - x2
    y1_2.backward()
    y2_2.backward()
    assert identical(x.grad, x2.grad) and identical(h.grad, h2.grad)

    xt = t(0.7)
    ht = xt.tanh() * xt
    (ht.exp() + ht).backward(retain_graph=True)
    (ht * ht.sigmoid() - xt).backward()
    assert close(x.grad, xt.grad.item())
    hk = t(h.data)  # d y2 / d h alone: intermediate grads are fresh on every call
    (dh,) = import_torch().autograd.grad(hk * hk.sigmoid(), hk)
    assert close(h.grad, dh.item())


def test_second_derivatives_built_on_the_tape_match_torch():
    x = Value(0.3)
    y = (x * x).tanh() * x.exp()
    (dx,) = grad(y, [x], create_graph=True)  # a derivative graph, made of nodes on the tape
    assert the_tape().graph_of(dx) is not None
    dx.backward()
    xt = t(0.3)
    (dxt,) = import_torch().autograd.grad((xt * xt).tanh() * xt.exp(), xt, create_graph=True)
    dxt.backward()
    assert close(x.grad, xt.grad.item())


# ---- 3. other graphs' nodes on the tape send nothing; root's own still give nan -----------


@pytest.mark.parametrize("kind", sorted(DECOYS))
def test_another_graphs_nan_on_the_tape_does_not_leak_into_a_shared_leaf(kind):
    x = Value(0.0)
    other = DECOYS[kind](x)  # made before y: on the tape between its start and y
    y = x * 2.0
    taped = the_tape().graph_of(y)
    assert taped is not None and on_tape(other, taped[0])
    y.backward()
    assert x.grad == 2.0  # not nan: 0 * inf from `other` would be nan


TORCH_DECOYS = {
    "log": lambda v: v.log(),
    "1/x": lambda v: 1.0 / v,
    "sqrt": lambda v: v.sqrt(),
    "x**-1": lambda v: v ** -1.0,
    "exp(x+1000)": lambda v: (v + 1000.0).exp(),
    "vsum(x, log x)": lambda v: v + v.log(),
    "tanh(log x)": lambda v: v.log().tanh(),
}


@pytest.mark.parametrize("kind", sorted(DECOYS))
def test_roots_own_zero_times_inf_still_gives_nan_like_torch(kind):
    x = Value(0.0)
    y = DECOYS[kind](x) * 0.0
    assert the_tape().graph_of(y) is not None
    y.backward()
    xt = t(0.0)
    (TORCH_DECOYS[kind](xt) * 0.0).backward()
    assert identical(x.grad, xt.grad.item()), f"{x.grad} vs torch {xt.grad.item()}"


# ---- 4. what empties the tape, and what never reaches it -----------------------------------


def test_a_backward_empties_the_tape():
    p = Value(2.0)
    empty_the_tape()  # p is now older than the tape
    x = Value(3.0)
    y = (x * p).tanh()
    assert (the_tape().leaves, the_tape().older) == ([x], [p])
    assert len(the_tape().ops) == 2  # x * p, tanh
    y.backward()
    assert the_tape().ops == the_tape().leaves == the_tape().older == []


def test_a_backward_that_raises_empties_the_tape_too():
    x = Value(0.0)
    y = x.log() * 1.0  # -inf forward, inf backward
    assert the_tape().ops != []
    with detect_anomaly(), pytest.raises(FloatingPointError):
        y.backward()
    assert the_tape().ops == the_tape().leaves == the_tape().older == []


def test_nothing_made_under_no_grad_reaches_the_tape():
    p = Value(0.5)
    empty_the_tape()
    x = Value(1.5)
    y = x * p  # something on each list, so that "unchanged" means something
    before = (list(the_tape().ops), list(the_tape().leaves), list(the_tape().older))
    with no_grad():
        z = Value(2.0)
        w = (y * p + z).exp() - x
        s = vsum([p, w, y])
        layer = linear_batch([[p, x]], [z], [[1.0, 2.0], [y, w]], "tanh")
    assert w.is_leaf and s.is_leaf and layer[1][0].is_leaf
    assert (the_tape().ops, the_tape().leaves, the_tape().older) == before


# ---- 5. LIMIT --------------------------------------------------------------------------------

CHAIN = 300


def small_limit(monkeypatch, limit: int) -> None:
    monkeypatch.setattr(tape, "LIMIT", limit)
    empty_the_tape()  # the new tape is full LIMIT creation numbers from now


def test_a_chain_longer_than_LIMIT_still_gets_the_exact_gradient(monkeypatch):
    small_limit(monkeypatch, 50)
    x = Value(0.5)
    v = x
    for _ in range(CHAIN):
        v = v * 1.0001 + 0.001
    assert len(the_tape().ops) < 2 * CHAIN  # emptied along the way
    assert the_tape().graph_of(v) is None  # the start of the chain fell off: backward searches
    v.backward()
    xt = t(0.5)
    vt = xt
    for _ in range(CHAIN):
        vt = vt * 1.0001 + 0.001
    vt.backward()
    assert identical(v.data, vt.item()) and identical(x.grad, xt.grad.item())


def test_a_leaf_joins_the_tape_when_made_or_when_an_op_first_uses_it():
    older = Value(1.0)
    with no_grad():
        unrecorded = Value(2.0)
    empty_the_tape()
    new = [Value(float(k)) for k in range(3)]
    assert the_tape().leaves == new  # made while the tape records
    y = (older * 2.0 + older) * unrecorded + new[1]
    assert the_tape().leaves == new
    assert the_tape().older == [older, older, unrecorded]  # noted at each use
    assert the_tape().graph_of(y)[1] == [*new, older, unrecorded]  # each leaf once


def test_the_tape_never_holds_more_than_LIMIT_op_nodes(monkeypatch):
    small_limit(monkeypatch, 50)
    v = Value(0.5)
    longest = 0
    for _ in range(CHAIN):
        v = v * 1.0001 + 0.001
        longest = max(longest, len(the_tape().ops))
    assert longest <= tape.LIMIT, f"{longest} op nodes on a tape of LIMIT {tape.LIMIT}"


def test_a_batch_that_crosses_LIMIT_keeps_its_weights_graph(monkeypatch):
    small_limit(monkeypatch, 6)
    p = Value(0.5)
    w = p * 2.0  # a weight that is an op node, made on the tape
    b = Value(0.0)
    rows = linear_batch([[w]], [b], [[1.0]] * 8)  # 8 nodes: the tape is emptied in between
    y = rows[-1][0] * 1.0  # = 2p + b
    y.backward()
    assert (p.grad, b.grad) == (2.0, 1.0)


# ---- 6. leaves add old + (this call's sum), like torch ---------------------------------------

OLD, C = 1.0, 1e-16  # (OLD + C) + C == OLD, but OLD + (C + C) > OLD


def two_contributions(kind: str, x):
    """x * C + x * C, so that x receives C twice, through ``*``, ``vsum`` or a fused neuron
    (where x, a weight, is an input of the n-ary node itself)."""
    if type(x) is not Value or kind == "mul":
        return x * C + x * C
    if kind == "vsum":
        return vsum([x, x]) * C
    return linear_batch([[x, x]], [Value(0.0)], [[C, C]])[0][0]


@pytest.mark.parametrize("kind", ["mul", "vsum", "dot"])
@pytest.mark.parametrize("leaf", ["older than the tape", "new, grad set by hand"])
def test_a_leaf_adds_this_calls_sum_to_its_old_gradient_like_torch(kind, leaf):
    assert (OLD + C) + C != OLD + (C + C)  # the numbers tell the two orders apart
    xt = t(0.5)
    (xt * OLD).backward()
    if leaf == "older than the tape":
        x = Value(0.5)
        (x * OLD).backward()  # x.grad = OLD, and x is now older than the tape
    else:
        x = Value(0.5)
        x.grad = OLD
    y = two_contributions(kind, x)
    assert the_tape().graph_of(y) is not None
    y.backward()
    two_contributions(kind, xt).backward()
    assert identical(x.grad, xt.grad.item()), f"{x.grad!r} vs torch {xt.grad.item()!r}"


def test_a_leaf_made_under_no_grad_adds_this_calls_sum_like_torch():
    with no_grad():
        x = Value(0.5)
    x.grad = OLD
    y = x * C + x * C
    y.backward()
    xt = t(0.5)
    xt.grad = import_torch().tensor(OLD, dtype=xt.dtype)
    (xt * C + xt * C).backward()
    assert identical(x.grad, xt.grad.item()), f"{x.grad!r} vs torch {xt.grad.item()!r}"


def test_a_backward_that_raises_leaves_another_graphs_leaves_alone():
    p = Value(3.0)
    (p * 2.0).backward()  # p.grad == 2.0
    p * 5.0  # another graph using p, built and not backpropagated: p is on the tape's leaves
    x = Value(0.0)
    y = x.log() * 1.0
    with detect_anomaly(), pytest.raises(FloatingPointError):
        y.backward()
    assert p.grad == 2.0


# ---- 7. a graph never backpropagated is let go at the next backward ------------------------


def values_referring_to(x: Value) -> list[Value]:
    return [r for r in gc.get_referrers(x) if type(r) is Value]


def test_a_graph_never_backpropagated_is_freed_at_the_next_backward():
    x = Value(1.0)
    r = (x.exp() * 2.0).tanh()  # a graph built and forgotten
    del r
    users_while_taped = values_referring_to(x)
    assert len(users_while_taped) == 1  # x.exp(), kept alive by the tape alone
    del users_while_taped
    z = Value(2.0)
    (z * z).backward()
    assert the_tape().ops == []
    users_after = values_referring_to(x)  # freed by reference counting: no gc.collect()
    assert users_after == []


# ---- 8. fused ops over parameters older than the tape ----------------------------------------

POINTS = [[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0], [0.0, -0.5]]
TARGETS = [1.0, -1.0, 1.0, -1.0]


def train_two_steps(search: bool) -> list[list[float]]:
    """A 2-3-1 ReLU network fitted by two SGD steps; every gradient and parameter as it goes.

    No zero_grad between the steps: the second step's gradients add to the first's, so a
    parameter the tape failed to list as a leaf would round differently (one by one).
    """
    empty_the_tape()
    w1 = [[Value(0.3 * i - 0.4 * j + 0.1) for j in range(2)] for i in range(3)]
    b1 = [Value(0.05 * i - 0.05) for i in range(3)]
    w2 = [[Value(0.6), Value(-0.8), Value(0.7)]]
    b2 = [Value(0.1)]
    params = [*(w for row in w1 for w in row), *b1, *w2[0], *b2]
    (vsum(params) * 0.0).backward()  # the parameters are now older than the tape
    history = []
    with pytest.MonkeyPatch.context() as patch:
        if search:
            patch.setattr(tape.Tape, "graph_of", lambda self, root: None)
        for _ in range(2):
            hidden = linear_batch(w1, b1, POINTS, "relu")
            scores = [s for (s,) in linear_batch(w2, b2, hidden)]
            if not search:  # the layers themselves note their older weights
                assert all(on_tape(p, the_tape().older) for p in params)
            hinge = vsum([(1.0 - y * s).relu() for y, s in zip(TARGETS, scores)])
            loss = hinge * (1.0 / len(POINTS)) + 1e-4 * vsum([p * p for p in params])
            if not search:
                assert the_tape().graph_of(loss) is not None
            loss.backward()
            history.append([p.grad for p in params])
            with no_grad():
                for p in params:
                    p.data -= 0.1 * p.grad
            history.append([p.data for p in params])
    return history


def test_training_with_fused_ops_gives_the_same_bits_on_both_paths():
    taped, searched = train_two_steps(search=False), train_two_steps(search=True)
    assert any(g != 0.0 for g in taped[0])
    for step, (ours, theirs) in enumerate(zip(taped, searched)):
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert identical(a, b), f"entry {step}, parameter {i}: tape {a!r}, search {b!r}"
    assert not any(math.isnan(x) for row in taped for x in row)


square = define_op("square", lambda x: x * x, lambda x, out: 2 * x)
hypot = define_op("hypot", math.hypot, lambda x, y, out: (x / out, y / out))

NODE_KINDS = {
    "unary": lambda h, x: h * 3.0,
    "binary": lambda h, x: h * x,
    "binary (h the second input)": lambda h, x: x * h,
    "nary (vsum)": lambda h, x: vsum([x, h, 1.5]),
    "nary (define_op of one Value)": lambda h, x: square(h),
    "nary (define_op of a number and a Value)": lambda h, x: hypot(0.5, h),
    "nary (a neuron on numbers, h a weight)": lambda h, x: linear_batch([[h, x]], [x], [[0.5, 2.0]])[0][0],
    "neuron (h an input)": lambda h, x: linear_batch([[x, x]], [x], [[h, x]], "tanh")[0][0],
    "neuron (h a weight)": lambda h, x: linear_batch([[h]], [x], [[x]], "sigmoid")[0][0],
}


@pytest.mark.parametrize("kind", sorted(NODE_KINDS))
def test_each_kind_of_node_built_on_an_older_op_node_makes_the_tape_decline(kind):
    def build(backward_in_between: bool) -> tuple[Value, Value]:
        x = Value(0.8)
        h = (x * x).tanh()  # an op node
        if backward_in_between:
            empty_the_tape()  # h is now older than the tape
        y = NODE_KINDS[kind](h, x)
        return x, y

    x, y = build(backward_in_between=True)
    assert the_tape().graph_of(y) is None  # the tape does not hold h: backward must search
    y.backward()
    x_alone, y_alone = build(backward_in_between=False)
    assert the_tape().graph_of(y_alone) is not None
    y_alone.backward()
    assert x.grad == x_alone.grad != 0.0


def test_the_node_kinds_above_cover_every_kind_that_has_inputs():
    x = Value(0.8)
    made = {NODE_KINDS[name](x * 1.0, x)._op.kind for name in NODE_KINDS}
    assert made == {Kind.UNARY, Kind.BINARY, Kind.NARY, Kind.NEURON}
    assert {k for k in Kind if k not in made} == {Kind.LEAF, Kind.CONSTANT}  # no inputs to note


def test_an_own_op_built_after_a_backward_still_reaches_older_leaves():
    # issue 23's example: without noting a, the tape vouched for sq(a * 2) and a.grad was 0.0
    a = Value(3.0)
    twice = a * 2
    empty_the_tape()
    y = square(twice)  # an op node of this tape on one of an older tape
    y.backward()
    assert a.grad == 24.0
