"""draw_forward and draw_backward: what each picture says, read from its DOT text.

Most tests read ``.source`` (no Graphviz program needed): node and edge statements, the
visible text of each label, colours. Tests marked ``needs_dot`` also render through the
real ``dot`` and count node groups in the SVG (never comparing SVG bytes, which change
with Graphviz versions). The missing-``dot`` path empties PATH.
"""

import math
import re
import warnings
import xml.etree.ElementTree as ET

import graphviz
import pytest

from engine import Value, dot, linear, vsum
from tests.viz_reading import (
    NODE,
    edges,
    label_of,
    needs_dot,
    nodes,
    readme_example,
    visible,
)
from viz import (
    GraphvizNotFound,
    by_label_prefix,
    draw_backward,
    draw_forward,
    format_number,
)

# ---- forward -------------------------------------------------------------------------------


def test_forward_draws_a_node_per_value_and_per_op_and_edges_through_the_ops():
    _, _, y = readme_example()
    g = draw_forward(y)
    values = [f"v{i}" for i in range(6)]
    assert sorted(nodes(g)) == sorted(values + ["v2_op", "v3_op", "v4_op", "v5_op"])
    assert [(t, h) for t, h, _ in edges(g)] == [
        ("v0", "v2_op"), ("v1", "v2_op"), ("v2_op", "v2"),   # a * b
        ("v0", "v3_op"), ("v3_op", "v3"),                    # a ** 2
        ("v2", "v4_op"), ("v3", "v4_op"), ("v4_op", "v4"),   # + 
        ("v4", "v5_op"), ("v5_op", "v5"),                    # tanh
    ]


def test_forward_labels_show_each_values_label_and_data_and_each_op():
    _, _, y = readme_example()
    g = draw_forward(y)
    assert label_of(g, "v0") == "a v0 data 2"
    assert label_of(g, "v2") == "v2 data -6"
    assert label_of(g, "v5") == f"y v5 data {math.tanh(-2.0):.4g}"
    assert [label_of(g, f"v{i}_op") for i in (2, 3, 4, 5)] == ["*", "** 2", "+", "tanh"]


@pytest.mark.parametrize("make", ["square", "backward"])
def test_a_times_a_draws_two_parallel_edges(make):
    a = Value(3.0, label="a")
    y = a * a
    y.backward()
    g = draw_forward(y) if make == "square" else draw_backward(y)
    assert [(t, h) for t, h, _ in edges(g)] == [("v0", "v1_op"), ("v0", "v1_op"), ("v1_op", "v1")]


@pytest.mark.parametrize(("build", "shown"), [
    (lambda x: x * 3, "* 3"),
    (lambda x: 3 * x, "* 3"),
    (lambda x: x + 1, "+ 1"),
    (lambda x: x - 3, "- 3"),
    (lambda x: 3 - x, "3 -"),
    (lambda x: x / 4, "/ 4"),
    (lambda x: 2 / x, "2 /"),
    (lambda x: x**3, "** 3"),
    (lambda x: 2**x, "2 **"),
    (lambda x: -x, "neg"),
    (lambda x: x.relu(), "relu"),
    (lambda x: vsum([x, 2.5]), "sum + 2.5"),
    (lambda x: vsum([x, x]), "sum"),
])
def test_an_op_node_shows_the_constant_folded_into_it_on_its_side(build, shown):
    x = Value(1.5)
    g = draw_forward(build(x))
    assert label_of(g, "v1_op") == shown


def test_a_neuron_node_shows_its_formula_and_its_constant_inputs():
    w = [Value(0.5), Value(-1.0)]
    z = dot(w, [1.0, -2.0], Value(0.25), activation="tanh")
    g = draw_forward(z)
    assert label_of(g, "v3_op") == "tanh(w·x + b) x = (1, -2)"


