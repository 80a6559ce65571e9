"""The backward pass as a program: a traced graph written out as straight-line Python.

``trace(f, 1.0, 2.0)`` runs ``f`` once on Values, keeps the graph it builds, and writes it
out as Python source: the forward, one line per node in the order the nodes were made,
then each node's derivative rule, inline, in reverse order: exactly the steps
``backward()`` takes, without the graph. For a tiny function it reads::

    def program(x, y, seed=1.0):
        v1 = x * y                        # "*"
        v2 = tanh(v1)                     # "tanh"
        g2 = seed
        # v2 = tanh(v1): d/dv1 = 1 - v2**2
        if g2 != 0.0 or v2 - v2 != 0.0:
            g1 = 0.0
            g1 += g2 * (1.0 - v2 * v2)
        ...
        return v2, (g_x, g_y)

The chain rule for your own function, one line per term, and much faster than building a
graph at every call: the program runs on plain floats.

The contract is ``backward()``'s bits. The program uses the same rules (each op's source
template, ``op.source``, sits beside its derivative in ``value.py`` and ``fused.py``), in
the same order, and treats the edges as ``backward()`` does (``autograd.py``):

* a node whose gradient is 0 is skipped when its op is ``zero_safe`` and its output is
  finite, and only then (0 * inf must still give nan);
* an op node's gradient starts at 0.0, a leaf's at -0.0 (so that its first term can be
  assigned: -0.0 + t == t for every t), and the leaf's ``.grad`` then adds the sum;
* a ReLU neuron that is off (z <= 0) sends nothing back at all, as the engine's folded,
  parentless node does; the program tests the gate where the engine decided it once;
* long sums are written in chunks (``CHUNK`` terms a statement), left to right, so that
  ``compile()`` never meets a 4,000-term expression and the additions keep their order.

An op without a template (one made with ``define_op``) is called through its own forward
and rule: slower, still exact.
"""

from __future__ import annotations

import inspect
import keyword
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from engine import fused
from engine.autograd import graph_search
from engine.mode import enable_grad
from engine.op import Kind, as_number
from engine.value import _TWO_OVER_SQRT_PI, Value, literal

__all__ = ["CHUNK", "GraphWriter", "Program", "busiest_first", "record", "trace", "whole_graphs"]

CHUNK = 64
"""The most terms one statement of the program adds (longer sums continue on the next line)."""

HEADER = f"""\
from math import erf, expm1, fabs, tanh
from engine.ieee import (cos, div, elu, exp, gelu, gelu_tanh, general_pow, inf, leaky_relu,
                         log, log1p, nan, pow, sigmoid, sign, sin, softplus, sqrt)
from engine.value import gelu_derivative, gelu_tanh_derivative, softplus_derivative
TWO_OVER_SQRT_PI = {_TWO_OVER_SQRT_PI!r}
"""


RELU = "0.0 if {z} < 0.0 else {z}"
"""A ReLU neuron's forward template (fused.py), written as ``if v < 0: v = 0.0``."""


def _is_sum(op: Any) -> bool:
    return op.shared is fused._SUM


def _sends_back(node: Value) -> bool:
    """False for a node whose op is a constant to backward() (its template's rule is None)."""
    source = node._op.source
    return not (isinstance(source, tuple) and len(source) > 1 and source[1] is None)


