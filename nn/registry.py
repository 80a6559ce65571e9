"""Everything chosen by name, in one place: optimizers, data sets, activations and losses.

demo.py's options, the playground's menus and the docs all read these tables, so a name
added here appears everywhere at once, and a name that is not here is an error everywhere
(``optimizer("adamw2", ...)`` raises ``ValueError`` listing the known names; nothing falls
through to a default).

    from nn import MLP, registry
    X, y = registry.dataset("moons").make(200, 0.1, 0)    # (n, noise, seed) -> (X, y)
    model = MLP(2, [8, 1], activation="tanh", seed=0)
    opt = registry.optimizer("adamw", model.parameters(), lr=0.01)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from engine import Value
from nn import activations, data, optim
from nn.module import Module

T = TypeVar("T")


def lookup(kind: str, table: Mapping[str, T], name: object) -> T:
    """``table[name]``, or a ValueError naming the kind and every known name."""
    if not isinstance(name, str) or name not in table:
        raise ValueError(f"unknown {kind} {name!r}; known: {', '.join(table)}")
    return table[name]


# ---- optimizers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimizerEntry:
    """How to build one optimizer: its class and the settings the name implies."""

    cls: type[optim.Optimizer]
    settings: Mapping[str, Any]  # beyond lr, e.g. {"momentum": 0.9}
    summary: str

    def build(self, params: Iterable[Value], lr: float) -> optim.Optimizer:
        return self.cls(params, lr=lr, **self.settings)


OPTIMIZERS: dict[str, OptimizerEntry] = {
    "sgd": OptimizerEntry(optim.SGD, {}, "plain gradient descent: w -= lr g"),
    "momentum": OptimizerEntry(optim.SGD, {"momentum": 0.9}, "SGD with momentum 0.9"),
    "adam": OptimizerEntry(optim.Adam, {}, "Adam, PyTorch's defaults"),
    "adamw": OptimizerEntry(optim.AdamW, {}, "AdamW: Adam with decoupled weight decay 0.01"),
    "radam": OptimizerEntry(optim.RAdam, {}, "rectified Adam"),
}


def optimizer(name: str, params: Iterable[Value], lr: float) -> optim.Optimizer:
    """The optimizer called ``name`` over ``params`` with learning rate ``lr``."""
    return lookup("optimizer", OPTIMIZERS, name).build(params, lr)


def set_learning_rate(opt: optim.Optimizer, lr: float) -> None:
    """Change ``opt``'s learning rate in place; its moments and step count are kept."""
    opt.lr = lr  # every optimizer here reads self.lr at each step


# ---- data sets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataSet:
    """How to make one data set: ``make(n, noise, seed) -> (X, y)``, and what it is.

    ``noise`` is the default noise; ``classes`` is 0 for real-valued targets;
    ``inputs`` the number of features per row.
    """

    make: Callable[[int, float, int], tuple[list, list]]
    noise: float
    classes: int
    inputs: int
    summary: str

    @property
    def task(self) -> str:
        return "regression" if self.classes == 0 else "classification"


DATASETS: dict[str, DataSet] = {
    "moons": DataSet(lambda n, noise, seed: data.make_moons(n, noise, seed), 0.1, 2, 2,
                     "two interleaved half circles"),
    "circles": DataSet(lambda n, noise, seed: data.make_circles(n, noise, 0.5, seed), 0.1, 2,
                       2, "a ring around a disc"),
    "xor": DataSet(lambda n, noise, seed: data.make_xor(n, noise, seed), 0.1, 2, 2,
                   "opposite quadrants share a class"),
    # Blobs have no noise of their own: here noise is a tenth of each blob's spread.
    "blobs": DataSet(lambda n, noise, seed: data.make_blobs(n, 3, 10 * noise, seed), 0.1, 3,
                     2, "three Gaussian blobs"),
    "spiral": DataSet(lambda n, noise, seed: data.make_spiral(n, 3, noise, seed), 0.2, 3, 2,
                      "three interleaved spiral arms"),
    "sine": DataSet(lambda n, noise, seed: data.make_sine(n, noise=noise, seed=seed), 0.1, 0,
                    1, "y = sin x, one input"),
    "plane": DataSet(lambda n, noise, seed: data.make_linear(n, 2, noise, seed)[:2], 0.1, 0,
                     2, "y = w . x + b over the plane"),
    "gaussians": DataSet(lambda n, noise, seed: data.make_gaussians(n, noise, seed), 0.1, 0,
                         2, "a landscape of Gaussian hills and pits"),
    "linear": DataSet(lambda n, noise, seed: data.make_linear(n, 3, noise, seed)[:2], 0.1, 0,
                      3, "y = w . x + b, three inputs"),
    "friedman1": DataSet(lambda n, noise, seed: data.make_friedman1(n, noise=noise, seed=seed),
                         1.0, 0, 10, "Friedman's benchmark #1, 10 inputs"),
}


