"""W1's training step written once per engine: the same maths, each in its engine's idiom,
and chainrule twice more, as people also call it: once per point, and as micrograd's demo.

Every model starts from the same weights (``moons.initial_weights``) and runs micrograd's
demo step::

    loss = mean_i relu(1 - y_i * mlp(x_i)) + 1e-4 * sum_p p**2     (forward)
    zero_grad; loss.backward()                                      (backward)
    p <- p - lr_k * dloss/dp  for every parameter p                 (update)

Each class offers ``forward() -> loss``, ``zero_grad()``, ``backward(loss)``,
``update(lr)``, ``loss_value(loss)``, ``gradients()`` (in the shared order of
``moons.flat``) and ``count_nodes(loss)`` (None where the graph cannot be walked safely).
Engines are imported inside the classes, so a worker imports only the engine it measures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bench.moons import REG, SIZES, Layer, flat, learning_rate
from bench.w1_by_hand import ByHandMoons


def count_reachable(root: Any, parents_of: Callable[[Any], Iterable[Any]]) -> int:
    """How many distinct nodes ``root`` reaches through ``parents_of`` (itself included)."""
    seen = {id(root)}
    stack = [root]
    while stack:
        for parent in parents_of(stack.pop()):
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


def step_history(model: Any, steps: int) -> list[tuple[float, list[float]]]:
    """(loss, gradients) of each of ``model``'s first ``steps`` steps of the demo's training,
    the step at the top of this module with micrograd's schedule ``moons.learning_rate``."""
    history = []
    for k in range(steps):
        loss = model.forward()
        model.zero_grad()
        model.backward(loss)
        history.append((model.loss_value(loss), model.gradients()))
        model.update(learning_rate(k))
    return history


def _load_into_nn(model: Any, layers: list[Layer]) -> None:
    """Load per-layer (W, b) into an ``nn`` model through its PyTorch-style state dict.

    The k-th key ending in "weight" (and "bias") of ``state_dict()`` is layer k.
    """
    state = model.state_dict()
    weight_keys = [k for k in state if k.endswith("weight")]
    bias_keys = [k for k in state if k.endswith("bias")]
    if len(weight_keys) != len(layers) or len(bias_keys) != len(layers):
        raise ValueError(f"cannot map {list(state)} onto {len(layers)} layers")
    new_state = dict(state)
    for (rows, biases), w_key, b_key in zip(layers, weight_keys, bias_keys):
        new_state[w_key] = [list(row) for row in rows]
        new_state[b_key] = list(biases)
    model.load_state_dict(new_state)


def _probe(layers: list[Layer]) -> list[Layer]:
    """The same shapes, each parameter holding its index in the shared order.

    Loaded into a model, it tells where each of the model's ``parameters()`` sits in the
    shared order, whatever order the model keeps them in.
    """
    index = 0
    probe = []
    for rows, biases in layers:
        new_rows, new_biases = [], []
        for row, _ in zip(rows, biases):
            new_rows.append([float(index + i) for i in range(len(row))])
            new_biases.append(float(index + len(row)))
            index += len(row) + 1
        probe.append((new_rows, new_biases))
    return probe


class _ValueSteps:
    """What both Value engines do the same way: zero, backward and the SGD update on .data."""

    model: Any
    params: list[Any]

    def zero_grad(self) -> None:
        self.model.zero_grad()

    def backward(self, loss: Any) -> None:
        loss.backward()

    def update(self, lr: float) -> None:
        for p in self.params:
            p.data -= lr * p.grad


class _NnModel(_ValueSteps):
    """An ``nn`` model loaded with the shared weights, its gradients read in the shared order."""

    _shared_index: list[int]

    def _load(self, model: Any, layers: list[Layer]) -> None:
        # Where each of nn's parameters sits in the shared order: load the probe, read it back.
        _load_into_nn(model, _probe(layers))
        self._shared_index = [int(p.data) for p in model.parameters()]
        _load_into_nn(model, layers)
        self.model = model
        self.params = model.parameters()

    def loss_value(self, loss: Any) -> float:
        return loss.data

    def gradients(self) -> list[float]:
        grads = [0.0] * len(self.params)
        for index, p in zip(self._shared_index, self.params):
            grads[index] = p.grad
        return grads

    def count_nodes(self, loss: Any) -> int | None:
        return count_reachable(loss, lambda v: v.parents)


