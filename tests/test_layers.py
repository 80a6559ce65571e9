"""Layers and models: Linear, activations, Sequential, MLP and LogisticRegression.

The oracle is PyTorch in float64: the same weights, loaded through our state dict, must give
the same outputs and the same gradients for every parameter. Comparisons are relative
(1e-12 for outputs, 1e-9 for gradients) with an absolute floor of 1e-15 for numbers that
come out near zero, where summing in a different order than torch moves the last bits.
"""

import math
import random

import pytest

from engine import Value, vsum
from nn import (
    MLP,
    Identity,
    Linear,
    LogisticRegression,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    losses,
)
from nn.activations import relu, sigmoid, tanh
from tests.torch_oracle import import_torch

TORCH_ACTIVATIONS = {ReLU: "ReLU", Tanh: "Tanh", Sigmoid: "Sigmoid"}  # names in torch.nn


def torch_sequential(model):
    """The equivalent torch.nn.Sequential, loaded from our state dict (keys minus "layers.")."""
    torch = import_torch()
    parts = []
    for module in model.layers:
        if isinstance(module, Linear):
            parts.append(torch.nn.Linear(module.nin, module.nout, bias=module.bias is not None,
                                         dtype=torch.float64))
        else:
            parts.append(getattr(torch.nn, TORCH_ACTIVATIONS[type(module)])())
    seq = torch.nn.Sequential(*parts)
    state = {name.removeprefix("layers."): torch.tensor(numbers, dtype=torch.float64)
             for name, numbers in model.state_dict().items()}
    seq.load_state_dict(state, strict=True)
    return seq


def random_inputs(n, width, seed):
    rng = random.Random(seed)
    return [[rng.uniform(-2, 2) for _ in range(width)] for _ in range(n)]


# ---- Linear ---------------------------------------------------------------------------------


def test_linear_holds_out_by_in_weights_and_out_biases():
    layer = Linear(3, 4, seed=0)
    assert len(layer.weight) == 4 and all(len(row) == 3 for row in layer.weight)
    assert len(layer.bias) == 4
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert layer.num_parameters() == 4 * 3 + 4


def test_linear_init_is_uniform_within_one_over_sqrt_nin_like_pytorch():
    layer = Linear(100, 100, seed=1)
    bound = 1 / math.sqrt(100)
    weights = [v.data for row in layer.weight for v in row]
    assert all(-bound <= w <= bound for w in weights + [b.data for b in layer.bias])
    # 10,000 draws of U(-b, b): the extremes come close to b and the variance is b^2 / 3.
    assert max(weights) > 0.99 * bound and min(weights) < -0.99 * bound
    variance = sum(w * w for w in weights) / len(weights)
    assert variance == pytest.approx(bound**2 / 3, rel=0.05)


@pytest.mark.parametrize(("nin", "nout"), [(400, 9), (9, 400)])
def test_linear_init_bound_comes_from_nin_for_weights_and_biases_alike(nin, nout):
    layer = Linear(nin, nout, seed=2)
    bound = 1 / math.sqrt(nin)
    weights = [v.data for row in layer.weight for v in row]
    biases = [b.data for b in layer.bias]
    for draws in (weights, biases):
        assert all(-bound <= x <= bound for x in draws)
        if len(draws) >= 400:  # enough draws of U(-b, b) to come within 2% of both ends
            assert max(draws) > 0.98 * bound and min(draws) < -0.98 * bound


def test_linear_draws_weights_row_by_row_then_biases_from_its_seed():
    layer = Linear(3, 2, seed=11)
    rng, bound = random.Random(11), 1 / math.sqrt(3)
    expected_weights = [[rng.uniform(-bound, bound) for _ in range(3)] for _ in range(2)]
    expected_biases = [rng.uniform(-bound, bound) for _ in range(2)]
    assert [[w.data for w in row] for row in layer.weight] == expected_weights
    assert [b.data for b in layer.bias] == expected_biases


def test_linear_seed_gives_the_same_layer_and_leaves_the_global_random_alone():
    state = random.getstate()
    a, b, c = Linear(5, 3, seed=7), Linear(5, 3, seed=7), Linear(5, 3, seed=8)
    assert random.getstate() == state
    assert a.state_dict() == b.state_dict()
    assert a.state_dict() != c.state_dict()


def test_linear_computes_x_w_transposed_plus_b_like_torch(torch):
    layer = Linear(3, 2, seed=3)
    x = [0.5, -1.5, 2.0]
    out = layer(x)
    expected = [sum(w.data * xi for w, xi in zip(row, x)) + b.data
                for row, b in zip(layer.weight, layer.bias)]
    assert [y.data for y in out] == pytest.approx(expected, rel=1e-15, abs=0)
    weight = torch.tensor(layer.state_dict()["weight"], dtype=torch.float64)
    bias = torch.tensor(layer.state_dict()["bias"], dtype=torch.float64)
    reference = torch.nn.functional.linear(torch.tensor(x, dtype=torch.float64), weight, bias)
    assert [y.data for y in out] == pytest.approx(reference.tolist(), rel=1e-12, abs=1e-15)