def dataset(name: str) -> DataSet:
    """The data set called ``name``."""
    return lookup("data set", DATASETS, name)


# ---- activations and losses -------------------------------------------------------------------

ACTIVATIONS: dict[str, type[Module]] = {**activations.ACTIVATIONS,
                                        "linear": activations.Identity}
"""The modules ``MLP(activation=...)`` takes by name; "linear" is none at all."""


def activation(name: str) -> type[Module]:
    """The activation module class called ``name``."""
    return lookup("activation", ACTIVATIONS, name)


LOSSES: dict[str, str] = {
    "hinge": "one score per row; classes 0/1 as -1/+1 for the margin",
    "bce": "one logit per row; p(class 1) = sigmoid(z)",
    "bce-probabilities": "one probability per row (logistic regression's output)",
    "cross-entropy": "one logit per class; softmax",
    "mse": "mean squared error, real targets",
    "l1": "mean absolute error, real targets",
}
"""``nn.training``'s losses by name (``training.LOSSES``), with what the outputs mean."""


def loss(name: str) -> str:
    """``name`` checked to be one of ``nn.training``'s losses."""
    lookup("loss", LOSSES, name)
    return name


def loss_for(classes: int) -> str:
    """The usual loss for a task: "mse" for real targets (0 classes), "bce" on one logit for
    two classes, "cross-entropy" on one logit per class for more."""
    if classes == 0:
        return "mse"
    return "bce" if classes == 2 else "cross-entropy"


# ---- the names, as the docs show them -------------------------------------------------------


def names_page() -> str:
    """docs/names.md: every name of these tables with what it means, as Markdown.

    The page is this function's output, and tests/test_docs.py keeps the two equal, so the
    docs list exactly the names demo.py and the playground take. To rewrite it:
    ``python -c "from nn import registry; print(registry.names_page(), end='')" > docs/names.md``
    """
    def table(header: str, rows: Iterable[tuple[str, str]]) -> str:
        lines = [f"| name | {header} |", "|---|---|"]
        lines += [f"| `{name}` | {text} |" for name, text in rows]
        return "\n".join(lines)

    def what(entry: DataSet) -> str:
        task = f"{entry.classes} classes" if entry.classes else "regression"
        inputs = f"{entry.inputs} input" + ("s" if entry.inputs > 1 else "")
        return f"{entry.summary} ({task}, {inputs}, noise {entry.noise:g})"

    def activation_text(name: str) -> str:  # the op's own formula, from its docstring
        op = getattr(Value, name, None)
        return "a: no activation" if op is None else op.__doc__.strip().splitlines()[0]

    return "\n\n".join([
        "# Names you can choose",
        ("The data sets, optimizers, activations and losses that `python demo.py`'s options, "
         "the playground's menus and `nn.registry` take, all read from one table "
         "(`nn/registry.py`). A name that is not here is an error everywhere. This page is "
         "`nn.registry.names_page()`, and a test keeps the two the same."),
        "## Data sets (`--dataset`, `registry.dataset(name)`)",
        table("what it is", ((n, what(d)) for n, d in DATASETS.items())),
        "## Optimizers (`--optimizer`, `registry.optimizer(name, params, lr)`)",
        table("what it does", ((n, o.summary) for n, o in OPTIMIZERS.items())),
        "## Activations (`--activation`, `MLP(..., activation=name)`)",
        table("what it computes", ((n, activation_text(n)) for n in ACTIVATIONS)),
        "## Losses (`--loss`, `nn.training`)",
        table("what the model's outputs are", LOSSES.items()),
    ]) + "\n"
