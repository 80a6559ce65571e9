"""nn.metrics against scikit-learn, the reference for every definition.

Hypothesis draws labels and scores, including the awkward cases: tied scores (small
integers), a classifier that predicts one class only, one that is always wrong, and
several classes under every average. Each of our numbers must equal scikit-learn's to
1e-12. A few tests need no oracle: hand-checked values, the Mann-Whitney reading of ROC-AUC,
and the errors.
"""

import math
import re
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nn import metrics

TOL = 1e-12
AVERAGES = ["binary", "macro", "micro", "weighted"]
ZERO_DIVISIONS = [0.0, 1.0, math.nan]


@pytest.fixture(scope="module")
def skm():
    return pytest.importorskip(
        "sklearn.metrics", reason="scikit-learn is the oracle for the metric definitions"
    )


def oracle(fn, *args, **kwargs):
    """Call scikit-learn, silencing its warnings: UndefinedMetricWarning (we return the same
    value without one) and numpy's overflow in ``diff`` of huge scores (harmless there)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def same(ours, theirs, tol=TOL):
    """Equal to ``tol``, elementwise for sequences; nan equals nan, inf equals inf."""
    if isinstance(ours, (list, tuple)):
        theirs = list(theirs)
        return len(ours) == len(theirs) and all(same(a, b, tol) for a, b in zip(ours, theirs))
    theirs = float(theirs)
    if math.isnan(ours) or math.isnan(theirs):
        return math.isnan(ours) and math.isnan(theirs)
    return ours == theirs or abs(ours - theirs) <= tol


# --- strategies -----------------------------------------------------------------------------


@st.composite
def label_pairs(draw, n_classes: int, max_size: int = 40):
    """(y_true, y_pred): random, constant, always wrong or perfect predictions."""
    classes = st.integers(0, n_classes - 1)
    y_true = draw(st.lists(classes, min_size=1, max_size=max_size))
    kind = draw(st.sampled_from(["random", "random", "constant", "all wrong", "perfect"]))
    if kind == "random":
        y_pred = draw(st.lists(classes, min_size=len(y_true), max_size=len(y_true)))
    elif kind == "constant":
        y_pred = [draw(classes)] * len(y_true)
    elif kind == "all wrong":
        shift = draw(st.integers(1, n_classes - 1))
        y_pred = [(t + shift) % n_classes for t in y_true]
    else:
        y_pred = list(y_true)
    return y_true, y_pred


# Small integers make ties common; arbitrary finite floats test the sort and the rest.
scores_elements = st.one_of(
    st.integers(-3, 3),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(-1.0, 1.0),
)


@st.composite
def labels_and_scores(draw, need_both: bool = True, max_size: int = 40):
    """Binary y_true (both classes present if ``need_both``) and one score per sample."""
    y_true = draw(st.lists(st.integers(0, 1), min_size=2 if need_both else 1, max_size=max_size))
    if need_both:
        y_true[draw(st.integers(0, len(y_true) - 1))] = 0
        y_true[draw(st.integers(0, len(y_true) - 1))] = 1
        if len(set(y_true)) < 2:  # both draws hit the same index
            y_true[0], y_true[-1] = 0, 1
    ties = draw(st.booleans())
    element = st.integers(-3, 3) if ties else scores_elements
    scores = draw(st.lists(element, min_size=len(y_true), max_size=len(y_true)))
    return y_true, scores


# --- label metrics vs scikit-learn ----------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    pair=label_pairs(n_classes=2),
    average=st.sampled_from(AVERAGES),
    pos_label=st.sampled_from([0, 1]),
    zero_division=st.sampled_from(ZERO_DIVISIONS),
)
def test_binary_label_metrics_match_sklearn(skm, pair, average, pos_label, zero_division):
    kw = {"average": average, "pos_label": pos_label, "zero_division": zero_division}
    check_label_metrics(skm, *pair, **kw)


def check_label_metrics(skm, y_true, y_pred, **kw):
    """accuracy, precision, recall, f1 and the confusion matrix all equal scikit-learn's."""
    assert same(metrics.accuracy(y_true, y_pred), skm.accuracy_score(y_true, y_pred))
    for ours, theirs in [
        (metrics.precision, skm.precision_score),
        (metrics.recall, skm.recall_score),
        (metrics.f1, skm.f1_score),
    ]:
        assert same(ours(y_true, y_pred, **kw), oracle(theirs, y_true, y_pred, **kw)), ours
    expected = oracle(skm.confusion_matrix, y_true, y_pred).tolist()
    assert metrics.confusion_matrix(y_true, y_pred) == expected