class GraphWriter:
    """Lowers one traced graph (root, its op nodes, the inputs) to the lines of a program.

    ``names`` are the inputs' names in the program; gradients are written for the inputs
    in ``wrt`` (all of them by default): terms that reach no such input are left out, as
    they change nothing else. Nodes are numbered from ``first`` (their locals v<k>, g<k>),
    so that two graphs written into one function keep apart. ``nn.compiled`` builds a
    training step from its ``body``.
    """

    def __init__(self, root: Value, inputs: Sequence[Value], names: Sequence[str],
                 wrt: Sequence[Value] | None = None, first: int = 1) -> None:
        self.root = root
        ops, _ = graph_search(root)
        self.ops = ops
        self.name = {x: n for x, n in zip(inputs, names)}
        self.grad_name = {x: f"g_{n}" for x, n in zip(inputs, names)}
        for k, node in enumerate(ops, first):  # v<first>, v<first + 1>, ...
            self.name[node] = f"v{k}"
            self.grad_name[node] = f"g{k}"
        self.inputs = list(inputs)
        self.rules: dict[str, Any] = {}  # rule_k: an op without a template, called as it is
        # Which nodes need a gradient: those that depend on an input of wrt, through ops
        # that send something back (not a detached_max, whose template's rule is None).
        self.needs = set(inputs if wrt is None else wrt)
        for node in ops:
            if _sends_back(node) and any(p in self.needs for p in node.parents):
                self.needs.add(node)
        self._reach: dict[Value, str | None] = {}
        self._flags: set[Value] = set()
        self._rule_of: dict[Any, str] = {}
        self._consumers: dict[Value, list[Value]] = {node: [] for node in ops}
        for node in ops:
            for p in set(node.parents):
                if p in self._consumers:
                    self._consumers[p].append(node)

    # ---- names and expressions -------------------------------------------------------------

    def value(self, x: Any) -> str:
        """The source for a node's number: its local, or the literal of a constant leaf."""
        if type(x) is Value:
            name = self.name.get(x)
            return name if name is not None else literal(x.data)
        return literal(x)

    def constant(self, c: Any) -> Any:
        if c is None:
            return "None"
        if isinstance(c, tuple):
            return tuple(self.constant(x) for x in c)
        return literal(c)

    def template(self, node: Value) -> tuple[str, ...] | None:
        source = node._op.source
        if callable(source):
            return source(node._b)
        return source

    # ---- the forward -----------------------------------------------------------------------

    def forward(self, node: Value) -> list[str]:
        op, v = node._op, self.name[node]
        comment = f'# "{op.name}"' + (f" {op.label!r}" if op.label else "")
        kind, source = op.kind, self.template(node)
        if kind == Kind.CONSTANT:
            raise ValueError("the graph holds a folded ReLU neuron; trace() keeps them whole: "
                             "build the graph inside trace()")
        if source is None:
            return self._forward_by_rule(node, comment)
        if kind == Kind.UNARY:
            forward = source[0].format(a=self.value(node._a), c=self.constant(node._b))
            return [f"{v} = {forward}  {comment}"]
        if kind == Kind.BINARY:
            forward = source[0].format(a=self.value(node._a), b=self.value(node._b))
            return [f"{v} = {forward}  {comment}"]
        if "{args}" in source[0]:  # a function of all the inputs (detached_max)
            args = ", ".join(self.value(p) for p in node._a)
            return [f"{v} = {source[0].format(args=args)}  {comment}"]
        # n-ary: a sum, or a neuron act(w . x + b), its z summed left to right from 0.0
        if _is_sum(op):
            if node._b is not None:
                raise ValueError("vsum() with numbers among its terms cannot be traced (where "
                                 "each number stood is not kept); wrap them in Value(...)")
            terms = [self.value(p) for p in node._a]
        else:
            wb = node._a
            terms = [f"{self.value(w)} * {self.value(x)}" for w, x in zip(wb, node._b)]
            terms.append(self.value(wb[-1]))
        if source[0] == RELU:  # the same branch as a statement: one local fewer
            lines = [*_chunked_sum(v, ["0.0", *terms]), f"if {v} < 0.0:", f"    {v} = 0.0"]
            lines[-3] += f"  {comment}"
            return lines
        z = v if source[0] == "{z}" else f"z{v[1:]}"
        lines = _chunked_sum(z, ["0.0", *terms])
        if source[0] != "{z}":
            lines.append(f"{v} = {source[0].format(z=z)}")
        lines[-1] += f"  {comment}"
        return lines

    def _forward_by_rule(self, node: Value, comment: str) -> list[str]:
        op = node._op
        defined = getattr(op.derivative, "__self__", None)
        if op.kind != Kind.NARY or not hasattr(defined, "_forward"):
            raise ValueError(f"op {op.name!r} has no source template (op.source) and no "
                             "forward a program can call")
        rule = self._rule_of.get(op.shared)
        if rule is None:
            rule = self._rule_of[op.shared] = f"rule_{len(self.rules) + 1}"
            self.rules[rule] = defined
        values = iter(node._a)
        numbers = [self.value(next(values)) if c is None else literal(c)
                   for c in (node._b or [None] * len(node._a))]
        return [(f"{self.name[node]} = {rule}._forward([{', '.join(numbers)}])"
                 f"  {comment}, through its rule")]

    # ---- the backward ----------------------------------------------------------------------

    def gate(self, node: Value) -> str | None:
        """The condition under which node sends something back, None if always."""
        source = self.template(node)
        if source is not None and node._op.kind in (Kind.NARY, Kind.NEURON) and source[2]:
            return f"not ({source[2].format(out=self.name[node])})"
        return None

    def find_reached(self) -> None:
        """For each node, when backward() counts it among root's nodes (None: always).

        An off ReLU neuron has no parents in the engine's graph, so a node that only off
        neurons use is not root's: backward() skips it even where it would run at g == 0.
        Users come before their inputs in reverse creation order, so one pass finds all;
        a long condition is kept in a local ``r<k>`` instead of being repeated.
        """
        reach = self._reach
        for node in reversed(self.ops):
            if node is self.root:
                reach[node] = None
                continue
            terms: list[str] = []
            for c in self._consumers[node]:
                gate, upstream = self.gate(c), reach[c]
                if upstream is not None and len(upstream) > 120:
                    self._flags.add(c)
                    upstream = f"r{self.name[c][1:]}"
                if gate is None and upstream is None:
                    terms = []
                    break
                terms.append(" and ".join(t for t in (gate, upstream and f"({upstream})") if t))
            else:
                reach[node] = " or ".join(terms) if terms else "False"
                continue
            reach[node] = None

    def reached(self, node: Value) -> str | None:
        if node in self._flags:
            return f"r{self.name[node][1:]}"
        return self._reach.get(node)

    def backward(self, node: Value, assigned: set[Value], lines: list[str]) -> None:
        """node's rule: a guard as backward()'s, then one line per term added to an input."""
        op, v, g = node._op, self.name[node], self.grad_name[node]
        source = self.template(node)
        targets = [p for p in node.parents if p in self.needs]
        if node in self._flags:
            lines.append(f"r{v[1:]} = {self._reach[node]}")
        if not targets:
            return
        conditions = []
        gate = self.gate(node)
        if gate:
            conditions.append(gate)
        reached = self.reached(node)
        if op.zero_safe:
            rare = f"{v} - {v} != 0.0"  # not finite: inf - inf and nan - nan are nan
            if reached:
                rare += f" and ({reached})"
            test = f"{g} != 0.0 or {rare}"
            conditions.append(f"({test})" if gate else test)
        elif reached:
            conditions.append(f"({reached})" if gate else reached)
        lines.append(f"# {self._describe(node)}")
        indent, fresh = "", []
        if conditions:
            # An op node's sum that starts inside the if is started in its else too (at
            # 0.0), so that it exists whichever way the test goes.
            fresh = [p for p in dict.fromkeys(targets) if p not in assigned]
            lines.append(f"if {' and '.join(conditions)}:")
            indent = "    "
        for p, term in self.terms(node, source, g, lines, indent):
            name = self.grad_name[p]
            if p in assigned:
                lines.append(f"{indent}{name} += {term}")
            elif fresh:
                term = f"({term})" if " if " in term else term
                lines.append(f"{indent}{name} = 0.0 + {term}")  # an op node's sum: from 0.0
            else:  # an op node's sum starts at 0.0, as backward() sets it
                lines.append(f"{indent}{name} = 0.0")
                lines.append(f"{indent}{name} += {term}")
            assigned.add(p)
        if fresh:
            lines.append("else:")
            lines += [f"    {self.grad_name[p]} = 0.0" for p in fresh]

    def terms(self, node: Value, source: Any, g: str, lines: list[str], indent: str
              ) -> list[tuple[Value, str]]:
        """(input, term) for each term node's rule adds, in backward()'s order."""
        op, v = node._op, self.name[node]
        needs = self.needs
        if source is None:  # through the op's own rule
            rule = self._rule_of[op.shared]
            lines.append(f"{indent}d = {rule}._contributions({g}, {v}, "
                         f"[{', '.join(self.value(p) for p in node._a)}], {node._b!r})")
            return [(p, f"d[{k}]") for k, p in enumerate(node._a) if p in needs]
        if op.kind == Kind.UNARY:
            term = source[1].format(g=g, out=v, a=self.value(node._a),
                                    c=self.constant(node._b))
            return [(node._a, term)] if node._a in needs else []
        if op.kind == Kind.BINARY:
            a, b = self.value(node._a), self.value(node._b)
            terms = [source[k + 1].format(g=g, out=v, a=a, b=b) for k in range(2)]
            return [(p, t) for p, t in zip((node._a, node._b), terms) if p in needs]
        z = f"z{v[1:]}" if source[0] != "{z}" else v
        gz = source[1].format(g=g, out=v, z=z)
        if gz != g:
            lines.append(f"{indent}d{v[1:]} = {gz}")
            gz = f"d{v[1:]}"
        if _is_sum(op):
            return [(p, gz) for p in node._a if p in needs]
        wb, xs = node._a, node._b
        out = [(w, f"{gz} * {self.value(x)}") for w, x in zip(wb, xs) if w in needs]
        if wb[-1] in needs:
            out.append((wb[-1], gz))
        if op.kind == Kind.NEURON:
            out += [(x, f"{gz} * {self.value(w)}") for x, w in zip(xs, wb) if x in needs]
        return out

    def _describe(self, node: Value) -> str:
        """The node as its forward computes it, for the comment above its rule."""
        op, v = node._op, self.name[node]
        source = self.template(node)
        if source is not None and op.kind == Kind.UNARY:
            return f"{v} = {source[0].format(a=self.value(node._a), c=self.constant(node._b))}"
        if source is not None and op.kind == Kind.BINARY:
            return f"{v} = {source[0].format(a=self.value(node._a), b=self.value(node._b))}"
        parents = [self.value(p) for p in node.parents]
        shown = ", ".join(parents[:6]) + (", ..." if len(parents) > 6 else "")
        text = f'{v} = {op.name}({shown}), {len(parents)} inputs'
        if source is None:
            return text + ", through its own rule"
        if source[2]:
            text += f"; sends nothing back while {source[2].format(out=v)}"
        return text

    # ---- the whole function ----------------------------------------------------------------

    def body(self, seed: str, accumulate_inputs: bool = False
             ) -> tuple[list[str], list[str], set[Value]]:
        """The forward lines, the backward lines (leaves' sums accumulate into ``g_<input>``
        locals that exist already when ``accumulate_inputs``), and the nodes and inputs
        whose gradient the lines assign."""
        forward = [line for node in self.ops for line in self.forward(node)]
        self.find_reached()
        assigned: set[Value] = set(self.inputs) if accumulate_inputs else set()
        backward: list[str] = []
        leaves = [x for x in self.inputs if x in self.needs and x not in assigned]
        if leaves:  # backward() starts every leaf's sum at -0.0: adding to it changes nothing
            backward.append(" = ".join(self.grad_name[x] for x in leaves) + " = -0.0")
            assigned.update(leaves)
        root = self.root
        if root in self.needs:
            if root in assigned:  # an input whose sum is already started
                backward.append(f"{self.grad_name[root]} += {seed}")
            else:
                backward.append(f"{self.grad_name[root]} = {seed}")
            assigned.add(root)
        for node in reversed(self.ops):
            if node in self.needs:
                self.backward(node, assigned, backward)
        return forward, backward, assigned


