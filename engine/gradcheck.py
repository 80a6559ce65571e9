"""Checking derivatives with finite differences: does backward() agree with the definition?

The derivative of f at x is the limit of (f(x + h) - f(x)) / h. Take h small but not zero
and you get an estimate that needs nothing but forward passes, so it is independent of
every derivative rule in ``value.py``. If the chain rule and each local derivative are
right, backward's answer and the estimate agree to within the estimate's error.

We use the **central** difference, as PyTorch's ``torch.autograd.gradcheck`` does:

    numeric_i = (f(.., x_i + eps, ..) - f(.., x_i - eps, ..)) / (2 eps)

Taylor's theorem says why: f(x +- eps) = f(x) +- eps f'(x) + eps**2/2 f''(x) +- eps**3/6 f'''(x)
+ ..., so the even terms cancel in the difference and

    numeric_i = f'(x) + eps**2/6 f'''(x) + ...       (error O(eps**2))

while the one-sided (f(x + eps) - f(x)) / eps keeps the eps/2 f''(x) term (error O(eps)).
Rounding adds about ulp(f) / eps, which is why eps cannot shrink without limit; with
float64 and eps = 1e-6 both errors are around 1e-10 for well-scaled functions.

Cost: 2 forward passes per input (2N for N inputs), against a single backward pass for all
N gradients. That is the whole reason backpropagation exists; here we pay it to check it.

Each input passes when |analytic - numeric| <= atol + rtol * |numeric| (PyTorch's
``allclose`` with numeric as the reference; defaults eps=1e-6, atol=1e-5, rtol=1e-3, which
suit float64). Near a kink (relu or abs at 0, closer than eps) the two sides of the
difference see different slopes and the check fails although the rule is right: check
such functions away from their kinks.

How small an error it can see: a derivative passes when it is within 1e-5 + 0.1% of the
central difference. So gradcheck catches a wrong rule (a missing factor, a sign, a term
forgotten), but not a rule that is off by less than 0.1%: tanh's derivative 0.05% too
large passes it. Errors of that size are what the bit-for-bit comparisons with PyTorch
in the tests are for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Real

from engine.mode import enable_grad, no_grad
from engine.value import Value

Inputs = Sequence[Value | float | int]


class GradcheckError(AssertionError):
    """backward() disagreed with central differences for at least one input.

    An ``AssertionError`` rather than PyTorch's ``RuntimeError``: a failed gradcheck is a
    failed check (pytest reports it as one, like ``numpy.testing.assert_allclose``), and it
    stays apart from the ``TypeError``/``ValueError`` that gradcheck raises for bad
    arguments, so ``except ValueError`` around a call never swallows a wrong derivative.
    The full result is in the ``result`` attribute.
    """

    def __init__(self, result: GradcheckResult) -> None:
        self.result = result
        failed = ", ".join(_name(row) for row in result.failures)
        super().__init__(f"gradcheck failed for {failed}\n{result}")


@dataclass(frozen=True)
class InputCheck:
    """One input's verdict: backward's gradient, the central difference, and their gap."""

    index: int
    label: str
    value: float
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    passed: bool


@dataclass(frozen=True)
class GradcheckResult:
    """Per-input rows and the settings used. True (as a bool) when every input passed."""

    inputs: tuple[InputCheck, ...]
    eps: float
    atol: float
    rtol: float

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self.inputs)

    @property
    def failures(self) -> tuple[InputCheck, ...]:
        return tuple(row for row in self.inputs if not row.passed)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        if self.passed:
            verdict = "passed"
        else:
            verdict = f"FAILED for {len(self.failures)} of {len(self.inputs)} inputs"
        criterion = f"|analytic - numeric| <= {self.atol:g} + {self.rtol:g} * |numeric|"
        header = _ROW.format("input", "value", "analytic", "numeric", "abs err", "rel err", "ok")
        lines = [f"gradcheck {verdict} (eps={self.eps:g}, {criterion})", header]
        for row in self.inputs:
            lines.append(_ROW.format(
                _name(row), f"{row.value:.6g}", f"{row.analytic:.10g}", f"{row.numeric:.10g}",
                f"{row.abs_error:.2e}", f"{row.rel_error:.2e}", "yes" if row.passed else "NO",
            ))
        return "\n".join(lines)

    __repr__ = __str__


_ROW = "{:<10}{:>13}{:>18}{:>18}{:>10}{:>10}  {}"


def _name(row: InputCheck) -> str:
    return f"[{row.index}] {row.label}" if row.label else f"[{row.index}]"


def gradcheck(
    fn: Callable[..., Value],
    inputs: Inputs,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> GradcheckResult:
    """Compare ``fn``'s backward() gradients with central differences at ``inputs``.

    ``fn(*values)`` takes one Value per input and returns a Value. ``inputs`` are numbers,
    or Values whose data (and label, for the report) is used; ``fn`` always receives fresh
    leaves, so the inputs' own ``.grad`` is left alone.

    For input i:  analytic_i = d fn / d x_i from ``backward()``,
    numeric_i = (fn(x_i + eps) - fn(x_i - eps)) / (2 eps)  (the others held fixed),
    passed_i  <=>  |analytic_i - numeric_i| <= atol + rtol * |numeric_i|.

    With the defaults (PyTorch's) an error below 1e-5 + 0.1% of the derivative goes unseen.

    Returns a ``GradcheckResult`` (a table when printed; true when all passed). When some
    input fails and ``raise_exception`` is true, raises ``GradcheckError`` listing them.

    >>> gradcheck(lambda a, b: (a * b).tanh(), [0.5, -1.5]).passed
    True
    """
    points, labels = _points(inputs)
    eps, atol, rtol = _positive(eps, "eps"), _non_negative(atol, "atol"), _non_negative(rtol, "rtol")
    _check_callable(fn)
    with enable_grad():
        leaves = [Value(x, label) for x, label in zip(points, labels)]
        _output(fn, leaves).backward()
    numeric = _central_differences(fn, points, eps)
    rows = tuple(
        _compare(i, label, x, leaf.grad, n, atol, rtol)
        for i, (label, x, leaf, n) in enumerate(zip(labels, points, leaves, numeric))
    )
    result = GradcheckResult(rows, eps, atol, rtol)
    if raise_exception and not result.passed:
        raise GradcheckError(result)
    return result


def numerical_grad(fn: Callable[..., Value], inputs: Inputs, eps: float = 1e-6) -> list[float]:
    """Central-difference estimates (fn(x_i + eps) - fn(x_i - eps)) / (2 eps), one per input.

    No backward pass and no graph: ``fn`` runs under ``no_grad`` on fresh leaves, twice per
    input. The error is O(eps**2) plus rounding of about ulp(fn) / eps.

    >>> [round(d, 6) for d in numerical_grad(lambda a, b: a * b, [3.0, 4.0])]
    [4.0, 3.0]
    """
    points, _ = _points(inputs)
    _check_callable(fn)
    return _central_differences(fn, points, _positive(eps, "eps"))


def _central_differences(fn: Callable[..., Value], points: list[float], eps: float) -> list[float]:
    estimates = []
    with no_grad():
        for i, x in enumerate(points):
            up = _output(fn, _leaves(points, i, x + eps)).data
            down = _output(fn, _leaves(points, i, x - eps)).data
            estimates.append((up - down) / (2.0 * eps))
    return estimates


def _leaves(points: list[float], i: int, x_i: float) -> list[Value]:
    """Fresh leaves at ``points`` with the i-th moved to ``x_i``."""
    return [Value(x_i if j == i else p) for j, p in enumerate(points)]


def _compare(index: int, label: str, x: float, analytic: float, numeric: float,
             atol: float, rtol: float) -> InputCheck:
    gap = abs(analytic - numeric)
    if gap == 0.0:  # also covers inf == inf, where inf - inf would be nan
        gap, relative = 0.0, 0.0
    else:
        relative = gap / abs(numeric) if numeric != 0.0 else math.inf
    passed = gap <= atol + rtol * abs(numeric)  # False whenever either side is nan
    return InputCheck(index, label, x, analytic, numeric, gap, relative, passed)


def _points(inputs: Inputs) -> tuple[list[float], list[str]]:
    """The float data and labels of ``inputs``, or a TypeError/ValueError naming the culprit."""
    if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence):
        hint = " (wrap a single input in a list)" if isinstance(inputs, (Real, Value)) else ""
        raise TypeError(
            f"inputs must be a list or tuple of numbers or Values, not {type(inputs).__name__}{hint}"
        )
    if not inputs:
        raise ValueError("inputs is empty: there is no derivative to check")
    points, labels = [], []
    for i, x in enumerate(inputs):
        if type(x) is Value:
            points.append(x.data)
            labels.append(x.label)
        elif isinstance(x, Real):
            points.append(float(x))
            labels.append("")
        else:
            raise TypeError(f"inputs[{i}] must be a number or a Value, not {type(x).__name__}")
        if not math.isfinite(points[-1]):
            raise ValueError(f"inputs[{i}] is {points[-1]}: finite differences need a finite point")
    return points, labels


def _positive(x: object, name: str) -> float:
    return _number_at_least(x, name, strictly_positive=True)


def _non_negative(x: object, name: str) -> float:
    return _number_at_least(x, name, strictly_positive=False)


def _number_at_least(x: object, name: str, strictly_positive: bool) -> float:
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{name} must be a real number, not {type(x).__name__}")
    value = float(x)
    too_small = value <= 0.0 if strictly_positive else value < 0.0
    if too_small or not math.isfinite(value):
        bound = "> 0" if strictly_positive else ">= 0"
        raise ValueError(f"{name} must be a finite number {bound}, not {x!r}")
    return value


def _check_callable(fn: object) -> None:
    if not callable(fn):
        raise TypeError(f"fn must be callable (Values -> Value), not {type(fn).__name__}")


def _output(fn: Callable[..., Value], leaves: list[Value]) -> Value:
    out = fn(*leaves)
    if type(out) is not Value:
        name = getattr(fn, "__name__", repr(fn))
        raise TypeError(f"fn {name} must return a Value, not {type(out).__name__}")
    return out
