"""Your own op: a float function and its derivative become something Values can go through.

    import math
    from engine import Value, define_op

    sin = define_op("sin", forward=math.sin, derivative=lambda x, out: cos(x))
    cos = define_op("cos", forward=math.cos, derivative=lambda x, out: -sin(x))
    hypot = define_op("hypot", forward=math.hypot,
                      derivative=lambda x, y, out: (x / out, y / out))
    y = sin(Value(0.5) * 2)        # a node with y.op == "sin", one parent
    sin(0.5)                        # a plain float: the op works on numbers too

``derivative(*inputs, out)`` gives the *local* derivative, d out / d input, one for each
input (a tuple when there are several); the engine multiplies it by the upstream gradient,
which is the chain rule's job, not the op's. In an ordinary ``backward()`` the inputs and
``out`` are floats. In ``grad(..., create_graph=True)`` they are Values, so a derivative
written with Value operators, Value methods and other ops made here becomes a graph of its
own, and second and third derivatives come for free, as for the built-in ops.

One trap: ``math.cos(value)`` turns a Value into a plain float (``Value.__float__``), so
a derivative written with ``math.cos`` is right in ``backward()`` but a constant to the
next derivative: its second derivative comes out 0. ``gradgradcheck`` notices.

Numbers among the inputs stay numbers (constants, with no gradient), as in ``x * 3``.

Another: in ``backward()`` the derivative runs on plain Python floats, and Python raises
where IEEE arithmetic (and the built-in ops) give inf or nan: ``1.0 / out`` at out = 0 is a
``ZeroDivisionError``, ``math.log(0.0)`` a ``ValueError``. Such an error stops that backward
and leaves every leaf's gradient as it was; guard the edge in the derivative if it matters.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

from engine.op import Op, as_number
from engine.record import make_node_n
from engine.value import Value


class DefinedOp:
    """An op made by ``define_op``: call it on Values (a node) or on numbers (a float)."""

    def __init__(self, name: str, forward: Callable[..., float],
                 derivative: Callable[..., Any], arity: int) -> None:
        self.name = name
        self.forward = forward
        self.derivative = derivative
        self.arity = arity
        self._op = Op(name, "nary", self._contributions, zero_safe=False)

    def __call__(self, *inputs: Value | float) -> Value | float:
        if len(inputs) != self.arity:
            raise TypeError(f"{self.name}() takes {self.arity} input(s), got {len(inputs)}")
        numbers = []
        for i, x in enumerate(inputs):
            number = x.data if type(x) is Value else as_number(x)
            if number is None:
                raise TypeError(f"{self.name}() input {i} must be a Value or a number, "
                                f"not {type(x).__name__}")
            numbers.append(number)
        out = self._forward(numbers)
        values = tuple(x for x in inputs if type(x) is Value)
        if not values:
            return out
        # The node keeps its Value inputs (a) and, when some inputs are numbers, every input
        # in order with None where a Value goes (b), to call the derivative the same way.
        template = None if len(values) == len(inputs) else tuple(
            None if type(x) is Value else n for x, n in zip(inputs, numbers))
        return make_node_n(self._op, out, values, template)

    def _contributions(self, g: Any, out: Any, values: Sequence[Any],
                       template: tuple[float | None, ...] | None) -> list[Any]:
        """The Op's rule: upstream ``g`` times the user's local derivative, per Value input."""
        if template is None:
            inputs = list(values)
        else:
            filled = iter(values)
            inputs = [next(filled) if c is None else c for c in template]
        local = self.derivative(*inputs, out)
        local = tuple(local) if isinstance(local, (tuple, list)) else (local,)
        if len(local) != self.arity:
            raise ValueError(f"the derivative of {self.name!r} returned {len(local)} value(s) "
                             f"for {self.arity} input(s)")
        for d in local:
            if type(d) is not Value and not isinstance(d, Real):
                raise TypeError(f"the derivative of {self.name!r} returned "
                                f"{type(d).__name__} {d!r}, not a number or a Value")
        if template is None:
            return [g * d for d in local]
        return [g * d for d, c in zip(local, template) if c is None]

    def _forward(self, numbers: list[float]) -> float:
        """``forward`` on the inputs' numbers, which must give a number (a float back)."""
        y = self.forward(*numbers)
        out = as_number(y)
        if out is None or isinstance(y, bool):
            raise TypeError(f"the forward of {self.name!r} returned {type(y).__name__} {y!r}, "
                            "not a number")
        return out

    def __repr__(self) -> str:
        return f"define_op({self.name!r}, arity {self.arity})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled by reference to its forward and derivative: both must be module-level
        functions (a lambda cannot be pickled, so an op made with one refuses, saying so)."""
        for part in (self.forward, self.derivative):
            name = getattr(part, "__qualname__", "")
            if "<lambda>" in name or "<locals>" in name:
                raise TypeError(f"cannot pickle op {self.name!r}: its {name} is a lambda or "
                                "a nested function; define it with def at module level")
        return define_op, (self.name, self.forward, self.derivative)


def define_op(name: str, forward: Callable[..., float],
              derivative: Callable[..., Any]) -> DefinedOp:
    """An op of one or more inputs from ``forward`` (on floats) and its local derivative.

    ``forward(*inputs)`` computes the op on numbers. ``derivative(*inputs, out)`` returns
    d out / d input for each input (one value, or a tuple for several), evaluated on floats
    during ``backward()`` and on Values during ``grad(..., create_graph=True)``; write it
    with Value operators and ops (not ``math``) so that it can be differentiated again.
    The arity is the number of ``forward``'s parameters (``derivative``'s minus one when
    ``forward`` takes ``*args``, like ``math.hypot``). Example::

        sin = define_op("sin", forward=math.sin, derivative=lambda x, out: cos(x))

    The op works with everything the built-in ops do: ``no_grad``, ``detect_anomaly``
    (naming the op), threads, ``gradcheck`` and ``gradgradcheck``, the pictures (the op's
    name in its node), and pickle (by reference to ``forward`` and ``derivative``).
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"an op's name must be a non-empty str, not {name!r}")
    for role, f in (("forward", forward), ("derivative", derivative)):
        if not callable(f):
            raise TypeError(f"{role} of {name!r} must be callable, not {type(f).__name__}")
    forward_arity = _positional_count(forward)
    derivative_arity = _positional_count(derivative)
    if derivative_arity is None or derivative_arity < 2:
        raise TypeError(f"derivative of {name!r} must take the inputs and then out, as in "
                        f"derivative(x, out); its signature is {_signature(derivative)}")
    arity = derivative_arity - 1
    if forward_arity is not None and forward_arity != arity:
        raise TypeError(f"forward of {name!r} takes {forward_arity} input(s) but derivative "
                        f"takes {derivative_arity} arguments: it should take {forward_arity} "
                        "inputs and then out")
    return DefinedOp(name, forward, derivative, arity)


def _positional_count(f: Callable[..., Any]) -> int | None:
    """How many positional parameters ``f`` takes; None for ``*args`` or an unknown signature."""
    try:
        parameters = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
               for p in parameters)


def _signature(f: Callable[..., Any]) -> str:
    try:
        return str(inspect.signature(f))
    except (TypeError, ValueError):
        return "unknown"
