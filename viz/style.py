"""How pictures look and what they call things: the options every drawing shares, numbers,
colours and the legend, a model's names for its parameters, what an op node says, and
label text made safe.

Colour convention (that of Eureka Labs' micrograd; torchviz instead paints every leaf that
needs a gradient light blue):

* inputs (leaves that are not parameters): light blue
* parameters (the Values passed as ``params=``, e.g. ``dict(model.named_parameters())``,
  which also names them, or ``model.parameters()``): pale green
* the output (the root being drawn): khaki
* intermediate results: white; the ops that made them: light grey ellipses
* in backward steps, the node being processed and the edges it writes: red

Without ``params=`` every leaf counts as an input.

Names. PyTorch names each parameter tensor by its module's path and attribute
(``layers.0.weight``), and torchviz labels each node of a graph with that name. Here a
tensor is a Value, a list of Values or a list of rows of Values (``nn``'s layout: a weight
is ``out x in``, row j holding neuron j's weights), so each Value is named by its tensor
and its place in it: ``layers.0.weight[1,0]`` is neuron 1's weight for input 0. A picture
shows it compactly, ``w[1,0]``, inside the box of its module ``layers.0``. A fused neuron
(one node for act(w·x + b), what ``nn`` layers build) has no name of its own, but its
weights tell where it sits: when they are one row j of a named weight, the neuron is
``layers.0 neuron j``. ``params=`` takes what a model gives: ``dict(model.named_parameters())``,
``model.named_parameters()`` (a list of (name, tensor) pairs) or ``model.parameters()``
(Values without names).

Every piece of text that comes from the user (labels, cluster names) goes through
``escape``, and every label is an HTML-like Graphviz label, so ``{ } | < > " \\`` are shown
as text and never parsed as DOT or record syntax.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine import Value

ClusterSpec = Mapping[Value, str] | Callable[[Value], str | None] | None
Params = Collection[Value] | Mapping[str, Any] | Collection[tuple[str, Any]] | None

COLOURS = {
    "input": "lightblue",
    "parameter": "palegreen",
    "output": "khaki",
    "intermediate": "white",
    "op": "lightgrey",
}
HIGHLIGHT = "red"
MUTED = "gray60"


@dataclass(frozen=True)
class Options:
    """The options every drawing function shares, checked once (by ``make_options``)."""

    rankdir: str
    precision: int
    params: frozenset[Value]
    clusters: ClusterSpec
    max_nodes: int | None
    names: Mapping[Value, Name]

    def number(self, x: float) -> str:
        """``x`` with ``precision`` significant digits (see ``format_number``)."""
        return format_number(x, self.precision)

    def kind(self, value: Value, root: Value) -> str:
        """The colour role of ``value``: output, parameter, input or intermediate."""
        if value is root:
            return "output"
        if value in self.params:
            return "parameter"
        return "input" if value.is_leaf else "intermediate"

    def cluster_of(self, value: Value) -> str | None:
        """The group name ``value`` is drawn in, or None to draw it outside any group.

        ``clusters`` decides first; where it gives None, a named parameter (or a neuron
        named after its weights) goes to its module's box, ``layers.0``.
        """
        spec = self.clusters
        group = None
        if spec is not None:
            group = spec.get(value) if isinstance(spec, Mapping) else spec(value)
        if group is not None and not isinstance(group, str):
            raise TypeError(f"clusters must give a str or None for each Value, not "
                            f"{type(group).__name__} ({group!r})")
        if not group:
            name = self.name_of(value)
            group = name.module if name is not None else None
        return group or None

    def name_of(self, value: Value) -> Name | None:
        """The model's name for ``value``: a named parameter's, or a fused neuron's."""
        if not self.names:
            return None
        name = self.names.get(value)
        if name is None and value.op in NEURON_OPS and value.parents:
            roles = operand_roles(value)
            weights = [p for p, role in zip(value.parents, roles) if role.startswith("w")]
            name = neuron_name(weights, self.names)
        return name

    def label_of(self, value: Value) -> str:
        """What a reader calls ``value``: its label, else its name in the model, else ""."""
        if value.label:
            return value.label
        name = self.name_of(value)
        return name.full if name is not None else ""

    def shown_label(self, value: Value, group: str | None) -> str:
        """``label_of``, shortened inside the box of the value's own module: ``w[1,0]``."""
        name = None if value.label else self.name_of(value)
        if name is not None and name.module and name.module == group:
            return name.short
        return self.label_of(value)


def make_options(rankdir: str, precision: int, params: Params, clusters: ClusterSpec,
                 max_nodes: int | None) -> Options:
    """Check the shared drawing options and bundle them; bad values raise naming them.

    The defaults are in the drawing functions' signatures, where ``help()`` and an editor
    show them.
    """
    if rankdir not in ("LR", "TB"):
        raise ValueError(f"rankdir must be 'LR' (left to right) or 'TB' (top to bottom), "
                         f"not {rankdir!r}")
    if type(precision) is not int or not 1 <= precision <= 17:
        raise ValueError(f"precision must be an int from 1 to 17 significant digits, "
                         f"not {precision!r}")
    if max_nodes is not None and (type(max_nodes) is not int or max_nodes < 1):
        raise ValueError(f"max_nodes must be a positive int or None, not {max_nodes!r}")
    if clusters is not None and not (isinstance(clusters, Mapping) or callable(clusters)):
        raise TypeError(f"clusters must be a mapping or a function from Value to a group "
                        f"name, not {type(clusters).__name__}")
    values, names = read_params(params)
    return Options(rankdir, precision, values, clusters, max_nodes, names)


