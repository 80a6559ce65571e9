"""Train a small classifier with chainrule, end to end, and look at what it learned.

    python demo.py                      # two moons, MLP 2-16-16-1, a few seconds
    python demo.py --dataset spiral     # three interleaved spiral arms, softmax output
    python demo.py --help               # every option

The steps are the ones every first course teaches: make data; split it into train,
validation and test; train with minibatch gradient descent (forward, loss, zero_grad,
backward, step), watching the validation accuracy and keeping the best epoch's weights;
then, once, measure on the test split; finally draw the decision boundary.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

from engine import Value
from nn import MLP, LogisticRegression, data, metrics, optim, training
from viz.files import write_atomic


class Recipe(NamedTuple):
    """How to make a data set, and training settings that work for it out of the box."""

    make: Callable[[int, int], tuple[list, list]]  # (n, seed) -> (X, y)
    hidden: str = "16,16"
    activation: str = "relu"
    loss: str = "hinge"
    optimizer: str = "adam"
    lr: float = 0.02
    epochs: int = 40
    batch_size: int = 16
    samples: int = 300


# Sensible defaults per data set, so a newcomer never has to tune flags to see it learn.
DATASETS: dict[str, Recipe] = {
    "moons": Recipe(lambda n, seed: data.make_moons(n, noise=0.1, seed=seed)),
    "circles": Recipe(lambda n, seed: data.make_circles(n, noise=0.1, factor=0.5, seed=seed)),
    "xor": Recipe(lambda n, seed: data.make_xor(n, noise=0.1, seed=seed)),
    "blobs": Recipe(lambda n, seed: data.make_blobs(n, centers=3, std=1.0, seed=seed),
                    hidden="16", loss="cross-entropy", epochs=30),
    "spiral": Recipe(lambda n, seed: data.make_spiral(n, classes=3, noise=0.2, seed=seed),
                     hidden="32,32", loss="cross-entropy", lr=0.02, epochs=60),
}
MULTICLASS = {"blobs", "spiral"}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Train a toy classifier with chainrule and report honest test metrics.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="moons",
                        help="which toy data set to learn (blobs and spiral have 3 classes)")
    parser.add_argument("--model", choices=["mlp", "logreg"], default="mlp",
                        help="a multi-layer perceptron, or logistic regression (binary sets)")
    parser.add_argument("--hidden", type=_widths, default=None,
                        help="hidden layer widths, comma-separated (default: per data set)")
    parser.add_argument("--activation", choices=["relu", "tanh", "sigmoid"], default=None,
                        help="non-linearity of the hidden layers (default: relu)")
    parser.add_argument("--loss", choices=["hinge", "bce", "cross-entropy"], default=None,
                        help="hinge (SVM margin) or bce for two classes; cross-entropy for more")
    parser.add_argument("--optimizer", choices=["sgd", "momentum", "adam", "radam"],
                        default=None, help="how each step moves the weights (default: adam)")
    parser.add_argument("--lr", type=_positive(float), default=None, help="learning rate")
    parser.add_argument("--epochs", type=_positive(int), default=None,
                        help="passes over the training split")
    parser.add_argument("--batch-size", type=_positive(int), default=None,
                        help="rows per gradient step")
    parser.add_argument("--samples", type=_positive(int), default=None,
                        help="how many points to generate (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="seed for data, split and weights")
    parser.add_argument("--out", default="out", help="folder for the model, history and pictures")
    parser.add_argument("--quiet", action="store_true", help="print only the final report")
    args = parser.parse_args(argv)
    recipe = DATASETS[args.dataset]
    for name in ("hidden", "activation", "loss", "optimizer", "lr", "epochs", "batch_size",
                 "samples"):
        if getattr(args, name) is None:
            value = getattr(recipe, name)
            setattr(args, name, _widths(value) if name == "hidden" else value)
    if args.model == "logreg" and args.loss == "hinge" and args.dataset not in MULTICLASS:
        args.loss = "bce"  # logistic regression is trained on cross-entropy by definition
    multiclass = args.dataset in MULTICLASS
    if multiclass and args.loss != "cross-entropy":
        parser.error(f"--dataset {args.dataset} has 3 classes: use --loss cross-entropy")
    if not multiclass and args.loss == "cross-entropy":
        parser.error(f"--dataset {args.dataset} has 2 classes: use --loss hinge or bce")
    if multiclass and args.model == "logreg":
        parser.error("--model logreg is binary: use --model mlp for blobs or spiral")
    return args


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


def build_model(args: argparse.Namespace, n_classes: int):
    if args.model == "logreg":
        return LogisticRegression(2, seed=args.seed)
    outputs = 1 if n_classes == 2 else n_classes
    return MLP(2, [*args.hidden, outputs], activation=args.activation, seed=args.seed)


def build_optimizer(args: argparse.Namespace, params: list[Value]) -> optim.Optimizer:
    if args.optimizer == "sgd":
        return optim.SGD(params, lr=args.lr)
    if args.optimizer == "momentum":
        return optim.SGD(params, lr=args.lr, momentum=0.9)
    if args.optimizer == "radam":
        return optim.RAdam(params, lr=args.lr)
    return optim.Adam(params, lr=args.lr)


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


def write_history(history: list[dict], path: str) -> None:
    """One row per epoch, written atomically (a crash never leaves half a file)."""
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=list(history[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    write_atomic(path, table.getvalue())


def draw_one_neuron(model, args: argparse.Namespace, x: Sequence[float], label: int,
                    out_dir: str) -> list[str]:
    """Forward and backward graphs of one neuron's loss, built from elementary ops.

    The neuron is the first unit of the model's first layer, with its trained weights, on
    one training point: z = w1*x1 + w2*x2 + b, p = sigmoid(z), loss = -log(p) for label 1
    (or -log(1 - p) for label 0). Returns notes on what could not be drawn.
    """
    from viz import GraphvizNotFound, draw_backward, draw_forward

    layer = model.layers[0] if hasattr(model, "layers") else model.linear
    w_row, bias = layer.weight[0], layer.bias[0]
    w1, w2 = Value(w_row[0].data, "w1"), Value(w_row[1].data, "w2")
    b = Value(bias.data, "b")
    x1, x2 = Value(x[0], "x1"), Value(x[1], "x2")
    z = w1 * x1 + w2 * x2 + b
    z.label = "z"
    p = z.sigmoid()
    p.label = "p"
    loss = -(p.log() if label == 1 else (1 - p).log())
    loss.label = "loss"
    forward = draw_forward(loss, params=[w1, w2, b])
    loss.backward()
    backward = draw_backward(loss, params=[w1, w2, b])
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


# ---- the run ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    say = (lambda *a: None) if args.quiet else print
    started = time.perf_counter()

    # 1. Data: generate, split, standardize with statistics of the training split only.
    X, y = DATASETS[args.dataset].make(args.samples, args.seed)
    X_train, y_train, X_val, y_val, X_test, y_test = data.train_val_test_split(
        X, y, val=0.15, test=0.15, seed=args.seed)
    scaler = data.Standardizer().fit(X_train)
    X_train, X_val, X_test = (scaler.transform(part) for part in (X_train, X_val, X_test))
    n_classes = len(set(y))
    say(f"data: {args.dataset}, {len(X)} points, {n_classes} classes -> "
        f"train {len(X_train)}, validation {len(X_val)}, test {len(X_test)}")

    # 2. Model and optimizer.
    model = build_model(args, n_classes)
    optimizer = build_optimizer(args, model.parameters())
    say(f"model: {model!r}, {model.num_parameters()} parameters")
    say(f"optimizer: {optimizer!r}; loss: {args.loss}; {args.epochs} epochs of batches of "
        f"{args.batch_size}")

    # 3. Train. Each step: forward, loss, zero_grad, backward, step.
    history: list[dict] = []
    best = {"epoch": 0, "key": (-1.0, 0.0), "weights": model.state_dict()}
    loss = training_loss(args)
    for epoch in range(1, args.epochs + 1):
        train_loss = training.train_epoch(model, optimizer, X_train, y_train, loss,
                                          batch_size=args.batch_size, seed=args.seed + epoch)
        train_acc = training.evaluate(model, X_train, y_train, loss)["accuracy"]
        validation = training.evaluate(model, X_val, y_val, loss)
        val_acc, val_loss = validation["accuracy"], validation["loss"]
        elapsed = time.perf_counter() - started
        history.append({"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                        "train_accuracy": train_acc, "val_accuracy": val_acc})
        say(f"epoch {epoch:3d}  train loss {train_loss:.4f}  val loss {val_loss:.4f}  "
            f"train acc {train_acc:.3f}  val acc {val_acc:.3f}  [{elapsed:5.1f}s]")
        # The best epoch: highest validation accuracy, ties broken by lower validation loss.
        if (val_acc, -val_loss) > best["key"]:
            best = {"epoch": epoch, "key": (val_acc, -val_loss), "weights": model.state_dict()}
    model.load_state_dict(best["weights"])
    say(f"keeping the weights of epoch {best['epoch']} (validation accuracy "
        f"{best['key'][0]:.3f}, loss {-best['key'][1]:.4f})")

    # 4. The test split, untouched until now.
    report, result = test_report(model, args, X_test, y_test)
    print(f"\ntest split ({len(X_test)} points), model from epoch {best['epoch']}:")
    print(report)

    # 5. What it learned, in the terminal.
    if not args.quiet:
        print("\ndecision boundary (standardized inputs):")
        print(ascii_boundary(model, args, X_test, y_test))

    # 6. Files.
    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "model.json"))
    write_history(history, os.path.join(args.out, "history.csv"))
    missing = draw_one_neuron(model, args, X_train[0], y_train[0], args.out)
    missing += draw_plots(model, args, history, X_test, y_test, result, args.out)
    written = sorted(f for f in os.listdir(args.out) if not f.startswith("."))
    print(f"\nwrote to {args.out}/: {', '.join(written)}")
    for note in missing:
        print(f"not drawn: {note}")
    print(f"done in {time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
