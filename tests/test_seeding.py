"""Seeds: ``random.seed(n)`` once reproduces every model built after it; ``seed=`` gives a
model of its own, whatever the global state (micrograd's and PyTorch's conventions)."""

from __future__ import annotations

import random

import pytest

from nn import MLP, Linear, LogisticRegression

BUILDERS = {
    "Linear": lambda **kw: Linear(3, 4, **kw),
    "MLP": lambda **kw: MLP(2, [16, 16, 1], **kw),
    "LogisticRegression": lambda **kw: LogisticRegression(3, **kw),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_the_global_seed_reproduces_a_model_built_without_seed(name):
    build = BUILDERS[name]
    random.seed(1337)
    first = build().state_dict()
    random.seed(1337)
    assert build().state_dict() == first
    assert build().state_dict() != first  # the next draws: a different model


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_seed_gives_the_same_model_whatever_the_global_state(name):
    build = BUILDERS[name]
    random.seed(1)
    first = build(seed=7).state_dict()
    state = random.getstate()
    random.seed(2)
    assert build(seed=7).state_dict() == first
    random.setstate(state)
    build(seed=7)
    assert random.getstate() == state  # seed= leaves the global generator alone


def test_without_seed_a_layer_draws_pytorchs_range_from_the_global_generator():
    random.seed(5)
    layer = Linear(4, 2)
    random.seed(5)
    bound = 1 / 4 ** 0.5
    expected = [random.uniform(-bound, bound) for _ in range(4 * 2 + 2)]
    assert [p.data for p in layer.parameters()] == expected