def _chunked_sum(target: str, terms: list[str]) -> list[str]:
    """``target = t1 + t2 + ...``, CHUNK terms a line, added left to right as written."""
    lines = [f"{target} = {' + '.join(terms[:CHUNK])}"]
    for start in range(CHUNK, len(terms), CHUNK):
        lines.append(f"{target} = {' + '.join([target, *terms[start:start + CHUNK]])}")
    return lines


class Program:
    """A function's value and gradient as straight-line Python, made by ``trace``.

    ``program(*numbers, seed=1.0)`` returns ``(value, gradients)``: f at the numbers and
    d f / d input for each input (times ``seed``), the very floats ``backward()`` gives on
    the graph ``f`` builds from those numbers (fresh leaves, ``.grad`` 0.0 before).
    ``source`` is the program's text, runnable on its own (``exec`` it and call
    ``program``); ``verify(*numbers)`` builds the graph again and compares the bits.

    The trace records what ``f`` did for the example numbers. A Python ``if`` on ``.data``
    inside ``f`` (or a number read out of a Value) is decided once, at trace time, and
    baked into the program, exactly as ``jax.jit`` bakes Python control flow: for numbers
    that would take the other branch the program is wrong. Branches inside ops (relu, abs,
    clamp, ...) are not affected: they are branches of the program. ``verify`` tells.
    """

    def __init__(self, fn: Callable[..., Value], names: Sequence[str], source: str,
                 rules: dict[str, Any], nodes: int, params: Sequence[Value] | None = None
                 ) -> None:
        self.fn = fn
        self.names = tuple(names)
        self.source = source
        self.nodes = nodes
        self.params = None if params is None else tuple(params)
        namespace: dict[str, Any] = dict(rules)
        code = compile(source, f"<program of {getattr(fn, '__name__', 'f')}>", "exec")
        exec(code, namespace)  # noqa: S102 - the source is ours, written from the graph
        self.function: Callable[..., Any] = namespace["program"]
        """The generated function itself: no check of its arguments. ``function(*numbers,
        seed=1.0)`` -> (value, sums); with ``params``, ``function(parameter_numbers,
        sums=START)`` -> (point, totals), as ``bind`` returns them."""

    def __call__(self, *numbers: float, seed: float = 1.0) -> tuple[float, tuple[float, ...]]:
        value, sums = self.sums(*numbers, seed=seed)
        return value, tuple([0.0 + s for s in sums])  # a fresh leaf's .grad: 0.0 + the sum

    def sums(self, *numbers: float, seed: float = 1.0) -> tuple[float, tuple[float, ...]]:
        """The value, and each input's sum of terms as backward() collects it (from -0.0),
        before a leaf adds it to its ``.grad``: ``leaf.grad = before + sum``. With
        ``params``, the parameters' sums, at the numbers the parameters hold now."""
        floats = self._floats(numbers)
        if self.params is None:
            return self.function(*floats, seed=float(seed))
        point, totals = self.bind()
        return point(*floats, seed=float(seed)), totals()

    def accumulate(self, sums: Sequence[float], *numbers: float, seed: float = 1.0
                   ) -> tuple[float, tuple[float, ...]]:
        """For a program traced with ``params``: the value at these numbers, and ``sums``
        with this call's terms added to each parameter's sum in backward()'s order.

        ``backward()`` on a graph of many points (a minibatch's mean loss) adds each
        parameter's terms point after point, the last point's first; calling
        ``accumulate`` on the points in that order, each with its seed (d loss / d its
        term), from the sums the rest of the graph added first, gives the same bits. A
        float sum depends on its order: ``sums + (this point's sum)`` would not.
        """
        point, totals = self.bind(sums)
        return point(*self._floats(numbers), seed=float(seed)), totals()

    def bind(self, sums: Sequence[float] | None = None
             ) -> tuple[Callable[..., float], Callable[[], tuple[float, ...]]]:
        """For a program traced with ``params``, the per-point function of one step:
        ``(point, totals)``. ``point(*numbers, seed=1.0)`` returns the value at a data
        point and adds its terms into each parameter's running sum (started at ``sums``,
        or at -0.0 as backward() starts them); ``totals()`` gives the sums so far.

        The parameters' numbers are read once, here; ``point`` checks nothing, for hot
        loops (a minibatch, point by point; see ``accumulate`` for the order).
        """
        if self.params is None:
            raise TypeError("this program was traced without params=; call it instead")
        if sums is None:
            return self.function([p.data for p in self.params])
        start = tuple(float(s) for s in sums)
        if len(start) != len(self.params):
            raise ValueError(f"sums holds {len(start)} numbers for {len(self.params)} parameters")
        return self.function([p.data for p in self.params], start)

    def _floats(self, numbers: Sequence[float]) -> list[float]:
        if len(numbers) != len(self.names):
            raise TypeError(f"this program takes {len(self.names)} numbers "
                            f"({', '.join(self.names)}), got {len(numbers)}")
        floats = []
        for name, x in zip(self.names, numbers):
            number = as_number(x)
            if number is None or isinstance(x, Value):
                raise TypeError(f"{name} must be a real number, not {type(x).__name__}")
            floats.append(number)
        return floats

    def verify(self, *numbers: float, seed: float = 1.0) -> bool:
        """True when the program gives backward()'s bits at these numbers; else a ValueError
        naming the first value or gradient that differs (e.g. a branch on ``.data`` in f).
        The parameters' ``.grad`` are left as they were."""
        value, grads = self(*numbers, seed=seed)
        leaves = [Value(x) for x in numbers]
        held = [] if self.params is None else [p.grad for p in self.params]
        try:
            for p in self.params or ():
                p.grad = 0.0
            out = self.fn(*leaves)
            out.backward(seed)
            if self.params is None:
                named = zip(self.names, [leaf.grad for leaf in leaves])
            else:
                named = zip((f"p{k}" for k in range(len(self.params))),
                            [p.grad for p in self.params])
        finally:
            for p, grad in zip(self.params or (), held):
                p.grad = grad
        expected = [("value", out.data, value)] + [
            (f"d/d{name}", want, got) for (name, want), got in zip(named, grads)]
        for what, want, got in expected:
            if not same_bits(want, got):
                raise ValueError(f"the program's {what} is {got!r} where backward() gives "
                                 f"{want!r}: the function takes another path at these numbers "
                                 "(a Python branch on .data?); trace it again here")
        return True

    def __repr__(self) -> str:
        return (f"Program({getattr(self.fn, '__name__', 'f')}({', '.join(self.names)}), "
                f"{self.nodes} nodes)")


