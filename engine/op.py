"""An op: its name, how its node stores the inputs, and its derivative rule.

Every Value made by an operation points to one shared ``Op`` (``value.py`` declares one
under each operator, beside its forward). How a node is stored, and why (this decides
both speed and memory):

* ``data`` and ``grad`` are Python floats; ``label`` is a name for pictures and errors
  (kept with the node's op, see ``Op``).
* ``_op`` is a shared ``Op`` object, never a per-node closure. A closure that captures the
  node it belongs to would put every node in a reference cycle, and then graphs are freed
  only by Python's cycle collector, which then dominates the run time.
* ``_a`` and ``_b`` hold the inputs: two Values for a binary op, a Value and a number for
  an op with a constant (``x * 3`` keeps 3.0, not a leaf Value made from it), a tuple of
  Values and a tuple of numbers for n-ary ops (``vsum``, ``dot`` in ``fused.py``), or two
  tuples of Values for a neuron with Value inputs (its weights and bias; its inputs).
* ``_number`` counts creations. Backward visits nodes in decreasing ``_number``, the order
  PyTorch's engine uses, so that gradients are summed in the same order and agree to the bit.
* A recorded node's ``_number`` also tells which tape knows it (``tape.py``); 0 marks a leaf
  made under ``no_grad``, which no tape knows.

Derivatives are written once and work for two kinds of numbers: with floats for an
ordinary ``backward()``, and with Values for ``grad(..., create_graph=True)``, where the
gradient itself becomes a graph that can be differentiated again. The helpers at the end
(``divide``, ``power``, ``logarithm``, ``data_of``) are what makes one formula serve both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from enum import Enum
from numbers import Real
from typing import Any

from engine import ieee

Number = int | float
_new = object.__new__


class Kind(Enum):
    """How a node keeps its inputs in its fields ``_a`` and ``_b`` (each kind told in ``Op``).

    Code that depends on the kind dispatches on it in one place per concern: ``Op.inputs``
    (the parents), ``Op.constants`` (the numbers folded in), ``Op.contributions`` (the rule
    applied), ``engine/record.py`` (making a node and noting its inputs) and the fast
    backward (``autograd.py``). tests/test_value.py checks that each handles every kind.
    """

    __hash__ = object.__hash__  # members are unique: hashing by identity keeps table look-ups quick

    LEAF = "leaf"
    UNARY = "unary"
    BINARY = "binary"
    NARY = "nary"
    NEURON = "neuron"
    CONSTANT = "constant"


class Op:
    """An operation's name, the kind of node it makes, and its derivative rule.

    ``derivative(g, out, a, b)`` receives the upstream gradient ``g`` (d root / d out), the
    op's output ``out`` and its inputs, and returns what each Value input receives:
    ``g * d out / d input``. ``kind`` (a ``Kind``, or its name) says how a node keeps its
    inputs in ``a`` and ``b``:

    * "leaf": none (a Value made directly, or computed under no_grad);
    * "unary": ``a`` a Value, ``b`` a constant or None (``x * 3``, ``x.exp()``);
    * "binary": ``a`` and ``b`` both Values (``x * y``);
    * "nary": ``a`` a tuple of Values, ``b`` a tuple of numbers or None (``vsum``: the
      numbers among its terms; a neuron on numbers: its weights and bias, then the data
      point; ``define_op``: every input in order, None where a Value goes);
    * "neuron": two tuples of Values, the inputs being ``a + b`` (a neuron's weights and
      bias, then its inputs; each tuple is shared with the layer's other nodes, so a node
      costs no tuple of its own);
    * "constant": none, though made by an op (an off ReLU neuron: it sends nothing back).

    ``zero_safe`` says that an upstream gradient of 0 gives contributions of 0 whenever the
    output is finite, so backward may skip the node (a trained network has many such
    nodes: every sample whose loss term is 0). It is False where a finite output can
    still have an infinite slope (1/x, log, sqrt, powers): there 0 * inf must give nan,
    as it does in PyTorch.

    ``add_into`` (optional, for "nary" and "neuron" ops) is the same rule written for speed:
    ``add_into(g, out, a, a_numbers, b, b_numbers)`` adds each contribution straight into
    its input's ``.grad``, in the order ``derivative`` lists them, instead of returning a
    list (``a_numbers`` and ``b_numbers`` are the inputs' data; for a "nary" op ``b`` is
    its constants). ``backward()`` uses it where it exists and anomaly detection is off.

    ``source`` (optional) is the op's forward and rule as Python source, for the programs
    ``engine.trace`` writes (``program.py``): a tuple of ``str.format`` templates, or a
    function of the op's constant giving one. Unary and binary ops give the forward in
    ``{a}``, ``{b}``, ``{c}`` (the constant), then each input's term in ``{g}``, ``{out}``
    and the same names; n-ary ops give act(``{z}``), ``gz`` and the condition under which
    the node sends nothing back (``value.py`` and ``fused.py`` set one beside each op).

    ``label`` is the label of the node that holds this op. Nodes share their op, and its
    label is ""; a node that is given a label gets its own labelled copy (``labelled``).
    So a label costs nothing on the many nodes that never get one: a node is one field
    smaller, which makes every node faster to make and to collect.
    """

    __slots__ = ("add_into", "constant_first", "derivative", "kept", "kind", "label", "name",
                 "shared", "source", "zero_safe")

    def __init__(self, name: str, kind: Kind | str, derivative: Callable[..., Any],
                 zero_safe: bool = True, constant_first: bool = False,
                 add_into: Callable[..., None] | None = None) -> None:
        try:
            self.kind = Kind(kind)
        except ValueError:
            raise ValueError(f"kind must be one of {[k.value for k in Kind]}, not {kind!r}") from None
        self.name = name
        self.derivative = derivative
        self.add_into = add_into
        self.zero_safe = zero_safe
        self.constant_first = constant_first  # c - x, c / x, c ** x: the constant on the left
        self.label = ""
        self.kept: list[Any] | None = None  # see ``keeping``
        self.shared = self  # the op all unlabelled nodes share
        self.source: Any = None  # its forward and derivative as Python source (engine/program.py)

    def labelled(self, label: str) -> Op:
        """This op for a node labelled ``label`` (the shared op itself for "")."""
        if not label and self.kept is None:
            return self.shared
        copy = self._copy()
        copy.label = label
        return copy

    def keeping(self, nodes: list[Any]) -> Op:
        """This op for a node that also holds ``nodes``, older op nodes, oldest first.

        Freeing a graph then never recurses deeply. A node freed by reference counting
        frees its inputs, which free theirs, and so on: a chain a million nodes deep would
        go a million C calls deep, which CPython defers past a depth but Pyodide's small
        stack does not survive. When the tape closes, its newest node (usually the root a
        backward started from) is given the tape's other op nodes (``tape.Tape.close``);
        when that node goes, the list goes newest first, and each node it frees finds its
        inputs still held by the list: one level deep each. A copy per tape, nothing per node.
        """
        copy = self._copy()
        copy.kept = nodes
        return copy

    def _copy(self) -> Op:
        copy = _new(Op)
        for field in Op.__slots__:
            setattr(copy, field, getattr(self, field))
        return copy

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    def inputs(self, a: Any, b: Any) -> tuple[Any, ...]:
        """The Value inputs of a node of this op, from its fields ``a`` and ``b``, in order."""
        return _INPUTS[self.kind](a, b)

    def constants(self, b: Any) -> tuple[float, ...]:
        """The numbers folded into a node of this op, from its field ``b``, in order (``()``
        if none): ``(3.0,)`` for ``x * 3``, ``(2.0, 0.5)`` for ``vsum([x, 2, 0.5])``, the data
        point for a neuron on numbers, the number inputs of a ``define_op``, the bounds
        given to ``clamp``."""
        return _CONSTANTS[self.kind](b)

    def contributions(self, g: Any, node: Any, on_values: bool = False) -> Sequence[Any]:
        """This op's rule at ``node``: what each parent receives when ``node``'s gradient is g.

        On floats (the nodes' numbers) for ``backward``; on Values (``on_values``: the nodes
        themselves, so the result is a graph) for ``grad(..., create_graph=True)``.
        """
        kind, a, b = self.kind, node._a, node._b
        if kind not in _NUMBERS:  # a leaf, or an op node without inputs: nothing to send
            return ()
        out: Any = node
        if not on_values:
            out = node.data
            a, b = _NUMBERS[kind](a, b)
        if kind is _UNARY:
            return (self.derivative(g, out, a, b),)
        return self.derivative(g, out, a, b)


_UNARY = Kind.UNARY  # looked up once: an Enum's member is slow to read from its class


def _numbers(values: Any) -> Any:
    return [v.data for v in values]


def _without_nones(b: Any) -> tuple[float, ...]:
    if b is None:
        return ()
    if type(b) is tuple:
        return tuple(c for c in b if c is not None)
    return (b,)


# One table per concern, keyed by every kind (tests/test_value.py checks that none is missing).
_INPUTS: dict[Kind, Callable[[Any, Any], tuple[Any, ...]]] = {
    Kind.LEAF: lambda a, b: (),
    Kind.UNARY: lambda a, b: (a,),
    Kind.BINARY: lambda a, b: (a, b),
    Kind.NARY: lambda a, b: a,
    Kind.NEURON: lambda a, b: a + b,
    Kind.CONSTANT: lambda a, b: (),
}
"""The parents of a node, in order, from its fields ``a`` and ``b``."""
_CONSTANTS: dict[Kind, Callable[[Any], tuple[float, ...]]] = {
    Kind.LEAF: lambda b: (),
    Kind.UNARY: _without_nones,  # None, a number, or a tuple (softplus, clamp's bounds)
    Kind.BINARY: lambda b: (),
    Kind.NARY: _without_nones,  # None, or a tuple (define_op's has None where a Value goes)
    Kind.NEURON: lambda b: (),
    Kind.CONSTANT: lambda b: (),
}
"""The numbers folded into a node, from its field ``b``."""
_NUMBERS: dict[Kind, Callable[[Any, Any], tuple[Any, Any]]] = {
    Kind.UNARY: lambda a, b: (a.data, b),
    Kind.BINARY: lambda a, b: (a.data, b.data),
    Kind.NARY: lambda a, b: (_numbers(a), b),
    Kind.NEURON: lambda a, b: (_numbers(a), _numbers(b)),
}
"""A rule's arguments ``a`` and ``b`` on floats: the node's fields with Values read as numbers
(the kinds without inputs never reach their rule)."""


LEAF = Op("", Kind.LEAF, lambda g, out, a, b: ())


# Derivative rules are written with these helpers so that one formula serves floats (an
# ordinary backward) and Values (create_graph=True, where the gradient is itself a graph).
def data_of(x: Any) -> float:
    """The number x holds: x itself for a float, ``x.data`` for a Value."""
    return x if type(x) is float else x.data


def divide(a: Any, b: Any) -> Any:
    """a / b, IEEE-safe on floats (1/0 is inf), an op node on Values."""
    return ieee.div(a, b) if type(a) is float and type(b) is float else a / b


def power(x: Any, e: Any) -> Any:
    """x ** e, IEEE-safe on floats with PyTorch's shortcuts, an op node on Values."""
    if type(x) is float and type(e) is float:
        return ieee.pow(x, e)
    return x ** e


