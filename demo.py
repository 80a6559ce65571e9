"""Train a small classifier or regressor with chainrule, end to end, and look at what it learned.

    python demo.py                      # two moons, MLP 2-16-16-1, a few seconds
    python demo.py --dataset spiral     # three interleaved spiral arms, softmax output
    python demo.py --dataset sine       # regression: fit a curve with mse (or --loss l1)
    python demo.py --help               # every option
    python demo.py --serve              # the playground: a network training live in the browser

The steps are the ones every first course teaches: make data; split it into train,
validation and test; train with minibatch gradient descent (forward, loss, zero_grad,
backward, step), watching the validation score and keeping the best epoch's weights;
then, once, measure on the test split; finally draw what it learned (the decision
boundary, or the fitted curve). A regressor is trained on standardized targets, like its
inputs, so its losses per epoch are in standard deviations of y; the test report brings
its predictions back to the units of y.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple, NoReturn

from engine import Value
from nn import MLP, LogisticRegression, data, metrics, optim, registry, training
from viz.files import write_atomic


class Recipe(NamedTuple):
    """Training settings that work for a data set out of the box (the data set itself is
    ``nn.registry.DATASETS[name]``)."""

    model: str = "mlp"
    hidden: str = "16,16"
    activation: str = "relu"
    loss: str = "hinge"
    optimizer: str = "adam"
    lr: float = 0.02
    epochs: int = 40
    batch_size: int = 16
    samples: int = 300


# Sensible defaults per data set, so a newcomer never has to tune flags to see it learn.
# A data set of the registry without a recipe here gets the one for its task.
RECIPES: dict[str, Recipe] = {
    "blobs": Recipe(hidden="16", loss="cross-entropy", epochs=30),
    "spiral": Recipe(hidden="32,32", loss="cross-entropy", lr=0.02, epochs=60),
    "sine": Recipe(hidden="16,16", activation="tanh", loss="mse", lr=0.01, epochs=60),
    "linear": Recipe(model="linear", loss="mse", lr=0.05, epochs=30),
    "friedman1": Recipe(hidden="32", activation="tanh", loss="mse", lr=0.01, epochs=60,
                        samples=600),
}
DATASETS = registry.DATASETS
MULTICLASS = {name for name, d in DATASETS.items() if d.classes > 2}
REGRESSION = {name for name, d in DATASETS.items() if d.task == "regression"}


def recipe_for(dataset: str) -> Recipe:
    """The training defaults for ``dataset``: its own recipe, or its task's."""
    if dataset in RECIPES:
        return RECIPES[dataset]
    if dataset in REGRESSION:
        return Recipe(activation="tanh", loss="mse", lr=0.01, epochs=60)
    return Recipe(loss="cross-entropy") if dataset in MULTICLASS else Recipe()


def make_data(dataset: str, n: int, seed: int) -> tuple[list, list]:
    """``n`` rows of ``dataset`` with its default noise."""
    chosen = registry.dataset(dataset)
    return chosen.make(n, chosen.noise, seed)


MIN_SAMPLES = 20
"""Points a run needs at least: 15% of them make the test split, and R^2 needs two points."""
MAX_SAMPLES = 100_000
"""Points a run may generate: every number is a Python object, so 10^8 points need gigabytes."""
MAX_PARAMETERS = 100_000
"""Weights and biases a model may have: each is a Value of about 100 bytes, and every training
step builds a graph node for each of them (10,000 x 10,000 would need gigabytes)."""


