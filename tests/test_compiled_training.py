"""train_epoch(..., compile=True): the same parameters as eager training, bit for bit.

Each test trains two copies of one model from the same weights on the same batches, one
eagerly and one through the compiled step (``nn.compiled``), and compares every number.
"""

from __future__ import annotations

import warnings

import pytest

from nn import MLP, LogisticRegression, data, optim, training
from nn.compiled import CompiledStep, CompileFallback, compiled_step


def train(model_factory, loss, X, y, *, epochs, compile, l2=0.0, l1=0.0, optimizer=optim.SGD,
          batch_size=32, lr=0.05, **options):
    model = model_factory()
    opt = optimizer(model.parameters(), lr=lr, **options)
    losses = [training.train_epoch(model, opt, X, y, loss, batch_size=batch_size, seed=e,
                                   l2=l2, l1=l1, compile=compile) for e in range(epochs)]
    return losses, [p.data for p in model.parameters()]


def train_model(model_factory, loss, X, y, *, epochs, lr):
    model = model_factory()
    opt = optim.SGD(model.parameters(), lr=lr)
    for e in range(epochs):
        training.train_epoch(model, opt, X, y, loss, batch_size=32, seed=e, compile=True)
    return model


def assert_same_training(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileFallback)  # a fallback would prove nothing
        compiled = train(*args, compile=True, **kwargs)
    eager = train(*args, compile=False, **kwargs)
    assert [x.hex() for x in compiled[0]] == [x.hex() for x in eager[0]], "epoch losses"
    assert [x.hex() for x in compiled[1]] == [x.hex() for x in eager[1]], "parameters"


MOONS = data.make_moons(120, noise=0.2, seed=3)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "gelu"])
def test_hinge_training_with_l2_is_bit_identical_to_eager(activation):
    assert_same_training(lambda: MLP(2, [8, 8, 1], activation=activation, seed=1), "hinge",
                         *MOONS, epochs=12, l2=1e-3)


def test_the_demo_models_over_many_steps_are_bit_identical_to_eager():
    X, y = MOONS
    assert_same_training(lambda: MLP(2, [16, 16, 1], activation="relu", seed=0), "hinge",
                         X, y, epochs=30, batch_size=16, optimizer=optim.Adam)
    sine = [(x[0] / 2,) for x in X]
    curve = [float(v) * 0.7 - 0.1 for v in y]
    for loss in ("mse", "l1"):
        assert_same_training(lambda: MLP(1, [16, 16, 1], activation="tanh", seed=2), loss,
                             sine, curve, epochs=10, l2=1e-4, optimizer=optim.SGD,
                             momentum=0.9)


def test_one_program_serves_every_model_of_a_shape_and_a_new_shape_gets_its_own():
    X, y = MOONS
    first = compiled_step(MLP(2, [4, 1], activation="relu", seed=1), "hinge", 0.0, X, y)
    again = compiled_step(MLP(2, [4, 1], activation="relu", seed=9), "hinge", 0.0, X, y)
    wider = compiled_step(MLP(2, [5, 1], activation="relu", seed=1), "hinge", 0.0, X, y)
    assert isinstance(first, CompiledStep) and first is again and wider is not first


@pytest.mark.parametrize("l1", [0.0, 1e-3])
def test_bce_on_logits_over_many_steps_is_bit_identical_to_eager(l1):
    """The playground's two-class set-up: logits of both signs, the branch taken per point."""
    X, y = data.make_spiral(250, classes=2, noise=0.1, seed=4)
    assert_same_training(lambda: MLP(2, [8, 8, 1], activation="tanh", seed=5), "bce", X, y,
                         epochs=12, batch_size=10, l2=1e-3, l1=l1)


def test_bce_with_confident_logits_is_bit_identical_to_eager():
    """Inputs 40 times larger: logits of both signs in the thousands (far past +-30, where
    e^-|z| is below 1e-13 and underflows to 0 past 745)."""
    X, y = MOONS
    wide = [[40 * a, 40 * b] for a, b in X]
    model = lambda: MLP(2, [8, 1], activation="relu", seed=2)
    assert_same_training(model, "bce", wide, y, epochs=6, lr=0.3)
    logits = training.scores(train_model(model, "bce", wide, y, epochs=6, lr=0.3), wide)
    assert min(logits) < -745 and max(logits) > 745


@pytest.mark.parametrize("classes", [2, 3])
def test_cross_entropy_over_many_steps_is_bit_identical_to_eager(classes):
    """The row's max is recomputed for every point (engine.detached_max)."""
    X, y = MOONS
    labels = [min(int(t) + (x[0] > 1.0), classes - 1) for x, t in zip(X, y)]
    assert len(set(labels)) == classes
    assert_same_training(lambda: MLP(2, [8, 8, classes], activation="tanh", seed=3),
                         "cross-entropy", X, labels, epochs=12, batch_size=10, l2=1e-3,
                         l1=1e-3, optimizer=optim.Adam)


def test_an_l1_penalty_compiles_bit_identically_to_eager():
    assert_same_training(lambda: MLP(2, [8, 8, 1], activation="relu", seed=1), "hinge",
                         *MOONS, epochs=10, l1=1e-2)


def test_soft_labels_take_eager_steps_and_still_train_identically():
    X, y = MOONS
    soft = [0.3 if k % 7 == 0 else float(t) for k, t in enumerate(y)]
    assert_same_training(lambda: MLP(2, [4, 1], activation="tanh", seed=1), "bce", X, soft,
                         epochs=4, batch_size=8)


