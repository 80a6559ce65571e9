"""W1c, the benchmark's compiled step, computes W1 bit for bit: the row times the very step
of W1 batched, written out by ``nn.compiled`` instead of built as a graph at every step.
So does W1cp, the step through a compiled per-point function called once per point."""

from __future__ import annotations

import pytest

from bench import w1_models
from bench.moons import initial_weights, make_moons
from bench.w1_models import step_history


def bits(history):
    """Each step's loss and gradients as hex strings: equal only if equal bit for bit."""
    return [[x.hex() for x in (loss, *gradients)] for loss, gradients in history]


@pytest.mark.parametrize("row", ["ChainruleCompiled", "ChainruleCompiledPerPoint"])
@pytest.mark.parametrize("sizes", [(2, 16, 16, 1), (2, 32, 32, 1), (2, 5, 1)])
def test_the_compiled_step_is_w1_batched_bit_for_bit_step_after_step(sizes, row, monkeypatch):
    xs, ys = make_moons()
    layers = initial_weights(sizes)
    monkeypatch.setattr(w1_models, "SIZES", sizes)  # ChainruleBatched builds SIZES's MLP
    compiled = bits(step_history(getattr(w1_models, row)(layers, xs, ys), 40))
    eager = bits(step_history(w1_models.ChainruleBatched(layers, xs, ys), 40))
    assert compiled == eager
