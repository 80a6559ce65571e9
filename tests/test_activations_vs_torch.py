"""The activations a first course meets after ReLU, against PyTorch float64.

sin, cos, erf, leaky ReLU, ELU, softplus, GELU (exact and tanh) and clamp: value, gradient
(with an upstream gradient other than 1) and second derivative, within rel 1e-9, on
hand-picked points, on the edges (kinks, zeros of both signs, the softplus threshold,
+-inf, nan, GELU at +-40) and on hypothesis-drawn points.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import Value, define_op, grad
from tests.torch_oracle import close, requires_torch


def F():  # torch.nn.functional, imported only where torch is there
    from torch.nn import functional

    return functional


OPS = {
    "sin": (lambda v: v.sin(), lambda t: t.sin()),
    "cos": (lambda v: v.cos(), lambda t: t.cos()),
    "erf": (lambda v: v.erf(), lambda t: t.erf()),
    "leaky_relu": (lambda v: v.leaky_relu(), lambda t: F().leaky_relu(t)),
    "leaky_relu(0.2)": (lambda v: v.leaky_relu(0.2), lambda t: F().leaky_relu(t, 0.2)),
    "elu": (lambda v: v.elu(), lambda t: F().elu(t)),
    "elu(0.5)": (lambda v: v.elu(0.5), lambda t: F().elu(t, 0.5)),
    "softplus": (lambda v: v.softplus(), lambda t: F().softplus(t)),
    "softplus(2, 5)": (lambda v: v.softplus(2.0, 5.0), lambda t: F().softplus(t, 2.0, 5.0)),
    "gelu": (lambda v: v.gelu(), lambda t: F().gelu(t)),
    "gelu(tanh)": (lambda v: v.gelu("tanh"), lambda t: F().gelu(t, approximate="tanh")),
    "clamp(-1, 0.5)": (lambda v: v.clamp(-1.0, 0.5), lambda t: t.clamp(-1.0, 0.5)),
    "clamp(min=0)": (lambda v: v.clamp(min=0.0), lambda t: t.clamp(min=0.0)),
    "clamp(max=2)": (lambda v: v.clamp(max=2.0), lambda t: t.clamp(max=2.0)),
}
POINTS = [-3.0, -1.0, -0.3, -1e-10, 1e-9, 0.5, 1.7, 3.0]
EDGES = [-40.0, -1.0, -0.0, 0.0, 0.5, 2.0, 2.5, 20.0, 40.0, math.inf, -math.inf, math.nan]
UPSTREAM = -0.7


def ours(name: str, x: float) -> tuple[float, float, float]:
    """Value, d/dx times UPSTREAM, and d2/dx2 of the op at x."""
    return derivatives(OPS[name][0], x)


def derivatives(op, x: float) -> tuple[float, float, float]:
    """op(x), d op / dx times UPSTREAM from backward, and d2 op / dx2 from grad()."""
    v = Value(x)
    y = op(v)
    y.backward(UPSTREAM)
    w = Value(x)
    first, = grad(op(w), [w], create_graph=True)
    second, = grad(first, [w])
    return y.data, v.grad, second.data


def theirs(name: str, x: float) -> tuple[float, float, float]:
    import torch

    op = OPS[name][1]
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = op(t)
    first, = torch.autograd.grad(y, t, create_graph=True)
    second = torch.autograd.grad(first, t)[0].item() if first.requires_grad else 0.0
    return y.item(), first.item() * UPSTREAM, second


def agree(a: float, b: float, abs_tol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return close(a, b, rel=1e-9, abs_tol=abs_tol) or a == b


# Where a derivative is nearly 0, both sides are rounding noise: GELU's tanh form in its
# tails computes 1 - tanh**2 ~ 1e-8 from a tanh that PyTorch takes from another library,
# so its gradient may differ by 1e-16 absolute there (2e-9 relative at x = -5.4) and its
# second derivative by 1e-14. Hence an absolute allowance beside the relative 1e-9.
ABS_TOL = {"value": 1e-300, "gradient": 1e-15, "second derivative": 1e-12}


def check(name: str, x: float) -> None:
    for what, a, b in zip(ABS_TOL, ours(name, x), theirs(name, x)):
        assert agree(a, b, ABS_TOL[what]), f"{name} at {x!r}: {what} {a!r}, torch {b!r}"


@requires_torch
@pytest.mark.parametrize("x", POINTS + EDGES)
@pytest.mark.parametrize("name", sorted(OPS))
def test_each_activation_matches_torch_on_chosen_points_and_edges(name, x):
    check(name, x)


@requires_torch
@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(OPS)), x=st.floats(-30, 30, allow_subnormal=False))
def test_each_activation_matches_torch_on_drawn_points(name, x):
    check(name, x)


def test_the_signs_of_zero_follow_torch():
    assert math.copysign(1, Value(-0.0).leaky_relu().data) == -1  # -0.0 * slope
    assert math.copysign(1, Value(-0.0).elu().data) == -1  # expm1(-0.0)
    assert math.copysign(1, Value(-40.0).gelu().data) == -1  # -40 * 0.5 * 0


def test_softplus_is_linear_past_its_threshold_and_smooth_below():
    assert Value(20.5).softplus().data == 20.5
    assert Value(20.0).softplus().data == math.log1p(math.exp(20.0))


def test_clamp_passes_the_gradient_at_its_bounds_and_nan_through():
    for x, expected in [(-1.0, 1.0), (0.5, 1.0), (-1.5, 0.0), (0.75, 0.0)]:
        v = Value(x)
        v.clamp(-1.0, 0.5).backward()
        assert v.grad == expected
    assert math.isnan(Value(math.nan).clamp(0.0, 1.0).data)


@pytest.mark.parametrize("call, error", [
    (lambda v: v.clamp(), ValueError),
    (lambda v: v.clamp(min="0"), TypeError),
    (lambda v: v.leaky_relu(None), TypeError),
    (lambda v: v.elu("1"), TypeError),
    (lambda v: v.softplus(beta=[1]), TypeError),
    (lambda v: v.gelu("erf"), ValueError),
])
def test_bad_arguments_get_errors_that_name_them(call, error):
    with pytest.raises(error):
        call(Value(1.0))


def test_the_op_names_are_what_pictures_and_errors_show():
    x = Value(0.3)
    names = [x.sin().op, x.cos().op, x.erf().op, x.leaky_relu().op, x.elu().op,
             x.softplus().op, x.gelu().op, x.gelu("tanh").op, x.clamp(0, 1).op]
    assert names == ["sin", "cos", "erf", "leaky_relu", "elu", "softplus", "gelu",
                     "gelu(tanh)", "clamp"]


# The same ops made with define_op: hand-written rules are kept where they are faster,
# and the two must agree (the derivatives are the built-ins' own formulas).
_sin_op = define_op("sin", forward=math.sin, derivative=lambda x, out: _cos_op(x))
_cos_op = define_op("cos", forward=math.cos, derivative=lambda x, out: -_sin_op(x))
_elu_op = define_op("elu", forward=lambda x: x if x > 0 else math.expm1(x),
                    derivative=lambda x, out: 1.0 if float(x) > 0 else (
                        x.exp() if type(x) is Value else math.exp(x)))
TWINS = {"sin": (_sin_op, Value.sin), "cos": (_cos_op, Value.cos), "elu": (_elu_op, Value.elu)}


@pytest.mark.parametrize("name", sorted(TWINS))
@pytest.mark.parametrize("x", [-2.5, -0.4, 0.3, 1.9])
def test_an_op_made_with_define_op_agrees_with_the_built_in(name, x):
    made, built_in = TWINS[name]
    assert derivatives(made, x) == derivatives(built_in, x)


def largest_deviations(points: list[float]) -> dict[str, list[float]]:
    """Per op, the largest relative deviation from torch of value, gradient and second
    derivative over ``points`` (second derivatives under 1e-12 in size, which are rounding
    noise on both sides, are left out)."""
    worst = {}
    for name in sorted(OPS):
        row = [0.0, 0.0, 0.0]
        for x in points:
            for i, (a, b) in enumerate(zip(ours(name, x), theirs(name, x))):
                if a == b or (math.isnan(a) and math.isnan(b)) or (i == 2 and abs(b) < 1e-12):
                    continue
                row[i] = max(row[i], abs(a - b) / abs(b))
        worst[name] = row
    return worst


if __name__ == "__main__":  # python -m tests.test_activations_vs_torch: the table of deviations
    import random

    rng = random.Random(0)
    sample = ([rng.uniform(-30, 30) for _ in range(400)] + [rng.uniform(-3, 3) for _ in range(400)]
              + [-40.0, -1.0, -0.0, 0.0, 0.5, 2.0, 2.5, 20.0, 40.0])
    print(f"{'op':<16} {'value':>9} {'gradient':>9} {'2nd deriv':>9}   ({len(sample)} points)")
    for op_name, (value, gradient, second) in largest_deviations(sample).items():
        print(f"{op_name:<16} {value:9.1e} {gradient:9.1e} {second:9.1e}")
