"""Module: what every layer and model gets from the base class.

Parameters and their names, zero_grad, calling, state dicts in and out (with every check a
file's contents go through), and the repr.
"""

import math

import pytest

from engine import Value
from nn import MLP, Linear, Module, ReLU, Sequential


class Scaler(Module):
    """A model written by a user: y = a * x + offset, with a child layer before it."""

    parameter_names = ("a", "offset")

    def __init__(self):
        self.a = Value(2.0)
        self.offset = [Value(0.5), Value(-0.5)]
        self.inner = Linear(2, 2, seed=0)

    def forward(self, x):
        return [self.a * y + c for y, c in zip(self.inner(x), self.offset)]


# ---- parameters and names -----------------------------------------------------------------------


def test_named_parameters_put_own_parameters_first_then_children_with_dotted_names():
    model = Scaler()
    named = model.named_parameters()
    assert [name for name, _ in named] == ["a", "offset", "inner.weight", "inner.bias"]
    assert named[0][1] is model.a and named[2][1] is model.inner.weight


def test_parameters_are_flat_in_the_same_stable_order():
    model = Scaler()
    expected = [model.a, *model.offset, *model.inner.weight[0], *model.inner.weight[1],
                *model.inner.bias]
    assert model.parameters() == expected
    assert model.parameters() == model.parameters()  # the same order every time
    assert model.num_parameters() == 1 + 2 + 4 + 2


def test_a_value_shared_by_two_places_is_one_parameter():
    model = Scaler()
    model.offset = [model.a, Value(1.0)]
    assert model.parameters().count(model.a) == 1


def test_zero_grad_resets_every_parameter():
    model = MLP(2, [4, 1], seed=0)
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_calling_a_module_runs_forward():
    model = Scaler()
    x = [1.0, -1.0]
    assert [y.data for y in model(x)] == [y.data for y in model.forward(x)]


def test_a_module_without_forward_says_so():
    with pytest.raises(NotImplementedError, match="Module does not define forward"):
        Module()(1.0)


def test_a_malformed_parameter_is_a_type_error_naming_it():
    model = Scaler()
    model.offset = [Value(1.0), 2.0]
    with pytest.raises(TypeError, match="parameter offset must be a Value, a list of Values"):
        model.parameters()
    with pytest.raises(TypeError, match="parameter offset must be a Value, a list of Values"):
        model.zero_grad()  # which walks the tensors unchecked, at every step
    model.offset = [[Value(1.0)], [Value(1.0), Value(2.0)]]  # ragged rows
    with pytest.raises(TypeError, match="parameter offset"):
        model.parameters()


def test_a_disabled_parameter_set_to_none_is_skipped():
    model = Scaler()
    model.offset = None
    assert [name for name, _ in model.named_parameters()] == ["a", "inner.weight", "inner.bias"]


# ---- state dicts ---------------------------------------------------------------------------------


def test_state_dict_holds_floats_in_the_shape_of_each_tensor():
    model = Scaler()
    state = model.state_dict()
    assert state["a"] == 2.0
    assert state["offset"] == [0.5, -0.5]
    assert state["inner.weight"] == [[v.data for v in row] for row in model.inner.weight]
    assert list(state) == ["a", "offset", "inner.weight", "inner.bias"]


def test_state_dict_is_a_copy_that_training_does_not_change():
    model = MLP(2, [3, 1], seed=0)
    state = model.state_dict()
    before = state["layers.0.bias"][0]
    model.layers[0].bias[0].data += 1.0
    assert state["layers.0.bias"][0] == before


def test_load_state_dict_copies_numbers_into_the_same_value_objects():
    source, target = MLP(2, [3, 1], seed=1), MLP(2, [3, 1], seed=2)
    params = target.parameters()
    result = target.load_state_dict(source.state_dict())
    assert target.state_dict() == source.state_dict()
    assert all(a is b for a, b in zip(target.parameters(), params))  # an optimizer keeps them
    assert result.missing_keys == [] and result.unexpected_keys == []


def test_load_state_dict_reports_missing_and_unexpected_names():
    model = MLP(2, [3, 1], seed=0)
    state = model.state_dict()
    state["layers.9.weight"] = state.pop("layers.2.weight")
    with pytest.raises(ValueError, match="missing layers.2.weight; unexpected layers.9.weight"):
        model.load_state_dict(state)


def test_load_state_dict_not_strict_loads_what_matches_and_returns_the_rest():
    model, source = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=5)
    state = source.state_dict()
    del state["layers.2.bias"]
    state["extra"] = [1.0]
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["layers.2.bias"] and result.unexpected_keys == ["extra"]
    assert model.state_dict()["layers.0.weight"] == source.state_dict()["layers.0.weight"]
    assert model.state_dict()["layers.2.bias"] != source.state_dict()["layers.2.bias"]


