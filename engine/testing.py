"""Hypothesis strategies: random expression graphs to test an autograd engine with.

``expressions()`` draws an ``Expression``: a few input numbers (the leaves) and a short
program of steps, each applying one op to earlier nodes picked by index. Because any
earlier node can be picked, again and again, the graphs share sub-expressions: ``a * a``,
``a + a``, diamonds (two paths from one node to the output) and fan-out all occur, which is
where a chain rule that forgets to *add* contributions goes wrong.

Most ops are safe on their whole domain by construction, so few draws are wasted on a log
of a negative number: ``log(x*x + 1)``, ``a / (b*b + 1)``, ``sqrt(x*x + 0.1)``, powers of
the positive base ``x*x + 0.1``, ``exp(tanh(x))`` (``SAFE_OPS``). The others walk into
IEEE's edges on purpose, so that every branch of ``ieee.py`` is reached: ``x ** n`` for
any base and integer exponents beyond PyTorch's shortcuts (a negative base, 0 to a negative
power, overflow to +-inf), ``a ** b`` for any base (nan for a negative base), ``c ** x``
for a constant c that may be 0 or negative, ``x / c`` for a constant that may be 0, and
``exp(x)`` of anything (overflow to inf).
The relu and abs kinks remain; a test that compares with finite differences excludes
points near them with ``kink_inputs`` (and draws from ``SAFE_OPS``).

An Expression is only a description, so it can be built on anything that supports Python's
arithmetic operators: on chainrule Values with ``VALUE_FUNCTIONS``, on PyTorch tensors with
a mapping of torch functions that the test supplies (this module never imports torch).
``str(expression)`` prints the program; its ``repr`` is valid Python, so a failing case
can be pasted into ``@example(...)``.

    >>> from hypothesis import given
    >>> from engine import gradcheck
    >>> @given(expressions(ops=SAFE_OPS))  # finite differences need finite, smooth graphs
    ... def test_backward_matches_central_differences(expr):
    ...     gradcheck(expr, expr.leaves)
"""

from __future__ import annotations

try:
    import hypothesis
    from hypothesis import HealthCheck, Phase, assume, given, settings
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - exercised only without hypothesis
    raise ImportError(
        "engine.testing needs hypothesis: pip install hypothesis "
        '(or, in a checkout, pip install -e ".[test]")'
    ) from error

import math
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from engine.fused import dot, vsum
from engine.gradcheck import first_derivatives, gradcheck, gradgradcheck
from engine.mode import no_grad
from engine.value import Value

Functions = Mapping[str, Callable[..., Any]]

#: The named functions an Expression calls (the rest is Python's operators).
FUNCTION_NAMES = ("exp", "log", "tanh", "sigmoid", "relu", "sqrt", "vsum", "dot")

#: chainrule's own functions, for ``Expression.evaluate`` on Values.
VALUE_FUNCTIONS: Functions = {
    "exp": Value.exp,
    "log": Value.log,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "relu": Value.relu,
    "sqrt": Value.sqrt,
    "vsum": vsum,
    "dot": lambda w, x, bias: dot(w, x, bias),
}


class Step(NamedTuple):
    """One op applied to earlier nodes (indices: leaves first, then one node per step).

    ``constant`` is the number the op folds in: the c of ``c + x`` or the exponent of
    ``pow``. For ``dot`` the args are the weights, then as many inputs, then an optional
    bias (an odd count means there is a bias).
    """

    op: str
    args: tuple[int, ...]
    constant: float | None = None


@dataclass(frozen=True)
class CustomOp:
    """Your own function as an op of Expressions: a step ``name(x0, x1, ...)`` on ``arity``
    earlier nodes, computed by ``function`` (on Values; ``evaluate`` may be given another
    implementation under the same name, e.g. PyTorch's). ``template`` is how a step prints
    ({0}, {1} its arguments); by default ``name({0}, {1}, ...)``.
    """

    name: str
    function: Callable[..., Any]
    arity: int = 1
    template: str = ""

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name in OPS:
            raise ValueError(f"a custom op needs a new identifier as its name, not {self.name!r}"
                             f" (the built-in ops are {sorted(OPS)})")
        if not callable(self.function):
            raise TypeError(f"custom op {self.name!r}: function must be callable, not "
                            f"{type(self.function).__name__}")
        if isinstance(self.arity, bool) or not isinstance(self.arity, int) or self.arity < 1:
            raise ValueError(f"custom op {self.name!r}: arity must be an int >= 1, not "
                             f"{self.arity!r}")

    def printed(self, args: Sequence[str]) -> str:
        template = self.template or f"{self.name}({', '.join(f'{{{k}}}' for k in range(self.arity))})"
        return template.format(*args)