def test_operands_whose_order_matters_are_named_on_their_edges():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    g = draw_forward(b - a)
    assert [(t, visible(attrs)) for t, _, attrs in edges(g)][:2] == [("v1", "a"), ("v0", "b")]
    ws, xs = [Value(0.5), Value(0.5)], [Value(1.0), Value(2.0)]
    g = draw_forward(dot(ws, xs, Value(0.0)))
    assert [visible(attrs) for _, h, attrs in edges(g) if h.endswith("_op")] == [
        "w1", "w2", "b", "x1", "x2"]


def test_a_relu_neuron_that_is_off_is_drawn_as_a_constant():
    w = [[Value(-1.0)]]
    (h,) = linear(w, [Value(0.0)], [2.0], activation="relu")
    g = draw_forward(h)
    assert list(nodes(g)) == ["v0"]
    assert "a constant" in label_of(g, "v0")


# ---- backward ------------------------------------------------------------------------------


def test_backward_numbers_each_op_by_its_step_in_backward_order():
    _, _, y = readme_example()
    y.backward()
    g = draw_backward(y)
    # backward goes root first, then decreasing creation order: tanh, +, **, *.
    steps = {name: visible(attrs) for name, attrs in nodes(g).items() if name.endswith("_op")}
    assert steps == {"v5_op": "tanh step 1", "v4_op": "+ step 2", "v3_op": "** 2 step 3",
                     "v2_op": "* step 4"}


def test_backward_edges_point_from_the_output_to_the_inputs():
    _, _, y = readme_example()
    y.backward()
    g = draw_backward(y)
    assert all("dir=back" in attrs for _, _, attrs in edges(g))
    assert "dir=back" not in draw_forward(y).source


def parse_term(text):
    """'0.07065 × (-3) = -0.212' -> (0.07065, -3.0, -0.212)."""
    match = re.fullmatch(r"(?:\w+: )?(\S+) × \(?([^)\s]+)\)? = (\S+)", text)
    assert match, text
    return tuple(float(x) for x in match.groups())


def test_each_backward_edge_reads_upstream_times_local_equals_contribution():
    x, w, b = Value(0.8, label="x"), Value(-1.7, label="w"), Value(0.3, label="b")
    y = ((x * w + b).sigmoid() * x).log()
    y.backward()
    g = draw_backward(y)
    terms = [parse_term(visible(attrs)) for t, h, attrs in edges(g) if h.endswith("_op")]
    assert len(terms) == 8   # two operands for *, +, *; one for sigmoid and log
    for upstream, local, contribution in terms:
        # 4 significant digits each: the product agrees to about 1e-3 relative.
        assert upstream * local == pytest.approx(contribution, rel=2e-3, abs=1e-9)
    # Each leaf's grad is the sum of the contributions on its edges.
    x_terms = [parse_term(visible(a)) for t, h, a in edges(g) if t == "v0"]
    assert len(x_terms) == 2
    shown = [c for _, _, c in x_terms]
    assert abs(sum(shown) - x.grad) <= 1e-3 * sum(map(abs, shown))   # rounding of 4 digits
    assert label_of(g, "v0").startswith(f"x v0 data 0.8 grad {format_number(x.grad)} = ")


def test_a_node_used_twice_shows_its_contributions_and_their_sum():
    _, _, y = readme_example()
    y.backward()
    upstream = 1 - math.tanh(-2.0) ** 2        # d y / d (ab + a^2)
    from_square = upstream * 2 * 2.0          # d(a^2)/da = 2a, sent at step 3
    from_product = upstream * -3.0            # d(ab)/da = b, sent at step 4
    expected = (f"grad {format_number(from_square + from_product)} = "
                f"{format_number(from_square)} + ({format_number(from_product)})")
    assert label_of(draw_backward(y), "v0") == f"a v0 data 2 {expected}"


def test_the_output_starts_with_its_seed_gradient():
    _, _, y = readme_example()
    y.backward()
    assert label_of(draw_backward(y), "v5").endswith("grad 1 (start)")