def same_bits(a: float, b: float) -> bool:
    """a and b are the same float: equal with the same sign, or both nan."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def input_names(fn: Callable[..., Any], count: int, reserved: bool = False) -> list[str]:
    """fn's parameter names when they are plain identifiers, else x0, x1, ...
    (``reserved``: the program also has parameters p0, p1, ..., ``params`` and ``sums``)."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(names) != count or len(set(names)) != count or not all(
            n.isidentifier() and not keyword.iskeyword(n) for n in names):
        return [f"x{i}" for i in range(count)]
    # a name the program uses for its own locals gets a trailing underscore: v1 -> v1_
    own = ("seed", "d", "program") + (("params", "sums", "START", "running", "numbers",
                                         "value", "error", "send", "point", "totals")
                                        if reserved else ())
    return [f"{n}_" if _local_like(n) or n in own or (reserved and n[:1] == "p" and n[1:].isdigit())
            else n for n in names]


def _local_like(name: str) -> bool:
    """Names the program uses for its own locals (v1, g1, z1, d1, rule_1, ...)."""
    return ((name[:1] in "vgzdr" and name[1:].isdigit()) or name.startswith(("rule_", "g_"))
            or name in _HEADER_NAMES)


_HEADER_NAMES = set(HEADER.replace(",", " ").replace("(", " ").replace(")", " ").split())


