"""The Value node: one float, the op that made it, and the derivative of that op.

Arithmetic on Values builds a graph as it computes. Every operation below has three parts
on one screen: the forward formula (computed on floats), an ``Op`` holding its name and its
derivative, and a docstring with both formulas. ``backward()`` (in ``autograd.py``) walks
the graph from the output back to the inputs and applies each op's derivative: the chain
rule, one node at a time.

How a node is stored, and why (this decides both speed and memory):

* ``data`` and ``grad`` are Python floats; ``label`` is a name for pictures and errors
  (kept with the node's op, see ``Op``).
* ``_op`` is a shared ``Op`` object, never a per-node closure. A closure that captures the
  node it belongs to would put every node in a reference cycle, and then graphs are freed
  only by Python's cycle collector, which then dominates the run time.
* ``_a`` and ``_b`` hold the inputs: two Values for a binary op, a Value and a number for
  an op with a constant (``x * 3`` keeps 3.0, not a leaf Value made from it), a tuple of
  Values and a tuple of numbers for n-ary ops (``vsum``, ``dot`` in ``fused.py``), or two
  tuples of Values for a neuron with Value inputs (its weights and bias; its inputs).
* ``_id`` counts creations. Backward visits nodes in decreasing ``_id``, the order
  PyTorch's engine uses, so that gradients are summed in the same order and agree to the bit.
  Each new op node is also appended to the tape (``tape.py``), the list backward reads.

Derivatives are written once and work for two kinds of numbers: with floats for an
ordinary ``backward()``, and with Values for ``grad(..., create_graph=True)``, where the
gradient itself becomes a graph that can be differentiated again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real
from typing import Any

from engine import ieee
from engine.mode import this_thread
from engine.tape import numbers as _numbers

Number = int | float
_new = object.__new__


class Op:
    """An operation's name, how many Value inputs it has, and its derivative rule.

    ``derivative(g, out, a, b)`` receives the upstream gradient ``g`` (d root / d out), the
    op's output ``out`` and its inputs, and returns what each Value input receives:
    ``g * d out / d input``. ``arity`` says how the inputs are stored:
    1 (``a`` a Value, ``b`` a constant or None), 2 (both Values), "n" (``a`` a tuple
    of Values, ``b`` a tuple of constants or None), or "n+n" (two tuples of Values, the
    inputs being ``a + b``: a neuron's weights and bias, then its inputs; each tuple is
    shared with the layer's other nodes, so a node costs no tuple of its own).

    ``zero_safe`` says that an upstream gradient of 0 gives contributions of 0 whenever the
    output is finite, so backward may skip the node (a trained network has many such
    nodes: every sample whose loss term is 0). It is False where a finite output can
    still have an infinite slope (1/x, log, sqrt, powers): there 0 * inf must give nan,
    as it does in PyTorch.

    ``label`` is the label of the node that holds this op. Nodes share their op, and its
    label is ""; a node that is given a label gets its own labelled copy (``labelled``).
    So a label costs nothing on the many nodes that never get one: a node is one field
    smaller, which makes every node faster to make and to collect.
    """

    __slots__ = ("arity", "constant_first", "derivative", "label", "name", "shared",
                 "zero_safe")

    def __init__(self, name: str, arity: int | str, derivative: Callable[..., Any],
                 zero_safe: bool = True, constant_first: bool = False) -> None:
        self.name = name
        self.arity = arity
        self.derivative = derivative
        self.zero_safe = zero_safe
        self.constant_first = constant_first  # c - x, c / x, c ** x: the constant on the left
        self.label = ""
        self.shared = self  # the op all unlabelled nodes share

    def labelled(self, label: str) -> Op:
        """This op for a node labelled ``label`` (the shared op itself for "")."""
        if not label:
            return self.shared
        copy = _new(Op)
        for field in Op.__slots__:
            setattr(copy, field, getattr(self, field))
        copy.label = label
        return copy

    def __repr__(self) -> str:
        return f"Op({self.name!r})"


LEAF = Op("", 0, lambda g, out, a, b: ())


# Derivative rules are written with these helpers so that one formula serves floats (an
# ordinary backward) and Values (create_graph=True, where the gradient is itself a graph).
def _data(x: Any) -> Any:
    return x.data if type(x) is Value else x


def _div(a: Any, b: Any) -> Any:
    return ieee.div(a, b) if type(a) is float and type(b) is float else a / b


def _pow(x: Any, e: Any) -> Any:
    if type(x) is float and type(e) is float:
        return ieee.pow(x, e)
    return x ** e


def _log(x: Any) -> Any:
    return ieee.log(x) if type(x) is float else x.log()


def _as_number(x: object) -> float | None:
    """The float value of a Python number (bool and int included), None for anything else."""
    if type(x) is float:
        return x
    if isinstance(x, Real):
        return float(x)
    return None


def _node(op: Op, data: float, a: Any, b: Any) -> Value:
    """A new Value computed by ``op`` from ``a`` (and ``b``); a parentless leaf under no_grad.

    For ops with one Value input ``a`` and a constant (or None) ``b``, and for n-ary ops
    (``a`` and ``b`` tuples, whose caller notes their inputs itself, see ``fused.py``);
    ``_node2`` is the same for two Value inputs. This runs once per op, so it is written
    for speed: the node is made without calling ``__init__``, and the tape's bookkeeping
    (``tape.py``) is one identity test per input.
    """
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out._id = number = next(_numbers)
    state = this_thread.state
    if state.grad_enabled:
        tape = state.tape
        out._op, out._a, out._b, out._tape = op, a, b, tape
        if op.arity == 1 and a._tape is not tape:
            tape.note_input(a)
        tape.ops.append(out)
        if number >= tape.stop:
            state.new_tape()
    else:
        out._op, out._a, out._b, out._tape = LEAF, None, None, None
    if state.anomaly_enabled and not math.isfinite(data):
        _report_forward_anomaly(op, data, a, b)
    return out


def _node2(op: Op, data: float, a: Value, b: Value) -> Value:
    """``_node`` for an op of two Value inputs (written out: + and * make most nodes)."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out._id = number = next(_numbers)
    state = this_thread.state
    if state.grad_enabled:
        tape = state.tape
        out._op, out._a, out._b, out._tape = op, a, b, tape
        if a._tape is not tape:
            tape.note_input(a)
        if b._tape is not tape:
            tape.note_input(b)
        tape.ops.append(out)
        if number >= tape.stop:
            state.new_tape()
    else:
        out._op, out._a, out._b, out._tape = LEAF, None, None, None
    if state.anomaly_enabled and not math.isfinite(data):
        _report_forward_anomaly(op, data, a, b)
    return out


def _report_forward_anomaly(op: Op, data: float, a: Any, b: Any) -> None:
    arity = op.arity
    inputs = (a,) if arity == 1 else (a, b) if arity == 2 else a if arity == "n" else a + b
    described = ", ".join(_describe(x) for x in inputs)
    const = f" with constant {b!r}" if op.arity == 1 and b is not None else ""
    raise FloatingPointError(f"{op.name!r} produced {data} from input(s) {described}{const}")


def _describe(x: Any) -> str:
    if type(x) is Value:
        return f"{x.label!r}={x.data}" if x.label else f"{x.data}"
    return repr(x)


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

    __slots__ = ("_a", "_b", "_id", "_op", "_tape", "data", "grad")

    data: float
    grad: float

    def __init__(self, data: Number, label: str = "") -> None:
        number = _as_number(data)
        if number is None:
            hint = " (use .detach() for a new leaf with its data)" if type(data) is Value else ""
            raise TypeError(f"Value() takes a real number, not {type(data).__name__}{hint}")
        self.data = number
        self.grad = 0.0
        self._op, self._a, self._b = LEAF, None, None
        if label != "":
            self.label = label  # a labelled copy of LEAF (a TypeError if not a str)
        self._id = next(_numbers)
        self._tape = None  # no tape knows it yet; the first op that uses it notes it

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
        arity = self._op.arity
        if arity == 2:
            return (self._a, self._b)
        if arity == 1:
            return (self._a,)
        if arity == "n":
            return self._a
        if arity == "n+n":
            return self._a + self._b
        return ()

    @property
    def constant(self) -> float | tuple[float, ...] | None:
        """The number folded into this node's op (3.0 in ``x * 3``), None if there is none."""
        return self._b if self._op.arity in (1, "n") else None

    @property
    def constant_first(self) -> bool:
        """True when the folded constant is the left operand: ``3 - x``, ``3 / x``, ``3 ** x``."""
        return self._op.constant_first

    @property
    def is_leaf(self) -> bool:
        """True for Values made directly (and for results computed under ``no_grad``)."""
        return self._op.shared is LEAF

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

    # ---- addition and subtraction ----------------------------------------------------------

    def __add__(self, other: Value | Number) -> Value:
        """a + b.   d/da = 1,  d/db = 1."""
        if type(other) is Value:
            return _node2(Value._ADD, self.data + other.data, self, other)
        c = _as_number(other)
        if c is None:
            return NotImplemented
        return _node(Value._ADD_CONST, self.data + c, self, c)

    _ADD = Op("+", 2, lambda g, out, a, b: (g, g))
    _ADD_CONST = Op("+", 1, lambda g, out, a, c: g)

    def __radd__(self, other: Number) -> Value:
        """c + a, the same as a + c (IEEE addition commutes exactly)."""
        return self.__add__(other)

    def __sub__(self, other: Value | Number) -> Value:
        """a - b.   d/da = 1,  d/db = -1."""
        if type(other) is Value:
            return _node2(Value._SUB, self.data - other.data, self, other)
        c = _as_number(other)
        if c is None:
            return NotImplemented
        return _node(Value._SUB_CONST, self.data - c, self, c)

    _SUB = Op("-", 2, lambda g, out, a, b: (g, -g))
    _SUB_CONST = Op("-", 1, lambda g, out, a, c: g)

    def __rsub__(self, other: Number) -> Value:
        """c - a.   d/da = -1."""
        c = _as_number(other)
        if c is None:
            return NotImplemented
        return _node(Value._RSUB_CONST, c - self.data, self, c)

    _RSUB_CONST = Op("-", 1, lambda g, out, a, c: -g, constant_first=True)

    def __neg__(self) -> Value:
        """-a.   d/da = -1."""
        return _node(Value._NEG, -self.data, self, None)

    _NEG = Op("neg", 1, lambda g, out, a, c: -g)

    # ---- multiplication and division ------------------------------------------------------

    def __mul__(self, other: Value | Number) -> Value:
        """a * b.   d/da = b,  d/db = a."""
        if type(other) is Value:
            return _node2(Value._MUL, self.data * other.data, self, other)
        c = _as_number(other)
        if c is None:
            return NotImplemented
        return _node(Value._MUL_CONST, self.data * c, self, c)

    _MUL = Op("*", 2, lambda g, out, a, b: (g * b, g * a))
    _MUL_CONST = Op("*", 1, lambda g, out, a, c: g * c)

    def __rmul__(self, other: Number) -> Value:
        """c * a, the same as a * c."""
        return self.__mul__(other)

    def __truediv__(self, other: Value | Number) -> Value:
        """a / b.   d/da = 1/b,  d/db = -a/b**2, computed as -g * ((a/b) / b) like PyTorch.

        Division is its own op (not a * b**-1, which rounds differently). b = 0 gives
        +-inf, and 0/0 gives nan, as IEEE arithmetic says.
        """
        if type(other) is Value:
            return _node2(Value._DIV, ieee.div(self.data, other.data), self, other)
        c = _as_number(other)
        if c is None:
            return NotImplemented
        return _node(Value._DIV_CONST, ieee.div(self.data, c), self, c)

    _DIV = Op("/", 2, lambda g, out, a, b: (_div(g, b), -g * _div(out, b)), zero_safe=False)
    _DIV_CONST = Op("/", 1, lambda g, out, a, c: _div(g, c), zero_safe=False)

    def __rtruediv__(self, other: Number) -> Value:
        """c / a.   d/da = -c/a**2, computed as -g * ((c/a) / a)."""
        c = _as_number(other)
        if c is None:
            return NotImplemented
        return _node(Value._RDIV_CONST, ieee.div(c, self.data), self, c)

    _RDIV_CONST = Op("/", 1, lambda g, out, a, c: -g * _div(out, a), zero_safe=False,
                     constant_first=True)

    # ---- powers ----------------------------------------------------------------------------

    def __pow__(self, other: Value | Number) -> Value:
        """a ** e.

        Constant e:  d/da = e * a**(e-1)  (0 when e == 0), with PyTorch's shortcuts
        (x*x for e = 2, sqrt for 0.5, ...; see ``ieee.pow``).
        Value b:     d/da = b * a**(b-1),  d/db = a**b * ln(a)  (0 where a == 0 and b >= 0).
        A negative base to a fractional power is nan, never a complex number.
        """
        if type(other) is Value:
            return _node2(Value._POW, ieee.general_pow(self.data, other.data), self, other)
        e = _as_number(other)
        if e is None:
            return NotImplemented
        return _node(Value._POW_CONST, ieee.pow(self.data, e), self, e)

    _POW_CONST = Op(
        "**",
        1,
        lambda g, out, a, e: 0.0 if e == 0 else g * (e * _pow(a, e - 1.0)),
        zero_safe=False,
    )
    _POW = Op(
        "**",
        2,
        lambda g, out, a, b: (
            0.0 if _data(b) == 0 else g * (b * _pow(a, b - 1.0)),
            0.0 if _data(a) == 0 and _data(b) >= 0 else g * (out * _log(a)),
        ),
        zero_safe=False,
    )

    def __rpow__(self, other: Number) -> Value:
        """c ** a.   d/da = c**a * ln(c)  (0 where c == 0 and a >= 0)."""
        c = _as_number(other)
        if c is None:
            return NotImplemented
        return _node(Value._RPOW_CONST, ieee.general_pow(c, self.data), self, c)

    _RPOW_CONST = Op(
        "**",
        1,
        lambda g, out, a, c: 0.0 if c == 0 and _data(a) >= 0 else g * (out * ieee.log(c)),
        zero_safe=False,
        constant_first=True,
    )

    def sqrt(self) -> Value:
        """sqrt(a).   d/da = 1 / (2 sqrt(a)); inf at 0, nan below 0."""
        return _node(Value._SQRT, ieee.sqrt(self.data), self, None)

    _SQRT = Op("sqrt", 1, lambda g, out, a, c: _div(g, 2.0 * out), zero_safe=False)

    # ---- exp and log -------------------------------------------------------------------------

    def exp(self) -> Value:
        """e**a.   d/da = e**a (the output itself). inf past a = 709.78."""
        return _node(Value._EXP, ieee.exp(self.data), self, None)

    _EXP = Op("exp", 1, lambda g, out, a, c: g * out)

    def log(self) -> Value:
        """ln(a).   d/da = 1/a.  -inf at 0, nan below 0 (whose gradient is still 1/a)."""
        return _node(Value._LOG, ieee.log(self.data), self, None)

    _LOG = Op("log", 1, lambda g, out, a, c: _div(g, a), zero_safe=False)

    # ---- activations -------------------------------------------------------------------------

    def tanh(self) -> Value:
        """tanh(a) = (e**a - e**-a) / (e**a + e**-a).   d/da = 1 - tanh(a)**2."""
        return _node(Value._TANH, math.tanh(self.data), self, None)

    _TANH = Op("tanh", 1, lambda g, out, a, c: g * (1.0 - out * out))

    def sigmoid(self) -> Value:
        """s = 1 / (1 + e**-a).   d/da = s * (1 - s), computed as (g * (1 - s)) * s."""
        return _node(Value._SIGMOID, ieee.sigmoid(self.data), self, None)

    _SIGMOID = Op("sigmoid", 1, lambda g, out, a, c: (g * (1.0 - out)) * out)

    def relu(self) -> Value:
        """max(0, a).   d/da = 1 where a > 0, else 0 (0 at the kink; nan passes through as 1)."""
        x = self.data
        return _node(Value._RELU, 0.0 if x < 0 else x, self, None)

    _RELU = Op("relu", 1, lambda g, out, a, c: 0.0 if float(out) <= 0 else g)

    def __abs__(self) -> Value:
        """|a|.   d/da = sign(a): -1, 0 (at the kink, like PyTorch) or 1."""
        return _node(Value._ABS, math.fabs(self.data), self, None)

    _ABS = Op("abs", 1, lambda g, out, a, c: g * ieee.sign(_data(a)))

    def abs(self) -> Value:
        """|a|, the same as ``abs(a)``."""
        return self.__abs__()


def _leaf(data: float, grad: float, label: str) -> Value:
    """A leaf with this data, gradient and label: how a pickled leaf is rebuilt."""
    leaf = Value(data, label)
    leaf.grad = grad
    return leaf
