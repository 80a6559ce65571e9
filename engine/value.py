"""The Value node: one float, the op that made it, and the derivative of that op.

Arithmetic on Values builds a graph as it computes. Every operation below has three parts
on one screen: the forward formula (computed on floats), an ``Op`` holding its name and its
derivative (``op.py``), and a docstring with both formulas. ``backward()`` applies the chain
rule over the graph (``chain_rule.py`` shows how in a dozen lines). How nodes are stored,
and why, is told in ``op.py``; how they are made and recorded, in ``record.py``.
"""

from __future__ import annotations

import math
from typing import Any

from engine import ieee
from engine.op import (
    LEAF,
    Number,
    Op,
    as_number,
    cosine,
    data_of,
    divide,
    error_function,
    exponential,
    general_power,
    hyperbolic_tangent,
    logarithm,
    power,
    sine,
)


class Value:
    """A scalar in a computation graph: ``data`` (its value) and ``grad`` (d root / d self).

    >>> a = Value(2.0, label="a"); b = Value(-3.0, label="b")
    >>> y = (a * b + a ** 2).tanh()
    >>> y.backward()
    >>> round(a.grad, 6), round(b.grad, 6)
    (0.070651, 0.141302)

    ``data`` accepts Python numbers (ints and bools become floats); anything else is a
    TypeError naming its type. Leaves (Values you create) accumulate gradients across
    ``backward()`` calls, like PyTorch's ``.grad``; call ``zero_grad()`` to reset.
    """

    __slots__ = ("_a", "_b", "_number", "_op", "data", "grad")

    data: float
    grad: float

    def __init__(self, data: Number, label: str = "") -> None:
        number = as_number(data)
        if number is None:
            hint = " (use .detach() for a new leaf with its data)" if type(data) is Value else ""
            raise TypeError(f"Value() takes a real number, not {type(data).__name__}{hint}")
        self.data = number
        self.grad = 0.0
        self._op, self._a, self._b = LEAF, None, None
        if label != "":
            self.label = label  # a labelled copy of LEAF (a TypeError if not a str)
        record_leaf(self)  # its creation number, and the tape's list of leaves

    # ---- addition and subtraction ----------------------------------------------------------

    def __add__(self, other: Value | Number) -> Value:
        """a + b.   d/da = 1,  d/db = 1."""
        if type(other) is Value:
            return make_node2(Value._ADD, self.data + other.data, self, other)
        c = as_number(other)
        if c is None:
            return NotImplemented
        return make_node(Value._ADD_CONST, self.data + c, self, c)

    _ADD = Op("+", "binary", lambda g, out, a, b: (g, g))
    _ADD.source = ("{a} + {b}", "{g}", "{g}")
    _ADD_CONST = Op("+", "unary", lambda g, out, a, c: g)
    _ADD_CONST.source = ("{a} + {c}", "{g}")

    def __radd__(self, other: Number) -> Value:
        """c + a, the same as a + c (IEEE addition commutes exactly)."""
        return self.__add__(other)

    def __sub__(self, other: Value | Number) -> Value:
        """a - b.   d/da = 1,  d/db = -1."""
        if type(other) is Value:
            return make_node2(Value._SUB, self.data - other.data, self, other)
        c = as_number(other)
        if c is None:
            return NotImplemented
        return make_node(Value._SUB_CONST, self.data - c, self, c)

    _SUB = Op("-", "binary", lambda g, out, a, b: (g, -g))
    _SUB.source = ("{a} - {b}", "{g}", "-{g}")
    _SUB_CONST = Op("-", "unary", lambda g, out, a, c: g)
    _SUB_CONST.source = ("{a} - {c}", "{g}")

    def __rsub__(self, other: Number) -> Value:
        """c - a.   d/da = -1."""
        c = as_number(other)
        if c is None:
            return NotImplemented
        return make_node(Value._RSUB_CONST, c - self.data, self, c)

    _RSUB_CONST = Op("-", "unary", lambda g, out, a, c: -g, constant_first=True)
    _RSUB_CONST.source = ("{c} - {a}", "-{g}")

    def __neg__(self) -> Value:
        """-a.   d/da = -1."""
        return make_node(Value._NEG, -self.data, self, None)

    _NEG = Op("neg", "unary", lambda g, out, a, c: -g)
    _NEG.source = ("-{a}", "-{g}")

    # ---- multiplication and division ------------------------------------------------------

    def __mul__(self, other: Value | Number) -> Value:
        """a * b.   d/da = b,  d/db = a."""
        if type(other) is Value:
            return make_node2(Value._MUL, self.data * other.data, self, other)
        c = as_number(other)
        if c is None:
            return NotImplemented
        return make_node(Value._MUL_CONST, self.data * c, self, c)

    _MUL = Op("*", "binary", lambda g, out, a, b: (g * b, g * a))
    _MUL.source = ("{a} * {b}", "{g} * {b}", "{g} * {a}")
    _MUL_CONST = Op("*", "unary", lambda g, out, a, c: g * c)
    _MUL_CONST.source = ("{a} * {c}", "{g} * {c}")

    def __rmul__(self, other: Number) -> Value:
        """c * a, the same as a * c."""
        return self.__mul__(other)

    def __truediv__(self, other: Value | Number) -> Value:
        """a / b.   d/da = 1/b,  d/db = -a/b**2, computed as -g * ((a/b) / b) like PyTorch.

        Division is its own op (not a * b**-1, which rounds differently). b = 0 gives
        +-inf, and 0/0 gives nan, as IEEE arithmetic says.
        """
        if type(other) is Value:
            return make_node2(Value._DIV, ieee.div(self.data, other.data), self, other)
        c = as_number(other)
        if c is None:
            return NotImplemented
        return make_node(Value._DIV_CONST, ieee.div(self.data, c), self, c)

    _DIV = Op("/", "binary", lambda g, out, a, b: (divide(g, b), -g * divide(out, b)), zero_safe=False)
    _DIV.source = ("div({a}, {b})", "div({g}, {b})", "-{g} * div({out}, {b})")
    _DIV_CONST = Op("/", "unary", lambda g, out, a, c: divide(g, c), zero_safe=False)
    _DIV_CONST.source = ("div({a}, {c})", "div({g}, {c})")

    def __rtruediv__(self, other: Number) -> Value:
        """c / a.   d/da = -c/a**2, computed as -g * ((c/a) / a)."""
        c = as_number(other)
        if c is None:
            return NotImplemented
        return make_node(Value._RDIV_CONST, ieee.div(c, self.data), self, c)

    _RDIV_CONST = Op("/", "unary", lambda g, out, a, c: -g * divide(out, a), zero_safe=False,
                     constant_first=True)
    _RDIV_CONST.source = ("div({c}, {a})", "-{g} * div({out}, {a})")

    # ---- powers ----------------------------------------------------------------------------

    def __pow__(self, other: Value | Number) -> Value:
        """a ** e.

        Constant e:  d/da = e * a**(e-1)  (0 when e == 0), with PyTorch's shortcuts
        (x*x for e = 2, sqrt for 0.5, ...; see ``ieee.pow``).
        Value b:     d/da = b * a**(b-1) (0 where b == 0, whatever the upstream gradient, nan
                     included), with a**(b-1) IEEE's pow and no shortcut, as PyTorch's
                     tensor powers;  d/db = a**b * ln(a) (the upstream gradient times 0
                     where a == 0 and b >= 0: a nan upstream stays nan). Both as in PyTorch.
        A negative base to a fractional power is nan, never a complex number.
        """
        if type(other) is Value:
            return make_node2(Value._POW, ieee.general_pow(self.data, other.data), self, other)
        e = as_number(other)
        if e is None:
            return NotImplemented
        return make_node(Value._POW_CONST, ieee.pow(self.data, e), self, e)

    _POW_CONST = Op(
        "**",
        "unary",
        lambda g, out, a, e: 0.0 if e == 0.0 else g * (e * power(a, e - 1.0)),
        zero_safe=False,
    )
    _POW_CONST.source = lambda e: pow_source(e)  # e - 1.0 and the e == 0 case, decided once
    _POW = Op(
        "**",
        "binary",
        lambda g, out, a, b: (
            0.0 if data_of(b) == 0.0 else g * (b * general_power(a, b - 1.0)),
            g * 0.0 if data_of(a) == 0.0 and data_of(b) >= 0.0 else g * (out * logarithm(a)),
        ),
        zero_safe=False,
    )
    _POW.source = ("general_pow({a}, {b})",
                  "0.0 if {b} == 0.0 else {g} * ({b} * general_pow({a}, {b} - 1.0))",
                  "{g} * 0.0 if {a} == 0.0 and {b} >= 0.0 else {g} * ({out} * log({a}))")

    def __rpow__(self, other: Number) -> Value:
        """c ** a.   d/da = c**a * ln(c)  (0 where c == 0 and a >= 0)."""
        c = as_number(other)
        if c is None:
            return NotImplemented
        return make_node(Value._RPOW_CONST, ieee.general_pow(c, self.data), self, c)

    _RPOW_CONST = Op(
        "**",
        "unary",
        lambda g, out, a, c: g * 0.0 if c == 0.0 and data_of(a) >= 0.0 else g * (out * ieee.log(c)),
        zero_safe=False,
        constant_first=True,
    )
    _RPOW_CONST.source = ("general_pow({c}, {a})",
                         "{g} * 0.0 if {c} == 0.0 and {a} >= 0.0 else {g} * ({out} * log({c}))")

    def sqrt(self) -> Value:
        """sqrt(a).   d/da = 1 / (2 sqrt(a)); inf at 0, nan below 0."""
        return make_node(Value._SQRT, ieee.sqrt(self.data), self, None)

    _SQRT = Op("sqrt", "unary", lambda g, out, a, c: divide(g, 2.0 * out), zero_safe=False)
    _SQRT.source = ("sqrt({a})", "div({g}, 2.0 * {out})")

    # ---- exp and log -------------------------------------------------------------------------

    def exp(self) -> Value:
        """e**a.   d/da = e**a (the output itself). inf past a = 709.78."""
        return make_node(Value._EXP, ieee.exp(self.data), self, None)

    _EXP = Op("exp", "unary", lambda g, out, a, c: g * out)
    _EXP.source = ("exp({a})", "{g} * {out}")

    def log(self) -> Value:
        """ln(a).   d/da = 1/a.  -inf at 0, nan below 0 (whose gradient is still 1/a)."""
        return make_node(Value._LOG, ieee.log(self.data), self, None)

    _LOG = Op("log", "unary", lambda g, out, a, c: divide(g, a), zero_safe=False)
    _LOG.source = ("log({a})", "div({g}, {a})")

    # ---- sin, cos and erf ------------------------------------------------------------------

    def sin(self) -> Value:
        """sin(a).   d/da = cos(a).  nan at +-inf."""
        return make_node(Value._SIN, ieee.sin(self.data), self, None)

    _SIN = Op("sin", "unary", lambda g, out, a, c: g * cosine(a))
    _SIN.source = ("sin({a})", "{g} * cos({a})")

    def cos(self) -> Value:
        """cos(a).   d/da = -sin(a).  nan at +-inf."""
        return make_node(Value._COS, ieee.cos(self.data), self, None)

    _COS = Op("cos", "unary", lambda g, out, a, c: g * -sine(a))
    _COS.source = ("cos({a})", "{g} * -sin({a})")

    def erf(self) -> Value:
        """erf(a) = 2/sqrt(pi) * integral from 0 to a of e**(-t**2) dt.
        d/da = 2/sqrt(pi) * e**(-a**2)."""
        return make_node(Value._ERF, math.erf(self.data), self, None)

    _ERF = Op("erf", "unary", lambda g, out, a, c: _TWO_OVER_SQRT_PI * exponential(-(a * a)) * g)
    _ERF.source = ("erf({a})", "TWO_OVER_SQRT_PI * exp(-({a} * {a})) * {g}")

    # ---- activations -------------------------------------------------------------------------

    def tanh(self) -> Value:
        """tanh(a) = (e**a - e**-a) / (e**a + e**-a).   d/da = 1 - tanh(a)**2."""
        return make_node(Value._TANH, math.tanh(self.data), self, None)

    _TANH = Op("tanh", "unary", lambda g, out, a, c: g * (1.0 - out * out))
    _TANH.source = ("tanh({a})", "{g} * (1.0 - {out} * {out})")

    def sigmoid(self) -> Value:
        """s = 1 / (1 + e**-a).   d/da = s * (1 - s), computed as (g * (1 - s)) * s."""
        return make_node(Value._SIGMOID, ieee.sigmoid(self.data), self, None)

    _SIGMOID = Op("sigmoid", "unary", lambda g, out, a, c: (g * (1.0 - out)) * out)
    _SIGMOID.source = ("sigmoid({a})", "({g} * (1.0 - {out})) * {out}")

    def relu(self) -> Value:
        """max(0, a).   d/da = 1 where a > 0, else 0 (0 at the kink; nan passes through as 1)."""
        x = self.data
        return make_node(Value._RELU, 0.0 if x < 0.0 else x, self, None)  # noqa: FURB136

    _RELU = Op("relu", "unary", lambda g, out, a, c: 0.0 if float(out) <= 0.0 else g)
    _RELU.source = ("0.0 if {a} < 0.0 else {a}", "0.0 if {out} <= 0.0 else {g}")

    def __abs__(self) -> Value:
        """|a|.   d/da = sign(a): -1, 0 (at the kink, like PyTorch) or 1."""
        return make_node(Value._ABS, math.fabs(self.data), self, None)

    _ABS = Op("abs", "unary", lambda g, out, a, c: g * ieee.sign(data_of(a)))
    _ABS.source = ("fabs({a})", "{g} * sign({a})")

    def abs(self) -> Value:
        """|a|, the same as ``abs(a)``."""
        return self.__abs__()

    def leaky_relu(self, negative_slope: float = 0.01) -> Value:
        """a where a > 0, else negative_slope * a.   d/da = 1 where a > 0, else negative_slope
        (the slope at 0 too, like PyTorch): a ReLU whose off side still passes a gradient."""
        s = _constant("negative_slope", negative_slope)
        return make_node(Value._LEAKY_RELU, ieee.leaky_relu(self.data, s), self, s)

    _LEAKY_RELU = Op("leaky_relu", "unary", lambda g, out, a, s: g if data_of(a) > 0.0 else g * s)
    _LEAKY_RELU.source = ("leaky_relu({a}, {c})", "{g} if {a} > 0.0 else {g} * {c}")

    def scale_by_sign(self, nonnegative: float, negative: float) -> Value:
        """a * nonnegative where a >= 0, else a * negative (nan takes the negative side).
        d/da = nonnegative where a >= 0, else negative.

        A piecewise-linear map whose branch is taken inside the op, so that a compiled
        program (``engine/program.py``) keeps the choice for every input instead of baking
        in the one its trace saw. The stable logistic loss is built from two of them:
        max(z, 0) - z t is ``z.scale_by_sign(1 - t, -t)`` and -|z| is
        ``z.scale_by_sign(-1.0, 1.0)`` (its slope at 0 is -1, where abs's would be 0).
        """
        c = (_constant("nonnegative", nonnegative), _constant("negative", negative))
        x = self.data
        return make_node(Value._SCALE_BY_SIGN, x * (c[0] if x >= 0.0 else c[1]), self, c)

    _SCALE_BY_SIGN = Op("scale_by_sign", "unary",
                        lambda g, out, a, c: g * (c[0] if data_of(a) >= 0.0 else c[1]))
    _SCALE_BY_SIGN.source = ("{a} * ({c[0]} if {a} >= 0.0 else {c[1]})",
                             "{g} * ({c[0]} if {a} >= 0.0 else {c[1]})")

    def elu(self, alpha: float = 1.0) -> Value:
        """a where a > 0, else alpha * (e**a - 1).   d/da = 1 where a > 0, else alpha * e**a.

        Smooth at 0 when alpha is 1; e**a - 1 is computed as ``expm1`` (exact near 0)."""
        c = _constant("alpha", alpha)
        return make_node(Value._ELU, ieee.elu(self.data, c), self, c)

    _ELU = Op("elu", "unary", lambda g, out, a, c: elu_derivative(g, a, c))
    _ELU.source = ("{a} if not {a} <= 0.0 else expm1({a}) * {c}",
                   "{g} if not {a} <= 0.0 else ({g} * {c}) * exp({a}) if {a} < 0.0 else {g} * {c}")

    def softplus(self, beta: float = 1.0, threshold: float = 20.0) -> Value:
        """ln(1 + e**(beta a)) / beta, a smooth ReLU; just a where beta * a > threshold
        (as PyTorch, where the two agree to float precision).
        d/da = z / (z + 1) with z = e**(beta a), 1 past the threshold."""
        c = (_constant("beta", beta), _constant("threshold", threshold))
        return make_node(Value._SOFTPLUS, ieee.softplus(self.data, *c), self, c)

    _SOFTPLUS = Op("softplus", "unary", lambda g, out, a, c: softplus_derivative(g, a, *c))
    _SOFTPLUS.source = ("{a} if {a} * {c[0]} > {c[1]} else log1p(exp({a} * {c[0]})) / {c[0]}",
                        "{g} if {a} * {c[0]} > {c[1]} else softplus_derivative({g}, {a}, {c[0]}, {c[1]})")

    def gelu(self, approximate: str = "none") -> Value:
        """a * Phi(a), Phi the standard normal CDF: 0.5 a (1 + erf(a / sqrt 2)).
        d/da = Phi(a) + a * phi(a), phi(a) = e**(-a**2 / 2) / sqrt(2 pi).

        ``approximate="tanh"``: 0.5 a (1 + tanh(sqrt(2/pi) (a + 0.044715 a**3))), PyTorch's
        other form, with its derivative."""
        if approximate not in ("none", "tanh"):
            raise ValueError(f"approximate must be 'none' or 'tanh', not {approximate!r}")
        if approximate == "tanh":
            return make_node(Value._GELU_TANH, ieee.gelu_tanh(self.data), self, None)
        return make_node(Value._GELU, ieee.gelu(self.data), self, None)

    _GELU = Op("gelu", "unary", lambda g, out, a, c: gelu_derivative(g, a))
    _GELU.source = ("gelu({a})", "gelu_derivative({g}, {a})")
    _GELU_TANH = Op("gelu(tanh)", "unary", lambda g, out, a, c: gelu_tanh_derivative(g, a))
    _GELU_TANH.source = ("gelu_tanh({a})", "gelu_tanh_derivative({g}, {a})")

    def clamp(self, min: float | None = None, max: float | None = None) -> Value:
        """a limited to [min, max] (either bound may be None).   d/da = 1 where
        min <= a <= max (at a bound too, like PyTorch), else 0; nan stays nan."""
        if min is None and max is None:
            raise ValueError("clamp() needs min or max (or both), not neither")
        lo = None if min is None else _constant("min", min)
        hi = None if max is None else _constant("max", max)
        x = self.data
        if not math.isnan(x):
            if lo is not None and x < lo:
                x = lo
            if hi is not None and x > hi:
                x = hi
        return make_node(Value._CLAMP, x, self, (lo, hi))

    _CLAMP = Op("clamp", "unary", lambda g, out, a, c: g if _inside(data_of(a), *c) else 0.0)
    _CLAMP.source = lambda c: clamp_source(*c)  # the bounds given decide its form

    # ---- what the graph looks like -------------------------------------------------------

    @property
    def label(self) -> str:
        """A name for pictures and error messages ("" by default); settable."""
        return self._op.label

    @label.setter
    def label(self, label: str) -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, not {type(label).__name__}")
        self._op = self._op.labelled(label)

    @property
    def op(self) -> str:
        """The name of the op that made this node ("" for a leaf)."""
        return self._op.name

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Value inputs of the op that made this node, in order, repeats kept: a*a -> (a, a)."""
        return self._op.inputs(self._a, self._b)

    @property
    def constant(self) -> tuple[float, ...]:
        """The numbers folded into this node's op, in order, as a tuple; ``()`` if none.

        ``(3.0,)`` for ``x * 3`` and ``3 - x``, ``(2.0, 0.5)`` for ``vsum([x, 2, 0.5])``, the
        data point for a neuron on numbers, the number inputs of a ``define_op``."""
        return self._op.constants(self._b)

    @property
    def constant_first(self) -> bool:
        """True when the folded constant is the left operand: ``3 - x``, ``3 / x``, ``3 ** x``."""
        return self._op.constant_first

    @property
    def is_leaf(self) -> bool:
        """True for Values made directly (and for results computed under ``no_grad``)."""
        return self._op.kind is LEAF.kind

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __float__(self) -> float:
        return self.data

    def __reduce__(self) -> tuple[Any, tuple[float, float, str]]:
        """Pickling (and ``copy``): a leaf travels as its data, gradient and label.

        An op node is refused, as in PyTorch: its graph would have to travel with it.
        """
        if not self.is_leaf:
            raise TypeError(
                f"cannot pickle or copy a Value computed by {self.op!r} (it has a graph "
                f"behind it); pickle value.detach(), or the leaves it was computed from")
        return _leaf, (self.data, self.grad, self.label)

    def detach(self) -> Value:
        """A new leaf with the same data and label and no history."""
        return Value(self.data, self.label)

    def zero_grad(self) -> None:
        """Reset this node's accumulated gradient to 0.0."""
        self.grad = 0.0

    def backward(self, grad: Number = 1.0) -> None:
        """Fill in ``.grad`` of every node this one depends on: d self / d node.

        Seeds this node with ``grad`` and applies the chain rule in reverse creation
        order. Intermediate nodes get fresh gradients on every call; leaves accumulate.
        """
        from engine.autograd import backward

        backward(self, grad)


