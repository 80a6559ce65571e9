"""Toy data sets and the plumbing around them: split, standardize, batch.

Every generator returns plain lists, ``X`` (rows of floats) and ``y``: integer labels for
the classification sets (``make_moons`` ... ``make_xor``, two inputs each), real numbers for
the regression sets (``make_sine``, ``make_linear``, ``make_friedman1``). Each draws all
its randomness from its own ``random.Random(seed)``, never from the global generator: the
same seed gives the same data in every process, whatever else has used ``random``. Python's
Mersenne Twister gives the same stream on every platform; the points are then computed with
``math.cos``, ``math.sin`` and ``random.gauss``.

An honest evaluation needs three disjoint splits: fit the weights on *train*, pick the epoch
and the hyperparameters on *val*, and look at *test* once, at the end. ``Standardizer`` is
fitted on the training split only, so that no statistic of the held-out rows leaks into the
model. ``batches`` cuts the training split into minibatches for stochastic gradient descent.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Hashable, Iterator, Sequence
from fractions import Fraction
from numbers import Real
from typing import NamedTuple

from nn.checks import count as _check_count

__all__ = [
    "Split",
    "Standardizer",
    "batches",
    "make_blobs",
    "make_circles",
    "make_friedman1",
    "make_gaussians",
    "make_linear",
    "make_moons",
    "make_sine",
    "make_spiral",
    "make_xor",
    "train_val_test_split",
]

Rows = list[list[float]]
Labels = list[int]
Targets = list[float]


# --- argument checks, shared by every public function -------------------------------------


def _check_real(name: str, value: object, low: float = 0.0) -> float:
    """``value`` as a finite float >= ``low``: TypeError for a non-number, else ValueError."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < low:
        raise ValueError(f"{name} must be a finite number >= {low}, got {name}={value}")
    return value