def general_power(x: Any, e: Any) -> Any:
    """x ** e, IEEE-safe on floats without PyTorch's shortcuts (a power of two tensors), an
    op node on Values."""
    if type(x) is float and type(e) is float:
        return ieee.general_pow(x, e)
    return x ** e


def logarithm(x: Any) -> Any:
    """ln x, IEEE-safe on floats (log 0 is -inf), an op node on Values."""
    return ieee.log(x) if type(x) is float else x.log()


def exponential(x: Any) -> Any:
    """e**x, IEEE-safe on floats (inf on overflow), an op node on Values."""
    return ieee.exp(x) if type(x) is float else x.exp()


def sine(x: Any) -> Any:
    """sin x on a float (nan at +-inf) or a Value."""
    return ieee.sin(x) if type(x) is float else x.sin()


def cosine(x: Any) -> Any:
    """cos x on a float (nan at +-inf) or a Value."""
    return ieee.cos(x) if type(x) is float else x.cos()


def hyperbolic_tangent(x: Any) -> Any:
    """tanh x on a float or a Value."""
    return math.tanh(x) if type(x) is float else x.tanh()


def error_function(x: Any) -> Any:
    """erf x on a float or a Value."""
    return math.erf(x) if type(x) is float else x.erf()


def as_number(x: object) -> float | None:
    """The float value of a Python number (bool and int included), None for anything else.

    A number too large for a float (an int of 309 digits or more) is a ValueError.
    """
    if type(x) is float:
        return x
    if isinstance(x, Real):
        try:
            return float(x)
        except OverflowError:
            size = f"an int of {len(str(abs(x)))} digits" if isinstance(x, int) else \
                f"this {type(x).__name__}"
            raise ValueError(f"{size} is too large for a float (the largest is about "
                             "1.8e308)") from None
    return None