def by_label_prefix(value: Value) -> str | None:
    """A ``clusters=`` function: the module path of a dotted label, None without one.

    ``"layers.0.neuron3.w1"`` goes to the group ``"layers.0.neuron3"``, so every Value of
    that neuron is drawn in one box. An unlabelled fused neuron (``engine.dot`` or
    ``engine.linear``, what ``nn`` layers build) joins the group its weights and bias name,
    so a neuron's output sits in the box of its parameters.
    """
    head = _module_path(value.label)
    if head is not None or value.op not in NEURON_OPS:
        return head
    groups = {_module_path(p.label) for p in value.parents if p.is_leaf} - {None}
    return groups.pop() if len(groups) == 1 else None


def _module_path(label: str) -> str | None:
    head, dot, _ = label.rpartition(".")
    return head if dot else None


def format_number(x: float, precision: int = 4) -> str:
    """``x`` with ``precision`` significant digits: 1e-05 stays 1e-05 (never 0.0000).

    inf, -inf and nan are written as such; exponents lose their padding (1.5e6, 2e-7).
    """
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = f"{x:.{precision}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def escape(text: str) -> str:
    """``text`` made safe inside an HTML-like Graphviz label: shown as is, never parsed.

    ``& < > "`` become entities (so ``{ } | \\`` need nothing: HTML-like labels give them
    no meaning); control characters such as a newline are shown as their Python escape.
    """
    visible = "".join(
        ch.encode("unicode_escape").decode("ascii") if ord(ch) < 32 or ord(ch) == 127 else ch
        for ch in text
    )
    return html.escape(visible, quote=True)


# ---- a model's names for its parameters -----------------------------------------------------

# Short names of the usual tensors, as a textbook writes them: y = w·x + b.
SHORT = {"weight": "w", "bias": "b"}


@dataclass(frozen=True)
class Name:
    """Where a Value sits in a model: its module's path, and its name in full and in short.

    ``module`` is "layers.0" ("" at the top of the model); ``short`` is what a node shows
    inside that module's box ("w[1,0]", "neuron 1"); ``full`` says it all
    ("layers.0.weight[1,0]", "layers.0 neuron 1").
    """

    module: str
    short: str
    full: str
    tensor: str = ""
    index: tuple[int, ...] = ()


def read_params(params: Params) -> tuple[frozenset[Value], dict[Value, Name]]:
    """The parameter Values of ``params`` and the names of those that have one.

    A mapping or a collection of (name, tensor) pairs names every Value of each tensor;
    a collection of Values names none. Anything else is a TypeError naming what is wrong.
    A Value in two tensors (a shared weight) keeps its first name, as PyTorch lists it once.
    """
    if params is None:
        return frozenset(), {}
    if isinstance(params, Mapping):
        pairs = list(params.items())
    elif isinstance(params, (Value, str, bytes)) or not isinstance(params, Collection):
        raise TypeError(f"params must be a collection of Values, not {type(params).__name__}")
    else:
        items = list(params)
        if all(type(p) is Value for p in items):
            return frozenset(items), {}
        for item in items:
            if type(item) is not Value and not _is_pair(item):
                raise TypeError(f"params must hold Values only, not {type(item).__name__} "
                                f"({item!r})")
            if type(item) is Value:
                raise TypeError("params mixes Values and (name, tensor) pairs: give "
                                "model.parameters() or model.named_parameters(), not both")
        pairs = items
    names: dict[Value, Name] = {}
    for tensor_name, tensor in pairs:
        if not isinstance(tensor_name, str):
            raise TypeError(f"a parameter's name must be a str, not "
                            f"{type(tensor_name).__name__} ({tensor_name!r})")
        for value, index in _entries(tensor_name, tensor, ()):
            names.setdefault(value, _parameter_name(tensor_name, index))
    return frozenset(names), names


def _is_pair(item: Any) -> bool:
    return isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)


def _entries(name: str, tensor: Any, index: tuple[int, ...]) -> list[tuple[Value, tuple[int, ...]]]:
    """Every Value of a (nested) tensor with its index; TypeError for anything else."""
    if type(tensor) is Value:
        return [(tensor, index)]
    if isinstance(tensor, (list, tuple)):
        return [entry for i, inner in enumerate(tensor)
                for entry in _entries(name, inner, (*index, i))]
    where = f"{name}[{','.join(map(str, index))}]" if index else name
    raise TypeError(f"parameter {where} must be a Value or a list of Values, not "
                    f"{type(tensor).__name__} ({tensor!r})")