def _check_seed(seed: object) -> int:
    """Only an int seed is reproducible (``None`` would seed from the clock)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__} {seed!r}")
    return seed


def _shuffled(rng: random.Random, X: Rows, y: Labels) -> tuple[Rows, Labels]:
    """The rows of ``X`` and ``y`` in one shared random order (the generators build class by
    class; shuffling keeps a naive split or an unshuffled batch from seeing a single class)."""
    order = list(range(len(X)))
    rng.shuffle(order)
    return [X[i] for i in order], [y[i] for i in order]


def _add_noise(rng: random.Random, X: Rows, noise: float) -> Rows:
    """Each coordinate plus an independent draw from N(0, noise**2)."""
    if noise == 0.0:
        return X
    return [[x + rng.gauss(0.0, noise) for x in row] for row in X]


def _spread(angle_range: float, m: int, endpoint: bool) -> list[float]:
    """``m`` evenly spaced angles from 0, like ``numpy.linspace(0, angle_range, m, endpoint)``."""
    steps = m - 1 if endpoint else m
    return [angle_range * i / steps if steps else 0.0 for i in range(m)]


def _class_sizes(n: int, k: int, name: str, part: str) -> list[int]:
    """``n`` points shared by ``k`` classes as evenly as possible (the first classes get the
    remainder, as in scikit-learn's ``make_blobs``). ``k`` is the argument ``name``; a
    ValueError says so when some ``part`` (a blob, an arm) would get no point."""
    if n < k:
        raise ValueError(f"n={n} is smaller than {name}={k}: every {part} needs a point")
    return [n // k + (1 if c < n % k else 0) for c in range(k)]


# --- the toy sets ---------------------------------------------------------------------------


def make_moons(n: int = 300, noise: float = 0.1, seed: int = 0) -> tuple[Rows, Labels]:
    """Two interleaving half circles, scikit-learn's ``make_moons``.

    The outer moon (label 0, ``n // 2`` points) is ``(cos t, sin t)`` and the inner moon
    (label 1, the other ``n - n // 2``) is ``(1 - cos t, 0.5 - sin t)``, with ``t`` evenly
    spaced over ``[0, pi]``. The rows are shuffled, then every coordinate gets Gaussian
    noise of standard deviation ``noise``. No straight line separates the classes: a
    linear model stalls near 87% accuracy, while a small MLP gets close to 100%.
    """
    n = _check_count("n", n)
    noise = _check_real("noise", noise)
    rng = random.Random(_check_seed(seed))
    n_out = n // 2
    n_in = n - n_out
    X = [[math.cos(t), math.sin(t)] for t in _spread(math.pi, n_out, endpoint=True)]
    X += [[1.0 - math.cos(t), 0.5 - math.sin(t)] for t in _spread(math.pi, n_in, endpoint=True)]
    y = [0] * n_out + [1] * n_in
    X, y = _shuffled(rng, X, y)
    return _add_noise(rng, X, noise), y


def make_circles(
    n: int = 300, noise: float = 0.1, factor: float = 0.5, seed: int = 0
) -> tuple[Rows, Labels]:
    """A small circle inside a big one, scikit-learn's ``make_circles``.

    The outer circle (label 0, ``n // 2`` points) has radius 1, the inner one (label 1, the
    other ``n - n // 2``) radius ``factor`` in ``[0, 1)``; on each, the angles are evenly
    spaced over ``[0, 2 pi)``. The rows are shuffled, then every coordinate gets Gaussian
    noise of standard deviation ``noise``. Separable by radius, not by any straight line.
    """
    n = _check_count("n", n)
    noise = _check_real("noise", noise)
    factor = _check_real("factor", factor)
    if factor >= 1.0:
        raise ValueError(f"factor must be in [0, 1) (inner radius / outer radius), got {factor}")
    rng = random.Random(_check_seed(seed))
    n_out = n // 2
    n_in = n - n_out
    X = [[math.cos(t), math.sin(t)] for t in _spread(2 * math.pi, n_out, endpoint=False)]
    X += [
        [factor * math.cos(t), factor * math.sin(t)]
        for t in _spread(2 * math.pi, n_in, endpoint=False)
    ]
    y = [0] * n_out + [1] * n_in
    X, y = _shuffled(rng, X, y)
    return _add_noise(rng, X, noise), y


def make_blobs(
    n: int = 300, centers: int = 3, std: float = 1.0, seed: int = 0
) -> tuple[Rows, Labels]:
    """Isotropic Gaussian blobs, one per class: the easiest multi-class problem.

    The centers sit on a circle of radius 5 around the origin, evenly spaced in angle from
    the top (center ``c`` at angle ``pi/2 + 2 pi c / centers``), so neighbouring blobs are
    always ``10 sin(pi / centers)`` apart. They do not depend on the seed: like the other
    sets, a new seed draws a new sample of the same problem (so a second seed can serve
    as fresh test data). Class ``c`` gets ``n // centers`` points (the first
    ``n % centers`` classes one more), each ``center_c + N(0, std**2)`` per coordinate.
    The rows are returned shuffled.
    """
    n = _check_count("n", n)
    centers = _check_count("centers", centers)
    std = _check_real("std", std)
    sizes = _class_sizes(n, centers, "centers", "blob")
    rng = random.Random(_check_seed(seed))
    X: Rows = []
    y: Labels = []
    for c, size in enumerate(sizes):
        angle = math.pi / 2 + 2 * math.pi * c / centers
        cx, cy = 5.0 * math.cos(angle), 5.0 * math.sin(angle)
        X += [[cx + rng.gauss(0.0, std), cy + rng.gauss(0.0, std)] for _ in range(size)]
        y += [c] * size
    return _shuffled(rng, X, y)


def make_spiral(
    n: int = 300, classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[Rows, Labels]:
    """Interleaved spiral arms, the classic CS231n data set (one arm per class).

    Along arm ``c`` the radius ``r`` runs evenly over ``[0, 1]`` and the angle is
    ``theta = 4 c + 4 r + N(0, noise**2)`` (noise in radians), giving the point
    ``(r sin theta, r cos theta)``. Arm ``c`` gets ``n // classes`` points (the first
    ``n % classes`` arms one more). The rows are returned shuffled. Needs a network with
    hidden layers: every straight line cuts through every arm.
    """
    n = _check_count("n", n)
    classes = _check_count("classes", classes)
    noise = _check_real("noise", noise)
    sizes = _class_sizes(n, classes, "classes", "arm")
    rng = random.Random(_check_seed(seed))
    X: Rows = []
    y: Labels = []
    for c, size in enumerate(sizes):
        for r in _spread(1.0, size, endpoint=True):
            theta = 4.0 * c + 4.0 * r + (rng.gauss(0.0, noise) if noise else 0.0)
            X.append([r * math.sin(theta), r * math.cos(theta)])
        y += [c] * size
    return _shuffled(rng, X, y)


def make_xor(n: int = 300, noise: float = 0.1, seed: int = 0) -> tuple[Rows, Labels]:
    """The XOR problem: label 1 where exactly one coordinate is positive.

    Point ``i`` lies in quadrant ``i % 4`` (so both labels are equally common), uniformly
    in that quadrant's part of the square ``[-1, 1]^2``, kept ``0.1`` away from the axes
    (a margin, as in TensorFlow Playground, so that the default noise blurs only a few
    labels); its label is ``(x > 0) xor (y > 0)``, decided by the quadrant. The rows are
    shuffled, then every coordinate gets Gaussian noise of standard deviation ``noise``.
    The smallest problem no linear model solves: a line gets at most 3 of the 4 quadrants.
    """
    n = _check_count("n", n)
    noise = _check_real("noise", noise)
    rng = random.Random(_check_seed(seed))
    quadrants = [(1.0, 1.0), (-1.0, 1.0), (-1.0, -1.0), (1.0, -1.0)]
    X: Rows = []
    y: Labels = []
    for i in range(n):
        sx, sy = quadrants[i % 4]
        X.append([sx * rng.uniform(0.1, 1.0), sy * rng.uniform(0.1, 1.0)])
        y.append(int((sx > 0) != (sy > 0)))
    X, y = _shuffled(rng, X, y)
    return _add_noise(rng, X, noise), y


# --- the regression sets --------------------------------------------------------------------


def make_sine(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[Rows, Targets]:
    """One input, one curve: ``y = sin(x) + N(0, noise**2)`` for x uniform in ``[-3, 3]``.

    The smallest regression problem that a straight line cannot fit: over [-3, 3] the sine
    rises, turns, falls and turns again, so the best line explains only part of the
    variance, while an MLP with a hidden layer follows the curve. ``X`` holds the rows
    ``[x]`` (all n x drawn first, then the n noise terms).
    """
    n = _check_count("n", n)
    noise = _check_real("noise", noise)
    rng = random.Random(_check_seed(seed))
    xs = [rng.uniform(-3.0, 3.0) for _ in range(n)]
    errors = [rng.gauss(0.0, noise) if noise else 0.0 for _ in range(n)]
    return [[x] for x in xs], [math.sin(x) + e for x, e in zip(xs, errors)]


def make_linear(
    n: int = 200, features: int = 3, noise: float = 0.1, seed: int = 0
) -> tuple[Rows, Targets, list[float], float]:
    """A linear target with known coefficients: ``y = w . x + b + N(0, noise**2)``.

    Returns ``(X, y, w, b)``: ``w`` (one coefficient per feature, uniform in [-2, 2]) and
    ``b`` (uniform in [-1, 1]) are drawn first, then each row's inputs from N(0, 1), then
    the noise. A model that learns this set can be read: its weights should come out close
    to ``w`` and its bias close to ``b`` (exactly so for a linear model as noise -> 0).
    """
    n = _check_count("n", n)
    features = _check_count("features", features)
    noise = _check_real("noise", noise)
    rng = random.Random(_check_seed(seed))
    w = [rng.uniform(-2.0, 2.0) for _ in range(features)]
    b = rng.uniform(-1.0, 1.0)
    X = [[rng.gauss(0.0, 1.0) for _ in range(features)] for _ in range(n)]
    errors = [rng.gauss(0.0, noise) if noise else 0.0 for _ in range(n)]
    y = [math.fsum(wj * xj for wj, xj in zip(w, row)) + b + e for row, e in zip(X, errors)]
    return X, y, w, b


def make_gaussians(n: int = 200, noise: float = 0.1, seed: int = 0) -> tuple[Rows, Targets]:
    """Two inputs, a landscape: hills and pits of unit width on a 3 x 2 grid (TensorFlow
    Playground's "multi gaussian" regression set).

    x is uniform in ``[-6, 6]^2`` and ``y = sum_k s_k exp(-|x - c_k|^2 / 2) + N(0, noise**2)``
    with centres ``c_k`` at (-4, 2.5), (0, 2.5), (4, 2.5), (-4, -2.5), (0, -2.5), (4, -2.5)
    and signs ``s_k`` alternating +1, -1 like a chessboard. All n rows are drawn first,
    then the n noise terms.
    """
    n = _check_count("n", n)
    noise = _check_real("noise", noise)
    rng = random.Random(_check_seed(seed))
    centres = [(-4.0, 2.5, 1.0), (0.0, 2.5, -1.0), (4.0, 2.5, 1.0),
               (-4.0, -2.5, -1.0), (0.0, -2.5, 1.0), (4.0, -2.5, -1.0)]
    X = [[rng.uniform(-6.0, 6.0), rng.uniform(-6.0, 6.0)] for _ in range(n)]
    errors = [rng.gauss(0.0, noise) if noise else 0.0 for _ in range(n)]
    y = [math.fsum(s * math.exp(-((x1 - cx) ** 2 + (x2 - cy) ** 2) / 2)
                   for cx, cy, s in centres) + e for (x1, x2), e in zip(X, errors)]
    return X, y


def make_friedman1(
    n: int = 200, features: int = 10, noise: float = 1.0, seed: int = 0
) -> tuple[Rows, Targets]:
    """Friedman's benchmark #1, scikit-learn's ``make_friedman1``: 5 informative inputs of 10.

    Each input is uniform in [0, 1) and

        y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + noise * N(0, 1),

    so y mixes an interaction, a curve and two lines; inputs 6 to ``features`` do not enter
    it (a model has to learn to ignore them). Drawn as scikit-learn draws it: every row of
    ``X`` first (row by row, ``rng.random()``), then n standard normal noise terms, always
    (also for ``noise=0``). The variance of the noise-free y is about 24, so ``noise=1.0``
    caps R^2 near 0.96. Needs ``features >= 5``.
    """
    n = _check_count("n", n)
    features = _check_count("features", features, minimum=5)
    noise = _check_real("noise", noise)
    rng = random.Random(_check_seed(seed))
    X = [[rng.random() for _ in range(features)] for _ in range(n)]
    z = [rng.gauss(0.0, 1.0) for _ in range(n)]
    y = [10 * math.sin(math.pi * x[0] * x[1]) + 20 * (x[2] - 0.5) ** 2 + 10 * x[3] + 5 * x[4]
         + noise * e for x, e in zip(X, z)]
    return X, y


# --- splitting ------------------------------------------------------------------------------


class Split(NamedTuple):
    """The three disjoint parts of a data set; unpacks as a 6-tuple in this order."""

    X_train: Rows
    y_train: list
    X_val: Rows
    y_val: list
    X_test: Rows
    y_test: list


def _allocate(size: int, fractions: list[Fraction], deficit: list[Fraction]) -> list[int]:
    """Share ``size`` rows among the splits: each gets floor or ceil of ``size * fraction``.

    Which splits get the ceiling (there are ``size - sum(floors)`` of them) is free; we give
    it to the splits that are furthest behind their overall target (``deficit``, exact
    share minus rows given, summed over the classes so far). The deficits then stay
    strictly between -1 and 1, so each split's total is also within one row of its exact
    share. Exact rational arithmetic makes the result the same on every machine.
    """
    quotas = [size * f for f in fractions]
    counts = [math.floor(q) for q in quotas]
    extra = size - sum(counts)
    candidates = [s for s, q in enumerate(quotas) if q != counts[s]]
    candidates.sort(key=lambda s: (-(deficit[s] + quotas[s] - counts[s]), s))
    for s in candidates[:extra]:
        counts[s] += 1
    for s in range(len(counts)):
        deficit[s] += quotas[s] - counts[s]
    return counts


def train_val_test_split(
    X: Sequence[Sequence[float]],
    y: Sequence[Hashable],
    val: float = 0.15,
    test: float = 0.15,
    seed: int = 0,
    stratify: bool | None = None,
) -> Split:
    """Split rows at random into train, validation and test sets.

    Returns ``Split(X_train, y_train, X_val, y_val, X_test, y_test)``, which also unpacks
    as a plain 6-tuple in that order. The splits are disjoint and together hold every row
    (rows are copied, as lists). The training split gets the fraction ``1 - val - test``.

    With ``stratify=True`` every class is split on its own, so each split keeps the class
    ratios of ``y``: a class with ``n_c`` rows puts floor or ceil of ``n_c * fraction``
    rows in each split (within one row of the exact share), and each split's size is
    within one row of ``n * fraction``. With ``stratify=False`` all rows form one group.
    The default, ``stratify=None``, stratifies class labels and not real-valued targets
    (any float in ``y``: a regression set, where every value would be a class of its own);
    asking for ``stratify=True`` with real-valued targets is a ``ValueError``.
    Fractions are read as the decimals they print as (0.15 is exactly 3/20), so 300 rows
    give 45 validation rows. Each split is returned in a random order.

    Raises ``ValueError`` if ``X`` and ``y`` differ in length, if ``val`` or ``test`` is
    negative or not finite, if ``val + test >= 1``, if any split would be empty, or if
    ``stratify=True`` meets real-valued targets.
    """
    if len(X) != len(y):
        raise ValueError(f"X and y differ in length: len(X)={len(X)}, len(y)={len(y)}")
    val = _check_real("val", val)
    test = _check_real("test", test)
    # The fractions as the decimals that were typed: 0.15 is 3/20 here, not the nearest
    # binary float (0.1499999999999999944...), whose share of 300 rows is below 45.
    f_val, f_test = Fraction(repr(val)), Fraction(repr(test))
    if f_val + f_test >= 1:
        raise ValueError(
            f"val + test must be below 1 to leave rows for training, "
            f"got val={val} + test={test} = {float(f_val + f_test):g}"
        )
    rng = random.Random(_check_seed(seed))
    fractions = [1 - f_val - f_test, f_val, f_test]
    real = next((t for t in y if isinstance(t, float)), None)
    if stratify and real is not None:
        raise ValueError(
            f"stratify=True needs class labels, but y holds real numbers (such as {real!r}): "
            "pass stratify=False (or leave the default) to split a regression set"
        )
    if stratify is None:
        stratify = real is None

    groups: dict[Hashable, list[int]] = {}
    for i, label in enumerate(y):
        groups.setdefault(label if stratify else None, []).append(i)

    parts: list[list[int]] = [[], [], []]
    deficit = [Fraction(0)] * 3
    for rows in groups.values():
        rng.shuffle(rows)
        train_n, val_n, _ = _allocate(len(rows), fractions, deficit)
        parts[0] += rows[:train_n]
        parts[1] += rows[train_n : train_n + val_n]
        parts[2] += rows[train_n + val_n :]

    asked = [f"1 - val - test = {float(fractions[0]):g}", f"val = {val}", f"test = {test}"]
    for name, part, fraction in zip(("training", "validation", "test"), parts, asked):
        if not part:
            raise ValueError(
                f"the {name} split would be empty: {fraction} of {len(y)} rows "
                f"is less than one row; use a larger fraction or more data"
            )
    out: list[list] = []
    for part in parts:
        rng.shuffle(part)
        out += [[list(X[i]) for i in part], [y[i] for i in part]]
    return Split(*out)


# --- standardizing and batching -------------------------------------------------------------


class Standardizer:
    """Rescale each column to mean 0 and standard deviation 1: ``z = (x - mean) / std``.

    Gradient descent converges faster when every input has the same scale. Fit on the
    training split only (``fit``), then apply the same ``mean`` and ``std`` to every split
    (``transform``): statistics taken from validation or test rows would leak them into the
    model. ``std`` is the population standard deviation (divide by n, like scikit-learn's
    ``StandardScaler``); a constant column gets ``std = 1.0`` so it maps to 0, not to nan
    (so does a column whose spread is below the rounding error of its mean).

    Regression targets are standardized the same way, with a Standardizer of their own
    given the flat list ``y`` (one column): ``transform`` and ``inverse_transform`` then
    take and return flat lists, so a model trained on standardized targets has its
    predictions brought back to the units of y by ``inverse_transform``::

        targets = Standardizer().fit(y_train)
        model_predictions_in_y_units = targets.inverse_transform(model_outputs)
    """

    def __init__(self) -> None:
        self.mean: list[float] | None = None
        self.std: list[float] | None = None

    def __repr__(self) -> str:
        if self.mean is None:
            return "Standardizer(not fitted)"
        return f"Standardizer(mean={self.mean}, std={self.std})"

    def fit(self, X: Sequence[Sequence[float]] | Sequence[float]) -> Standardizer:
        """Learn each column's mean and population std from ``X`` (rows, or a flat list of
        numbers as one column); returns ``self``."""
        X, _ = _as_rows(X)
        width = _check_rows(X, None)
        self.mean, self.std = [], []
        for j in range(width):
            column = [float(row[j]) for row in X]
            if min(column) == max(column):  # constant: exact mean, and no division by 0
                self.mean.append(column[0])
                self.std.append(1.0)
                continue
            n = len(column)
            mean = math.fsum(column) / n
            deviations = [v - mean for v in column]
            # The rounded mean's error would stay in the variance (as its square); the
            # second term takes it out, as StandardScaler does.
            var = (math.fsum(d * d for d in deviations) - math.fsum(deviations) ** 2 / n) / n
            # A spread below the rounding error of the mean is no spread at all (it may even
            # underflow to 0): treat the column as constant, as StandardScaler does.
            eps = sys.float_info.epsilon
            constant = var <= n * eps * var + (n * mean * eps) ** 2
            self.mean.append(mean)
            self.std.append(1.0 if constant else math.sqrt(var))
        return self

    def transform(self, X: Sequence[Sequence[float]] | Sequence[float]) -> Rows | list[float]:
        """``(x - mean) / std`` per column, with the statistics learned by ``fit``."""
        mean, std = self._fitted()
        rows, flat = _as_rows(X)
        _check_rows(rows, len(mean))
        out = [[(v - m) / s for v, m, s in zip(row, mean, std)] for row in rows]
        return [row[0] for row in out] if flat else out

    def fit_transform(self, X: Sequence[Sequence[float]] | Sequence[float]
                      ) -> Rows | list[float]:
        """``fit(X)`` then ``transform(X)``: use it on the training split only."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: Sequence[Sequence[float]] | Sequence[float]
                          ) -> Rows | list[float]:
        """Back to the original units: ``x = z * std + mean`` (e.g. to plot in data space,
        or to read standardized predictions of a target in its units)."""
        mean, std = self._fitted()
        rows, flat = _as_rows(Z)
        _check_rows(rows, len(mean))
        out = [[z * s + m for z, m, s in zip(row, mean, std)] for row in rows]
        return [row[0] for row in out] if flat else out

    def _fitted(self) -> tuple[list[float], list[float]]:
        if self.mean is None or self.std is None:
            raise RuntimeError("this Standardizer is not fitted yet: call fit(X_train) first")
        return self.mean, self.std


def _as_rows(X: Sequence[Sequence[float]] | Sequence[float]) -> tuple[Sequence, bool]:
    """``X`` as rows, and whether it came as a flat list of numbers (one column)."""
    if len(X) > 0 and isinstance(X[0], Real):
        return [[v] for v in X], True
    return X, False


def _check_rows(X: Sequence[Sequence[float]], width: int | None) -> int:
    """Check that ``X`` is non-empty, rectangular, finite and ``width`` wide; return width."""
    if len(X) == 0:
        raise ValueError("X is empty: need at least one row")
    expected = len(X[0]) if width is None else width
    for i, row in enumerate(X):
        if len(row) != expected:
            raise ValueError(f"row {i} of X has width {len(row)}, expected {expected}")
        for v in row:
            if isinstance(v, bool) or not isinstance(v, Real):
                raise TypeError(f"row {i} of X holds a {type(v).__name__}, not a number")
            if not math.isfinite(v):
                raise ValueError(f"row {i} of X holds {v}: values must be finite")
    return expected


def batches(
    X: Sequence[Sequence[float]],
    y: Sequence[Hashable],
    batch_size: int,
    shuffle: bool = True,
    seed: int = 0,
) -> Iterator[tuple[list, list]]:
    """Yield ``(X_batch, y_batch)`` minibatches that together hold every row exactly once.

    Minibatch SGD takes one optimizer step per batch: a noisy but cheap estimate of the
    full gradient. With ``shuffle=True`` the order comes from ``random.Random(seed)``, so
    the same seed gives the same batches; pass ``seed=epoch`` to get a fresh order every
    epoch. All batches hold ``batch_size`` rows except possibly the last, which holds the
    rest. Arguments are checked at the call, not at the first ``next()``.
    """
    if len(X) != len(y):
        raise ValueError(f"X and y differ in length: len(X)={len(X)}, len(y)={len(y)}")
    batch_size = _check_count("batch_size", batch_size)
    order = list(range(len(X)))
    if shuffle:
        random.Random(_check_seed(seed)).shuffle(order)

    def generate() -> Iterator[tuple[list, list]]:
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            yield [X[i] for i in chunk], [y[i] for i in chunk]

    return generate()
