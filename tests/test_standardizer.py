"""The Standardizer's near-constant columns, against scikit-learn's StandardScaler.

A column whose spread is a few ulps of its size (``[1e6, 1e6, 1e6 + ulp]``) has a variance
made of rounding error; dividing by its square root would blow that noise up to +-1.
StandardScaler treats such a column as constant (scale 1.0), and so must the Standardizer.
Random columns almost never are near-constant, so these draw them on purpose: a base value
plus a few multiples of its ulp.
"""

import math

import pytest
from hypothesis import example, given, settings
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


@settings(max_examples=200, deadline=None)
@given(near_constant_columns())
@example([[1e6], [1e6], [1e6 + math.ulp(1e6)]])
def test_a_near_constant_column_gets_sklearns_scale(preprocessing, X):
    ours = data.Standardizer().fit(X)
    theirs = preprocessing.StandardScaler().fit(X)
    assert ours.std[0] == pytest.approx(theirs.scale_[0], rel=1e-9)
    assert ours.mean[0] == pytest.approx(theirs.mean_[0], rel=1e-12, abs=1e-300)


def test_a_spread_of_one_ulp_in_a_million_is_constant():
    X = [[1e6], [1e6], [1e6 + math.ulp(1e6)]]
    scaler = data.Standardizer().fit(X)
    assert scaler.std == [1.0]  # sqrt of its variance would be about 5e-11
    assert max(abs(z) for (z,) in scaler.transform(X)) < 1e-9
