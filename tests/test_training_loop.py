"""nn.training: one epoch of minibatch training and evaluation, the loop demo.py runs.

Each test compares the loop with the same steps written out by hand (batches, the loss from
nn.losses, zero_grad, backward, step): the weights and the returned loss must agree to the
bit, so a loss wired to the wrong function, a missing step or a wrongly weighted mean fails.
"""

import math

import pytest

from nn import MLP, LogisticRegression, data, losses, metrics, optim, training

# Each loss name, the model output it expects, and the loss written out by hand.
CASES = {
    "hinge": (1, lambda out, y: losses.hinge(out, [2.0 * t - 1.0 for t in y])),
    "bce": (1, lambda out, y: losses.binary_cross_entropy_with_logits(out, [float(t) for t in y])),
    "cross-entropy": (3, losses.cross_entropy),
    "mse": (1, losses.mse),
    "l1": (1, losses.l1),
}


def toy_set(loss):
    """Twenty rows of two inputs, with targets of the kind ``loss`` expects."""
    X, labels = data.make_blobs(20, centers=3, std=0.5, seed=1)
    if loss == "cross-entropy":
        return X, labels
    if training.is_regression(loss):
        return X, [0.5 * a - b for a, b in X]
    return X, [int(c > 0) for c in labels]


def by_hand(model, opt, X, y, batch_loss, batch_size, seed):
    """The loop written out; returns the mean over the rows of each batch's loss."""
    total = 0.0
    for xb, yb in data.batches(X, y, batch_size, seed=seed):
        loss = batch_loss(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.data * len(xb)
    return total / len(X)


@pytest.mark.parametrize("loss", sorted(CASES))
def test_an_epoch_is_the_loop_written_out(loss):
    outputs, batch_loss = CASES[loss]
    X, y = toy_set(loss)
    ours, theirs = (MLP(2, [4, outputs], seed=0) for _ in range(2))
    opt_ours, opt_theirs = (optim.Adam(m.parameters(), lr=0.05) for m in (ours, theirs))
    for epoch in range(3):
        mean = training.train_epoch(ours, opt_ours, X, y, loss, batch_size=6, seed=epoch)
        assert mean == by_hand(theirs, opt_theirs, X, y, batch_loss, 6, seed=epoch)
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]


def test_logistic_regression_trains_on_its_probabilities():
    X, y = toy_set("bce")
    ours, theirs = LogisticRegression(2, seed=0), LogisticRegression(2, seed=0)
    opt_ours, opt_theirs = (optim.SGD(m.parameters(), lr=0.5) for m in (ours, theirs))
    mean = training.train_epoch(ours, opt_ours, X, y, "bce-probabilities", batch_size=5, seed=0)
    bce = lambda p, t: losses.binary_cross_entropy(p, [float(v) for v in t])
    assert mean == by_hand(theirs, opt_theirs, X, y, bce, 5, seed=0)
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]


def numbers_by_name(model):
    """Each parameter tensor's numbers, flattened, by name."""
    out = {}
    for name, tensor in model.named_parameters():
        rows = tensor if isinstance(tensor[0], list) else [tensor]
        out[name] = [v.data for row in rows for v in row]
    return out


def test_the_l2_penalty_adds_l2_times_each_weight_to_its_gradient_and_spares_biases():
    X, y = toy_set("mse")
    plain, decayed = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=0)
    start = numbers_by_name(decayed)
    lr, l2 = 0.1, 0.3
    # One batch holding every row, plain SGD: w' = w - lr (dL/dw + l2 w).
    training.train_epoch(plain, optim.SGD(plain.parameters(), lr=lr), X, y, "mse",
                         batch_size=len(X), seed=0)
    training.train_epoch(decayed, optim.SGD(decayed.parameters(), lr=lr), X, y, "mse",
                         batch_size=len(X), seed=0, l2=l2)
    after_plain, after_decayed = numbers_by_name(plain), numbers_by_name(decayed)
    for name, w in start.items():
        if name.endswith("weight"):
            expected = [a - lr * l2 * w0 for a, w0 in zip(after_plain[name], w)]
            assert after_decayed[name] == pytest.approx(expected, rel=1e-12, abs=1e-15), name
            assert after_decayed[name] != after_plain[name]
        else:
            assert after_decayed[name] == after_plain[name], name


def test_the_penalty_is_half_the_sum_of_squared_weights():
    model = MLP(2, [3, 1], seed=4)
    weights = [w for name, ws in numbers_by_name(model).items() if name.endswith("weight")
               for w in ws]
    assert training.l2_penalty(model).data == pytest.approx(0.5 * math.fsum(w * w for w in weights))


