"""define_op: your own op from a float function and its local derivative, working with
everything the built-in ops do (modes, anomalies, the tape, threads, pictures, pickle, and
derivatives of any order)."""

from __future__ import annotations

import math
import pickle
import threading

import pytest

from engine import (
    Value,
    backward_order,
    define_op,
    detect_anomaly,
    grad,
    gradcheck,
    gradgradcheck,
    local_derivatives,
    no_grad,
    reference_backward,
)
from tests.own_ops import cos, hypot, sin
from tests.torch_oracle import import_torch

# ---- the example of the docstring ----------------------------------------------------------


def test_the_example_works():
    y = sin(Value(0.5) * 2)
    assert y.op == "sin" and len(y.parents) == 1
    assert y.data == math.sin(1.0)
    assert sin(0.5) == math.sin(0.5) and type(sin(0.5)) is float


def test_numbers_in_give_the_forwards_float():
    assert hypot(3, 4) == 5.0 and type(hypot(3, 4)) is float
    assert type(sin(1)) is float  # an int in, a float out


def test_the_local_derivative_is_multiplied_by_the_upstream_gradient():
    x = Value(0.5)
    y = sin(x) * 3
    y.backward()
    assert x.grad == 3 * math.cos(0.5)


# ---- arity and mixed inputs --------------------------------------------------------------------


def test_the_arity_comes_from_forward_or_from_derivative_when_forward_takes_args():
    assert sin.arity == 1
    assert hypot.arity == 2  # math.hypot(*coordinates): counted from derivative(x, y, out)
    three = define_op("sum3", lambda a, b, c: a + b + c, lambda a, b, c, out: (1.0, 1.0, 1.0))
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    out = three(a, b, c)
    out.backward()
    assert out.data == 6.0 and (a.grad, b.grad, c.grad) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize("at", [0, 1])
def test_a_number_among_the_inputs_is_a_constant(at):
    x = Value(3.0)
    inputs = [x, 4.0] if at == 0 else [4.0, x]
    out = hypot(*inputs)
    assert out.parents == (x,) and out.data == 5.0
    out.backward()
    assert x.grad == 3.0 / 5.0  # d hypot / d x at x = 3 with the other input 4
    assert local_derivatives(out) == (0.6,)


def test_the_same_value_twice_gets_both_contributions():
    x = Value(3.0)
    out = hypot(x, x)  # sqrt(2) |x|
    out.backward()
    assert out.parents == (x, x)
    assert x.grad == pytest.approx(math.sqrt(2), rel=1e-15)


# ---- bad ops and bad inputs say what is wrong ------------------------------------------------


def test_a_wrong_number_of_inputs_is_a_type_error():
    with pytest.raises(TypeError, match=r"sin\(\) takes 1 input\(s\), got 2"):
        sin(Value(1.0), 2.0)
    with pytest.raises(TypeError, match=r"hypot\(\) takes 2 input\(s\), got 1"):
        hypot(Value(1.0))


def test_an_input_that_is_not_a_number_is_a_type_error():
    with pytest.raises(TypeError, match="input 1 must be a Value or a number, not str"):
        hypot(Value(1.0), "2")


@pytest.mark.parametrize(
    ("name", "forward", "derivative", "match"),
    [
        ("", math.sin, lambda x, out: 1.0, "non-empty str"),
        (3, math.sin, lambda x, out: 1.0, "non-empty str"),
        ("f", 3.0, lambda x, out: 1.0, "forward of 'f' must be callable, not float"),
        ("f", math.sin, None, "derivative of 'f' must be callable, not NoneType"),
        ("f", math.sin, lambda out: 1.0, r"must take the inputs and then out"),
        ("f", lambda x: x, lambda x, y, out: (1.0, 1.0), "forward of 'f' takes 1 input"),
        ("f", math.hypot, lambda *args: 1.0, "must take the inputs and then out"),
    ],
)
def test_a_bad_definition_is_refused_at_once(name, forward, derivative, match):
    with pytest.raises(TypeError, match=match):
        define_op(name, forward, derivative)


def test_a_forward_that_returns_no_number_is_a_type_error():
    named = define_op("named", lambda x: "one", lambda x, out: 1.0)
    with pytest.raises(TypeError, match="the forward of 'named' returned str 'one'"):
        named(Value(1.0))


@pytest.mark.parametrize("backward", ["backward", "grad", "grad_create_graph"])
def test_a_derivative_with_the_wrong_count_or_a_non_number_is_named(backward):
    two = define_op("two", lambda x: x, lambda x, out: (1.0, 2.0))
    word = define_op("word", lambda x: x, lambda x, out: "one")
    for op, error, match in ((two, ValueError, "the derivative of 'two' returned 2 value"),
                             (word, TypeError, "the derivative of 'word' returned str 'one'")):
        x = Value(1.0)
        x.grad = 5.0
        out = op(x) * 2
        with pytest.raises(error, match=match):
            if backward == "backward":
                out.backward()
            else:
                grad(out, [x], create_graph=backward == "grad_create_graph")
        assert x.grad == 5.0  # a backward that raises leaves the leaves as they were


