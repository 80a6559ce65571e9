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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from engine import fused
from engine.autograd import graph_search
from engine.mode import enable_grad
from engine.op import Kind, as_number
from engine.value import _TWO_OVER_SQRT_PI, Value, literal

__all__ = ["CHUNK", "GraphWriter", "Program", "record", "trace", "whole_graphs"]

CHUNK = 64
"""The most terms one statement of the program adds (longer sums continue on the next line)."""

HEADER = f"""\
from math import erf, expm1, fabs, tanh
from engine.ieee import (cos, div, elu, exp, gelu, gelu_tanh, general_pow, inf, leaky_relu,
                         log, log1p, nan, pow, sigmoid, sign, sin, softplus, sqrt)
from engine.value import gelu_derivative, gelu_tanh_derivative, softplus_derivative
TWO_OVER_SQRT_PI = {_TWO_OVER_SQRT_PI!r}
"""


RELU = "0.0 if {z} < 0 else {z}"
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
    they change nothing else. ``nn.compiled`` builds a training step from its ``body``.
    """

    def __init__(self, root: Value, inputs: Sequence[Value], names: Sequence[str],
                 wrt: Sequence[Value] | None = None) -> None:
        self.root = root
        ops, _ = graph_search(root)
        self.ops = ops
        self.name = {x: n for x, n in zip(inputs, names)}
        self.grad_name = {x: f"g_{n}" for x, n in zip(inputs, names)}
        for k, node in enumerate(ops, 1):
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
            lines = [*_chunked_sum(v, ["0.0", *terms]), f"if {v} < 0:", f"    {v} = 0.0"]
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

    def backward(self, node: Value, assigned: dict[Value, str], lines: list[str]) -> None:
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
            assigned[p] = "exact"
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

    def body(self, seed: str, accumulate_inputs: bool = False) -> tuple[list[str], list[str],
                                                                         dict[Value, str]]:
        """The forward lines and the backward lines (leaves' sums accumulate into
        ``g_<input>`` locals that exist already when ``accumulate_inputs``)."""
        self._inputs_set = set(self.inputs)
        forward = [line for node in self.ops for line in self.forward(node)]
        self.find_reached()
        assigned: dict[Value, str] = {}
        if accumulate_inputs:
            assigned.update((x, "exact") for x in self.inputs)
        backward: list[str] = []
        leaves = [x for x in self.inputs if x in self.needs and x not in assigned]
        if leaves:  # backward() starts every leaf's sum at -0.0: adding to it changes nothing
            backward.append(" = ".join(self.grad_name[x] for x in leaves) + " = -0.0")
            assigned.update((x, "exact") for x in leaves)
        root = self.root
        if root in self.needs:
            if root in self._inputs_set and root in assigned:
                backward.append(f"{self.grad_name[root]} += {seed}")
            else:
                backward.append(f"{self.grad_name[root]} = {seed}")
            assigned[root] = "exact"
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
                 rules: dict[str, Any], nodes: int) -> None:
        self.fn = fn
        self.names = tuple(names)
        self.source = source
        self.nodes = nodes
        namespace: dict[str, Any] = dict(rules)
        code = compile(source, f"<program of {getattr(fn, '__name__', 'f')}>", "exec")
        exec(code, namespace)  # noqa: S102 - the source is ours, written from the graph
        self._run = namespace["program"]

    def __call__(self, *numbers: float, seed: float = 1.0) -> tuple[float, tuple[float, ...]]:
        value, sums = self.sums(*numbers, seed=seed)
        return value, tuple([0.0 + s for s in sums])  # a fresh leaf's .grad: 0.0 + the sum

    def sums(self, *numbers: float, seed: float = 1.0) -> tuple[float, tuple[float, ...]]:
        """The value, and each input's sum of terms as backward() collects it (from -0.0),
        before a leaf adds it to its ``.grad``: ``leaf.grad = before + sum``."""
        if len(numbers) != len(self.names):
            raise TypeError(f"this program takes {len(self.names)} numbers "
                            f"({', '.join(self.names)}), got {len(numbers)}")
        floats = []
        for name, x in zip(self.names, numbers):
            number = as_number(x)
            if number is None or isinstance(x, Value):
                raise TypeError(f"{name} must be a real number, not {type(x).__name__}")
            floats.append(number)
        return self._run(*floats, seed=float(seed))

    def verify(self, *numbers: float, seed: float = 1.0) -> bool:
        """True when the program gives backward()'s bits at these numbers; else a ValueError
        naming the first value or gradient that differs (e.g. a branch on ``.data`` in f)."""
        value, grads = self(*numbers, seed=seed)
        leaves = [Value(x) for x in numbers]
        out = self.fn(*leaves)
        out.backward(seed)
        expected = [("value", out.data, value)] + [
            (f"d/d{name}", leaf.grad, got) for name, leaf, got in zip(self.names, leaves, grads)]
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


def input_names(fn: Callable[..., Any], count: int) -> list[str]:
    """fn's parameter names when they are plain identifiers, else x0, x1, ..."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(names) != count or len(set(names)) != count or not all(
            n.isidentifier() and not keyword.iskeyword(n) for n in names):
        return [f"x{i}" for i in range(count)]
    # a name the program uses for its own locals gets a trailing underscore: v1 -> v1_
    return [f"{n}_" if _local_like(n) or n in ("seed", "d", "program") else n for n in names]


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


def trace(fn: Callable[..., Value], *example_numbers: float) -> Program:
    """Run ``fn`` once on Values holding ``example_numbers`` and compile what it computed.

    Returns a ``Program``: ``program(*numbers)`` gives ``(f(numbers), gradient)`` with
    the bits of ``backward()``, and ``program.source`` shows the chain rule written out.
    Like ``jax.jit``, the trace sees the ops, not your Python: an ``if x.data > 0`` in
    ``fn`` is decided for the example numbers and baked in; ``program.verify(*numbers)``
    checks a point by building the graph again.
    """
    if not callable(fn):
        raise TypeError(f"trace() needs a function first, not {type(fn).__name__}")
    leaves, out = record(fn, example_numbers)
    if type(out) is not Value:
        raise TypeError(f"trace() needs a function that returns one Value, not "
                        f"{type(out).__name__}")
    names = input_names(fn, len(leaves))
    writer = GraphWriter(out, leaves, names)
    forward, backward, assigned = writer.body("seed")
    grads = ", ".join(writer.grad_name[x] if x in assigned else "-0.0"
                      for x in leaves) + ("," if len(leaves) == 1 else "")
    header = [(f"# The program of {getattr(fn, '__name__', 'f')}: {len(writer.ops)} nodes, "
               "generated by engine.trace."),
              ("# Forward: one line per node, in creation order. "
               "Backward: each node's rule, in reverse order."), HEADER.rstrip("\n"), ""]
    if writer.rules:
        header.insert(1, (f"# {', '.join(writer.rules)}: ops without a template, called "
                          "through their own forward and rule (pass them in to run this)."))
    args = ", ".join(names)
    lines = [*header, f"def program({args}{', ' if args else ''}seed=1.0):",
             *("    " + line for line in forward),
             *("    " + line for line in backward),
             "    # each input's sum of terms (from -0.0); a leaf's .grad adds it to what it held",
             f"    return {writer.value(out)}, ({grads})", ""]
    return Program(fn, names, "\n".join(lines), writer.rules, len(writer.ops))
