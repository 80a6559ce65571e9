"""Every op against PyTorch float64 at hand-picked points: the value and every gradient.

Ops PyTorch computes with plain IEEE arithmetic (+ - * /, relu, sigmoid, abs, integer
powers) must agree bit for bit. exp, log, tanh, sqrt, fractional powers, c ** x and c / x
go through PyTorch's vectorised kernels, which may differ in the last bit or two, so they
are held to rel 1e-9 / abs 1e-12.

Each case is one function written once and run on both libraries: Values and tensors share
the operators and the methods ``exp log tanh sigmoid relu sqrt abs``.
"""

from __future__ import annotations

from functools import reduce
from operator import add, mul, pow, sub, truediv

import pytest

from engine import dot, vsum
from tests.torch_oracle import assert_matches_torch, import_torch, torch_dot

import_torch()  # every test here compares with PyTorch: without it this module is skipped

PAIRS = [(2.0, -3.0), (0.1, 0.2), (-1.5, 1.5), (7.25, 0.3), (1e200, 1e200), (-0.7, -4.0)]
REALS = [-3.5, -1.0, -0.3, 0.0, 0.1, 0.7, 1.9, 3.1, 12.0]
SIGMOID_POINTS = [-30.0, -3.0, -0.5, 0.0, 0.7, 5.0, 30.0]
POSITIVE = [0.04, 0.3, 1.0, 2.0, 7.5, 1e6]

EXACT = [
    # (name, fn, points): one point is a tuple of inputs
    ("a + b", lambda a, b: a + b, PAIRS),
    ("a - b", lambda a, b: a - b, PAIRS),
    ("a * b", lambda a, b: a * b, PAIRS),
    ("a / b", lambda a, b: a / b, PAIRS),
    ("x + 2.5", lambda x: x + 2.5, REALS),
    ("2.5 + x", lambda x: 2.5 + x, REALS),
    ("x - 2.5", lambda x: x - 2.5, REALS),
    ("2.5 - x", lambda x: 2.5 - x, REALS),
    ("x * 3", lambda x: x * 3, REALS),
    ("3 * x", lambda x: 3 * x, REALS),
    ("x / 4.5", lambda x: x / 4.5, REALS),
    ("-x", lambda x: -x, REALS),
    ("relu", lambda x: x.relu(), REALS),
    ("sigmoid", lambda x: x.sigmoid(), SIGMOID_POINTS),
    ("abs", lambda x: abs(x), REALS),
    ("x ** 2", lambda x: x ** 2, REALS),
    ("x ** 3", lambda x: x ** 3, REALS),
    ("x ** -1", lambda x: x ** -1, [x for x in REALS if x != 0]),
    ("x ** -2", lambda x: x ** -2, [x for x in REALS if x != 0]),
    ("x ** 0", lambda x: x ** 0, REALS),
    ("x ** 1", lambda x: x ** 1, REALS),
    ("x ** 2.0", lambda x: x ** 2.0, REALS),
    ("x ** 4", lambda x: x ** 4, REALS),  # past PyTorch's shortcuts: ieee.general_pow
    ("x ** 5", lambda x: x ** 5, REALS),
    ("x ** -3", lambda x: x ** -3, [x for x in REALS if x != 0]),
    ("a * b + a / b - a * a", lambda a, b: a * b + a / b - a * a, PAIRS[:4]),
]

