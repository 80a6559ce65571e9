"""nn.Dropout against torch.nn.Dropout: zero with probability p, scale the rest by 1/(1-p)
in training; pass through in evaluation. The masks come from different generators, so
the comparison is made where both kept an entry (the same bits, value and gradient), and
on the masks' statistics."""

from __future__ import annotations

import math
import pickle
import random

import pytest

from engine import Value
from nn import Dropout, Linear, ReLU, Sequential

torch = pytest.importorskip("torch", reason="the oracle is torch.nn.Dropout")


def inputs(n: int, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(0.5, 2.0) * rng.choice((-1, 1)) for _ in range(n)]   # never 0


def ours(p: float, xs: list[float], seed: int = 0) -> tuple[list[float], list[float]]:
    """Dropout's outputs on xs and the gradient of their sum with respect to each x."""
    leaves = [Value(x) for x in xs]
    out = Dropout(p, seed=seed)(leaves)
    sum(out, Value(0.0)).backward()
    return [v.data for v in out], [leaf.grad for leaf in leaves]


def theirs(p: float, xs: list[float]) -> tuple[list[float], list[float]]:
    torch.manual_seed(0)
    leaves = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    out = torch.nn.Dropout(p)(leaves)
    out.sum().backward()
    return out.tolist(), leaves.grad.tolist()


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9, 1 / 3])
def test_a_kept_entry_is_scaled_by_one_over_one_minus_p_bit_for_bit(p):
    xs = inputs(2000)
    (mine, my_grad), (torchs, torch_grad) = ours(p, xs), theirs(p, xs)
    both = [i for i in range(len(xs)) if mine[i] != 0.0 and torchs[i] != 0.0]
    assert len(both) > len(xs) * (1 - p) ** 2 / 2      # about half of those both keep
    assert [mine[i] for i in both] == [torchs[i] for i in both]
    assert [my_grad[i] for i in both] == [torch_grad[i] for i in both] == [1 / (1 - p)] * len(both)
    for values, grads in ((mine, my_grad), (torchs, torch_grad)):
        assert all(g == 0.0 for v, g in zip(values, grads) if v == 0.0)   # dropped: no gradient


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_p_zero_is_the_identity_and_p_one_drops_everything_as_in_torch(p):
    xs = inputs(50)
    assert ours(p, xs) == theirs(p, xs)


def test_evaluation_mode_passes_the_input_through_and_train_switches_back():
    layer = Dropout(0.5, seed=0)
    xs = [Value(x) for x in inputs(20)]
    assert layer.training and layer.eval() is layer and not layer.training
    assert layer(xs) == xs                       # the very same Values: no node, no scaling
    module = torch.nn.Dropout(0.5).eval()
    tensor = torch.tensor([x.data for x in xs], dtype=torch.float64)
    assert module(tensor).tolist() == [x.data for x in layer(xs)]
    assert layer.train().training and any(v.data == 0.0 for v in layer(xs))


def test_the_share_dropped_is_p_and_the_mean_is_kept():
    """10,000 ones at p = 0.3: the share dropped within 4.4 standard deviations of 0.3
    (sqrt(0.3 * 0.7 / 10000) = 0.0046), and the mean output within 0.03 of 1."""
    out = Dropout(0.3, seed=1)([1.0] * 10_000)
    dropped = sum(v == 0.0 for v in out) / len(out)
    assert abs(dropped - 0.3) < 0.02
    assert abs(sum(out) / len(out) - 1.0) < 0.03


def test_a_seed_gives_the_same_masks_and_without_one_random_seed_does():
    xs = inputs(100)
    assert ours(0.5, xs, seed=7) == ours(0.5, xs, seed=7) != ours(0.5, xs, seed=8)
    random.seed(3)
    first = Dropout(0.5)(xs)
    random.seed(3)
    assert Dropout(0.5)(xs) == first
    layer = Dropout(0.5, seed=0)
    assert layer(xs) != layer(xs)                # a new mask at every call


def test_a_batch_gets_one_mask_per_row_entry():
    rows = [inputs(10, seed=k) for k in range(3)]
    out = Dropout(0.5, seed=0)(rows)
    assert [len(row) for row in out] == [10, 10, 10]
    assert all(v in (0.0, 2 * x) for row, orig in zip(out, rows) for v, x in zip(row, orig))


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_a_probability_outside_0_1_is_refused_with_torchs_message(p):
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1") as mine:
        Dropout(p)
    with pytest.raises(ValueError) as torchs:
        torch.nn.Dropout(p)
    assert str(mine.value) == str(torchs.value)


def test_nan_and_a_non_number_are_refused():
    """torch.nn.Dropout(nan) is accepted and drops nothing; a probability that is no
    probability is refused here instead of silently doing nothing."""
    with pytest.raises(ValueError, match="between 0 and 1, but got nan"):
        Dropout(math.nan)
    with pytest.raises(TypeError, match="must be a number, not str"):
        Dropout("0.5")


def test_dropout_in_a_model_has_no_parameters_and_survives_pickling_and_saving(tmp_path):
    model = Sequential(Linear(2, 4, seed=0), ReLU(), Dropout(0.25, seed=0), Linear(4, 1, seed=1))
    assert model.num_parameters() == 2 * 4 + 4 + 4 + 1
    assert repr(pickle.loads(pickle.dumps(model))[2]) == "Dropout(p=0.25)"
    model.save(tmp_path / "model.json")
    assert repr(Sequential.load(tmp_path / "model.json")[2]) == "Dropout(p=0.25)"