# ---- the longer derivatives, and their constants -------------------------------------------

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_GELU_BETA = _TWO_OVER_SQRT_PI * ieee.SQRT1_2 * 0.5  # 1 / sqrt(2 pi): phi's factor


def _constant(name: str, value: object) -> float:
    number = as_number(value)
    if number is None:
        raise TypeError(f"{name} must be a real number, not {type(value).__name__}")
    return number


def literal(x: float) -> str:
    """Python source for the float x: a repr, parenthesized when negative; inf, nan by name."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0.0 else "(-inf)"
    text = repr(float(x))
    return f"({text})" if text.startswith("-") else text


def _inside(x: float, lo: float | None, hi: float | None) -> bool:
    return (lo is None or x >= lo) and (hi is None or x <= hi)


def pow_source(e: float) -> tuple[str, str]:
    """x ** e's source template (engine/program.py) for the exponent e: e - 1.0 worked out."""
    if e == 0.0:
        return "pow({a}, {c})", "0.0"
    return "pow({a}, {c})", f"{{g}} * ({{c}} * pow({{a}}, {literal(e - 1.0)}))"


def clamp_source(lo: float | None, hi: float | None) -> tuple[str, str]:
    """clamp's source template (engine/program.py) for the bounds it was given."""
    low, high = (None if x is None else literal(x) for x in (lo, hi))
    forward = "{a}" if low is None else f"{low} if {{a}} < {low} else {{a}}"
    if high is not None:
        forward = f"{high} if ({forward}) > {high} else ({forward})"
    inside = " and ".join([*([f"{{a}} >= {low}"] if low else []),
                           *([f"{{a}} <= {high}"] if high else [])])
    return forward, f"{{g}} if {inside} else 0.0"