class ChainruleBatched(_NnModel):
    """chainrule at its fastest: ``nn.MLP`` with nn's ``parameters()``, data points as plain
    floats, the batch passed in one call (``model(X)``: the same graph as ``[model(x) for x
    in X]``, with each layer's weights read once per batch instead of once per point), and
    ``vsum`` for the two sums of the loss (the engine's n-ary sum: one node, not n - 1)."""

    description = "nn.MLP(2, [16, 16, 1], activation='relu'), called on the batch"

    def __init__(self, layers: list[Layer], xs: list[list[float]], ys: list[float]) -> None:
        from engine import vsum
        from nn import MLP

        self._vsum = vsum
        self._load(MLP(SIZES[0], list(SIZES[1:]), activation="relu"), layers)
        self.xs, self.ys = xs, ys

    def scores(self) -> list[Any]:
        return self.model(self.xs)  # the batch in one call: the same nodes, weights read once

    def forward(self) -> Any:
        vsum = self._vsum
        hinge = [(1.0 - y * s).relu() for y, s in zip(self.ys, self.scores())]
        data_loss = vsum(hinge) * (1.0 / len(hinge))
        return data_loss + REG * vsum([p * p for p in self.params])


class ChainrulePerPoint(ChainruleBatched):
    """chainrule as its README calls a model: once per point, with float inputs
    (``[model(x) for x in X]``); the rest of the step is ``ChainruleBatched``'s."""

    description = "nn.MLP(2, [16, 16, 1], activation='relu'), called once per point"

    def scores(self) -> list[Any]:
        model = self.model
        return [model(x) for x in self.xs]


class ChainruleCompiled(_NnModel):
    """W1's step compiled (``nn.compiled``): the same ``nn.MLP`` and the same maths as
    ``ChainruleBatched``, traced once and written out as one generated Python function
    that loops over the points; its loss and gradients are those of ``ChainruleBatched``
    bit for bit. ``forward`` runs the whole step; ``backward`` adds the gradients in."""

    description = "nn.MLP(2, [16, 16, 1], activation='relu'), its step compiled (nn.compiled)"

    def __init__(self, layers: list[Layer], xs: list[list[float]], ys: list[float]) -> None:
        from engine import vsum
        from nn import MLP
        from nn.compiled import CompiledStep

        sizes = [len(layers[0][0][0]), *(len(biases) for _, biases in layers)]
        self._load(MLP(sizes[0], sizes[1:], activation="relu"), layers)
        model, params = self.model, self.params

        def term(point: list[Any], y: float) -> Any:
            return (1.0 - y * model(point)).relu()

        def tail(mean: Any) -> Any:
            return mean + REG * vsum([p * p for p in params])

        self.step = CompiledStep(params, sizes[0], term, tail, classes=(-1.0, 1.0),
                                 mean="mul", name="W1")
        self.xs, self.ys = xs, ys

    def forward(self) -> Any:
        _, objective, sums = self.step(self.params, self.xs, self.ys)
        return objective, sums

    def backward(self, loss: Any) -> None:
        self.step.apply(self.params, loss[1])

    def loss_value(self, loss: Any) -> float:
        return loss[0]

    def count_nodes(self, loss: Any) -> int | None:
        return None  # no graph at run time