def record(fn: Callable[..., Any], numbers: Sequence[float]) -> tuple[list[Value], Any]:
    """fn run once on fresh leaves holding ``numbers``, every node kept (off ReLUs too)."""
    leaves = []
    for i, x in enumerate(numbers):
        number = as_number(x)
        if number is None or isinstance(x, Value):
            raise TypeError(f"trace() takes numbers after the function; argument {i + 1} is "
                            f"a {type(x).__name__}")
        leaves.append(Value(number))
    with whole_graphs():
        out = fn(*leaves)
    return leaves, out


@contextmanager
def whole_graphs() -> Iterator[None]:
    """Record every node, an off ReLU neuron's parents too, even under no_grad."""
    keep = fused.tracing.keep_off_neurons
    fused.tracing.keep_off_neurons = True
    try:
        with enable_grad():
            yield
    finally:
        fused.tracing.keep_off_neurons = keep


def trace(fn: Callable[..., Value], *example_numbers: float,
          params: Sequence[Value] | None = None) -> Program:
    """Run ``fn`` once on Values holding ``example_numbers`` and compile what it computed.

    Returns a ``Program``: ``program(*numbers)`` gives ``(f(numbers), gradient)`` with
    the bits of ``backward()``, and ``program.source`` shows the chain rule written out.
    Like ``jax.jit``, the trace sees the ops, not your Python: an ``if x.data > 0`` in
    ``fn`` is decided for the example numbers and baked in; ``program.verify(*numbers)``
    checks a point by building the graph again.

    ``params``: Values ``fn`` uses without taking them as arguments (a model's
    parameters). Then the inputs split in two: the program differentiates with respect
    to the parameters only (d loss / d w for a data point's loss), reads their numbers
    at each call, and can go on adding into running sums (``Program.accumulate``), as
    ``backward()`` adds one data point's terms after another's::

        per_point = trace(lambda x, y: loss(model([x]), y), 0.5, 1.0,
                          params=model.parameters())
        value, grads = per_point(0.3, -1.0)        # d loss / d p for each parameter
    """
    if not callable(fn):
        raise TypeError(f"trace() needs a function first, not {type(fn).__name__}")
    weights = _parameters(params)
    leaves, out = record(fn, example_numbers)
    if type(out) is not Value:
        raise TypeError(f"trace() needs a function that returns one Value, not "
                        f"{type(out).__name__}")
    names = input_names(fn, len(leaves), reserved=weights is not None)
    header = [(f"# The program of {getattr(fn, '__name__', 'f')}: "
               "{nodes} nodes, generated by engine.trace."),
              ("# Forward: one line per node, in creation order. "
               "Backward: each node's rule, in reverse order."), HEADER.rstrip("\n")]
    if weights is None:
        writer = GraphWriter(out, leaves, names)
        forward, backward, assigned = writer.body("seed")
        grads = ", ".join(writer.grad_name[x] if x in assigned else "-0.0"
                          for x in leaves) + ("," if len(leaves) == 1 else "")
        args = ", ".join(names)
        start = [f"def program({args}{', ' if args else ''}seed=1.0):"]
        ending = ("    # each input's sum of terms (from -0.0); a leaf's .grad adds it to what it held\n"
                  f"    return {writer.value(out)}, ({grads})")
    else:
        p_names = [f"p{k}" for k in range(len(weights))]
        writer = GraphWriter(out, [*weights, *leaves], [*p_names, *names], wrt=weights)
        forward, backward, _ = writer.body("seed", accumulate_inputs=True)
        grads = _tuple(writer.grad_name[p] for p in weights)
        header.append(f"START = (-0.0,) * {len(weights)}  # every sum as backward() starts it")
        body = forward + backward
        args = "".join(n + ", " for n in names)
        start = ["def program(params, sums=START):",
                 "    # One step's parameter numbers and the running sums the points add to,",
                 "    # kept between points in the fast locals of a generator (a closure would",
                 "    # copy a cell per parameter and per sum into every call of point).",
                 "    def running():",
                 *("    " + line for line in busiest_first(body, skip=["seed"])),
                 f"        {_tuple(p_names)} = params",
                 f"        {grads} = sums",
                 "        value = None",
                 "        while True:",
                 "            numbers = yield value",
                 "            if numbers is None:  # totals(): each parameter's sum so far",
                 f"                value = ({grads})",
                 "                continue",
                 f"            {args}seed, = numbers",
                 "            try:"]
        forward = ["            " + line for line in forward]
        backward = ["            " + line for line in backward]
        ending = ("            except Exception as error:  # raised in point(); the sums go on\n"
                  "                value = error\n"
                  "                continue\n"
                  "            # this point's terms are added to each parameter's sum\n"
                  f"            value = {writer.value(out)}\n\n"
                  "    send = running().send\n"
                  "    send(None)  # to the first yield\n\n"
                  f"    def point({args}seed=1.0):\n"
                  f"        value = send(({args}seed,))\n"
                  "        if value.__class__ is not float and isinstance(value, Exception):\n"
                  "            raise value\n"
                  "        return value\n\n"
                  "    def totals():\n"
                  "        return send(None)\n\n"
                  "    return point, totals")
    header[0] = header[0].format(nodes=len(writer.ops))
    if writer.rules:
        header.insert(1, (f"# {', '.join(writer.rules)}: ops without a template, called "
                          "through their own forward and rule (pass them in to run this)."))
    lines = [*header, "", *start,
             *("    " + line for line in forward),
             *("    " + line for line in backward),
             ending, ""]
    return Program(fn, names, "\n".join(lines), writer.rules, len(writer.ops), weights)


