"""The chain rule at one neuron, for one training point: the picture behind a click.

Training computes each neuron as one fused node. To show what happens inside, the clicked
neuron is rebuilt from elementary ops, with the weights of the last training step and the
inputs it receives for the chosen point x:

    z = w1 * h1 + ... + wn * hn + b,     a = act(z)

(h are the outputs of the layer before, or the point's coordinates for the first layer).
Then ``a`` takes that neuron's place in a forward pass of the whole network on x, the
loss of that one point is computed as training does (``nn.training.batch_loss``), and
backward runs through all of it. Every node of the neuron then holds d loss / d node, and
``viz.draw_backward(a)`` shows how the gradient the optimizer used arrives: at ``a`` from
the layers after it (d loss / d a, where backward starts in the picture), then along each
edge as upstream x local = contribution, down to each weight.

The layers after the neuron use copies of the model's weights, so nothing here touches the
gradients or the weights of the model being trained.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine import Value, linear_batch, no_grad, vsum
from nn import training
from viz import GraphvizNotFound, draw_backward
from viz.style import title
from viz.trace import gradient_flow, trace

if TYPE_CHECKING:
    from playground.session import Session


def _as_values(rows: list[list[Value]]) -> list[list[Value]]:
    return [[Value(v.data) for v in row] for row in rows]


def build(session: Session, layer: int, neuron: int, point: int) -> tuple[Value, Value, list]:
    """The neuron ``a`` for training point ``point``, backpropagated from that point's loss.

    Returns ``(a, loss, weights)``: the rebuilt neuron, the loss of the point, and the
    neuron's weight and bias leaves (drawn as parameters).
    """
    layers = session.layers
    x = session.X_train[point]
    target = session.y_train[point]
    h: list[Any] = list(x)
    with no_grad():  # the layers before the neuron: plain numbers
        for linear, activation in layers[:layer]:
            h = [v.data for v in linear.forward(h, activation)]
        linear, activation = layers[layer]
        row = [v.data for v in linear.forward(h, activation)]
    names = [f"x{i + 1}" for i in range(len(h))] if layer == 0 else [
        f"layer{layer}.a{i + 1}" for i in range(len(h))]
    inputs = [Value(v, label=name) for v, name in zip(h, names)]
    weights = [Value(w.data, label=f"w{i + 1}") for i, w in enumerate(linear.weight[neuron])]
    bias = Value(linear.bias[neuron].data, label="b")
    z = vsum([*(w * xi for w, xi in zip(weights, inputs)), bias])
    z.label = "z"
    a = getattr(z, activation)() if activation else z
    a.label = "a"
    out: list[Any] = [*row[:neuron], a, *row[neuron + 1:]]
    for later, later_activation in layers[layer + 1:]:
        out = linear_batch(_as_values(later.weight), [Value(b.data) for b in later.bias],
                           [out], later_activation)[0]
    prediction = out[0] if len(out) == 1 else out
    loss = training.batch_loss(session.loss, [prediction], [target])
    loss.backward()
    return a, loss, [*weights, bias]


def _svg(graph: Any) -> str | None:
    """The picture as inline SVG through Graphviz's dot, or None where dot is missing."""
    try:
        svg = graph.pipe(format="svg", encoding="utf-8")
    except GraphvizNotFound:
        return None
    return svg[svg.index("<svg"):]


def explain(session: Session, layer: int, neuron: int, point: int) -> dict[str, Any]:
    """Everything the chain-rule view shows: the picture (when dot is installed) and the
    same numbers as rows: each node's value and gradient, each edge's chain-rule term."""
    a, loss, params = build(session, layer, neuron, point)
    graph = draw_backward(a, params=params)
    where = f"layer {layer + 1}, neuron {neuron + 1}, training point {point + 1}"
    graph.attr(label=title(
        f"backward of the loss of {where}: grad = d loss / d node; "
        f"each edge: upstream × local = contribution",
        f"d loss / d a = {a.grad:.4g} arrives from the layers after this neuron"))
    drawn = trace(a)
    flow = gradient_flow(drawn)
    nodes = [{"name": drawn.name(v), "label": v.label, "op": v.op, "value": v.data,
              "grad": v.grad} for v in drawn.values]
    edges = [{"from": drawn.name(m.edge.child), "to": drawn.name(m.edge.parent),
              "upstream": m.upstream, "local": m.local, "contribution": m.contribution}
             for m in flow.messages]
    notes = []
    if session.settings.l2 > 0:
        notes.append(f"training also adds l2 × w = {session.settings.l2:g} × w to each "
                     "weight's gradient (the L2 penalty), not drawn here")
    return {
        "layer": layer, "neuron": neuron, "point": point,
        "x": session.X_train[point], "target": session.y_train[point],
        "loss": loss.data, "a": a.data, "dloss_da": a.grad, "epoch": session.epoch,
        "svg": _svg(graph), "nodes": nodes, "edges": edges, "notes": notes,
    }
