"""Numeric edges: chainrule gives PyTorch float64's value and gradient, and never raises.

Python's math raises where IEEE arithmetic has an answer (log(0), exp(1000), 1/0, a negative
number to a fractional power); PyTorch returns -inf, inf, nan. Each row below is a
function and a point; both libraries run it, and the special values must agree exactly:
nan with nan, +0.0 and -0.0 apart, +inf and -inf apart. Ordinary finite numbers in these
rows go through exp or log, so they are held to rel 1e-9 (test_ops_vs_torch.py checks
ordinary points bit for bit where that is possible). The rows reach the edge branches of
``engine/ieee.py``: powers past PyTorch's shortcuts (overflow to +-inf, 0 and -0.0 to
negative powers), zero and negative bases of ``a ** b`` and ``c ** x``, constants of 0 on
either side of ``/``, and subnormal inputs and results.
"""

from __future__ import annotations

import math

import pytest

from tests.torch_oracle import (
    close,
    engine_result,
    identical,
    import_torch,
    torch_result,
)

import_torch()  # every test here compares with PyTorch: without it this module is skipped

inf, nan = math.inf, math.nan

TINY = 5e-324  # the smallest subnormal float

# (what, function, point)
EDGES = [
    ("relu at 0: gradient 0", lambda x: x.relu(), (0.0,)),
    ("relu at -0.0", lambda x: x.relu(), (-0.0,)),
    ("relu at nan: nan passes, gradient 1", lambda x: x.relu(), (nan,)),
    ("relu at inf", lambda x: x.relu(), (inf,)),
    ("log at 0", lambda x: x.log(), (0.0,)),
    ("log at -0.0", lambda x: x.log(), (-0.0,)),
    ("log at -1: nan, gradient -1", lambda x: x.log(), (-1.0,)),
    ("log at inf", lambda x: x.log(), (inf,)),
    ("exp at 709", lambda x: x.exp(), (709.0,)),
    ("exp at 710: overflow", lambda x: x.exp(), (710.0,)),
    ("exp at -1000: underflow", lambda x: x.exp(), (-1000.0,)),
    ("sigmoid at 1000", lambda x: x.sigmoid(), (1000.0,)),
    ("sigmoid at -1000", lambda x: x.sigmoid(), (-1000.0,)),
    ("sigmoid at -740", lambda x: x.sigmoid(), (-740.0,)),
    ("tanh at 1000", lambda x: x.tanh(), (1000.0,)),
    ("tanh at -1000", lambda x: x.tanh(), (-1000.0,)),
    ("1/x at 0", lambda x: 1 / x, (0.0,)),
    ("1/x at -0.0", lambda x: 1 / x, (-0.0,)),
    ("a/b at (1, 0)", lambda a, b: a / b, (1.0, 0.0)),
    ("a/b at (0, 0)", lambda a, b: a / b, (0.0, 0.0)),
    ("a/b at (-1, -0.0)", lambda a, b: a / b, (-1.0, -0.0)),
    ("x**0.5 at 0", lambda x: x ** 0.5, (0.0,)),
    ("sqrt at 0", lambda x: x.sqrt(), (0.0,)),
    ("sqrt at -0.0", lambda x: x.sqrt(), (-0.0,)),
    ("sqrt at -1", lambda x: x.sqrt(), (-1.0,)),
    ("x**0 at 0", lambda x: x ** 0, (0.0,)),
    ("x**-1 at 0", lambda x: x ** -1, (0.0,)),
    ("x**-1 at -0.0", lambda x: x ** -1, (-0.0,)),
    ("x**-2 at 0", lambda x: x ** -2, (0.0,)),
    ("x**(1/3) at -8: nan, not complex", lambda x: x ** (1 / 3), (-8.0,)),
    ("a**b at (-8, 1/3)", lambda a, b: a ** b, (-8.0, 1 / 3)),
    ("a**b at (0, 2): d/db is 0", lambda a, b: a ** b, (0.0, 2.0)),
    ("a**b at (0, -1)", lambda a, b: a ** b, (0.0, -1.0)),
    ("a**b at (-2, 3): d/db is nan", lambda a, b: a ** b, (-2.0, 3.0)),
    ("2**x at 2000: overflow", lambda x: 2 ** x, (2000.0,)),
    ("x**2.0 at -2", lambda x: x ** 2.0, (-2.0,)),
    ("x**3 at -1e200: overflow to -inf", lambda x: x ** 3, (-1e200,)),
    ("a*b at (inf, 0)", lambda a, b: a * b, (inf, 0.0)),
    ("0*x at inf", lambda x: 0 * x, (inf,)),
    ("abs at 0: gradient 0", lambda x: abs(x), (0.0,)),
    ("abs at -0.0", lambda x: abs(x), (-0.0,)),
    ("abs at nan", lambda x: abs(x), (nan,)),
    ("log(exp(x)) at 800: the overflow poisons the gradient", lambda x: x.exp().log(), (800.0,)),
    ("inf - inf", lambda a, b: a - b, (inf, inf)),
    ("tanh at nan", lambda x: x.tanh(), (nan,)),
    # powers past PyTorch's shortcuts (ieee.general_pow): signs of zeros and of overflow
    ("x**401 at -10: overflow to -inf", lambda x: x ** 401, (-10.0,)),
    ("x**400 at -10: overflow to +inf", lambda x: x ** 400, (-10.0,)),
    ("x**5 at -1e100", lambda x: x ** 5, (-1e100,)),
    ("x**-3 at -0.0: -inf", lambda x: x ** -3, (-0.0,)),
    ("x**-3 at 0: inf", lambda x: x ** -3, (0.0,)),
    ("x**-4 at -0.0: +inf", lambda x: x ** -4, (-0.0,)),
    ("x**-1.5 at -0.0", lambda x: x ** -1.5, (-0.0,)),
    ("x**1.5 at -0.0", lambda x: x ** 1.5, (-0.0,)),
    ("x**4 at -2", lambda x: x ** 4, (-2.0,)),
    ("x**-3 at -2", lambda x: x ** -3, (-2.0,)),
    # a ** b and c ** x at zero and negative bases
    ("a**b at (0, 0): d/da is 0", lambda a, b: a ** b, (0.0, 0.0)),
    ("a**b at (2, 0)", lambda a, b: a ** b, (2.0, 0.0)),
    ("a**b at (-0.0, -3): -inf", lambda a, b: a ** b, (-0.0, -3.0)),
    ("a**b at (-2, 2): d/db is nan", lambda a, b: a ** b, (-2.0, 2.0)),
    ("a**b at (-10, 401): overflow to -inf", lambda a, b: a ** b, (-10.0, 401.0)),
    ("0**x at 1.5: d/dx is 0", lambda x: 0 ** x, (1.5,)),
    ("0**x at 0", lambda x: 0 ** x, (0.0,)),
    ("0**x at -1: inf", lambda x: 0 ** x, (-1.0,)),
    ("(-2)**x at 3: d/dx is nan", lambda x: (-2) ** x, (3.0,)),
    ("(-2)**x at 0.5: nan", lambda x: (-2) ** x, (0.5,)),
    # issue 25: d/da of a ** b at b == 0 is 0 whatever comes from above, nan included
    ("(a**b) * nan at (2, 0): d/da is 0", lambda a, b: (a ** b) * nan, (2.0, 0.0)),
    ("(a**b) * inf at (2, 0): d/da is 0", lambda a, b: (a ** b) * inf, (2.0, 0.0)),
    # a base of -inf with a Value exponent: a**(b-1) is IEEE's pow, no shortcut
    *[(f"a**b at (-inf, {b})", lambda a, b: a ** b, (-inf, b))
      for b in (-3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0)],
    # a constant on either side of - and /
    ("x - 2 at inf", lambda x: x - 2.0, (inf,)),
    ("x / 0 at 1", lambda x: x / 0.0, (1.0,)),
    ("x / -0.0 at 1", lambda x: x / -0.0, (1.0,)),
    ("x / 0 at 0: nan", lambda x: x / 0.0, (0.0,)),
    ("2 / x at -0.0", lambda x: 2.0 / x, (-0.0,)),
    # subnormal inputs and results (below 2.2e-308): no flushing to zero, in either library
    ("relu of a subnormal", lambda x: x.relu(), (TINY,)),
    ("x * 0.5 at the smallest subnormal: rounds to 0", lambda x: x * 0.5, (TINY,)),
    ("a * b at (1e-200, 1e-200): underflow", lambda a, b: a * b, (1e-200, 1e-200)),
    ("x / 1e300 at 1e-10: a subnormal", lambda x: x / 1e300, (1e-10,)),
    ("a / b at (3e-320, 7e-321)", lambda a, b: a / b, (3e-320, 7e-321)),
    ("1/x at a subnormal: overflow", lambda x: 1 / x, (TINY,)),
    ("x**2 at 1e-160: a subnormal", lambda x: x ** 2, (1e-160,)),
    ("sigmoid of a subnormal", lambda x: x.sigmoid(), (-TINY,)),
    ("exp at -745: a subnormal", lambda x: x.exp(), (-745.0,)),
    ("log of a subnormal", lambda x: x.log(), (TINY,)),
    ("sqrt of a subnormal", lambda x: x.sqrt(), (4e-323,)),
    ("abs of a negative subnormal", lambda x: abs(x), (-TINY,)),
]