@settings(max_examples=150, deadline=None)
@given(
    pair=st.integers(3, 5).flatmap(lambda k: label_pairs(n_classes=k)),
    average=st.sampled_from(["macro", "micro", "weighted"]),
    zero_division=st.sampled_from(ZERO_DIVISIONS),
)
def test_multiclass_label_metrics_match_sklearn(skm, pair, average, zero_division):
    check_label_metrics(skm, *pair, average=average, zero_division=zero_division)


@settings(max_examples=60, deadline=None)
@given(
    pair=label_pairs(n_classes=5),
    labels=st.lists(st.integers(-1, 5), min_size=1, max_size=6, unique=True),
)
def test_confusion_matrix_with_given_labels_matches_sklearn(skm, pair, labels):
    y_true, y_pred = pair
    if not set(labels) & set(y_true):
        with pytest.raises(ValueError, match="occurs in y_true"):
            metrics.confusion_matrix(y_true, y_pred, labels=labels)
        return
    expected = oracle(skm.confusion_matrix, y_true, y_pred, labels=labels).tolist()
    assert metrics.confusion_matrix(y_true, y_pred, labels=labels) == expected


@settings(max_examples=60, deadline=None)
@given(
    pair=st.integers(2, 4).flatmap(lambda k: label_pairs(n_classes=k)),
    digits=st.integers(0, 5),
    zero_division=st.sampled_from(ZERO_DIVISIONS),
)
def test_classification_report_is_sklearns_text(skm, pair, digits, zero_division):
    y_true, y_pred = pair
    kw = {"digits": digits, "zero_division": zero_division}
    ours = metrics.classification_report(y_true, y_pred, **kw)
    theirs = oracle(skm.classification_report, y_true, y_pred, **kw)
    assert ours == int_supports(theirs)


def int_supports(report: str) -> str:
    """scikit-learn prints the supports as floats ("1.0") when no prediction at all is right
    (its true-positive counts then start as a float array); we always print ints."""
    def as_int(match: re.Match) -> str:
        return match.group(1).rjust(len(match.group(0)))

    return re.sub(r"(\d+)\.0$", as_int, report, flags=re.MULTILINE)


def test_classification_report_target_names(skm):
    y_true, y_pred = [0, 1, 2, 2, 1], [0, 2, 2, 2, 1]
    names = ["setosa", "versicolor", "a much longer class name"]
    ours = metrics.classification_report(y_true, y_pred, target_names=names)
    assert ours == skm.classification_report(y_true, y_pred, target_names=names)


# --- ranking metrics vs scikit-learn --------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(data=labels_and_scores(), drop=st.booleans())
def test_roc_curve_and_auc_match_sklearn(skm, data, drop):
    y_true, scores = data
    fpr, tpr, thresholds = metrics.roc_curve(y_true, scores, drop_intermediate=drop)
    s_fpr, s_tpr, s_thresholds = oracle(skm.roc_curve, y_true, scores, drop_intermediate=drop)
    assert same(fpr, s_fpr) and same(tpr, s_tpr) and same(thresholds, s_thresholds)
    assert thresholds[0] == math.inf
    assert same(metrics.roc_auc(y_true, scores), oracle(skm.roc_auc_score, y_true, scores))


@settings(max_examples=200, deadline=None)
@given(data=labels_and_scores(need_both=False), drop=st.booleans())
def test_precision_recall_curve_and_average_precision_match_sklearn(skm, data, drop):
    y_true, scores = data
    if 1 not in y_true:  # recall undefined: we raise where scikit-learn warns
        with pytest.raises(ValueError, match="no positive samples"):
            metrics.precision_recall_curve(y_true, scores)
        with pytest.raises(ValueError, match="no positive samples"):
            metrics.average_precision(y_true, scores)
        return
    p, r, t = metrics.precision_recall_curve(y_true, scores, drop_intermediate=drop)
    s_p, s_r, s_t = oracle(
        skm.precision_recall_curve, y_true, scores, pos_label=1, drop_intermediate=drop
    )
    assert same(p, s_p) and same(r, s_r) and same(t, s_t)
    ap = metrics.average_precision(y_true, scores)
    assert same(ap, oracle(skm.average_precision_score, y_true, scores))


