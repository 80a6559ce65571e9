"""Metrics: how good the predictions are, in numbers a person can act on.

Every definition, tie rule and edge case follows scikit-learn's ``sklearn.metrics`` (the tests
compare each function with it to 1e-12). Labels can be any hashable, sortable values (ints
in this library); scores are finite real numbers, higher meaning "more likely positive".

Three kinds of metric live here:

* **Label metrics** compare predicted labels with true ones: ``confusion_matrix``,
  ``accuracy``, ``precision``, ``recall``, ``f1``, ``classification_report``.
  For one class, with TP, FP, FN counting true positives, false positives and false
  negatives::

      precision = TP / (TP + FP)     recall = TP / (TP + FN)
      f1 = 2 TP / (2 TP + FP + FN)   (the harmonic mean of precision and recall)

* **Ranking metrics** judge real-valued scores over every threshold at once:
  ``roc_curve`` and ``roc_auc``, ``precision_recall_curve`` and ``average_precision``.

* **Regression metrics** compare real-valued predictions p_i with real targets y_i:
  ``mean_absolute_error``, ``mean_squared_error``, ``root_mean_squared_error`` (in the
  units of y) and ``r2_score``, ``explained_variance_score`` (unitless, 1 is perfect).

**Zero division.** A ratio whose denominator is zero (precision with no predicted positives,
recall with no actual positives, F1 with neither) is ``zero_division``, 0.0 by default. This
is scikit-learn's default result; scikit-learn also emits an ``UndefinedMetricWarning``,
we do not warn. ``zero_division=nan`` leaves such classes out of macro and weighted averages,
as scikit-learn does.

**Errors.** Inputs of different lengths, empty inputs, an unknown ``average``, a non-finite
score or target, or a metric that is undefined (ROC needs both classes in ``y_true``,
precision-recall needs a positive, R^2 two samples) raise ``ValueError`` naming the offending
values. Here we depart from scikit-learn on purpose: it warns and returns nan (ROC, R^2) or
0.0 (average precision).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from numbers import Real
from typing import Literal, NamedTuple

__all__ = [
    "PrecisionRecallCurve",
    "RocCurve",
    "accuracy",
    "average_precision",
    "classification_report",
    "confusion_matrix",
    "explained_variance_score",
    "f1",
    "mean_absolute_error",
    "mean_squared_error",
    "precision",
    "precision_recall_curve",
    "r2_score",
    "recall",
    "roc_auc",
    "roc_curve",
    "root_mean_squared_error",
]

Label = Hashable
Average = Literal["binary", "macro", "micro", "weighted"]
AVERAGES = ("binary", "macro", "micro", "weighted")


# --- input checks ---------------------------------------------------------------------------


def _check_lengths(a: Sequence, b: Sequence, names: tuple[str, str]) -> None:
    """Same length, and not empty: every metric needs at least one sample."""
    if len(a) != len(b):
        raise ValueError(
            f"{names[0]} and {names[1]} differ in length: "
            f"len({names[0]})={len(a)}, len({names[1]})={len(b)}"
        )
    if len(a) == 0:
        raise ValueError(f"{names[0]} and {names[1]} are empty: need at least one sample")


def _sorted_labels(*label_lists: Sequence[Label]) -> list[Label]:
    """Every label that occurs in any of the lists, sorted (like ``sklearn``'s
    ``unique_labels``)."""
    labels = set().union(*label_lists)
    try:
        return sorted(labels)
    except TypeError:
        raise TypeError(f"labels must be comparable with each other, got {labels!r}") from None


def _check_scores(scores: Sequence[float]) -> list[float]:
    """Scores as floats; each must be a finite real number."""
    out = []
    for i, s in enumerate(scores):
        if type(s) is not float and not isinstance(s, Real):  # the ABC check is slow: floats skip it
            raise TypeError(f"scores[{i}] is a {type(s).__name__}, not a real number")
        if not math.isfinite(s):
            raise ValueError(f"scores[{i}] is {s}: scores must be finite numbers")
        out.append(float(s))
    return out


def _check_zero_division(zero_division: float) -> float:
    if not isinstance(zero_division, Real) or not (
        zero_division in (0, 1) or math.isnan(zero_division)
    ):
        raise ValueError(f"zero_division must be 0.0, 1.0 or nan, got {zero_division!r}")
    return float(zero_division)


# --- label metrics --------------------------------------------------------------------------


def confusion_matrix(
    y_true: Sequence[Label], y_pred: Sequence[Label], labels: Sequence[Label] | None = None
) -> list[list[int]]:
    """Counts of (true class, predicted class) pairs: the table every label metric reads.

    ``cm[i][j]`` is the number of samples of class ``labels[i]`` predicted as ``labels[j]``:
    rows are true classes, columns predicted ones, the diagonal holds the correct
    predictions (scikit-learn's layout; for binary 0/1 labels ``[[TN, FP], [FN, TP]]``).
    ``labels`` defaults to every label in ``y_true`` or ``y_pred``, sorted; if given, it
    fixes the order and samples with other labels are left out.
    """
    _check_lengths(y_true, y_pred, ("y_true", "y_pred"))
    if labels is None:
        labels = _sorted_labels(y_true, y_pred)
    else:
        labels = list(labels)
        if not labels:
            raise ValueError("labels is empty: it should contain at least one label")
        if len(set(labels)) != len(labels):
            raise ValueError(f"labels contains duplicates: {labels!r}")
        if not set(labels) & set(y_true):
            raise ValueError(f"none of labels={labels!r} occurs in y_true")
    index = {label: i for i, label in enumerate(labels)}
    cm = [[0] * len(labels) for _ in labels]
    for t, p in zip(y_true, y_pred):
        if t in index and p in index:
            cm[index[t]][index[p]] += 1
    return cm


def accuracy(y_true: Sequence[Label], y_pred: Sequence[Label]) -> float:
    """The fraction of predictions that are right.

    Fine when classes are balanced and all errors cost the same; misleading on imbalanced
    data (always answering "healthy" scores 99% when 1% are ill): prefer F1 or PR-AUC there.
    """
    _check_lengths(y_true, y_pred, ("y_true", "y_pred"))
    return sum(t == p for t, p in zip(y_true, y_pred)) / len(y_true)


def _per_class_counts(
    y_true: Sequence[Label], y_pred: Sequence[Label], labels: list[Label]
) -> tuple[list[int], list[int], list[int]]:
    """For each label: true positives, predicted count (TP + FP), true count (TP + FN)."""
    index = {label: i for i, label in enumerate(labels)}
    tp, pred, true = [0] * len(labels), [0] * len(labels), [0] * len(labels)
    for t, p in zip(y_true, y_pred):
        if t in index:
            true[index[t]] += 1
        if p in index:
            pred[index[p]] += 1
        if t == p and t in index:
            tp[index[t]] += 1
    return tp, pred, true


def _scores(
    tp: list[int], pred: list[int], true: list[int], zero_division: float
) -> tuple[list[float], list[float], list[float]]:
    """Per-class precision TP / pred, recall TP / true and F1 2 TP / (true + pred); a zero
    denominator gives ``zero_division``."""

    def divide(numerator: int, denominator: int) -> float:
        return numerator / denominator if denominator else zero_division

    return (
        [divide(t, s) for t, s in zip(tp, pred)],
        [divide(t, s) for t, s in zip(tp, true)],
        [divide(2 * t, a + b) for t, a, b in zip(tp, true, pred)],
    )


def _mean(values: list[float], weights: list[int] | None = None) -> float:
    """(Weighted) mean that skips nan entries, like sklearn's ``_nanaverage``: nan when
    nothing is left, unweighted when all remaining weights are zero."""
    if weights is None:
        weights = [1] * len(values)
    kept = [(v, w) for v, w in zip(values, weights) if not math.isnan(v)]
    if not kept:
        return math.nan
    total = sum(w for _, w in kept)
    if total == 0:
        return math.fsum(v for v, _ in kept) / len(kept)
    return math.fsum(v * w for v, w in kept) / total


def _averaged(
    y_true: Sequence[Label],
    y_pred: Sequence[Label],
    average: Average,
    pos_label: Label,
    zero_division: float,
) -> tuple[float, float, float]:
    """Precision, recall and F1 under one of the four averages.

    Follows ``sklearn.metrics.precision_recall_fscore_support`` step for step: "binary"
    scores ``pos_label`` only; "micro" pools the counts of every class, then divides;
    "macro" is the plain mean of the per-class scores; "weighted" their mean weighted by
    each class's true count (support).
    """
    _check_lengths(y_true, y_pred, ("y_true", "y_pred"))
    if average not in AVERAGES:
        raise ValueError(f"average must be one of {AVERAGES}, got average={average!r}")
    zero_division = _check_zero_division(zero_division)
    labels = _sorted_labels(y_true, y_pred)
    if average == "binary":
        if len(labels) > 2:
            raise ValueError(
                f"average='binary' needs at most two classes, but y_true and y_pred hold "
                f"{len(labels)}: {labels}; choose average='macro', 'micro' or 'weighted'"
            )
        if pos_label not in labels and len(labels) == 2:
            raise ValueError(f"pos_label={pos_label!r} is not a valid label: one of {labels}")
        labels = [pos_label]
    tp, pred, true = _per_class_counts(y_true, y_pred, labels)
    if average == "micro":
        tp, pred, true = [sum(tp)], [sum(pred)], [sum(true)]
    p, r, f = _scores(tp, pred, true, zero_division)
    weights = true if average == "weighted" else None
    return _mean(p, weights), _mean(r, weights), _mean(f, weights)


def precision(
    y_true: Sequence[Label],
    y_pred: Sequence[Label],
    average: Average = "binary",
    pos_label: Label = 1,
    zero_division: float = 0.0,
) -> float:
    """Of the samples predicted positive, the fraction that are: TP / (TP + FP).

    Prefer it when false positives are costly, as in spam filtering (a real mail lost in the
    spam folder). ``average``: "binary" scores the class ``pos_label``; for several classes
    "macro" (every class counts the same), "micro" (every sample counts the same; equals
    accuracy for single-label data) or "weighted" (classes weighted by their true counts).
    """
    return _averaged(y_true, y_pred, average, pos_label, zero_division)[0]


def recall(
    y_true: Sequence[Label],
    y_pred: Sequence[Label],
    average: Average = "binary",
    pos_label: Label = 1,
    zero_division: float = 0.0,
) -> float:
    """Of the samples that are positive, the fraction found: TP / (TP + FN) (sensitivity).

    Prefer it when false negatives are costly, as in medical diagnosis (a missed illness).
    ``average`` and ``pos_label`` as in ``precision``.
    """
    return _averaged(y_true, y_pred, average, pos_label, zero_division)[1]


def f1(
    y_true: Sequence[Label],
    y_pred: Sequence[Label],
    average: Average = "binary",
    pos_label: Label = 1,
    zero_division: float = 0.0,
) -> float:
    """The harmonic mean of precision and recall: 2 TP / (2 TP + FP + FN).

    High only when both are high; a single number for imbalanced data where accuracy
    flatters. ``average`` and ``pos_label`` as in ``precision``.
    """
    return _averaged(y_true, y_pred, average, pos_label, zero_division)[2]


def classification_report(
    y_true: Sequence[Label],
    y_pred: Sequence[Label],
    digits: int = 2,
    target_names: Sequence[str] | None = None,
    zero_division: float = 0.0,
) -> str:
    """A text table of precision, recall, F1 and support per class, like scikit-learn's.

    One row per label (sorted; ``target_names`` renames them), then accuracy, the macro
    average (every class counts the same) and the support-weighted average. Support is the
    number of true samples of each class. Same layout and rounding as
    ``sklearn.metrics.classification_report``.
    """
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"digits must be an int >= 0, got digits={digits!r}")
    _check_lengths(y_true, y_pred, ("y_true", "y_pred"))
    labels = _sorted_labels(y_true, y_pred)
    tp, pred, support = _per_class_counts(y_true, y_pred, labels)
    p, r, f = _scores(tp, pred, support, _check_zero_division(zero_division))
    names = [str(label) for label in labels] if target_names is None else list(target_names)
    if len(names) != len(labels):
        raise ValueError(
            f"target_names has {len(names)} names but the data hold {len(labels)} "
            f"classes: {labels}"
        )
    headers = ["precision", "recall", "f1-score", "support"]
    width = max(max(len(name) for name in names), len("weighted avg"), digits)
    row = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    report = ("{:>{width}s} " + " {:>9}" * 4).format("", *headers, width=width) + "\n\n"
    for values in zip(names, p, r, f, support):
        report += row.format(*values, width=width, digits=digits)
    report += "\n"
    total = sum(support)
    report += ("{:>{width}s} " + " {:>9}" * 2 + " {:>9.{digits}f} {:>9}\n").format(
        "accuracy", "", "", accuracy(y_true, y_pred), total, width=width, digits=digits
    )
    for average in ("macro", "weighted"):
        avg = _averaged(y_true, y_pred, average, 1, zero_division)
        report += row.format(f"{average} avg", *avg, total, width=width, digits=digits)
    return report


# --- ranking metrics ------------------------------------------------------------------------


class RocCurve(NamedTuple):
    """Points of a ROC curve; unpacks as ``fpr, tpr, thresholds``."""

    fpr: list[float]
    tpr: list[float]
    thresholds: list[float]


class PrecisionRecallCurve(NamedTuple):
    """Points of a precision-recall curve; unpacks as ``precision, recall, thresholds``."""

    precision: list[float]
    recall: list[float]
    thresholds: list[float]


def _counts_at_thresholds(
    y_true: Sequence[Label], scores: Sequence[float], pos_label: Label
) -> tuple[list[int], list[int], list[float]]:
    """False and true positive counts when predicting positive for ``score >= threshold``.

    The thresholds are the distinct scores, decreasing. Tied scores form one threshold: the
    tied samples switch to "positive" together, so the curve takes one diagonal step
    (sklearn's ``_binary_clf_curve``).
    """
    _check_lengths(y_true, scores, ("y_true", "scores"))
    values = _check_scores(scores)
    order = sorted(range(len(values)), key=lambda i: values[i], reverse=True)
    fps: list[int] = []
    tps: list[int] = []
    thresholds: list[float] = []
    tp = 0
    for k, i in enumerate(order):
        tp += y_true[i] == pos_label
        if k + 1 == len(order) or values[order[k + 1]] != values[i]:
            tps.append(tp)
            fps.append(k + 1 - tp)
            thresholds.append(values[i])
    return fps, tps, thresholds


def roc_curve(
    y_true: Sequence[Label],
    scores: Sequence[float],
    pos_label: Label = 1,
    drop_intermediate: bool = True,
) -> RocCurve:
    """The receiver operating characteristic: true vs false positive rate at every threshold.

    Predicting positive for ``score >= thresholds[i]`` gives the false positive rate
    ``fpr[i] = FP / negatives`` and true positive rate ``tpr[i] = TP / positives``
    (recall). The first point is (0, 0) at threshold ``+inf``, as in scikit-learn >= 1.3.
    With ``drop_intermediate`` the points on a straight segment between two others are left
    out (they do not change the picture or the area). Labels other than ``pos_label`` are
    all negative. Needs both classes in ``y_true`` (else ``ValueError``).
    """
    fps, tps, thresholds = _counts_at_thresholds(y_true, scores, pos_label)
    if drop_intermediate and len(fps) > 2:
        keep = [0] + [
            i
            for i in range(1, len(fps) - 1)
            if fps[i - 1] - 2 * fps[i] + fps[i + 1] or tps[i - 1] - 2 * tps[i] + tps[i + 1]
        ]
        keep.append(len(fps) - 1)
        fps, tps = [fps[i] for i in keep], [tps[i] for i in keep]
        thresholds = [thresholds[i] for i in keep]
    negatives, positives = fps[-1], tps[-1]
    if negatives == 0 or positives == 0:
        missing = "negative" if negatives == 0 else "positive"
        raise ValueError(
            f"the ROC curve is undefined: y_true has no {missing} samples "
            f"(pos_label={pos_label!r}, labels present: {_sorted_labels(y_true)})"
        )
    return RocCurve(
        [0.0] + [fp / negatives for fp in fps],
        [0.0] + [tp / positives for tp in tps],
        [math.inf] + thresholds,
    )


def roc_auc(y_true: Sequence[Label], scores: Sequence[float], pos_label: Label = 1) -> float:
    """Area under the ROC curve: the chance that a random positive outscores a random negative.

    1.0 ranks perfectly, 0.5 is guessing; a tie counts one half (the trapezoid over a tied
    step). Threshold-free and blind to class balance: on heavily imbalanced data the many
    true negatives keep the false positive rate small and the AUC flattering, so prefer
    ``average_precision`` (PR-AUC) there. Undefined, so a ``ValueError``, when ``y_true``
    holds only one class.
    """
    fpr, tpr, _ = roc_curve(y_true, scores, pos_label)
    steps = range(len(fpr) - 1)
    return math.fsum((fpr[i + 1] - fpr[i]) * (tpr[i + 1] + tpr[i]) / 2 for i in steps)


def precision_recall_curve(
    y_true: Sequence[Label],
    scores: Sequence[float],
    pos_label: Label = 1,
    drop_intermediate: bool = False,
) -> PrecisionRecallCurve:
    """Precision and recall when predicting positive for ``score >= threshold``, for every
    threshold.

    As in scikit-learn the thresholds increase, so recall decreases; a last point
    ``precision = 1, recall = 0`` (no threshold) closes the curve. ``drop_intermediate``
    leaves out the points where recall does not change. Prefer this curve to ROC when
    positives are rare. Needs at least one positive in ``y_true`` (else ``ValueError``).
    """
    fps, tps, thresholds = _counts_at_thresholds(y_true, scores, pos_label)
    if drop_intermediate and len(fps) > 2:
        keep = [0] + [
            i for i in range(1, len(tps) - 1) if tps[i] != tps[i - 1] or tps[i + 1] != tps[i]
        ]
        keep.append(len(fps) - 1)
        fps, tps = [fps[i] for i in keep], [tps[i] for i in keep]
        thresholds = [thresholds[i] for i in keep]
    positives = tps[-1]
    if positives == 0:
        raise ValueError(
            f"recall is undefined: y_true has no positive samples "
            f"(pos_label={pos_label!r}, labels present: {_sorted_labels(y_true)})"
        )
    precisions = [tp / (tp + fp) for tp, fp in zip(tps, fps)]  # tp + fp >= 1 always
    recalls = [tp / positives for tp in tps]
    return PrecisionRecallCurve(precisions[::-1] + [1.0], recalls[::-1] + [0.0], thresholds[::-1])


def average_precision(
    y_true: Sequence[Label], scores: Sequence[float], pos_label: Label = 1
) -> float:
    """PR-AUC as a step sum: AP = sum over thresholds of (R_n - R_(n-1)) * P_n.

    The mean precision reached at each new level of recall (scikit-learn's
    ``average_precision_score``, no interpolation, no trapezoids, which would be optimistic).
    Prefer it to ROC-AUC on heavily imbalanced data, where many true negatives make the false
    positive rate, and so ROC-AUC, look good. Needs a positive in ``y_true``.
    """
    p, r, _ = precision_recall_curve(y_true, scores, pos_label)
    return max(0.0, math.fsum((r[i] - r[i + 1]) * p[i] for i in range(len(r) - 1)))


# --- regression metrics ---------------------------------------------------------------------


def _check_targets(y_true: Sequence[float], y_pred: Sequence[float]) -> tuple[list[float],
                                                                               list[float]]:
    """Both lists as floats: same length, not empty, every entry a finite real number."""
    _check_lengths(y_true, y_pred, ("y_true", "y_pred"))
    out = []
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, Real):
                raise TypeError(f"{name}[{i}] is a {type(v).__name__}, not a real number")
            if not math.isfinite(v):
                raise ValueError(f"{name}[{i}] is {v}: regression values must be finite")
        out.append([float(v) for v in values])
    return out[0], out[1]


def _sum_of_squared_deviations(values: list[float]) -> float:
    """sum_i (v_i - mean)^2, exactly 0.0 for a constant list (where ``fsum(v) / n`` may round
    off the constant and leave a tiny, meaningless spread)."""
    if min(values) == max(values):
        return 0.0
    mean = math.fsum(values) / len(values)
    return math.fsum((v - mean) ** 2 for v in values)


def _one_minus_ratio(unexplained: float, total: float) -> float:
    """1 - unexplained / total, with scikit-learn's finite answers where total is 0 (constant
    targets): 1.0 for a perfect fit (unexplained 0 too), else 0.0."""
    if total == 0.0:
        return 1.0 if unexplained == 0.0 else 0.0
    return 1.0 - unexplained / total


def mean_absolute_error(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """MAE = (1/n) sum_i |y_i - p_i|: the typical error, in the units of y.

    The L1 loss as a metric; a few large errors count no more than their size.
    scikit-learn: ``mean_absolute_error``.
    """
    y, p = _check_targets(y_true, y_pred)
    return math.fsum(abs(a - b) for a, b in zip(y, p)) / len(y)


def mean_squared_error(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """MSE = (1/n) sum_i (y_i - p_i)^2, in the units of y squared.

    The L2 loss as a metric: large errors weigh quadratically. scikit-learn:
    ``mean_squared_error``.
    """
    y, p = _check_targets(y_true, y_pred)
    return math.fsum((a - b) ** 2 for a, b in zip(y, p)) / len(y)


def root_mean_squared_error(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """RMSE = sqrt(MSE): the squared error brought back to the units of y.

    Always >= MAE; much larger when a few errors are large. scikit-learn:
    ``root_mean_squared_error``.
    """
    return math.sqrt(mean_squared_error(y_true, y_pred))


def r2_score(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """The coefficient of determination, R^2 = 1 - SS_res / SS_tot, where

        SS_res = sum_i (y_i - p_i)^2        SS_tot = sum_i (y_i - mean(y))^2.

    The share of the variance of y that the predictions explain: 1 is a perfect fit, 0 is
    what predicting mean(y) everywhere scores, and a model worse than that goes negative
    (there is no lower bound). Constant targets (SS_tot = 0) follow scikit-learn: 1.0 if the
    predictions are exact, else 0.0. Needs two samples: with one, SS_tot is 0 whatever y is,
    and R^2 says nothing (scikit-learn warns and returns nan; here it is a ValueError).
    scikit-learn: ``r2_score``.
    """
    y, p = _check_targets(y_true, y_pred)
    if len(y) < 2:
        raise ValueError(f"r2_score needs at least two samples, got {len(y)}")
    residual = math.fsum((a - b) ** 2 for a, b in zip(y, p))
    return _one_minus_ratio(residual, _sum_of_squared_deviations(y))


def explained_variance_score(y_true: Sequence[float], y_pred: Sequence[float]) -> float:
    """1 - Var(y - p) / Var(y): R^2 that forgives a constant offset.

    Var is the population variance. Where the errors y_i - p_i have mean 0 this equals
    ``r2_score``; predictions that are all off by the same amount score 1.0 here and less
    than 1 in R^2. Constant targets follow scikit-learn: 1.0 if the errors are constant too
    (a single sample included), else 0.0. scikit-learn: ``explained_variance_score``.
    """
    y, p = _check_targets(y_true, y_pred)
    errors = [a - b for a, b in zip(y, p)]
    return _one_minus_ratio(_sum_of_squared_deviations(errors), _sum_of_squared_deviations(y))
