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

Second derivatives (``gradgradcheck``) are checked the same way, one level up: the first
derivatives that ``grad(..., create_graph=True)`` builds are differentiated by
``backward()`` and compared with central differences of their own values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any, ClassVar

from engine.autograd import grad
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

    def __init__(self, result: GradcheckResult | GradgradcheckResult) -> None:
        self.result = result
        failed = ", ".join(row.name for row in result.failures)
        super().__init__(f"{result.check} failed for {failed}\n{result}")


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

    @property
    def name(self) -> str:
        """How the report names the input: its index, and its label when it has one."""
        return f"[{self.index}] {self.label}" if self.label else f"[{self.index}]"


class _Verdict:
    """What both results share: true when every row passed, and a table of the rows."""

    check: ClassVar[str]
    atol: float
    rtol: float
    eps: float

    def _rows(self) -> tuple[InputCheck | SecondDerivativeCheck, ...]:
        raise NotImplementedError

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self._rows())

    @property
    def failures(self) -> tuple[Any, ...]:
        return tuple(row for row in self._rows() if not row.passed)

    def __bool__(self) -> bool:
        return self.passed

    def _table(self, what: str, where: str, header: str, lines: list[str]) -> str:
        if self.passed:
            verdict = "passed"
        else:
            verdict = f"FAILED for {len(self.failures)} of {len(self._rows())} {what}"
        criterion = f"|analytic - numeric| <= {self.atol:g} + {self.rtol:g} * |numeric|"
        return "\n".join([f"{self.check} {verdict}{where} (eps={self.eps:g}, {criterion})",
                          header, *lines])


@dataclass(frozen=True)
class GradcheckResult(_Verdict):
    """Per-input rows and the settings used. True (as a bool) when every input passed."""

    inputs: tuple[InputCheck, ...]
    eps: float
    atol: float
    rtol: float
    check = "gradcheck"

    def _rows(self) -> tuple[InputCheck, ...]:
        return self.inputs

    def __str__(self) -> str:
        header = _ROW.format("input", "value", "analytic", "numeric", "abs err", "rel err", "ok")
        return self._table("inputs", "", header, [_ROW.format(
            row.name, f"{row.value:.6g}", f"{row.analytic:.10g}", f"{row.numeric:.10g}",
            f"{row.abs_error:.2e}", f"{row.rel_error:.2e}", "yes" if row.passed else "NO",
        ) for row in self.inputs])

    __repr__ = __str__


_ROW = "{:<10}{:>13}{:>18}{:>18}{:>10}{:>10}  {}"


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


# ---- second derivatives ------------------------------------------------------------------


@dataclass(frozen=True)
class SecondDerivativeCheck:
    """One entry of the Hessian: d/dx_j of (d fn / d x_i), analytic against numeric."""

    row: int  # i: the first derivative d fn / d x_i ...
    column: int  # j: ... differentiated again with respect to x_j
    labels: tuple[str, str]
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    passed: bool

    @property
    def name(self) -> str:
        """``[i,j]``, and the two inputs' labels when they have them."""
        where = f"[{self.row},{self.column}]"
        return f"{where} {','.join(self.labels)}" if all(self.labels) else where


@dataclass(frozen=True)
class GradgradcheckResult(_Verdict):
    """Every second derivative's row and the settings used. True when every entry passed."""

    entries: tuple[SecondDerivativeCheck, ...]
    point: tuple[float, ...]
    eps: float
    atol: float
    rtol: float
    check = "gradgradcheck"

    def _rows(self) -> tuple[SecondDerivativeCheck, ...]:
        return self.entries

    def __str__(self) -> str:
        at = " at (" + ", ".join(f"{x:.6g}" for x in self.point) + ")"
        header = _ENTRY.format("d2/dxi dxj", "analytic", "numeric", "abs err", "rel err", "ok")
        return self._table("second derivatives", at, header, [_ENTRY.format(
            entry.name, f"{entry.analytic:.10g}", f"{entry.numeric:.10g}",
            f"{entry.abs_error:.2e}", f"{entry.rel_error:.2e}", "yes" if entry.passed else "NO",
        ) for entry in self.entries])

    __repr__ = __str__


_ENTRY = "{:<12}{:>18}{:>18}{:>10}{:>10}  {}"


