"""gradcheck: backward() against central differences, and a clear report when they disagree."""

from __future__ import annotations

import inspect
import math

import pytest

from engine import GradcheckError, Value, dot, gradcheck, no_grad, numerical_grad, vsum


def neuron(w1, w2, b):
    return dot([w1, w2], [0.5, -1.5], b, activation="tanh") * vsum([w1, w1, b])


@pytest.mark.parametrize(
    ("fn", "inputs"),
    [
        (lambda a, b: (a * b).tanh(), [0.5, -1.5]),
        (lambda x: x.sigmoid() * x.exp() - x.log(), [1.3]),
        (lambda x, y: (x * x + 1) ** y / y.sqrt(), [0.7, 2.2]),
        (lambda x, y, z: 2 ** x + abs(y) ** -1.5 - 3 / z, [0.3, -0.8, 1.9]),
        (neuron, [0.3, -0.2, 0.1]),
    ],
)
def test_correct_derivatives_pass(fn, inputs):
    result = gradcheck(fn, inputs)
    assert result.passed and bool(result)
    assert [row.value for row in result.inputs] == inputs


def test_the_defaults_are_pytorchs():
    defaults = {name: p.default for name, p in inspect.signature(gradcheck).parameters.items()}
    assert (defaults["eps"], defaults["atol"], defaults["rtol"]) == (1e-6, 1e-5, 1e-3)
    result = gradcheck(lambda x: x * 2, [1.0])
    assert (result.eps, result.atol, result.rtol) == (1e-6, 1e-5, 1e-3)


def off_by(error, slope=2.0):
    """x -> slope * x, whose backward() says slope + error: (x - x.detach()) is 0 forward,
    so the central difference sees ``slope`` (to about 1e-10), backward sees one more term."""
    return lambda x: x * slope + (x - x.detach()) * error


# With the defaults an input passes when |error| <= 1e-5 + 1e-3 * |slope|: for slope 2 that
# is 0.00201, and a derivative 0.01% past it must fail, 1% inside it must pass.
LIMIT_AT_SLOPE_2 = 1e-5 + 1e-3 * 2.0


@pytest.mark.parametrize("sign", [1, -1])
def test_an_error_just_outside_the_default_tolerance_fails(sign):
    result = gradcheck(off_by(sign * LIMIT_AT_SLOPE_2 * 1.0001), [1.0], raise_exception=False)
    assert not result.passed
    assert result.inputs[0].numeric == pytest.approx(2.0, rel=1e-9)


@pytest.mark.parametrize("sign", [1, -1])
def test_an_error_just_inside_the_default_tolerance_passes(sign):
    assert gradcheck(off_by(sign * LIMIT_AT_SLOPE_2 * 0.99), [1.0]).passed


def test_near_zero_slopes_are_held_to_the_absolute_tolerance():
    assert not gradcheck(off_by(1.01e-5, slope=0.0), [1.0], raise_exception=False).passed
    assert gradcheck(off_by(0.99e-5, slope=0.0), [1.0]).passed


def test_a_small_relative_error_in_a_rule_passes_unseen():
    # What gradcheck cannot see: tanh's derivative 0.05% too large passes (only the
    # comparisons with PyTorch catch that), 0.2% too large fails.
    def with_tanh_off_by(factor):
        return lambda x: x.tanh() + (x - x.detach()) * (factor * (1 - math.tanh(0.4) ** 2))

    assert gradcheck(with_tanh_off_by(0.0005), [0.4]).passed
    assert not gradcheck(with_tanh_off_by(0.002), [0.4], raise_exception=False).passed


def test_the_default_eps_resolves_a_slope_that_changes_within_1e_3():
    # tanh(1000 x) at 0: the central difference errs by eps**2 * 1000**3 / 3, which is 3e-4
    # for eps = 1e-6 (within 1e-3 * 1000) and 3.3 for eps = 1e-4 (far outside)
    assert gradcheck(lambda x: (x * 1000.0).tanh(), [0.0]).passed
    assert not gradcheck(lambda x: (x * 1000.0).tanh(), [0.0], eps=1e-4,
                         raise_exception=False).passed


def test_a_wrong_derivative_rule_fails(monkeypatch):
    # sabotage tanh: d/dx tanh(x) = 1 - tanh(x)**2, not 1 - tanh(x)
    monkeypatch.setattr(Value._TANH, "derivative", lambda g, out, a, c: g * (1.0 - out))
    with pytest.raises(GradcheckError, match=r"gradcheck failed for \[0\]"):
        gradcheck(lambda x: x.tanh(), [0.4])


