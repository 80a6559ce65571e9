"""W1c, the benchmark's compiled step, computes W1 bit for bit: the row times the very step
of W1 batched, written out by ``nn.compiled`` instead of built as a graph at every step.
So does W1cp, the step through a compiled per-point function called once per point."""

from __future__ import annotations

import pytest

from bench import w1_models
from bench.moons import initial_weights, learning_rate, make_moons


def _train(model, steps):
    """(loss, gradients) of each step as hex strings, training as the benchmark does."""
    history = []
    for k in range(steps):
        loss = model.forward()
        model.zero_grad()
        model.backward(loss)
        history.append([x.hex() for x in (model.loss_value(loss), *model.gradients())])
        model.update(learning_rate(k))
    return history


@pytest.mark.parametrize("row", ["ChainruleCompiled", "ChainruleCompiledPerPoint"])
@pytest.mark.parametrize("sizes", [(2, 16, 16, 1), (2, 32, 32, 1), (2, 5, 1)])
def test_the_compiled_step_is_w1_batched_bit_for_bit_step_after_step(sizes, row, monkeypatch):
    xs, ys = make_moons()
    layers = initial_weights(sizes)
    monkeypatch.setattr(w1_models, "SIZES", sizes)  # ChainruleBatched builds SIZES's MLP
    compiled = _train(getattr(w1_models, row)(layers, xs, ys), 40)
    eager = _train(w1_models.ChainruleBatched(layers, xs, ys), 40)
    assert compiled == eager
