"""Losses: value and gradient against torch.nn.functional in float64, extremes included.

Tolerances: rel 1e-9 throughout. Where a gradient is sigmoid(z) - t or softmax - 1 and the
two nearly cancel, PyTorch's own result carries an absolute rounding error of up to
2**-53 per example (it subtracts two numbers near 1); there the comparison also allows an
absolute 2**-52 / N, and the tests below check our value against the exact formula.
"""

import math
import random

import pytest

from engine import Value
from nn import losses
from tests.torch_oracle import import_torch


class _TorchFunctional:
    """torch.nn.functional, imported at first use (a test that needs it skips without it)."""

    def __getattr__(self, name):
        if name.startswith("_"):  # pytest's collection looks for __test__ and the like
            raise AttributeError(name)
        return getattr(import_torch().nn.functional, name)


F = _TorchFunctional()

ROUNDING = 2.0**-52


def values(numbers):
    return [Value(x) for x in numbers]


def tensor(numbers, grad=False):
    torch = import_torch()
    return torch.tensor(numbers, dtype=torch.float64, requires_grad=grad)


def assert_matches_torch(ours_loss, our_inputs, torch_loss, torch_input, abs_grad=0.0):
    ours_loss.backward()
    torch_loss.backward()
    assert math.isclose(ours_loss.data, torch_loss.item(), rel_tol=1e-9, abs_tol=1e-300)
    flat = [v for row in our_inputs for v in row] if isinstance(our_inputs[0], list) else our_inputs
    expected = torch_input.grad.flatten().tolist()
    for v, g in zip(flat, expected, strict=True):
        assert math.isclose(v.grad, g, rel_tol=1e-9, abs_tol=abs_grad), (v.grad, g)


def random_numbers(n, seed, low=-3.0, high=3.0):
    rng = random.Random(seed)
    return [rng.uniform(low, high) for _ in range(n)]


# ---- regression ------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize(("ours", "theirs"), [(losses.mse, "mse_loss"), (losses.l1, "l1_loss")])
def test_regression_losses_match_torch(ours, theirs, reduction):
    theirs = getattr(F, theirs)
    p, t = random_numbers(7, seed=1), random_numbers(7, seed=2)
    t[3] = p[3]  # an exact hit: l1's kink, gradient 0 in both
    ps = values(p)
    tp = tensor(p, grad=True)
    assert_matches_torch(ours(ps, t, reduction=reduction), ps,
                         theirs(tp, tensor(t), reduction=reduction), tp)


@pytest.mark.parametrize(("ours", "theirs"), [(losses.mse, "mse_loss"), (losses.l1, "l1_loss")])
def test_regression_targets_may_be_values_with_gradients(ours, theirs):
    theirs = getattr(F, theirs)
    p, t = random_numbers(4, seed=3), random_numbers(4, seed=4)
    ps, ts = values(p), values(t)
    tp, tt = tensor(p, grad=True), tensor(t, grad=True)
    assert_matches_torch(ours(ps, ts), ps, theirs(tp, tt), tp)
    assert [v.grad for v in ts] == pytest.approx(tt.grad.tolist(), rel=1e-12, abs=0)


def test_mse_by_hand():
    loss = losses.mse([Value(3.0), Value(0.0)], [1.0, 0.0])  # ((3 - 1)^2 + 0) / 2
    assert loss.data == 2.0


def test_a_single_value_is_a_batch_of_one():
    p = Value(0.5)
    assert losses.mse(p, 1.5).data == 1.0
    assert losses.hinge(p, -1).data == 1.5


def test_the_sum_is_one_node_whatever_the_batch_size():
    loss = losses.l1(values(range(50)), [0.0] * 50, reduction="sum")
    assert loss.op == "sum" and len(loss.parents) == 50


# ---- binary cross-entropy on probabilities ----------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_binary_cross_entropy_matches_torch(reduction):
    p = random_numbers(9, seed=5, low=1e-6, high=1 - 1e-6) + [1e-10, 0.5]
    t = [0.0, 1.0, 0.3, 1.0, 0.0, 0.9, 1.0, 0.0, 0.5, 0.0, 1.0]
    ps, tp = values(p), tensor(p, grad=True)
    assert_matches_torch(losses.binary_cross_entropy(ps, t, reduction=reduction), ps,
                         F.binary_cross_entropy(tp, tensor(t), reduction=reduction), tp)


def test_binary_cross_entropy_of_certain_wrong_answers_is_clamped_at_100_like_torch():
    p, t = [0.0, 1.0, 1e-300, 1.0], [1.0, 0.0, 1.0, 1.0]
    loss = losses.binary_cross_entropy(values(p), t, reduction="sum")
    assert loss.data == F.binary_cross_entropy(tensor(p), tensor(t), reduction="sum").item()
    assert loss.data == 300.0


