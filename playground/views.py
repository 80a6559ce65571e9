"""What the page draws, computed from a session: plain numbers, ready to be sent as JSON.

The page draws the decision boundary and every neuron's map itself, from the weights: the
network is a few hundred numbers (a few KB), and evaluating it at every pixel is quicker in
the page's script than sending grids from here. So the state holds the network (each
Linear layer's weights and biases at full precision, the activation fused into it, and
the input features), the points, the loss curves and the test metrics. ``Session.outputs_at``
gives the same layer outputs in Python, for the tests that hold the page to the model.

Other numbers are rounded to 4 significant digits (the page cannot show more) and every
nan or infinity becomes ``None`` (JSON has no such numbers: a diverging model must still
give a valid answer).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from nn import metrics, training

if TYPE_CHECKING:
    from playground.session import Session

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


def network(session: Session) -> dict:
    """The diagram and everything the page needs to evaluate it: widths, every weight and
    bias (full precision), the activation of each layer (None: none) and the features."""
    steps = session.linear_steps()
    return clean({
        "features": list(session.settings.features),
        "widths": [len(session.settings.features), *(layer.nout for layer, _ in steps)],
        "weights": [[[w.data for w in row] for row in layer.weight] for layer, _ in steps],
        "biases": [[b.data for b in layer.bias] for layer, _ in steps],
        "activations": [activation for _, activation in steps],
        "output": "identity" if session.classes == 0 else (
            "sigmoid" if session.classes == 2 else "softmax"),
    }, rounded=False)


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
                                                session.loss, with_predictions=True)
    result: dict[str, Any] = dict(session.test_scores)
    predicted = result.pop("predictions", None)  # none once training has diverged
    if session.task == "classification" and predicted is not None:
        labels = list(range(session.classes))
        result["confusion_matrix"] = metrics.confusion_matrix(session.y_test, predicted,
                                                              labels=labels)
    return result


def points(session: Session) -> dict:
    """Training and test points on the plane (standardized coordinates), with targets."""
    return {"train": [[*x, t] for x, t in zip(session.plane_train, session.y_train)],
            "test": [[*x, t] for x, t in zip(session.plane_test, session.y_test)]}


def state(session: Session, with_points: bool = True) -> dict:
    """Everything the page shows, for one redraw. The caller holds the session's lock.
    ``with_points`` False leaves the points out (a training answer: only a new start
    changes them, and the page keeps them)."""
    last = session.history[-1] if session.history else None
    measured = test_metrics(session)
    shown = clean({
        "epoch": session.epoch,
        "task": session.task,
        "classes": session.classes,
        "inputs": len(session.plane_train[0]),
        "settings": session.settings.to_json(),
        "extent": session.extent,
        "train_loss": last[1] if last else None,
        "test_loss": measured["loss"],
        "metrics": measured,
        "history": history(session),
        **({"points": points(session)} if with_points else {}),
    })
    shown["network"] = network(session)
    return shown
