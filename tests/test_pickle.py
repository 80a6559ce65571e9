"""Pickling: how ``multiprocessing`` and ``concurrent.futures`` hand a model to a worker.

Files stay JSON (``Module.save``); pickle is for objects in flight between processes.
A leaf Value travels as its data, gradient and label; an op node refuses with a TypeError
that says to detach; every Module, optimizer and scheduler comes back with the same
numbers, state and behaviour, and a model trained in a spawned worker equals one trained
in this process.
"""

from __future__ import annotations

import copy
import multiprocessing
import pickle

import pytest

from engine import Value
from nn import (
    MLP,
    Linear,
    LogisticRegression,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    data,
    losses,
    lr_scheduler,
    optim,
)

PROTOCOLS = [2, pickle.DEFAULT_PROTOCOL]


def round_trip(obj, protocol):
    return pickle.loads(pickle.dumps(obj, protocol=protocol))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_leaf_comes_back_with_its_data_grad_and_label(protocol):
    x = Value(-2.5, label="x")
    x.grad = 0.125
    y = round_trip(x, protocol)
    assert (y.data, y.grad, y.label, y.is_leaf) == (-2.5, 0.125, "x", True)
    (y * 3.0).backward()
    assert y.grad == 3.125


def test_an_op_node_refuses_and_says_to_detach():
    y = Value(2.0) * 3.0
    with pytest.raises(TypeError, match=r"detach\(\)") as caught:
        pickle.dumps(y)
    assert "'*'" in str(caught.value)
    assert pickle.loads(pickle.dumps(y.detach())).data == 6.0


def test_copies_of_a_leaf_are_leaves_an_optimizer_accepts():
    model = MLP(2, [3, 1], seed=0)
    clone = copy.deepcopy(model)
    assert all(p.is_leaf for p in clone.parameters())
    optim.SGD(clone.parameters(), lr=0.1)  # used to raise "can't optimize a non-leaf Value"
    assert copy.copy(Value(1.5)).is_leaf


def modules():
    """A module of each kind, with an input of its width."""
    return [
        (Linear(3, 2, seed=1), [0.5, -1.0, 0.25]),
        (Linear(3, 2, bias=False, seed=2), [0.5, -1.0, 0.25]),
        (MLP(2, [4, 4, 1], activation="tanh", seed=3), [0.5, -1.0]),
        (MLP(2, [3, 2], output_activation="sigmoid", seed=4), [0.5, -1.0]),
        (LogisticRegression(2, seed=5), [0.5, -1.0]),
        (Sequential(Linear(2, 3, seed=6), ReLU(), Linear(3, 1, seed=7), Tanh(), Sigmoid()),
         [0.5, -1.0]),
    ]


def numbers(out) -> list[float]:
    return [v.data for v in out] if isinstance(out, list) else [out.data]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("index", range(len(modules())))
def test_every_module_comes_back_computing_the_same_numbers(index, protocol):
    module, x = modules()[index]
    for p in module.parameters():
        p.grad = 0.5
    clone = round_trip(module, protocol)
    assert type(clone) is type(module) and repr(clone) == repr(module)
    assert clone.state_dict() == module.state_dict()
    assert [p.grad for p in clone.parameters()] == [0.5] * module.num_parameters()
    assert numbers(clone(x)) == numbers(module(x))


def train(model, opt, scheduler, steps: int) -> None:
    X, y = data.make_moons(30, noise=0.1, seed=1)
    for _ in range(steps):
        loss = losses.hinge(model(X), [2 * t - 1 for t in y])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()


def warm_up(epoch: int) -> float:
    return min(1.0, (epoch + 1) / 5)


OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "momentum": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda ps: optim.Adam(ps, lr=0.02),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.02, weight_decay=0.1),
    "radam": lambda ps: optim.RAdam(ps, lr=0.02),
}
SCHEDULERS = {
    "none": lambda opt: None,
    "step": lambda opt: lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
    "lambda": lambda opt: lr_scheduler.LambdaLR(opt, warm_up),
    "cosine": lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=4),
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("schedule", sorted(SCHEDULERS))
def test_a_model_its_optimizer_and_scheduler_pickled_mid_training_carry_on_identically(
        optimizer, schedule):
    model = MLP(2, [5, 1], seed=0)
    opt = OPTIMIZERS[optimizer](model.parameters())
    scheduler = SCHEDULERS[schedule](opt)
    train(model, opt, scheduler, 3)
    model2, opt2, scheduler2 = pickle.loads(pickle.dumps((model, opt, scheduler)))
    assert opt2.params == model2.parameters()  # the optimizer still holds the model's Values
    train(model, opt, scheduler, 3)
    train(model2, opt2, scheduler2, 3)
    assert model2.state_dict() == model.state_dict()
    assert opt2.lr == opt.lr


def test_a_lambda_schedule_refuses_with_the_reason():
    opt = optim.SGD([Value(1.0)], lr=0.1)
    with pytest.raises(TypeError, match="lambda"):
        pickle.dumps(lr_scheduler.LambdaLR(opt, lambda epoch: 0.5))


def train_copy(model: MLP) -> MLP:
    """What a worker process does: train the model it was handed, and send it back."""
    opt = optim.Adam(model.parameters(), lr=0.02)
    train(model, opt, None, 5)
    return model


def test_a_model_trained_in_a_spawned_worker_equals_one_trained_here():
    model = MLP(2, [6, 6, 1], seed=11)
    expected = train_copy(copy.deepcopy(model)).state_dict()
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        trained = pool.apply(train_copy, (model,))
    assert trained.state_dict() == expected
    assert model.state_dict() != expected  # the worker trained its own copy
