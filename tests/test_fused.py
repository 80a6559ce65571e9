"""Fused ops (vsum, dot, linear) and the shortcuts backward takes: each one exact."""

from __future__ import annotations

import math
import random
from functools import reduce
from operator import add

import pytest

from engine import Value, detect_anomaly, dot, grad, linear, linear_batch, no_grad, vsum
from tests.torch_oracle import identical, identical_gradient, import_torch


def t(x: float):
    """A float64 leaf tensor (the test is skipped, saying why, without PyTorch)."""
    torch = import_torch()
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def test_an_off_relu_neuron_is_a_constant_that_backward_stops_at():
    w = [Value(1.0), Value(-2.0)]
    b = Value(0.5)
    off, = linear([w], [b], [1.0, 1.0], "relu")  # z = 1 - 2 + 0.5 = -0.5
    assert off.data == 0.0 and off.parents == () and off.op == "relu(dot)"
    (off * 3.0 + w[0]).backward()
    assert [v.grad for v in w] == [1.0, 0.0] and b.grad == 0.0  # relu'(z) = 0 below the kink


def test_a_relu_neuron_at_exactly_zero_passes_no_gradient_like_torch(torch):
    w, b = Value(1.0), Value(-1.0)
    out, = linear([[w]], [b], [1.0], "relu")  # z == 0
    assert out.parents == ()  # off: a constant, like z < 0
    out.backward()
    tw, tb = t(1.0), t(-1.0)
    torch.relu(tw * 1.0 + tb).backward()
    assert (w.grad, b.grad) == (tw.grad.item(), tb.grad.item()) == (0.0, 0.0)


@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid"])
def test_a_layer_under_no_grad_gives_leaves_with_the_same_values(activation):
    w = [[Value(0.5), Value(-1.5)], [Value(-2.0), Value(0.25)]]
    b = [Value(0.25), Value(-0.5)]
    batch = [[2.0, 3.0], [-1.0, 0.5]]
    recorded = linear_batch(w, b, batch, activation)
    with no_grad():
        plain = linear_batch(w, b, batch, activation)
    assert [[v.data for v in row] for row in plain] == [[v.data for v in row] for row in recorded]
    assert all(v.is_leaf and v.parents == () for row in plain for v in row)
    assert not any(v.is_leaf for row in recorded for v in row if v.op != "relu(dot)")


def test_detect_anomaly_names_the_neuron_that_overflows():
    w = [[Value(1e300, label="w"), Value(1.0)]]
    b = [Value(0.0)]
    assert linear(w, b, [1e10, 1.0], "tanh")[0].data == 1.0  # silent outside the block
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"'dot'.*'w'=1e\+300"):
        linear(w, b, [1e10, 1.0])  # w * x = inf


def test_linear_mixes_numbers_and_values_in_its_input(torch):
    w = [[Value(0.5), Value(-1.5)]]
    b = [Value(0.25)]
    x = Value(2.0)
    out, = linear(w, b, [x, 3.0], "tanh")
    out.backward()
    tx, tw0, tw1, tb = t(2.0), t(0.5), t(-1.5), t(0.25)
    torch.tanh(tw0 * tx + tw1 * 3.0 + tb).backward()
    assert out.data == pytest.approx(math.tanh(0.5 * 2 - 4.5 + 0.25), rel=1e-15)
    for ours, theirs in ((x, tx), (w[0][0], tw0), (w[0][1], tw1), (b[0], tb)):
        assert ours.grad == pytest.approx(theirs.grad.item(), rel=1e-12, abs=0)


@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid"])
def test_second_derivatives_through_a_neuron_match_torch(activation, torch):
    x0, x1 = Value(0.3), Value(-0.7)
    w = [[Value(0.9), Value(0.4)], [Value(-0.6), Value(1.1)]]
    b = [Value(0.1), Value(0.2)]
    y = vsum(o * o for o in linear(w, b, [x0, x1], activation))
    dx0, = grad(y, [x0], create_graph=True)
    d2, = grad(dx0, [x1])

    tx0, tx1 = t(0.3), t(-0.7)
    tz = torch.stack([0.9 * tx0 + 0.4 * tx1 + 0.1, -0.6 * tx0 + 1.1 * tx1 + 0.2])
    act = {None: lambda z: z, "relu": torch.relu, "tanh": torch.tanh,
           "sigmoid": torch.sigmoid}[activation]
    ty = (act(tz) ** 2).sum()
    tdx0, = torch.autograd.grad(ty, tx0, create_graph=True)
    td2, = torch.autograd.grad(tdx0, tx1)
    assert d2.data == pytest.approx(td2.item(), rel=1e-9, abs=1e-15)


