"""Activation functions: the nonlinearity that goes between two linear layers.

Without one, two linear layers in a row are just one linear layer (``W2 (W1 x) = (W2 W1) x``),
so a deep network could only draw straight decision boundaries. Each activation is given
twice: as a function on one Value (``relu(v)``), and as a module that applies it to every
Value of a layer's output (``ReLU()([v1, v2])``), to put in a ``Sequential``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from engine import Value
from nn.module import Module

Number = int | float


def _value(x: Value | Number, name: str) -> Value:
    if type(x) is Value:
        return x
    if isinstance(x, (int, float)):
        return Value(x)
    raise TypeError(f"{name}() takes a Value or a number, not {type(x).__name__}")


def relu(x: Value | Number) -> Value:
    """max(0, x).   d/dx = 1 for x > 0, else 0 (0 at the kink, like PyTorch)."""
    return _value(x, "relu").relu()


def tanh(x: Value | Number) -> Value:
    """tanh(x) = (e^x - e^-x) / (e^x + e^-x), in (-1, 1).   d/dx = 1 - tanh(x)^2."""
    return _value(x, "tanh").tanh()


def sigmoid(x: Value | Number) -> Value:
    """s = 1 / (1 + e^-x), in (0, 1): a probability.   d/dx = s (1 - s)."""
    return _value(x, "sigmoid").sigmoid()


class _Elementwise(Module):
    """Applies ``function`` to each Value of a list (or to a single Value)."""

    function: Callable[[Value | Number], Value]

    def forward(self, x: Sequence[Value | Number] | Value | Number) -> Any:
        if isinstance(x, (Value, int, float)):
            return self.function(x)
        return [self.function(v) for v in x]

    def config(self) -> dict[str, Any]:
        return {}


class ReLU(_Elementwise):
    """relu on every element: ``ReLU()([a, b]) == [relu(a), relu(b)]``."""

    function = staticmethod(relu)


class Tanh(_Elementwise):
    """tanh on every element."""

    function = staticmethod(tanh)


class Sigmoid(_Elementwise):
    """sigmoid on every element."""

    function = staticmethod(sigmoid)


class Identity(Module):
    """Returns its input unchanged (a placeholder where no activation is wanted)."""

    def forward(self, x: Any) -> Any:
        return x

    def config(self) -> dict[str, Any]:
        return {}


ACTIVATIONS: dict[str, type[Module]] = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid}
"""The activation modules by the names ``MLP(activation=...)`` accepts."""