def test_linear_keeps_plain_number_inputs_as_constants():
    layer = Linear(2, 1, seed=0)
    (y,) = layer([1.0, 2.0])
    # parents are the weights and the bias only: a data point gets no node and no gradient
    assert set(y.parents) == {*layer.weight[0], layer.bias[0]}
    xs = [Value(1.0), Value(2.0)]
    (y,) = layer(xs)
    y.backward()
    assert [x.grad for x in xs] == [w.data for w in layer.weight[0]]


def test_linear_without_bias_has_only_a_weight():
    layer = Linear(2, 2, bias=False, seed=0)
    assert list(layer.state_dict()) == ["weight"]
    out = layer([1.0, -1.0])
    assert [y.data for y in out] == [row[0].data - row[1].data for row in layer.weight]
    assert repr(layer) == "Linear(in_features=2, out_features=2, bias=False)"


def test_linear_rejects_an_input_of_the_wrong_width_naming_both_widths():
    layer = Linear(2, 16, seed=0)
    with pytest.raises(ValueError, match="width 2, got width 3"):
        layer([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="takes a list of 2"):
        layer(Value(1.0))


@pytest.mark.parametrize("args", [(0, 3), (3, 0), (-1, 2)])
def test_linear_rejects_widths_below_one(args):
    with pytest.raises(ValueError, match="at least 1"):
        Linear(*args)


def test_linear_rejects_widths_that_are_not_ints():
    with pytest.raises(TypeError, match="nin must be an int, got float"):
        Linear(2.0, 3)


# ---- activations ------------------------------------------------------------------------------


def test_activation_functions_apply_the_engine_ops():
    x = Value(-0.5)
    assert relu(x).data == 0.0 and relu(2).data == 2.0
    assert tanh(x).data == math.tanh(-0.5)
    assert sigmoid(x).data == 1 / (1 + math.exp(0.5))
    with pytest.raises(TypeError, match="relu\\(\\) takes a Value or a number, not str"):
        relu("1")


def test_activation_modules_map_over_a_list_or_take_one_value():
    xs = [Value(-1.0), Value(0.0), Value(3.0)]
    assert [y.data for y in ReLU()(xs)] == [0.0, 0.0, 3.0]
    assert [y.data for y in Tanh()(xs)] == [math.tanh(-1.0), 0.0, math.tanh(3.0)]
    assert Sigmoid()(Value(0.0)).data == 0.5
    assert Identity()(xs) is xs
    assert repr(ReLU()) == "ReLU()"


# ---- Sequential ---------------------------------------------------------------------------------


def test_sequential_chains_modules_with_pytorch_names(torch):
    seq = Sequential(Linear(2, 3, seed=0), ReLU(), Linear(3, 1, seed=1))
    assert len(seq) == 3 and isinstance(seq[1], ReLU)
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    x = [0.3, -0.7]
    assert seq(x)[0].data == seq[2](seq[1](seq[0](x)))[0].data
    # the very same keys load into a torch Sequential, which then computes the same output
    torch_seq = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    torch_seq.double().load_state_dict(
        {k: torch.tensor(v, dtype=torch.float64) for k, v in seq.state_dict().items()})
    expected = torch_seq(torch.tensor(x, dtype=torch.float64)).item()
    assert math.isclose(seq(x)[0].data, expected, rel_tol=1e-12)


def test_sequential_takes_modules_only():
    with pytest.raises(TypeError, match="argument 1 is a function"):
        Sequential(ReLU(), relu)


def test_sequential_repr_shows_each_child():
    seq = Sequential(Linear(2, 3, seed=0), Tanh())
    assert repr(seq) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): Tanh()\n"
        ")"
    )


# ---- MLP ---------------------------------------------------------------------------------------


def test_mlp_has_micrograds_signature_and_shows_its_structure():
    model = MLP(2, [16, 16, 1])
    assert repr(model) == "MLP(2 -> 16 -> 16 -> 1, relu)"
    assert model.num_parameters() == (2 * 16 + 16) + (16 * 16 + 16) + (16 * 1 + 1)
    assert repr(MLP(3, [4, 2], activation="tanh", output_activation="sigmoid")) == (
        "MLP(3 -> 4 -> 2, tanh, output=sigmoid)"
    )