# ---- modes, anomalies, labels ---------------------------------------------------------------


def test_no_grad_gives_a_node_without_a_graph():
    x = Value(0.5)
    with no_grad():
        y = sin(x)
    assert y.parents == () and y.data == math.sin(0.5)


def test_detect_anomaly_names_the_op_and_the_label():
    root = define_op("root", lambda x: math.sqrt(x) if x >= 0 else math.nan,
                     lambda x, out: 0.5 / out if out else math.inf)
    with detect_anomaly():
        with pytest.raises(FloatingPointError, match=r"'root' produced nan from input\(s\) 'q'"):
            root(Value(-1.0, "q"))
        y = root(Value(0.0, "q"))
        y.label = "r"
        with pytest.raises(FloatingPointError, match=r"backward of 'root' \(label 'r'\)"):
            y.backward()


def test_a_defined_op_node_takes_a_label():
    y = sin(Value(0.5, "x"))
    y.label = "sin x"
    assert y.label == "sin x" and y.parents[0].label == "x"


# ---- the chain rule's machinery ---------------------------------------------------------------


def graph(x, y):
    s = sin(x * y)
    return hypot(s, cos(y)) * s + hypot(x, 2.0)


def test_backward_through_the_tape_gives_the_reference_bits():
    a, b = Value(0.3), Value(-1.2)
    graph(a, b).backward()
    c, d = Value(0.3), Value(-1.2)
    reference_backward(graph(c, d))
    assert (a.grad, b.grad) == (c.grad, d.grad)


def test_backward_order_and_local_derivatives_see_the_op():
    x = Value(0.5)
    y = sin(x) * 2
    assert [node.op for node in backward_order(y)] == ["*", "sin"]
    assert local_derivatives(y.parents[0]) == (math.cos(0.5),)


def test_gradcheck_and_gradgradcheck_pass():
    assert gradcheck(graph, [0.3, -1.2]).passed
    assert gradgradcheck(graph, [0.3, -1.2]).passed


def test_threads_give_the_bits_of_a_run_in_turn():
    points = [(0.1 * k, -0.2 * k + 0.5) for k in range(8)]

    def gradients(x, y):
        a, b = Value(x), Value(y)
        for _ in range(20):
            graph(a, b).backward()
        return a.grad, b.grad

    in_turn = [gradients(*p) for p in points]
    results = [None] * len(points)

    def work(k):
        results[k] = gradients(*points[k])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(points))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == in_turn


# ---- pictures and pickle ---------------------------------------------------------------------------


def test_every_picture_names_the_op():
    import viz

    x = Value(0.5, "x")
    y = hypot(sin(x * 2), 3.0)
    y.backward()
    for picture in (viz.draw_forward(y), viz.draw_backward(y)):
        assert "sin" in picture.source and "hypot" in picture.source
    frames = viz.backward_steps(y, pin_layout=False).frames
    assert all("sin" in frame.source for frame in frames)


def test_an_op_of_module_level_functions_pickles_by_reference():
    again = pickle.loads(pickle.dumps(sin))
    assert again.name == "sin" and again.forward is math.sin
    x = Value(0.5)
    again(x).backward()
    assert x.grad == math.cos(0.5)


def test_an_op_made_with_a_lambda_refuses_to_pickle_and_says_why():
    by_lambda = define_op("twice", lambda x: 2 * x, lambda x, out: 2.0)
    with pytest.raises(TypeError, match="cannot pickle op 'twice'.*define it with def at "
                                        "module level"):
        pickle.dumps(by_lambda)


# ---- higher derivatives, against PyTorch ------------------------------------------------------


def derivatives(fn, point, order):
    """d^k fn / d x0^k for k = 1..order, by grad(create_graph=True) again and again."""
    leaves = [Value(x) for x in point]
    out, found = fn(*leaves), []
    for _ in range(order):
        out = grad(out, [leaves[0]], create_graph=True)[0]
        found.append(out.data)
    return found


@pytest.mark.parametrize(
    ("ours", "theirs", "point"),
    [
        (sin, "sin", [0.7]),
        (cos, "cos", [-1.3]),
        (hypot, "hypot", [3.0, -4.0]),
        (lambda x, y: sin(x * y) * cos(x), lambda t, x, y: t.sin(x * y) * t.cos(x), [0.4, 1.5]),
    ],
    ids=["sin", "cos", "hypot", "sin-cos"],
)
def test_second_and_third_derivatives_match_torch(ours, theirs, point):
    torch = import_torch()
    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in point]
    out = (getattr(torch, theirs)(*leaves) if isinstance(theirs, str)
           else theirs(torch, *leaves))
    expected = []
    for _ in range(3):
        out, = torch.autograd.grad(out, leaves[0], create_graph=True)
        expected.append(out.item())
    assert derivatives(ours, point, 3) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_math_cos_in_a_derivative_makes_the_second_derivative_zero():
    by_math = define_op("sin", math.sin, lambda x, out: math.cos(x))
    assert derivatives(by_math, [0.7], 2) == [math.cos(0.7), 0.0]
