"""nn.data: reproducible toy sets, honest splits, standardizing and minibatches.

The generators are checked for determinism (same seed, same data; the global ``random``
untouched), shapes and labels, and, where scikit-learn has the same set, for the same
noise-free points. The split, the Standardizer and the batches are checked for the
properties an evaluation relies on: disjoint, covering, stratified, fitted on train only.
"""

import math
import random
import re
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nn import data

GENERATORS = [data.make_moons, data.make_circles, data.make_blobs, data.make_spiral, data.make_xor]
NAMES = {f: f.__name__ for f in GENERATORS}


@pytest.fixture(scope="module")
def skd():
    return pytest.importorskip(
        "sklearn.datasets", reason="scikit-learn's generators are the reference point sets"
    )


def close_rows(a, b, tol=1e-12):
    """The same multiset of (x, y, label) rows, to ``tol``, whatever their order."""

    def key(row):  # rounding first, so that a 1e-17 difference cannot change the order
        return (row[2], round(float(row[0]), 9), round(float(row[1]), 9))

    a, b = sorted(a, key=key), sorted(b, key=key)
    return len(a) == len(b) and all(
        ra[2] == rb[2] and abs(ra[0] - rb[0]) <= tol and abs(ra[1] - rb[1]) <= tol
        for ra, rb in zip(a, b)
    )


# --- generators -----------------------------------------------------------------------------


@pytest.mark.parametrize("make", GENERATORS, ids=NAMES.get)
def test_same_seed_same_data_different_seed_different_data(make):
    assert make(seed=7) == make(seed=7)
    assert make(seed=7) != make(seed=8)


@pytest.mark.parametrize("make", GENERATORS, ids=NAMES.get)
def test_global_random_state_is_neither_used_nor_changed(make):
    random.seed(1)
    state = random.getstate()
    first = make(n=50)
    assert random.getstate() == state
    random.seed(2)
    assert make(n=50) == first


@pytest.mark.parametrize("make", GENERATORS, ids=NAMES.get)
@pytest.mark.parametrize("n", [1, 2, 3, 7, 300])
def test_shapes_and_labels(make, n):
    kwargs = {"centers": 1} if make is data.make_blobs else {}
    kwargs |= {"classes": 1} if make is data.make_spiral else {}
    X, y = make(n=n, **kwargs)
    assert len(X) == len(y) == n
    assert all(len(row) == 2 and all(type(v) is float for v in row) for row in X)
    assert all(type(label) is int for label in y)