def test_mlp_names_parameters_like_a_torch_sequential_in_an_attribute_layers(torch):
    model = MLP(2, [16, 16, 1], seed=0)
    assert [name for name, _ in model.named_parameters()] == [
        "layers.0.weight", "layers.0.bias",
        "layers.2.weight", "layers.2.bias",
        "layers.4.weight", "layers.4.bias",
    ]

    class TorchMLP(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = torch.nn.Sequential(
                torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
                torch.nn.ReLU(), torch.nn.Linear(16, 1))

    reference = TorchMLP().double()
    torch_state = {k: torch.tensor(v, dtype=torch.float64) for k, v in model.state_dict().items()}
    reference.load_state_dict(torch_state, strict=True)  # same keys, same shapes: no mapping
    for x in random_inputs(5, 2, seed=1):
        expected = reference.layers(torch.tensor(x, dtype=torch.float64)).item()
        assert math.isclose(model(x).data, expected, rel_tol=1e-12)


def test_torch_weights_load_into_our_mlp_and_give_the_same_outputs(torch):
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(),
                                    torch.nn.Linear(5, 2)).double()
    model = MLP(3, [5, 2], activation="tanh")
    model.load_state_dict({f"layers.{k}": v.tolist() for k, v in reference.state_dict().items()})
    for x in random_inputs(5, 3, seed=2):
        expected = reference(torch.tensor(x, dtype=torch.float64)).tolist()
        assert [y.data for y in model(x)] == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("nouts", [[16, 16, 1], [16, 1, 1], [1], [4, 1, 3], [3, 5]])
def test_mlp_outputs_and_every_parameter_gradient_match_torch(activation, nouts, torch):
    model = MLP(2, nouts, activation=activation, seed=sum(nouts))
    reference = torch_sequential(model)
    inputs = random_inputs(8, 2, seed=len(nouts))
    outputs = [model(x) for x in inputs]
    rows = [[y] if isinstance(y, Value) else y for y in outputs]
    # a loss that weighs every output differently, so that each one's gradient is checked
    weights = [[math.sin(i + 3 * j) for j in range(nouts[-1])] for i in range(len(inputs))]
    loss = sum(w * y for row, ws in zip(rows, weights) for y, w in zip(row, ws))
    loss.backward()

    torch_out = reference(torch.tensor(inputs, dtype=torch.float64))
    torch_loss = (torch_out * torch.tensor(weights, dtype=torch.float64)).sum()
    torch_loss.backward()

    ours = [y.data for row in rows for y in row]
    assert ours == pytest.approx(torch_out.flatten().tolist(), rel=1e-9, abs=1e-15)
    assert math.isclose(loss.data, torch_loss.item(), rel_tol=1e-9, abs_tol=1e-12)
    torch_grads = {f"layers.{name}": p.grad for name, p in reference.named_parameters()}
    for name, tensor in model.named_parameters():
        flat = [v for row in tensor for v in row] if isinstance(tensor[0], list) else tensor
        expected = torch_grads[name].flatten().tolist()
        assert [v.grad for v in flat] == pytest.approx(expected, rel=1e-9, abs=1e-15), name


def test_mlp_returns_one_value_for_width_one_and_a_list_otherwise():
    assert isinstance(MLP(2, [3, 1], seed=0)([1.0, 2.0]), Value)
    out = MLP(2, [3, 2], seed=0)([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 2


def test_mlp_with_a_hidden_layer_of_width_one_works():
    # micrograd's MLP(2, [16, 1, 1]) crashes: its width-1 layer returns a Value, not a list
    model = MLP(2, [16, 1, 1], activation="tanh", seed=0)
    y = model([0.5, -1.0])
    y.backward()
    assert all(math.isfinite(p.grad) for p in model.parameters())
    assert any(p.grad != 0 for p in model.layers[0].parameters())


def test_mlp_fused_forward_equals_the_layers_one_op_at_a_time():
    model = MLP(3, [4, 4, 2], activation="sigmoid", output_activation="tanh", seed=5)
    x = [Value(0.2), Value(-1.1), Value(0.7)]
    fused = model(x)
    vsum_fused = fused[0] * 2 + fused[1]
    vsum_fused.backward()
    fused_grads = [p.grad for p in model.parameters()] + [xi.grad for xi in x]
    model.zero_grad()
    for xi in x:
        xi.zero_grad()
    separate = model.layers(x)  # Linear nodes, then an activation node per neuron
    (separate[0] * 2 + separate[1]).backward()
    assert [y.data for y in separate] == [y.data for y in fused]
    separate_grads = [p.grad for p in model.parameters()] + [xi.grad for xi in x]
    assert separate_grads == pytest.approx(fused_grads, rel=1e-15, abs=1e-300)


def test_mlp_seed_gives_the_same_model_with_distinct_layers():
    a, b = MLP(2, [3, 3, 1], seed=42), MLP(2, [3, 3, 1], seed=42)
    assert a.state_dict() == b.state_dict()
    assert a.state_dict() != MLP(2, [3, 3, 1], seed=43).state_dict()
    # each layer draws from its own seed: the 3x3 hidden weights are not the first layer's
    first = a.state_dict()["layers.0.weight"]
    second = a.state_dict()["layers.2.weight"]
    assert first[0][:2] != second[0][:2]


def test_mlp_without_a_seed_differs_between_models():
    assert MLP(2, [4, 1]).state_dict() != MLP(2, [4, 1]).state_dict()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"nouts": []}, ValueError, "non-empty list"),
        ({"nouts": [4, 0]}, ValueError, "nouts\\[1\\] must be at least 1"),
        ({"nouts": "16"}, ValueError, "non-empty list"),
        ({"nouts": [4], "activation": "swish"}, ValueError, "activation must be one of"),
        ({"nouts": [4], "output_activation": "softmax"}, ValueError, "output_activation"),
        ({"nouts": [4], "activation": ["relu"]}, ValueError, "got \\['relu'\\]"),
        ({"nouts": [4], "activation": None}, ValueError, "activation must be one of"),
        ({"nouts": [4.0]}, TypeError, "nouts\\[0\\] must be an int"),
    ],
)
def test_mlp_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        MLP(2, **kwargs)