def test_before_backward_the_title_says_so():
    _, _, y = readme_example()
    g = draw_backward(y)
    assert "backward() has not been called yet" in g.source
    assert "Call y.backward() first" in g.source
    y.backward()
    assert "has not been called" not in draw_backward(y).source


def test_grads_left_by_another_backward_are_flagged():
    _, _, y = readme_example()
    y.parents[0].backward()
    assert "do not come from y.backward()" in draw_backward(y).source


def test_a_leaf_that_accumulated_two_backward_calls_says_so():
    _, b, y = readme_example()
    y.backward()
    y.backward()
    text = label_of(draw_backward(y), "v1")
    assert f".grad holds {format_number(b.grad)}: leaves add up over backward() calls" in text


# ---- options ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("x", "text"), [
    (1e-5, "1e-5"),
    (0.000123456, "0.0001235"),
    (123456.0, "1.235e5"),
    (-2.5e-12, "-2.5e-12"),
    (2.0, "2"),
    (-0.0, "-0"),
    (math.inf, "inf"),
    (-math.inf, "-inf"),
    (math.nan, "nan"),
])
def test_numbers_keep_four_significant_digits_and_say_inf_and_nan(x, text):
    assert format_number(x) == text


def test_precision_sets_the_significant_digits_of_every_number():
    assert label_of(draw_forward(Value(1 / 3)), "v0") == "v0 data 0.3333"
    assert label_of(draw_forward(Value(1 / 3), precision=2), "v0") == "v0 data 0.33"
    assert label_of(draw_forward(Value(1 / 3), precision=6), "v0") == "v0 data 0.333333"


def test_tiny_infinite_and_nan_values_are_drawn_as_such():
    x = Value(1e-5)
    y = (x.log() * 0).exp() + (x - x) / 0.0   # log(1e-5) * 0 = -0; 0/0 = nan
    g = draw_forward(y)
    labels = " ".join(label_of(g, name) for name in nodes(g))
    assert "data 1e-5" in labels and "data nan" in labels


def test_rankdir_is_lr_or_tb_and_nothing_else():
    x = Value(1.0)
    assert "rankdir=LR" in draw_forward(x).source
    assert "rankdir=TB" in draw_backward(x, rankdir="TB").source
    for bad in ("XY", "lr", None):
        with pytest.raises(ValueError, match=re.escape(repr(bad))):
            draw_forward(x, rankdir=bad)


@pytest.mark.parametrize(("options", "error", "named"), [
    ({"precision": 0}, ValueError, "precision must be an int from 1 to 17 significant digits, not 0"),
    ({"precision": "4"}, ValueError, "not '4'"),
    ({"max_nodes": 0}, ValueError, "max_nodes must be a positive int or None, not 0"),
    ({"params": Value(1.0)}, TypeError, "collection of Values, not Value"),
    ({"params": [1.0]}, TypeError, "Values only, not float"),
    ({"clusters": 42}, TypeError, "not int"),
])
def test_bad_options_are_refused_naming_the_value(options, error, named):
    with pytest.raises(error, match=re.escape(named)):
        draw_forward(Value(1.0), **options)


def chain(n):
    x = Value(0.5, label="x")
    for _ in range(n - 1):
        x = x * 1.001
    return x


def test_max_nodes_refuses_a_graph_too_large_to_read():
    big = chain(301)
    big.backward()
    for draw in (draw_forward, draw_backward):
        with pytest.raises(ValueError, match="more than max_nodes=300 Values.*smaller graph"):
            draw(big)
    assert len(nodes(draw_forward(big, max_nodes=301))) == 301 + 300
    assert len(nodes(draw_forward(chain(300)))) == 300 + 299