@settings(max_examples=60, deadline=None)
@given(data=labels_and_scores(), pos_label=st.sampled_from([0, 1]))
def test_pos_label_zero_matches_sklearn(skm, data, pos_label):
    y_true, scores = data
    ours = metrics.roc_curve(y_true, scores, pos_label=pos_label)
    theirs = oracle(skm.roc_curve, y_true, scores, pos_label=pos_label)
    assert all(same(a, b) for a, b in zip(ours, theirs))
    ours_ap = metrics.average_precision(y_true, scores, pos_label=pos_label)
    theirs_ap = oracle(skm.average_precision_score, y_true, scores, pos_label=pos_label)
    assert same(ours_ap, theirs_ap)


# --- oracles that need no scikit-learn ------------------------------------------------------


def test_hand_checked_values():
    # scikit-learn's docstring example: one positive is outscored by one negative.
    y, s = [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]
    assert metrics.roc_auc(y, s) == 0.75
    assert math.isclose(metrics.average_precision(y, s), (1 / 1 + 2 / 3) / 2)
    fpr, tpr, thresholds = metrics.roc_curve(y, s)
    assert (fpr, tpr) == ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    assert thresholds == [math.inf, 0.8, 0.4, 0.35, 0.1]
    # [[TN, FP], [FN, TP]] for 0/1 labels: rows are the truth.
    assert metrics.confusion_matrix([0, 0, 1, 1, 1], [0, 1, 0, 1, 1]) == [[1, 1], [1, 2]]
    assert metrics.precision([0, 0, 1, 1, 1], [0, 1, 0, 1, 1]) == 2 / 3
    assert metrics.recall([0, 0, 1, 1, 1], [0, 1, 0, 1, 1]) == 2 / 3
    assert metrics.accuracy(["a", "b"], ["a", "a"]) == 0.5


def test_zero_division_convention():
    # No predicted positives: precision is 0/0, reported as 0.0 (or zero_division).
    assert metrics.precision([0, 1], [0, 0]) == 0.0
    assert metrics.precision([0, 1], [0, 0], zero_division=1.0) == 1.0
    assert math.isnan(metrics.precision([0, 1], [0, 0], zero_division=math.nan))
    assert metrics.f1([0, 0], [0, 0]) == 0.0  # neither true nor predicted positives


@settings(max_examples=100, deadline=None)
@given(data=labels_and_scores())
def test_roc_auc_is_the_chance_a_positive_outscores_a_negative(data):
    y_true, scores = data
    pos = [s for y, s in zip(y_true, scores) if y == 1]
    neg = [s for y, s in zip(y_true, scores) if y == 0]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    assert same(metrics.roc_auc(y_true, scores), wins / (len(pos) * len(neg)), tol=1e-9)


@settings(max_examples=60, deadline=None)
@given(pair=st.integers(2, 5).flatmap(lambda k: label_pairs(n_classes=k)))
def test_micro_average_is_accuracy_for_single_label_data(pair):
    y_true, y_pred = pair
    acc = metrics.accuracy(y_true, y_pred)
    for metric in (metrics.precision, metrics.recall, metrics.f1):
        assert same(metric(y_true, y_pred, average="micro"), acc)


# --- errors ---------------------------------------------------------------------------------

LABEL_METRICS = [
    metrics.accuracy,
    metrics.precision,
    metrics.recall,
    metrics.f1,
    metrics.confusion_matrix,
    metrics.classification_report,
]
SCORE_METRICS = [
    metrics.roc_curve,
    metrics.roc_auc,
    metrics.precision_recall_curve,
    metrics.average_precision,
]


@pytest.mark.parametrize("metric", LABEL_METRICS + SCORE_METRICS, ids=lambda f: f.__name__)
def test_different_lengths_are_named(metric):
    with pytest.raises(ValueError, match=r"differ in length: len\(y_true\)=3, len\(\w+\)=2"):
        metric([0, 1, 1], [0, 1])


@pytest.mark.parametrize("metric", LABEL_METRICS + SCORE_METRICS, ids=lambda f: f.__name__)
def test_empty_inputs_are_rejected(metric):
    with pytest.raises(ValueError, match="empty"):
        metric([], [])