def test_linear_rejects_a_bad_activation_and_ragged_weights():
    with pytest.raises(ValueError, match="'swish'"):
        linear([[Value(1.0)]], [Value(0.0)], [1.0], "swish")
    with pytest.raises(ValueError, match="2 entries but the input has 1"):
        linear([[Value(1.0), Value(2.0)]], [Value(0.0)], [1.0])
    with pytest.raises(TypeError, match="str"):
        linear([[Value(1.0)]], [Value(0.0)], ["1.0"])
    with pytest.raises(ValueError, match=r"different lengths: \[1, 2\]"):
        linear([[Value(1.0)], [Value(1.0), Value(2.0)]], [Value(0.0), Value(0.0)], [1.0])


def test_vsum_keeps_the_sum_of_its_numbers_and_constants_know_their_side():
    x = Value(1.0)
    assert vsum([x, 2, 0.5]).constant == (2.0, 0.5) and vsum([x]).constant == ()
    assert (3 - x).constant_first and (3 / x).constant_first and (3 ** x).constant_first
    assert not (x - 3).constant_first and not (x / 3).constant_first
    assert (x - 3).constant == (3 - x).constant == (3.0,)


# ---- skipping nodes whose gradient is 0 is only done where it changes nothing -----------


def test_a_zero_gradient_still_turns_an_infinite_slope_into_nan_like_torch(torch):
    x = Value(0.0)
    (x.log() * 0.0).backward()  # 0 * d log(x)/dx at 0 = 0 * inf
    tx = t(0.0)
    (torch.log(tx) * 0.0).backward()
    assert math.isnan(x.grad) and math.isnan(tx.grad.item())


def test_a_zero_gradient_through_safe_ops_leaves_exact_zeros_like_torch(torch):
    a, b = Value(1.5), Value(-2.0)
    y = ((a * b + a).tanh() * 2.0 - 5.0).relu()  # relu is off: everything upstream gets 0
    y.backward()
    ta, tb = t(1.5), t(-2.0)
    torch.relu(torch.tanh(ta * tb + ta) * 2.0 - 5.0).backward()
    assert (a.grad, b.grad) == (ta.grad.item(), tb.grad.item()) == (0.0, 0.0)


def test_a_zero_gradient_into_an_infinite_value_still_propagates_nan(torch):
    x = Value(1000.0)
    y = x.exp() * 0.0  # exp(1000) = inf: the node is not skipped, 0 * inf = nan
    y.backward()
    tx = t(1000.0)
    (torch.exp(tx) * 0.0).backward()
    assert math.isnan(x.grad) and math.isnan(tx.grad.item())


def test_a_finite_output_with_an_infinite_slope_is_not_skipped(torch):
    x = Value(0.0)
    (x.sqrt() * 0.0).backward()  # sqrt(0) = 0 is finite, but its slope is inf
    tx = t(0.0)
    (torch.sqrt(tx) * 0.0).backward()
    assert math.isnan(x.grad) and math.isnan(tx.grad.item())


# ---- a fused node is the chain of elementary ops, to the bit --------------------------------

ACTIVATIONS = [None, "relu", "tanh", "sigmoid"]


def numbers(n, seed):
    """Numbers of mixed sizes and signs, so that the order of a sum shows in its last bits."""
    rng = random.Random(seed)
    return [rng.choice([1.0, 1e-3, 1e3]) * rng.uniform(-1.0, 1.0) for _ in range(n)]