def test_binary_cross_entropy_gradient_is_zero_where_the_log_is_clamped():
    # Documented difference: the derivative of max(log p, -100) is 0 where the clamp holds;
    # PyTorch instead returns (p - t) / max(p (1 - p), 1e-12) = -1e12 here.
    p = Value(0.0)
    losses.binary_cross_entropy([p], [1.0]).backward()
    assert p.grad == 0.0
    # and where the clamp does not hold it is the calculus answer -t/p + (1-t)/(1-p)
    q = Value(1e-30)
    losses.binary_cross_entropy([q], [1.0]).backward()
    assert math.isclose(q.grad, -1e30, rel_tol=1e-15)


def test_binary_cross_entropy_of_a_tiny_probability_keeps_its_digits():
    # -log(1 - p) for p = 1e-10 is 1.00000000005e-10; computed as log(1 - p) it is 8e-8 off
    loss = losses.binary_cross_entropy([Value(1e-10)], [0.0])
    assert math.isclose(loss.data, -math.log1p(-1e-10), rel_tol=1e-15)


def test_binary_cross_entropy_needs_probabilities_and_targets_in_0_1():
    with pytest.raises(ValueError, match="prediction 1.5 at index 1 is not a probability"):
        losses.binary_cross_entropy(values([0.5, 1.5]), [0.0, 1.0])
    with pytest.raises(ValueError, match="prediction nan at index 0"):
        losses.binary_cross_entropy(values([math.nan]), [0.0])
    with pytest.raises(ValueError, match="target -1 at index 0 is outside \\[0, 1\\]"):
        losses.binary_cross_entropy(values([0.5]), [-1])
    with pytest.raises(TypeError, match="targets are numbers"):
        losses.binary_cross_entropy(values([0.5]), [Value(1.0)])


# ---- binary cross-entropy on logits -----------------------------------------------------------


def exact_logistic_gradient(z, t):
    """sigmoid(z) - t for t in {0, 1}, written so that it never cancels (our oracle)."""
    def sigmoid(x):
        return 1 / (1 + math.exp(-x)) if x > -700 else 0.0

    return sigmoid(z) if t == 0 else -sigmoid(-z)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_binary_cross_entropy_with_logits_matches_torch(reduction):
    z = random_numbers(10, seed=6, low=-8, high=8)
    t = [0.0, 1.0, 1.0, 0.0, 0.25, 1.0, 0.0, 0.75, 1.0, 0.0]
    zs, tz = values(z), tensor(z, grad=True)
    assert_matches_torch(
        losses.binary_cross_entropy_with_logits(zs, t, reduction=reduction), zs,
        F.binary_cross_entropy_with_logits(tz, tensor(t), reduction=reduction), tz,
        abs_grad=ROUNDING)


def test_binary_cross_entropy_with_logits_is_finite_and_right_at_extreme_logits():
    z = [1000.0, -1000.0, 1000.0, -1000.0, 30.0, -30.0, 745.0, 0.0]
    t = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.5, 1.0]
    # the naive -(t log s + (1 - t) log(1 - s)) overflows to nan/inf here
    zs, tz = values(z), tensor(z, grad=True)
    loss = losses.binary_cross_entropy_with_logits(zs, t)
    assert math.isfinite(loss.data)
    n = len(z)
    assert_matches_torch(loss, zs, F.binary_cross_entropy_with_logits(tz, tensor(t)), tz,
                         abs_grad=ROUNDING / n)
    # and our gradient is the exact one where torch's sigmoid(z) - t rounds (z = +-30)
    for v, zi, ti in zip(zs[:6], z[:6], t[:6]):
        assert math.isclose(v.grad, exact_logistic_gradient(zi, ti) / n, rel_tol=1e-12)


def test_binary_cross_entropy_with_logits_of_a_confident_right_answer_keeps_its_digits():
    # log(1 + e^-30) = 9.3576e-14: computing 1 + e^-30 first loses 0.1% of it
    loss = losses.binary_cross_entropy_with_logits([Value(30.0)], [1.0])
    assert math.isclose(loss.data, math.log1p(math.exp(-30.0)), rel_tol=1e-15)


# ---- cross-entropy over classes ----------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropy_matches_torch(reduction, torch):
    rng = random.Random(7)
    rows = [[rng.uniform(-4, 4) for _ in range(4)] for _ in range(6)]
    classes = [0, 3, 1, 1, 2, 0]
    vs = [values(row) for row in rows]
    tr = tensor(rows, grad=True)
    assert_matches_torch(
        losses.cross_entropy(vs, classes, reduction=reduction), vs,
        F.cross_entropy(tr, torch.tensor(classes), reduction=reduction), tr,
        abs_grad=ROUNDING)


