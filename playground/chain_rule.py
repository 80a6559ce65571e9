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

import shutil
from typing import TYPE_CHECKING, Any

from engine import Value, no_grad, vsum
from nn import MLP, training
from viz import GraphvizNotFound, draw_backward, graph
from viz.style import title
from viz.trace import gradient_flow, trace

if TYPE_CHECKING:
    from playground.session import Session


def build(session: Session, layer: int, neuron: int, point: int) -> tuple[Value, Value, list]:
    """The neuron ``a`` for training point ``point``, backpropagated from that point's loss.

    Returns ``(a, loss, weights)``: the rebuilt neuron, the loss of the point, and the
    neuron's weight and bias leaves (drawn as parameters).
    """
    model = session.model
    x = session.X_train[point]
    target = session.y_train[point]
    with no_grad():  # the model's own forward, as numbers: what the neuron receives
        outputs = [[v.data for v in out] for out in model.layer_outputs(x)]
    h = x if layer == 0 else outputs[layer - 1]
    row = outputs[layer]
    linear, activation = session.linear_steps()[layer]
    names = list(session.settings.features) if layer == 0 else [
        f"layer{layer}.a{i + 1}" for i in range(len(h))]
    inputs = [Value(v, label=name) for v, name in zip(h, names)]
    weights = [Value(w.data, label=f"w{i + 1}") for i, w in enumerate(linear.weight[neuron])]
    bias = Value(linear.bias[neuron].data, label="b")
    z = vsum([*(w * xi for w, xi in zip(weights, inputs)), bias])
    z.label = "z"
    a = getattr(z, activation)() if activation else z
    a.label = "a"
    out: list[Any] = [*row[:neuron], a, *row[neuron + 1:]]
    if layer + 1 < len(outputs):  # the layers after it, on a copy of the model's weights
        after = MLP.from_config(model.config())
        after.load_state_dict(model.state_dict())
        out = after.layer_outputs(out, start=layer + 1)[-1]
    prediction = out[0] if len(out) == 1 else out
    loss = training.batch_loss(session.loss, [prediction], [target])
    loss.backward()
    return a, loss, [*weights, bias]


def largest_loss_point(session: Session) -> int:
    """The training point whose loss is largest now: where the gradients are largest, so
    the chain rule there has the most to show (a well-learned point's are about 0)."""
    with no_grad():
        outputs = session.model(session.X_train)
        losses = [training.batch_loss(session.loss, [o], [t]).data
                  for o, t in zip(outputs, session.y_train)]
    return max(range(len(losses)), key=lambda i: (losses[i] == losses[i], losses[i]))


def missing_for_pictures() -> str | None:
    """What the picture needs and this machine lacks: the Python ``graphviz`` package, or
    Graphviz's ``dot`` program; None when both are there."""
    if graph.graphviz is None:
        return "the Python package graphviz (pip install graphviz)"
    if shutil.which("dot") is None:
        return "Graphviz's dot program (apt-get install graphviz)"
    return None


def _reading_order(params: list[Value]) -> Any:
    """A sort key listing the neuron's inputs first (x1, x2, ... in order), then its
    weights w1, w2, ... and bias, then z and a as computed."""
    weights = {id(p): i for i, p in enumerate(params)}

    def key(v: Value) -> tuple[int, int]:
        if id(v) in weights:
            return (1, weights[id(v)])
        if not v.parents:
            return (0, 0)  # inputs keep their order: sorted() is stable
        return (2, 0)

    return key


def _svg(drawing: Any) -> str | None:
    """The picture as inline SVG through Graphviz's dot, or None where it is missing."""
    try:
        svg = drawing.pipe(format="svg", encoding="utf-8")
    except GraphvizNotFound:
        return None
    return svg[svg.index("<svg"):]


def explain(session: Session, layer: int, neuron: int, point: int) -> dict[str, Any]:
    """Everything the chain-rule view shows: the picture (as SVG when Graphviz is there, and
    always as DOT text, which the static site renders with Graphviz in WebAssembly) and the
    same numbers as rows: each node's value and gradient, each edge's chain-rule term."""
    a, loss, params = build(session, layer, neuron, point)
    drawing = draw_backward(a, params=params)
    where = f"layer {layer + 1}, neuron {neuron + 1}, training point {point + 1}"
    drawing.attr(label=title(
        f"backward of the loss of {where}: grad = d loss / d node; "
        f"each edge: upstream × local = contribution",
        f"d loss / d a = {a.grad:.4g} arrives from the layers after this neuron"))
    svg = _svg(drawing)
    drawn = trace(a)
    flow = gradient_flow(drawn)
    nodes = [{"name": drawn.name(v), "label": v.label, "op": v.op, "value": v.data,
              "grad": v.grad} for v in sorted(drawn.values, key=_reading_order(params))]
    edges = [{"from": drawn.name(m.edge.child), "to": drawn.name(m.edge.parent),
              "upstream": m.upstream, "local": m.local, "contribution": m.contribution}
             for m in flow.messages]
    notes = []
    if session.settings.l2 > 0:
        notes.append(f"training also adds l2 × w = {session.settings.l2:g} × w to each "
                     "weight's gradient (the L2 penalty), not drawn here")
    if session.settings.l1 > 0:
        notes.append(f"training also adds l1 × sign(w) = {session.settings.l1:g} × sign(w) "
                     "to each weight's gradient (the L1 penalty), not drawn here")
    return {
        "layer": layer, "neuron": neuron, "point": point,
        "x": session.X_train[point], "target": session.y_train[point],
        "loss": loss.data, "a": a.data, "dloss_da": a.grad, "epoch": session.epoch,
        "svg": svg, "dot": drawing.source, "missing": None if svg else missing_for_pictures(),
        "nodes": nodes, "edges": edges, "notes": notes,
    }