def test_the_report_lists_only_the_failing_inputs():
    # b.detach() hides one path from backward: d/db of b * b looks like b instead of 2b
    def half_detached(a, b):
        return a * 2 + b * b.detach()

    with pytest.raises(GradcheckError) as caught:
        gradcheck(half_detached, [1.0, Value(3.0, label="b")])
    assert [row.index for row in caught.value.result.failures] == [1]
    message = str(caught.value)
    assert "failed for [1] b" in message and "[0]" in message.splitlines()[3]
    assert isinstance(caught.value, AssertionError)


def test_raise_exception_false_returns_the_verdict():
    result = gradcheck(lambda x: x * x.detach(), [2.0], raise_exception=False)
    assert not result.passed and not result
    (row,) = result.failures
    assert math.isclose(row.analytic, 2.0) and math.isclose(row.numeric, 4.0, rel_tol=1e-8)
    assert math.isclose(row.abs_error, 2.0, rel_tol=1e-8)
    assert math.isclose(row.rel_error, 0.5, rel_tol=1e-8)


def test_a_kink_closer_than_eps_fails_although_the_rule_is_right():
    # relu at 0: backward says 0 (PyTorch's convention), the central difference sees 0.5
    result = gradcheck(lambda x: x.relu(), [0.0], raise_exception=False)
    assert not result.passed
    assert result.inputs[0].numeric == pytest.approx(0.5)
    assert gradcheck(lambda x: x.relu(), [1e-3]).passed  # away from the kink: fine


def test_the_report_prints_as_a_table():
    text = str(gradcheck(lambda a, b: a * b, [Value(2.0, label="a"), 3.0]))
    lines = text.splitlines()
    assert lines[0].startswith("gradcheck passed (eps=1e-06")
    assert lines[1].split() == ["input", "value", "analytic", "numeric", "abs", "err", "rel",
                                "err", "ok"]
    assert lines[2].split()[:3] == ["[0]", "a", "2"] and lines[2].endswith("yes")
    assert lines[3].split()[:2] == ["[1]", "3"]
    assert repr(gradcheck(lambda x: -x, [1.0])).startswith("gradcheck passed")


def test_the_inputs_are_left_alone():
    x = Value(1.5, label="x")
    gradcheck(lambda v: v * v, [x])
    assert (x.data, x.grad) == (1.5, 0.0)


def test_it_works_inside_no_grad():
    with no_grad():
        assert gradcheck(lambda x: x.exp(), [0.5]).passed


def test_numerical_grad_of_a_polynomial():
    # f = a*b + a**3: df/da = b + 3a**2 = 15, df/db = a = 2 at (2, 3)
    da, db = numerical_grad(lambda a, b: a * b + a ** 3, [2.0, 3.0])
    assert da == pytest.approx(15.0, abs=1e-7) and db == pytest.approx(2.0, abs=1e-7)


def test_central_differences_have_error_of_order_eps_squared():
    # exp at 0: numeric - 1 = eps**2/6 + ..., so 10x smaller eps gives 100x smaller error
    errors = [numerical_grad(lambda x: x.exp(), [0.0], eps)[0] - 1.0 for eps in (1e-2, 1e-3)]
    assert errors[0] == pytest.approx(1e-4 / 6, rel=1e-3)
    assert errors[1] == pytest.approx(1e-6 / 6, rel=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"eps": 0.0}, ValueError, "eps"),
        ({"eps": -1e-6}, ValueError, "eps"),
        ({"eps": "small"}, TypeError, "eps.*str"),
        ({"atol": -1.0}, ValueError, "atol"),
        ({"rtol": math.nan}, ValueError, "rtol"),
    ],
)
def test_bad_tolerances_are_named(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        gradcheck(lambda x: x * 2, [1.0], **kwargs)


@pytest.mark.parametrize(
    ("fn", "inputs", "error", "pattern"),
    [
        (lambda x: x, 1.0, TypeError, "inputs.*float.*list"),
        (lambda x: x, "ab", TypeError, "inputs.*str"),
        (lambda x, y: x, [1.0, "2"], TypeError, r"inputs\[1\].*str"),
        (lambda x: x, [math.nan], ValueError, r"inputs\[0\] is nan"),
        (lambda: Value(1.0), [], ValueError, "empty"),
        (lambda x: x.data * 2, [1.0], TypeError, "must return a Value, not float"),
        ("not a function", [1.0], TypeError, "fn must be callable.*str"),
    ],
)
def test_bad_arguments_are_named(fn, inputs, error, pattern):
    with pytest.raises(error, match=pattern):
        gradcheck(fn, inputs)