@pytest.mark.parametrize("make", [data.make_moons, data.make_circles, data.make_xor])
@pytest.mark.parametrize("n", [2, 9, 300])
def test_binary_sets_are_balanced(make, n):
    counts = Counter(make(n=n)[1])
    assert set(counts) == {0, 1}
    assert sorted(counts.values()) == sorted([n // 2, n - n // 2])


@pytest.mark.parametrize("n", [1, 2, 5, 300])
def test_noise_free_moons_are_sklearns_points(skd, n):
    X, y = data.make_moons(n=n, noise=0.0)
    sX, sy = skd.make_moons(n_samples=n, noise=None, shuffle=False)
    assert close_rows([(*r, c) for r, c in zip(X, y)], [(*r, c) for r, c in zip(sX, sy)])


@pytest.mark.parametrize("n, factor", [(1, 0.5), (2, 0.0), (7, 0.3), (300, 0.5)])
def test_noise_free_circles_are_sklearns_points(skd, n, factor):
    X, y = data.make_circles(n=n, noise=0.0, factor=factor)
    sX, sy = skd.make_circles(n_samples=n, noise=None, factor=factor, shuffle=False)
    assert close_rows([(*r, c) for r, c in zip(X, y)], [(*r, c) for r, c in zip(sX, sy)])


def test_noisy_moons_stay_near_the_half_circles():
    noise = 0.1
    X, y = data.make_moons(n=1000, noise=noise)
    for (px, py), label in zip(X, y):
        # distance to the noise-free moon's circle: centre (0, 0) or (1, 0.5), radius 1
        cx, cy = (0.0, 0.0) if label == 0 else (1.0, 0.5)
        assert abs(math.hypot(px - cx, py - cy) - 1.0) < 6 * noise
    assert min(x for x, _ in X) > -1 - 6 * noise and max(x for x, _ in X) < 2 + 6 * noise
    assert min(v for _, v in X) > -0.5 - 6 * noise and max(v for _, v in X) < 1 + 6 * noise


def test_noise_is_gaussian_with_the_requested_std():
    clean, _ = data.make_moons(n=2000, noise=0.0, seed=3)
    noisy, _ = data.make_moons(n=2000, noise=0.2, seed=3)
    # Same seed: same shuffle, so the rows line up; the difference is the noise alone.
    diffs = [b - a for ra, rb in zip(clean, noisy) for a, b in zip(ra, rb)]
    mean = sum(diffs) / len(diffs)
    std = math.sqrt(sum((d - mean) ** 2 for d in diffs) / len(diffs))
    assert abs(mean) < 0.02 and abs(std - 0.2) < 0.01


@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_spiral_arms(noise):
    X, y = data.make_spiral(n=301, classes=3, noise=noise)
    assert Counter(y) == {0: 101, 1: 100, 2: 100}
    radii = [math.hypot(px, py) for px, py in X]
    assert max(radii) <= 1 + 1e-12  # noise turns the angle, never the radius
    if noise == 0.0:  # theta = 4 c + 4 r exactly: the point is (r sin theta, r cos theta)
        for (px, py), c, r in zip(X, y, radii):
            theta = 4 * c + 4 * r
            assert abs(px - r * math.sin(theta)) < 1e-12 and abs(py - r * math.cos(theta)) < 1e-12


@pytest.mark.parametrize("centers", [1, 2, 3, 5])
def test_blobs_sit_around_their_centers(centers):
    X, y = data.make_blobs(n=100 * centers + 1, centers=centers, std=0.5, seed=4)
    counts = Counter(y)
    assert counts[0] == 101 and all(counts[c] == 100 for c in range(1, centers))
    means = []
    for c in range(centers):
        rows = [row for row, label in zip(X, y) if label == c]
        means.append([sum(v) / len(rows) for v in zip(*rows)])
    for c, (mx, my) in enumerate(means):  # center c: 5 from the origin, evenly spread
        angle = math.pi / 2 + 2 * math.pi * c / centers
        assert math.dist((mx, my), (5 * math.cos(angle), 5 * math.sin(angle))) < 0.2
    if centers > 1:  # neighbours are 10 sin(pi / centers) apart
        gap = min(math.dist(a, b) for i, a in enumerate(means) for b in means[i + 1 :])
        assert abs(gap - 10 * math.sin(math.pi / centers)) < 0.3


def test_xor_labels_follow_the_quadrants():
    X, y = data.make_xor(n=400, noise=0.0)
    assert all(label == int((px > 0) != (py > 0)) for (px, py), label in zip(X, y))
    assert all(0.1 <= abs(v) <= 1.0 for row in X for v in row)
    assert Counter(int(px > 0) + 2 * int(py > 0) for px, py in X) == {q: 100 for q in range(4)}


BAD_ARGUMENTS = [
    (data.make_moons, {"n": 0}, ValueError, "n=0"),
    (data.make_moons, {"n": -3}, ValueError, "n=-3"),
    (data.make_moons, {"noise": -0.1}, ValueError, "noise=-0.1"),
    (data.make_moons, {"noise": math.nan}, ValueError, "noise=nan"),
    (data.make_moons, {"n": 2.5}, TypeError, "n must be an int, got float 2.5"),
    (data.make_moons, {"n": True}, TypeError, "n must be an int, got bool"),
    (data.make_moons, {"seed": None}, TypeError, "seed must be an int, got NoneType"),
    (data.make_moons, {"noise": "0.1"}, TypeError, "noise must be a real number, got str"),
    (data.make_circles, {"factor": 1.0}, ValueError, "factor must be in \\[0, 1\\).*1.0"),
    (data.make_circles, {"factor": -0.5}, ValueError, "factor=-0.5"),
    (data.make_circles, {"n": 0}, ValueError, "n=0"),
    (data.make_blobs, {"centers": 0}, ValueError, "centers=0"),
    (data.make_blobs, {"std": -1.0}, ValueError, "std=-1.0"),
    (data.make_blobs, {"n": 2, "centers": 3}, ValueError, "n=2 is smaller than centers=3"),
    (data.make_spiral, {"classes": 0}, ValueError, "classes=0"),
    (data.make_spiral, {"noise": -1}, ValueError, "noise=-1"),
    (data.make_spiral, {"n": 2, "classes": 3}, ValueError, "n=2 is smaller than classes=3"),
    (data.make_xor, {"n": 0}, ValueError, "n=0"),
    (data.make_xor, {"noise": math.inf}, ValueError, "noise=inf"),
]


@pytest.mark.parametrize("make, kwargs, error, message", BAD_ARGUMENTS)
def test_bad_arguments_are_named(make, kwargs, error, message):
    with pytest.raises(error, match=message):
        make(**kwargs)


# --- train / validation / test split --------------------------------------------------------


def numbered(y):
    """Rows that carry their index, so each row can be traced through a split."""
    return [[float(i), 0.0] for i in range(len(y))]


@st.composite
def split_cases(draw):
    y = draw(st.lists(st.integers(0, 3), min_size=1, max_size=120))
    val = draw(st.sampled_from([0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 1 / 3, 0.4]))
    test = draw(st.sampled_from([0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5]))
    return y, val, test, draw(st.booleans()), draw(st.integers(0, 2**32))


@settings(max_examples=300, deadline=None)
@given(case=split_cases())
def test_split_is_disjoint_covering_and_stratified(case):
    y, val, test, stratify, seed = case
    X = numbered(y)
    exact = [1 - Fraction(repr(val)) - Fraction(repr(test)), Fraction(repr(val)),
             Fraction(repr(test))]
    try:
        parts = data.train_val_test_split(X, y, val=val, test=test, seed=seed, stratify=stratify)
    except ValueError as error:  # only a split whose exact share is below one row is empty
        name = re.match(r"the (\w+) split would be empty", str(error)).group(1)
        share = exact[["training", "validation", "test"].index(name)]
        assert len(y) * share < 1
        return
    assert len(parts) == 6
    Xs, ys = parts[0::2], parts[1::2]
    ids = [[int(row[0]) for row in part] for part in Xs]
    assert sorted(i for part in ids for i in part) == list(range(len(y)))  # disjoint, covering
    for part_ids, part_y, fraction in zip(ids, ys, exact):
        assert part_y == [y[i] for i in part_ids]  # labels travel with their rows
        assert part_ids  # no empty split is ever returned
        assert abs(len(part_ids) - len(y) * fraction) < 1  # sizes within one row of exact
        if stratify:  # and so is each class's share of each split
            counts = Counter(part_y)
            for label, total in Counter(y).items():
                assert abs(counts[label] - total * fraction) < 1


def test_split_is_a_named_six_tuple_and_deterministic():
    X, y = data.make_moons(n=200)
    parts = data.train_val_test_split(X, y, seed=3)
    X_train, y_train, X_val, y_val, X_test, y_test = parts
    assert parts._fields == ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")
    assert parts.X_val is X_val and parts.y_test is y_test
    assert (len(X_train), len(X_val), len(X_test)) == (140, 30, 30)
    assert (len(y_train), len(y_val), len(y_test)) == (140, 30, 30)
    assert data.train_val_test_split(X, y, seed=3) == parts
    assert data.train_val_test_split(X, y, seed=4) != parts


def test_stratified_split_keeps_a_rare_class_in_every_split():
    y = [0] * 90 + [1] * 10
    parts = data.train_val_test_split(numbered(y), y, val=0.2, test=0.2)
    assert [Counter(part)[1] for part in parts[1::2]] == [6, 2, 2]
    assert [Counter(part)[0] for part in parts[1::2]] == [54, 18, 18]


BAD_SPLITS = [
    ({"val": -0.1}, "val must be a finite number >= 0.0, got val=-0.1"),
    ({"test": -0.2}, "test must be a finite number >= 0.0, got test=-0.2"),
    ({"val": math.nan}, "val=nan"),
    ({"val": 0.5, "test": 0.5}, "val \\+ test must be below 1.*val=0.5 \\+ test=0.5"),
    ({"val": 0.7, "test": 0.3}, "val \\+ test must be below 1"),
    ({"val": 0.9, "test": 0.4}, "val \\+ test must be below 1"),
    ({"val": 0.0}, "the validation split would be empty: val = 0.0 of 20 rows"),
    ({"test": 0.0}, "the test split would be empty: test = 0.0 of 20 rows"),
    ({"val": 0.01}, "the validation split would be empty: val = 0.01 of 20 rows"),
    ({"val": 0.5, "test": 0.49}, "the training split would be empty: 1 - val - test = 0.01 of 20"),
]


@pytest.mark.parametrize("kwargs, message", BAD_SPLITS)
def test_bad_fractions_say_which(kwargs, message):
    y = [0, 1] * 10
    with pytest.raises(ValueError, match=message):
        data.train_val_test_split(numbered(y), y, **kwargs)


def test_split_lengths_must_agree():
    with pytest.raises(ValueError, match=r"len\(X\)=3, len\(y\)=2"):
        data.train_val_test_split([[0.0]] * 3, [0, 1])


# --- Standardizer ---------------------------------------------------------------------------

finite = st.floats(-1e6, 1e6, allow_nan=False)


@st.composite
def nearly_constant(draw):
    """One column: a base value plus a few ulps, where rounding of the mean matters."""
    base = draw(finite)
    steps = st.integers(0, 60)
    return [[base + draw(steps) * math.ulp(base)] for _ in range(draw(st.integers(1, 30)))]


matrices = st.integers(1, 4).flatmap(
    lambda width: st.lists(st.lists(finite, min_size=width, max_size=width), min_size=1,
                           max_size=30))


@settings(max_examples=150, deadline=None)
@given(st.one_of(matrices, nearly_constant()))
@example([[1e6], [1e6], [1e6 + 22 * math.ulp(1e6)]])  # a spread of a few ulps
@example([[0.0], [2.0]])  # a std of exactly 1.0 is not a constant column
def test_standardizer_gives_mean_0_std_1_on_train(X):
    scaler = data.Standardizer()
    Z = scaler.fit_transform(X)
    for j, column in enumerate(zip(*Z)):
        values = [row[j] for row in X]
        biggest = max(1.0, max(abs(v) for v in values))
        if len(set(values)) == 1:  # constant column: std 1.0, everything maps to exactly 0
            assert scaler.std[j] == 1.0 and set(column) == {0.0}
        elif scaler.std[j] == 1.0 and max(values) - min(values) <= 1e-9 * biggest:
            # a spread below the mean's rounding error counts as constant too
            assert max(abs(z) for z in column) <= 1e-9 * biggest
        else:
            # The mean is only known to within an ulp of the data; divided by the std, that
            # rounding is how far z can be off (much, for a spread of a few ulps).
            slack = 1e-9 + 4 * math.ulp(biggest) / scaler.std[j]
            mean = math.fsum(column) / len(column)
            std = math.sqrt(math.fsum((z - mean) ** 2 for z in column) / len(column))
            assert abs(mean) <= slack and abs(std - 1) <= slack
    back = scaler.inverse_transform(Z)
    assert all(abs(a - b) <= 1e-9 * max(1.0, abs(a)) for ra, rb in zip(X, back)
               for a, b in zip(ra, rb))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(finite, min_size=2, max_size=2), min_size=1, max_size=30))
