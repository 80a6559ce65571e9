"""Training end to end: models, losses and backward together drive the loss down.

Gradient descent is written out here (p.data -= lr * p.grad) so that these tests depend on
nothing but layers, losses and the engine. They can fail: a wrong sign anywhere in a
gradient makes the loss go up instead.
"""

import random
from itertools import pairwise

import pytest

from engine import vsum
from nn import MLP, LogisticRegression, losses


def two_blobs(n, seed):
    """n points around (1, 1) labelled +1 and n around (-1, -1) labelled -1, well apart."""
    rng = random.Random(seed)
    points, labels = [], []
    for label in (1, -1):
        for _ in range(n):
            points.append([label + rng.gauss(0, 0.35), label + rng.gauss(0, 0.35)])
            labels.append(label)
    return points, labels


def gradient_descent(model, loss_of, steps, lr):
    """Plain full-batch gradient descent; returns the loss before each step and at the end."""
    history = []
    for _ in range(steps):
        loss = loss_of(model)
        history.append(loss.data)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
    history.append(loss_of(model).data)
    return history


def test_a_2_16_16_1_mlp_learns_two_blobs_with_the_hinge_loss():
    points, labels = two_blobs(15, seed=0)
    model = MLP(2, [16, 16, 1], seed=1)

    def loss_of(m):
        scores = [m(x) for x in points]
        l2 = vsum([p * p for p in m.parameters()])
        return losses.hinge(scores, labels) + 1e-4 * l2

    history = gradient_descent(model, loss_of, steps=25, lr=0.1)
    assert history[-1] < 0.2 * history[0], history
    assert all(later <= earlier + 1e-3 for earlier, later in pairwise(history))
    predictions = [1 if model(x).data > 0 else -1 for x in points]
    assert predictions == labels


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_a_smooth_mlp_learns_with_binary_cross_entropy_on_logits(activation):
    points, labels = two_blobs(10, seed=2)
    targets = [(y + 1) / 2 for y in labels]
    model = MLP(2, [8, 1], activation=activation, seed=3)

    def loss_of(m):
        return losses.binary_cross_entropy_with_logits([m(x) for x in points], targets)

    history = gradient_descent(model, loss_of, steps=30, lr=0.5)
    assert history[-1] < 0.5 * history[0], history


def test_logistic_regression_learns_a_linear_boundary():
    points, labels = two_blobs(10, seed=4)
    targets = [(y + 1) / 2 for y in labels]
    model = LogisticRegression(2, seed=5)

    def loss_of(m):
        return losses.binary_cross_entropy([m(x) for x in points], targets)

    history = gradient_descent(model, loss_of, steps=30, lr=1.0)
    assert history[-1] < 0.3 * history[0], history
    assert [round(model(x).data) for x in points] == targets


def test_a_softmax_classifier_learns_three_classes_with_cross_entropy():
    rng = random.Random(6)
    centres = [(2.0, 0.0), (-1.0, 1.7), (-1.0, -1.7)]
    points = [[cx + rng.gauss(0, 0.3), cy + rng.gauss(0, 0.3)] for cx, cy in centres
              for _ in range(6)]
    classes = [c for c in range(3) for _ in range(6)]
    model = MLP(2, [8, 3], activation="tanh", seed=7)

    def loss_of(m):
        return losses.cross_entropy([m(x) for x in points], classes)

    history = gradient_descent(model, loss_of, steps=30, lr=0.5)
    assert history[-1] < 0.3 * history[0], history
    predicted = [max(range(3), key=lambda j, x=x: model(x)[j].data) for x in points]
    assert predicted == classes


def test_a_trained_model_saved_and_loaded_predicts_the_same(tmp_path):
    points, labels = two_blobs(5, seed=8)
    model = MLP(2, [4, 1], seed=9)
    gradient_descent(model, lambda m: losses.hinge([m(x) for x in points], labels), 5, 0.1)
    model.save(tmp_path / "trained.json")
    loaded = MLP.load(tmp_path / "trained.json")
    assert [loaded(x).data for x in points] == [model(x).data for x in points]
