"""MLP.layer_outputs: every layer's outputs for an input, the one forward the playground uses."""

import pytest

from engine import no_grad
from nn import MLP
from nn.registry import ACTIVATIONS


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_the_last_layer_output_is_the_models_and_each_layer_feeds_the_next(activation):
    model = MLP(2, [4, 3, 2], activation=activation, seed=3)
    X = [[0.5, -1.0], [2.0, 0.25], [-0.75, 1.5]]
    with no_grad():
        outputs = model.layer_outputs(X)
        assert [len(o[0]) for o in outputs] == [4, 3, 2]
        assert [[v.data for v in row] for row in outputs[-1]] == [
            [v.data for v in row] for row in model(X)]
        # The same by the modules one at a time, activation as a separate node.
        h = X
        for module in model.layers:
            h = module(h) if hasattr(module, "weight") else [module(row) for row in h]
        flat = [v.data for row in outputs[-1] for v in row]
        assert flat == pytest.approx([v.data for row in h for v in row], rel=1e-12, abs=1e-15)
        later = model.layer_outputs(outputs[0], start=1)
        assert [[v.data for v in row] for row in later[-1]] == [
            [v.data for v in row] for row in outputs[-1]]


def test_one_input_gives_one_row_per_layer():
    model = MLP(3, [2, 1], seed=0)
    outputs = model.layer_outputs([1.0, 2.0, 3.0])
    assert [len(o) for o in outputs] == [2, 1]
    assert outputs[-1][0].data == model([1.0, 2.0, 3.0]).data
