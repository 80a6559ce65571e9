"""The Value node itself: what it accepts, how it prints, what it exposes, and the two modes
(no_grad, detect_anomaly) that change what ops do."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from engine import (
    Value,
    define_op,
    detect_anomaly,
    dot,
    enable_grad,
    is_grad_enabled,
    linear,
    no_grad,
    reference_backward,
    vsum,
)
from engine.mode import is_anomaly_enabled
from engine.op import _CONSTANTS, _INPUTS, _NUMBERS, Kind, Op

# ---- construction ------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "expected"), [(3, 3.0), (True, 1.0), (False, 0.0),
                                                 (-2.5, -2.5), (Fraction(1, 4), 0.25)])
def test_real_numbers_become_floats(given, expected):
    x = Value(given)
    assert type(x.data) is float and x.data == expected
    assert type(x.grad) is float and x.grad == 0.0


@pytest.mark.parametrize(
    ("given", "type_name"),
    [("2.0", "str"), (None, "NoneType"), ([1.0], "list"), (1 + 2j, "complex"),
     (Value(1.0), "Value")],
)
def test_anything_else_is_a_type_error_naming_its_type(given, type_name):
    with pytest.raises(TypeError, match=rf"\bnot {type_name}\b"):
        Value(given)


def test_label_must_be_a_string():
    assert Value(1.0, label="w1").label == "w1"
    with pytest.raises(TypeError, match="label.*int"):
        Value(1.0, label=3)


def test_labelling_a_node_changes_nothing_else_about_it():
    x, y = Value(2.0), Value(-3.0)
    h = x * y
    z = (h + x).tanh()
    h.label, z.label, x.label = "h", "z", "x"
    assert (h.label, z.label, x.label, y.label) == ("h", "z", "x", "")
    assert (h.op, h.parents, h.is_leaf, x.is_leaf, x.op) == ("*", (x, y), False, True, "")
    z.backward()
    x2, y2 = Value(2.0), Value(-3.0)
    ((x2 * y2 + x2).tanh()).backward()
    assert (x.grad, y.grad) == (x2.grad, y2.grad)  # the same floats, labels or not
    h.label = ""
    assert h.label == "" and h.op == "*"
    with pytest.raises(TypeError, match="label.*NoneType"):
        h.label = None


def test_repr_shows_data_grad_and_label():
    assert repr(Value(2.0, label="a")) == "Value(data=2.0, grad=0.0, label='a')"
    assert repr(Value(-0.5)) == "Value(data=-0.5, grad=0.0)"


# ---- operators with things that are not numbers -------------------------------------------


@pytest.mark.parametrize("other", ["1", None, [1.0], 1j, object()],
                         ids=["str", "None", "list", "complex", "object"])
def test_ops_with_a_non_number_raise_pythons_type_error(other):
    x = Value(1.0)
    for op in (lambda: x + other, lambda: other + x, lambda: x - other, lambda: other - x,
               lambda: x * other, lambda: other * x, lambda: x / other, lambda: other / x,
               lambda: x ** other, lambda: other ** x):
        with pytest.raises(TypeError):
            op()


def test_binary_ops_return_not_implemented_so_python_can_try_the_other_side():
    x = Value(1.0)
    for method in (x.__add__, x.__radd__, x.__sub__, x.__rsub__, x.__mul__, x.__rmul__,
                   x.__truediv__, x.__rtruediv__, x.__pow__, x.__rpow__):
        assert method("1") is NotImplemented


# ---- what a node exposes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "op"),
    [
        (lambda x, y: x + y, "+"), (lambda x, y: x - y, "-"), (lambda x, y: x * y, "*"),
        (lambda x, y: x / y, "/"), (lambda x, y: x ** y, "**"), (lambda x, y: -x, "neg"),
        (lambda x, y: x.exp(), "exp"), (lambda x, y: x.log(), "log"),
        (lambda x, y: x.tanh(), "tanh"), (lambda x, y: x.sigmoid(), "sigmoid"),
        (lambda x, y: x.relu(), "relu"), (lambda x, y: abs(x), "abs"),
        (lambda x, y: x.sqrt(), "sqrt"), (lambda x, y: vsum([x, y]), "sum"),
        (lambda x, y: dot([x], [y]), "dot"), (lambda x, y: x, ""),
    ],
)
def test_op_names(build, op):
    assert build(Value(2.0), Value(3.0)).op == op


def test_parents_are_ordered_and_constants_are_folded():
    x, y = Value(2.0), Value(3.0)
    assert (y - x).parents == (y, x)
    assert (x * x).parents == (x, x)
    assert (x * 3).parents == (x,) and (x * 3).constant == (3.0,)
    assert (3 - x).parents == (x,) and (3 - x).constant == (3.0,)
    assert (x * y).constant == () and x.exp().constant == ()
    assert x.parents == () and x.is_leaf and not (x + y).is_leaf


@pytest.mark.parametrize("name", ["op", "parents", "constant", "is_leaf"])
def test_graph_properties_are_read_only(name):
    node = Value(2.0) * Value(3.0)
    with pytest.raises(AttributeError):
        setattr(node, name, None)


def test_detach_gives_a_leaf_with_the_same_data_and_label():
    x = Value(3.0, label="x")
    y = (x * 2).detach()
    assert (y.data, y.is_leaf, y.parents) == (6.0, True, ())
    z = x.detach() * x  # gradient flows through the second factor only
    z.backward()
    assert x.grad == 3.0
    assert x.detach().label == "x"


# ---- every kind of node (op.Kind), handled everywhere ---------------------------------------

square_plus = define_op("square_plus", lambda x, c: x * x + c, lambda x, c, out: (2 * x, 1.0))


def node_of_each_kind() -> dict[Kind, tuple[Value, tuple[float, ...]]]:
    """A node of every kind, each with the ``.constant`` it must report."""
    x, w, b = Value(1.5), Value(-0.5), Value(0.25)
    return {
        Kind.LEAF: (x, ()),
        Kind.UNARY: (x * 3, (3.0,)),
        Kind.BINARY: (x * w, ()),
        Kind.NARY: (square_plus(x, 2.0), (2.0,)),
        Kind.NEURON: (linear([[w]], [b], [x], "tanh")[0], ()),
        Kind.CONSTANT: (linear([[w]], [b], [x], "relu")[0], ()),  # an off ReLU
    }


def test_each_dispatch_table_handles_every_kind():
    assert set(_INPUTS) == set(_CONSTANTS) == set(Kind)
    assert set(_NUMBERS) == set(Kind) - {Kind.LEAF, Kind.CONSTANT}  # the rest have no rule to call


@pytest.mark.parametrize("kind", list(Kind), ids=lambda k: k.value)
def test_a_node_of_each_kind_reports_its_kind_constant_and_gradient(kind):
    node, constant = node_of_each_kind()[kind]
    assert node._op.kind is kind and Op("name", kind.value, lambda g, out, a, b: ()).kind is kind
    assert node.constant == constant and node.is_leaf == (kind is Kind.LEAF)
    y = node * node  # backward and the reference, two independent walks, agree on it
    y.backward()
    fast = [p.grad for p in (node, *node.parents)]
    for p in (node, *node.parents):
        p.grad = 0.0
    reference_backward(y)
    assert [p.grad for p in (node, *node.parents)] == fast


def test_vsum_neuron_and_own_op_constants_are_tuples_of_their_numbers():
    x = Value(2.0)
    assert vsum([x, 2, 0.5]).constant == (2.0, 0.5) and vsum([x, x]).constant == ()
    assert linear([[x, x]], [x], [0.5, 3])[0].constant == (0.5, 3.0)  # the data point
    assert square_plus(1.0, x).constant == (1.0,) and square_plus(x, x).constant == ()
    assert x.clamp(max=1.0).constant == (1.0,) and x.softplus().constant == (1.0, 20.0)


def test_float_of_a_value_is_its_data():
    assert float(Value(2.5) * 2) == 5.0


# ---- no_grad -----------------------------------------------------------------------------


def test_no_grad_results_have_no_parents_and_get_no_gradient():
    x = Value(2.0)
    with no_grad():
        y = x * 3 + 1
    assert y.data == 7.0 and y.parents == () and y.is_leaf
    y.backward()
    assert x.grad == 0.0


def test_no_grad_nests_and_restores_the_previous_mode():
    assert is_grad_enabled()
    with no_grad():
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
        with enable_grad():
            assert is_grad_enabled()
            assert (Value(1.0) * 2).parents != ()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(KeyError), no_grad():
        raise KeyError("boom")
    assert is_grad_enabled()


def test_no_grad_as_a_decorator():
    @no_grad()
    def predict(x):
        return x * 2

    out = predict(Value(4.0))
    assert out.data == 8.0 and out.is_leaf
    assert is_grad_enabled()


# ---- detect_anomaly ----------------------------------------------------------------------


def test_outside_detect_anomaly_nan_and_inf_pass_silently():
    assert Value(0.0).log().data == -math.inf
    assert math.isnan((Value(0.0) / Value(0.0)).data)


def test_detect_anomaly_names_the_op_and_its_labelled_inputs():
    p = Value(0.0, label="p")
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"'log'.*'p'=0\.0"):
        p.log()
    a, b = Value(1.0, label="a"), Value(0.0, label="b")
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"'/'.*'a'=1\.0.*'b'=0\.0"):
        a / b
    assert not is_anomaly_enabled()


def test_detect_anomaly_catches_the_first_bad_step_of_backward():
    # sqrt(0) = 0 is fine forward; its slope 1 / (2 sqrt(0)) is inf
    x = Value(0.0, label="x")
    y = x.sqrt()
    y.label = "root"
    out = y * 3
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"'sqrt'.*'root'.*x=0\.0"):
        out.backward()
    out.backward()  # outside: the IEEE answer
    assert x.grad == math.inf


def test_detect_anomaly_lets_finite_work_through():
    with detect_anomaly():
        y = (Value(0.5).exp() * Value(2.0)).tanh()
        y.backward()
    assert math.isfinite(y.data)


def test_detect_anomaly_as_a_decorator():
    @detect_anomaly()
    def risky(x):
        return x.log()

    with pytest.raises(FloatingPointError, match="log"):
        risky(Value(-1.0))
    assert math.isnan(Value(-1.0).log().data)


# ---- numbers too large for a float, and seeds that are not numbers ------------------------

HUGE = 10 ** 400  # an int no float can hold

_cube = define_op("cube", lambda x: x ** 3, lambda x, out: 3 * x * x)

TAKES_A_NUMBER = {
    "Value(n)": lambda x: Value(HUGE),
    "Value(Fraction)": lambda x: Value(Fraction(HUGE, 3)),
    "x + n": lambda x: x + HUGE, "n + x": lambda x: HUGE + x,
    "x - n": lambda x: x - HUGE, "n - x": lambda x: HUGE - x,
    "x * n": lambda x: x * HUGE, "n * x": lambda x: HUGE * x,
    "x / n": lambda x: x / HUGE, "n / x": lambda x: HUGE / x,
    "x ** n": lambda x: x ** HUGE, "n ** x": lambda x: HUGE ** x,
    "vsum": lambda x: vsum([x, HUGE]),
    "dot": lambda x: dot([x], [HUGE]),
    "linear, a mixed input": lambda x: linear([[x, x]], [x], [x, HUGE]),
    "clamp": lambda x: x.clamp(min=HUGE),
    "leaky_relu": lambda x: x.leaky_relu(HUGE),
    "elu": lambda x: x.elu(HUGE),
    "softplus": lambda x: x.softplus(beta=HUGE),
    "define_op": lambda x: _cube(HUGE),
    "backward(grad=n)": lambda x: (x * 2).backward(HUGE),
}


@pytest.mark.parametrize("name", sorted(TAKES_A_NUMBER))
def test_an_int_too_large_for_a_float_is_a_value_error_naming_its_size(name):
    with pytest.raises(ValueError, match="too large for a float") as caught:
        TAKES_A_NUMBER[name](Value(2.0))
    assert len(str(caught.value)) < 200  # the number itself is not echoed


@pytest.mark.parametrize("seed", ["1.5", b"2", None, [1.0], 1j])
def test_backward_refuses_a_seed_that_is_not_a_real_number(seed):
    x = Value(2.0)
    with pytest.raises(TypeError, match="backward"):
        (x * 3).backward(seed)
    assert x.grad == 0.0
