"""check_gradients: one call property-tests an op's first and second derivatives, at points
and inside random expressions, skipping kinks; and the custom ops of engine.testing."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings

from engine import Value, define_op, grad, gradcheck
from engine.testing import (
    SMOOTH_OPS,
    VALUE_FUNCTIONS,
    CustomOp,
    Expression,
    Step,
    check_gradients,
    expressions,
)
from tests.own_ops import cos, hypot, sin

ROOT = Path(__file__).resolve().parent.parent


# ---- a correct op passes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "n_inputs", "bounds"),
    [
        (sin, 1, {}),
        (cos, 1, {"low": -10.0, "high": 10.0}),
        (hypot, 2, {"low": 0.1}),
        (Value.tanh, 1, {}),
        (lambda x: x.log(), 1, {"low": 0.1, "high": 100.0}),
        (lambda x, y: x * sin(y) + y, 2, {}),
    ],
)
def test_a_correct_op_passes_at_every_point_and_in_every_expression(fn, n_inputs, bounds):
    checked = check_gradients(fn, n_inputs, examples=50, **bounds)
    assert (checked.points, checked.expressions, checked.kinks) == (50, 50, 0)


@pytest.mark.parametrize("fn", [Value.relu, abs], ids=["relu", "abs"])
def test_kinks_are_skipped_and_counted(fn):
    # 0.0 is drawn often; there the one-sided differences disagree (relu: 0 and 1)
    checked = check_gradients(fn, 1, examples=50)
    assert checked.points == checked.expressions == 50
    assert checked.kinks > 0
    assert "skipped at a kink" in str(checked)


def test_a_kink_is_not_an_excuse_for_a_wrong_slope():
    # relu with slope -1 on the positive side: wrong everywhere past 0, also right at it
    backwards = define_op("relu", lambda x: max(x, 0.0), lambda x, out: -1.0 if x > 0 else 0.0)
    with pytest.raises(AssertionError, match="backward"):
        check_gradients(backwards, 1, second_order=False)


def test_the_summary_says_what_was_compared():
    checked = check_gradients(sin, 1, examples=10, second_order=False)
    assert str(checked) == ("sin: derivatives agree with central differences at 10 points "
                            "and in 10 expressions (0 skipped at a kink)")


# ---- a wrong derivative fails, with the shrunk case ----------------------------------------


def test_a_sign_slip_fails_at_the_simplest_point():
    slipped = define_op("sin", math.sin, lambda x, out: -cos(x))
    with pytest.raises(AssertionError) as caught:
        check_gradients(slipped, 1)
    message = str(caught.value)
    assert message.startswith("check_gradients(sin): backward() disagrees with central "
                              "differences at (0.0,)\ngradcheck FAILED")
    assert caught.value.__notes__  # hypothesis's own note of the falsifying example


def test_a_missing_factor_2_fails():
    square = define_op("square", lambda x: x * x, lambda x, out: x)
    with pytest.raises(AssertionError, match=r"check_gradients\(square\): backward"):
        check_gradients(square, 1)


def test_the_math_cos_mistake_passes_first_order_and_fails_second_order():
    by_math = define_op("sin", math.sin, lambda x, out: math.cos(x))
    assert check_gradients(by_math, 1, examples=20, second_order=False).points == 20
    with pytest.raises(AssertionError, match="second derivatives") as caught:
        check_gradients(by_math, 1)
    assert "[0,0]" in str(caught.value) and "NO" in str(caught.value)


def test_a_wrong_partial_derivative_of_a_two_input_op_fails():
    swapped = define_op("hypot", math.hypot, lambda x, y, out: (y / out, x / out))
    with pytest.raises(AssertionError, match="hypot"):
        check_gradients(swapped, 2, low=0.1)


def graph_cutting_double(x):
    """2x, right on a leaf, but cutting the graph (gradient 0) when x is computed."""
    return x * 2 if not x.parents else x.detach() * 2


def test_an_op_right_at_points_but_wrong_inside_a_graph_fails_in_an_expression():
    with pytest.raises(AssertionError) as caught:
        check_gradients(graph_cutting_double, 1)
    message = str(caught.value)
    assert "in this expression:\na = " in message
    assert "graph_cutting_double(3 * tanh(" in message


# ---- the runs themselves ---------------------------------------------------------------------


def test_a_seed_repeats_a_run_and_none_draws_afresh():
    assert check_gradients(Value.relu, 1, examples=30) == check_gradients(Value.relu, 1,
                                                                          examples=30)
    assert check_gradients(sin, 1, examples=10, seed=None).points == 10


def test_it_runs_in_a_plain_interpreter_outside_pytest():
    code = ("import math\nfrom engine import define_op\nfrom engine.testing import "
            "check_gradients\nsin = define_op('sin', math.sin, lambda x, out: cos(x))\n"
            "cos = define_op('cos', math.cos, lambda x, out: -sin(x))\n"
            "print(check_gradients(sin, 1, examples=20))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("sin: first and second derivatives agree with central differences "
                           "at 20 points and in 20 expressions (0 skipped at a kink)\n")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_inputs": 0}, ValueError, "n_inputs"),
        ({"fn": "sin"}, TypeError, "callable"),
        ({"low": 1.0, "high": 1.0}, ValueError, "low < high"),
        ({"high": math.inf}, ValueError, "finite"),
        ({"examples": 0}, ValueError, "examples"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, error, match):
    arguments = {"fn": sin, "n_inputs": 1, **kwargs}
    with pytest.raises(error, match=match):
        check_gradients(arguments.pop("fn"), arguments.pop("n_inputs"), **arguments)


# ---- custom ops in expressions ------------------------------------------------------------


SIN = CustomOp("sin", sin)
HYPOT = CustomOp("hypot", hypot, arity=2)


def test_an_expression_calls_a_custom_op_and_prints_it():
    expr = Expression((0.5, 2.0), (Step("sin", (0,)), Step("hypot", (2, 1)),
                                   Step("mul", (3, 2))), (SIN, HYPOT))
    assert str(expr) == ("a = 0.5\nb = 2.0\nv0 = sin(a)\nv1 = hypot(v0, b)\nv2 = v1 * v0\n"
                         "output: v2")
    a, b = Value(0.5), Value(2.0)
    assert expr(a, b).data == math.hypot(math.sin(0.5), 2.0) * math.sin(0.5)
    assert not expr.exact and expr.ops == {"sin", "hypot", "mul"}
    assert gradcheck(expr, expr.leaves).passed


def test_evaluate_may_replace_a_custom_op():
    expr = Expression((0.5,), (Step("sin", (0,)),), (SIN,))
    nodes = expr.evaluate([0.5], {**VALUE_FUNCTIONS, "sin": math.sin})
    assert nodes == [0.5, math.sin(0.5)]


def test_a_custom_op_template_says_how_a_step_prints():
    shifted = CustomOp("shifted", lambda x: sin(x + 1), template="sin({0} + 1)")
    expr = Expression((0.0,), (Step("shifted", (0,)),), (shifted,))
    assert str(expr).split("\n")[1] == "v0 = sin(a + 1)"


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: CustomOp("tanh", sin), "new identifier"),
        (lambda: CustomOp("my op", sin), "new identifier"),
        (lambda: CustomOp("sin", 3), "callable"),
        (lambda: CustomOp("sin", sin, arity=0), "arity"),
        (lambda: Expression((1.0,), (Step("sin", (0,)),)), "unknown op 'sin'"),
        (lambda: Expression((1.0,), (Step("hypot", (0,)),), (HYPOT,)), "takes 2 arguments"),
        (lambda: expressions(ops=("sin",)), "ops must be names"),
    ],
)
def test_a_bad_custom_op_or_step_says_what_is_wrong(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_existing_expressions_are_unchanged_and_their_repr_still_evaluates():
    expr = Expression((1.0,), (Step("tanh", (0,)),))
    assert eval(repr(expr), {"Expression": Expression, "Step": Step}) == expr


@settings(max_examples=50, deadline=None)
@given(expressions(ops=(*SMOOTH_OPS, "sin", "sin", "sin"), custom_ops=(SIN,)))
def test_drawn_expressions_use_the_custom_op_and_its_gradients_check(expr):
    nodes = expr.evaluate([Value(x) for x in expr.leaves], VALUE_FUNCTIONS)
    if all(math.isfinite(v.data) and abs(v.data) <= 1e4 for v in nodes):
        gradcheck(expr, expr.leaves)


def test_a_custom_op_is_drawn_as_often_as_ops_names_it():
    seen = []

    @settings(max_examples=100, deadline=None, database=None)
    @given(expressions(ops=("add", "sin", "sin", "sin"), custom_ops=(SIN,)))
    def draw(expr):
        seen.extend(step.op for step in expr.steps)

    draw()
    assert seen.count("sin") > seen.count("add") / 3  # joins add "add" steps of their own


def test_at_an_exponent_of_zero_the_second_derivative_is_masked_as_in_pytorch(torch):
    """d(a**b)/da is masked to 0 where b == 0 (PyTorch's where(b == 0, 0, ...)), so its
    derivative in b is 0 there too, though b * a**(b-1) has slope 1/a in b. check_gradients'
    expressions leave such points out; here is the behaviour they leave out, against torch."""
    a, b = Value(2.0), Value(0.0)
    (da,) = grad(a ** b, [a], create_graph=True)
    da.backward()
    ta = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    (tda,) = torch.autograd.grad(ta ** tb, [ta], create_graph=True)
    tda.backward()
    assert (da.data, b.grad) == (tda.item(), tb.grad.item()) == (0.0, 0.0)
    h = 1e-6  # while the unmasked b * a**(b-1) has slope 1/a = 0.5 in b
    unmasked = lambda s: s * 2.0 ** (s - 1.0)
    assert (unmasked(h) - unmasked(-h)) / (2 * h) == pytest.approx(0.5)
