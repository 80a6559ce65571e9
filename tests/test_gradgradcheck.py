"""gradgradcheck: second derivatives by grad(create_graph=True) then backward, against
central differences of the first derivatives, with a report of every Hessian entry."""

from __future__ import annotations

import inspect
import math

import pytest

from engine import GradcheckError, Value, define_op, gradcheck, gradgradcheck, no_grad
from tests.own_ops import cos, sin

# The classic mistake: math.cos turns the Value into a float, a constant to the next derivative.
sin_by_math_cos = define_op("sin", math.sin, lambda x, out: math.cos(x))


@pytest.mark.parametrize(
    ("fn", "inputs"),
    [
        (lambda a, b: (a * b - b).tanh() * a, [0.5, -1.5]),
        (lambda x: x.log() / x.sigmoid() + x.exp(), [1.3]),
        (lambda x, y: y.sqrt() * (x * x + 1) ** y, [0.7, 2.2]),
        (lambda x, y, z: 3 / z - abs(y) ** -1.5 * 2 ** x, [0.3, -0.8, 1.9]),
        (sin, [0.5]),
        (lambda x, y: sin(x * y) * cos(y), [0.4, -1.1]),
    ],
)
def test_correct_second_derivatives_pass(fn, inputs):
    result = gradgradcheck(fn, inputs)
    assert result.passed and bool(result)
    assert len(result.entries) == len(inputs) ** 2
    assert result.point == tuple(inputs)


def test_every_hessian_entry_is_checked_in_row_major_order():
    # f = a * b**2: d2f/da2 = 0, d2f/da db = 2b, d2f/db2 = 2a
    result = gradgradcheck(lambda a, b: a * b * b, [3.0, 2.0])
    assert [(e.row, e.column) for e in result.entries] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [e.analytic for e in result.entries] == [0.0, 4.0, 4.0, 6.0]
    assert [e.numeric for e in result.entries] == pytest.approx([0.0, 4.0, 4.0, 6.0], abs=1e-8)


def test_a_derivative_written_with_math_cos_passes_gradcheck_and_fails_gradgradcheck():
    assert gradcheck(sin_by_math_cos, [1.0]).passed  # the first derivative is right
    with pytest.raises(GradcheckError) as caught:
        gradgradcheck(sin_by_math_cos, [1.0])
    entry, = caught.value.result.failures
    assert entry.analytic == 0.0  # a constant's derivative
    assert entry.numeric == pytest.approx(-math.sin(1.0), rel=1e-6)
    assert str(caught.value).startswith("gradgradcheck failed for [0,0]\n")


def test_a_wrong_second_derivative_inside_a_product_names_the_entry():
    # with the math.cos mistake in x * sin(y), only d2/dy2 is wrong (x's row is right)
    result = gradgradcheck(lambda x, y: x * sin_by_math_cos(y), [Value(2.0, "x"), Value(1.0, "y")],
                           raise_exception=False)
    assert [e.name for e in result.failures] == ["[1,1] y,y"]
    assert "FAILED for 1 of 4 second derivatives" in str(result)


def off_by(error):
    """x -> x**3 / 6 + (error / 2) * (x - x0)**2 with x0 = x.detach(): the extra term is 0 in
    value and in first derivative at every point (so central differences of f' see x), but
    its second derivative is ``error``: backward sees f'' = x + error."""
    return lambda x: x * x * x / 6 + (x - x.detach()) ** 2 * (error / 2)


def test_the_tolerance_is_gradchecks():
    limit = 1e-5 + 1e-3 * 2.0  # at x = 2: atol + rtol * |f''|
    assert gradgradcheck(off_by(0.99 * limit), [2.0]).passed
    assert not gradgradcheck(off_by(1.01 * limit), [2.0], raise_exception=False).passed
    assert not gradgradcheck(off_by(-1.01 * limit), [2.0], raise_exception=False).passed


def test_the_defaults_are_gradchecks():
    ours = {n: p.default for n, p in inspect.signature(gradgradcheck).parameters.items()}
    theirs = {n: p.default for n, p in inspect.signature(gradcheck).parameters.items()}
    assert ours == theirs


def test_the_report_is_a_table_of_entries():
    text = str(gradgradcheck(lambda a, b: a * b, [Value(1.0, "a"), Value(2.0, "b")]))
    lines = text.split("\n")
    assert lines[0].startswith("gradgradcheck passed at (1, 2) (eps=1e-06, ")
    assert lines[1].split() == ["d2/dxi", "dxj", "analytic", "numeric", "abs", "err", "rel",
                                "err", "ok"]
    assert [line.split()[:2] for line in lines[2:]] == [
        ["[0,0]", "a,a"], ["[0,1]", "a,b"], ["[1,0]", "b,a"], ["[1,1]", "b,b"]]


def test_it_works_under_no_grad_and_leaves_the_inputs_alone():
    x = Value(0.5, "x")
    with no_grad():
        assert gradgradcheck(sin, [x]).passed
    assert x.grad == 0.0


def test_an_input_the_first_derivative_does_not_depend_on_gives_zero():
    result = gradgradcheck(lambda x, y: x * 3 + y, [1.0, 2.0])
    assert [e.analytic for e in result.entries] == [0.0] * 4


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"inputs": 1.0}, TypeError, "wrap a single input in a list"),
        ({"inputs": []}, ValueError, "empty"),
        ({"inputs": [math.nan]}, ValueError, "finite"),
        ({"eps": 0.0}, ValueError, "eps"),
        ({"atol": -1.0}, ValueError, "atol"),
        ({"fn": 3}, TypeError, "callable"),
        ({"fn": lambda x: 1.0}, TypeError, "must return a Value"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, error, match):
    arguments = {"fn": sin, "inputs": [1.0], **kwargs}
    fn, inputs = arguments.pop("fn"), arguments.pop("inputs")
    with pytest.raises(error, match=match):
        gradgradcheck(fn, inputs, **arguments)
