"""viz.trace: the graph as plain data, and the chain rule's numbers on it.

No Graphviz here. The trace must name nodes by creation order, keep one edge per operand
(``a * a`` has two), and refuse graphs over ``max_nodes``. The flow's messages must add up,
in backward's order, to exactly the gradients the engine computed.
"""

import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import Value, backward_order, dot
from viz.trace import gradient_flow, trace


def readme_example():
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    y = (a * b + a**2).tanh()
    return a, b, y


def test_nodes_are_named_v0_to_vN_in_creation_order():
    a, b, y = readme_example()
    t = trace(y)
    assert [t.name(v) for v in t.values] == [f"v{i}" for i in range(6)]
    assert t.values[0] is a and t.values[1] is b and t.values[-1] is y
    assert [v.op for v in t.values] == ["", "", "*", "**", "+", "tanh"]


def test_the_same_graph_built_twice_gets_the_same_names_and_edges():
    def shape(t):
        return [(t.name(e.parent), t.name(e.child), e.position) for e in t.edges]

    assert shape(trace(readme_example()[2])) == shape(trace(readme_example()[2]))


def test_a_repeated_operand_gives_one_edge_per_use():
    a = Value(3.0, label="a")
    square = a * a
    t = trace(square)
    assert len(t.values) == 2
    assert [(e.parent, e.child, e.position) for e in t.edges] == [(a, square, 0), (a, square, 1)]


def test_a_shared_node_appears_once_with_an_edge_per_user():
    x = Value(1.5)
    h = x.tanh()
    y = h * 2 + h.exp()
    t = trace(y)
    assert sum(v is h for v in t.values) == 1
    assert sum(e.parent is h for e in t.edges) == 2


def test_a_folded_constant_is_not_a_node():
    x = Value(2.0)
    t = trace(x * 3)
    assert len(t.values) == 2 and len(t.edges) == 1


def test_a_leaf_alone_is_a_graph_of_one_node():
    x = Value(1.0)
    t = trace(x)
    assert t.values == (x,) and t.edges == ()


def test_max_nodes_stops_a_large_graph_with_a_clear_message():
    x = Value(0.5)
    for _ in range(20):
        x = x * 1.01
    assert len(trace(x, max_nodes=21).values) == 21
    with pytest.raises(ValueError, match=r"more than max_nodes=20 Values.*smaller graph"):
        trace(x, max_nodes=20)


def test_a_chain_100000_deep_traces_without_recursion():
    x = Value(0.5)
    for _ in range(100_000):
        x = x + 1.0
    assert len(trace(x).values) == 100_001


def test_tracing_something_else_is_a_type_error():
    with pytest.raises(TypeError, match="float"):
        trace(1.5)


def test_without_the_graphviz_package_graphs_still_build_and_rendering_says_what_to_install():
    script = """
import sys
sys.modules["graphviz"] = None  # as if it were not installed
from engine import Value
from viz import GraphvizNotFound, draw_backward, trace
from viz.trace import gradient_flow
y = Value(2.0) * Value(3.0)
y.backward()
print(len(gradient_flow(trace(y)).messages))
print(draw_backward(y).source.startswith("digraph {"))
try:
    draw_backward(y).pipe(format="svg")
except GraphvizNotFound as missing:
    print("pip install graphviz" in str(missing) and "apt-get install graphviz" in str(missing))
"""
    result = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True,
                            text=True, cwd=Path(__file__).resolve().parent.parent, timeout=60)
    assert result.stdout.split("\n")[:3] == ["2", "True", "True"], result.stderr


# ---- the flow: every edge's contribution, and their sums ------------------------------------


def assert_sums_are_the_engine_grads(flow):
    """Every non-root node's messages, added in backward's order, give exactly its .grad."""
    for value in flow.trace.values:
        if value is flow.trace.root:
            assert flow.grad_after(value) == value.grad
            continue
        total = 0.0
        for message in flow.received(value):
            total += message.contribution
        assert total == value.grad or (math.isnan(total) and math.isnan(value.grad))