def chain_neuron(ws, xs, b, activation):
    """act(w1*x1 + w2*x2 + ... + b) with * and + alone, left to right."""
    z = reduce(add, [w * x for w, x in zip(ws, xs)]) + b
    return z if activation is None else getattr(z, activation)()


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("n", [16, 100])
@pytest.mark.parametrize("values_as_inputs", [False, True], ids=["numbers", "Values"])
def test_a_long_dot_is_the_chain_of_additions_to_the_bit(n, activation, values_as_inputs):
    w_data, x_data = numbers(n, seed=n), numbers(n, seed=n + 1)
    in_order = reduce(add, [a * b for a, b in zip(w_data, x_data)])  # as sum() does up to 3.11
    assert in_order != math.fsum(a * b for a, b in zip(w_data, x_data))  # fsum: other bits
    results = []
    for fused in (True, False):
        ws, b = [Value(x) for x in w_data], Value(0.25)
        xs = [Value(x) for x in x_data] if values_as_inputs else x_data
        out = (dot(ws, xs, b, activation) if fused else chain_neuron(ws, xs, b, activation))
        (out * 0.7).backward()  # an upstream gradient other than 1
        inputs = xs if values_as_inputs else []
        results.append([out.data, b.grad, *(w.grad for w in ws), *(x.grad for x in inputs)])
    for i, (f, c) in enumerate(zip(*results)):
        assert identical(f, c), f"entry {i}: fused {f!r}, chain {c!r}"


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_a_whole_layer_is_the_chain_of_ops_to_the_bit(activation):
    nin, nout = 24, 5
    rows = [numbers(nin, seed=10 + j) for j in range(nout)]
    bias_data = numbers(nout, seed=3)
    batch = [numbers(nin, seed=20 + k) for k in range(3)]
    upstream = numbers(nout * len(batch), seed=4)
    results = []
    for fused in (True, False):
        w = [[Value(x) for x in row] for row in rows]
        b = [Value(x) for x in bias_data]
        if fused:
            outs = [o for layer in linear_batch(w, b, batch, activation) for o in layer]
        else:
            outs = [chain_neuron(w[j], x, b[j], activation) for x in batch for j in range(nout)]
        vsum([o * g for o, g in zip(outs, upstream)]).backward()
        results.append([o.data for o in outs] + [p.grad for row in w for p in row]
                       + [p.grad for p in b])
    for i, (f, c) in enumerate(zip(*results)):
        assert identical(f, c), f"entry {i}: fused {f!r}, chain {c!r}"


BIASES = [0.37 * i - 3.0 for i in range(17)]  # z from -2.6 to 3.3: relu off and on


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("upstream", [0.7, -1.3, 3.0e-3])
def test_a_neuron_with_an_upstream_gradient_other_than_1_matches_torch(activation, upstream):
    # With upstream 1, (g * (1 - s)) * s and g * (s * (1 - s)) are the same float; with
    # other upstream gradients they differ in the last bit at about a third of these points.
    torch = import_torch()
    w_data, x_data = [0.6, -1.1, 0.35], [0.9, 0.45, 1.7]
    # tanh's own kernel may differ from math.tanh in the last bit; the rest is IEEE
    same = (identical_gradient if activation != "tanh"
            else (lambda a, b: a == pytest.approx(b, rel=1e-14)))
    for bias in BIASES:
        ws, xs, b = [Value(x) for x in w_data], [Value(x) for x in x_data], Value(bias)
        dot(ws, xs, b, activation).backward(grad=upstream)
        tw, tx, tb = [t(x) for x in w_data], [t(x) for x in x_data], t(bias)
        z = reduce(add, [w * x for w, x in zip(tw, tx)]) + tb
        out = z if activation is None else getattr(torch, activation)(z)
        out.backward(torch.tensor(upstream, dtype=torch.float64))
        for ours, theirs in zip([*ws, *xs, b], [*tw, *tx, tb]):
            assert same(ours.grad, theirs.grad.item()), (bias, ours.grad, theirs.grad.item())


# ---- a fused node over an op node made before the last backward --------------------------


@pytest.mark.parametrize("make", ["dot", "linear_batch"])
def test_a_neuron_on_an_op_node_older_than_the_tape_gets_its_gradient(make):
    x = Value(0.8)
    h = x.tanh() * 2.0  # op nodes, made before the next backward
    Value(0.0).backward()  # any backward: h is now older than the tape
    w, b = Value(1.5), Value(0.1)
    if make == "dot":
        out = dot([w], [h], b)
    else:
        (out,), = linear_batch([[w]], [b], [[h]])
    out.backward()
    expected = 1.5 * 2.0 * (1.0 - math.tanh(0.8) ** 2)  # d/dx of 1.5 * 2 tanh(x) + 0.1
    assert x.grad == pytest.approx(expected, rel=1e-15)
    assert w.grad == h.data and b.grad == 1.0


def test_an_off_relu_neuron_is_an_intermediate_node_whose_grad_resets():
    w, b = [Value(-1.0)], Value(0.0)
    off = linear([w], [b], [2.0], "relu")[0]  # relu(-2) = 0: sends nothing back
    assert off.data == 0.0 and not off.is_leaf and off.parents == ()
    y = off * 4.0 + w[0]
    y.backward()
    assert off.grad == 4.0
    y.backward()
    assert off.grad == 4.0  # d y / d off of the latest call, not accumulated like a leaf
    assert (w[0].grad, b.grad) == (2.0, 0.0)  # the leaves do accumulate
