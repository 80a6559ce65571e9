"""chainrule's nn: layers, models, losses and optimizers built on the engine's Values.

Read in this order: ``module.py`` (what every layer and model shares: parameters, names,
state dicts, saving), ``activations.py``, ``layers.py`` (Linear, Sequential, MLP,
LogisticRegression), ``losses.py``, ``optim.py`` and ``lr_scheduler.py``, ``serialization.py`` (the file format),
then ``data.py``, ``metrics.py`` and ``training.py`` (one epoch of minibatch training, and
evaluation: the loop demo.py and the playground share).

    from nn import MLP, losses, optim
    model = MLP(2, [16, 16, 1], activation="relu", seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    loss = losses.hinge([model(x) for x in xs], ys)
    opt.zero_grad(); loss.backward(); opt.step()
"""

from __future__ import annotations

from nn import data, losses, lr_scheduler, metrics, optim, training, utils
from nn.activations import ELU, GELU, Identity, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from nn.layers import (
    MLP,
    Dropout,
    Layer,
    Linear,
    LogisticRegression,
    Neuron,
    Sequential,
)
from nn.module import Module

__all__ = [
    "ELU",
    "GELU",
    "MLP",
    "Dropout",
    "Identity",
    "Layer",
    "LeakyReLU",
    "Linear",
    "LogisticRegression",
    "Module",
    "Neuron",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softplus",
    "Tanh",
    "data",
    "losses",
    "lr_scheduler",
    "metrics",
    "optim",
    "training",
    "utils",
]