def matches(ours: float, theirs: float) -> bool:
    """Special values (nan, zeros, infinities) identical; other numbers within rel 1e-9."""
    if theirs == 0.0 or not math.isfinite(theirs):
        return identical(ours, theirs)
    return close(ours, theirs)


def gradient_matches(ours: float, theirs: float) -> bool:
    """``matches``, but a zero gradient's sign is free (see the last test of this file)."""
    return matches(ours, theirs) or ours == theirs == 0.0


@pytest.mark.parametrize(("fn", "point"), [pytest.param(f, p, id=what) for what, f, p in EDGES])
def test_edge_matches_torch(fn, point):
    value, grads = engine_result(fn, point)  # never raises
    torch_value, torch_grads = torch_result(fn, point)
    assert matches(value, torch_value), f"value {value} vs torch {torch_value}"
    for i, (ours, theirs) in enumerate(zip(grads, torch_grads)):
        assert gradient_matches(ours, theirs), f"gradient {i}: {ours} vs torch {theirs}"


def test_a_first_gradient_of_minus_zero_is_stored_as_plus_zero_where_torch_keeps_it():
    # A known, accepted difference: a leaf's .grad starts at 0.0 (as after zero_grad), and
    # 0.0 + -0.0 is 0.0; PyTorch's .grad starts empty and keeps the first -0.0 as it is.
    # Every other comparison treats a zero gradient's sign as free (identical_gradient).
    _, (grad,) = engine_result(lambda x: x * -0.0, (2.0,))
    _, (torch_grad,) = torch_result(lambda x: x * -0.0, (2.0,))
    assert identical(torch_grad, -0.0)
    assert identical(grad, 0.0)
