"""Plots of training with matplotlib (the optional ``plot`` extra: ``pip install matplotlib``).

Each function takes plain numbers (no Values, no models), draws one figure and saves it
atomically to ``path`` (PNG, or SVG/PDF by the file's extension). They are kept small so
that a reader can change a colour or a label without a tour of matplotlib.

``demo.py`` draws its loss, decision boundary and ROC/PR pictures with them; the figures of
the course in ``docs/`` (``python docs/make_figures.py``) use the same helpers plus
``plot_panels`` (curves side by side), ``plot_descent_paths`` (optimizer paths on the
contours of a two-parameter loss) and ``plot_confusion_matrices``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from viz.files import write_atomic

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


def _save(fig, path: str, dpi: int = 110) -> None:
    """Write the figure with ``viz.files.write_atomic``: never a half-written file.

    The format is the file's extension (PNG without one). Metadata that changes from run to
    run (SVG and PDF creation dates) is left out, so the same numbers give the same file.
    """
    suffix = os.path.splitext(path)[1].lower() or ".png"
    metadata = {"Date": None} if suffix in (".svg", ".pdf") else None
    image = io.BytesIO()
    fig.savefig(image, format=suffix[1:], dpi=dpi, bbox_inches="tight", metadata=metadata)
    write_atomic(path, image.getvalue())


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


class RocPr(NamedTuple):
    """One model's ROC and precision-recall curves with their areas (plain numbers)."""

    fpr: Sequence[float]
    tpr: Sequence[float]
    roc_auc: float
    recall: Sequence[float]
    precision: Sequence[float]
    average_precision: float


def plot_roc_pr(roc: tuple[Sequence[float], Sequence[float]], roc_auc: float,
                pr: tuple[Sequence[float], Sequence[float]], average_precision: float,
                path: str) -> None:
    """ROC curve (fpr, tpr) and precision-recall curve (recall, precision) side by side."""
    plot_roc_pr_curves({"": RocPr(*roc, roc_auc, *pr, average_precision)}, path)


def plot_roc_pr_curves(models: Mapping[str, RocPr], path: str, *, dpi: int = 110) -> None:
    """ROC curves (left) and precision-recall curves (right) of several models, one line each.

    A model's ROC curve plots the true positive rate against the false positive rate as the
    threshold sweeps down the scores; its PR curve plots precision against recall. The
    legend gives ROC-AUC and average precision (PR-AUC); "" as a name shows only those.
    """
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    for name, m in models.items():
        prefix = f"{name}: " if name else ""
        left.plot(m.fpr, m.tpr, drawstyle="steps-post",
                  label=f"{prefix}ROC-AUC = {m.roc_auc:.3f}")
        right.plot(m.recall, m.precision, drawstyle="steps-post",
                   label=f"{prefix}average precision = {m.average_precision:.3f}")
    left.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
    left.set(title="ROC curve", xlabel="false positive rate", ylabel="true positive rate")
    right.set(title="Precision-recall curve", xlabel="recall", ylabel="precision",
              ylim=(0, 1.05))
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right" if ax is left else "lower left")
    _save(fig, path, dpi)
    plt.close(fig)


class Curve(NamedTuple):
    """One line of a panel: its points, a legend label and a matplotlib format ("-", "--", "o")."""

    xs: Sequence[float]
    ys: Sequence[float]
    label: str = ""
    fmt: str = "-"


class Panel(NamedTuple):
    """One set of axes: a title, its curves, axis labels, "linear" or "log" y, y limits."""

    title: str
    curves: Sequence[Curve]
    xlabel: str = ""
    ylabel: str = ""
    yscale: str = "linear"
    ylim: tuple[float, float] | None = None


def plot_panels(panels: Sequence[Panel], path: str, *, title: str = "",
                panel_size: tuple[float, float] = (4.0, 3.2), dpi: int = 110) -> None:
    """Panels side by side, each with its own curves: the shape of most teaching figures::

        plot_panels([Panel("squares", [Curve([0, 1, 2], [0, 1, 4], "x^2", "o-")])], "sq.png")
    """
    plt = _pyplot()
    width, height = panel_size
    fig, axes = plt.subplots(1, len(panels), figsize=(width * len(panels), height),
                             squeeze=False)
    for ax, panel in zip(axes[0], panels):
        for curve in panel.curves:
            markersize = 4 if "o" in curve.fmt else None
            ax.plot(curve.xs, curve.ys, curve.fmt, label=curve.label or None,
                    markersize=markersize)
        ax.set(title=panel.title, xlabel=panel.xlabel, ylabel=panel.ylabel,
               yscale=panel.yscale)
        if panel.ylim is not None:
            ax.set_ylim(*panel.ylim)
        ax.grid(alpha=0.3)
        if any(curve.label for curve in panel.curves):
            ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    _save(fig, path, dpi)
    plt.close(fig)


def plot_descent_paths(xs: Sequence[float], ys: Sequence[float],
                       losses: Sequence[Sequence[float]],
                       paths: Mapping[str, Sequence[tuple[float, float]]], path: str, *,
                       minimum: tuple[float, float] | None = None, title: str = "",
                       xlabel: str = "w", ylabel: str = "b", dpi: int = 110) -> None:
    """Optimizer paths drawn on the contour lines of a loss of two parameters.

    ``losses[j][i]`` is the loss at (``xs[i]``, ``ys[j]``). Contour levels are spaced
    geometrically from the lowest value up, so the narrow valley near the minimum shows as
    well as the steep walls far from it. Each path is a list of (x, y) points, one per step.
    """
    plt = _pyplot()
    low = min(min(row) for row in losses)
    high = max(max(row) for row in losses)
    base = max(low, high * 1e-4, 1e-12)
    levels = [base * (high / base) ** (k / 10) for k in range(11)]
    fig, ax = plt.subplots(figsize=(5.6, 4.5))
    contours = ax.contour(xs, ys, losses, levels=levels, cmap="viridis", linewidths=0.7)
    ax.clabel(contours, contours.levels[::2], fontsize=7, fmt="%.2g")
    for name, points in paths.items():
        ax.plot([p[0] for p in points], [p[1] for p in points], "o-", markersize=2,
                linewidth=1, alpha=0.9, label=f"{name} ({len(points) - 1} steps)")
    if minimum is not None:
        ax.plot(*minimum, "k*", markersize=12, label="minimum")
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize="small")
    _save(fig, path, dpi)
    plt.close(fig)


def plot_confusion_matrices(matrices: Mapping[str, Sequence[Sequence[int]]],
                            labels: Sequence[object], path: str, *, dpi: int = 110) -> None:
    """Confusion matrices side by side: rows are true classes, columns predicted ones.

    Each cell shows its count; the diagonal holds the correct predictions. ``matrices``
    maps a title (a model's name) to its matrix, as ``nn.metrics.confusion_matrix`` gives it.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(matrices), figsize=(3.4 * len(matrices), 3.2),
                             squeeze=False)
    ticks = range(len(labels))
    for ax, (name, matrix) in zip(axes[0], matrices.items()):
        ax.imshow(matrix, cmap="Blues", vmin=0)
        top = max(max(row) for row in matrix) or 1
        for i, row in enumerate(matrix):
            for j, count in enumerate(row):
                ax.text(j, i, str(count), ha="center", va="center", fontsize=13,
                        color="white" if count > top / 2 else "black")
        ax.set(title=name, xlabel="predicted class", ylabel="true class",
               xticks=ticks, yticks=ticks, xticklabels=labels, yticklabels=labels)
    fig.tight_layout()
    _save(fig, path, dpi)
    plt.close(fig)