@dataclass(frozen=True)
class _Rule:
    arity: int  # 0 means any number of arguments
    template: str  # how the step prints: {0}, {1} are its arguments, {c} its constant
    build: Callable[[Functions, Sequence[Any], Any], Any]
    exact: Callable[[Any], bool]  # bit-identical to PyTorch float64 for this constant?


def _always(c: Any) -> bool:
    return True


def _never(c: Any) -> bool:
    return False


def _dot(f: Functions, x: Sequence[Any], c: Any) -> Any:
    n = len(x) // 2
    return f["dot"](list(x[:n]), list(x[n:2 * n]), x[2 * n] if len(x) % 2 else None)


#: Every op an Expression may use. Bit-exactness follows PyTorch's own kernels: + - * /,
#: relu, sigmoid, abs and integer powers agree to the last bit; exp, log, tanh, sqrt and
#: fractional powers to about an ulp; vsum and dot add contributions in a different order.
#: "Bit-exact" leaves one thing out everywhere: the sign of a gradient that is zero. A
#: leaf's .grad in PyTorch starts empty and keeps a first -0.0 as it is; chainrule's is a
#: number from the start, so a zero gradient may be 0.0 where PyTorch has -0.0 (x**2 at
#: x = -0.0 gives 0.0 here; tests/test_edge_cases.py pins it, DESIGN calls it a nicety).
OPS: Mapping[str, _Rule] = {
    "add": _Rule(2, "{0} + {1}", lambda f, x, c: x[0] + x[1], _always),
    "sub": _Rule(2, "{0} - {1}", lambda f, x, c: x[0] - x[1], _always),
    "mul": _Rule(2, "{0} * {1}", lambda f, x, c: x[0] * x[1], _always),
    "div": _Rule(2, "{0} / ({1}*{1} + 1)", lambda f, x, c: x[0] / (x[1] * x[1] + 1), _always),
    "neg": _Rule(1, "-{0}", lambda f, x, c: -x[0], _always),
    "radd": _Rule(1, "{c} + {0}", lambda f, x, c: c + x[0], _always),
    "rsub": _Rule(1, "{c} - {0}", lambda f, x, c: c - x[0], _always),
    "rmul": _Rule(1, "{c} * {0}", lambda f, x, c: c * x[0], _always),
    "subc": _Rule(1, "{0} - {c}", lambda f, x, c: x[0] - c, _always),
    "divc": _Rule(1, "{0} / {c}", lambda f, x, c: x[0] / c, _always),
    "rdiv": _Rule(1, "{c} / ({0}*{0} + 1)", lambda f, x, c: c / (x[0] * x[0] + 1), _never),
    "pow": _Rule(1, "({0}*{0} + 0.1) ** {c}", lambda f, x, c: (x[0] * x[0] + 0.1) ** c,
                 lambda c: float(c).is_integer()),
    "vpow": _Rule(2, "({0}*{0} + 1) ** tanh({1})",
                  lambda f, x, c: (x[0] * x[0] + 1) ** f["tanh"](x[1]), _never),
    "ipow": _Rule(1, "{0} ** {c}", lambda f, x, c: x[0] ** c, lambda c: float(c).is_integer()),
    "anypow": _Rule(2, "{0} ** {1}", lambda f, x, c: x[0] ** x[1], _never),
    "rpow": _Rule(1, "{c} ** {0}", lambda f, x, c: c ** x[0], _never),
    "exp": _Rule(1, "exp(tanh({0}))", lambda f, x, c: f["exp"](f["tanh"](x[0])), _never),
    "anyexp": _Rule(1, "exp({0})", lambda f, x, c: f["exp"](x[0]), _never),
    "log": _Rule(1, "log({0}*{0} + 1)", lambda f, x, c: f["log"](x[0] * x[0] + 1), _never),
    "sqrt": _Rule(1, "sqrt({0}*{0} + 0.1)", lambda f, x, c: f["sqrt"](x[0] * x[0] + 0.1),
                  _never),
    "tanh": _Rule(1, "tanh({0})", lambda f, x, c: f["tanh"](x[0]), _never),
    "sigmoid": _Rule(1, "sigmoid({0})", lambda f, x, c: f["sigmoid"](x[0]), _always),
    "relu": _Rule(1, "relu({0})", lambda f, x, c: f["relu"](x[0]), _always),
    "abs": _Rule(1, "abs({0})", lambda f, x, c: abs(x[0]), _always),
    "vsum": _Rule(0, "vsum({args})", lambda f, x, c: f["vsum"](list(x)), _never),
    "dot": _Rule(0, "dot({args})", _dot, _never),
}

