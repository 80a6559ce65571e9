"""The benchmark's floor, W1 written by hand in plain floats, computes W1 right.

``bench/w1_by_hand.py`` derives the gradient of micrograd's demo loss on paper. If a
formula there were wrong, its column would time a different computation, so it is held to
chainrule's loss and gradients (and, where torch is installed, the benchmark also compares
it with torch-batched in every run).
"""

from __future__ import annotations

import pytest

from bench import w1_models
from bench.moons import initial_weights, make_moons
from bench.w1_by_hand import ByHandMoons
from bench.w1_models import step_history


def test_by_hand_gives_chainrules_losses_and_gradients_step_after_step():
    xs, ys = make_moons()
    by_hand = step_history(ByHandMoons(initial_weights(), xs, ys), 6)
    chainrule = step_history(w1_models.ChainruleBatched(initial_weights(), xs, ys), 6)
    for (loss, grads), (their_loss, their_grads) in zip(by_hand, chainrule, strict=True):
        assert loss == pytest.approx(their_loss, rel=1e-13, abs=1e-15)
        assert len(grads) == len(their_grads) == 337
        assert max(abs(a - b) for a, b in zip(grads, their_grads)) < 1e-14
    assert len({loss for loss, _ in by_hand}) == 6  # it trains: the loss moves every step


def test_by_hand_sends_nothing_back_from_points_past_the_margin():
    xs, ys = make_moons(n_points=4)
    model = ByHandMoons(initial_weights(), xs, ys)
    model.forward()
    # Every margin made non-positive: only the regularizer's 2 * REG * p is left.
    model.saved = [(activations, y, 0.0) for activations, y, _ in model.saved]
    model.zero_grad()
    model.backward(0.0)
    parameters = model.parameters()
    assert model.gradients() == [2 * 1e-4 * p for p in parameters]


def test_the_benchmark_checks_by_hand_against_torch_batched():
    pytest.importorskip("torch", reason="torch (the benchmark's oracle) is not installed")
    from bench.workloads import compare_with_torch_batched

    xs, ys = make_moons()
    check = compare_with_torch_batched(ByHandMoons, initial_weights(), xs, ys)
    assert check["status"] == "ok" and check["gradients"] == 337
    assert check["max_abs_diff"] < 1e-12
