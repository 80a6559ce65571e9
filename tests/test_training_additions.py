"""Training's L1 penalty (sum |w| over the weights, gradient l1 * sign(w)) and evaluate's predictions."""

import pytest

from nn import MLP, optim, training


def test_the_l1_penalty_pulls_each_weight_by_its_sign_and_leaves_biases():
    model = MLP(2, [3, 1], seed=1)
    penalty = training.l1_penalty(model)
    weights = [w for layer in (model.layers[0], model.layers[2]) for row in layer.weight
               for w in row]
    assert penalty.data == pytest.approx(sum(abs(w.data) for w in weights), rel=1e-15)
    penalty.backward()
    assert [w.grad for w in weights] == [1.0 if w.data > 0 else -1.0 for w in weights]
    assert all(b.grad == 0.0 for b in model.layers[0].bias)


def test_train_epoch_adds_l1_times_the_penalty_to_the_loss():
    X, y = [[0.5, 1.0], [-1.0, 0.25], [2.0, -0.5]], [1, 0, 1]
    by_hand, trained = MLP(2, [2, 1], seed=0), MLP(2, [2, 1], seed=0)
    sgd = optim.SGD(by_hand.parameters(), lr=0.1)
    objective = (training.batch_loss("bce", by_hand(X), y)
                 + 0.05 * training.l1_penalty(by_hand))
    sgd.zero_grad()
    objective.backward()
    sgd.step()
    training.train_epoch(trained, optim.SGD(trained.parameters(), lr=0.1), X, y, "bce",
                         batch_size=3, seed=0, l1=0.05)
    assert trained.state_dict() == by_hand.state_dict()
    with pytest.raises(ValueError, match="l1 must be"):
        training.train_epoch(trained, sgd, X, y, "bce", batch_size=3, seed=0, l1=-1.0)


def test_evaluate_gives_its_predictions_from_the_same_forward_pass():
    model = MLP(2, [3, 3], seed=2)
    X, y = [[0.5, 1.0], [-1.0, 0.25], [2.0, -0.5], [0.0, 0.0]], [0, 1, 2, 1]
    scored = training.evaluate(model, X, y, "cross-entropy", with_predictions=True)
    plain = training.evaluate(model, X, y, "cross-entropy")
    assert scored.pop("predictions") == training.predict(training.scores(model, X),
                                                         "cross-entropy")
    assert scored == pytest.approx(plain, nan_ok=True)
