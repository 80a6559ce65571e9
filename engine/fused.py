"""Fused ops: one node where a chain of elementary ops would make many.

A neuron computes act(w1*x1 + ... + wn*xn + b). Built from ``*`` and ``+`` that is 2n + 1
nodes; here it is one node with n + 1 + n parents, whose derivative is still the chain
rule, just written out for the whole expression at once:

    z = w . x + b,   out = act(z)
    d out / d wi = act'(z) * xi,   d out / d xi = act'(z) * wi,   d out / d b = act'(z)

The result is the same number (the dot product is summed left to right, as the chain of
``+`` would), but backward has one step to take instead of 2n + 1, and memory holds one
node instead of 2n + 1. ``nn.Linear`` builds its layers from these; the elementary ops stay
for everything else (and for pictures of what a neuron does inside).

A ReLU neuron whose input z is <= 0 outputs 0 and passes gradient 0 to every input
(relu'(z) = 0 there, PyTorch's convention at z = 0 too). Such a node is stored without
parents: backward has nothing to send through it, so it skips it whole. It is still an op
node, not a leaf: its ``.grad`` is d root / d node of the latest backward, like any other.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Iterable, Sequence
from operator import mul
from typing import Any

from engine import ieee
from engine.mode import this_thread
from engine.op import Number, Op, as_number
from engine.record import make_layer, make_node_n, neuron_prefixes
from engine.value import Value, elu_derivative, gelu_derivative, softplus_derivative


def vsum(values: Iterable[Value | Number]) -> Value:
    """v1 + v2 + ... + vn as one node.   d/dvi = 1 for every i.

    The same float as chaining ``+`` left to right, in one node instead of n - 1.
    Numbers among the values are added as constants (they are ``.constant``, in order).
    """
    parents: list[Value] = []
    total = 0.0
    constants: list[float] | None = None  # the numbers among the values, kept for pictures
    for v in values:
        if type(v) is Value:
            parents.append(v)
            total += v.data
        else:
            c = as_number(v)
            if c is None:
                raise TypeError(f"vsum() takes Values and numbers, not {type(v).__name__}")
            total += c
            if constants is None:
                constants = []
            constants.append(c)
    return make_node_n(_SUM, total, tuple(parents), None if constants is None else tuple(constants))


_SUM = Op("sum", "nary", lambda g, out, a, c: [g] * len(a))
_SUM.source = ("{z}", "{g}", None)  # as a neuron's (below): z = the inputs' sum, each gets g


def detached_max(values: Sequence[Value]) -> Value:
    """max(v1, ..., vn) as a constant: its number is the largest input's, and backward
    sends nothing through it (d/dvi = 0 for every i, like PyTorch's ``x.max().detach()``).

    For a shift that does not change a gradient, such as the max that log-sum-exp
    subtracts: log sum_j e^(z_j - m) - (z_c - m) has the same value and gradient for every
    constant m. It is a node rather than a number read out of ``.data`` so that a compiled
    program (``engine/program.py``) recomputes it for every input it runs on. Of equal
    values, or beside a nan, it keeps what Python's ``max`` keeps (the first, unless a
    later one is greater).
    """
    parents = tuple(values)
    if not parents or any(type(v) is not Value for v in parents):
        raise TypeError("detached_max() takes a non-empty list of Values")
    return make_node_n(_DETACHED_MAX, max([v.data for v in parents]), parents, None)


_DETACHED_MAX = Op("max (detached)", "nary", lambda g, out, a, c: ())
_DETACHED_MAX.source = ("max({args})", None, None)  # {args}: the inputs; None: nothing back


def _python_sum(terms: Iterable[float], start: float) -> float:
    for t in terms:
        start += t
    return start


# The fused ops add left to right, so that they give the very float a chain of ``+`` gives.
# Python 3.11's sum() does exactly that, in C; from 3.12 on it compensates rounding errors
# (a better sum, but not the chain's), so there the loop is written out.
_sum_in_order = sum if sys.version_info < (3, 12) else _python_sum


# ---- activations of a fused neuron: forward on z, and g * d out / dz ------------------------
# Most slopes follow from the output alone; ELU's, softplus's and GELU's need z itself, which
# backward recomputes from the node's weights and inputs (the same sum, so the same float).

def _identity_backward(g: Any, out: Any) -> Any:
    return g


def _relu_backward(g: Any, out: Any) -> Any:
    return 0.0 if (out if type(out) is float else out.data) <= 0.0 else g  # data_of(out), inline


def _tanh_backward(g: Any, out: Any) -> Any:
    return g * (1.0 - out * out)


def _sigmoid_backward(g: Any, out: Any) -> Any:
    return (g * (1.0 - out)) * out


def _leaky_relu_backward(g: Any, out: Any) -> Any:
    return g if (out if type(out) is float else out.data) > 0.0 else g * 0.01  # as above


_ACTIVATIONS = {  # name: (forward on z, backward from (g, out)); PyTorch's default settings
    None: (lambda z: z, _identity_backward),
    "relu": (lambda z: 0.0 if z < 0.0 else z, _relu_backward),  # noqa: FURB136
    "tanh": (math.tanh, _tanh_backward),
    "sigmoid": (ieee.sigmoid, _sigmoid_backward),
    "leaky_relu": (lambda z: ieee.leaky_relu(z, 0.01), _leaky_relu_backward),
}
_ACTIVATIONS_OF_Z = {  # name: (forward on z, backward from (g, z)), settings as above
    "elu": (lambda z: ieee.elu(z, 1.0), lambda g, z: elu_derivative(g, z, 1.0)),
    "softplus": (lambda z: ieee.softplus(z, 1.0, 20.0),
                 lambda g, z: softplus_derivative(g, z, 1.0, 20.0)),
    "gelu": (ieee.gelu, gelu_derivative),
}
ACTIVATIONS = (*_ACTIVATIONS, *_ACTIVATIONS_OF_Z)
"""The activations a fused neuron takes (None: none, the neuron is w . x + b)."""


def _pre_activation(weights_and_bias: Sequence[Any], xs: Sequence[Any]) -> Any:
    """z = w . x + b again, in the forward's order (floats, or Values for create_graph)."""
    return _sum_in_order(map(mul, weights_and_bias, xs), 0.0) + weights_and_bias[-1]


