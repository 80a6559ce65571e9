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
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - exercised only without hypothesis
    raise ImportError(
        "engine.testing needs hypothesis: pip install hypothesis "
        '(or, in a checkout, pip install -e ".[test]")'
    ) from error

import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from engine.fused import dot, vsum
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

#: Ops whose results and gradients match PyTorch float64 bit for bit (with integer exponents).
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

    def __post_init__(self) -> None:
        if not 1 <= len(self.leaves) <= len(string.ascii_lowercase):
            raise ValueError(f"an Expression needs 1 to 26 leaves, not {len(self.leaves)}")
        for k, step in enumerate(self.steps):
            rule = OPS.get(step.op)
            if rule is None:
                raise ValueError(f"step {k}: unknown op {step.op!r}; choose from {sorted(OPS)}")
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
    def names(self) -> list[str]:
        """a, b, c, ... for the leaves, then v0, v1, ... for the steps."""
        return list(string.ascii_lowercase[:len(self.leaves)]) + [
            f"v{k}" for k in range(len(self.steps))
        ]

    @property
    def exact(self) -> bool:
        """True when every step is bit-identical to PyTorch float64 (see ``OPS``)."""
        return all(OPS[s.op].exact(s.constant) for s in self.steps)

    @property
    def ops(self) -> set[str]:
        """The names of the ops the program uses."""
        return {s.op for s in self.steps}

    def evaluate(self, leaves: Sequence[Any], functions: Functions) -> list[Any]:
        """Every node, leaves first, computed from ``leaves`` with ``functions``.

        ``leaves`` stand for ``self.leaves`` (e.g. Values or tensors holding those numbers);
        ``functions`` maps each name in ``FUNCTION_NAMES`` to a callable (``dot`` takes
        weights, inputs and a bias that may be None). The output is the last node.
        """
        if len(leaves) != len(self.leaves):
            raise ValueError(f"expected {len(self.leaves)} leaves, got {len(leaves)}")
        missing = [name for name in FUNCTION_NAMES if name not in functions]
        if missing:
            raise ValueError(f"functions is missing {missing}")
        nodes = list(leaves)
        for step in self.steps:
            rule = OPS[step.op]
            nodes.append(rule.build(functions, [nodes[i] for i in step.args], step.constant))
        return nodes

    def __call__(self, *leaves: Value) -> Value:
        """The output built on chainrule Values."""
        return self.evaluate(leaves, VALUE_FUNCTIONS)[-1]

    def kink_inputs(self, nodes: Sequence[Any]) -> list[float]:
        """The values fed into relu and abs (where the derivative jumps), as floats."""
        return [float(nodes[i]) for s in self.steps if s.op in _KINKED for i in s.args]

    def __str__(self) -> str:
        names = self.names
        lines = [f"{name} = {x!r}" for name, x in zip(names, self.leaves)]
        for name, step in zip(names[len(self.leaves):], self.steps):
            args = [names[i] for i in step.args]
            text = OPS[step.op].template.format(*args, c=step.constant, args=_listing(step, args))
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
) -> st.SearchStrategy[Expression]:
    """A strategy for random Expressions: 1..max_leaves leaves, 1..max_steps steps, then
    additions that join every unused result into the output (so each step matters).

    ``ops`` restricts the op names (``EXACT_OPS`` with ``INTEGER_EXPONENTS`` gives graphs
    that match PyTorch bit for bit; ``SAFE_OPS`` graphs without nan or inf). ``exponents``
    are those of ``pow`` (a positive base), ``powers`` those of ``ipow`` (any base). Leaves
    default to floats in [-3, 3] and constants to floats in [-2, 2], zeros included, without
    subnormals (pass ``leaf_values`` to draw those).
    """
    ops = tuple(ops)
    unknown = [name for name in ops if name not in OPS]
    if unknown or not ops:
        raise ValueError(f"ops must be names from {sorted(OPS)}, not {unknown or 'nothing'}")
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
            steps.append(_draw_step(draw, op, node, exponents, powers, constants))
        return Expression(leaves, tuple(_join_unused(len(leaves), steps)))

    return draw_expression()


def _draw_step(draw: st.DrawFn, op: str, node: st.SearchStrategy[int],
               exponents: Sequence[float], powers: Sequence[float],
               constants: st.SearchStrategy[float]) -> Step:
    arity = OPS[op].arity
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
