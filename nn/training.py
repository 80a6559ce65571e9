"""The training loop, written once: one epoch of minibatch gradient descent, and evaluation.

Every model in chainrule learns the same way. For each minibatch of the training split:

    outputs = model(X_batch)                      forward
    L = loss(outputs, y_batch) + l2 * (1/2) sum w^2   loss, with an optional weight penalty
    optimizer.zero_grad(); L.backward()           dL/dw for every parameter w
    optimizer.step()                              w moves against its gradient

``train_epoch`` runs that once over every row (one *epoch*), in a fresh random order given
by its seed; ``evaluate`` measures a model on a split without building a graph. The loss is
named by a string, and the name also says what the model's outputs mean:

==================== ======================== ============================================
loss                 outputs per row          targets
==================== ======================== ============================================
"hinge"              one score s              class 0 or 1 (as -1 / +1 for the margin)
"bce"                one logit z              class 0 or 1; p(class 1) = sigmoid(z)
"bce-probabilities"  one probability p        class 0 or 1 (logistic regression's output)
"cross-entropy"      one logit per class      the class index 0 .. C-1
"mse", "l1"          one real number          a real number (regression)
==================== ======================== ============================================

demo.py and the playground both train through these functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real
from typing import Any

from engine import Value, no_grad, vsum
from nn import compiled, data, losses, metrics
from nn.module import Module
from nn.optim import Optimizer

__all__ = [
    "CLASSIFICATION_LOSSES",
    "DIVERGENCE_LIMIT",
    "LOSSES",
    "REGRESSION_LOSSES",
    "batch_loss",
    "divergence",
    "evaluate",
    "is_regression",
    "l1_penalty",
    "l2_penalty",
    "measure",
    "predict",
    "scores",
    "train_epoch",
]

CLASSIFICATION_LOSSES = ("hinge", "bce", "bce-probabilities", "cross-entropy")
REGRESSION_LOSSES = ("mse", "l1")
LOSSES = CLASSIFICATION_LOSSES + REGRESSION_LOSSES

Rows = Sequence[Sequence[float]]
Targets = Sequence[int] | Sequence[float]


def _check_loss(loss: object) -> str:
    if not isinstance(loss, str) or loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}; got {loss!r}")
    return loss


def is_regression(loss: str) -> bool:
    """True for the losses of real-valued targets ("mse", "l1"), False for classification."""
    return _check_loss(loss) in REGRESSION_LOSSES


def _check_outputs(loss: str, outputs: list) -> None:
    """cross-entropy needs a row of logits per input; every other loss one number per input."""
    rows = isinstance(outputs[0], list)
    if rows != (loss == "cross-entropy"):
        got = f"{len(outputs[0])} outputs" if rows else "1 output"
        wanted = "one logit per class" if loss == "cross-entropy" else "1 output"
        raise ValueError(f"loss {loss!r} needs {wanted} per row; the model gives {got}")


def batch_loss(loss: str, outputs: list, targets: Targets) -> Value:
    """The mean loss of a batch: the model's ``outputs`` for its rows against ``targets``.

    hinge: (1/N) sum max(0, 1 - t s) with t = 2 y - 1 in {-1, +1};
    bce: (1/N) sum -(y log sigmoid(z) + (1 - y) log(1 - sigmoid(z)));
    bce-probabilities: the same with p given instead of sigmoid(z);
    cross-entropy: (1/N) sum -log softmax(z)[y];
    mse: (1/N) sum (p - y)^2;  l1: (1/N) sum |p - y|.
    """
    _check_loss(loss)
    if len(outputs) != len(targets) or not outputs:
        raise ValueError(f"{len(outputs)} outputs but {len(targets)} targets: need the same "
                         "number, at least one")
    _check_outputs(loss, outputs)
    if loss == "cross-entropy":
        return losses.cross_entropy(outputs, targets)
    if loss == "mse":
        return losses.mse(outputs, targets)
    if loss == "l1":
        return losses.l1(outputs, targets)
    if loss == "bce-probabilities":
        return losses.binary_cross_entropy(outputs, [float(t) for t in targets])
    if loss == "bce":
        return losses.binary_cross_entropy_with_logits(outputs, [float(t) for t in targets])
    return losses.hinge(outputs, [2.0 * t - 1.0 for t in targets])


def _flatten(tensor: Any) -> list[Value]:
    if isinstance(tensor, Value):
        return [tensor]
    return [v for part in tensor for v in _flatten(part)]


def _weights(model: Module) -> list[Value]:
    """Every parameter named "weight" (biases are left alone by the penalties, as is usual)."""
    weights = [w for name, tensor in model.named_parameters()
               if name.rsplit(".", 1)[-1] == "weight" for w in _flatten(tensor)]
    if not weights:
        raise ValueError(f"{type(model).__name__} has no parameter named 'weight' to penalize")
    return weights


def l2_penalty(model: Module) -> Value:
    """(1/2) sum of the squares of every weight.

    Added to the loss with strength ``l2``, it adds ``l2 * w`` to each weight's gradient:
    every step pulls the weights towards 0 a little (PyTorch's ``weight_decay``).
    """
    return 0.5 * vsum([w * w for w in _weights(model)])


def l1_penalty(model: Module) -> Value:
    """The sum of the absolute values of every weight.

    Added to the loss with strength ``l1``, it adds ``l1 * sign(w)`` to each weight's
    gradient (0 at w = 0, as ``torch.abs`` has it): a constant pull towards 0 that drives
    unneeded weights to about 0. This is the PyTorch way (the penalty in the loss); unlike
    TensorFlow Playground, a weight that crosses 0 is not clamped to exactly 0.
    """
    return vsum([abs(w) for w in _weights(model)])


def _check_split(X: Rows, y: Targets) -> None:
    if len(X) != len(y):
        raise ValueError(f"X and y differ in length: len(X)={len(X)}, len(y)={len(y)}")
    if len(X) == 0:
        raise ValueError("X and y are empty: need at least one row")


def train_epoch(model: Module, optimizer: Optimizer, X: Rows, y: Targets, loss: str, *,
                batch_size: int, seed: int, l2: float = 0.0, l1: float = 0.0,
                compile: bool = False) -> float:
    """One pass over ``(X, y)`` in minibatches of ``batch_size`` rows, one step per batch.

    The order of the rows comes from ``nn.data.batches(X, y, batch_size, seed=seed)``: pass
    a different seed each epoch (e.g. ``seed + epoch``) for a fresh order. Each step lowers
    ``batch_loss(loss, model(X_batch), y_batch) + l2 * l2_penalty(model)
    + l1 * l1_penalty(model)`` (each penalty only when its strength is above 0).

    Returns the epoch's training loss: the mean over the rows of the loss each batch had when
    its step was taken, sum_b |b| L_b / sum_b |b| (without the penalty, so that it compares
    with ``evaluate``'s loss on other splits). The weights change during the epoch, so this
    is not the loss of the final weights.

    ``compile=True`` takes each step through a generated function (``nn.compiled``): the
    same loss, gradients and parameters, bit for bit, several times faster. It is built
    once per model shape, loss and l2, checked against the eager step on its first batch,
    and falls back to eager steps (with a ``CompileFallback`` warning) where it cannot
    give the same bits: bce-probabilities, whose log clamp chooses from the numbers in
    Python (hinge, bce, cross-entropy, mse and l1 compile, with either penalty). A batch
    with a target the step has no branch for (bce's soft label 0.3) takes an eager step.
    """
    _check_loss(loss)
    _check_split(X, y)
    for name, strength in (("l2", l2), ("l1", l1)):
        if (isinstance(strength, bool) or not isinstance(strength, Real)
                or not math.isfinite(strength) or strength < 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {name}={strength!r}")
    total, count = 0.0, 0
    # The model's shape cannot change within an epoch: its step is looked up once.
    step = compiled.step_for(model, loss, l2, len(X[0]), l1) if compile else None
    params = model.parameters()
    for xb, yb in data.batches(X, y, batch_size, seed=seed):
        program = step if step is not None and step.takes(yb) else None
        optimizer.zero_grad()
        if program is not None and program.checked:
            value, _, sums = program(params, xb, yb)
            program.apply(params, sums)
        else:
            value = _eager_step(model, loss, l2, l1, xb, yb)
            if program is not None:
                program.check(model, l2, xb, yb, value)
                if not program.checked:
                    step = None  # it did not give the eager bits: eager from here on
        optimizer.step()
        total += value * len(xb)
        count += len(xb)
    return total / count


def _eager_step(model: Module, loss: str, l2: float, l1: float, xb: Rows, yb: Targets
                ) -> float:
    """The step's loss (without the penalties), its gradient added into every ``.grad``."""
    value = batch_loss(loss, model(xb), yb)
    objective = value + l2 * l2_penalty(model) if l2 > 0 else value
    objective = objective + l1 * l1_penalty(model) if l1 > 0 else objective
    objective.backward()
    return value.data


DIVERGENCE_LIMIT = 1e8
"""A loss beyond this means training has blown up: the losses here start near 1 (targets are
classes or standardized numbers), and a step too large multiplies the loss at every step."""


def divergence(model: Module, loss: float, limit: float = DIVERGENCE_LIMIT) -> str | None:
    """Why training has diverged, or None while it has not.

    Training has diverged when the loss is nan, infinite or beyond ``limit``, or when a
    parameter is no longer a finite number. Nothing recovers from there: the next steps only
    multiply the numbers until they overflow (usually the learning rate is too large). So
    after each epoch, ``divergence(model, train_epoch(...))`` tells a training loop to stop
    and show why, before metrics are asked of outputs that are nan.
    """
    if not math.isfinite(loss):
        return f"the loss is {loss}"
    if loss > limit:
        return f"the loss is {loss:.3g}, beyond {limit:g}"
    for name, tensor in model.named_parameters():
        if not all(math.isfinite(v.data) for v in _flatten(tensor)):
            return f"{name} is no longer finite"
    return None


def scores(model: Module, X: Rows) -> list[float] | list[list[float]]:
    """The model's outputs on every row of ``X`` as floats, computed under ``no_grad`` in one
    batched call: one number per row, or one list per row for a model with several outputs."""
    if len(X) == 0:
        raise ValueError("X is empty: need at least one row")
    with no_grad():
        return _floats(model([list(x) for x in X]))


def _floats(outputs: list) -> list[float] | list[list[float]]:
    if isinstance(outputs[0], list):
        return [[v.data for v in row] for row in outputs]
    return [v.data for v in outputs]


def predict(outputs: list[float] | list[list[float]], loss: str) -> list[int] | list[float]:
    """What the model predicts, from its ``outputs`` (see ``scores``) and the loss it was
    trained with.

    Regression: the scores themselves. cross-entropy: the class of the largest logit
    (the first one on a tie). bce-probabilities: class 1 where p > 0.5. hinge and bce:
    class 1 where the score is > 0 (sigmoid(z) > 0.5 exactly when z > 0).
    """
    if is_regression(loss):
        return list(outputs)
    if loss == "cross-entropy":
        return [max(range(len(row)), key=row.__getitem__) for row in outputs]
    threshold = 0.5 if loss == "bce-probabilities" else 0.0
    return [int(s > threshold) for s in outputs]


def _softmax(row: Sequence[float]) -> list[float]:
    """e^(z_j - max z) / sum_k e^(z_k - max z): the class probabilities of a row of logits."""
    top = max(row)
    exps = [math.exp(v - top) for v in row]
    total = sum(exps)
    return [e / total for e in exps]


def _ranking(y: Sequence[int], row_scores: list) -> tuple[float, float]:
    """(ROC-AUC, PR-AUC); for several classes, each class against the rest, averaged
    (macro) over the classes of ``y``. nan where ``y`` lacks a class, as they are undefined."""
    if not isinstance(row_scores[0], list):
        if len(set(y)) < 2:
            return math.nan, math.nan
        return metrics.roc_auc(y, row_scores), metrics.average_precision(y, row_scores)
    probabilities = [_softmax(row) for row in row_scores]
    classes = sorted(set(y))
    if len(classes) < 2:
        return math.nan, math.nan
    per_class = [([int(t == c) for t in y], [p[c] for p in probabilities]) for c in classes]
    roc = sum(metrics.roc_auc(t, s) for t, s in per_class) / len(classes)
    pr = sum(metrics.average_precision(t, s) for t, s in per_class) / len(classes)
    return roc, pr


def evaluate(model: Module, X: Rows, y: Targets, loss: str, *,
             with_predictions: bool = False) -> dict[str, Any]:
    """How the model does on ``(X, y)``, without building a graph: the loss and the metrics.

    One batched forward pass ``model(X)`` under ``no_grad``. Always ``"loss"`` (the mean
    ``batch_loss`` over all rows). Regression adds ``"mae"``, ``"mse"``, ``"rmse"`` and
    ``"r2"`` (``nn.metrics``; r2 needs two rows). Classification adds ``"accuracy"``,
    ``"precision"``, ``"recall"``, ``"f1"`` (class 1's for one output, the macro average
    over classes for cross-entropy), ``"roc_auc"`` and ``"pr_auc"`` (from the scores; for
    several classes one-vs-rest on the softmax, averaged; nan if ``y`` holds one class only).
    ``with_predictions`` adds ``"predictions"``: ``predict``'s answer for every row, from the
    same forward pass (for a confusion matrix without a second one).
    """
    _check_loss(loss)
    _check_split(X, y)
    with no_grad():
        outputs = model([list(x) for x in X])
        value = batch_loss(loss, outputs, y).data
    return measure(_floats(outputs), y, loss, value, with_predictions=with_predictions)


def measure(row_scores: list[float] | list[list[float]], y: Targets, loss: str,
            mean_loss: float, *, with_predictions: bool = False) -> dict[str, Any]:
    """``evaluate``'s answer from the model's outputs on the rows (as ``scores`` gives
    them) and the mean loss there: for outputs computed another way, such as a compiled
    step's forward (``nn.compiled``), which gives the very same numbers."""
    _check_loss(loss)
    result: dict[str, Any] = {"loss": mean_loss}
    predictions = predict(row_scores, loss)
    if with_predictions:
        result["predictions"] = predictions
    if is_regression(loss):
        result["mae"] = metrics.mean_absolute_error(y, predictions)
        result["mse"] = metrics.mean_squared_error(y, predictions)
        result["rmse"] = metrics.root_mean_squared_error(y, predictions)
        result["r2"] = metrics.r2_score(y, predictions)
        return result
    average = "macro" if loss == "cross-entropy" else "binary"
    result["accuracy"] = metrics.accuracy(y, predictions)
    result["precision"] = metrics.precision(y, predictions, average=average)
    result["recall"] = metrics.recall(y, predictions, average=average)
    result["f1"] = metrics.f1(y, predictions, average=average)
    result["roc_auc"], result["pr_auc"] = _ranking(y, row_scores)
    return result