def test_cross_entropy_with_extreme_logits_does_not_overflow(torch):
    rows = [[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0], [0.0, 0.0, 0.0], [-1000.0] * 3]
    classes = [0, 2, 1, 2]
    vs = [values(row) for row in rows]
    tr = tensor(rows, grad=True)
    loss = losses.cross_entropy(vs, classes)
    assert math.isfinite(loss.data)  # exp(1000) would be inf without subtracting the max
    assert_matches_torch(loss, vs, F.cross_entropy(tr, torch.tensor(classes)), tr,
                         abs_grad=ROUNDING / len(rows))


def test_cross_entropy_by_hand():
    # two equal logits: softmax = (1/2, 1/2), loss = log 2, gradient (1/2 - 1, 1/2)
    row = values([5.0, 5.0])
    losses.cross_entropy([row], [0]).backward()
    assert [v.grad for v in row] == [-0.5, 0.5]


def test_cross_entropy_checks_rows_and_classes():
    with pytest.raises(ValueError, match="row 1 has 2 logits, row 0 has 3"):
        losses.cross_entropy([[1, 2, 3], [1, 2]], [0, 0])
    with pytest.raises(ValueError, match="class index 3 at position 0 is not an int in \\[0, 3\\)"):
        losses.cross_entropy([[1, 2, 3]], [3])
    with pytest.raises(ValueError, match="class index -1"):
        losses.cross_entropy([[1, 2, 3]], [-1])
    with pytest.raises(ValueError, match="class index 1.0"):
        losses.cross_entropy([[1, 2, 3]], [1.0])
    with pytest.raises(ValueError, match="class index True"):
        losses.cross_entropy([[1, 2, 3]], [True])
    with pytest.raises(ValueError, match="2 rows of logits but 1 class indices"):
        losses.cross_entropy([[1, 2], [3, 4]], [0])
    with pytest.raises(ValueError, match="row 0 has no logits"):
        losses.cross_entropy([[]], [0])
    with pytest.raises(TypeError, match="row 0 is a float, not a list of logits"):
        losses.cross_entropy([1.0, 2.0], [0, 0])  # one row of two logits is [[1.0, 2.0]]


# ---- hinge -----------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_hinge_matches_torch_and_sklearn(reduction):
    s = random_numbers(12, seed=8, low=-2.5, high=2.5) + [1.0, -1.0, 1000.0, -1000.0]
    y = [1, -1] * 6 + [1, -1, -1, -1]  # 1.0 * 1 sits on the margin: relu'(0) = 0 in both
    ss, ts = values(s), tensor(s, grad=True)
    reference = F.relu(1 - tensor(y) * ts)
    reference = reference.mean() if reduction == "mean" else reference.sum()
    loss = losses.hinge(ss, y, reduction=reduction)
    assert_matches_torch(loss, ss, reference, ts)
    metrics = pytest.importorskip("sklearn.metrics")
    expected = metrics.hinge_loss(y, s) * (1 if reduction == "mean" else len(s))
    assert math.isclose(loss.data, expected, rel_tol=1e-12)


def test_hinge_needs_labels_minus_one_or_one():
    with pytest.raises(ValueError, match="label 0 at index 1 is not -1 or \\+1"):
        losses.hinge(values([0.5, 0.2]), [1, 0])


# ---- errors shared by every loss ----------------------------------------------------------------

BINARY_LOSSES = [losses.mse, losses.l1, losses.binary_cross_entropy,
                 losses.binary_cross_entropy_with_logits, losses.hinge]


@pytest.mark.parametrize("loss", BINARY_LOSSES)
def test_lengths_must_agree(loss):
    with pytest.raises(ValueError, match="3 predictions but 2 targets"):
        loss(values([0.5, 0.5, 0.5]), [1, 1])


@pytest.mark.parametrize("loss", BINARY_LOSSES)
def test_an_empty_batch_is_an_error(loss):
    with pytest.raises(ValueError, match="empty batch"):
        loss([], [])


@pytest.mark.parametrize("loss", [*BINARY_LOSSES, losses.cross_entropy])
def test_an_unknown_reduction_is_an_error(loss):
    with pytest.raises(ValueError, match="reduction must be 'mean' or 'sum', got 'none'"):
        loss([[0.5]], [0], reduction="none")


def test_predictions_that_are_not_numbers_are_type_errors():
    with pytest.raises(TypeError, match="prediction 1 is a str"):
        losses.mse([Value(1.0), "2"], [1.0, 2.0])
    with pytest.raises(TypeError, match="target 0 is a NoneType"):
        losses.l1([Value(1.0)], [None])
    with pytest.raises(TypeError, match="predictions must be a list"):
        losses.mse("12", [1.0, 2.0])
