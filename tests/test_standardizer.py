"""The Standardizer's near-constant columns, against scikit-learn's StandardScaler.

A column whose spread is a few ulps of its size (``[1e6, 1e6, 1e6 + ulp]``) has a variance
made of rounding error; dividing by its square root would blow that noise up to +-1.
StandardScaler treats such a column as constant (scale 1.0), and so must the Standardizer.
Random columns almost never are near-constant, so these draw them on purpose: a base value
plus a few multiples of its ulp.
"""

import math
import sys
from fractions import Fraction

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from nn import data


@st.composite
def near_constant_columns(draw):
    """2 to 30 rows of ``base + k * ulp(base)`` for small k (some k = 0: exact repeats)."""
    base = draw(st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False)
                | st.sampled_from([1e6, -3.5, 0.1, 1e-300]))
    offsets = draw(st.lists(st.integers(-4, 4), min_size=2, max_size=30))
    return [[base + k * math.ulp(base)] for k in offsets]


@pytest.fixture(scope="module")
def preprocessing():
    return pytest.importorskip("sklearn.preprocessing", reason="StandardScaler is the oracle")


def mean_rounding(X):
    """(exact mean, the rounding error of the mean as computed, exact variance), exactly."""
    column = [Fraction(row[0]) for row in X]
    n = len(column)
    exact_mean = sum(column) / n
    exact_var = sum((v - exact_mean) ** 2 for v in column) / n
    error = Fraction(math.fsum(row[0] for row in X) / n) - exact_mean
    return exact_mean, error, exact_var


def on_the_edge(X):
    """True when rounding the mean alone can decide whether the column counts as constant.

    The rule is var <= n eps var + (n mean eps)**2. A variance taken about the rounded mean
    is the exact one plus (mean error)**2 unless that is subtracted, as both the
    Standardizer and StandardScaler do, each with its own rounding; where the exact
    variance is that close to the bound, a last-bit difference could decide either way.
    """
    exact_mean, error, exact_var = mean_rounding(X)
    n, eps = len(X), Fraction(sys.float_info.epsilon)
    bound = n * eps * exact_var + (n * exact_mean * eps) ** 2
    return abs(exact_var - bound) <= 2 * error ** 2 + bound * Fraction(1, 10**6)


@settings(max_examples=200, deadline=None)
@given(near_constant_columns())
@example([[1e6], [1e6], [1e6 + math.ulp(1e6)]])
def test_a_near_constant_column_is_decided_like_sklearn(preprocessing, X):
    assume(not on_the_edge(X))
    ours = data.Standardizer().fit(X)
    theirs = preprocessing.StandardScaler().fit(X)
    assert (ours.std[0] == 1.0) == (theirs.scale_[0] == 1.0), (ours.std, theirs.scale_)
    assert ours.mean[0] == pytest.approx(theirs.mean_[0], rel=1e-12, abs=1e-300)
    if theirs.scale_[0] != 1.0:
        # the variance differs from sklearn's (the exact one) by the mean's rounding at most
        _, error, _ = mean_rounding(X)
        gap = abs(Fraction(ours.std[0]) ** 2 - Fraction(float(theirs.scale_[0])) ** 2)
        assert gap <= 2 * error ** 2 + Fraction(theirs.var_[0]) * Fraction(1, 10**9)


def test_a_spread_of_one_ulp_in_a_million_is_constant():
    X = [[1e6], [1e6], [1e6 + math.ulp(1e6)]]
    scaler = data.Standardizer().fit(X)
    assert scaler.std == [1.0]  # sqrt of its variance would be about 5e-11
    assert max(abs(z) for (z,) in scaler.transform(X)) < 1e-9


def test_the_std_of_a_spread_of_a_few_ulps_is_sklearns(preprocessing):
    """The mean's rounding error is taken out of the variance (it used to stay in: 7.42e-11)."""
    X = [[131073.00000000003], [131072.99999999988]]
    assert not on_the_edge(X)
    expected = preprocessing.StandardScaler().fit(X).scale_[0]  # the exact 7.2760e-11
    assert data.Standardizer().fit(X).std[0] == pytest.approx(expected, rel=1e-9)


def test_a_column_on_the_edge_of_the_rule_is_decided_like_sklearn(preprocessing):
    X = [[-3.5000000000000013], [-3.4999999999999982]]
    assert on_the_edge(X)
    assert preprocessing.StandardScaler().fit(X).scale_[0] == 1.0
    assert data.Standardizer().fit(X).std == [1.0]