# gradgradcheck's defaults are gradcheck's, read off it so that the two never drift apart.
_DEFAULTS = gradcheck.__kwdefaults__


def gradgradcheck(
    fn: Callable[..., Value],
    inputs: Inputs,
    *,
    eps: float = _DEFAULTS["eps"],
    atol: float = _DEFAULTS["atol"],
    rtol: float = _DEFAULTS["rtol"],
    raise_exception: bool = True,
) -> GradgradcheckResult:
    """Compare ``fn``'s second derivatives with central differences of its first ones.

    The first derivatives g_i = d fn / d x_i are built by ``grad(fn(x), x,
    create_graph=True)``: Values with a graph of their own. Then, for every pair (i, j):

        analytic_ij = d g_i / d x_j        from ``g_i.backward()``,
        numeric_ij  = (g_i(x + eps e_j) - g_i(x - eps e_j)) / (2 eps),

    and the entry passes when |analytic_ij - numeric_ij| <= atol + rtol * |numeric_ij|
    (gradcheck's test and defaults). That is the whole Hessian, N**2 entries for N inputs.
    PyTorch's gradgradcheck checks one product of the Hessian with random vectors instead,
    which a tensor function needs; a scalar function of a few scalars can afford every
    entry, and a failing entry names the pair of inputs whose derivative is wrong.

    A derivative rule that returns a plain float where a Value was needed (``math.cos(x)``
    in an op's derivative) gives first derivatives that are right, so gradcheck passes,
    and second derivatives of 0, which fail here.

    Returns a ``GradgradcheckResult`` (a table when printed; true when all passed). When some
    entry fails and ``raise_exception`` is true, raises ``GradcheckError`` listing them.

    >>> gradgradcheck(lambda a, b: (a * b).tanh(), [0.5, -1.5]).passed
    True
    """
    points, labels = _points(inputs)
    eps, atol, rtol = _positive(eps, "eps"), _non_negative(atol, "atol"), _non_negative(rtol, "rtol")
    _check_callable(fn)
    n = len(points)
    with enable_grad():
        analytic = [_hessian_row(fn, points, labels, i) for i in range(n)]
        numeric = _second_differences(fn, points, eps)
    entries = []
    for i in range(n):
        for j in range(n):
            row = _compare(j, "", points[j], analytic[i][j], numeric[i][j], atol, rtol)
            entries.append(SecondDerivativeCheck(i, j, (labels[i], labels[j]), row.analytic,
                                                 row.numeric, row.abs_error, row.rel_error,
                                                 row.passed))
    result = GradgradcheckResult(tuple(entries), tuple(points), eps, atol, rtol)
    if raise_exception and not result.passed:
        raise GradcheckError(result)
    return result


def first_derivatives(fn: Callable[..., Value], points: Sequence[float]) -> list[float]:
    """d fn / d x_i at ``points`` for every i, as ``grad(..., create_graph=True)`` builds them.

    The values of the very graphs that ``gradgradcheck`` differentiates again.
    """
    with enable_grad():
        leaves = [Value(x) for x in points]
        return [g.data for g in grad(_output(fn, leaves), leaves, create_graph=True)]


def _hessian_row(fn: Callable[..., Value], points: list[float], labels: list[str],
                 i: int) -> list[float]:
    """d/dx_j of grad's d fn / d x_i, for every j, by ``backward()`` on fresh leaves."""
    leaves = [Value(x, label) for x, label in zip(points, labels)]
    first = grad(_output(fn, leaves), leaves, create_graph=True)[i]
    first.backward()
    return [leaf.grad for leaf in leaves]


def _second_differences(fn: Callable[..., Value], points: list[float],
                        eps: float) -> list[list[float]]:
    """numeric[i][j] = (g_i(x + eps e_j) - g_i(x - eps e_j)) / (2 eps), g = grad's derivatives."""
    columns = []
    for j, x in enumerate(points):
        up = first_derivatives(fn, [x + eps if k == j else p for k, p in enumerate(points)])
        down = first_derivatives(fn, [x - eps if k == j else p for k, p in enumerate(points)])
        columns.append([(u - d) / (2.0 * eps) for u, d in zip(up, down)])
    return [[columns[j][i] for j in range(len(points))] for i in range(len(points))]


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
