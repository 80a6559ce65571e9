"""Regenerate every figure of the course in docs/figures, from chainrule's own code.

    python docs/make_figures.py               # every figure, into docs/figures
    python docs/make_figures.py --small       # coarse grids and few epochs: a quick check
    python docs/make_figures.py --out /tmp/f  # somewhere else

Needs matplotlib (``pip install -e '.[plot]'``) and Graphviz's ``dot`` for the graphs.
Every number comes from the engine or ``nn``: losses from ``nn.losses``, derivatives from
``backward()``, the optimizer paths from ``nn.optim``, the metrics from the models the
pages train. Seeds are fixed, so a rerun gives the same files.
Each figure's code below repeats the setup of the page that shows it (named in its
docstring), so that the picture and the page's printed numbers describe the same run.
"""

from __future__ import annotations

import argparse
import io
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python docs/make_figures.py` from anywhere finds our packages
    sys.path.insert(0, str(ROOT))

from engine import Value, no_grad
from nn import MLP, LogisticRegression, Module, data, losses, metrics, optim, training
from viz import GraphvizNotFound, draw_backward, draw_forward, plots, save_backward_html
from viz.files import write_atomic
from viz.plots import Curve, Panel, RocPr

FIGURES = Path(__file__).resolve().parent / "figures"


def linspace(start: float, stop: float, n: int) -> list[float]:
    return [start + (stop - start) * i / (n - 1) for i in range(n)]


def slope(f: Callable[[Value], Value], x: float) -> float:
    """df/dx at x, from the engine's backward()."""
    v = Value(x)
    f(v).backward()
    return v.grad


# ---- 02: losses ----------------------------------------------------------------------------


def loss_curves(out: Path, small: bool) -> list[Path]:
    """docs/02-losses.md: L1 and L2 against the error, binary cross-entropy against p."""
    n = 13 if small else 121
    errors = linspace(-3.0, 3.0, n)
    l1 = [losses.l1(Value(e), 0.0).data for e in errors]
    l2 = [losses.mse(Value(e), 0.0).data for e in errors]
    l1_slope = [slope(lambda v: losses.l1(v, 0.0), e) for e in errors]
    l2_slope = [slope(lambda v: losses.mse(v, 0.0), e) for e in errors]
    ps = linspace(0.005, 0.995, n)
    bce_1 = [losses.binary_cross_entropy(p, 1.0).data for p in ps]
    bce_0 = [losses.binary_cross_entropy(p, 0.0).data for p in ps]
    regression = Panel("Regression losses", [
        Curve(errors, l1, "L1 = |error|"),
        Curve(errors, l2, "L2 = error²"),
        Curve(errors, l1_slope, "slope of L1 (backward)", "--"),
        Curve(errors, l2_slope, "slope of L2 (backward)", ":"),
    ], xlabel="error = prediction - target", ylabel="loss", ylim=(-3.2, 6.2))
    classification = Panel("Binary cross-entropy", [
        Curve(ps, bce_1, "target 1: -log p"),
        Curve(ps, bce_0, "target 0: -log(1 - p)"),
    ], xlabel="predicted probability p of class 1", ylabel="loss")
    path = out / "losses.png"
    plots.plot_panels([regression, classification], str(path), panel_size=(4.6, 3.4))
    return [path]


# ---- 03: gradient descent and SGD -----------------------------------------------------------


def line_data(n: int = 40, seed: int = 0) -> tuple[list[float], list[float]]:
    """Points near y = 2x + 1, x in [0, 2]: the data of docs/03-optimization.md."""
    rng = random.Random(seed)
    xs = [rng.uniform(0.0, 2.0) for _ in range(n)]
    return xs, [2.0 * x + 1.0 + rng.gauss(0.0, 0.3) for x in xs]


def descend(xs: list[float], ys: list[float], batch_size: int, steps: int, lr: float,
            seed: int = 0) -> list[tuple[float, float]]:
    """(w, b) after each step of SGD on the mean squared error of w*x + b, from (-1, 3)."""
    w, b = Value(-1.0), Value(3.0)
    opt = optim.SGD([w, b], lr=lr)
    path = [(w.data, b.data)]
    epoch = 0
    while len(path) <= steps:
        for xb, yb in data.batches([[x] for x in xs], ys, batch_size, seed=seed + epoch):
            loss = losses.mse([w * x + b for (x,) in xb], yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            path.append((w.data, b.data))
            if len(path) > steps:
                break
        epoch += 1
    return path


def descent_paths(out: Path, small: bool) -> list[Path]:
    """docs/03-optimization.md: full-batch gradient descent vs SGD on the contours of L(w, b)."""
    xs, ys = line_data()
    n = 15 if small else 61
    ws, bs = linspace(-1.5, 3.5, n), linspace(-0.5, 5.5, n)  # room above the paths for the legend
    with no_grad():
        grid = [[losses.mse([w * x + b for x in xs], ys).data for w in ws] for b in bs]
    gd = descend(xs, ys, batch_size=len(xs), steps=50, lr=0.3)
    sgd = descend(xs, ys, batch_size=1, steps=200, lr=0.05)
    path = out / "gd_vs_sgd.png"
    plots.plot_descent_paths(
        ws, bs, grid, {"SGD: 1 random point per step": sgd,
                       "gradient descent: all 40 points per step": gd},
        str(path), minimum=_least_squares(xs, ys), title="L(w, b) = mean (w x + b - y)²",
        dpi=90)
    return [path]


def _least_squares(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """The exact minimum of the mean squared error of w*x + b (the normal equations)."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    w = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return w, my - w * mx


# ---- 05: overfitting ------------------------------------------------------------------------


def sine_data(n: int, rng: random.Random) -> tuple[list[list[float]], list[float]]:
    """n points of y = sin(3x) + noise, x in [-1, 1]: the data of docs/05-data.md."""
    xs = [rng.uniform(-1.0, 1.0) for _ in range(n)]
    return [[x] for x in xs], [math.sin(3.0 * x) + rng.gauss(0.0, 0.3) for x in xs]


def overfitting_run(epochs: int, grid: list[float]) -> dict:
    """docs/05-data.md's run: the losses on the training and validation points after each
    epoch's step (the page's convention), and the fits at the best epoch and the last."""
    rng = random.Random(1)
    X_train, y_train = sine_data(10, rng)
    X_val, y_val = sine_data(50, rng)
    model = MLP(1, [16, 16, 1], activation="tanh", seed=0)
    opt = optim.Adam(model.parameters(), lr=0.05)
    train_curve, val_curve = [], []
    best = (math.inf, 0, [])
    for epoch in range(1, epochs + 1):
        loss = losses.mse([model(x) for x in X_train], y_train)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with no_grad():
            val = losses.mse([model(x) for x in X_val], y_val).data
            train = losses.mse([model(x) for x in X_train], y_train).data
        train_curve.append(train)
        val_curve.append(val)
        if val < best[0]:
            with no_grad():
                best = (val, epoch, [model([g]).data for g in grid])
    with no_grad():
        final = [model([g]).data for g in grid]
    return {"data": (X_train, y_train, X_val, y_val), "train": train_curve, "validation": val_curve,
            "best": best, "final": final}


def overfitting(out: Path, small: bool) -> list[Path]:
    """docs/05-data.md: an MLP with 321 parameters learns 10 points by heart."""
    epochs = 40 if small else 300
    grid = linspace(-1.0, 1.0, 25 if small else 101)
    run = overfitting_run(epochs, grid)
    X_train, y_train, X_val, y_val = run["data"]
    train_curve, val_curve, best, final = run["train"], run["validation"], run["best"], run["final"]
    epochs_axis = list(range(1, epochs + 1))
    fit = Panel("The data and two fits", [
        Curve([x for x, in X_val], y_val, "validation points", "."),
        Curve([x for x, in X_train], y_train, "training points", "o"),
        Curve(grid, [math.sin(3.0 * g) for g in grid], "truth: sin(3x)", "k:"),
        Curve(grid, best[2], f"epoch {best[1]} (best validation loss)"),
        Curve(grid, final, f"epoch {epochs} (train loss {train_curve[-1]:.4f})"),
    ], xlabel="x", ylabel="y", ylim=(-2.5, 2.5))
    curves = Panel("Loss per epoch (MSE)", [
        Curve(epochs_axis, train_curve, "train"),
        Curve(epochs_axis, val_curve, "validation"),
        Curve([best[1]], [best[0]], "best validation epoch", "kv"),
    ], xlabel="epoch", ylabel="loss", yscale="log")
    path = out / "overfitting.png"
    plots.plot_panels([fit, curves], str(path), title="MLP 1-16-16-1 (tanh) on 10 points",
                      panel_size=(4.8, 3.6))
    return [path]


# ---- 05: regression -------------------------------------------------------------------------


SINE_OUTLIERS = ([[1.0], [1.2], [1.4]], [-3.0, -3.0, -3.0])


def sine_fits(epochs: int) -> tuple[data.Split, dict[str, Module]]:
    """docs/05-data.md's regression: the make_sine split, and its four fits by name (the
    line and the MLP on the clean training split, the MLP under mse and l1 with outliers)."""
    split = data.train_val_test_split(*data.make_sine(200, noise=0.1, seed=0), seed=0)

    def fit(model: Module, loss: str, X_fit: list, y_fit: list) -> Module:
        optimizer = optim.Adam(model.parameters(), lr=0.02)
        for epoch in range(epochs):
            training.train_epoch(model, optimizer, X_fit, y_fit, loss, batch_size=16,
                                 seed=epoch)
        return model

    X_bad, y_bad = split.X_train + SINE_OUTLIERS[0], split.y_train + SINE_OUTLIERS[1]
    fits = {"line": fit(MLP(1, [1], seed=0), "mse", split.X_train, split.y_train),
            "MLP": fit(MLP(1, [16, 16, 1], activation="tanh", seed=0), "mse", split.X_train,
                       split.y_train)}
    for loss in ("mse", "l1"):
        fits[loss] = fit(MLP(1, [16, 16, 1], activation="tanh", seed=0), loss, X_bad, y_bad)
    return split, fits


def regression(out: Path, small: bool) -> list[Path]:
    """docs/05-data.md: a line underfits make_sine, an MLP fits it; outliers bend L2, not L1."""
    split, fits = sine_fits(epochs=5 if small else 60)
    grid = linspace(-3.0, 3.0, 31 if small else 121)

    def curve(name: str) -> list[float]:
        return training.scores(fits[name], [[g] for g in grid])

    train_x, test_x = [x for x, in split.X_train], [x for x, in split.X_test]
    truth = Curve(grid, [math.sin(g) for g in grid], "truth: sin(x)", "k:")
    underfit = Panel("Underfitting and fitting", [
        Curve(train_x, split.y_train, "training points", "."),
        Curve(test_x, split.y_test, "test points", "o"),
        truth,
        Curve(grid, curve("line"), "line (MSE)"),
        Curve(grid, curve("MLP"), "MLP 1-16-16-1 (MSE)"),
    ], xlabel="x", ylabel="y", ylim=(-3.3, 1.6))
    outliers = Panel("Three outliers: L2 against L1", [
        Curve(train_x, split.y_train, "training points", "."),
        Curve([x for x, in SINE_OUTLIERS[0]], SINE_OUTLIERS[1], "outliers", "rx"),
        truth,
        Curve(grid, curve("mse"), "MLP, L2 (MSE)"),
        Curve(grid, curve("l1"), "MLP, L1"),
    ], xlabel="x", ylabel="y", ylim=(-3.3, 1.6))
    path = out / "regression.png"
    plots.plot_panels([underfit, outliers], str(path), title="make_sine: 140 training points",
                      panel_size=(4.8, 3.6))
    return [path]


# ---- 06: metrics of the pages' two classifiers ----------------------------------------------


def moons_splits() -> tuple[list, list, list, list, list, list]:
    """The standardized train/validation/test splits of docs/06-metrics.md and 07."""
    X, y = data.make_moons(300, noise=0.1, seed=0)
    X_train, y_train, X_val, y_val, X_test, y_test = data.train_val_test_split(X, y, seed=0)
    scaler = data.Standardizer().fit(X_train)
    X_train, X_val, X_test = (scaler.transform(part) for part in (X_train, X_val, X_test))
    return X_train, y_train, X_val, y_val, X_test, y_test


def chapter6_logistic_regression(X_train: list, y_train: list, steps: int) -> Module:
    """docs/06-metrics.md: logistic regression, full-batch SGD with lr 1.0."""
    model = LogisticRegression(2, seed=0)
    optimizer = optim.SGD(model.parameters(), lr=1.0)
    for _ in range(steps):
        loss = losses.binary_cross_entropy([model(x) for x in X_train], y_train)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def moons_epoch(model: Module, optimizer: optim.Optimizer, X_train: list, y_train: list,
                epoch: int) -> None:
    """docs/07: one epoch of the page's training, batches of 16 shuffled with seed epoch - 1."""
    for xb, yb in data.batches(X_train, y_train, batch_size=16, seed=epoch - 1):
        loss = losses.binary_cross_entropy_with_logits([model(x) for x in xb], yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def chapter7_mlp(X_train: list, y_train: list, X_val: list, y_val: list, epochs: int) -> Module:
    """docs/07-deep-learning.md: MLP 2-16-16-1, Adam, batches of 16, best validation epoch."""
    model = MLP(2, [16, 16, 1], activation="relu", seed=0)

    def validation_loss() -> float:
        with no_grad():
            return losses.binary_cross_entropy_with_logits([model(x) for x in X_val], y_val).data

    optimizer = optim.Adam(model.parameters(), lr=0.02)
    best = (validation_loss(), model.state_dict())
    for epoch in range(1, epochs + 1):
        moons_epoch(model, optimizer, X_train, y_train, epoch)
        val = validation_loss()
        if val < best[0]:
            best = (val, model.state_dict())
    model.load_state_dict(best[1])
    return model


def page_classifiers(out: Path, small: bool) -> list[Path]:
    """docs/06-metrics.md: confusion matrices, ROC and PR curves of the test split, for the
    logistic regression that page trains and the MLP of docs/07-deep-learning.md.

    Both are trained exactly as the pages train them, so the figure and the printed
    matrices agree (the ``--small`` run trains briefly and only checks the drawing).
    """
    X_train, y_train, X_val, y_val, X_test, y_test = moons_splits()
    logistic = chapter6_logistic_regression(X_train, y_train, steps=5 if small else 100)
    mlp = chapter7_mlp(X_train, y_train, X_val, y_val, epochs=1 if small else 15)
    matrices, curves = {}, {}
    with no_grad():
        for name, model, threshold in (("logistic regression", logistic, 0.5),
                                       ("MLP 2-16-16-1", mlp, 0.0)):
            scores = [model(x).data for x in X_test]
            y_pred = [int(s > threshold) for s in scores]
            chapter = 6 if model is logistic else 7
            matrices[f"{name} (chapter {chapter})"] = metrics.confusion_matrix(
                y_test, y_pred, labels=[0, 1])
            fpr, tpr, _ = metrics.roc_curve(y_test, scores)
            precision, recall, _ = metrics.precision_recall_curve(y_test, scores)
            curves[name] = RocPr(fpr, tpr, metrics.roc_auc(y_test, scores), recall, precision,
                                 metrics.average_precision(y_test, scores))
    matrix_path, curve_path = out / "confusion_matrix.png", out / "roc_pr.png"
    plots.plot_confusion_matrices(matrices, [0, 1], str(matrix_path))
    plots.plot_roc_pr_curves(curves, str(curve_path))
    return [matrix_path, curve_path]


# ---- 07: activations ------------------------------------------------------------------------


def activations(out: Path, small: bool) -> list[Path]:
    """docs/07-deep-learning.md: sigmoid, tanh and ReLU, each with its derivative from backward()."""
    xs = linspace(-4.0, 4.0, 17 if small else 161)
    panels = []
    for name, f, formula in (("sigmoid", Value.sigmoid, "1 / (1 + e^-x)"),
                             ("tanh", Value.tanh, "(e^x - e^-x) / (e^x + e^-x)"),
                             ("ReLU", Value.relu, "max(0, x)")):
        ys = [f(Value(x)).data for x in xs]
        slopes = [slope(f, x) for x in xs]
        panels.append(Panel(f"{name}(x) = {formula}", [
            Curve(xs, ys, name), Curve(xs, slopes, "derivative (backward)", "--"),
        ], xlabel="x", ylim=(-1.15, 2.15)))
    path = out / "activations.png"
    plots.plot_panels(panels, str(path), panel_size=(3.6, 3.0))
    return [path]


DEAD_RELU_LR = 1.0  # fifty times the page's 0.02: a step large enough to kill ReLU neurons


def negative_everywhere(model: Module, X: list, activation: str) -> int:
    """docs/07-deep-learning.md: how many hidden neurons have input w·x + b <= 0 at every
    point of X. A ReLU neuron there outputs 0 everywhere and passes no gradient: dead."""
    state, rows, count = model.state_dict(), X, 0
    for k in (0, 2):  # the two hidden Linear layers (1 and 3 are their activations)
        W, b = state[f"layers.{k}.weight"], state[f"layers.{k}.bias"]
        z = [[sum(w * v for w, v in zip(weights, x)) + bias for weights, bias in zip(W, b)]
             for x in rows]
        count += sum(all(zx[j] <= 0 for zx in z) for j in range(len(b)))
        rows = [[getattr(Value(v), activation)().data for v in zx] for zx in z]
    return count


def dead_neurons_per_epoch(activation: str, epochs: int, lr: float = DEAD_RELU_LR) -> list[int]:
    """docs/07: the page's MLP 2-16-16-1 trained by Adam at ``lr`` on the moons; the count of
    ``negative_everywhere`` neurons before training and after each epoch."""
    X_train, y_train, *_ = moons_splits()
    model = MLP(2, [16, 16, 1], activation=activation, seed=0)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    counts = [negative_everywhere(model, X_train, activation)]
    for epoch in range(1, epochs + 1):
        moons_epoch(model, optimizer, X_train, y_train, epoch)
        counts.append(negative_everywhere(model, X_train, activation))
    return counts


def dead_neurons(out: Path, small: bool) -> list[Path]:
    """docs/07-deep-learning.md: hidden neurons negative on every training point, per epoch,
    for ReLU (dead for good) and leaky ReLU (they still learn, and come back)."""
    epochs = 2 if small else 20
    curves = [Curve(list(range(epochs + 1)), dead_neurons_per_epoch(activation, epochs),
                    label, style)
              for activation, label, style in (("relu", "ReLU", "o-"),
                                               ("leaky_relu", "leaky ReLU (0.01)", "s--"))]
    path = out / "dead_neurons.png"
    plots.plot_panels([Panel(f"MLP 2-16-16-1, Adam lr {DEAD_RELU_LR:g}: of 32 hidden neurons",
                             curves, xlabel="epoch", ylabel="negative on every training point",
                             ylim=(0, 32))], str(path), panel_size=(5.2, 3.4))
    return [path]


def universal_approximation(out: Path, small: bool) -> list[Path]:
    """docs/07-deep-learning.md: sin(3x) on [-2, 2] fitted by one hidden layer of 1, 4, 32 units."""
    X = [[-2.0 + 4.0 * i / 49] for i in range(50)]
    y = [math.sin(3.0 * x) for (x,) in X]
    grid = linspace(-2.0, 2.0, 41 if small else 201)
    curves = [Curve(grid, [math.sin(3.0 * g) for g in grid], "target sin(3x)", "k:")]
    for hidden in (1, 4, 32):
        net = MLP(1, [hidden, 1], activation="tanh", seed=0)
        optimizer = optim.Adam(net.parameters(), lr=0.05)
        for _ in range(20 if small else 500):
            loss = losses.mse([net(x) for x in X], y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with no_grad():
            fit = [net([g]).data for g in grid]
        curves.append(Curve(grid, fit, f"width {hidden} (MSE {loss.data:.4f})"))
    panel = Panel("One hidden layer of tanh units, 500 steps of Adam", curves, xlabel="x",
                  ylabel="y", ylim=(-1.6, 1.9))
    path = out / "universal_approximation.png"
    plots.plot_panels([panel], str(path), panel_size=(6.4, 3.6))
    return [path]


# ---- 08: graphs of a tiny network and of the worked example ---------------------------------


def tiny_network() -> tuple[Value, list[Value]]:
    """The network of docs/08-backpropagation.md: 1 input, 2 tanh units, 1 output, squared loss."""
    x = Value(1.0, label="x")
    w1, b1 = Value(0.5, label="w1"), Value(0.0, label="b1")
    w2, b2 = Value(-1.0, label="w2"), Value(0.5, label="b2")
    v1, v2 = Value(1.5, label="v1"), Value(-0.5, label="v2")
    h1 = (w1 * x + b1).tanh()
    h1.label = "h1"
    h2 = (w2 * x + b2).tanh()
    h2.label = "h2"
    y = v1 * h1 + v2 * h2
    y.label = "y"
    loss = (y - 1.0) ** 2
    loss.label = "loss"
    return loss, [w1, b1, w2, b2, v1, v2]


def worked_example() -> tuple[Value, list[Value]]:
    """The neuron worked by hand in docs/08-backpropagation.md: -log sigmoid(w*2 + b)."""
    w, b = Value(0.5, label="w"), Value(-2.0, label="b")
    wx = w * 2.0
    wx.label = "w*x"
    z = wx + b
    z.label = "z"
    p = z.sigmoid()
    p.label = "p"
    log_p = p.log()
    log_p.label = "log p"
    loss = -log_p
    loss.label = "loss"
    return loss, [w, b]


def graphs(out: Path, small: bool) -> list[Path]:
    """docs/08-backpropagation.md: the tiny network forward and backward, the example's stepper."""
    loss, params = tiny_network()
    forward = draw_forward(loss, params=params)
    loss.backward()
    backward = draw_backward(loss, params=params, rankdir="TB")  # three numbers per edge: tall, not wide
    paths = [write_atomic(out / f"tiny_net_{name}.svg", graph.pipe(format="svg", encoding="utf-8"))
             for name, graph in (("forward", forward), ("backward", backward))]
    loss, params = worked_example()
    loss.backward()
    paths.append(save_backward_html(loss, out / "neuron_steps.html", params=params))
    return paths


# ---- 09: optimizers ------------------------------------------------------------------------


OPTIMIZERS: dict[str, Callable[[list[Value], float], optim.Optimizer]] = {
    "SGD": lambda params, lr: optim.SGD(params, lr=lr),
    "momentum": lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9),
    "Nesterov": lambda params, lr: optim.SGD(params, lr=lr, momentum=0.9, nesterov=True),
    "Adam": lambda params, lr: optim.Adam(params, lr=lr),
    "RAdam": lambda params, lr: optim.RAdam(params, lr=lr),
}
# The best learning rate of each on the valley, from the grid docs/09-optimizers.md searches
# (a test checks the two agree).
VALLEY_LR = {"SGD": 0.3, "momentum": 0.1, "Nesterov": 0.1, "Adam": 1.0, "RAdam": 1.0}


def optimizer_path(make: Callable[[list[Value], float], optim.Optimizer], lr: float,
                   xs: list[float], ys: list[float], steps: int) -> list[tuple[float, float]]:
    """(w, b) after each full-batch step on the valley of docs/03, from (-1, 3)."""
    w, b = Value(-1.0), Value(3.0)
    optimizer = make([w, b], lr)
    path = [(w.data, b.data)]
    for _ in range(steps):
        loss = losses.mse([w * x + b for x in xs], ys)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        path.append((w.data, b.data))
    return path


def moons_curve(make: Callable[[list[Value], float], optim.Optimizer], epochs: int,
                n: int = 200) -> list[float]:
    """docs/09-optimizers.md, race 2: the loss on all the moons after each epoch, lr 0.1."""
    X, y = data.make_moons(n, noise=0.1, seed=0)
    X = data.Standardizer().fit(X).transform(X)
    model = MLP(2, [16, 16, 1], activation="relu", seed=0)
    optimizer = make(model.parameters(), 0.1)
    curve = []
    for epoch in range(epochs):
        for xb, yb in data.batches(X, y, batch_size=16, seed=epoch):
            loss = losses.binary_cross_entropy_with_logits([model(x) for x in xb], yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with no_grad():
            curve.append(losses.binary_cross_entropy_with_logits([model(x) for x in X], y).data)
    return curve


def optimizers(out: Path, small: bool) -> list[Path]:
    """docs/09-optimizers.md: the five optimizers on the valley of docs/03 and on the moons."""
    xs, ys = line_data()
    n = 15 if small else 61
    ws, bs = linspace(-1.5, 3.5, n), linspace(-0.5, 5.5, n)
    with no_grad():
        grid = [[losses.mse([w * x + b for x in xs], ys).data for w in ws] for b in bs]
    epochs = 2 if small else 10
    plt = plots._pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(12.0, 7.2))
    low, high = min(min(row) for row in grid), max(max(row) for row in grid)
    levels = [low * (high / low) ** (k / 12) for k in range(13)]
    moons = axes[1][2]
    for ax, (name, make) in zip([*axes[0], *axes[1][:2]], OPTIMIZERS.items()):
        path = optimizer_path(make, VALLEY_LR[name], xs, ys, steps=60)
        ax.contour(ws, bs, grid, levels=levels, cmap="viridis", linewidths=0.6)
        line, = ax.plot([p[0] for p in path], [p[1] for p in path], "o-", markersize=2.5,
                        linewidth=1.2, color=f"C{list(OPTIMIZERS).index(name)}")
        ax.plot(*_least_squares(xs, ys), "k*", markersize=11)
        ax.set(title=f"{name}, lr {VALLEY_LR[name]}: 60 steps", xlabel="w", ylabel="b",
               xlim=(-1.5, 3.5), ylim=(-0.5, 5.5))
        curve = moons_curve(make, epochs, n=60 if small else 200)
        moons.plot(range(1, epochs + 1), curve, "o-", color=line.get_color(), markersize=3,
                   label=name)
    moons.set(title="The moons: MLP 2-16-16-1, lr 0.1", xlabel="epoch",
              ylabel="loss on all 200 points (BCE)", yscale="log")
    moons.grid(alpha=0.3)
    moons.legend(fontsize="small")
    fig.suptitle("Chapter 3's valley, full batch, each at its best learning rate (the star: "
                 "the minimum); and the moons")
    fig.tight_layout()
    path = write_atomic(out / "optimizers.png", small_png(fig, dpi=80))
    plt.close(fig)
    return [path]


def small_png(fig, dpi: int) -> bytes:
    """The figure as a PNG of at most 256 colours: six panels of thin lines stay small."""
    from PIL import Image  # matplotlib's own dependency

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB").quantize(colors=256)
    result = io.BytesIO()
    image.save(result, format="png", optimize=True)
    return result.getvalue()


FIGURE_MAKERS = [loss_curves, descent_paths, overfitting, regression, page_classifiers,
                 activations, dead_neurons, universal_approximation, graphs, optimizers]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true",
                        help="coarse grids and few epochs: every file, quickly (for tests)")
    parser.add_argument("--out", type=Path, default=FIGURES, help="folder for the figures")
    args = parser.parse_args(argv)
    if not plots.have_matplotlib():
        parser.error(f"the figures need matplotlib: {plots.INSTALL_HINT}")
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    failed = []
    for make in FIGURE_MAKERS:
        began = time.perf_counter()
        try:
            paths = make(args.out, args.small)
        except GraphvizNotFound as error:
            failed.append(make.__name__)
            print(f"not drawn: {make.__name__}: {error}")
            continue
        for path in paths:
            print(f"{path}  {path.stat().st_size / 1024:.1f} KB")
        print(f"  ({make.__name__}: {time.perf_counter() - began:.1f}s)")
    print(f"done in {time.perf_counter() - started:.1f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