@pytest.mark.parametrize("metric", [metrics.precision, metrics.recall, metrics.f1])
@pytest.mark.parametrize("average", ["samples", "mean", None, "Macro"])
def test_bad_average_is_named(metric, average):
    with pytest.raises(ValueError, match=f"average={average!r}".replace("(", r"\(")):
        metric([0, 1], [0, 1], average=average)


@pytest.mark.parametrize("metric", [metrics.precision, metrics.recall, metrics.f1])
def test_binary_average_on_three_classes_is_refused(metric):
    message = r"average='binary' needs at most two classes.*\[0, 1, 2\]"
    with pytest.raises(ValueError, match=message):
        metric([0, 1, 2], [0, 1, 1])


def test_pos_label_must_be_a_label_when_two_are_present():
    with pytest.raises(ValueError, match="pos_label=1 is not a valid label"):
        metrics.precision(["cat", "dog"], ["dog", "dog"])
    assert metrics.precision(["cat", "dog"], ["dog", "dog"], pos_label="dog") == 0.5


@pytest.mark.parametrize("metric", [metrics.precision, metrics.classification_report])
def test_zero_division_must_be_0_1_or_nan(metric):
    with pytest.raises(ValueError, match="zero_division must be 0.0, 1.0 or nan, got 0.5"):
        metric([0, 1], [0, 1], zero_division=0.5)


@pytest.mark.parametrize("metric", [metrics.roc_curve, metrics.roc_auc])
@pytest.mark.parametrize("y_true, missing", [([1, 1, 1], "negative"), ([0, 0, 0], "positive")])
def test_roc_with_one_class_is_undefined(metric, y_true, missing):
    with pytest.raises(ValueError, match=f"undefined: y_true has no {missing} samples"):
        metric(y_true, [0.1, 0.5, 0.9])


@pytest.mark.parametrize("metric", SCORE_METRICS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_scores_must_be_finite(metric, bad):
    with pytest.raises(ValueError, match=rf"scores\[1\] is {bad}"):
        metric([0, 1, 1], [0.2, bad, 0.3])


@pytest.mark.parametrize("metric", SCORE_METRICS, ids=lambda f: f.__name__)
def test_scores_must_be_numbers(metric):
    with pytest.raises(TypeError, match=r"scores\[0\] is a str"):
        metric([0, 1], ["0.2", 0.3])


def test_confusion_matrix_label_errors():
    with pytest.raises(ValueError, match="labels is empty"):
        metrics.confusion_matrix([0, 1], [0, 1], labels=[])
    with pytest.raises(ValueError, match=r"duplicates: \[1, 1\]"):
        metrics.confusion_matrix([0, 1], [0, 1], labels=[1, 1])
    with pytest.raises(ValueError, match=r"none of labels=\[7\] occurs in y_true"):
        metrics.confusion_matrix([0, 1], [0, 1], labels=[7])


def test_classification_report_argument_errors():
    with pytest.raises(ValueError, match="target_names has 1 names but the data hold 2"):
        metrics.classification_report([0, 1], [0, 1], target_names=["only"])
    with pytest.raises(ValueError, match="digits must be an int >= 0, got digits=-1"):
        metrics.classification_report([0, 1], [0, 1], digits=-1)


# --- regression metrics ---------------------------------------------------------------------

REGRESSION_METRICS = [metrics.mean_absolute_error, metrics.mean_squared_error,
                      metrics.root_mean_squared_error, metrics.r2_score,
                      metrics.explained_variance_score]

# Multiples of 1/8 up to 100 in size: their sums and differences are exact in floats, so a
# constant list has mean exactly its value both here and in numpy. On arbitrary floats
# numpy's mean of [0.1, 0.1, 0.1] is 0.1 + 1 ulp, and its R^2 for constant targets is then
# 1 - SS_res / (a spread of rounding error) instead of the defined 0.0.
eighths = st.integers(-800, 800).map(lambda k: k / 8)


@st.composite
def regression_pairs(draw, min_size: int = 1):
    """(y_true, y_pred): a fit with errors, a perfect fit, a constant offset, constant
    targets, or constant predictions."""
    y_true = draw(st.lists(eighths, min_size=min_size, max_size=40))
    n = len(y_true)
    kind = draw(st.sampled_from(["noisy", "noisy", "perfect", "offset", "constant targets",
                                 "constant predictions"]))
    if kind == "constant targets":
        y_true = [y_true[0]] * n
        kind = draw(st.sampled_from(["noisy", "perfect"]))
    if kind == "noisy":
        y_pred = [t + e for t, e in zip(y_true, draw(st.lists(eighths, min_size=n, max_size=n)))]
    elif kind == "perfect":
        y_pred = list(y_true)
    elif kind == "offset":
        shift = draw(eighths)
        y_pred = [t + shift for t in y_true]
    else:
        y_pred = [draw(eighths)] * n
    return y_true, y_pred


@settings(max_examples=300, deadline=None)
@given(pair=regression_pairs(min_size=2))
def test_regression_metrics_match_sklearn(skm, pair):
    y_true, y_pred = pair
    for ours, theirs in [(metrics.mean_absolute_error, skm.mean_absolute_error),
                         (metrics.mean_squared_error, skm.mean_squared_error),
                         (metrics.root_mean_squared_error, skm.root_mean_squared_error),
                         (metrics.r2_score, skm.r2_score),
                         (metrics.explained_variance_score, skm.explained_variance_score)]:
        assert same(ours(y_true, y_pred), oracle(theirs, y_true, y_pred)), ours.__name__


@settings(max_examples=200, deadline=None)
@given(y_true=st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=40), data=st.data())
def test_error_metrics_match_sklearn_on_any_floats(skm, y_true, data):
    """MAE, MSE and RMSE sum non-negative terms: no cancellation, so any floats agree."""
    y_pred = data.draw(st.lists(st.floats(-1e6, 1e6), min_size=len(y_true),
                                max_size=len(y_true)))
    for ours, theirs in [(metrics.mean_absolute_error, skm.mean_absolute_error),
                         (metrics.mean_squared_error, skm.mean_squared_error),
                         (metrics.root_mean_squared_error, skm.root_mean_squared_error)]:
        expected = float(oracle(theirs, y_true, y_pred))
        assert math.isclose(ours(y_true, y_pred), expected, rel_tol=TOL, abs_tol=TOL)


