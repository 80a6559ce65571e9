"""Experiment 2: the logistic-regression gradient derived by hand, against backward() and gradcheck.

    python docs/experiments/logreg_gradient.py

For N points x_i (rows of the matrix X) with labels y_i in {0, 1}, logistic regression predicts
p_i = sigmoid(w . x_i + b) and is trained on the binary cross-entropy

    L(w, b) = -(1/N) sum_i [ y_i log p_i + (1 - y_i) log(1 - p_i) ].

The chain rule on paper (docs/04-logistic-regression.md) gives

    dL/dw = X^T (p - y) / N,      dL/db = sum_i (p_i - y_i) / N.

Three ways to the same numbers, on several data sets:

* by hand: the formula above, in plain floats (no Value anywhere);
* backward(): ``nn.LogisticRegression`` and ``nn.losses.binary_cross_entropy``, then
  ``loss.backward()``; the two must agree to 1e-12;
* gradcheck: central differences of the same loss, compared with backward by
  ``engine.gradcheck`` (its tolerances: central differences are only approximate).
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run from anywhere: find engine and nn in the repository
    sys.path.insert(0, str(ROOT))

from engine import Value, dot, gradcheck
from nn import LogisticRegression, data, losses


def hand_gradient(X: list[list[float]], y: list[int], w: list[float],
                  b: float) -> tuple[list[float], float]:
    """dL/dw = X^T (p - y) / N and dL/db = mean(p - y), with p = sigmoid(X w + b)."""
    n = len(X)
    errors = [1 / (1 + math.exp(-(sum(wj * xj for wj, xj in zip(w, x)) + b))) - t
              for x, t in zip(X, y)]
    dw = [sum(x[j] * e for x, e in zip(X, errors)) / n for j in range(len(w))]
    return dw, sum(errors) / n


def backward_gradient(model: LogisticRegression, X: list[list[float]],
                      y: list[int]) -> tuple[list[float], float]:
    """The same gradient from loss.backward() through the model's graph."""
    loss = losses.binary_cross_entropy([model(x) for x in X], y)
    model.zero_grad()
    loss.backward()
    return [w.grad for w in model.linear.weight[0]], model.linear.bias[0].grad


ROW = "{:<17}{:>5}{:>3}{:>19}{:>10}{:>11}{:>22}"


def check(name: str, X: list[list[float]], y: list[int], seed: int) -> bool:
    """Print one row: the largest hand-vs-backward difference and gradcheck's verdict."""
    model = LogisticRegression(len(X[0]), seed=seed)
    w = [v.data for v in model.linear.weight[0]]
    b = model.linear.bias[0].data
    hand_w, hand_b = hand_gradient(X, y, w, b)
    auto_w, auto_b = backward_gradient(model, X, y)
    difference = max(abs(h - a) for h, a in zip([*hand_w, hand_b], [*auto_w, auto_b]))

    def loss_of(*params: Value) -> Value:  # the same loss, as a function of w and b
        *ws, bias = params
        return losses.binary_cross_entropy([dot(ws, x, bias).sigmoid() for x in X], y)

    verdict = gradcheck(loss_of, [*w, b], raise_exception=False)
    worst = max(row.abs_error for row in verdict.inputs)
    agree = difference <= 1e-12
    print(ROW.format(name, len(X), len(w), f"{difference:.1e}", "yes" if agree else "NO",
                     "passed" if verdict.passed else "FAILED", f"{worst:.1e}"))
    return agree and verdict.passed


def gaussian_points(n: int, d: int, seed: int) -> tuple[list[list[float]], list[int]]:
    """n points in d dimensions, labelled by a noisy linear rule (so no class is trivial)."""
    rng = random.Random(seed)
    X = [[rng.gauss(0, 1) for _ in range(d)] for _ in range(n)]
    y = [int(sum(x) + rng.gauss(0, 1) > 0) for x in X]
    return X, y


def main() -> int:
    print(ROW.format("data", "N", "d", "|hand - backward|", "<= 1e-12", "gradcheck",
                     "|numeric - backward|"))
    cases = [("two moons", *data.make_moons(100, noise=0.1, seed=0), 0)]
    for n, d, seed in ((10, 1, 1), (50, 3, 2), (1000, 5, 3)):
        cases.append((f"Gaussian, d = {d}", *gaussian_points(n, d, seed), seed))
    results = [check(name, X, y, seed) for name, X, y, seed in cases]
    print("all agree" if all(results) else "SOME DISAGREE")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