def test_colours_mark_inputs_parameters_and_the_output():
    w, b = Value(0.5, label="w"), Value(0.1, label="b")
    x = Value(2.0, label="x")
    y = (w * x + b).tanh()
    y.backward()
    fill = {name: re.search(r'BGCOLOR="(\w+)"', attrs).group(1)
            for name, attrs in nodes(draw_backward(y, params=[w, b])).items()
            if not name.endswith("_op")}
    assert fill == {"v0": "palegreen", "v1": "palegreen", "v2": "lightblue", "v3": "white",
                    "v4": "white", "v5": "khaki"}
    g = draw_forward(y)
    assert [re.search(r'BGCOLOR="(\w+)"', nodes(g)[f"v{i}"]).group(1) for i in range(3)] == [
        "lightblue"] * 3
    for role in ("input", "parameter", "output"):
        assert f">{role}</FONT>" in g.source


def test_clusters_draw_one_box_per_group_with_the_ops_inside():
    w1, w2 = Value(0.5, label="n1.w"), Value(-0.5, label="n2.w")
    x = Value(2.0, label="x")
    h1, h2 = w1 * x, w2 * x
    h1.label, h2.label = "n1.out", "n2.out"
    y = h1 + h2
    g = draw_forward(y, clusters=by_label_prefix)
    boxes = re.findall(r"subgraph (cluster_\d+) \{\n(.*?)\n\t\}", g.source, re.DOTALL)
    assert [name for name, _ in boxes] == ["cluster_0", "cluster_1"]
    members = [sorted(NODE.findall(body)) for _, body in boxes]
    assert [[name for name, _ in m] for m in members] == [["v0", "v3", "v3_op"],
                                                         ["v1", "v4", "v4_op"]]
    assert "label=<n1>" in boxes[0][1] and "label=<n2>" in boxes[1][1]
    # An unlabelled neuron joins the box its weights and bias name; the sum after it does not.
    (n1,) = linear([[Value(0.5, label="n3.w1")]], [Value(0.1, label="n3.b")], [x])
    g = draw_forward(n1 + 1.0, clusters=by_label_prefix)
    boxes = re.findall(r"subgraph (cluster_\d+) \{\n(.*?)\n\t\}", g.source, re.DOTALL)
    assert [sorted(n for n, _ in NODE.findall(body)) for _, body in boxes] == [
        ["v1", "v2", "v3", "v3_op"]]
    # A neuron built from elementary ops: what lies between its weights and its labelled
    # output joins its box; the loss after it stays outside.
    w = [Value(0.5, label="n0.w0"), Value(-0.25, label="n0.w1")]
    xs = [Value(1.0, label="x0"), Value(-2.0, label="x1")]
    out = (w[0] * xs[0] + w[1] * xs[1]).tanh()
    out.label = "n0.out"
    g = draw_forward((out - 1.0) ** 2, clusters=by_label_prefix)
    boxes = re.findall(r"subgraph (cluster_\d+) \{\n(.*?)\n\t\}", g.source, re.DOTALL)
    assert [sorted(n for n, _ in NODE.findall(body)) for _, body in boxes] == [
        ["v0", "v1", "v4", "v4_op", "v5", "v5_op", "v6", "v6_op", "v7", "v7_op"]]
    by_mapping = draw_forward(y, clusters={x: "input <x>"})
    assert "label=<input &lt;x&gt;>" in by_mapping.source
    with pytest.raises(TypeError, match="int"):
        draw_forward(y, clusters=lambda v: 3)


# ---- escaping ------------------------------------------------------------------------------

NASTY = 'x{ } | < > " \\ & [a=b] -> v0; <script>alert(1)</script> \\'


def nasty_graph():
    a = Value(2.0, label=NASTY)
    b = Value(3.0, label="line\nbreak")
    y = a * b
    y.label = "}|{ <out>"
    y.backward()
    return y


