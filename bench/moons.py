"""W1's inputs: the two-moons data set and the initial weights, the same for every engine.

micrograd's demo trains ``MLP(2, [16, 16, 1])`` on 100 points of scikit-learn's
``make_moons(noise=0.1)`` with labels mapped to +-1. The points are generated here with the
standard library (the same formula as scikit-learn, with Python's own generator), so the
benchmark depends on no data package and every process computes exactly the same numbers.

The weights follow micrograd's initialisation: U(-1, 1) for every weight, 0 for every bias.
They are drawn once from a fixed seed and stored per layer as ``(W, b)`` with ``W`` a list of
rows (``out x in``, PyTorch's layout) and ``b`` a list. The *shared parameter order* that
gradients are compared in is micrograd's: layer by layer, neuron by neuron, the neuron's
weights and then its bias.
"""

from __future__ import annotations

import math
import random
from itertools import pairwise

SEED = 1337
N_POINTS = 100
NOISE = 0.1
SIZES = (2, 16, 16, 1)
REG = 1e-4

Layer = tuple[list[list[float]], list[float]]


def make_moons(n_points: int = N_POINTS, noise: float = NOISE, seed: int = SEED
               ) -> tuple[list[list[float]], list[float]]:
    """Two interleaved half circles, shuffled, with Gaussian noise; labels -1.0 and +1.0.

    Outer moon: (cos t, sin t); inner moon: (1 - cos t, 1 - sin t - 0.5), t in [0, pi] on an
    even grid (scikit-learn's ``make_moons``). Each coordinate then gets N(0, noise**2) noise.
    """
    n_outer = n_points // 2
    n_inner = n_points - n_outer

    def grid(n: int) -> list[float]:
        return [math.pi * i / (n - 1) if n > 1 else 0.0 for i in range(n)]

    points = [[math.cos(t), math.sin(t)] for t in grid(n_outer)]
    points += [[1.0 - math.cos(t), 1.0 - math.sin(t) - 0.5] for t in grid(n_inner)]
    labels = [-1.0] * n_outer + [1.0] * n_inner
    rng = random.Random(seed)
    order = list(range(n_points))
    rng.shuffle(order)
    xs = [[c + rng.gauss(0.0, noise) for c in points[i]] for i in order]
    ys = [labels[i] for i in order]
    return xs, ys


def initial_weights(sizes: tuple[int, ...] = SIZES, seed: int = SEED + 1) -> list[Layer]:
    """micrograd's initialisation, drawn once: weights U(-1, 1), biases 0, per layer (W, b)."""
    rng = random.Random(seed)
    layers = []
    for n_in, n_out in pairwise(sizes):
        rows = [[rng.uniform(-1.0, 1.0) for _ in range(n_in)] for _ in range(n_out)]
        layers.append((rows, [0.0] * n_out))
    return layers


def flat(layers: list[Layer]) -> list[float]:
    """All parameters in the shared order: per layer, per neuron, its weights then its bias."""
    return [x for rows, biases in layers for row, b in zip(rows, biases) for x in (*row, b)]


def learning_rate(step: int) -> float:
    """micrograd's demo schedule: 1 - 0.9 k / 100 at step k (counted from 0)."""
    return 1.0 - 0.9 * step / 100