def test_contributions_add_up_to_the_grads_of_the_readme_example():
    a, _, y = readme_example()
    y.backward()
    flow = gradient_flow(trace(y))
    assert_sums_are_the_engine_grads(flow)
    # a is used twice: by a * b (local derivative b) and by a ** 2 (local derivative 2a).
    upstream = 1 - math.tanh(-2.0) ** 2
    into_a = flow.received(a)
    assert [m.local for m in into_a] == [4.0, -3.0]
    assert [m.contribution for m in into_a] == pytest.approx([upstream * 4, upstream * -3])
    assert a.grad == pytest.approx(upstream * (4 - 3), rel=1e-12)


def test_each_message_is_upstream_times_local():
    x, w = Value(0.7), Value(-1.3)
    y = ((x * w).sigmoid() / (x + 2.0)).log()
    y.backward()
    for m in gradient_flow(trace(y)).messages:
        assert m.contribution == pytest.approx(m.upstream * m.local, rel=1e-12)
        assert m.upstream == m.edge.child.grad


def test_steps_follow_the_engines_backward_order():
    _, _, y = readme_example()
    y.backward()
    flow = gradient_flow(trace(y))
    assert list(flow.steps) == backward_order(y)
    assert [flow.step_of[v] for v in flow.steps] == [1, 2, 3, 4]
    assert all(m.step == flow.step_of[m.edge.child] for m in flow.messages)


def test_a_neuron_sends_one_message_per_weight_bias_and_input():
    ws = [Value(0.5), Value(-0.25)]
    b = Value(0.1)
    xs = [Value(2.0), Value(3.0)]
    z = dot(ws, xs, b, activation="tanh")
    z.backward()
    flow = gradient_flow(trace(z))
    slope = 1 - z.data**2
    assert [m.local for m in flow.messages] == pytest.approx(
        [slope * 2.0, slope * 3.0, slope, slope * 0.5, slope * -0.25], rel=1e-12)
    assert_sums_are_the_engine_grads(flow)


def test_grads_so_far_and_completeness_during_backward():
    a, _, y = readme_example()
    y.backward()
    flow = gradient_flow(trace(y))
    # a gets its first share at step 3 (from a ** 2) and its second at step 4 (from a * b).
    assert flow.grad_after(a, 2) is None
    assert flow.grad_after(a, 3) == flow.received(a)[0].contribution
    assert not flow.is_complete(a, 3)
    assert flow.is_complete(a, 4) and flow.grad_after(a, 4) == a.grad


def test_the_flow_knows_when_backward_was_not_run_or_ran_from_elsewhere():
    _, _, y = readme_example()
    flow = gradient_flow(trace(y))
    assert not flow.backward_was_run()
    inner = y.parents[0]
    inner.backward()  # gradients of the inner sum, not of y
    flow = gradient_flow(trace(y))
    assert flow.backward_was_run()
    assert flow.stale_nodes() == [inner]
    y.backward()
    assert gradient_flow(trace(y)).stale_nodes() == []


# ---- property: on random graphs with shared operands, the sums are the engine's grads ------

UNARY = ["tanh", "sigmoid", "exp_small", "square", "neg", "relu"]
BINARY = ["+", "-", "*"]


def apply_unary(name, x):
    if name == "exp_small":
        return (x * 0.1).exp()
    if name == "square":
        return x**2
    if name == "neg":
        return -x
    return getattr(x, name)()


@st.composite
def random_graphs(draw):
    pool = [Value(draw(st.floats(-3, 3, allow_subnormal=False))) for _ in range(3)]
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.booleans()):
            x = pool[draw(st.integers(0, len(pool) - 1))]
            pool.append(apply_unary(draw(st.sampled_from(UNARY)), x))
        else:
            i, j = draw(st.integers(0, len(pool) - 1)), draw(st.integers(0, len(pool) - 1))
            op = draw(st.sampled_from(BINARY))
            pool.append({"+": pool[i] + pool[j], "-": pool[i] - pool[j],
                         "*": pool[i] * pool[j]}[op])
    return pool[-1]


@given(random_graphs())
def test_contributions_add_up_to_the_grads_on_random_graphs(y):
    y.backward()
    assert_sums_are_the_engine_grads(gradient_flow(trace(y)))