def elu_derivative(g: Any, a: Any, alpha: float) -> Any:
    x = data_of(a)
    if not x <= 0.0:
        return g
    # At 0 the slope is alpha (the left side's), but its own derivative is the right
    # side's, 0: a constant there, as in PyTorch's double backward.
    return (g * alpha) * exponential(a) if x < 0.0 else g * alpha


def softplus_derivative(g: Any, a: Any, beta: float, threshold: float) -> Any:
    x = data_of(a)
    if x * beta > threshold:
        return g
    # Exactly at the threshold PyTorch's double backward already takes the linear side's
    # second derivative, 0: the slope is computed from the number, a constant.
    z = exponential(x * beta if x * beta == threshold else a * beta)
    return g * z / (z + 1.0)


def gelu_derivative(g: Any, a: Any) -> Any:
    cdf = 0.5 * (1.0 + error_function(a * ieee.SQRT1_2))
    pdf = exponential(a * a * -0.5) * _GELU_BETA
    return g * (cdf + a * pdf)


def gelu_tanh_derivative(g: Any, a: Any) -> Any:
    a_squared = a * a
    beta, kappa = ieee.GELU_TANH_BETA, ieee.GELU_TANH_KAPPA
    tanh_inner = hyperbolic_tangent(beta * (a + kappa * (a_squared * a)))
    left, right = 0.5 * a, 1.0 + tanh_inner
    inner_derivative = beta * (1.0 + 3.0 * kappa * a_squared)
    return g * (0.5 * right + left * (1.0 - tanh_inner * tanh_inner) * inner_derivative)


# ---- how a node is made: ``record.py``, which needs the class above ---------------------

from engine.record import make_node, make_node2, record_leaf


def _leaf(data: float, grad: float, label: str) -> Value:
    """A leaf with this data, gradient and label: how a pickled leaf is rebuilt."""
    leaf = Value(data, label)
    leaf.grad = grad
    return leaf