def _neuron_op(activation: str | None, inputs_are_values: bool) -> Op:
    """The Op of act(w . x + b); parents are (w1..wn, b, x1..xn), x only when they are Values.

    The derivative receives the weights and bias and the inputs ``xs`` (numbers kept as
    the node's constants, or the Values among its parents).
    """
    name = "dot" if activation is None else f"{activation}(dot)"
    from_z = activation in _ACTIVATIONS_OF_Z
    dz_of = (_ACTIVATIONS_OF_Z if from_z else _ACTIVATIONS)[activation][1]
    if inputs_are_values:
        def derivative(g: Any, out: Any, weights_and_bias: Sequence[Any], xs: Sequence[Any]) -> list[Any]:
            gz = dz_of(g, _pre_activation(weights_and_bias, xs) if from_z else out)
            return [gz * x for x in xs] + [gz] + [gz * w for w in weights_and_bias[:-1]]
    else:
        def derivative(g: Any, out: Any, weights_and_bias: Sequence[Any], xs: Sequence[float]) -> list[Any]:
            gz = dz_of(g, _pre_activation(weights_and_bias, xs) if from_z else out)
            return [gz * x for x in xs] + [gz]

    def add_into(g: float, out: float, weights_and_bias: Sequence[Value], wb_numbers: Sequence[float],
                 xs: Sequence[Any], x_numbers: Sequence[float]) -> None:
        """``derivative`` on floats, each term added straight into its input's ``.grad``."""
        gz = dz_of(g, _pre_activation(wb_numbers, x_numbers) if from_z else out)
        for w, x in zip(weights_and_bias, x_numbers):  # zip stops before the bias
            w.grad += gz * x
        weights_and_bias[-1].grad += gz
        if inputs_are_values:
            for x, w in zip(xs, wb_numbers):
                x.grad += gz * w

    # tanh, sigmoid, ELU, softplus and GELU flatten out at +-inf, so a finite output can
    # hide an infinite input (whose 0 * inf must give nan).
    return Op(name, "neuron" if inputs_are_values else "nary", derivative,
              zero_safe=activation in (None, "relu", "leaky_relu"), add_into=add_into)


_NEURON_OPS = {
    (act, values): _neuron_op(act, values) for act in ACTIVATIONS for values in (True, False)
}
# Source templates (engine/program.py): act on z, g * act'(z) (the gz every term is scaled by),
# and the condition under which the neuron sends nothing back (an off ReLU, see linear_batch).
_NEURON_SOURCES = {
    None: ("{z}", "{g}", None),
    "relu": ("0.0 if {z} < 0.0 else {z}", "{g}", "{out} <= 0.0"),
    "tanh": ("tanh({z})", "{g} * (1.0 - {out} * {out})", None),
    "sigmoid": ("sigmoid({z})", "({g} * (1.0 - {out})) * {out}", None),
    "leaky_relu": ("leaky_relu({z}, 0.01)", "{g} if {out} > 0.0 else {g} * 0.01", None),
    "elu": ("elu({z}, 1.0)", ("{g} if not {z} <= 0.0 else ({g} * 1.0) * exp({z}) if {z} < 0.0 "
                              "else {g} * 1.0"), None),
    "softplus": ("softplus({z}, 1.0, 20.0)", "softplus_derivative({g}, {z}, 1.0, 20.0)", None),
    "gelu": ("gelu({z})", "gelu_derivative({g}, {z})", None),
}
for (_act, _), _op in _NEURON_OPS.items():
    _op.source = _NEURON_SOURCES[_act]


class _Tracing(threading.local):
    keep_off_neurons = False  # engine.program's trace sets it: an off ReLU keeps its parents


