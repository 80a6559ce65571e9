"""chainrule's nn: layers, models, losses and optimizers built on the engine's Values.

Read in this order: ``module.py`` (what every layer and model shares: parameters, names,
state dicts, saving), ``activations.py``, ``layers.py`` (Linear, Sequential, MLP,
LogisticRegression), ``losses.py``, ``optim.py``, ``serialization.py`` (the file format).

    from nn import MLP, losses, optim
    model = MLP(2, [16, 16, 1], activation="relu", seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss = losses.hinge([model(x) for x in xs], ys)
    opt.zero_grad(); loss.backward(); opt.step()
"""

from __future__ import annotations

import importlib
from types import ModuleType

from nn import losses, optim
from nn.activations import Identity, ReLU, Sigmoid, Tanh
from nn.layers import MLP, Linear, LogisticRegression, Sequential
from nn.module import Module

__all__ = [
    "MLP",
    "Identity",
    "Linear",
    "LogisticRegression",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "losses",
    "optim",
]


def __getattr__(name: str) -> ModuleType:
    """``nn.data`` and ``nn.metrics`` are imported on first use.

    (They are being written; once both are committed this becomes a plain
    ``from nn import data, metrics`` and they join ``__all__``.)
    """
    if name in ("data", "metrics"):
        return importlib.import_module(f"nn.{name}")
    raise AttributeError(f"module 'nn' has no attribute {name!r}")