class ChainruleCompiledPerPoint(ChainruleCompiled):
    """W1's step through a compiled per-sample function (``engine.trace`` with
    ``params=``): one point's hinge term and its gradient with respect to the 337
    parameters, called once per point, last point first, each call adding its terms into
    the running sums the penalty started: the order of ``backward()``, so the loss and
    gradients are W1 batched's bit for bit. The rest of the objective (the mean, the
    penalty) is written around it as the graph computes it. ``loss_value`` and
    ``gradients`` are W1c's."""

    description = ("nn.MLP(2, [16, 16, 1], activation='relu'), a compiled per-point "
                   "function called once per point (engine.trace)")

    def __init__(self, layers: list[Layer], xs: list[list[float]], ys: list[float]) -> None:
        from engine import trace, vsum
        from nn import MLP
        from nn.compiled import CompiledStep

        sizes = [len(layers[0][0][0]), *(len(biases) for _, biases in layers)]
        self._load(MLP(sizes[0], sizes[1:], activation="relu"), layers)
        model, params = self.model, self.params

        def hinge(*point_and_y: Any) -> Any:  # one point's term: x's numbers, then its y
            *point, y = point_and_y
            return (1.0 - y * model(point)).relu()

        def penalty() -> Any:
            return REG * vsum([p * p for p in params])

        self._apply = CompiledStep.apply
        self.per_point = trace(hinge, *xs[0], ys[0], params=params)
        self.penalty = trace(penalty, params=params)
        self.xs, self.ys = xs, ys

    def forward(self) -> Any:
        c = 1.0 / len(self.xs)
        # objective = vsum(terms) * c + penalty: its rules give the penalty g = 1.0 (made
        # last, its terms are each parameter's first), and each term g = c
        penalty, penalty_sums = self.penalty.bind()
        reg = penalty()
        point, totals = self.per_point.bind(penalty_sums())
        g_term = 0.0 + (0.0 + 1.0 * c)
        values = [point(*x, y, g_term)  # backward()'s order: the last point first
                  for x, y in zip(reversed(self.xs), reversed(self.ys))]
        total = 0.0
        for value in reversed(values):  # vsum adds the terms in the points' order
            total += value
        return total * c + reg, totals()

    def backward(self, loss: Any) -> None:
        self._apply(self.params, loss[1])

