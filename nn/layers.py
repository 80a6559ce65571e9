"""Layers and models: Linear, Sequential, MLP and LogisticRegression (and micrograd's
Neuron and Layer).

A ``Linear`` layer is a row of neurons that all see the same inputs; an ``MLP`` stacks
Linear layers with an activation between each pair. Their parameters are engine Values,
so ``loss.backward()`` fills in every weight's gradient.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from engine import Value, linear_batch
from nn.activations import Identity, Sigmoid
from nn.checks import count
from nn.module import Module, reserve_parameters, saved_name
from nn.registry import ACTIVATIONS

Number = int | float


def is_batch(x: Any) -> bool:
    """True for a list of input lists (a batch), False for one input list."""
    return isinstance(x, (list, tuple)) and len(x) > 0 and isinstance(x[0], (list, tuple))


INITS = ("pytorch", "micrograd")
"""How a layer draws its first weights and biases, by name (``init=``); see ``Linear``."""


class Linear(Module):
    """A fully connected layer: ``nout`` neurons, each a weighted sum of all ``nin`` inputs.

    For an input x (a list of ``nin`` numbers or Values) it returns the list of ``nout``
    Values

        y_i = sum_j W[i][j] * x_j + b_i,     that is   y = x W^T + b,

    with ``weight`` W stored as ``nout`` rows of ``nin`` Values (row i holds neuron i's
    weights) and ``bias`` b a list of ``nout`` Values. This is PyTorch's layout. Textbooks
    often write the same layer as ``XW + b`` with W of shape ``(in, out)``: that W is our
    W^T, so the two agree; storing one row per neuron makes each neuron one dot product.

    ``init`` chooses the first numbers (weights first, row by row, then the biases):

    * ``"pytorch"`` (the default, ``torch.nn.Linear``'s): every weight and bias drawn
      uniformly from ``[-1/sqrt(nin), 1/sqrt(nin)]``, so a neuron's sum stays of the size
      of its inputs however many it has;
    * ``"micrograd"`` (micrograd's ``Neuron``): every weight from ``[-1, 1]``, every bias
      0.0. It draws the very numbers micrograd draws from the same ``random.seed``.

    With ``seed`` the numbers come from the layer's own ``random.Random(seed)``: the same
    seed gives the same layer, whatever else the program draws. Without it they come from
    Python's global ``random`` module, so ``random.seed(n)`` once at the start of a
    program reproduces every layer built after it (as ``torch.manual_seed`` does).
    """

    parameter_names = ("weight", "bias")

    def __init__(self, nin: int, nout: int, bias: bool = True, seed: int | None = None,
                 init: str = "pytorch") -> None:
        self.nin = count("nin", nin)
        self.nout = count("nout", nout)
        reserve_parameters(nout * (nin + 1) if bias else nout * nin)
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(map(repr, INITS))}, got {init!r}")
        rng = random if seed is None else random.Random(seed)
        bound = 1.0 / math.sqrt(nin) if init == "pytorch" else 1.0
        self.weight = [[Value(rng.uniform(-bound, bound)) for _ in range(nin)]
                       for _ in range(nout)]
        if not bias:
            self.bias = None
        elif init == "pytorch":
            self.bias = [Value(rng.uniform(-bound, bound)) for _ in range(nout)]
        else:
            self.bias = [Value(0.0) for _ in range(nout)]

    def forward(self, x: Sequence[Value | Number] | Sequence[Sequence[Value | Number]],
                activation: str | None = None) -> list[Value] | list[list[Value]]:
        """The ``nout`` outputs ``W x + b``, each one engine node (``engine.linear``).

        Plain numbers in x stay numbers (constants of the graph: a data point needs no
        gradient); Values (a previous layer's outputs) get gradients too. ``activation``
        ("relu", "tanh" or "sigmoid") applies act(W x + b) inside the same node, which is
        how ``MLP`` runs: the same numbers as a separate activation, in half the nodes.

        A batch (a list of input lists, like PyTorch's 2-D input) gives a list of output
        lists: the same nodes as one call per input, with the weights read once.
        """
        batch = x if is_batch(x) else [x]
        # Checked row by row (for the error message) only when a quick look finds a problem.
        if batch is x:
            rows_fit = set(map(type, x)) <= {list, tuple} and set(map(len, x)) == {self.nin}
        else:
            rows_fit = type(x) in (list, tuple) and len(x) == self.nin
        for i, row in enumerate([] if rows_fit else batch):
            if isinstance(row, (Value, str)) or not hasattr(row, "__len__"):
                raise TypeError(f"{self!r} takes a list of {self.nin} numbers or Values, "
                                f"not {type(row).__name__}")
            if len(row) != self.nin:
                where = f" (batch row {i})" if batch is x else ""
                raise ValueError(f"{self!r} expects an input of width {self.nin}, "
                                 f"got width {len(row)}{where}")
        bias = self.bias if self.bias is not None else [Value(0.0)] * self.nout
        outputs = linear_batch(self.weight, bias, batch, activation)
        return outputs if batch is x else outputs[0]

    def extra_repr(self) -> str:
        return f"in_features={self.nin}, out_features={self.nout}, bias={self.bias is not None}"

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nout": self.nout, "bias": self.bias is not None}


class Layer(Linear):
    """micrograd's layer: ``nout`` neurons ``relu(w · x + b)`` (``w · x + b`` with
    ``nonlin=False``), returning a single Value when ``nout`` is 1, else a list.

    A ``Linear`` layer under micrograd's name and conventions, so that code written for
    ``micrograd.nn`` runs as written; ``init`` and ``seed`` as in ``Linear`` (PyTorch's
    numbers by default, ``init="micrograd"`` for micrograd's). New code: ``Linear`` and
    ``MLP``, which fuse the activation into each neuron's node.
    """

    def __init__(self, nin: int, nout: int, nonlin: bool = True, seed: int | None = None,
                 init: str = "pytorch") -> None:
        super().__init__(nin, nout, seed=seed, init=init)
        self.nonlin = nonlin

    def forward(self, x: Sequence[Value | Number] | Sequence[Sequence[Value | Number]]
                ) -> Value | list[Value] | list[Value | list[Value]]:
        """micrograd's result: ``out[0] if len(out) == 1 else out`` (per input of a batch)."""
        outputs = super().forward(x)
        rows = outputs if is_batch(x) else [outputs]
        if self.nonlin:
            rows = [[v.relu() for v in row] for row in rows]
        shown = [row[0] if len(row) == 1 else row for row in rows]
        return shown if is_batch(x) else shown[0]

    def extra_repr(self) -> str:
        return f"in_features={self.nin}, out_features={self.nout}, nonlin={self.nonlin}"

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nout": self.nout, "nonlin": self.nonlin}


class Neuron(Layer):
    """micrograd's neuron: ``relu(w · x + b)`` (``w · x + b`` with ``nonlin=False``), one Value.

    A ``Layer`` of one neuron, with micrograd's names for its parameters: ``w`` (its
    weights) and ``b`` (its bias), listed by ``parameters()`` in micrograd's order, w then b.
    """

    def __init__(self, nin: int, nonlin: bool = True, seed: int | None = None,
                 init: str = "pytorch") -> None:
        super().__init__(nin, 1, nonlin=nonlin, seed=seed, init=init)

    @property
    def w(self) -> list[Value]:
        """The neuron's weights, one per input (``weight[0]``)."""
        return self.weight[0]

    @property
    def b(self) -> Value:
        """The neuron's bias (``bias[0]``)."""
        assert self.bias is not None
        return self.bias[0]

    def extra_repr(self) -> str:
        return f"in_features={self.nin}, nonlin={self.nonlin}"

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nonlin": self.nonlin}


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(a, b, c)(x) == c(b(a(x)))``.

    Children are named by position ("0", "1", ...), so parameters get PyTorch's names
    (``0.weight``, ``2.weight`` for ``Sequential(Linear, ReLU, Linear)``).
    """

    def __init__(self, *modules: Module) -> None:
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential takes Modules, but argument {i} is a "
                                f"{type(module).__name__}")
        self.modules = list(modules)

    def named_children(self) -> list[tuple[str, Module]]:
        return [(str(i), module) for i, module in enumerate(self.modules)]

    def forward(self, x: Any) -> Any:
        for module in self.modules:
            x = module(x)
        return x

    def __len__(self) -> int:
        return len(self.modules)

    def __getitem__(self, index: int) -> Module:
        return self.modules[index]

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)

    def config(self) -> dict[str, Any]:
        return {"modules": [{"class": saved_name(type(m)), "config": m.config()}
                            for m in self.modules]}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Sequential:
        modules = []
        for i, entry in enumerate(config["modules"]):
            module_class = Module.registry.get(entry["class"])
            if module_class is None:
                raise ValueError(f"module {i}: unknown class {entry['class']!r}")
            modules.append(module_class.from_config(entry["config"]))
        return cls(*modules)


class MLP(Module):
    """A multi-layer perceptron: Linear layers with an activation between each pair.

    ``MLP(2, [16, 16, 1])`` (micrograd's signature) maps 2 inputs through hidden layers of
    16 and 16 neurons to 1 output. Hidden layers are followed by ``activation`` ("relu",
    "tanh" or "sigmoid"); the last layer is linear (a score) unless ``output_activation``
    names one too. Any widths work, hidden layers of width 1 included.

    Calling the model returns a single Value when the last layer has width 1, else a list.
    Each neuron is one engine node, act(w . x + b) (see ``forward``).

    The layers live in ``self.layers``, a ``Sequential`` holding the Linear layers and the
    activation modules in between, exactly as one would write it in PyTorch::

        torch.nn.Sequential(Linear(2, 16), ReLU(), Linear(16, 16), ReLU(), Linear(16, 1))

    so the parameter names are ``layers.0.weight``, ``layers.0.bias``, ``layers.2.weight``,
    ``layers.2.bias``, ``layers.4.weight``... (a Linear layer's index counts the activations
    before it). A PyTorch module holding that Sequential in an attribute ``layers`` has the
    very same state dict keys; for a bare torch ``Sequential`` drop the ``layers.`` prefix.

    With ``seed``, each layer gets its own seed, drawn from ``random.Random(seed)``: the same
    ``seed`` gives the same model. Without it, the layers draw from Python's global
    ``random`` module: ``random.seed(n)`` before building reproduces the model.
    ``init`` is each layer's initialisation (see ``Linear``): ``MLP(2, [16, 16, 1],
    init="micrograd")`` after ``random.seed(n)`` starts from the very weights micrograd's
    ``MLP(2, [16, 16, 1])`` starts from after the same ``random.seed(n)``.
    """

    def __init__(self, nin: int, nouts: Sequence[int], activation: str = "relu",
                 output_activation: str | None = None, seed: int | None = None,
                 init: str = "pytorch") -> None:
        count("nin", nin)
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"nouts must be a non-empty list of layer widths, got {nouts!r}")
        for i, n in enumerate(nouts):
            count(f"nouts[{i}]", n)
        for name, value in (("activation", activation), ("output_activation", output_activation)):
            known = isinstance(value, str) and value in ACTIVATIONS
            if not known and not (value is None and name == "output_activation"):
                raise ValueError(f"{name} must be one of {sorted(ACTIVATIONS)}, got {value!r}")
        self.nin = nin
        self.nouts = list(nouts)
        self.activation = activation
        self.output_activation = output_activation
        layer_seeds = None if seed is None else random.Random(seed)
        widths = [nin, *self.nouts]
        modules: list[Module] = []
        for i in range(len(self.nouts)):
            layer_seed = None if layer_seeds is None else layer_seeds.getrandbits(64)
            modules.append(Linear(widths[i], widths[i + 1], seed=layer_seed, init=init))
            last = i == len(self.nouts) - 1
            if not last:
                modules.append(ACTIVATIONS[activation]())
            elif output_activation is not None:
                modules.append(ACTIVATIONS[output_activation]())
        self.layers = Sequential(*modules)

    def forward(self, x: Sequence[Value | Number] | Sequence[Sequence[Value | Number]]
                ) -> Value | list[Value] | list[list[Value]]:
        """What ``self.layers`` computes, with each activation fused into its Linear layer.

        ``model(x)`` for one input; ``model(X)`` for a batch (a list of inputs) returns one
        output per input, the same nodes as ``[model(x) for x in X]`` but faster. A Linear
        layer followed by an activation module (with PyTorch's default settings) becomes one
        node per neuron, act(w . x + b), instead of two; ``self.layers(x)`` computes the same numbers with the activation as
        separate nodes. Whatever ``self.layers`` holds when called is what runs, so a layer
        replaced or appended there takes effect at once.
        """
        x = self.layer_outputs(x)[-1]
        if is_batch(x):
            return [out[0] for out in x] if x and len(x[0]) == 1 else x
        return x[0] if isinstance(x, list) and len(x) == 1 else x

    def layer_outputs(self, x: Sequence[Value | Number] | Sequence[Sequence[Value | Number]],
                      start: int = 0) -> list[Any]:
        """Every step's output on the way through the network, the last one being the model's.

        A step is a Linear layer with the activation fused into it (one node per neuron,
        act(w . x + b)), or a module called as it is; so for ``MLP(2, [8, 8, 1])`` the list
        holds the 8 outputs of each hidden layer after its activation, then the output
        layer's 1 (always as lists, also for width 1). ``x`` is one input or a batch, as for
        ``forward``; with ``start`` the steps before it are skipped and ``x`` is what step
        ``start`` receives (the chain-rule view feeds one neuron's layer in this way).
        ``len(self.steps())`` steps in all.
        """
        outputs = []
        for module, activation in self._plan()[start:]:
            x = module(x) if activation is False else module.forward(x, activation)
            outputs.append(x)
        return outputs

    def steps(self) -> list[tuple[Module, str | None | bool]]:
        """The steps ``forward`` takes: (Linear, the activation fused into it, or None), or
        (module, False) for a module called as it is. Fusion is decided here alone."""
        return list(self._plan())

    def _plan(self) -> list[tuple[Module, str | None | bool]]:
        """``self.layers`` as (module, activation fused into it, or False: called as is)."""
        modules = self.layers.modules
        kept = getattr(self, "_planned", None)
        if kept is not None and kept[0] == modules:
            return kept[1]
        plan: list[tuple[Module, str | None | bool]] = []
        i = 0
        while i < len(modules):
            module = modules[i]
            after = modules[i + 1] if i + 1 < len(modules) else None
            if type(module) is Linear:
                activation = getattr(after, "fused_name", None)
                plan.append((module, activation))
                # An Identity after it (activation "linear") is no step at all.
                i += 1 if activation is None and type(after) is not Identity else 2
            else:
                plan.append((module, False))
                i += 1
        # Cached with a copy of the list, so that any change to it is seen at the next call.
        self._planned = (list(modules), plan)
        return plan

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nouts": list(self.nouts), "activation": self.activation,
                "output_activation": self.output_activation}

    def __repr__(self) -> str:
        widths = " -> ".join(str(n) for n in [self.nin, *self.nouts])
        output = f", output={self.output_activation}" if self.output_activation else ""
        return f"MLP({widths}, {self.activation}{output})"


class LogisticRegression(Module):
    """The probability that x belongs to class 1: ``sigmoid(w . x + b)``.

    A Linear layer with one output followed by a sigmoid. Trained with binary
    cross-entropy, its gradient has a closed form (see the tests):
    ``dL/dw = X^T (sigmoid(X w + b) - y) / N``.
    """

    def __init__(self, nin: int, seed: int | None = None) -> None:
        self.linear = Linear(nin, 1, seed=seed)
        self.sigmoid = Sigmoid()

    def forward(self, x: Sequence[Value | Number] | Sequence[Sequence[Value | Number]]
                ) -> Value | list[Value]:
        """The probability for one input, or one per input of a batch."""
        if is_batch(x):
            return [self.sigmoid(out[0]) for out in self.linear(x)]
        return self.sigmoid(self.linear(x)[0])

    def config(self) -> dict[str, Any]:
        return {"nin": self.linear.nin}

    def __repr__(self) -> str:
        return f"LogisticRegression({self.linear.nin} -> 1, sigmoid)"


class Dropout(Module):
    """During training, zero each input with probability ``p`` and scale the others by
    ``1 / (1 - p)``; in evaluation, pass the input through unchanged (``torch.nn.Dropout``).

        training:   y_i = x_i * m_i / (1 - p),   m_i = 0 with probability p, else 1
        evaluation: y_i = x_i
        dy_i/dx_i = m_i / (1 - p)   (0 for a dropped input)

    The scaling keeps each output's expected value equal to its input's, so the next layer
    sees numbers of the same size in training and in evaluation. A new Dropout is in
    training mode, as in PyTorch; ``model.eval()`` and ``model.train()`` switch it, with every
    other module of the model (``Module.train``). The masks come from ``seed``'s own
    ``random.Random`` when given, else from Python's global ``random``. With ``p = 1``
    every output is 0 (no scaling by infinity), as PyTorch returns.
    """

    def __init__(self, p: float = 0.5, seed: int | None = None) -> None:
        if isinstance(p, bool) or not isinstance(p, (int, float)):
            raise TypeError(f"dropout probability must be a number, not {type(p).__name__}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = float(p)
        self._rng = random.Random(seed) if seed is not None else None  # None: global random

    def forward(self, x: Sequence[Value | Number] | Sequence[Sequence[Value | Number]]
                ) -> list[Value | Number] | list[list[Value | Number]]:
        """The input (one list, or a batch of lists) with each entry dropped or scaled."""
        if is_batch(x):
            return [self._drop(row) for row in x]
        return self._drop(x)

    def _drop(self, row: Sequence[Value | Number]) -> list[Value | Number]:
        if not self.training or self.p == 0.0:
            return list(row)
        if self.p == 1.0:
            return [v * 0.0 for v in row]
        draw = (self._rng or random).random
        scale = 1.0 / (1.0 - self.p)  # PyTorch multiplies by this number, computed once
        return [v * 0.0 if draw() < self.p else v * scale for v in row]

    def config(self) -> dict[str, Any]:
        return {"p": self.p}

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