class _OneLineErrors(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


class _HelpWithDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """--help shows each default, except None: those options' help says "per data set"."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None:
            return action.help or ""
        return super()._get_help_string(action)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = _OneLineErrors(
        description="Train a toy classifier or regressor with chainrule and report honest "
                    "test metrics.",
        formatter_class=_HelpWithDefaults,
    )
    parser.add_argument("--dataset", choices=list(DATASETS), default="moons",
                        help="which toy data set to learn (blobs and spiral have 3 classes; "
                             "sine, linear and friedman1 have real-valued targets)")
    parser.add_argument("--model", choices=["mlp", "logreg", "linear"], default=None,
                        help="a multi-layer perceptron, logistic regression (binary sets) or "
                             "linear regression (regression sets) (default: per data set)")
    parser.add_argument("--hidden", type=_widths, default=None,
                        help="hidden layer widths, comma-separated (default: per data set)")
    parser.add_argument("--activation", choices=list(registry.ACTIVATIONS), default=None,
                        help="non-linearity of the hidden layers (default: per data set)")
    parser.add_argument("--loss", choices=[n for n in registry.LOSSES if n != "bce-probabilities"],
                        default=None,
                        help="hinge (SVM margin) or bce for two classes; cross-entropy for "
                             "more; mse (L2) or l1 for regression (default: per data set)")
    parser.add_argument("--optimizer", choices=list(registry.OPTIMIZERS),
                        default=None, help="how each step moves the weights (default: per data set)")
    parser.add_argument("--lr", type=_positive(float), default=None, help="learning rate (default: per data set)")
    parser.add_argument("--epochs", type=_positive(int), default=None,
                        help="passes over the training split (default: per data set)")
    parser.add_argument("--batch-size", type=_positive(int), default=None,
                        help="rows per gradient step (default: per data set)")
    parser.add_argument("--samples", type=_positive(int), default=None,
                        help="how many points to generate (default: per data set)")
    parser.add_argument("--seed", type=int, default=0, help="seed for data, split and weights")
    parser.add_argument("--out", default="out", help="folder for the model, history and pictures")
    parser.add_argument("--quiet", action="store_true", help="print only the final report")
    parser.add_argument("--compile", action="store_true",
                        help="train through compiled steps (nn.compiled): the same numbers, faster")
    parser.add_argument("--serve", action="store_true",
                        help="start the playground instead, a page that trains live in the "
                             "browser (its options: --port, --host, --no-browser)")
    args = parser.parse_args(argv)
    recipe = recipe_for(args.dataset)
    for name in ("model", "hidden", "activation", "loss", "optimizer", "lr", "epochs",
                 "batch_size", "samples"):
        if getattr(args, name) is None:
            value = getattr(recipe, name)
            setattr(args, name, _widths(value) if name == "hidden" else value)
    _check_combination(parser, args)
    _check_sizes(parser, args)
    problem = _output_folder_problem(args.out)
    if problem:
        parser.error(problem)
    return args


def _check_combination(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse a loss or model that does not fit the data set (and pick bce for logreg)."""
    if args.dataset in REGRESSION:
        if args.loss not in training.REGRESSION_LOSSES:
            parser.error(f"--dataset {args.dataset} has real-valued targets: use --loss mse "
                         f"or l1, not {args.loss}")
        if args.model == "logreg":
            parser.error("--model logreg is a classifier: use --model mlp or linear for "
                         f"--dataset {args.dataset}")
        return
    if args.loss in training.REGRESSION_LOSSES:
        parser.error(f"--loss {args.loss} is for real-valued targets (sine, linear, "
                     f"friedman1); --dataset {args.dataset} has classes")
    if args.model == "linear":
        parser.error("--model linear is linear regression: use --model logreg for a linear "
                     f"classifier of --dataset {args.dataset}")
    if args.model == "logreg" and args.loss == "hinge" and args.dataset not in MULTICLASS:
        args.loss = "bce"  # logistic regression is trained on cross-entropy by definition
    multiclass = args.dataset in MULTICLASS
    if multiclass and args.loss != "cross-entropy":
        parser.error(f"--dataset {args.dataset} has 3 classes: use --loss cross-entropy")
    if not multiclass and args.loss == "cross-entropy":
        parser.error(f"--dataset {args.dataset} has 2 classes: use --loss hinge or bce")
    if multiclass and args.model == "logreg":
        parser.error("--model logreg is binary: use --model mlp for blobs or spiral")


def _check_sizes(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse, before any work, a run too small to split and score or too big for memory."""
    if args.samples < MIN_SAMPLES:
        parser.error(f"--samples must be at least {MIN_SAMPLES} (each of the train, validation "
                     f"and test splits needs points of every class), got {args.samples}")
    if args.samples > MAX_SAMPLES:
        parser.error(f"--samples must be at most {MAX_SAMPLES:,}, got {args.samples:,}")
    X, y = make_data(args.dataset, MIN_SAMPLES, args.seed)  # a few rows, for the shapes
    outputs = 1 if args.dataset in REGRESSION or len(set(y)) == 2 else len(set(y))
    widths = [len(X[0]), *(args.hidden if args.model == "mlp" else []), outputs]
    if args.model == "logreg":
        widths[-1] = 1
    count = sum((nin + 1) * nout for nin, nout in itertools.pairwise(widths))
    if count > MAX_PARAMETERS:
        parser.error(f"--hidden {','.join(map(str, args.hidden))} makes a model of "
                     f"{count:,} parameters; at most {MAX_PARAMETERS:,} are allowed")


def _output_folder_problem(path: str) -> str | None:
    """What stops the run from writing into the folder ``path``, or None. The folder is made
    here (before training, so a bad --out costs no time), and a file is written and removed
    in it: the only sure test that files can be saved there."""
    shown = repr(path if len(path) <= 60 else path[:57] + "...")
    if not path:
        return "--out is empty: name a folder for the model, history and pictures"
    if os.path.exists(path) and not os.path.isdir(path):
        return f"--out {shown} is a file, not a folder: name a folder (it is made if missing)"
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        return f"--out {shown}: cannot write there ({error.strerror or error})"
    return None


def _widths(text: str) -> list[int]:
    try:
        widths = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected widths like 16,16, got {text!r}") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"widths must be positive integers, got {text!r}")
    return widths


def _positive(kind: type) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {kind.__name__}, got {text!r}") from None
        if not value > 0 or (kind is float and not math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
        return value

    return parse


# ---- the pieces of a training run ---------------------------------------------------------


def build_model(args: argparse.Namespace, n_inputs: int, n_outputs: int):
    """The network: one output per class, or a single score for two classes or a regression
    (the last layer is linear in every case: a score, a logit, or the predicted value)."""
    if args.model == "logreg":
        return LogisticRegression(n_inputs, seed=args.seed)
    if args.model == "linear":  # y = w . x + b: no hidden layer
        return MLP(n_inputs, [1], seed=args.seed)
    return MLP(n_inputs, [*args.hidden, n_outputs], activation=args.activation, seed=args.seed)


def build_optimizer(args: argparse.Namespace, params: list[Value]) -> optim.Optimizer:
    return registry.optimizer(args.optimizer, params, args.lr)


def training_loss(args: argparse.Namespace) -> str:
    """The name of the loss in nn.training: it also says what the model's outputs are."""
    if args.model == "logreg":  # its output is already a probability
        return "bce-probabilities"
    return args.loss


def predict(model, args: argparse.Namespace, X: Sequence[Sequence[float]]) -> list:
    """The model's predicted class (or value) for each row of X, without building a graph."""
    return training.predict(training.scores(model, X), training_loss(args))


# ---- reports ------------------------------------------------------------------------------


def ascii_boundary(model, args: argparse.Namespace, X: Sequence[Sequence[float]],
                   y: Sequence[int], width: int = 64, height: int = 24) -> str:
    """The plane as characters: the predicted class of each cell, test points on top."""
    shades = ".:-=+*#%"
    marks = "ox^sv"
    xs = [row[0] for row in X]
    ys = [row[1] for row in X]
    x0, x1 = min(xs) - 0.25, max(xs) + 0.25
    y0, y1 = min(ys) - 0.25, max(ys) + 0.25
    cells = [[x0 + (x1 - x0) * (i + 0.5) / width, y1 - (y1 - y0) * (j + 0.5) / height]
             for j in range(height) for i in range(width)]
    classes = predict(model, args, cells)
    grid = [[shades[classes[j * width + i] % len(shades)] for i in range(width)]
            for j in range(height)]
    for (px, py), label in zip(X, y):
        i = min(width - 1, max(0, int((px - x0) / (x1 - x0) * width)))
        j = min(height - 1, max(0, int((y1 - py) / (y1 - y0) * height)))
        grid[j][i] = marks[label % len(marks)]
    legend = ", ".join(f"class {c}: area '{shades[c]}', test points '{marks[c]}'"
                       for c in sorted(set(y)))
    return "\n".join("".join(row) for row in grid) + "\n" + legend


def test_report(model, args: argparse.Namespace, X: Sequence[Sequence[float]],
                y: Sequence[int]) -> tuple[str, dict]:
    """Confusion matrix and every metric on the test split, as text and as numbers."""
    result = training.evaluate(model, X, y, training_loss(args))
    y_pred = predict(model, args, X)
    labels = sorted(set(y) | set(y_pred))
    matrix = metrics.confusion_matrix(y, y_pred, labels=labels)
    average = "macro" if args.dataset in MULTICLASS else "binary"
    lines = ["confusion matrix (rows: true class, columns: predicted)",
             "        " + " ".join(f"{c:>6}" for c in labels)]
    lines += [f"  {c:>6}" + " ".join(f"{n:>6}" for n in row) for c, row in zip(labels, matrix)]
    suffix = " (macro average over classes)" if average == "macro" else ""
    lines.append(f"accuracy  {result['accuracy']:.4f}")
    for name in ("precision", "recall", "f1", "roc_auc", "pr_auc"):
        lines.append(f"{name:<9} {result[name]:.4f}{suffix}")
    return "\n".join(lines), result


def regression_report(y_true: Sequence[float], y_pred: Sequence[float]) -> tuple[str, dict]:
    """MAE, MSE, RMSE (in the units of y) and R^2 on the test split, as text and numbers."""
    result = {"mae": metrics.mean_absolute_error(y_true, y_pred),
              "mse": metrics.mean_squared_error(y_true, y_pred),
              "rmse": metrics.root_mean_squared_error(y_true, y_pred),
              "r2": metrics.r2_score(y_true, y_pred)}
    return "\n".join(f"{name:<9} {value:.4f}" for name, value in result.items()), result


def ascii_fit(fitted: Callable[[list], list[float]], X: Sequence[Sequence[float]],
              y: Sequence[float], width: int = 64, height: int = 20) -> str:
    """The fitted curve against the test points, as characters (for one input); for several
    inputs, each test point's prediction against its true value, with the diagonal y = x
    where a perfect model would put every point."""
    if len(X[0]) == 1:
        xs = [row[0] for row in X]
        x0, x1 = min(xs), max(xs)
        grid = [x0 + (x1 - x0) * (i + 0.5) / width for i in range(width)]
        line = list(zip(grid, fitted([[g] for g in grid])))
        points = list(zip(xs, y))
        title = "\nfitted curve (x in data units):"
        legend = "the model's curve '*', test points 'o'"
    else:
        predicted = fitted([list(row) for row in X])
        lo, hi = min(*y, *predicted), max(*y, *predicted)
        line = [(lo + (hi - lo) * (i + 0.5) / width,) * 2 for i in range(width)]
        points = list(zip(y, predicted))
        title = "\npredicted (up) against true (across) on the test split:"
        legend = "perfect predictions '*' (y = x), test points 'o'"
    x0 = min(px for px, _ in line + points)
    x1 = max(px for px, _ in line + points)
    y0 = min(py for _, py in line + points)
    y1 = max(py for _, py in line + points)
    cells = [[" "] * width for _ in range(height)]
    for mark, series in (("*", line), ("o", points)):
        for px, py in series:
            i = min(width - 1, int((px - x0) / (x1 - x0) * width))
            j = min(height - 1, int((y1 - py) / (y1 - y0) * height))
            cells[j][i] = mark
    rows = ["|" + "".join(row) for row in cells]
    axis = f"+{'-' * width}\n x from {x0:.2f} to {x1:.2f}, y from {y0:.2f} to {y1:.2f}"
    return "\n".join([title, *rows, axis, legend])


def write_history(history: list[dict], path: str) -> None:
    """One row per epoch, written atomically (a crash never leaves half a file)."""
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=list(history[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    write_atomic(path, table.getvalue())


def draw_one_neuron(model, args: argparse.Namespace, x: Sequence[float], target: float,
                    out_dir: str) -> list[str]:
    """Forward and backward graphs of one neuron's loss, built from elementary ops.

    The neuron is the first unit of the model's first layer, with its trained weights, on
    one training point: z = w1*x1 + w2*x2 + ... + b. A classifier's neuron is read as a
    logistic unit, p = sigmoid(z), loss = -log(p) for label 1 (or -log(1 - p) for label 0);
    a regressor's as a linear one, loss = (z - t)^2 for the (standardized) target t.
    Returns notes on what could not be drawn.
    """
    from viz import GraphvizNotFound, draw_backward, draw_forward

    layer = model.layers[0] if hasattr(model, "layers") else model.linear
    w_row, bias = layer.weight[0], layer.bias[0]
    ws = [Value(w.data, f"w{i + 1}") for i, w in enumerate(w_row)]
    b = Value(bias.data, "b")
    xs = [Value(v, f"x{i + 1}") for i, v in enumerate(x)]
    z = ws[0] * xs[0]
    for w_i, x_i in zip(ws[1:], xs[1:]):
        z = z + w_i * x_i
    z = z + b
    z.label = "z"
    if args.dataset in REGRESSION:
        error = z - target
        error.label = "z - t"
        loss = error * error
    else:
        p = z.sigmoid()
        p.label = "p"
        loss = -(p.log() if target == 1 else (1 - p).log())
    loss.label = "loss"
    forward = draw_forward(loss, params=[*ws, b])
    loss.backward()
    backward = draw_backward(loss, params=[*ws, b])
    notes = []
    for name, graph in (("neuron_forward", forward), ("neuron_backward", backward)):
        write_atomic(os.path.join(out_dir, f"{name}.dot"), graph.source)
        try:
            graph.render(os.path.join(out_dir, f"{name}.svg"), cleanup=True)
        except GraphvizNotFound:
            hint = "apt-get install graphviz (and pip install graphviz)"
            notes = [f"SVG of the neuron graphs: needs Graphviz: {hint}"]
    return notes


def draw_plots(model, args: argparse.Namespace, history: list[dict], X_test, y_test,
               result: dict, out_dir: str) -> list[str]:
    from viz import plots

    if not plots.have_matplotlib():
        return [f"decision_boundary.png, loss.png, roc_pr.png: need matplotlib: {plots.INSTALL_HINT}"]
    plots.plot_decision_boundary(lambda p: predict(model, args, [p])[0],
                                 X_test, y_test, os.path.join(out_dir, "decision_boundary.png"),
                                 title=f"{args.dataset}: test points on the learned regions")
    plots.plot_losses({"train": [h["train_loss"] for h in history],
                       "validation": [h["val_loss"] for h in history]},
                      os.path.join(out_dir, "loss.png"), title="Loss per epoch")
    if args.dataset not in MULTICLASS:
        scores = training.scores(model, X_test)
        roc = metrics.roc_curve(y_test, scores)
        pr = metrics.precision_recall_curve(y_test, scores)
        plots.plot_roc_pr((roc[0], roc[1]), result["roc_auc"], (pr[1], pr[0]),
                          result["pr_auc"], os.path.join(out_dir, "roc_pr.png"))
    return []


def draw_fit(fitted: Callable[[list], list[float]], args: argparse.Namespace,
             history: list[dict], split: data.Split, out_dir: str, model) -> list[str]:
    """fit.png (the curve with the training and test points for one input; predicted against
    true otherwise; the learned against the true coefficients for a linear model of the
    linear set) and loss.png."""
    from viz import plots

    if not plots.have_matplotlib():
        return [f"fit.png, loss.png: need matplotlib: {plots.INSTALL_HINT}"]
    plots.plot_losses({"train": [h["train_loss"] for h in history],
                       "validation": [h["val_loss"] for h in history]},
                      os.path.join(out_dir, "loss.png"), title="Loss per epoch (standardized y)")
    train_x, test_x = split.X_train, split.X_test
    if len(train_x[0]) == 1:
        lo = min(row[0] for row in train_x + test_x)
        hi = max(row[0] for row in train_x + test_x)
        grid = [lo + (hi - lo) * i / 200 for i in range(201)]
        panels = [plots.Panel(f"{args.dataset}: the fitted curve", [
            plots.Curve([row[0] for row in train_x], split.y_train, "train", "."),
            plots.Curve([row[0] for row in test_x], split.y_test, "test", "o"),
            plots.Curve(grid, fitted([[g] for g in grid]), "model", "-")], "x", "y")]
    else:
        truth = [*split.y_train, *split.y_test]
        diagonal = [min(truth), max(truth)]
        panels = [plots.Panel(f"{args.dataset}: predicted against true", [
            plots.Curve(split.y_train, fitted(train_x), "train", "."),
            plots.Curve(split.y_test, fitted(test_x), "test", "o"),
            plots.Curve(diagonal, diagonal, "y = x", "-")], "true y", "predicted y")]
    if args.dataset == "linear" and args.model == "linear":
        _, _, w, b = data.make_linear(args.samples, features=len(train_x[0]), seed=args.seed)
        learned = linear_coefficients(fitted, len(w))
        index = list(range(len(w) + 1))
        panels.append(plots.Panel("coefficients (the last one is b)", [
            plots.Curve(index, [*w, b], "true", "o"),
            plots.Curve(index, learned, "learned", "x")], "w1 .. wd, then b", "value"))
    plots.plot_panels(panels, os.path.join(out_dir, "fit.png"))
    return []


def linear_coefficients(fitted: Callable[[list], list[float]], d: int) -> list[float]:
    """w_1 .. w_d and b of a model that is linear in the raw inputs, read off its outputs:
    b = f(0) and w_j = f(e_j) - f(0). (The model works on standardized inputs and targets;
    composed with both standardizations it is still linear in x.)"""
    rows = [[0.0] * d] + [[1.0 if k == j else 0.0 for k in range(d)] for j in range(d)]
    at_zero, *at_units = fitted(rows)
    return [f - at_zero for f in at_units] + [at_zero]


# ---- the run ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--serve" in argv:  # the playground takes its own options: see python -m playground -h
        from playground.cli import main as serve

        return serve([a for a in argv if a != "--serve"], prog="demo.py --serve")
    args = parse_args(argv)
    say = (lambda *a: None) if args.quiet else print
    started = time.perf_counter()

    # 1. Data: generate, split, standardize with statistics of the training split only.
    regression = args.dataset in REGRESSION
    X, y = make_data(args.dataset, args.samples, args.seed)
    split = data.train_val_test_split(X, y, val=0.15, test=0.15, seed=args.seed)
    scaler = data.Standardizer().fit(split.X_train)
    X_train, X_val, X_test = (scaler.transform(part)
                              for part in (split.X_train, split.X_val, split.X_test))
    y_train, y_val, y_test = split.y_train, split.y_val, split.y_test
    if regression:  # the targets too; y_test stays in y's units for the report
        targets = data.Standardizer().fit(y_train)
        y_train, y_val = targets.transform(y_train), targets.transform(y_val)
        n_outputs = 1
        inputs = "1 input" if len(X[0]) == 1 else f"{len(X[0])} inputs"
        say(f"data: {args.dataset}, {len(X)} points, {inputs}, real-valued targets "
            f"-> train {len(X_train)}, validation {len(X_val)}, test {len(X_test)}")
    else:
        n_classes = len(set(y))
        n_outputs = 1 if n_classes == 2 else n_classes
        say(f"data: {args.dataset}, {len(X)} points, {n_classes} classes -> "
            f"train {len(X_train)}, validation {len(X_val)}, test {len(X_test)}")

    # 2. Model and optimizer.
    model = build_model(args, len(X[0]), n_outputs)
    optimizer = build_optimizer(args, model.parameters())
    say(f"model: {model!r}, {model.num_parameters()} parameters")
    say(f"optimizer: {optimizer!r}; loss: {args.loss}; {args.epochs} epochs of batches of "
        f"{args.batch_size}")

    # 3. Train. Each step: forward, loss, zero_grad, backward, step.
    history: list[dict] = []
    best = {"epoch": 0, "key": None, "weights": model.state_dict()}
    loss = training_loss(args)
    score, short = ("r2", "r2") if regression else ("accuracy", "acc")
    for epoch in range(1, args.epochs + 1):
        train_loss = training.train_epoch(model, optimizer, X_train, y_train, loss,
                                          batch_size=args.batch_size, seed=args.seed + epoch,
                                          compile=args.compile)
        why = training.divergence(model, train_loss)
        if why is not None:  # nothing recovers from here, and metrics of nan mean nothing
            print(f"demo.py: training diverged at epoch {epoch} ({why}): lower the learning "
                  f"rate (--lr {args.lr:g})", file=sys.stderr)
            return 1
        train_score = training.evaluate(model, X_train, y_train, loss)[score]
        validation = training.evaluate(model, X_val, y_val, loss)
        val_score, val_loss = validation[score], validation["loss"]
        elapsed = time.perf_counter() - started
        history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                        f"train_{score}": train_score, f"val_{score}": val_score})
        say(f"epoch {epoch:3d}  train loss {train_loss:.4f}  val loss {val_loss:.4f}  "
            f"train {short} {train_score:.3f}  val {short} {val_score:.3f}  [{elapsed:5.1f}s]")
        # The best epoch: the lowest validation loss for a regressor; for a classifier the
        # highest validation accuracy, ties broken by lower validation loss.
        key = (-val_loss,) if regression else (val_score, -val_loss)
        if best["key"] is None or key > best["key"]:
            best = {"epoch": epoch, "key": key, "loss": val_loss, "score": val_score,
                    "weights": model.state_dict()}
    model.load_state_dict(best["weights"])
    if regression:
        say(f"keeping the weights of epoch {best['epoch']} (validation loss "
            f"{best['loss']:.4f}, r2 {best['score']:.3f})")
    else:
        say(f"keeping the weights of epoch {best['epoch']} (validation accuracy "
            f"{best['score']:.3f}, loss {best['loss']:.4f})")

    # 4. The test split, untouched until now.
    if regression:
        def fitted(rows):  # predictions in y's units for raw inputs
            return targets.inverse_transform(training.scores(model, scaler.transform(rows)))

        report, result = regression_report(y_test, fitted(split.X_test))
    else:
        report, result = test_report(model, args, X_test, y_test)
    print(f"\ntest split ({len(X_test)} points), model from epoch {best['epoch']}:")
    print(report)

    # 5. What it learned, in the terminal.
    if not args.quiet and regression:
        print(ascii_fit(fitted, split.X_test, y_test))
    elif not args.quiet:
        print("\ndecision boundary (standardized inputs):")
        print(ascii_boundary(model, args, X_test, y_test))

    # 6. Files.
    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "model.json"))
    write_history(history, os.path.join(args.out, "history.csv"))
    missing = draw_one_neuron(model, args, X_train[0], y_train[0], args.out)
    if regression:
        missing += draw_fit(fitted, args, history, split, args.out, model)
    else:
        missing += draw_plots(model, args, history, X_test, y_test, result, args.out)
    written = sorted(f for f in os.listdir(args.out) if not f.startswith("."))
    print(f"\nwrote to {args.out}/: {', '.join(written)}")
    for note in missing:
        print(f"not drawn: {note}")
    print(f"done in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
