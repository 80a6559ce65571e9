"""Plots of training with matplotlib (the optional ``plot`` extra: ``pip install matplotlib``).

Each function takes plain numbers (no Values, no models), draws one figure and saves it
atomically to ``path``. They are kept small so that a reader can change a colour or a
label without a tour of matplotlib.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence

INSTALL_HINT = "pip install matplotlib  (or: pip install -e '.[plot]')"


def have_matplotlib() -> bool:
    """True when matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _pyplot():
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError(f"plotting needs matplotlib: {INSTALL_HINT}") from error
    matplotlib.use("Agg")  # files only; no window, works on a server
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str) -> None:
    """Write the figure to a temp file beside ``path``, then rename: never a half-written file."""
    folder = os.path.dirname(os.path.abspath(path))
    suffix = os.path.splitext(path)[1] or ".png"
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=suffix, prefix=".tmp-")
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def plot_losses(curves: dict[str, Sequence[float]], path: str, *, title: str = "Loss",
                xlabel: str = "epoch", ylabel: str = "loss") -> None:
    """One line per named curve (e.g. {"train": [...], "validation": [...]}), against its index."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, values in curves.items():
        ax.plot(range(1, len(values) + 1), values, label=name)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)
    plt.close(fig)


def plot_decision_boundary(predict: Callable[[list[float]], int], X: Sequence[Sequence[float]],
                           y: Sequence[int], path: str, *, resolution: int = 120,
                           title: str = "Decision boundary") -> None:
    """Colour the plane by ``predict([x1, x2])`` and draw the points ``X`` coloured by ``y``."""
    plt = _pyplot()
    xs = [row[0] for row in X]
    ys = [row[1] for row in X]
    pad_x = (max(xs) - min(xs)) * 0.1 or 1.0
    pad_y = (max(ys) - min(ys)) * 0.1 or 1.0
    x0, x1 = min(xs) - pad_x, max(xs) + pad_x
    y0, y1 = min(ys) - pad_y, max(ys) + pad_y
    grid_x = [x0 + (x1 - x0) * i / (resolution - 1) for i in range(resolution)]
    grid_y = [y0 + (y1 - y0) * j / (resolution - 1) for j in range(resolution)]
    classes = [[predict([gx, gy]) for gx in grid_x] for gy in grid_y]
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.contourf(grid_x, grid_y, classes, alpha=0.35, cmap="coolwarm")
    ax.scatter(xs, ys, c=list(y), cmap="coolwarm", edgecolors="k", s=22)
    ax.set(title=title, xlabel="x1", ylabel="x2")
    _save(fig, path)
    plt.close(fig)


def plot_roc_pr(roc: tuple[Sequence[float], Sequence[float]], roc_auc: float,
                pr: tuple[Sequence[float], Sequence[float]], average_precision: float,
                path: str) -> None:
    """ROC curve (fpr, tpr) and precision-recall curve (recall, precision) side by side."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    fpr, tpr = roc
    left.plot(fpr, tpr, drawstyle="steps-post", label=f"ROC-AUC = {roc_auc:.3f}")
    left.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
    left.set(title="ROC curve", xlabel="false positive rate", ylabel="true positive rate")
    recall, precision = pr
    right.plot(recall, precision, drawstyle="steps-post",
               label=f"average precision = {average_precision:.3f}")
    right.set(title="Precision-recall curve", xlabel="recall", ylabel="precision",
              ylim=(0, 1.05))
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right" if ax is left else "lower left")
    _save(fig, path)
    plt.close(fig)
