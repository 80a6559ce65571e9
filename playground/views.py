"""What the page draws, computed from a session: plain numbers, ready to be sent as JSON.

The decision boundary is the model's output at the centre of every cell of a grid over
the input plane, and each neuron's little heat map is that neuron's output on the same
grid (every other cell). One batched forward pass under ``no_grad`` gives both: the
model's Linear layers are run one at a time (``layer.forward(X, activation)``, exactly
what ``MLP.forward`` does), keeping each layer's outputs. For one input (regression on a
line) the "plane" is the x axis and every map is a curve.

Numbers are rounded to 4 significant digits (the page cannot show more) and every nan or
infinity becomes ``None`` (JSON has no such numbers: a diverging model must still give a
valid answer).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from engine import no_grad
from nn import metrics, training

if TYPE_CHECKING:
    from playground.session import Session

GRID = 30  # cells per side of the boundary's heat map (the page smooths them)
CURVE = 120  # points along the x axis for a 1-D model
HISTORY = 300  # points of the loss curves sent at most


def clean(x: Any, rounded: bool = True) -> Any:
    """``x`` with nan and infinities replaced by None and (``rounded``) every float rounded
    to 4 significant digits."""
    if isinstance(x, float):
        if not math.isfinite(x):
            return None
        return float(f"{x:.4g}") if rounded else x
    if isinstance(x, dict):
        return {k: clean(v, rounded) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v, rounded) for v in x]
    return x


def grid(extent: float, inputs: int) -> list[list[float]]:
    """Cell centres over [-extent, extent]^2, row by row from the top (y descending), or
    ``CURVE`` points along [-extent, extent] for a model of one input."""
    if inputs == 1:
        return [[-extent + 2 * extent * i / (CURVE - 1)] for i in range(CURVE)]
    step = 2 * extent / GRID
    centres = [-extent + step * (i + 0.5) for i in range(GRID)]
    return [[x, y] for y in reversed(centres) for x in centres]


def layer_outputs(layers: list, X: list[list[float]]) -> list[list[list[float]]]:
    """Each Linear layer's outputs (after its activation) for every row of ``X``, as floats."""
    outputs = []
    with no_grad():
        h: Any = X
        for layer, activation in layers:
            h = layer.forward(h, activation)
            outputs.append([[v.data for v in row] for row in h])
    return outputs


def _every_other_cell(column: list[float], inputs: int) -> list[float]:
    if inputs == 1:
        return column[::3]
    return [column[r * GRID + c] for r in range(0, GRID, 2) for c in range(0, GRID, 2)]


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def boundary(session: Session, cells: list[list[float]], last: list[list[float]]) -> dict:
    """The model's answer over the plane: p(class 1), or (class, probability), or a curve."""
    if session.settings.task == "regression":
        return {"xs": [c[0] for c in cells], "ys": [row[0] for row in last]}
    if session.classes == 2:
        return {"p": [_sigmoid(row[0]) if math.isfinite(row[0]) else math.nan
                      for row in last]}
    classes, confidence = [], []
    for row in last:
        if not all(math.isfinite(v) for v in row):
            classes.append(0)
            confidence.append(math.nan)
            continue
        top = max(row)
        exps = [math.exp(v - top) for v in row]
        best = max(range(len(row)), key=row.__getitem__)
        classes.append(best)
        confidence.append(exps[best] / sum(exps))
    return {"classes": classes, "confidence": confidence}


def network(session: Session, per_layer: list[list[list[float]]]) -> dict:
    """The diagram: widths, every weight and bias, and each neuron's map over the plane."""
    inputs = len(session.X_train[0])
    layers = [layer for layer, _ in session.layers]
    maps = [[_every_other_cell([row[j] for row in outputs], inputs)
             for j in range(len(outputs[0]))] for outputs in per_layer]
    return {
        "widths": [inputs, *(layer.nout for layer in layers)],
        "weights": [[[w.data for w in row] for row in layer.weight] for layer in layers],
        "biases": [[b.data for b in layer.bias] for layer in layers],
        "maps": maps,
        "activation": session.settings.activation,
    }


def history(session: Session) -> dict:
    """The loss curves, thinned to at most ``HISTORY`` points (the last one always kept)."""
    rows = session.history
    if len(rows) > HISTORY:
        stride = math.ceil(len(rows) / HISTORY)
        rows = rows[::stride] + ([rows[-1]] if (len(rows) - 1) % stride else [])
    return {"epoch": [r[0] for r in rows], "train_loss": [r[1] for r in rows],
            "test_loss": [r[2] for r in rows]}


def test_metrics(session: Session) -> dict:
    """``nn.training.evaluate``'s numbers on the test split, and the confusion matrix."""
    if not session.test_scores:  # epoch 0: measure the untrained model too
        session.test_scores = training.evaluate(session.model, session.X_test, session.y_test,
                                                session.loss)
    result: dict[str, Any] = dict(session.test_scores)
    if session.settings.task == "classification":
        scores = training.scores(session.model, session.X_test)
        labels = list(range(session.classes))
        predicted = training.predict(scores, session.loss)
        result["confusion_matrix"] = metrics.confusion_matrix(session.y_test, predicted,
                                                              labels=labels)
    return result


def points(session: Session) -> dict:
    """Training and test points in the model's (standardized) coordinates, with targets."""
    return {"train": [[*x, t] for x, t in zip(session.X_train, session.y_train)],
            "test": [[*x, t] for x, t in zip(session.X_test, session.y_test)]}


def state(session: Session) -> dict:
    """Everything the page shows, for one redraw. The caller holds the session's lock."""
    inputs = len(session.X_train[0])
    cells = grid(session.extent, inputs)
    per_layer = layer_outputs(session.layers, cells)
    last = session.history[-1] if session.history else None
    measured = test_metrics(session)
    return clean({
        "epoch": session.epoch,
        "task": session.settings.task,
        "classes": session.classes,
        "settings": session.settings.to_json(),
        "extent": session.extent,
        "train_loss": last[1] if last else None,
        "test_loss": measured["loss"],
        "metrics": measured,
        "history": history(session),
        "boundary": boundary(session, cells, per_layer[-1]),
        "network": network(session, per_layer),
        "points": points(session),
    })