def test_labels_are_escaped_in_the_dot_source():
    g = draw_backward(nasty_graph())
    assert "<script>" not in g.source and "&lt;script&gt;" in g.source
    assert label_of(g, "v0").startswith(" ".join(NASTY.split()) + " v0")
    assert label_of(g, "v1").startswith("line\\nbreak v1")   # a newline shown, not obeyed
    assert len(nodes(g)) == 4 and len(edges(g)) == 3        # nothing injected


@needs_dot
@pytest.mark.parametrize("draw", [draw_forward, draw_backward])
def test_escaped_labels_render_as_their_exact_text(draw):
    g = draw(nasty_graph())
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # e.g. graphviz's DotSyntaxWarning
        svg = g.pipe(format="svg", encoding="utf-8")
    root = ET.fromstring(svg)
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert NASTY in texts
    assert "}|{ <out>" in texts and "line\\nbreak" in texts
    assert svg.count('class="node"') == 4


# ---- rendering through Graphviz ------------------------------------------------------------


def mlp_loss():
    W = [[Value(0.4 + 0.1 * j - 0.3 * i, label=f"l0.n{j}.w{i}") for i in range(2)]
         for j in range(2)]
    B = [Value(0.1, label=f"l0.n{j}.b") for j in range(2)]
    h = linear(W, B, [1.0, -0.5], activation="tanh")
    v = [Value(0.7, label="l1.n0.w0"), Value(-0.2, label="l1.n0.w1")]
    (out,) = linear([v], [Value(0.0, label="l1.n0.b")], h)
    loss = (out - 1.0) ** 2
    loss.label = "loss"
    loss.backward()
    return loss, [*W[0], *W[1], *B, *v]


@needs_dot
@pytest.mark.parametrize("case", ["readme forward", "readme backward", "mlp clusters"])
def test_dot_renders_every_node(case):
    if case == "mlp clusters":
        loss, params = mlp_loss()
        g = draw_backward(loss, params=params, clusters=by_label_prefix)
    else:
        _, _, y = readme_example()
        y.backward()
        g = (draw_forward if case == "readme forward" else draw_backward)(y)
    svg = g.pipe(format="svg", encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert svg.count('class="node"') == len(nodes(g))
    assert svg.count('class="edge"') == len(edges(g))
    assert svg.count('class="cluster"') == (3 if case == "mlp clusters" else 0)  # l0.n0 l0.n1 l1.n0


@needs_dot
def test_a_notebook_shows_the_svg():
    _, _, y = readme_example()
    bundle = draw_forward(y)._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


@needs_dot
def test_render_writes_svg_by_default_and_takes_a_picture_name(tmp_path):
    _, _, y = readme_example()
    y.backward()
    assert draw_backward(y).render(tmp_path / "y") == str(tmp_path / "y.svg")
    assert draw_backward(y).render(tmp_path / "loss.svg") == str(tmp_path / "loss.svg")
    assert draw_backward(y).render(tmp_path / "z", format="png") == str(tmp_path / "z.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "loss.gv", "loss.svg", "y", "y.svg", "z", "z.png"]
    for name in ("y.svg", "loss.svg"):
        assert "<svg" in (tmp_path / name).read_text()
    assert (tmp_path / "z.png").read_bytes().startswith(b"\x89PNG")


def test_without_dot_graphs_build_and_rendering_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", "")
    _, _, y = readme_example()
    y.backward()
    g = draw_backward(y)
    assert g.source.startswith("digraph {")
    for attempt in (lambda: g.render(tmp_path / "y", format="svg"),
                    lambda: g.pipe(format="svg")):
        with pytest.raises(GraphvizNotFound) as error:
            attempt()
        assert isinstance(error.value, graphviz.ExecutableNotFound)
        assert isinstance(error.value, RuntimeError)
        for command in ("apt-get install graphviz", "brew install graphviz",
                        "conda install graphviz"):
            assert command in str(error.value)
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert bundle["text/plain"].startswith(g.source)
    assert "apt-get install graphviz" in bundle["text/plain"]