def _parameters(params: Sequence[Value] | None) -> list[Value] | None:
    """trace()'s ``params``, checked: distinct Values."""
    if params is None:
        return None
    weights = list(params)
    for i, p in enumerate(weights):
        if type(p) is not Value:
            raise TypeError(f"params must be Values; item {i} is a {type(p).__name__}")
    if len({id(p) for p in weights}) != len(weights):
        raise ValueError("params holds the same Value twice")
    return weights


def _tuple(names: Iterable[str]) -> str:
    """``a, b`` as a tuple's source (``a,`` for one name, ``()`` for none)."""
    names = list(names)
    return ", ".join(names) + ("," if len(names) == 1 else "") if names else "()"


def busiest_first(lines: list[str], skip: Iterable[str] = (), always: Sequence[str] = ()
                  ) -> list[str]:
    """First lines that name the locals these lines use most, so that they get the first
    of the function's slots: CPython reaches slots past 255 through an EXTENDED_ARG prefix,
    one more instruction on every use, and a program for a model has a thousand locals.
    A function's slots follow the order in which its names first appear, even in a block
    the compiler then drops (``if False:``), so naming them costs nothing at run time.
    Names in ``skip`` (the function's arguments, which hold the first slots) are left out;
    names in ``always`` (a loop's own: its index, its point) come first."""
    counts: dict[str, int] = {}
    for name in re.findall(r"\b(?:[vzgdr]\d+|g_p\d+|p\d+|x\d+)\b", "\n".join(lines)):
        counts[name] = counts.get(name, 0) + 1
    for name in skip:
        counts.pop(name, None)
    if len(counts) < 200:  # all in the first slots anyway: keep a small program readable
        return []
    busiest = [*always, *sorted((n for n in counts if n not in always),
                                key=lambda n: -counts[n])][:250]
    return ["    if False:  # never runs: names the busiest locals first (see busiest_first)",
            f"        {' = '.join(busiest)} = 0.0"]