def test_standardizer_matches_sklearn(skd, X):
    preprocessing = pytest.importorskip("sklearn.preprocessing", reason="StandardScaler oracle")
    scaler = data.Standardizer().fit(X)
    reference = preprocessing.StandardScaler().fit(X)
    for ours, theirs in [(scaler.mean, reference.mean_), (scaler.std, reference.scale_)]:
        assert all(abs(a - b) <= 1e-9 * max(1.0, abs(b)) for a, b in zip(ours, theirs))


def test_standardizer_uses_the_training_statistics():
    scaler = data.Standardizer().fit([[0.0, 10.0], [2.0, 10.0], [4.0, 10.0]])
    assert scaler.mean == [2.0, 10.0]
    assert scaler.std == [math.sqrt(8 / 3), 1.0]  # population std; constant column -> 1.0
    assert scaler.transform([[2.0, 10.0], [6.0, 13.0]]) == [
        [0.0, 0.0],
        [4 / math.sqrt(8 / 3), 3.0],
    ]


def test_standardizer_errors():
    scaler = data.Standardizer()
    with pytest.raises(RuntimeError, match="not fitted yet: call fit"):
        scaler.transform([[1.0]])
    with pytest.raises(ValueError, match="X is empty"):
        scaler.fit([])
    with pytest.raises(ValueError, match="row 1 of X has width 1, expected 2"):
        scaler.fit([[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError, match="row 0 of X holds nan"):
        scaler.fit([[math.nan]])
    scaler.fit([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="row 0 of X has width 3, expected 2"):
        scaler.transform([[1.0, 2.0, 3.0]])


# --- batches --------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(n=st.integers(0, 50), batch_size=st.integers(1, 60), shuffle=st.booleans(),
       seed=st.integers(0, 1000))
def test_batches_cover_every_row_once(n, batch_size, shuffle, seed):
    y = list(range(n))
    X = numbered(y)
    got = list(data.batches(X, y, batch_size, shuffle=shuffle, seed=seed))
    assert sorted(i for _, yb in got for i in yb) == y
    assert all(len(xb) == len(yb) for xb, yb in got)
    assert all(int(row[0]) == i for xb, yb in got for row, i in zip(xb, yb))
    assert [len(yb) for _, yb in got[:-1]] == [batch_size] * (len(got) - 1)
    if not shuffle:
        assert [i for _, yb in got for i in yb] == y
    assert got == list(data.batches(X, y, batch_size, shuffle=shuffle, seed=seed))


def test_batches_order_depends_on_the_seed():
    y = list(range(100))
    first = [yb for _, yb in data.batches(numbered(y), y, 10, seed=0)]
    assert first != [yb for _, yb in data.batches(numbered(y), y, 10, seed=1)]
    assert first != [y[i : i + 10] for i in range(0, 100, 10)]


def test_batches_check_arguments_at_the_call():
    with pytest.raises(ValueError, match="batch_size must be at least 1, got batch_size=0"):
        data.batches([[0.0]], [0], 0)  # no next(): the error comes at the call
    with pytest.raises(TypeError, match="batch_size must be an int"):
        data.batches([[0.0]], [0], 2.0)
    with pytest.raises(ValueError, match=r"len\(X\)=1, len\(y\)=2"):
        data.batches([[0.0]], [0, 1], 1)


# --- regression sets, and real targets through the split and the Standardizer --------------

REGRESSION = [data.make_sine, lambda **kw: data.make_linear(**kw)[:2], data.make_friedman1]
REGRESSION_IDS = ["sine", "linear", "friedman1"]


@pytest.mark.parametrize("make", REGRESSION, ids=REGRESSION_IDS)
def test_regression_sets_are_seeded_and_leave_the_global_random_alone(make):
    random.seed(1)
    state = random.getstate()
    first = make(n=40, seed=3)
    assert random.getstate() == state
    assert make(n=40, seed=3) == first and make(n=40, seed=4) != first
    X, y = first
    assert len(X) == len(y) == 40
    assert all(type(v) is float for row in X for v in row) and all(type(t) is float for t in y)


def test_sine_is_a_sine_of_x_in_minus_3_to_3_plus_the_noise():
    X, y = data.make_sine(500, noise=0.0, seed=0)
    assert all(len(row) == 1 and -3.0 <= row[0] <= 3.0 for row in X)
    assert y == [math.sin(x) for x, in X]
    assert min(x for x, in X) < -2.9 and max(x for x, in X) > 2.9  # the whole interval
    X_noisy, y_noisy = data.make_sine(2000, noise=0.3, seed=0)
    residuals = [t - math.sin(x) for (x,), t in zip(X_noisy, y_noisy)]
    assert abs(math.fsum(residuals) / len(residuals)) < 0.03
    assert math.sqrt(math.fsum(r * r for r in residuals) / len(residuals)) == pytest.approx(
        0.3, rel=0.05)


def test_linear_returns_the_coefficients_that_made_y():
    X, y, w, b = data.make_linear(50, features=4, noise=0.0, seed=2)
    assert len(w) == 4 and all(-2.0 <= wj <= 2.0 for wj in w) and -1.0 <= b <= 1.0
    assert all(len(row) == 4 for row in X)
    for row, t in zip(X, y):
        assert t == pytest.approx(sum(wj * xj for wj, xj in zip(w, row)) + b, abs=1e-12)
    _, y_noisy, w_again, b_again = data.make_linear(50, features=4, noise=0.5, seed=2)
    assert (w_again, b_again) == (w, b)  # the noise does not change the coefficients
    assert y_noisy != y


class _Draws:
    """Stands in for numpy's RandomState inside sklearn's make_friedman1, handing it the
    uniform inputs and normal noise that chainrule drew (the order its docstring gives)."""

    def __init__(self, np, n, features, seed):
        rng = random.Random(seed)
        self.X = np.array([[rng.random() for _ in range(features)] for _ in range(n)])
        self.z = np.array([rng.gauss(0.0, 1.0) for _ in range(n)])

    def uniform(self, size):
        assert size == self.X.shape
        return self.X

    def standard_normal(self, size):
        assert size == len(self.z)
        return self.z


@pytest.mark.parametrize("n, features, noise", [(1, 5, 0.0), (50, 10, 0.0), (200, 10, 1.0),
                                                (30, 7, 2.5)])
def test_friedman1_is_sklearns_formula_on_the_same_draws(skd, monkeypatch, n, features, noise):
    np = pytest.importorskip("numpy")
    draws = _Draws(np, n, features, seed=5)
    # make_friedman1 asks check_random_state for its generator: give it ours
    monkeypatch.setattr("sklearn.datasets._samples_generator.check_random_state",
                        lambda seed: draws)
    X_ref, y_ref = skd.make_friedman1(n_samples=n, n_features=features, noise=noise,
                                      random_state=0)
    X, y = data.make_friedman1(n, features=features, noise=noise, seed=5)
    assert X == X_ref.tolist()
    assert y == pytest.approx(y_ref.tolist(), abs=1e-12)


def friedman1(r):
    """y of Friedman #1 without noise, written out from the paper."""
    return 10 * math.sin(math.pi * r[0] * r[1]) + 20 * (r[2] - 0.5) ** 2 + 10 * r[3] + 5 * r[4]


def test_friedman1_ignores_the_inputs_after_the_fifth():
    X, y = data.make_friedman1(20, features=8, noise=0.0, seed=1)
    for row, t in zip(X, y):
        assert t == friedman1(row) == friedman1(row[:5] + [1.0 - v for v in row[5:]])


@pytest.mark.parametrize("make, kwargs, error, message", [
    (data.make_sine, {"n": 0}, ValueError, "n=0"),
    (data.make_sine, {"noise": -0.5}, ValueError, "noise=-0.5"),
    (data.make_sine, {"seed": 1.5}, TypeError, "seed must be an int, got float"),
    (data.make_linear, {"features": 0}, ValueError, "features=0"),
    (data.make_linear, {"features": 2.0}, TypeError, "features must be an int, got float"),
    (data.make_linear, {"noise": math.inf}, ValueError, "noise=inf"),
    (data.make_friedman1, {"features": 4}, ValueError, "at least 5, got features=4"),
    (data.make_friedman1, {"n": -1}, ValueError, "n=-1"),
    (data.make_friedman1, {"noise": "1"}, TypeError, "noise must be a real number, got str"),
])
def test_bad_regression_arguments_are_named(make, kwargs, error, message):
    with pytest.raises(error, match=message):
        make(**kwargs)


def test_real_targets_are_split_without_strata():
    X, y = data.make_sine(100, seed=0)
    parts = data.train_val_test_split(X, y, val=0.2, test=0.1, seed=0)
    assert [len(p) for p in parts] == [70, 70, 20, 20, 10, 10]
    rows = [tuple(r) + (t,) for Xs, ys in zip(parts[::2], parts[1::2]) for r, t in zip(Xs, ys)]
    assert sorted(rows) == sorted(tuple(r) + (t,) for r, t in zip(X, y))  # every row once
    assert parts == data.train_val_test_split(X, y, val=0.2, test=0.1, seed=0, stratify=False)


def test_stratifying_real_targets_is_refused_with_the_way_out():
    X, y = data.make_sine(20, seed=0)
    with pytest.raises(ValueError, match=r"stratify=True needs class labels.*such as "
                                         rf"{re.escape(repr(y[0]))}.*stratify=False"):
        data.train_val_test_split(X, y, stratify=True)


def test_class_labels_are_stratified_by_default():
    X, y = data.make_moons(40, seed=0)
    assert data.train_val_test_split(X, y, seed=3) == data.train_val_test_split(
        X, y, seed=3, stratify=True)
    assert data.train_val_test_split(X, y, seed=3) != data.train_val_test_split(
        X, y, seed=3, stratify=False)


def test_a_standardizer_of_targets_takes_and_gives_flat_lists():
    y = [1.0, 3.0, 5.0, 7.0]
    targets = data.Standardizer().fit(y)
    assert targets.mean == [4.0] and targets.std == [math.sqrt(5.0)]
    z = targets.transform(y)
    assert z == [(t - 4.0) / math.sqrt(5.0) for t in y]
    assert targets.inverse_transform(z) == pytest.approx(y, abs=1e-15)
    assert targets.inverse_transform([0.0, 1.0]) == [4.0, 4.0 + math.sqrt(5.0)]
    assert targets.transform([[1.0]]) == [[-3.0 / math.sqrt(5.0)]]  # rows still work
    assert data.Standardizer().fit_transform([2.0, 2.0]) == [0.0, 0.0]  # constant: std 1


def test_a_standardizer_of_targets_checks_its_input():
    with pytest.raises(ValueError, match="row 0 of X has width 1, expected 2"):
        data.Standardizer().fit([[1.0, 2.0], [3.0, 4.0]]).transform([1.0, 2.0])
    with pytest.raises(ValueError, match="row 1 of X holds nan"):
        data.Standardizer().fit([1.0, math.nan])
    with pytest.raises(TypeError, match="row 1 of X holds a list"):
        data.Standardizer().fit([1.0, [2.0]])
