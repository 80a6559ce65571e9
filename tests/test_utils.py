"""nn.utils.clip_grad_norm_: PyTorch's gradient clipping, checked against PyTorch itself."""

from __future__ import annotations

import math

import pytest

from engine import Value
from nn import MLP, utils


def with_grads(grads: list[float]) -> list[Value]:
    params = [Value(0.0) for _ in grads]
    for p, g in zip(params, grads):
        p.grad = g
    return params


def torch_clip(torch, grads: list[float], max_norm: float, norm_type: float = 2.0,
               error_if_nonfinite: bool = False) -> tuple[float, list[float]]:
    """The same clipping by torch.nn.utils, on 0-d float64 tensors (one per chainrule Value)."""
    tensors = [torch.zeros((), dtype=torch.float64, requires_grad=True) for _ in grads]
    for t, g in zip(tensors, grads):
        t.grad = torch.tensor(g, dtype=torch.float64)
    total = torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type=norm_type,
                                           error_if_nonfinite=error_if_nonfinite)
    return float(total), [float(t.grad) for t in tensors]


def same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == pytest.approx(b, rel=1e-12, abs=1e-300)


def test_a_gradient_longer_than_max_norm_is_scaled_down_to_it():
    params = with_grads([3.0, 4.0])             # total 2-norm 5
    total = utils.clip_grad_norm_(params, max_norm=1.0)
    assert total == 5.0                         # the norm before clipping
    assert [p.grad for p in params] == pytest.approx([0.6, 0.8], rel=1e-6)
    assert math.hypot(*(p.grad for p in params)) == pytest.approx(1.0, rel=1e-6)


def test_a_gradient_shorter_than_max_norm_is_left_as_it_is():
    params = with_grads([0.3, -0.4])
    assert utils.clip_grad_norm_(params, max_norm=1.0) == pytest.approx(0.5)
    assert [p.grad for p in params] == [0.3, -0.4]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.0, 0.1, 1.0, 4.999999, 5.0, 100.0, math.inf])
def test_matches_torch(torch, norm_type, max_norm):
    grads = [3.0, -4.0, 0.0, 1e-3, -2.5]
    params = with_grads(grads)
    total = utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    want_total, want_grads = torch_clip(torch, grads, max_norm, norm_type=norm_type)
    assert same(total, want_total)
    assert all(same(g.grad, w) for g, w in zip(params, want_grads)), (
        [g.grad for g in params], want_grads)


@pytest.mark.parametrize("grads", [[1.0, math.inf], [1.0, math.nan], [math.inf, math.nan],
                                   [-math.inf, 2.0]])
@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_non_finite_gradients_scale_as_in_torch(torch, grads, norm_type):
    params = with_grads(grads)
    total = utils.clip_grad_norm_(params, 1.0, norm_type=norm_type)
    want_total, want_grads = torch_clip(torch, grads, 1.0, norm_type=norm_type)
    assert same(total, want_total)
    assert all(same(g.grad, w) for g, w in zip(params, want_grads))


def test_error_if_nonfinite_raises_like_torch_and_leaves_the_gradients(torch):
    params = with_grads([1.0, math.nan])
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert params[0].grad == 1.0
    with pytest.raises(RuntimeError, match="non-finite"):
        torch_clip(torch, [1.0, math.nan], 1.0, error_if_nonfinite=True)


def test_a_model_clipped_like_its_torch_twin(torch):
    """A real backward: an MLP's gradients, clipped, equal torch's clipped gradients."""
    model = MLP(3, [4, 1], activation="tanh", seed=0)
    loss = (model([0.5, -1.0, 2.0]) - 3.0) ** 2
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    total = utils.clip_grad_norm_(model.parameters(), max_norm=0.1)
    want_total, want_grads = torch_clip(torch, grads, 0.1)
    assert same(total, want_total) and total > 0.1
    assert all(same(p.grad, w) for p, w in zip(model.parameters(), want_grads))


def test_a_single_value_and_an_empty_list_are_accepted_as_in_torch():
    v = with_grads([-10.0])[0]
    assert utils.clip_grad_norm_(v, 2.0) == 10.0
    assert v.grad == pytest.approx(-2.0, rel=1e-6)
    assert utils.clip_grad_norm_([], 1.0) == 0.0


def test_bad_arguments_are_refused_by_name():
    params = with_grads([1.0])
    with pytest.raises(ValueError, match="max_norm"):
        utils.clip_grad_norm_(params, -1.0)
    with pytest.raises(ValueError, match="max_norm"):
        utils.clip_grad_norm_(params, math.nan)
    with pytest.raises(TypeError, match="max_norm"):
        utils.clip_grad_norm_(params, "1")
    with pytest.raises(ValueError, match="norm_type"):
        utils.clip_grad_norm_(params, 1.0, norm_type=0)
    with pytest.raises(TypeError, match="norm_type"):
        utils.clip_grad_norm_(params, 1.0, norm_type=None)
    with pytest.raises(TypeError, match=r"parameters\[1\]"):
        utils.clip_grad_norm_([params[0], 2.0], 1.0)
    with pytest.raises(TypeError, match="error_if_nonfinite"):
        utils.clip_grad_norm_(params, 1.0, error_if_nonfinite="yes")
    assert params[0].grad == 1.0