#: Ops whose results and gradients match PyTorch float64 bit for bit (with integer
#: exponents), up to the sign of a zero gradient (see ``OPS``).
EXACT_OPS = tuple(name for name in OPS if OPS[name].exact(2))
#: Ops that give finite, smooth results everywhere but at the relu and abs kinks.
SAFE_OPS = tuple(name for name in OPS
                 if name not in ("divc", "ipow", "anypow", "rpow", "anyexp"))
#: The exponents ``pow`` draws from: PyTorch's shortcuts (see ``ieee.pow``) and others,
#: which go to ``ieee.general_pow``; INTEGER_EXPONENTS keep a graph bit-exact.
EXPONENTS = (2, 3, -1, 0.5, -2, -0.5, 0, 1, 1.5, -3, 4, 1 / 3, -2.7)
INTEGER_EXPONENTS = (2, 3, -1, -2, 0, 1, -3, 4)
#: The exponents ``ipow`` (any base) draws from: with a large enough base the odd ones
#: overflow to -inf, and 0 to a negative one is +-inf depending on the sign of the zero.
POWERS = (2, 3, -1, -2, -3, -4, 4, 5, 1001)
_KINKED = ("relu", "abs")


@dataclass(frozen=True)
class Expression:
    """Leaf values and a program of steps; node i is leaf i, then step i - len(leaves).

    The output is the last node. Build it with ``evaluate`` (any number type) or call it on
    chainrule Values directly: ``expr(*values)`` returns the output Value, so
    ``gradcheck(expr, expr.leaves)`` checks it.
    """

    leaves: tuple[float, ...]
    steps: tuple[Step, ...]
    custom_ops: tuple[CustomOp, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= len(self.leaves) <= len(string.ascii_lowercase):
            raise ValueError(f"an Expression needs 1 to 26 leaves, not {len(self.leaves)}")
        custom = self._custom
        for k, step in enumerate(self.steps):
            rule = OPS.get(step.op) or custom.get(step.op)
            if rule is None:
                raise ValueError(f"step {k}: unknown op {step.op!r}; choose from "
                                 f"{sorted([*OPS, *custom])}")
            if (rule.arity and len(step.args) != rule.arity) or not step.args:
                raise ValueError(f"step {k}: {step.op} takes {rule.arity or 'some'} "
                                 f"arguments, not {len(step.args)}")
            if step.op == "dot" and len(step.args) < 2:
                raise ValueError(f"step {k}: dot needs at least one weight and one input")
            available = len(self.leaves) + k
            if any(not 0 <= i < available for i in step.args):
                raise ValueError(f"step {k}: arguments {step.args} must be earlier nodes "
                                 f"(0..{available - 1})")

    @property
    def _custom(self) -> dict[str, CustomOp]:
        return {op.name: op for op in self.custom_ops}

    @property
    def names(self) -> list[str]:
        """a, b, c, ... for the leaves, then v0, v1, ... for the steps."""
        return list(string.ascii_lowercase[:len(self.leaves)]) + [
            f"v{k}" for k in range(len(self.steps))
        ]

    @property
    def exact(self) -> bool:
        """True when every step is bit-identical to PyTorch float64 (see ``OPS``), up to the
        sign of a zero gradient."""
        return all(s.op in OPS and OPS[s.op].exact(s.constant) for s in self.steps)

    @property
    def ops(self) -> set[str]:
        """The names of the ops the program uses."""
        return {s.op for s in self.steps}

    def evaluate(self, leaves: Sequence[Any], functions: Functions) -> list[Any]:
        """Every node, leaves first, computed from ``leaves`` with ``functions``.

        ``leaves`` stand for ``self.leaves`` (e.g. Values or tensors holding those numbers);
        ``functions`` maps each name in ``FUNCTION_NAMES`` to a callable (``dot`` takes
        weights, inputs and a bias that may be None), and may map a custom op's name to
        another implementation of it (by default its ``function``). The output is the last
        node.
        """
        if len(leaves) != len(self.leaves):
            raise ValueError(f"expected {len(self.leaves)} leaves, got {len(leaves)}")
        missing = [name for name in FUNCTION_NAMES if name not in functions]
        if missing:
            raise ValueError(f"functions is missing {missing}")
        custom = self._custom
        nodes = list(leaves)
        for step in self.steps:
            args = [nodes[i] for i in step.args]
            if step.op in custom:
                nodes.append(functions.get(step.op, custom[step.op].function)(*args))
            else:
                nodes.append(OPS[step.op].build(functions, args, step.constant))
        return nodes

    def __call__(self, *leaves: Value) -> Value:
        """The output built on chainrule Values."""
        return self.evaluate(leaves, VALUE_FUNCTIONS)[-1]

    def kink_inputs(self, nodes: Sequence[Any]) -> list[float]:
        """The values fed into relu and abs (where the derivative jumps), as floats."""
        return [float(nodes[i]) for s in self.steps if s.op in _KINKED for i in s.args]

    def __str__(self) -> str:
        names, custom = self.names, self._custom
        lines = [f"{name} = {x!r}" for name, x in zip(names, self.leaves)]
        for name, step in zip(names[len(self.leaves):], self.steps):
            args = [names[i] for i in step.args]
            if step.op in custom:
                text = custom[step.op].printed(args)
            else:
                text = OPS[step.op].template.format(*args, c=step.constant,
                                                    args=_listing(step, args))
            lines.append(f"{name} = {text}")
        return "\n".join(lines) + f"\noutput: {names[-1]}"


def _listing(step: Step, args: list[str]) -> str:
    """The argument list of an n-ary step: ``a, b, c`` or ``[w1, w2], [x1, x2], bias``."""
    if step.op != "dot":
        return ", ".join(args)
    n = len(args) // 2
    listing = f"[{', '.join(args[:n])}], [{', '.join(args[n:2 * n])}]"
    return listing + (f", {args[-1]}" if len(args) % 2 else "")


def expressions(
    *,
    max_leaves: int = 4,
    max_steps: int = 8,
    ops: Iterable[str] = tuple(OPS),
    exponents: Sequence[float] = EXPONENTS,
    powers: Sequence[float] = POWERS,
    leaf_values: st.SearchStrategy[float] | None = None,
    constants: st.SearchStrategy[float] | None = None,
    custom_ops: Sequence[CustomOp] = (),
) -> st.SearchStrategy[Expression]:
    """A strategy for random Expressions: 1..max_leaves leaves, 1..max_steps steps, then
    additions that join every unused result into the output (so each step matters).

    ``ops`` restricts the op names (``EXACT_OPS`` with ``INTEGER_EXPONENTS`` gives graphs
    that match PyTorch bit for bit; ``SAFE_OPS`` graphs without nan or inf). ``exponents``
    are those of ``pow`` (a positive base), ``powers`` those of ``ipow`` (any base). Leaves
    default to floats in [-3, 3] and constants to floats in [-2, 2], zeros included, without
    subnormals (pass ``leaf_values`` to draw those).

    ``custom_ops`` adds your own functions (``CustomOp``) to the ops drawn from; name one
    in ``ops`` too, several times, to draw it more often (``ops`` is sampled uniformly).
    """
    custom_ops = tuple(custom_ops)
    arities = {name: rule.arity for name, rule in OPS.items()}
    arities.update((op.name, op.arity) for op in custom_ops)
    ops = tuple(ops)
    ops += tuple(op.name for op in custom_ops if op.name not in ops)
    unknown = [name for name in ops if name not in arities]
    if unknown or not ops:
        raise ValueError(f"ops must be names from {sorted(arities)}, not {unknown or 'nothing'}")
    if max_leaves < 1 or max_steps < 1:
        raise ValueError(f"max_leaves and max_steps must be >= 1, not {max_leaves}, {max_steps}")
    if leaf_values is None:
        leaf_values = st.floats(-3.0, 3.0, allow_subnormal=False)
    if constants is None:
        constants = st.floats(-2.0, 2.0, allow_subnormal=False)

    @st.composite
    def draw_expression(draw: st.DrawFn) -> Expression:
        leaves = tuple(draw(st.lists(leaf_values, min_size=1, max_size=max_leaves)))
        steps: list[Step] = []
        for _ in range(draw(st.integers(1, max_steps))):
            node = st.integers(0, len(leaves) + len(steps) - 1)
            op = draw(st.sampled_from(ops))
            steps.append(_draw_step(draw, op, arities[op], node, exponents, powers, constants))
        return Expression(leaves, tuple(_join_unused(len(leaves), steps)), custom_ops)

    return draw_expression()


def _draw_step(draw: st.DrawFn, op: str, arity: int, node: st.SearchStrategy[int],
               exponents: Sequence[float], powers: Sequence[float],
               constants: st.SearchStrategy[float]) -> Step:
    if op == "vsum":
        return Step(op, tuple(draw(st.lists(node, min_size=2, max_size=4))))
    if op == "dot":
        n = draw(st.integers(1, 3))
        bias = draw(st.lists(node, max_size=1))
        return Step(op, tuple(draw(st.lists(node, min_size=2 * n, max_size=2 * n))) + tuple(bias))
    args = tuple(draw(node) for _ in range(arity))
    if op == "pow":
        return Step(op, args, draw(st.sampled_from(exponents)))
    if op == "ipow":
        return Step(op, args, draw(st.sampled_from(powers)))
    if op in ("radd", "rsub", "rmul", "subc", "divc", "rdiv", "rpow"):
        return Step(op, args, draw(constants))  # hypothesis draws 0.0 and -0.0 often
    return Step(op, args)


def _join_unused(n_leaves: int, steps: list[Step]) -> list[Step]:
    """``steps`` plus additions that sum every step result no later step uses."""
    used = {i for step in steps for i in step.args}
    unused = [n_leaves + k for k in range(len(steps)) if n_leaves + k not in used]
    total = unused[0]
    for i in unused[1:]:
        steps.append(Step("add", (total, i)))
        total = n_leaves + len(steps) - 1
    return steps


# ---- check_gradients: property-test an op in one call -----------------------------------

#: The ops ``check_gradients`` builds expressions with around the op it checks: smooth
#: everywhere (no relu or abs), so a kink found is the checked op's own.
SMOOTH_OPS = tuple(name for name in SAFE_OPS if name not in _KINKED)
_EPS = 1e-6  # gradcheck's default step, also the step of the one-sided differences


@dataclass(frozen=True)
class GradientsChecked:
    """What ``check_gradients`` compared: at how many points and in how many expressions
    the derivatives agreed, and how many points it skipped at a kink."""

    op: str
    points: int
    expressions: int
    kinks: int
    second_order: bool

    def __str__(self) -> str:
        orders = "first and second derivatives" if self.second_order else "derivatives"
        return (f"{self.op}: {orders} agree with central differences at {self.points} points "
                f"and in {self.expressions} expressions ({self.kinks} skipped at a kink)")


def check_gradients(
    fn: Callable[..., Value],
    n_inputs: int,
    *,
    low: float = -3.0,
    high: float = 3.0,
    examples: int = 100,
    second_order: bool = True,
    seed: int | None = 0,
) -> GradientsChecked:
    """Property-test an op's derivatives: ``gradcheck`` (and ``gradgradcheck``) everywhere.

    ``fn`` takes ``n_inputs`` Values and returns a Value: an op made by ``define_op``, a
    method such as ``Value.tanh``, or any function of Values. Hypothesis draws ``examples``
    points in [low, high]^n (anywhere, near 0, near each bound, and large magnitudes when
    the bounds are large), and at each one runs

        gradcheck(fn, point)            backward()  vs  central differences of fn
        gradgradcheck(fn, point)        grad(create_graph=True), then backward()  vs
                                        central differences of the first derivatives

    Then it does the same for ``examples`` random expressions (``expressions()`` over
    ``SMOOTH_OPS``) in which ``fn`` is one of the ops, on shared sub-expressions (its input
    or its output feeds more than one step), so the chain rule around it is checked too.
    There each input of ``fn`` is ``mid + half * tanh(v / half)`` of a node v, which keeps
    it inside (low, high) while letting gradients through; the failure message prints it.

    A point where a check fails is skipped as a kink (relu at 0) when the one-sided
    differences there, (f(x) - f(x - eps)) / eps and (f(x + eps) - f(x)) / eps, disagree
    (beyond gradcheck's tolerance) and the analytic derivative lies between them. Points
    are drawn at least 2e-6 inside the bounds, so every finite difference stays in
    [low, high]: choose bounds clear of where fn or its derivative blow up (log near 0).

    On a failure, hypothesis shrinks the case and an ``AssertionError`` shows the simplest
    failing point or expression with gradcheck's table. ``seed`` makes the run repeatable
    (None: a new random run each call). Runs inside or outside pytest::

        check_gradients(define_op("sin", math.sin, lambda x, out: cos(x)), 1)
    """
    if isinstance(n_inputs, bool) or not isinstance(n_inputs, int) or n_inputs < 1:
        raise ValueError(f"n_inputs must be an int >= 1, not {n_inputs!r}")
    if not callable(fn):
        raise TypeError(f"fn must be callable (Values -> Value), not {type(fn).__name__}")
    if not (math.isfinite(low) and math.isfinite(high) and high - low > 8 * _EPS):
        raise ValueError(f"low and high must be finite with low < high, not {low!r}, {high!r}")
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 1:
        raise ValueError(f"examples must be an int >= 1, not {examples!r}")
    name = _name_of(fn)
    tally = {"points": 0, "expressions": 0, "kinks": 0}

    def check(f: Callable[..., Value], point: Sequence[float], where: str) -> None:
        kink = _only_kinks(f, point, _fn_value, gradcheck, f"check_gradients({name}): "
                           f"backward() disagrees with central differences {where}")
        if not kink and second_order:
            kink = _only_kinks(
                f, point, _first_derivative, gradgradcheck,
                f"check_gradients({name}): second derivatives (grad(create_graph=True), then "
                f"backward()) disagree with central differences of the first {where}")
        if kink:
            tally["kinks"] += 1
        assume(not kink)  # a kink tests no derivative: hypothesis draws another case
        tally["expressions" if where.startswith("in") else "points"] += 1

    margin = 2 * _EPS
    coordinate = _coordinates(low + margin, high - margin)

    @given(st.tuples(*[coordinate] * n_inputs))
    def at_points(point: tuple[float, ...]) -> None:
        check(fn, point, f"at {point}")

    wrapped = CustomOp("checked", _kept_inside(fn, low, high), n_inputs,
                       _kept_inside_template(name, n_inputs, low, high))
    drawn = expressions(max_leaves=3, max_steps=6, custom_ops=(wrapped,),
                        ops=(*SMOOTH_OPS, *["checked"] * (len(SMOOTH_OPS) // 2)))

    @given(drawn.filter(lambda e: _shares_checked(e, "checked")))
    def in_expressions(expr: Expression) -> None:
        nodes = expr.evaluate([Value(x) for x in expr.leaves], VALUE_FUNCTIONS)
        # finite differences lose digits to rounding in proportion to the values' size
        assume(all(math.isfinite(v.data) and abs(v.data) <= 1e4 for v in nodes))
        # Where an exponent is exactly 0, d(a**b)/da is 0 by a mask (PyTorch's, which keeps
        # 0 * 0**-1 from being nan at a = 0), so its derivative in b is 0 there too, while
        # finite differences see the unmasked b * a**(b-1): not this op's error to report.
        assume(not any(s.op == "vpow" and nodes[s.args[1]].data == 0 for s in expr.steps))
        check(expr, expr.leaves, f"in this expression:\n{expr}")

    run = settings(max_examples=examples, deadline=None, database=None,
                   phases=(Phase.explicit, Phase.generate, Phase.shrink),
                   suppress_health_check=[HealthCheck.too_slow], report_multiple_bugs=False)
    for test in (at_points, in_expressions):
        test = run(test)
        if seed is not None:
            test = hypothesis.seed(seed)(test)
        test()
    return GradientsChecked(name, tally["points"], tally["expressions"], tally["kinks"],
                            second_order)


def _only_kinks(fn: Callable[..., Value], point: Sequence[float],
                differentiated: Callable[..., float], checker: Callable[..., Any],
                message: str) -> bool:
    """Run ``checker`` (gradcheck or gradgradcheck) at ``point``: False when it passes, True
    when every failure is at a kink, and an AssertionError for any other failure."""
    result = checker(fn, list(point), raise_exception=False)
    if result.passed:
        return False
    for row in result.failures:
        # gradcheck's rows are per input; gradgradcheck's are d/dx_column of d fn / d x_row
        i = getattr(row, "row", None)
        along = row.column if i is not None else row.index
        if not _at_a_kink(lambda p, i=i: differentiated(fn, p, i), point, along, row.analytic,
                          result.atol, result.rtol):
            raise AssertionError(f"{message}\n{result}")
    return True


def _at_a_kink(f: Callable[[list[float]], float], point: Sequence[float], j: int,
               analytic: float, atol: float, rtol: float) -> bool:
    """Is f not differentiable within 2 eps of the point along input j? Two signs of it:

    * a jump (f itself is discontinuous, as the derivative of relu or abs is at 0): the
      difference f(x + h) - f(x - h) does not shrink with h; smooth or kinked, halving h
      at least nearly halves it (a ratio of 1/2 to 2/3), across a jump it stays (ratio 1);
    * a kink: the one-sided differences (f(x) - f(x - h)) / h and (f(x + h) - f(x)) / h
      disagree (beyond gradcheck's tolerance) and ``analytic`` lies between them. Those
      differences are off by h/2 * f'' (the curvature of the smooth parts), so ``analytic``
      may also reach their second-order versions 2 d(h) - d(2h), which cancel that term.
    """
    def at(k: int) -> float:
        moved = list(point)
        moved[j] += k * _EPS
        return f(moved)

    f0, down, up, down2, up2 = at(0), at(-1), at(1), at(-2), at(2)
    left, right = (f0 - down) / _EPS, (up - f0) / _EPS
    estimates = [left, right, 2 * left - (f0 - down2) / (2 * _EPS),
                 2 * right - (up2 - f0) / (2 * _EPS)]
    if not all(math.isfinite(d) for d in estimates):
        return False
    tolerance = atol + rtol * max(abs(d) for d in estimates)
    if abs(up - down) / (2 * _EPS) > tolerance and abs(up - down) > 0.75 * abs(up2 - down2):
        return True
    return (abs(left - right) > tolerance
            and min(estimates) - tolerance <= analytic <= max(estimates) + tolerance)


def _fn_value(fn: Callable[..., Value], point: list[float], i: None) -> float:
    with no_grad():
        return fn(*[Value(x) for x in point]).data


def _first_derivative(fn: Callable[..., Value], point: list[float], i: int) -> float:
    return first_derivatives(fn, point)[i]


def _coordinates(low: float, high: float) -> st.SearchStrategy[float]:
    """Floats in [low, high]: anywhere, near each bound, near 0, and of large magnitude."""
    near = 1e-3 * (high - low)
    parts = [st.floats(low, high, allow_subnormal=False),
             st.floats(low, low + near, allow_subnormal=False),
             st.floats(high - near, high, allow_subnormal=False)]
    if low < 0.0 < high:
        parts.append(st.floats(max(low, -near), min(high, near), allow_subnormal=False))
    large = max(abs(low), abs(high)) / 2
    if large > 1.0 and high > large:
        parts.append(st.floats(max(low, large), high, allow_subnormal=False))
    if large > 1.0 and low < -large:
        parts.append(st.floats(low, min(high, -large), allow_subnormal=False))
    return st.one_of(parts)


def _kept_inside(fn: Callable[..., Value], low: float, high: float) -> Callable[..., Value]:
    """fn with each input v replaced by mid + half * tanh(v / half), inside (low, high)."""
    mid, half = (low + high) / 2, (high - low) / 2
    return lambda *nodes: fn(*[mid + half * (v / half).tanh() for v in nodes])


def _kept_inside_template(name: str, arity: int, low: float, high: float) -> str:
    mid, half = (low + high) / 2, (high - low) / 2
    shift = f"{mid:g} + " if mid else ""
    return f"{name}({', '.join(f'{shift}{half:g} * tanh({{{k}}} / {half:g})' for k in range(arity))})"


def _shares_checked(expr: Expression, op: str) -> bool:
    """Does ``op`` occur on a shared sub-expression: its argument, or its result, used twice?"""
    uses = [i for step in expr.steps for i in step.args]
    first = len(expr.leaves)
    return any(step.op == op and (any(uses.count(i) >= 2 for i in step.args)
                                  or uses.count(first + k) >= 2)
               for k, step in enumerate(expr.steps))


def _name_of(fn: Callable[..., Value]) -> str:
    name = getattr(fn, "name", None) or getattr(fn, "__name__", "")
    return name if isinstance(name, str) and name.isidentifier() else "fn"