tracing = _Tracing()
# A ReLU neuron that is off: an op node without parents, so backward stops there.
_RELU_OFF = Op("relu(dot)", "constant", lambda g, out, a, b: ())


def linear(weights: Sequence[Sequence[Value]], biases: Sequence[Value],
           inputs: Sequence[Value | Number], activation: str | None = None) -> list[Value]:
    """A whole layer: out_j = act(sum_i W[j][i] * x[i] + b[j]) for every row j, one node each.

    ``inputs`` may be plain numbers (a data point: kept as constants, no gradient) or
    Values (the previous layer's outputs). ``activation`` is one of ``ACTIVATIONS`` (None,
    "relu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus", "gelu"). For many inputs
    at once, ``linear_batch`` reads the weights only once.
    """
    return linear_batch(weights, biases, [inputs], activation)[0]


def linear_batch(weights: Sequence[Sequence[Value]], biases: Sequence[Value],
                 batch: Sequence[Sequence[Value | Number]], activation: str | None = None
                 ) -> list[list[Value]]:
    """``linear`` for each input vector of ``batch``: the same nodes, the weights read once."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, "
                         f"not {activation!r}")
    if len(weights) != len(biases):
        raise ValueError(f"{len(weights)} weight rows but {len(biases)} biases")
    act = (_ACTIVATIONS.get(activation) or _ACTIVATIONS_OF_Z[activation])[0]
    w_data = [[w.data for w in row] for row in weights]
    widths = set(map(len, w_data))
    if len(widths) > 1:
        raise ValueError(f"weight rows of different lengths: {sorted(widths)}")
    b_data = [b.data for b in biases]
    state = this_thread.state
    tape = state.recording
    prefixes = [()] * len(biases) if tape is None else neuron_prefixes(tape, weights, biases)
    # A ReLU that is on passes z itself; one that is off (z <= 0) becomes a node of _RELU_OFF.
    off = _RELU_OFF if activation == "relu" and not tracing.keep_off_neurons else None
    outputs = []
    for inputs in batch:
        x_data, xs = _read_inputs(inputs)
        if widths and len(x_data) not in widths:
            raise ValueError(f"a weight row has {next(iter(widths))} entries but the input has "
                             f"{len(x_data)}")
        # Each neuron's output; w . x + b and ReLU written out (a call per neuron saved).
        if activation is None:
            layer = [_sum_in_order(map(mul, wd, x_data), 0.0) + bd
                     for wd, bd in zip(w_data, b_data)]
        elif off is not None:
            # not max(z, 0.0): a call per neuron; this is the same float, nan and -0.0 included
            layer = [0.0 if z < 0.0 else z for wd, bd in zip(w_data, b_data)  # noqa: FURB136
                     for z in [_sum_in_order(map(mul, wd, x_data), 0.0) + bd]]
        else:
            layer = [act(_sum_in_order(map(mul, wd, x_data), 0.0) + bd)
                     for wd, bd in zip(w_data, b_data)]
        point = xs or tuple(x_data)  # the node's second tuple: Values, or numbers as constants
        outputs.append(make_layer(state, _NEURON_OPS[activation, bool(xs)], layer, prefixes,
                                  point, xs, off))
        if state.recording is not tape:  # the tape was full and is replaced
            tape = state.recording
            prefixes = neuron_prefixes(tape, weights, biases)
    return outputs


def _read_inputs(inputs: Sequence[Value | Number]) -> tuple[list[float], tuple[Value, ...]]:
    """The inputs' values, and the inputs that are Values (all of them, when any is).

    A mix of numbers and Values turns the numbers into constant leaves, so that every
    input then has a place among the node's parents.
    """
    # The two usual cases first, each in one quick pass: a layer's Values, a point's floats.
    of_values = [x.data for x in inputs if type(x) is Value]
    if len(of_values) == len(inputs):
        return of_values, tuple(inputs)
    if not of_values and set(map(type, inputs)) == {float}:
        return list(inputs), ()
    x_data: list[float] = []
    values = 0
    for x in inputs:
        if type(x) is float:
            x_data.append(x)
        elif type(x) is Value:
            values += 1
            x_data.append(x.data)
        else:
            c = as_number(x)
            if c is None:
                raise TypeError(f"inputs must be Values or numbers, not {type(x).__name__}")
            x_data.append(c)
    if not values:
        return x_data, ()
    if values == len(x_data):
        return x_data, tuple(inputs)
    return x_data, tuple(x if type(x) is Value else Value(x) for x in inputs)


def dot(weights: Sequence[Value], inputs: Sequence[Value | Number], bias: Value | None = None,
        activation: str | None = None) -> Value:
    """One neuron, act(w . x + b), as one node (see ``linear``). ``bias`` None means b = 0."""
    if len(weights) != len(inputs):
        raise ValueError(f"dot(): {len(weights)} weights but {len(inputs)} inputs")
    b = Value(0.0) if bias is None else bias
    return linear([weights], [b], inputs, activation)[0]