CLOSE = [
    ("exp", lambda x: x.exp(), [-20.0, -2.0, 0.0, 0.5, 3.0, 20.0]),
    ("log", lambda x: x.log(), POSITIVE),
    ("tanh", lambda x: x.tanh(), [-9.0, -3.0, -0.2, 0.0, 0.2, 1.0, 9.0]),
    ("sqrt", lambda x: x.sqrt(), POSITIVE),
    ("x ** 0.5", lambda x: x ** 0.5, POSITIVE),
    ("x ** -0.5", lambda x: x ** -0.5, POSITIVE),
    ("x ** 1.5", lambda x: x ** 1.5, POSITIVE),
    ("x ** (1/3)", lambda x: x ** (1 / 3), POSITIVE),
    ("x ** -2.7", lambda x: x ** -2.7, POSITIVE),
    ("a ** b", lambda a, b: a ** b, [(2.0, 3.0), (0.5, -1.5), (3.0, 0.25), (7.5, 2.0)]),
    ("2 ** x", lambda x: 2 ** x, REALS),
    ("0.5 ** x", lambda x: 0.5 ** x, REALS),
    ("1.5 / x", lambda x: 1.5 / x, [x for x in REALS if x != 0]),
    ("-3 / x", lambda x: -3 / x, [x for x in REALS if x != 0]),
    ("tanh(a * b).exp().log()", lambda a, b: (a * b).tanh().exp().log(), PAIRS[:4]),
]


def _cases(table):
    return [
        pytest.param(fn, point if isinstance(point, tuple) else (point,), id=f"{name} at {point}")
        for name, fn, points in table
        for point in points
    ]


@pytest.mark.parametrize(("fn", "point"), _cases(EXACT))
def test_bit_identical_to_torch(fn, point):
    assert_matches_torch(fn, point, exact=True)


# With upstream gradient 1, g * a * b and g * (a * b) are the same float, so a derivative
# computed in another order than PyTorch's passes unnoticed; these upstreams tell them apart.
UPSTREAMS = [0.7, -1.3, 3.0e-3]


@pytest.mark.parametrize("upstream", UPSTREAMS)
@pytest.mark.parametrize(("fn", "point"), _cases(EXACT))
def test_bit_identical_to_torch_with_an_upstream_gradient_other_than_1(fn, point, upstream):
    assert_matches_torch(fn, point, exact=True, upstream=upstream)


@pytest.mark.parametrize(("fn", "point"), _cases(CLOSE))
def test_within_1e9_of_torch(fn, point):
    assert_matches_torch(fn, point, exact=False)


@pytest.mark.parametrize("c", [2, True, 0.5], ids=["int", "bool", "float"])
@pytest.mark.parametrize("op", [add, sub, mul, truediv, pow], ids=lambda op: op.__name__)
def test_python_numbers_of_every_kind_on_either_side(op, c):
    # ints and bools mix with a Value like the floats they stand for, on the left or the right
    # (PyTorch itself refuses some ops between a tensor and a bool, so it gets float(c))
    assert_matches_torch(lambda x: op(x, c), (1.7,), lambda x: op(x, float(c)), exact=False)
    assert_matches_torch(lambda x: op(c, x), (1.7,), lambda x: op(float(c), x), exact=False)


# ---- the fused ops: one node for a sum or a neuron, the same numbers as the chain of ops ----


POINT5 = (0.3, -1.2, 2.5, 0.8, -0.4)


def test_vsum_is_bit_identical_to_a_chain_of_additions():
    assert_matches_torch(lambda *xs: vsum([*xs, 1.5]), POINT5, lambda *xs: reduce(add, xs) + 1.5)


@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid"])
def test_dot_matches_a_neuron_built_from_elementary_ops(activation, with_bias):
    def ours(w1, w2, x1, x2, b):
        return dot([w1, w2], [x1, x2], b if with_bias else None, activation=activation)

    def theirs(w1, w2, x1, x2, b):
        return torch_dot([w1, w2], [x1, x2], b if with_bias else None, activation)

    for point in (POINT5, (-0.3, 1.2, 2.5, 0.8, -0.4)):  # the second turns relu off (with the bias)
        for upstream in (1.0, *UPSTREAMS):
            assert_matches_torch(ours, point, theirs, exact=activation != "tanh",
                                 upstream=upstream)


def test_dot_with_constant_inputs_gives_gradients_to_weights_and_bias_only():
    xs = [0.5, -2.0, 3.0]
    assert_matches_torch(lambda w1, w2, w3, b: dot([w1, w2, w3], xs, b), (0.1, 0.2, -0.3, 1.0),
                         lambda w1, w2, w3, b: torch_dot([w1, w2, w3], xs, b))
