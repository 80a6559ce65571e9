"""Drawing a real model: ``params=dict(model.named_parameters())`` names every parameter node
after PyTorch (``w[1,0]`` inside a box ``layers.0``) and every fused neuron after its
weights (``layers.0 neuron 1``), in every picture and in the backward steps' captions."""

import re

import pytest

from engine import Value, linear
from nn import MLP
from tests.viz_reading import label_of, nodes, visible
from viz import backward_steps, by_label_prefix, draw_backward, draw_forward


def small_mlp(seed=1):
    """MLP(2 -> 3 -> 1) and the squared error of one point; with seed 1 every ReLU is on."""
    model = MLP(2, [3, 1], seed=seed)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    return loss, model


def boxes(graph):
    """{box label: [the headers of the nodes drawn in it]} from the DOT source."""
    found = {}
    for body in re.findall(r"subgraph cluster_\d+ \{\n(.*?)\n\t\}", graph.source, re.DOTALL):
        box = re.search(r"label=<([^>]*)>", body).group(1)
        found[box] = [visible(attrs).split(" data")[0]
                      for name, attrs in re.findall(r"^\t\t(v\d+) \[(.*)\]$", body, re.MULTILINE)]
    return found


def test_named_parameters_name_each_weight_in_its_layers_box():
    loss, model = small_mlp()
    graph = draw_backward(loss, params=dict(model.named_parameters()))
    drawn = boxes(graph)
    assert set(drawn) == {"layers.0", "layers.2"}
    assert drawn["layers.0"] == ["w[0,0] v0", "w[0,1] v1", "w[1,0] v2", "w[1,1] v3",
                                 "w[2,0] v4", "w[2,1] v5", "b[0] v6", "b[1] v7", "b[2] v8",
                                 "neuron 0 v13", "neuron 1 v14", "neuron 2 v15"]
    assert drawn["layers.2"] == ["w[0,0] v9", "w[0,1] v10", "w[0,2] v11", "b[0] v12",
                                 "neuron 0 v16"]
    w10 = model.layers[0].weight[1][0]
    assert label_of(graph, "v2").startswith("w[1,0] v2 data ") and w10.grad != 0
    assert f"grad {w10.grad:.4g}" in label_of(graph, "v2")


def test_the_list_of_pairs_and_the_clusters_option_draw_the_same():
    loss, model = small_mlp()
    as_dict = draw_backward(loss, params=dict(model.named_parameters())).source
    assert draw_backward(loss, params=model.named_parameters()).source == as_dict
    assert draw_backward(loss, params=model.named_parameters(),
                         clusters=by_label_prefix).source == as_dict


def test_without_names_parameters_stay_unnamed_and_unboxed():
    loss, model = small_mlp()
    graph = draw_backward(loss, params=model.parameters())
    assert boxes(graph) == {}
    assert label_of(graph, "v2").startswith("v2 data ")
    assert "palegreen" in nodes(graph)["v2"]   # still coloured as a parameter


def test_the_backward_steps_name_the_neuron_by_layer_and_index():
    loss, model = small_mlp()
    frames = backward_steps(loss, params=dict(model.named_parameters()), pin_layout=False)
    step = next(f for f in frames if f.caption.startswith("Step 5 "))
    assert step.caption.startswith("Step 5 of 6: layers.0 neuron 1 (v14) was made by "
                                   "'relu(w·x + b), x = (0.5, -1)'")
    assert "layers.0.weight[1,0] (v2) gets" in step.caption
    assert "layers.0.bias[1] (v7) gets" in step.caption
    assert boxes(step) == boxes(draw_backward(loss, params=dict(model.named_parameters())))


def test_any_mapping_of_names_to_values_or_nested_lists_names_them():
    w = [[Value(0.5), Value(-0.25)], [Value(1.0), Value(2.0)]]
    b = [Value(0.1), Value(0.2)]
    scale = Value(3.0)
    (h0, h1) = linear(w, b, [1.0, -2.0], activation="tanh")
    out = scale * (h0 + h1)
    graph = draw_forward(out, params={"enc.W.weight": w, "enc.W.bias": b, "scale": scale})
    assert boxes(graph) == {"enc.W": ["w[0,0] v0", "w[0,1] v1", "w[1,0] v2", "w[1,1] v3",
                                      "b[0] v4", "b[1] v5", "neuron 0 v7", "neuron 1 v8"]}
    assert label_of(graph, "v6").startswith("scale v6")   # top level: no box, its own name


def test_a_label_wins_over_a_name_and_names_are_full_outside_their_box():
    loss, model = small_mlp()
    model.layers[0].bias[2].label = "my bias"
    params = dict(model.named_parameters())
    graph = draw_backward(loss, params=params, clusters=lambda v: "one box")
    assert boxes(graph)["one box"][:3] == ["layers.0.weight[0,0] v0", "layers.0.weight[0,1] v1",
                                           "layers.0.weight[1,0] v2"]
    assert "my bias v8" in boxes(graph)["one box"]
    assert "layers.0 neuron 1 v14" in boxes(graph)["one box"]


def test_a_neuron_whose_weights_are_not_one_row_gets_no_name():
    w = [Value(0.5), Value(-0.25)]
    (out,) = linear([w], [Value(0.0)], [1.0, 2.0])
    mixed = {"a.weight": [[w[0]]], "b.weight": [[w[1]]]}
    graph = draw_forward(out, params=mixed)
    assert label_of(graph, "v3").startswith("v3 data")
    vector = {"a.weight": w}   # a vector of weights: no row, so no neuron index
    assert label_of(draw_forward(out, params=vector), "v3").startswith("v3 data")


def test_a_shared_value_keeps_its_first_name():
    shared = Value(2.0)
    y = shared * shared
    graph = draw_forward(y, params=[("first.weight", [[shared]]), ("second.weight", shared)])
    assert boxes(graph) == {"first": ["w[0,0] v0"]}


@pytest.mark.parametrize(("params", "message"), [
    ({"layers.0.weight": [[1.0]]}, r"layers\.0\.weight\[0,0\] must be a .* not float \(1\.0\)"),
    ({"w": "abc"}, "parameter w must be a Value or a list of Values, not str"),
    ({3: Value(1.0)}, r"a parameter's name must be a str, not int \(3\)"),
    ([("w", Value(1.0)), Value(2.0)], "mixes Values and"),
    ([1.0], "Values only, not float"),
    ("weight", "collection of Values, not str"),
])
def test_malformed_params_are_a_type_error_naming_what_is_wrong(params, message):
    y = Value(1.0) * 2
    with pytest.raises(TypeError, match=message):
        draw_forward(y, params=params)