def test_training_lowers_the_loss_of_a_curve_fit():
    X, y, _, _ = data.make_linear(60, features=2, noise=0.0, seed=0)
    model = MLP(2, [8, 1], activation="tanh", seed=0)
    opt = optim.Adam(model.parameters(), lr=0.05)
    first = training.evaluate(model, X, y, "mse")
    for epoch in range(15):
        training.train_epoch(model, opt, X, y, "mse", batch_size=10, seed=epoch)
    last = training.evaluate(model, X, y, "mse")
    assert last["loss"] < 0.1 * first["loss"] and last["r2"] > 0.9


def test_evaluate_gives_the_loss_and_the_classification_metrics():
    X, y = toy_set("hinge")
    model = MLP(2, [4, 1], seed=2)
    result = training.evaluate(model, X, y, "hinge")
    scores = training.scores(model, X)
    predicted = [int(s > 0) for s in scores]
    assert result == {
        "loss": losses.hinge(scores, [2.0 * t - 1.0 for t in y]).data,
        "accuracy": metrics.accuracy(y, predicted),
        "precision": metrics.precision(y, predicted),
        "recall": metrics.recall(y, predicted),
        "f1": metrics.f1(y, predicted),
        "roc_auc": metrics.roc_auc(y, scores),
        "pr_auc": metrics.average_precision(y, scores),
    }
    assert all(p.grad == 0.0 for p in model.parameters())  # nothing was backpropagated


def test_evaluate_averages_several_classes_and_ranks_one_against_the_rest():
    X, y = toy_set("cross-entropy")
    model = MLP(2, [4, 3], seed=3)
    result = training.evaluate(model, X, y, "cross-entropy")
    logits = training.scores(model, X)
    predicted = [row.index(max(row)) for row in logits]
    assert result["accuracy"] == metrics.accuracy(y, predicted)
    assert result["f1"] == metrics.f1(y, predicted, average="macro")
    probabilities = [[math.exp(v) / sum(math.exp(u) for u in row) for v in row] for row in logits]
    per_class = [metrics.roc_auc([int(t == c) for t in y], [p[c] for p in probabilities])
                 for c in range(3)]
    assert result["roc_auc"] == pytest.approx(sum(per_class) / 3, abs=1e-12)


def test_evaluate_gives_the_regression_metrics():
    X, y = toy_set("mse")
    model = MLP(2, [4, 1], seed=2)
    predicted = training.scores(model, X)
    result = training.evaluate(model, X, y, "l1")
    assert result == {"loss": losses.l1(predicted, y).data,
                      "mae": metrics.mean_absolute_error(y, predicted),
                      "mse": metrics.mean_squared_error(y, predicted),
                      "rmse": metrics.root_mean_squared_error(y, predicted),
                      "r2": metrics.r2_score(y, predicted)}


def test_ranking_metrics_of_a_split_with_one_class_are_nan():
    model = MLP(2, [4, 1], seed=2)
    result = training.evaluate(model, [[0.0, 1.0], [1.0, 0.0]], [1, 1], "bce")
    assert math.isnan(result["roc_auc"]) and math.isnan(result["pr_auc"])


def test_predict_reads_the_outputs_as_the_loss_defines_them():
    assert training.predict([-0.2, 0.0, 0.3], "hinge") == [0, 0, 1]
    assert training.predict([-0.2, 0.0, 0.3], "bce") == [0, 0, 1]
    assert training.predict([0.3, 0.5, 0.7], "bce-probabilities") == [0, 0, 1]
    assert training.predict([[0.1, 0.9, 0.0], [2.0, 2.0, 1.0]], "cross-entropy") == [1, 0]
    assert training.predict([0.3, -1.5], "mse") == [0.3, -1.5]


@pytest.mark.parametrize("call, message", [
    (lambda m, o: training.train_epoch(m, o, [[0.0, 0.0]], [0], "hinj", batch_size=1, seed=0),
     "'hinj'"),
    (lambda m, o: training.train_epoch(m, o, [[0.0, 0.0]], [0], "hinge", batch_size=1, seed=0,
                                       l2=-0.1), "l2=-0.1"),
    (lambda m, o: training.train_epoch(m, o, [[0.0, 0.0]], [0, 1], "hinge", batch_size=1,
                                       seed=0), "len(X)=1, len(y)=2"),
    (lambda m, o: training.train_epoch(m, o, [], [], "hinge", batch_size=1, seed=0), "empty"),
    (lambda m, o: training.train_epoch(m, o, [[0.0, 0.0]], [0], "hinge", batch_size=0, seed=0),
     "batch_size=0"),
    (lambda m, o: training.evaluate(m, [[0.0, 0.0]], [0], "cross-entropy"),
     "needs one logit per class per row; the model gives 1 output"),
    (lambda m, o: training.evaluate(m, [[0.0, 0.0]], [0], "ranking"), "'ranking'"),
])
def test_bad_arguments_are_named(call, message):
    model = MLP(2, [2, 1], seed=0)
    with pytest.raises(ValueError) as error:
        call(model, optim.SGD(model.parameters(), lr=0.1))
    assert message in str(error.value)
