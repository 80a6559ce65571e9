"""One table of names for demo.py and the playground: nn.registry.

A name added to the registry appears in demo.py's options and the playground's menus at
once, and a name that is not there is an error everywhere (nothing falls through to Adam).
"""

import pytest

import demo
from nn import MLP, optim, registry, training
from playground import api
from playground.session import Session
from playground.settings import DATASETS, BadParameter, Settings, parse_settings


def test_adamw_is_offered_by_demo_and_playground_and_trains_as_adamw():
    args = demo.parse_args(["--optimizer", "adamw", "--lr", "0.01"])
    built = demo.build_optimizer(args, MLP(2, [1], seed=0).parameters())
    assert type(built) is optim.AdamW and built.lr == 0.01
    assert "adamw" in api.choices()["optimizers"]
    session = Session(parse_settings({"optimizer": "adamw"}))
    assert type(session.optimizer) is optim.AdamW and session.optimizer.weight_decay == 0.01


def test_a_name_added_in_one_place_appears_in_demo_and_playground(monkeypatch):
    entry = registry.OptimizerEntry(optim.SGD, {"momentum": 0.5, "nesterov": True},
                                    "Nesterov momentum 0.5")
    monkeypatch.setitem(registry.OPTIMIZERS, "nesterov", entry)
    args = demo.parse_args(["--optimizer", "nesterov"])
    built = demo.build_optimizer(args, MLP(2, [1], seed=0).parameters())
    assert type(built) is optim.SGD and built.momentum == 0.5 and built.nesterov
    assert "nesterov" in api.choices()["optimizers"]
    session = Session(Settings(optimizer="nesterov"))
    assert session.optimizer.nesterov and session.optimizer.momentum == 0.5


def test_every_data_set_of_two_inputs_or_fewer_is_in_the_playground_and_all_in_demo():
    assert set(demo.DATASETS) == set(registry.DATASETS)
    assert set(DATASETS) == {n for n, d in registry.DATASETS.items() if d.inputs <= 2}
    assert {"plane", "gaussians"} <= set(DATASETS)
    for name, made in registry.DATASETS.items():
        X, y = made.make(30, made.noise, 1)
        assert len(X) == len(y) == 30 and all(len(row) == made.inputs for row in X), name
        if made.classes:
            assert set(y) == set(range(made.classes)), name


@pytest.mark.parametrize("call", [
    lambda: registry.optimizer("lbfgs", [], 0.1),
    lambda: registry.dataset("mnist"),
    lambda: registry.activation("swish"),
    lambda: registry.loss("focal"),
    lambda: MLP(2, [3, 1], activation="swish"),
])
def test_an_unknown_name_is_an_error_naming_the_known_ones(call):
    with pytest.raises(ValueError, match="known|must be one of"):
        call()


def test_an_unknown_name_is_refused_by_demo_and_the_playground(capsys):
    with pytest.raises(SystemExit) as exited:
        demo.parse_args(["--optimizer", "lbfgs"])
    assert exited.value.code == 2 and "invalid choice: 'lbfgs'" in capsys.readouterr().err
    with pytest.raises(BadParameter, match="optimizer"):
        parse_settings({"optimizer": "lbfgs"})


def test_the_losses_are_nn_trainings_own():
    assert tuple(registry.LOSSES) == training.LOSSES


def test_linear_is_an_activation_that_does_nothing_and_adds_no_step():
    model = MLP(2, [3, 1], activation="linear", seed=0)
    assert [activation for _, activation in model.steps()] == [None, None]
    plain = MLP(2, [3, 1], activation="relu", seed=0)
    plain.load_state_dict(model.state_dict())
    x = [0.5, -2.0]
    h = [sum(w.data * xi for w, xi in zip(row, x)) + b.data
         for row, b in zip(model.layers[0].weight, model.layers[0].bias)]
    assert [v.data for v in model.layer_outputs(x)[0]] == pytest.approx(h, rel=1e-15)
