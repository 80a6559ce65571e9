"""Random expression graphs (engine.testing) against PyTorch float64 and central differences.

Each example is a small program over a pool of shared leaves, so ``a*a``, ``a+a``, diamonds
and fan-out all occur. Three checks, 200 graphs each:

* graphs of ops PyTorch computes with plain IEEE arithmetic (+ - * /, relu, sigmoid, abs,
  integer powers) give every node's value and every gradient bit for bit;
* graphs of any op agree to rel 1e-9 / abs 1e-12;
* backward agrees with central differences (gradcheck's defaults), away from the relu and
  abs kinks, where a finite difference straddles two slopes.

On failure, hypothesis prints the program (``note``) and its repr, which pastes into
``@example(...)`` to pin it.
"""

from __future__ import annotations

import importlib
import math
import sys
from functools import reduce
from operator import add

import pytest
from hypothesis import assume, example, find, given, note, settings

from engine import Value, gradcheck
from engine.testing import (
    EXACT_OPS,
    INTEGER_EXPONENTS,
    VALUE_FUNCTIONS,
    Expression,
    Step,
    expressions,
)
from tests.torch_oracle import (
    close,
    identical,
    identical_gradient,
    torch_dot,
    torch_leaves,
)

torch = pytest.importorskip("torch")


TORCH_FUNCTIONS = {
    "exp": torch.exp,
    "log": torch.log,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "sqrt": torch.sqrt,
    "vsum": lambda xs: reduce(add, xs),
    "dot": torch_dot,
}


def run_ours(expr: Expression) -> tuple[list[float], list[float]]:
    """Every node's value, and d output / d leaf for each leaf, on chainrule Values."""
    leaves = [Value(x, label=name) for x, name in zip(expr.leaves, expr.names)]
    nodes = expr.evaluate(leaves, VALUE_FUNCTIONS)
    nodes[-1].backward()
    return [node.data for node in nodes], [leaf.grad for leaf in leaves]


def run_torch(expr: Expression) -> tuple[list[float], list[float]]:
    leaves = torch_leaves(expr.leaves)
    nodes = expr.evaluate(leaves, TORCH_FUNCTIONS)
    nodes[-1].backward()
    return [node.item() for node in nodes], [
        0.0 if leaf.grad is None else leaf.grad.item() for leaf in leaves
    ]


def assert_graph_matches_torch(expr, same_value, same_gradient):
    """Every node's value and every leaf's gradient, ours against PyTorch's."""
    note(str(expr))
    values, grads = run_ours(expr)
    torch_values, torch_grads = run_torch(expr)
    for name, ours, theirs in zip(expr.names, values, torch_values):
        assert same_value(ours, theirs), f"{name}: {ours} vs torch {theirs}"
    for name, ours, theirs in zip(expr.names, grads, torch_grads):
        assert same_gradient(ours, theirs), f"d/d{name}: {ours} vs torch {theirs}"


def a_op(op, *args, constant=None):
    return Step(op, args, constant)


# Regressions and classic shapes, always run first.
SQUARE = Expression((3.0,), (a_op("mul", 0, 0),))
DOUBLE = Expression((3.0,), (a_op("add", 0, 0),))
DIAMOND = Expression((1.5, -0.5), (a_op("mul", 0, 1), a_op("sigmoid", 2), a_op("relu", 2),
                                   a_op("mul", 3, 4)))
RELU_AT_ZERO = Expression((0.0,), (a_op("relu", 0),))
RELU_AT_NAN = Expression((math.nan,), (a_op("relu", 0),))
SIGMOID_SATURATED = Expression((-1000.0, 1000.0), (a_op("sigmoid", 0), a_op("sigmoid", 1),
                                                   a_op("add", 2, 3)))
CANCELLING = Expression((2.0,), (a_op("sub", 0, 0), a_op("pow", 1, constant=-2)))


@settings(max_examples=200, deadline=None)
@given(expressions(ops=EXACT_OPS, exponents=INTEGER_EXPONENTS))
@example(SQUARE)
@example(DOUBLE)
@example(DIAMOND)
@example(RELU_AT_ZERO)
@example(RELU_AT_NAN)
@example(SIGMOID_SATURATED)
@example(CANCELLING)
def test_ieee_only_graphs_are_bit_identical_to_torch(expr):
    assert_graph_matches_torch(expr, identical, identical_gradient)


@settings(max_examples=200, deadline=None)
@given(expressions())
@example(Expression((0.5, -1.0), (a_op("log", 0), a_op("exp", 1), a_op("vpow", 2, 3),
                                  a_op("dot", 0, 1, 3, 2, 4), a_op("vsum", 5, 5, 0))))
def test_any_graph_matches_torch_to_1e9(expr):
    assert_graph_matches_torch(expr, close, close)


@settings(max_examples=200, deadline=None)
@given(expressions())
@example(DIAMOND)
@example(SQUARE)
def test_backward_matches_central_differences(expr):
    note(str(expr))
    with_values = expr.evaluate([Value(x) for x in expr.leaves], VALUE_FUNCTIONS)
    assume(all(abs(z) >= 1e-4 for z in expr.kink_inputs(with_values)))
    # finite differences lose digits to rounding in proportion to the values' size
    assume(all(math.isfinite(v.data) and abs(v.data) <= 1e4 for v in with_values))
    gradcheck(expr, expr.leaves)


# ---- the strategy itself --------------------------------------------------------------


def test_the_strategy_draws_shared_operands_and_diamonds():
    square = find(expressions(), lambda e: any(len(set(s.args)) < len(s.args) for s in e.steps))
    assert any(len(set(s.args)) < len(s.args) for s in square.steps)

    def has_diamond(e: Expression) -> bool:  # one node feeds two different steps
        users = [i for s in e.steps for i in set(s.args)]
        return any(users.count(i) >= 2 for i in range(len(e.leaves), len(e.names)))

    assert has_diamond(find(expressions(), has_diamond))


def test_an_expression_prints_as_a_program():
    assert str(DIAMOND).splitlines() == [
        "a = 1.5", "b = -0.5", "v0 = a * b", "v1 = sigmoid(v0)", "v2 = relu(v0)",
        "v3 = v1 * v2", "output: v3",
    ]
    assert eval(repr(DIAMOND)) == DIAMOND  # pastes into @example


@pytest.mark.parametrize(
    ("steps", "pattern"),
    [
        ((a_op("cube", 0),), "unknown op 'cube'"),
        ((a_op("mul", 0),), "mul takes 2 arguments, not 1"),
        ((a_op("neg", 1),), r"earlier nodes \(0..0\)"),
    ],
)
def test_a_malformed_expression_is_refused(steps, pattern):
    with pytest.raises(ValueError, match=pattern):
        Expression((1.0,), steps)


def test_engine_testing_without_hypothesis_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # makes `import hypothesis` fail
    monkeypatch.delitem(sys.modules, "engine.testing")
    with pytest.raises(ImportError, match="pip install hypothesis"):
        importlib.import_module("engine.testing")