def test_mlp_input_of_the_wrong_width_is_an_error():
    with pytest.raises(ValueError, match="width 2, got width 1"):
        MLP(2, [3, 1], seed=0)([1.0])


# ---- LogisticRegression ---------------------------------------------------------------------


def test_logistic_regression_gradient_is_the_closed_form():
    """For p_i = sigmoid(w . x_i + b) and L = mean binary cross-entropy, calculus gives

        dL/dw = X^T (p - y) / N,        dL/db = sum_i (p_i - y_i) / N,

    because d/dz [-(y log s(z) + (1 - y) log(1 - s(z)))] = s(z) - y. Autograd must agree.
    """
    model = LogisticRegression(3, seed=4)
    rng = random.Random(0)
    xs = [[rng.gauss(0, 1) for _ in range(3)] for _ in range(20)]
    ys = [rng.choice([0.0, 1.0]) for _ in xs]
    loss = losses.binary_cross_entropy([model(x) for x in xs], ys)
    loss.backward()

    w = [v.data for v in model.linear.weight[0]]
    b = model.linear.bias[0].data
    p = [1 / (1 + math.exp(-(sum(wj * xj for wj, xj in zip(w, x)) + b))) for x in xs]
    n = len(xs)
    grad_w = [sum(x[j] * (pi - yi) for x, pi, yi in zip(xs, p, ys)) / n for j in range(3)]
    grad_b = sum(pi - yi for pi, yi in zip(p, ys)) / n
    assert [v.grad for v in model.linear.weight[0]] == pytest.approx(grad_w, rel=1e-12, abs=0)
    assert model.linear.bias[0].grad == pytest.approx(grad_b, rel=1e-12, abs=0)


def test_logistic_regression_outputs_a_probability():
    model = LogisticRegression(2, seed=0)
    p = model([100.0, -100.0])
    assert 0.0 <= p.data <= 1.0 and p.op == "sigmoid"
    assert repr(model) == "LogisticRegression(2 -> 1, sigmoid)"
    assert list(model.state_dict()) == ["linear.weight", "linear.bias"]


def test_a_batch_call_builds_the_same_numbers_and_gradients_as_one_call_per_input():
    X = [[0.5, -1.0], [2.0, 0.25], [-0.75, 0.5]]
    for nouts in ([4, 1], [4, 3]):
        model = MLP(2, nouts, activation="tanh", seed=3)
        single = [model(x) for x in X]
        batched = model(X)
        flat = (lambda outs: outs) if nouts[-1] == 1 else (lambda outs: [v for o in outs for v in o])
        assert [v.data for v in flat(batched)] == [v.data for v in flat(single)]
        grads = []
        for outputs in (single, batched):
            model.zero_grad()
            vsum(flat(outputs)).backward()
            grads.append([p.grad for p in model.parameters()])
        assert grads[0] == grads[1]
    with pytest.raises(ValueError, match="width 2, got width 3 \\(batch row 1\\)"):
        MLP(2, [1], seed=0)([[1.0, 2.0], [1.0, 2.0, 3.0]])


def test_mlp_computes_what_its_layers_hold_after_a_change():
    model = MLP(2, [16, 16, 1], seed=0)
    x = [0.5, -1.0]
    model.layers.modules[4] = Linear(16, 1, seed=9)
    replaced = Sequential(*model.layers.modules[:4])
    expected = Linear.forward(model.layers.modules[4], replaced(x))[0].data
    assert model(x).data == expected
    assert model(x).data == model.layers(x)[0].data
    model.layers.modules.append(Sigmoid())
    assert model(x).data == sigmoid(expected).data
    assert [out.data for out in model([x, x])] == [sigmoid(expected).data] * 2
