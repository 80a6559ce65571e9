"""Activation functions: the nonlinearity that goes between two linear layers.

Without one, two linear layers in a row are just one linear layer (``W2 (W1 x) = (W2 W1) x``),
so a deep network could only draw straight decision boundaries. Each activation is given
twice: as a function on one Value (``relu(v)``), and as a module that applies it to every
Value of a layer's output (``ReLU()([v1, v2])``), to put in a ``Sequential``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from engine import Value, no_grad
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
    """Applies ``function`` to each Value of a list (or to a single Value).

    ``fused_name`` is the name of the same activation inside a fused neuron
    (``engine.linear``), which ``MLP`` uses; None where the engine has no such neuron
    (an activation with settings other than PyTorch's defaults)."""

    function: Callable[[Value | Number], Value]
    fused_name: str | None = None

    def forward(self, x: Sequence[Value | Number] | Value | Number) -> Any:
        if isinstance(x, (Value, int, float)):
            return self.function(x)
        return [self.function(v) for v in x]

    def config(self) -> dict[str, Any]:
        return {}


def leaky_relu(x: Value | Number, negative_slope: float = 0.01) -> Value:
    """x for x > 0, else negative_slope * x.   d/dx = 1 for x > 0, else negative_slope."""
    return _value(x, "leaky_relu").leaky_relu(negative_slope)


def elu(x: Value | Number, alpha: float = 1.0) -> Value:
    """x for x > 0, else alpha (e^x - 1).   d/dx = 1 for x > 0, else alpha e^x."""
    return _value(x, "elu").elu(alpha)


def softplus(x: Value | Number, beta: float = 1.0, threshold: float = 20.0) -> Value:
    """ln(1 + e^(beta x)) / beta, a smooth ReLU (x itself past beta x > threshold).
    d/dx = sigmoid(beta x)."""
    return _value(x, "softplus").softplus(beta, threshold)


def gelu(x: Value | Number, approximate: str = "none") -> Value:
    """x Phi(x), Phi the standard normal CDF (``approximate="tanh"``: PyTorch's tanh form).
    d/dx = Phi(x) + x phi(x)."""
    return _value(x, "gelu").gelu(approximate)


class ReLU(_Elementwise):
    """relu on every element: ``ReLU()([a, b]) == [relu(a), relu(b)]``."""

    function = staticmethod(relu)
    fused_name = "relu"


class Tanh(_Elementwise):
    """tanh on every element."""

    function = staticmethod(tanh)
    fused_name = "tanh"


class Sigmoid(_Elementwise):
    """sigmoid on every element."""

    function = staticmethod(sigmoid)
    fused_name = "sigmoid"


class _WithSettings(_Elementwise):
    """An activation with settings (PyTorch's names and defaults), kept by ``config()``."""

    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **settings: Any) -> None:
        self.settings = {**self.defaults, **settings}
        # Checked now, with the op's own messages: a wrong setting fails here, not later.
        with no_grad():
            self.function(Value(0.0))
        self.fused_name = self.name if self.settings == self.defaults else None

    def function(self, x: Value | Number) -> Value:  # type: ignore[override]
        return getattr(_value(x, self.name), self.name)(**self.settings)

    def config(self) -> dict[str, Any]:
        return dict(self.settings)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.settings.items())


class LeakyReLU(_WithSettings):
    """leaky_relu on every element: ``LeakyReLU(negative_slope=0.01)``."""

    name, defaults = "leaky_relu", {"negative_slope": 0.01}

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__(negative_slope=negative_slope)


class ELU(_WithSettings):
    """elu on every element: ``ELU(alpha=1.0)``."""

    name, defaults = "elu", {"alpha": 1.0}

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__(alpha=alpha)


class Softplus(_WithSettings):
    """softplus on every element: ``Softplus(beta=1.0, threshold=20.0)``."""

    name, defaults = "softplus", {"beta": 1.0, "threshold": 20.0}

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__(beta=beta, threshold=threshold)


class GELU(_WithSettings):
    """gelu on every element: ``GELU(approximate="none")`` or ``"tanh"``."""

    name, defaults = "gelu", {"approximate": "none"}

    def __init__(self, approximate: str = "none") -> None:
        super().__init__(approximate=approximate)


class Identity(Module):
    """Returns its input unchanged (a placeholder where no activation is wanted)."""

    def forward(self, x: Any) -> Any:
        return x

    def config(self) -> dict[str, Any]:
        return {}


ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid,
    "leaky_relu": LeakyReLU, "elu": ELU, "softplus": Softplus, "gelu": GELU,
}
"""The activation modules by the names ``MLP(activation=...)`` accepts."""