def test_a_loss_that_reads_its_numbers_falls_back_to_eager_and_says_so():
    X, y = MOONS
    with pytest.warns(CompileFallback, match="bce-probabilities"):
        compiled = train(lambda: LogisticRegression(2, seed=1), "bce-probabilities", X, y,
                         epochs=2, compile=True)
    eager = train(lambda: LogisticRegression(2, seed=1), "bce-probabilities", X, y, epochs=2,
                  compile=False)
    assert compiled == eager


def test_the_step_source_loops_over_the_points_backwards():
    step = compiled_step(MLP(2, [3, 1], activation="relu", seed=1), "hinge", 1e-4, *MOONS)
    training = step.source.split("\ndef forward(")[0]
    assert "for i in range(len(X) - 1, -1, -1):" in training
    assert training.index("# the penalty") < training.index("# point by point from the last")
    assert "saved" not in training  # one pass: a point's forward, then at once its backward
    assert "for i in range(len(X) - 1, -1, -1):" in step.two_pass_source


def test_a_tail_whose_gradient_reads_the_mean_takes_two_passes_with_the_same_bits():
    from engine import vsum

    model = MLP(2, [3, 1], activation="tanh", seed=1)
    params = model.parameters()

    def term(point, target):
        return (model(point) - target) ** 2

    def tail(mean):  # d/dmean = 2 * mean: the points' gradient needs all their forwards
        return mean * mean + 1e-3 * vsum([p * p for p in params])

    step = CompiledStep(params, 2, term, tail, name="squared mean")
    X, y = [x for x in MOONS[0][:20]], [float(t) for t in MOONS[1][:20]]
    mean, objective, sums = step(params, X, y)
    assert step._namespace["in_two_passes"] is not step._in_two_passes  # compiled, then used

    model.zero_grad()
    eager_mean = vsum([term(x, t) for x, t in zip(X, y)]) / len(X)
    eager = tail(eager_mean)
    eager.backward()
    assert (mean.hex(), objective.hex()) == (eager_mean.data.hex(), eager.data.hex())
    assert [(0.0 + s).hex() for s in sums] == [p.grad.hex() for p in params]


def test_the_usual_penalties_never_need_the_two_pass_step():
    for loss, l2 in (("hinge", 1e-3), ("mse", 0.0)):
        model = MLP(2, [4, 1], activation="relu", seed=2)
        step = compiled_step(model, loss, l2, *MOONS)
        step(model.parameters(), *MOONS)
        assert step._namespace["in_two_passes"] == step._in_two_passes, loss


def test_demo_compile_trains_the_very_same_model(tmp_path):
    import demo

    options = ["--epochs", "3", "--samples", "120", "--hidden", "8,8"]
    for name, extra in (("eager", []), ("compiled", ["--compile"])):
        assert demo.main([*options, *extra, "--quiet", "--out", str(tmp_path / name)]) == 0
    eager, compiled = ((tmp_path / name / "model.json").read_bytes()
                       for name in ("eager", "compiled"))
    assert compiled == eager


def test_the_hinge_classes_share_one_copy_of_the_per_point_code():
    model = MLP(2, [3, 1], activation="relu", seed=1)
    step = compiled_step(model, "hinge", 1e-4, *MOONS)
    training, forward_alone = step.source.split("\ndef forward(")
    # each neuron's forward once per function (the step, and the forward alone that the
    # playground measures the test part with), not once per class
    assert training.count('"relu(dot)"') == forward_alone.count('"relu(dot)"') == 3, step.source
    with pytest.raises(ValueError, match="target 0.5 is not one of"):
        step(model.parameters(), [[0.1, 0.2]], [0.5])


def test_copies_become_one_only_where_nothing_but_numbers_differ():
    from nn.compiled import _one_body
    lines, constants = _one_body([["v1 = x0 * (-1.0)", "g1 = g2 * (-1.0) + 2.0"],
                                  ["v1 = x0 * 1.0", "g1 = g2 * 1.0 + 2.0"]])
    assert lines == ["v1 = x0 * k1", "g1 = g2 * k1 + 2.0"]
    assert constants == [{"k1": "(-1.0)"}, {"k1": "1.0"}]
    assert _one_body([["v1 = x0 * 2.0"], ["v1 = x0 * x0"]]) is None  # another template
    assert _one_body([["v1 = -1.0 ** 2"], ["v1 = 1.0 ** 2"]]) is None  # -(1.0 ** 2)


def test_a_shape_is_built_once_when_threads_ask_together_and_others_do_not_wait(monkeypatch):
    import threading
    import time

    from nn import compiled

    build, built = compiled._build, []

    def slow_build(model, *args):
        built.append(len(model.parameters()))
        time.sleep(0.4 if len(model.parameters()) == 37 else 0.0)  # MLP(2, [5, 3, 1])'s
        return build(model, *args)

    monkeypatch.setattr(compiled, "_build", slow_build)
    slow, fast = MLP(2, [5, 3, 1], seed=1), MLP(2, [3, 4, 1], seed=1)  # shapes no test trains
    asked = [threading.Thread(target=compiled.step_for, args=(slow, "hinge", 0.0, 2))
             for _ in range(3)]
    for thread in asked:
        thread.start()
    time.sleep(0.1)
    started = time.monotonic()
    assert compiled.step_for(fast, "hinge", 0.0, 2) is not None
    assert time.monotonic() - started < 0.3  # not behind the slow build
    for thread in asked:
        thread.join()
    assert sorted(built) == [len(fast.parameters()), 37]  # the slow shape once, not three times