def _parameter_name(tensor_name: str, index: tuple[int, ...]) -> Name:
    module, _, attribute = tensor_name.rpartition(".")
    place = f"[{','.join(map(str, index))}]" if index else ""
    return Name(module, SHORT.get(attribute, attribute) + place, tensor_name + place,
                tensor_name, index)


def neuron_name(weights: Sequence[Value], names: Mapping[Value, Name]) -> Name | None:
    """The name of a fused neuron whose weights are ``weights``: ``layers.0 neuron 1``.

    Only when every weight is in row j of one named matrix (its neuron j), else None.
    """
    found = [names.get(w) for w in weights]
    rows = {(n.module, n.tensor, n.index[0]) if n is not None and len(n.index) == 2 else None
            for n in found}
    if not found or len(rows) != 1 or None in rows:
        return None
    module, _, row = rows.pop()  # type: ignore[misc]
    return Name(module, f"neuron {row}", f"{module} neuron {row}" if module else f"neuron {row}")


# ---- what an op node says -------------------------------------------------------------------

NEURON_OPS = {"dot": "w·x + b", "relu(dot)": "relu(w·x + b)",
               "tanh(dot)": "tanh(w·x + b)", "sigmoid(dot)": "sigmoid(w·x + b)"}
_SHOWN_CONSTANTS = 6


def op_text(value: Value, options: Options) -> str:
    """What the op node of ``value`` says, constants included: ``* 3``, ``3 -``, ``tanh``.

    A constant folded into an op is part of what the op computes, so it is shown:
    ``x * 3`` reads ``* 3`` and ``3 - x`` reads ``3 -``. A neuron op shows its formula and,
    when its inputs are numbers, those numbers.
    """
    op, constant = value.op, value.constant
    if op in NEURON_OPS:
        text = NEURON_OPS[op]
        if constant:
            shown = ", ".join(options.number(c) for c in constant[:_SHOWN_CONSTANTS])
            more = len(constant) - _SHOWN_CONSTANTS
            text += f"\nx = ({shown}{f', … {more} more' if more > 0 else ''})"
        return text
    if op == "sum":
        return _sum_text(value, options)
    if len(constant) == 1:
        c = options.number(constant[0])
        return f"{c} {op}" if value.constant_first else f"{op} {c}"
    return op


def _sum_text(value: Value, options: Options) -> str:
    total = None  # the numbers among the terms, added in order as the forward does
    for c in value.constant:
        total = c if total is None else total + c
    return "sum" if total is None else f"sum + {options.number(total)}"


def operand_roles(value: Value) -> tuple[str, ...]:
    """A name for each operand when their order matters: ``a - b``, ``w1 .. b .. x1``.

    Empty names for ops where order does not matter (+, *, sum) or with one operand.
    """
    parents = value.parents
    if value.op in NEURON_OPS:
        constant = value.constant
        n = len(constant) if constant else len(parents) // 2
        xs = len(parents) - n - 1
        return (*(f"w{i}" for i in range(1, n + 1)), "b", *(f"x{i}" for i in range(1, xs + 1)))
    if len(parents) == 2 and value.op in ("-", "/", "**"):
        return ("a", "b")
    return ("",) * len(parents)


# ---- HTML-like label pieces ----------------------------------------------------------------

def table(rows: list[str], fill: str, border: int = 0, colour: str = "black") -> str:
    """An HTML-like label: one cell per row, on a filled box (rows are already escaped)."""
    cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    outline = f' COLOR="{colour}"' if border else ""
    return (f'<<TABLE BORDER="{border}"{outline} CELLBORDER="0" CELLSPACING="0" '
            f'CELLPADDING="3" BGCOLOR="{fill}" STYLE="rounded">{cells}</TABLE>>')


def small(text: str, colour: str = "gray35") -> str:
    """Already escaped ``text`` in a smaller, muted font."""
    return f'<FONT POINT-SIZE="10" COLOR="{colour}">{text}</FONT>'


def lines(text: str) -> str:
    """Escape ``text`` and keep its newlines as line breaks."""
    return "<BR/>".join(escape(part) for part in text.split("\n"))


def title(heading: str, note: str = "", highlight: bool = False) -> str:
    """The graph's title: a heading, an optional note, and the colour legend."""
    swatches = [("input", COLOURS["input"]), ("parameter", COLOURS["parameter"]),
                ("output", COLOURS["output"]), ("op", COLOURS["op"])]
    cells = "".join(
        f'<TD BGCOLOR="{colour}" BORDER="1" COLOR="gray50">{small(name, "black")}</TD>'
        for name, colour in swatches
    )
    if highlight:
        cells += f'<TD BORDER="2" COLOR="{HIGHLIGHT}">{small("this step", "black")}</TD>'
    rows = f"<TR><TD><B>{lines(heading)}</B></TD></TR>"
    if note:
        rows += f'<TR><TD>{small(lines(note), "firebrick")}</TD></TR>'
    legend = f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3"><TR>{cells}</TR></TABLE>'
    return (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2">{rows}'
            f"<TR><TD>{legend}</TD></TR></TABLE>>")
