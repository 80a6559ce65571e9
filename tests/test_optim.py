"""nn.optim against torch.optim: the same objective, 100 steps, the same parameters.

Both sides minimise the same small objective from the same starting point: a logistic loss
on a minibatch that changes every step, plus a quadratic pull towards a fixed point. Each
side computes its own gradients (chainrule's engine for ours, torch autograd in float64 for
PyTorch's) from its own parameters, so any difference in an update rule would show up and
grow over the 100 steps. PyTorch runs its single-tensor code path (``foreach=False``).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import Value
from nn import lr_scheduler, optim

X = [[0.5, -1.2, 2.0], [1.5, 0.3, -0.7], [-0.8, 2.2, 0.1], [0.9, -0.4, -1.6],
     [-1.1, -0.9, 0.6], [2.1, 1.0, 0.4], [0.2, 0.7, -2.3], [-1.7, 0.5, 1.2]]
Y = [1, -1, 1, -1, 1, 1, -1, -1]
CENTRE = [0.3, -0.5, 0.8, 0.1]
START = [0.4, -0.3, 0.2, 0.05]
STEPS = 100


def objective(p, step, exp, log):
    """Logistic loss of w.x + b on rows step % 8 and (step + 3) % 8, plus 0.05 |p - CENTRE|^2.

    Written once for both sides: ``p`` holds Values (with Value.exp / Value.log) or float64
    tensors (with torch.exp / torch.log).
    """
    total = 0.0
    for row in (step % 8, (step + 3) % 8):
        x = X[row]
        z = p[0] * x[0] + p[1] * x[1] + p[2] * x[2] + p[3]
        total = total + log(1 + exp(-Y[row] * z))
    total = total * 0.5
    for p_i, c_i in zip(p, CENTRE):
        total = total + 0.05 * (p_i - c_i) * (p_i - c_i)
    return total


def train_ours(make_optimizer, steps=STEPS, make_scheduler=None, params=None, gradients=None):
    params = params or [Value(v) for v in START]
    opt = make_optimizer(params)
    scheduler = make_scheduler(opt) if make_scheduler else None
    for step in range(steps):
        opt.zero_grad()
        objective(params, step, Value.exp, Value.log).backward()
        if gradients is not None:
            gradients.append(params[0].grad)
        opt.step()
        if scheduler:
            scheduler.step()
    return [p.data for p in params]


def train_torch(make_optimizer, steps=STEPS, make_scheduler=None):
    torch = pytest.importorskip("torch")
    params = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in START]
    opt = make_optimizer(params)
    scheduler = make_scheduler(opt) if make_scheduler else None
    for step in range(steps):
        opt.zero_grad()
        objective(params, step, torch.exp, torch.log).backward()
        opt.step()
        if scheduler:
            scheduler.step()
    return [p.item() for p in params]


# Every option of every optimizer, alone and combined: (class name, keyword arguments).
CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.1, "momentum": 0.8, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.2}),
    ("SGD", {"lr": 0.05, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "nesterov": True, "weight_decay": 0.01,
             "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "betas": (0.3, 0.8)}),  # 1 - b1 >= 0.5: the other form of lerp
    ("Adam", {"lr": 0.05, "eps": 1e-2}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "maximize": True}),
    ("Adam", {"lr": 0.05, "betas": (0.5, 0.9), "weight_decay": 0.1, "amsgrad": True,
              "maximize": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "amsgrad": True}),
    ("AdamW", {"lr": 0.05, "betas": (0.3, 0.8), "eps": 1e-3, "maximize": True}),
    ("RAdam", {}),
    ("RAdam", {"lr": 0.05}),
    ("RAdam", {"lr": 0.05, "betas": (0.3, 0.8), "eps": 1e-3}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.05, "maximize": True}),
]


def config_id(config):
    name, kwargs = config
    return name + "(" + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


@pytest.mark.parametrize("config", CONFIGS, ids=[config_id(c) for c in CONFIGS])
def test_100_steps_give_torch_optims_parameters(config):
    torch = pytest.importorskip("torch")
    name, kwargs = config
    gradients = []
    ours = train_ours(lambda p: getattr(optim, name)(p, **kwargs), gradients=gradients)
    theirs = train_torch(lambda p: getattr(torch.optim, name)(p, foreach=False, **kwargs))
    assert ours == pytest.approx(theirs, rel=1e-10, abs=0)
    assert ours != START
    # The minibatch changes every step, so the gradients really do (no fixed point hides a bug).
    assert len(set(gradients)) == STEPS


# ---- the order of every operation, bit for bit ----------------------------------------------
#
# rel 1e-10 after 100 steps cannot tell x - s*m/d from x - s*(m/d), nor lerp's two forms
# apart. PyTorch's CPU kernels for this processor use fused multiply-add (x + a*y rounded
# once), which no Python float expression reproduces; but the environment variable
# ATEN_CPU_CAPABILITY=default makes PyTorch run its plain kernels, compiled without it.
# Then every update must give PyTorch's very floats, step after step. The gradients are
# set by hand (a formula of the step and the parameter, the same floats on both sides), so
# only the update rules are compared. (One more source of differences remains: PyTorch's
# float64 sqrt is not always correctly rounded: about 0.7% of inputs on one machine of this
# project's, e.g. 0.29672100483895547 gives 0.5447210339604626 where math.sqrt gives the
# nearer ...627, and other inputs on other processors. The oracle run therefore records
# each step at which torch's sqrt of a parameter's exp_avg_sq differs from math.sqrt's; each
# parameter evolves on its own, so its bits must agree up to its first such step, and stay
# within rounding, rel 1e-13, after it.)

BIT_STEPS = 30
BIT_CONFIGS = CONFIGS + [
    ("Adam", {"lr": 0.05, "betas": (0.5, 0.75)}),  # lerp weight exactly 0.5: its second form
    ("AdamW", {"lr": 0.05, "betas": (0.5, 0.999), "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.05, "betas": (0.5, 0.8)}),
]


def hand_gradients(step, xs):
    """A gradient for each parameter: a pull to CENTRE plus a term that changes every step."""
    return [0.05 * (x - c) + math.sin(1.7 * step + i) for i, (x, c) in enumerate(zip(xs, CENTRE))]


def bit_trajectory_ours(name, kwargs):
    params = [Value(v) for v in START]
    opt = getattr(optim, name)(params, **kwargs)
    trajectory = []
    for step in range(BIT_STEPS):
        for p, g in zip(params, hand_gradients(step, [p.data for p in params])):
            p.grad = g
        opt.step()
        trajectory.append([p.data for p in params])
    return trajectory


def bit_trajectories_torch():
    """Every BIT_CONFIGS run on torch.optim (called in a process with plain kernels)."""
    import torch

    assert torch.backends.cpu.get_cpu_capability() == "DEFAULT"
    trajectories = []
    for name, kwargs in BIT_CONFIGS:
        params = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in START]
        opt = getattr(torch.optim, name)(params, foreach=False, **kwargs)
        trajectory, misrounded = [], [None] * len(params)
        for step in range(BIT_STEPS):
            for p, g in zip(params, hand_gradients(step, [p.item() for p in params])):
                p.grad = torch.tensor(g, dtype=torch.float64)
            opt.step()
            trajectory.append([p.item() for p in params])
            for i, p in enumerate(params):
                square = opt.state[p].get("exp_avg_sq")
                if (square is not None and misrounded[i] is None
                        and square.sqrt().item() != math.sqrt(square.item())):
                    misrounded[i] = step  # torch's sqrt, not the update rule, decides from here
        trajectories.append((trajectory, misrounded))
    return trajectories


@pytest.fixture(scope="module")
def torch_trajectories():
    pytest.importorskip("torch", reason="torch.optim is the oracle")
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, ATEN_CPU_CAPABILITY="default", PYTHONPATH=str(root))
    code = ("import json; from tests.test_optim import bit_trajectories_torch; "
            "print(json.dumps(bit_trajectories_torch()))")
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("k", range(len(BIT_CONFIGS)), ids=[config_id(c) for c in BIT_CONFIGS])
def test_every_update_gives_torchs_bits_without_fused_multiply_add(k, torch_trajectories):
    ours = bit_trajectory_ours(*BIT_CONFIGS[k])
    theirs, misrounded = torch_trajectories[k]
    for step, (mine, torchs) in enumerate(zip(ours, theirs)):
        for i, (x, xt) in enumerate(zip(mine, torchs)):
            where = f"step {step + 1}, parameter {i}: {x} vs torch {xt}"
            if misrounded[i] is None or step < misrounded[i]:
                assert x == xt, where  # == on floats: the same bits
            else:
                assert x == pytest.approx(xt, rel=1e-13, abs=0.0), where


def rho(t, beta2):
    """RAdam's length of the approximated SMA at step t, from the paper's closed form."""
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf - 2 * t * beta2**t / (1 - beta2**t)


@pytest.mark.parametrize("beta2", [0.999, 0.8])
def test_radam_runs_above_cover_both_sides_of_the_rho_t_switch(beta2):
    values = [rho(t, beta2) for t in range(1, STEPS + 1)]
    assert values[0] <= 5 < values[-1]


@pytest.mark.parametrize(("name", "schedule"), [
    ("SGD", ("CosineAnnealingLR", {"T_max": 30, "eta_min": 0.01})),
    ("AdamW", ("StepLR", {"step_size": 7, "gamma": 0.5})),
    ("RAdam", ("LambdaLR", {"lr_lambda": lambda epoch: 1 / (1 + epoch)})),
])
def test_training_with_a_scheduler_follows_torch(name, schedule):
    torch = pytest.importorskip("torch")
    kwargs = {"lr": 0.1, "momentum": 0.9} if name == "SGD" else {"lr": 0.05}
    scheduler, scheduler_kwargs = schedule
    ours = train_ours(lambda p: getattr(optim, name)(p, **kwargs),
                      make_scheduler=lambda o: getattr(lr_scheduler, scheduler)(o, **scheduler_kwargs))
    theirs = train_torch(
        lambda p: getattr(torch.optim, name)(p, foreach=False, **kwargs),
        make_scheduler=lambda o: getattr(torch.optim.lr_scheduler, scheduler)(
            o, **scheduler_kwargs))
    assert ours == pytest.approx(theirs, rel=1e-10, abs=0)


# --- schedulers, step by step -------------------------------------------------------------

SCHEDULES = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("StepLR", {"step_size": 1}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 0.95**epoch}),
    ("LambdaLR", {"lr_lambda": lambda epoch: min(1.0, (epoch + 1) / 10)}),  # warm-up
    ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.02}),
    ("CosineAnnealingLR", {"T_max": 1}),
]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=[config_id(s) for s in SCHEDULES])
def test_scheduler_gives_torchs_learning_rates_step_by_step(schedule):
    torch = pytest.importorskip("torch")
    name, kwargs = schedule
    ours_opt = optim.SGD([Value(1.0)], lr=0.1)
    theirs_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    ours = getattr(lr_scheduler, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs)
    seen = set()
    for epoch in range(31):  # 3 T_max for T_max = 10, up and down again past each turn
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12, abs=0), epoch
        assert ours_opt.lr == ours.get_last_lr()[0]
        seen.add(ours_opt.lr)
        theirs_opt.step()  # PyTorch warns if the scheduler steps before the optimizer
        ours.step()
        theirs.step()
    assert len(seen) > 1


def test_cosine_annealing_follows_the_closed_form_when_nothing_else_changes_lr():
    opt = optim.SGD([Value(1.0)], lr=0.1)
    scheduler = lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    for epoch in range(1, 31):
        scheduler.step()
        closed_form = 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * epoch / 10)) / 2
        assert opt.lr == pytest.approx(closed_form, rel=1e-12, abs=1e-15), epoch


# --- resuming from a state dict -----------------------------------------------------------

RESUMABLE = [
    lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda p: optim.Adam(p, lr=0.05, amsgrad=True, weight_decay=0.1),
    lambda p: optim.AdamW(p, lr=0.05, betas=(0.8, 0.99)),
    lambda p: optim.RAdam(p, lr=0.05, decoupled_weight_decay=True, weight_decay=0.1),
]


@pytest.mark.parametrize("make_optimizer", RESUMABLE, ids=["SGD", "Adam", "AdamW", "RAdam"])
def test_resuming_from_a_state_dict_continues_bit_for_bit(make_optimizer):
    straight = train_ours(make_optimizer, steps=100)

    params = [Value(v) for v in START]
    first = make_optimizer(params)
    for step in range(50):
        first.zero_grad()
        objective(params, step, Value.exp, Value.log).backward()
        first.step()
    saved_params = json.loads(json.dumps([p.data for p in params]))
    saved_state = json.loads(json.dumps(first.state_dict()))  # must survive JSON as is

    params = [Value(v) for v in saved_params]
    second = type(first)(params, lr=1.0)  # the state dict brings back every hyperparameter
    second.load_state_dict(saved_state)
    assert second.hyperparameters() == first.hyperparameters()
    for step in range(50, 100):
        second.zero_grad()
        objective(params, step, Value.exp, Value.log).backward()
        second.step()
    assert [p.data for p in params] == straight


def test_resuming_with_a_scheduler_continues_bit_for_bit():
    def run(steps, params, opt, scheduler, start=0):
        for step in range(start, start + steps):
            opt.zero_grad()
            objective(params, step, Value.exp, Value.log).backward()
            opt.step()
            scheduler.step()

    params = [Value(v) for v in START]
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    run(100, params, opt, lr_scheduler.CosineAnnealingLR(opt, T_max=30))
    straight = [p.data for p in params]

    params = [Value(v) for v in START]
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    scheduler = lr_scheduler.CosineAnnealingLR(opt, T_max=30)
    run(50, params, opt, scheduler)
    saved = json.loads(json.dumps(
        {"params": [p.data for p in params], "opt": opt.state_dict(),
         "scheduler": scheduler.state_dict()}))

    params = [Value(v) for v in saved["params"]]
    opt = optim.SGD(params, lr=0.1)
    scheduler = lr_scheduler.CosineAnnealingLR(opt, T_max=30)
    opt.load_state_dict(saved["opt"])
    scheduler.load_state_dict(saved["scheduler"])
    run(50, params, opt, scheduler, start=50)
    assert [p.data for p in params] == straight


def trained_adam():
    params = [Value(v) for v in START]
    opt = optim.Adam(params, lr=0.05)
    for step in range(3):
        opt.zero_grad()
        objective(params, step, Value.exp, Value.log).backward()
        opt.step()
    return opt


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s.update(optimizer="SGD"), "'SGD', not 'Adam'"),
    (lambda s: s.pop("step"), "must have keys"),
    (lambda s: s.update(step=-1), "step must be an int >= 0, found -1"),
    (lambda s: s["state"]["exp_avg"].pop(), "expected a list of 4 values, found 3"),
    (lambda s: s["state"].pop("exp_avg_sq"), "buffers"),
    (lambda s: s["state"]["exp_avg"].__setitem__(2, math.nan), r"\['exp_avg'\]\[2\].*nan"),
    (lambda s: s["hyperparameters"].pop("eps"), "hyperparameters must be"),
    (lambda s: s["hyperparameters"].update(lr=-1.0), "learning rate: -1.0"),
    (lambda s: s["hyperparameters"].update(betas="0.9"), "bad hyperparameter"),
])
def test_load_state_dict_rejects_what_does_not_fit_and_changes_nothing(change, message):
    source = trained_adam()
    state = json.loads(json.dumps(source.state_dict()))
    change(state)
    target = optim.Adam([Value(v) for v in START], lr=0.2)
    with pytest.raises(ValueError, match=message):
        target.load_state_dict(state)
    assert (target.step_count, target.lr, target.state["exp_avg"]) == (0, 0.2, [0.0] * 4)


def test_state_dict_is_a_copy():
    opt = trained_adam()
    state = opt.state_dict()
    state["state"]["exp_avg"][0] = 123.0
    assert opt.state["exp_avg"][0] != 123.0


# --- the basics: zero_grad, no graph, parameter checks --------------------------------------


def test_zero_grad_sets_every_grad_to_zero_and_step_keeps_parameters_leaves():
    params = [Value(v) for v in START]
    opt = optim.Adam(params, lr=0.1)
    objective(params, 0, Value.exp, Value.log).backward()
    assert all(p.grad != 0.0 for p in params)
    opt.step()
    assert all(p.is_leaf and p.parents == () and type(p.data) is float for p in params)
    assert [p.data for p in params] != START
    opt.zero_grad()
    assert [p.grad for p in params] == [0.0] * 4


def test_any_ordered_iterable_of_values_is_accepted_in_its_order():
    a, b = Value(1.0), Value(2.0)
    opt = optim.SGD((p for p in (b, a)), lr=0.5)
    a.grad, b.grad = 1.0, 4.0
    opt.step()
    assert opt.params == [b, a]
    assert (a.data, b.data) == (0.5, 0.0)


A = Value(1.0, label="a")


@pytest.mark.parametrize(("params", "error", "message"), [
    ([], ValueError, "empty parameter list"),
    ([A, 2.0], TypeError, r"params\[1\] is a float"),
    ([A, "w"], TypeError, r"params\[1\] is a str"),
    ([A, Value(2.0), A], ValueError, r"params\[2\] is params\[0\] again"),
    ([A * 2], ValueError, "non-leaf"),
    (A, TypeError, "got Value"),
    ({A}, TypeError, "got set"),
    (3, TypeError, "got int"),
])
def test_bad_parameter_lists_are_refused(params, error, message):
    with pytest.raises(error, match=message):
        optim.SGD(params, lr=0.1)


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda p: optim.SGD(p, lr=-0.1), ValueError, "learning rate: -0.1"),
    (lambda p: optim.SGD(p, lr=math.nan), ValueError, "learning rate: nan"),
    (lambda p: optim.SGD(p, lr="0.1"), TypeError, "str"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), ValueError, "momentum value: -0.5"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1e-4), ValueError, "weight_decay value: -0.0001"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), ValueError, "momentum=0.0"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
     "dampening=0.1"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=1), TypeError, "nesterov must be True or False"),
    (lambda p: optim.Adam(p, lr=-1e-3), ValueError, "learning rate: -0.001"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), ValueError, "index 0: 1.0"),
    (lambda p: optim.Adam(p, betas=(-0.1, 0.999)), ValueError, "index 0: -0.1"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.5)), ValueError, "index 1: 1.5"),
    (lambda p: optim.Adam(p, betas=0.9), TypeError, "pair"),
    (lambda p: optim.Adam(p, eps=-1e-8), ValueError, "epsilon value: -1e-08"),
    (lambda p: optim.Adam(p, weight_decay=-0.1), ValueError, "weight_decay value: -0.1"),
    (lambda p: optim.Adam(p, amsgrad="yes"), TypeError, "amsgrad"),
    (lambda p: optim.AdamW(p, weight_decay=-0.01), ValueError, "weight_decay value: -0.01"),
    (lambda p: optim.AdamW(p, betas=(0.9, 1.0)), ValueError, "index 1: 1.0"),
    (lambda p: optim.RAdam(p, betas=(0.9, -0.5)), ValueError, "index 1: -0.5"),
    (lambda p: optim.RAdam(p, eps=-1.0), ValueError, "epsilon value: -1.0"),
    (lambda p: optim.RAdam(p, lr=math.inf), ValueError, "learning rate: inf"),
])
def test_bad_hyperparameters_are_refused_naming_the_value(make, error, message):
    with pytest.raises(error, match=message):
        make([Value(1.0)])


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), ValueError, "step_size=0"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2.5), TypeError, "step_size must be an int"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError, "T_max=0"),
    (lambda o: lr_scheduler.LambdaLR(o, lr_lambda=0.5), TypeError, "callable"),
    (lambda o: lr_scheduler.StepLR("sgd", step_size=3), TypeError, "str is not an Optimizer"),
])
def test_bad_scheduler_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make(optim.SGD([Value(1.0)], lr=0.1))


def test_lambda_lr_applies_epoch_zero_at_once_and_scales_the_base_lr():
    opt = optim.Adam([Value(1.0)], lr=0.2)
    scheduler = lr_scheduler.LambdaLR(opt, lambda epoch: 0.5 + epoch)
    assert opt.lr == 0.1
    scheduler.step()
    scheduler.step()
    assert (opt.lr, scheduler.get_last_lr(), scheduler.last_epoch) == (0.5, [0.5], 2)
