"""Loss functions: one number that says how wrong a batch of predictions is.

Training lowers the loss by following its gradient, so each loss here is built from engine
ops and ``loss.backward()`` gives d loss / d every parameter. Each takes the predictions
(a list of Values, or of numbers) and the targets, combines one term per example, and
reduces them with ``reduction="mean"`` (the default, the average) or ``"sum"``. A single
Value and a single target are taken as a batch of one.

Each formula is PyTorch's (``torch.nn.functional``), written so that it cannot overflow:
the tests compare values and gradients with PyTorch in float64, logits of +-1000 included.

Problems with the inputs are errors that name them: lengths that differ, an empty batch,
a target outside the allowed set, an unknown reduction (ValueError); something that is not
a number (TypeError).
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

from engine import Value, detached_max, vsum

Number = int | float
REDUCTIONS = ("mean", "sum")


# ---- checking inputs ----------------------------------------------------------------------


def _batch(loss: str, what: str, xs: Any) -> list[Any]:
    """xs as a list (a single Value or number is a batch of one)."""
    if type(xs) is Value or isinstance(xs, Real):
        return [xs]
    if isinstance(xs, (str, bytes)) or not isinstance(xs, Sequence):
        raise TypeError(f"{loss}: {what} must be a list of Values or numbers, not "
                        f"{type(xs).__name__}")
    return list(xs)


def _as_values(loss: str, xs: list[Any]) -> list[Value]:
    values = []
    for i, x in enumerate(xs):
        if type(x) is Value:
            values.append(x)
        elif isinstance(x, Real):
            values.append(Value(float(x)))
        else:
            raise TypeError(f"{loss}: prediction {i} is a {type(x).__name__}, not a Value "
                            "or a number")
    return values


def _check_numbers(loss: str, xs: list[Any], what: str) -> None:
    for i, x in enumerate(xs):
        if type(x) is not Value and not isinstance(x, Real):
            raise TypeError(f"{loss}: {what} {i} is a {type(x).__name__}, not a number")


def _pair(loss: str, predictions: Any, targets: Any) -> tuple[list[Value], list[Any]]:
    """Predictions (as Values) and targets as two lists of the same, non-zero, length."""
    ps = _batch(loss, "predictions", predictions)
    ts = _batch(loss, "targets", targets)
    if len(ps) != len(ts):
        raise ValueError(f"{loss}: {len(ps)} predictions but {len(ts)} targets")
    if not ps:
        raise ValueError(f"{loss}: empty batch (no predictions)")
    _check_numbers(loss, ts, "target")
    return _as_values(loss, ps), ts


def _check_reduction(loss: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{loss}: reduction must be 'mean' or 'sum', got {reduction!r}")


def _reduce(terms: list[Value], reduction: str) -> Value:
    """sum(terms), divided by their number for "mean"; one n-ary node for the sum."""
    total = vsum(terms)
    return total / len(terms) if reduction == "mean" else total


# ---- regression losses --------------------------------------------------------------------


def mse(predictions: Sequence[Value | Number] | Value, targets: Sequence[Value | Number] | Number,
        reduction: str = "mean") -> Value:
    """Mean squared error (L2 loss): (1/N) sum_i (p_i - t_i)^2.

    d/dp_i = 2 (p_i - t_i) / N. Large errors weigh quadratically. Targets may be Values.
    PyTorch: ``F.mse_loss``.
    """
    _check_reduction("mse", reduction)
    ps, ts = _pair("mse", predictions, targets)
    terms = []
    for p, t in zip(ps, ts):
        d = p - t
        terms.append(d * d)
    return _reduce(terms, reduction)


def l1(predictions: Sequence[Value | Number] | Value, targets: Sequence[Value | Number] | Number,
       reduction: str = "mean") -> Value:
    """Mean absolute error (L1 loss): (1/N) sum_i |p_i - t_i|.

    d/dp_i = sign(p_i - t_i) / N (0 where p_i == t_i, like PyTorch). Less swayed by outliers
    than mse. Targets may be Values. PyTorch: ``F.l1_loss``.
    """
    _check_reduction("l1", reduction)
    ps, ts = _pair("l1", predictions, targets)
    return _reduce([abs(p - t) for p, t in zip(ps, ts)], reduction)


# ---- classification losses ---------------------------------------------------------------


def _check_soft_labels(loss: str, ts: list[Any]) -> None:
    for i, t in enumerate(ts):
        if type(t) is Value:
            raise TypeError(f"{loss}: target {i} is a Value; targets are numbers (labels)")
        if not 0.0 <= t <= 1.0:
            raise ValueError(f"{loss}: target {t!r} at index {i} is outside [0, 1]")


def _log1p(u: Value) -> Value:
    """log(1 + u) for -1 <= u <= 1, accurate even where 1 + u rounds off u's low digits.

    ``w = 1 + u`` keeps only part of a tiny u (log(1 + 1e-13) computed as log(w) is off by
    0.1%). What was lost is ``c = u - (w - 1)``, and for |u| <= 1 both subtractions are exact
    (Fast2Sum), so log(1 + u) = log(w) + log(1 + c/w) = log(w) + c/w to within 1e-32. The
    gradient through this graph is 1/w - c/w^2 = 1/(1 + u), accurate as well.
    """
    w = 1.0 + u
    if w.data == 0.0:  # u = -1: log(0) = -inf, and c/w would be 0/0
        return w.log()
    return w.log() + (u - (w - 1.0)) / w


def _clamp_log(log_x: Value) -> Value | float:
    """max(log_x, -100): PyTorch's clamp, so that log 0 = -inf never reaches the loss.

    Where the clamp applies the result is the constant -100, whose gradient is 0.
    A nan passes through (the comparison is false).
    """
    return -100.0 if log_x.data < -100.0 else log_x


def binary_cross_entropy(probabilities: Sequence[Value | Number] | Value,
                         targets: Sequence[Number] | Number, reduction: str = "mean") -> Value:
    """Binary cross-entropy of probabilities p_i in [0, 1] against targets t_i in [0, 1]:

        (1/N) sum_i -( t_i log p_i + (1 - t_i) log(1 - p_i) ),

    with each log clamped below at -100, as PyTorch does, so that p = 0 or 1 gives a finite
    loss (at most 100 per example). d/dp_i = (p_i - t_i) / (p_i (1 - p_i)) / N where no clamp
    applies, and 0 where the clamp holds a log at -100. (PyTorch's backward instead divides
    by max(p (1 - p), 1e-12): the two differ only for p within about 1e-12 of 0 or 1.)
    log(1 - p) is computed as log1p(-p), accurate for tiny p, as PyTorch does.

    For scores rather than probabilities, ``binary_cross_entropy_with_logits`` is more
    accurate. PyTorch: ``F.binary_cross_entropy``.
    """
    name = "binary_cross_entropy"
    _check_reduction(name, reduction)
    ps, ts = _pair(name, probabilities, targets)
    for i, p in enumerate(ps):
        if not 0.0 <= p.data <= 1.0:
            raise ValueError(f"{name}: prediction {p.data!r} at index {i} is not a probability "
                             "in [0, 1]")
    _check_soft_labels(name, ts)
    terms = []
    for p, t in zip(ps, ts):
        t = float(t)
        terms.append(-(t * _clamp_log(p.log()) + (1.0 - t) * _clamp_log(_log1p(-p))))
    return _reduce(terms, reduction)


def binary_cross_entropy_with_logits(logits: Sequence[Value | Number] | Value,
                                     targets: Sequence[Number] | Number,
                                     reduction: str = "mean") -> Value:
    """Binary cross-entropy of sigmoid(z_i) against t_i in [0, 1], computed from the logits z:

        loss_i = -( t log sigmoid(z) + (1 - t) log(1 - sigmoid(z)) )
               = max(z, 0) - z t + log(1 + e^-|z|).

    The second form never overflows (e^-|z| <= 1) and needs no clamp: a logit of +-1000
    gives 0 or 1000, not inf or nan. It is evaluated on the branch z's sign selects
    (z (1 - t) + log(1 + e^-z) for z >= 0, log(1 + e^z) - z t below), chosen inside an op
    (``Value.scale_by_sign``) so that a compiled training step keeps the choice for every
    point, and so that the gradient d/dz_i = (sigmoid(z_i) - t_i) / N comes out as a sum of terms that do not cancel, and
    log(1 + u) is computed accurately for tiny u (``_log1p``): a confident right answer
    (z = 30, t = 1) has loss 9.36e-14 to all digits, not 0.1% off.
    PyTorch: ``F.binary_cross_entropy_with_logits``.
    """
    name = "binary_cross_entropy_with_logits"
    _check_reduction(name, reduction)
    zs, ts = _pair(name, logits, targets)
    _check_soft_labels(name, ts)
    terms = []
    for z, t in zip(zs, ts):
        t = float(t)
        linear = z.scale_by_sign(1.0 - t, -t)  # max(z, 0) - z t: z (1 - t) or -z t
        # e^-|z| <= 1, so 1 + e^-|z| > 0 and _log1p takes its ordinary path for every z
        terms.append(linear + _log1p(z.scale_by_sign(-1.0, 1.0).exp()))
    return _reduce(terms, reduction)


def cross_entropy(logits_rows: Sequence[Sequence[Value | Number]], class_indices: Sequence[int],
                  reduction: str = "mean") -> Value:
    """Cross-entropy of a softmax over C classes, for rows of C logits and the true classes:

        loss_i = -log softmax(z_i)[c_i] = log sum_j e^(z_ij) - z_ic
               = log sum_j e^(z_ij - m_i) - (z_ic - m_i),      m_i = max_j z_ij.

    Subtracting the row's maximum (log-sum-exp) keeps every exponent <= 0, so nothing
    overflows; m_i is a constant (``detached_max``: a node, so that a compiled training
    step computes it for every point, but one that backward sends nothing through), and
    the gradient is unchanged by it:
    d/dz_ij = (softmax(z_i)_j - [j == c_i]) / N. Class indices are ints in [0, C).
    PyTorch: ``F.cross_entropy``.
    """
    name = "cross_entropy"
    _check_reduction(name, reduction)
    if isinstance(logits_rows, (str, bytes)) or not isinstance(logits_rows, Sequence):
        raise TypeError(f"{name}: logits_rows must be a list of rows of logits, not "
                        f"{type(logits_rows).__name__}")
    if isinstance(class_indices, (str, bytes)) or not isinstance(class_indices, Sequence):
        raise TypeError(f"{name}: class_indices must be a list of ints, not "
                        f"{type(class_indices).__name__}")
    if len(logits_rows) != len(class_indices):
        raise ValueError(f"{name}: {len(logits_rows)} rows of logits but "
                         f"{len(class_indices)} class indices")
    if not logits_rows:
        raise ValueError(f"{name}: empty batch (no rows of logits)")
    for i, row in enumerate(logits_rows):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise TypeError(f"{name}: row {i} is a {type(row).__name__}, not a list of logits")
    rows = [_as_values(name, list(row)) for row in logits_rows]
    classes = len(rows[0])
    if classes == 0:
        raise ValueError(f"{name}: row 0 has no logits")
    for i, row in enumerate(rows):
        if len(row) != classes:
            raise ValueError(f"{name}: row {i} has {len(row)} logits, row 0 has {classes}")
    for i, c in enumerate(class_indices):
        if isinstance(c, bool) or not isinstance(c, Integral) or not 0 <= c < classes:
            raise ValueError(f"{name}: class index {c!r} at position {i} is not an int in "
                             f"[0, {classes})")
    terms = []
    for row, c in zip(rows, class_indices):
        m = detached_max(row)
        shifted = [z - m for z in row]
        terms.append(vsum([s.exp() for s in shifted]).log() - shifted[c])
    return _reduce(terms, reduction)


def hinge(scores: Sequence[Value | Number] | Value, labels: Sequence[Number] | Number,
          reduction: str = "mean") -> Value:
    """The SVM max-margin loss for labels y_i in {-1, +1} and real scores s_i:

        (1/N) sum_i max(0, 1 - y_i s_i).

    Zero once an example is on the right side with a margin of 1 (y s >= 1); otherwise it
    pushes the score towards its label: d/ds_i = -y_i / N where y_i s_i < 1, else 0.
    micrograd's demo loss; scikit-learn's ``hinge_loss``.
    """
    name = "hinge"
    _check_reduction(name, reduction)
    ss, ys = _pair(name, scores, labels)
    for i, y in enumerate(ys):
        if type(y) is Value or y not in (-1, 1):
            raise ValueError(f"{name}: label {y!r} at index {i} is not -1 or +1")
    return _reduce([(1.0 - s * float(y)).relu() for s, y in zip(ss, ys)], reduction)