class _MicrogradDemo(_ValueSteps):
    """The step of micrograd's demo notebook as it is written there, for any engine that
    offers its ``Value`` and ``MLP``: each data point wrapped in Values at every step,
    ``map(model, ...)``, builtin ``sum``, ``(1 + -y*score).relu()``, and
    ``model.parameters()`` asked for wherever the notebook asks for it."""

    value_type: Any
    xs: list[list[float]]
    ys: list[float]

    def forward(self) -> Any:
        Value, model = self.value_type, self.model  # the notebook's names
        inputs = [list(map(Value, row)) for row in self.xs]
        scores = list(map(model, inputs))
        losses = [(1 + -y * score).relu() for y, score in zip(self.ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = REG * sum(p * p for p in model.parameters())
        return data_loss + reg_loss

    def update(self, lr: float) -> None:
        for p in self.model.parameters():
            p.data -= lr * p.grad


class MicrogradMoons(_MicrogradDemo):
    """micrograd 0.1.0 running its own demo: ``MLP(2, [16, 16, 1])``."""

    description = "micrograd.nn.MLP"

    def __init__(self, layers: list[Layer], xs: list[list[float]], ys: list[float]) -> None:
        from micrograd.engine import Value
        from micrograd.nn import MLP

        self.value_type = Value
        self.model = MLP(SIZES[0], list(SIZES[1:]))
        self.params = self.model.parameters()  # micrograd's order is the shared order
        for p, value in zip(self.params, flat(layers), strict=True):
            p.data = value
        self.xs, self.ys = xs, ys

    def loss_value(self, loss: Any) -> float:
        return float(loss.data)

    def gradients(self) -> list[float]:
        return [float(p.grad) for p in self.params]

    def count_nodes(self, loss: Any) -> int | None:
        return count_reachable(loss, lambda v: v._prev)


class ChainruleMicrogradStyle(_NnModel, _MicrogradDemo):
    """chainrule running micrograd's demo unchanged but for its imports
    (``from engine import Value; from nn import MLP``): what a micrograd user gets by
    switching."""

    description = "nn.MLP(2, [16, 16, 1]) in micrograd's demo code (Value inputs, builtin sum)"

    def __init__(self, layers: list[Layer], xs: list[list[float]], ys: list[float]) -> None:
        from engine import Value
        from nn import MLP

        self.value_type = Value
        self._load(MLP(SIZES[0], list(SIZES[1:])), layers)
        self.xs, self.ys = xs, ys


class _TorchSteps:
    """What both torch engines do the same way: zero, backward, SGD update, loss value."""

    _torch: Any
    params: list[Any]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def backward(self, loss: Any) -> None:
        loss.backward()

    def update(self, lr: float) -> None:
        with self._torch.no_grad():
            for p in self.params:
                p -= lr * p.grad

    def loss_value(self, loss: Any) -> float:
        return loss.item()


class TorchScalarMoons(_TorchSteps):
    """PyTorch op by op: one float64 0-d tensor per scalar, a neuron as micrograd builds it
    (``b + w1*x1 + w2*x2 + ...``), data points as plain 0-d tensors, one thread."""

    description = "float64 0-d tensors, op by op"

    def __init__(self, layers: list[Layer], xs: list[list[float]], ys: list[float]) -> None:
        import torch

        torch.set_num_threads(1)
        self._torch = torch

        def scalar(x: float, requires_grad: bool = False) -> Any:
            return torch.tensor(x, dtype=torch.float64, requires_grad=requires_grad)

        self.neurons = [
            [([scalar(w, True) for w in row], scalar(b, True)) for row, b in zip(rows, biases)]
            for rows, biases in layers
        ]
        self.params = [p for layer in self.neurons for ws, b in layer for p in (*ws, b)]
        self.xs = [[scalar(c) for c in row] for row in xs]
        self.ys = ys

    def _mlp(self, x: list[Any]) -> Any:
        last = len(self.neurons) - 1
        for depth, layer in enumerate(self.neurons):
            outputs = [sum((w * xi for w, xi in zip(ws, x)), b) for ws, b in layer]
            x = outputs if depth == last else [a.relu() for a in outputs]
        return x[0]

    def forward(self) -> Any:
        scores = [self._mlp(x) for x in self.xs]
        losses = [(1 + -y * s).relu() for y, s in zip(self.ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        return data_loss + REG * sum(p * p for p in self.params)

    def gradients(self) -> list[float]:
        return [p.grad.item() for p in self.params]

    def count_nodes(self, loss: Any) -> int | None:
        return None  # walking grad_fn chains can crash torch when the graph is freed


class TorchBatchedMoons(_TorchSteps):
    """The same maths on batched float64 tensors (``(100, 2) @ (2, 16)`` ...), one thread:
    the limit a scalar engine is measured against."""

    description = "float64 batched tensors"

    def __init__(self, layers: list[Layer], xs: list[list[float]], ys: list[float]) -> None:
        import torch

        torch.set_num_threads(1)
        self._torch = torch
        f64 = torch.float64
        self.weights = [torch.tensor(rows, dtype=f64, requires_grad=True) for rows, _ in layers]
        self.biases = [torch.tensor(b, dtype=f64, requires_grad=True) for _, b in layers]
        self.params = [p for pair in zip(self.weights, self.biases) for p in pair]
        self.x = torch.tensor(xs, dtype=f64)
        self.y = torch.tensor(ys, dtype=f64)

    def forward(self) -> Any:
        linear = self._torch.nn.functional.linear
        h = self.x
        last = len(self.weights) - 1
        for depth, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = linear(h, w, b)
            if depth != last:
                h = h.relu()
        hinge = (1 - self.y * h[:, 0]).relu()
        data_loss = hinge.sum() * (1.0 / len(hinge))
        return data_loss + REG * sum((p * p).sum() for p in self.params)

    def gradients(self) -> list[float]:
        grads: list[float] = []
        for w, b in zip(self.weights, self.biases):
            for row, bias in zip(w.grad.tolist(), b.grad.tolist()):
                grads += [*row, bias]
        return grads

    def count_nodes(self, loss: Any) -> int | None:
        return None


W1_MODELS: dict[str, dict[str, type]] = {
    "W1": {
        "chainrule": ChainruleBatched,
        "micrograd": MicrogradMoons,
        "torch-scalar": TorchScalarMoons,
        "torch-batched": TorchBatchedMoons,
        "by-hand": ByHandMoons,
    },
    "W1p": {"chainrule": ChainrulePerPoint},
    "W1m": {"chainrule": ChainruleMicrogradStyle},
    "W1c": {"chainrule": ChainruleCompiled},
    "W1cp": {"chainrule": ChainruleCompiledPerPoint},
}
"""W1's model classes by workload and engine. W1 is the step in each engine's fastest idiom;
W1p and W1m are chainrule called the other ways people call it (an engine missing from a
workload is not measured there)."""

W1_ROWS = {"W1": "W1 batched", "W1p": "W1 per point", "W1m": "W1 micrograd-style",
           "W1c": "W1 compiled", "W1cp": "W1 compiled per point"}
"""The three W1 workloads by the way chainrule's model is called, as the targets name them."""