def test_regression_metrics_by_hand():
    y_true, y_pred = [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 8.0]
    assert metrics.mean_absolute_error(y_true, y_pred) == 1.0  # (0 + 0 + 0 + 4) / 4
    assert metrics.mean_squared_error(y_true, y_pred) == 4.0  # 16 / 4
    assert metrics.root_mean_squared_error(y_true, y_pred) == 2.0
    assert metrics.r2_score(y_true, y_pred) == 1 - 16 / 5  # SS_tot = 2.25 + 0.25 + 0.25 + 2.25
    # predicting the mean everywhere scores 0; an offset costs R^2 but not explained variance
    assert metrics.r2_score(y_true, [2.5] * 4) == 0.0
    assert metrics.r2_score(y_true, [t + 1 for t in y_true]) == 1 - 4 / 5
    assert metrics.explained_variance_score(y_true, [t + 1 for t in y_true]) == 1.0


def test_constant_targets_follow_sklearns_convention():
    assert metrics.r2_score([0.1, 0.1, 0.1], [0.1, 0.1, 0.1]) == 1.0
    assert metrics.r2_score([0.1, 0.1, 0.1], [0.2, 0.1, 0.1]) == 0.0
    assert metrics.explained_variance_score([0.1, 0.1, 0.1], [0.3, 0.3, 0.3]) == 1.0
    assert metrics.explained_variance_score([0.1, 0.1, 0.1], [0.3, 0.1, 0.1]) == 0.0
    assert metrics.explained_variance_score([5.0], [7.0]) == 1.0  # one sample: as sklearn


def test_r2_of_one_sample_is_undefined():
    with pytest.raises(ValueError, match="at least two samples, got 1"):
        metrics.r2_score([1.0], [1.0])


@pytest.mark.parametrize("metric", REGRESSION_METRICS, ids=lambda f: f.__name__)
def test_regression_metrics_check_their_inputs(metric):
    with pytest.raises(ValueError, match=r"len\(y_true\)=2, len\(y_pred\)=3"):
        metric([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="empty"):
        metric([], [])
    with pytest.raises(ValueError, match=r"y_pred\[1\] is nan"):
        metric([1.0, 2.0], [1.0, math.nan])
    with pytest.raises(TypeError, match=r"y_true\[0\] is a str"):
        metric(["1", 2.0], [1.0, 2.0])