def mutate(state, name, value):
    changed = dict(state)
    changed[name] = value
    return changed


def wrong_width_rows(state):
    return mutate(state, "layers.2.weight", [row[:-1] for row in state["layers.2.weight"]])


def with_entry(name, index, value):
    def change(state):
        tensor = [list(row) if isinstance(row, list) else row for row in state[name]]
        if isinstance(index, tuple):
            tensor[index[0]][index[1]] = value
        else:
            tensor[index] = value
        return mutate(state, name, tensor)
    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (wrong_width_rows, "layers.2.weight: expected 16x16, found 16x15"),
        (lambda s: mutate(s, "layers.0.bias", s["layers.0.bias"][:15]),
         "layers.0.bias: expected a list of 16, found a list of 15"),
        (lambda s: mutate(s, "layers.0.bias", s["layers.0.weight"]),
         "layers.0.bias: expected a list of 16, found 16x2"),
        (lambda s: mutate(s, "layers.0.weight", s["layers.0.bias"]),
         "layers.0.weight: expected 16x2, found a list of 16"),
        (lambda s: mutate(s, "layers.0.weight", [[0.0, 1.0]] * 15 + [[0.0]]),
         "layers.0.weight: expected 16x2, found 16 rows of unequal lengths \\[1, 2\\]"),
        (lambda s: mutate(s, "layers.4.bias", 0.5), "layers.4.bias: expected a list of 1, found a number"),
        (lambda s: mutate(s, "layers.4.bias", "0.5"), "expected a list of 1, found str '0.5'"),
        (with_entry("layers.2.weight", (3, 1), math.nan),
         "layers.2.weight\\[3\\]\\[1\\]: expected a finite number, found nan"),
        (with_entry("layers.0.bias", 2, math.inf), "layers.0.bias\\[2\\]: expected a finite number, found inf"),
        (with_entry("layers.0.bias", 0, True), "layers.0.bias\\[0\\]: expected a finite number, found True"),
        (with_entry("layers.0.bias", 5, None), "layers.0.bias\\[5\\]: expected a finite number, found None"),
        (with_entry("layers.0.bias", 1, "1.0"), "layers.0.bias\\[1\\]: expected a finite number, found '1.0'"),
    ],
)
def test_load_state_dict_names_the_first_thing_that_does_not_fit(change, message):
    model = MLP(2, [16, 16, 1], seed=0)
    before = model.state_dict()
    good = MLP(2, [16, 16, 1], seed=1).state_dict()
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(change(good))
    assert model.state_dict() == before  # nothing was changed: all checks come first


def test_load_state_dict_accepts_ints_and_needs_a_mapping():
    model = Linear(2, 1, seed=0)
    model.load_state_dict({"weight": [[1, 2]], "bias": [0]})
    assert model([1.0, 1.0])[0].data == 3.0
    with pytest.raises(ValueError, match="must map names to numbers, not a list"):
        model.load_state_dict([1, 2])


# ---- repr ----------------------------------------------------------------------------------------


def test_repr_shows_nested_structure_like_pytorch():
    assert repr(Scaler()) == (
        "Scaler(\n"
        "  (inner): Linear(in_features=2, out_features=2, bias=True)\n"
        ")"
    )
    nested = Sequential(Sequential(Linear(1, 2, seed=0), ReLU()), Linear(2, 1, seed=0))
    assert repr(nested) == (
        "Sequential(\n"
        "  (0): Sequential(\n"
        "    (0): Linear(in_features=1, out_features=2, bias=True)\n"
        "    (1): ReLU()\n"
        "  )\n"
        "  (1): Linear(in_features=2, out_features=1, bias=True)\n"
        ")"
    )
    assert [name for name, _ in nested.named_parameters()] == [
        "0.0.weight", "0.0.bias", "1.weight", "1.bias"]


def test_train_and_eval_reach_every_module_inside_as_in_pytorch():
    from nn import Dropout, Sequential

    inner = Dropout(0.5, seed=0)
    model = Sequential(Linear(2, 2, seed=0), Sequential(inner))
    assert model.training and inner.training  # a new module trains, as in PyTorch
    assert model.eval() is model
    assert not model.training and not inner.training
    assert inner([1.0, 2.0]) == [1.0, 2.0]  # evaluation: dropout is the identity
    model.train()
    assert inner.training and model.modules[0].training
    with pytest.raises(TypeError, match="bool"):
        model.train("no")
