"""Compiled training steps: one minibatch's loss and gradient as one generated function.

``train_epoch(..., compile=True)`` trains through here. The step the eager loop takes,

    L = (1/N) sum_i loss(model(x_i), y_i)  [+ l2 * (1/2) sum w^2];   L.backward()

is written out once (``engine.program``) as a Python function of the parameters' numbers
and the batch: a loop over the points for the forward, then the penalty's terms, then a
loop over the points *in reverse* for the backward. That is the order in which
``backward()`` adds the terms into each parameter's ``.grad`` (it visits nodes in reverse
creation order: the penalty, made last, first; then the points, last first), so the
parameters after any number of steps are bit for bit those of eager training.

The per-point part is traced once from the model and the loss themselves (nothing is
rewritten by hand); a classification target (hinge, bce, cross-entropy) is a constant of
the loss, so each class gets its own copy of the per-point code (a batch with another
target, such as bce's soft label 0.3, takes an eager step). The stable losses choose
their formula from the numbers inside ops, so the choice is a branch of the program: bce
on the logit's sign (``Value.scale_by_sign``), cross-entropy the max it subtracts
(``engine.detached_max``, computed for every point, with nothing sent back through it).
bce-probabilities still clamps its logs with a Python ``if`` on the numbers, which one
trace cannot capture for every point: for it, and for any step whose first run does not
match the eager step bit for bit, training stays eager and says so once
(``CompileFallback``).
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from engine import Value, no_grad
from engine.program import (
    HEADER,
    GraphWriter,
    busiest_first,
    literal,
    same_bits,
    whole_graphs,
)
from nn.module import Module

__all__ = ["COMPILED_LOSSES", "CompileFallback", "CompiledStep", "compiled_step", "step_for"]

COMPILED_LOSSES = ("hinge", "bce", "cross-entropy", "mse", "l1")
"""The losses whose per-point formula a trace captures for every point."""

_TARGETS_AS_CONSTANTS = {"hinge": (0, 1), "bce": (0, 1)}  # the classes; others take t as an input
_CACHE: dict[Any, CompiledStep | None] = {}
_CACHE_SIZE = 32
_NOT_BUILT = object()
_BUILDING = threading.Lock()  # guards _BUILDS
_BUILDS: dict[Any, threading.Lock] = {}  # a lock per shape being built


class CompileFallback(UserWarning):
    """compile=True could not compile this step: it ran eagerly (the same numbers, slower)."""


def _structure(model: Module, loss: str, l2: float, width: int, l1: float = 0.0
               ) -> tuple[Any, ...]:
    """What the generated code depends on: the model's shape and kind, the loss, the
    penalties, x's width."""
    shapes = tuple((name, _shape(t)) for name, t in model.named_parameters())
    return type(model), repr(model), shapes, loss, l2, l1, width


def _shape(tensor: Any) -> Any:
    return None if isinstance(tensor, Value) else tuple(_shape(t) for t in tensor)


def compiled_step(model: Module, loss: str, l2: float, xb: Sequence[Sequence[float]],
                  yb: Sequence[Any], l1: float = 0.0) -> CompiledStep | None:
    """The compiled step for this model's structure (built on first use), or None when the
    step cannot be compiled (a ``CompileFallback`` warning says why, once) or when a
    target of this batch is not one of the classes the step was written for."""
    step = step_for(model, loss, l2, len(xb[0]), l1)
    return step if step is not None and step.takes(yb) else None


def step_for(model: Module, loss: str, l2: float, width: int, l1: float = 0.0
             ) -> CompiledStep | None:
    """The compiled step for this model's structure and rows of ``width`` numbers (built on
    first use), or None where it cannot be compiled. Finding it reads the whole model
    (its repr and shapes): ``train_epoch`` does so once per epoch, not once per batch."""
    key = _structure(model, loss, l2, width, l1)
    step = _CACHE.get(key, _NOT_BUILT)  # one lookup: another thread may evict meanwhile
    if step is not _NOT_BUILT:
        return step
    # A shape is built once, even when two threads ask for it together; other shapes are
    # built meanwhile (one slow build keeps nobody else waiting).
    with _BUILDING:
        building = _BUILDS.setdefault(key, threading.Lock())
    try:
        with building:
            step = _CACHE.get(key, _NOT_BUILT)
            return _build(model, loss, l2, width, l1, key) if step is _NOT_BUILT else step
    finally:
        with _BUILDING:
            _BUILDS.pop(key, None)


def _build(model: Module, loss: str, l2: float, width: int, l1: float, key: Any
           ) -> CompiledStep | None:
    step: CompiledStep | None
    if loss not in COMPILED_LOSSES:
        warnings.warn(f"compile=True: loss {loss!r} chooses its formula from the numbers it "
                      "is given (the clamp of bce-probabilities' logs), which "
                      "one trace cannot capture for every point; training eagerly. Compiled "
                      f"losses: {', '.join(COMPILED_LOSSES)}", CompileFallback, stacklevel=4)
        step = None
    else:
        step = CompiledStep.for_loss(model, loss, l2, width, l1)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = step
    return step


def forget(model: Module, loss: str, l2: float, width: int, l1: float = 0.0) -> None:
    """Mark this structure as eager-only (its compiled step did not match the eager one)."""
    _CACHE[_structure(model, loss, l2, width, l1)] = None


class CompiledStep:
    """A model's training step as generated Python: ``step(params, X, T)`` -> (mean loss,
    objective, gradient sums); the mean is without the penalty, as ``train_epoch`` reports.

    The sums are each parameter's d L / d p as ``backward()`` collects it (from -0.0);
    ``apply`` adds them into ``.grad`` as backward() does (``p.grad = p.grad + sum``).
    """

    def __init__(self, params: Sequence[Value], width: int,
                 term: Callable[[list[Value], Any], Value], tail: Callable[[Value], Value], *,
                 classes: tuple[float, ...] | None = None, mean: str = "div",
                 name: str = "model") -> None:
        """Trace ``term(point, target)`` (a point's loss term: Values in, from the model
        whose ``params`` these are; or the pair (term, the model's output at the point),
        for ``forward`` to return the outputs too) and ``tail(mean)`` (the objective from the batch's
        mean term), and write the step that loops over the points.

        ``classes``: the targets, when a target is a constant of the term (one copy of the
        per-point code each); None passes the target in as a number. ``mean``: how the
        terms' sum becomes their mean, as the eager step writes it: "div" (``vsum / N``)
        or "mul" (``vsum * (1.0 / N)``).
        """
        if mean not in ("div", "mul"):
            raise ValueError(f"mean must be 'div' or 'mul', not {mean!r}")
        params = list(params)
        names = [f"p{k}" for k in range(len(params))]
        point = [Value(0.5) for _ in range(width)]
        x_names = [f"x{k}" for k in range(width)]
        bodies = []
        for target in classes or (0.0,):
            t = Value(target) if classes is None else target
            with whole_graphs():
                made = term(list(point), t)
            root, output = made if isinstance(made, tuple) else (made, None)
            inputs = [*params, *point] + ([t] if classes is None else [])
            writer = GraphWriter(root, inputs, [*names, *x_names] + (["t"] if classes is None
                                                                    else []), wrt=params)
            body = writer.body("g_term", accumulate_inputs=True)
            shown = (f"[{', '.join(writer.value(v) for v in output)}]"
                     if isinstance(output, list) else
                     "None" if output is None else writer.value(output))
            bodies.append((target, writer, body, shown))
        # The penalty and the mean, traced with the mean as an input that stands for it; its
        # nodes numbered after the per-point ones, so that both keep their locals apart.
        data_loss = Value(0.0)
        with whole_graphs():
            objective = tail(data_loss)
        first = 1 + max(len(writer.ops) for _, writer, _, _ in bodies)
        tail_writer = GraphWriter(objective, [*params, data_loss], [*names, "mean"], first=first)
        _, tail_backward, tail_assigned = tail_writer.body("seed")
        of_mean = _made_from(data_loss, tail_writer.ops)
        tail_forward = ([line for node in tail_writer.ops if node not in of_mean
                         for line in tail_writer.forward(node)],
                        [line for node in tail_writer.ops if node in of_mean
                         for line in tail_writer.forward(node)])
        self.source, self.two_pass_source = _step_source(
            names, x_names, classes, bodies, tail_writer, objective, tail_forward,
            tail_backward, tail_assigned, params, mean)
        self._namespace: dict[str, Any] = {"in_two_passes": self._in_two_passes}
        for _, writer, _, _ in bodies:
            self._namespace.update(writer.rules)
        self._name = name
        code = compile(self.source, f"<training step of {name}>", "exec")
        exec(code, self._namespace)  # noqa: S102 - the source is ours, written from the graph
        self._step = self._namespace["step"]
        self._forward = self._namespace["forward"]
        self.classes = classes
        self.checked = False

    @classmethod
    def for_loss(cls, model: Module, loss: str, l2: float, width: int, l1: float = 0.0
                 ) -> CompiledStep:
        """The step ``train_epoch`` takes: ``batch_loss(loss, ...) + l2 * l2_penalty(model)
        + l1 * l1_penalty(model)`` (each penalty only when its strength is above 0)."""
        from nn.training import batch_loss, l1_penalty, l2_penalty

        def term(point: list[Value], target: Any) -> tuple[Value, Any]:
            output = model(point)
            mean = batch_loss(loss, [output], [target])
            return mean._a._a[0], output  # batch_loss(...) is vsum([term]) / 1: the term

        def tail(mean: Value) -> Value:  # as the eager step writes it (nn.training)
            objective = mean + l2 * l2_penalty(model) if l2 > 0 else mean
            return objective + l1 * l1_penalty(model) if l1 > 0 else objective

        classes = _TARGETS_AS_CONSTANTS.get(loss)
        if loss == "cross-entropy":  # a class index, one per output of the model
            with no_grad():
                outputs = model([0.5] * width)
            classes = tuple(range(len(outputs) if isinstance(outputs, list) else 1))
        step = cls(model.parameters(), width, term, tail, classes=classes,
                   name=type(model).__name__)
        step.loss, step.l1 = loss, l1
        return step

    def takes(self, T: Sequence[Any]) -> bool:
        """Whether the step has code for every target of ``T``: a soft label (bce's 0.3) is
        not one of the classes, and takes an eager step, as it must."""
        return self.classes is None or all(t in self.classes for t in T)

    def __call__(self, params: Sequence[Value], X: Sequence[Sequence[float]], T: Sequence[Any]
                 ) -> tuple[float, float, tuple]:
        """The step at these parameters (``model.parameters()`` of any model of this shape):
        the mean term, the objective (with the penalty) and each parameter's sum."""
        return self._step(X, T, [p.data for p in params])

    def forward(self, params: Sequence[Value], X: Sequence[Sequence[float]],
                T: Sequence[Any]) -> tuple[float, list]:
        """The forward alone, at these parameters: the mean loss over the rows (X, T), the
        number ``evaluate(...)["loss"]`` gives (without the penalties), and the model's
        output at each row as floats (``training.scores``'s), bit for bit."""
        return self._forward(X, T, [p.data for p in params])

    def check(self, model: Module, l2: float, xb: Sequence[Sequence[float]], yb: Sequence[Any],
              value: float) -> None:
        """After an eager step on (xb, yb), from gradients 0: compare this program's bits.

        The first batch of every compiled step goes through here; a difference (a model
        whose Python reads the numbers, a parameter shared across layers) keeps training
        eager for this structure, with a ``CompileFallback`` warning.
        """
        params = model.parameters()
        got, _, sums = self(params, xb, yb)
        want = [p.grad for p in params]
        if same_bits(got, value) and all(same_bits(0.0 + s, w) for s, w in zip(sums, want)):
            self.checked = True
            return
        forget(model, self.loss, l2, len(xb[0]), self.l1)
        warnings.warn(f"compile=True: the compiled step of {type(model).__name__} does not "
                      "give the eager step's bits (does the model branch on .data, or share a "
                      "parameter between layers?); training eagerly", CompileFallback,
                      stacklevel=3)

    def _in_two_passes(self, X: Sequence[Sequence[float]], T: Sequence[Any], P: list[float]
                       ) -> tuple[float, float, tuple]:
        """The step for a tail whose gradient reads the batch's mean (``mean * mean``, say):
        all the points' forwards first, then the backward. Compiled on first use, in place
        of this method, since the usual penalties never need it."""
        namespace = dict(self._namespace)
        code = compile(self.two_pass_source, f"<training step of {self._name}, two passes>",
                       "exec")
        exec(code, namespace)  # noqa: S102 - the source is ours, written from the graph
        self._namespace["in_two_passes"] = namespace["step"]
        return namespace["step"](X, T, P)

    @staticmethod
    def apply(params: Sequence[Value], sums: Sequence[float]) -> None:
        """Add each parameter's sum into its ``.grad``, as ``backward()`` ends."""
        for p, s in zip(params, sums):
            p.grad = p.grad + s


def _made_from(leaf: Value, ops: Sequence[Value]) -> set[Value]:
    """The nodes of ``ops`` (in creation order) whose number is computed from ``leaf``'s."""
    made: set[Value] = set()
    for node in ops:
        if any(p is leaf or p in made for p in node.parents):
            made.add(node)
    return made


def _step_source(names: list[str], x_names: list[str], classes: tuple | None,
                 bodies: list, tail: GraphWriter, objective: Value,
                 tail_forward: tuple[list[str], list[str]], tail_backward: list[str],
                 tail_assigned: set[Value], params: list[Value], mean_form: str) -> tuple[str, str]:
    """The step's source (the step in one pass over the points, and the forward alone), and
    the step in two passes, for a tail whose gradient reads the batch's mean.

    One pass: ``backward()`` adds into each parameter's sum the penalty's terms first, then
    each point's, the last point first; the gradient each point's term receives (g_term)
    comes from the tail's rules, which for ``mean + penalty`` never read the mean itself (an
    add passes g on; its guard reads its own number only where g == 0). So the penalty, its
    backward and g_term are worked out before the points, and each point's forward and
    backward follow one another, from the last point to the first: nothing is kept per
    point but its term, which the mean adds up first to last afterwards. Should the tail's
    rules read the mean (or a number made from it), that local is not yet assigned: the
    UnboundLocalError sends the step to its two-pass form, the same bits, found out by
    Python rather than by an analysis of the rules.
    """
    unpack = f"{', '.join(x_names)}{',' if len(x_names) == 1 else ''} = x"
    forward, backward, forward_only, one_pass = [], [], [], []
    merged = _one_body([[*fwd, "#", *bwd, "#", shown] for _, _, (fwd, bwd, _), shown in bodies]
                       ) if classes else None
    if merged is not None:  # one copy of the per-point code, the classes' numbers as locals
        lines, constants = merged
        cut = lines.index("#")
        cut2 = lines.index("#", cut + 1)
        writer = bodies[0][1]
        bodies = [(None, writer, (lines[:cut], lines[cut + 1:cut2], None), lines[cut2 + 1])]
        choose = []
        for k, (target, numbers) in enumerate(zip(classes, constants)):
            locals_, values = _tuple(numbers), _tuple(numbers.values())
            choose += [f"{'if' if k == 0 else 'elif'} t == {literal(float(target))}:",
                       f"    {locals_} = {values}"]
        choose += ["else:", f"    raise ValueError(f'target {{t!r}} is not one of {list(classes)}')"]
        forward, backward, forward_only, one_pass = (list(choose), list(choose), list(choose),
                                                     list(choose))
        classes = None
    for k, (target, writer, (fwd, bwd, _), shown) in enumerate(bodies):
        saved = sorted(set(re.findall(r"\b[vz]\d+\b", "\n".join(bwd))), key=_local_order)
        keep = f"saved.append(({', '.join(saved)}{',' if len(saved) == 1 else ''}))"
        term = writer.value(writer.root)
        branch = [*fwd, keep, f"total += {term}"]
        restore = [f"{', '.join(saved)}{',' if len(saved) == 1 else ''} = saved[i]"] if saved \
            else []
        back = [*restore, *bwd]
        alone = [*fwd, f"total += {term}", f"outputs.append({shown})"]
        both = [*fwd, f"terms[i] = {term}", *bwd]
        if classes is None:
            forward += branch
            backward += back
            forward_only += alone
            one_pass += both
        else:
            test = f"{'if' if k == 0 else 'elif'} t == {literal(float(target))}:"
            forward += [test, *("    " + line for line in branch)]
            backward += [test, *("    " + line for line in back)]
            forward_only += [test, *("    " + line for line in alone)]
            one_pass += [test, *("    " + line for line in both)]
    if classes is not None:
        other = ["else:", f"    raise ValueError(f'target {{t!r}} is not one of {list(classes)}')"]
        forward += other
        forward_only += other
        one_pass += other
    grads = ", ".join(tail.grad_name[p] for p in params)
    mean = tail.grad_name[tail.inputs[-1]]
    before_mean, after_mean = tail_forward
    mean_of_total = (["mean = div(total, float(len(X)))  # vsum(terms) / N"] if mean_form == "div"
                     else ["mean = total * c  # vsum(terms) * (1.0 / N)"])
    tail_rules = [  # the tail's backward, down to g_term: what each point's term receives
        "seed = 1.0",
        *tail_backward,
        *(f"{tail.grad_name[p]} = -0.0" for p in params if p not in tail_assigned),
        f"g_mean = 0.0 + {mean if tail.inputs[-1] in tail_assigned else '0.0'}",
        *(["g_sum = 0.0 + div(g_mean, float(len(X)))  # the mean's rule: g / N"]
          if mean_form == "div" else
          ["g_sum = 0.0", "if g_mean != 0.0 or mean - mean != 0.0:  # the mean's rule: g * c",
           "    g_sum = 0.0 + g_mean * c"]),
        "g_term = 0.0",
        "if g_sum != 0.0 or total - total != 0.0:  # vsum's rule: each term gets g",
        "    g_term = 0.0 + g_sum",
    ]
    unpack_params = f"    {', '.join(names)}{',' if len(names) == 1 else ''} = P"
    returned = f"    return mean, objective, ({grads}{',' if len(params) == 1 else ''})"
    scale = [] if mean_form == "div" else ["    c = 1.0 / len(X)"]
    step = [
        "# A training step generated by nn.compiled from the model and the loss.",
        HEADER.rstrip("\n"), "",
        "def step(X, T, P):",
        *busiest_first(one_pass, always=["i", "x", "t", "terms", "g_term",
                                         *sorted(set(re.findall(r"\bk\d+\b", "\n".join(one_pass))))]),
        unpack_params,
        *scale,
        "    try:  # the penalty and its rules first (made last, differentiated first)",
        *("        " + line for line in [*before_mean, *tail_rules]),
        "    except UnboundLocalError:  # the tail's rules read the mean: see _step_source",
        "        return in_two_passes(X, T, P)",
        "    # point by point from the last: its forward, its backward, in backward()'s order",
        "    terms = [0.0] * len(X)",
        "    for i in range(len(X) - 1, -1, -1):",
        "        x, t = X[i], T[i]",
        f"        {unpack}",
        *("        " + line for line in one_pass),
        "    total = 0.0",
        "    for term in terms:  # the terms' sum, first to last, as vsum adds them",
        "        total += term",
        *("    " + line for line in [*mean_of_total, *after_mean]),
        f"    objective = {tail.value(objective)}",
        returned,
        "",
        "",
        "def forward(X, T, P):",
        "    # the forward alone: the mean loss, as evaluate() computes it, and the outputs",
        *busiest_first(forward_only),
        unpack_params,
        "    total = 0.0",
        "    outputs = []",
        "    for x, t in zip(X, T):",
        f"        {unpack}",
        *("        " + line for line in forward_only),
        "    return div(total, float(len(X))), outputs",
        "",
    ]
    two_passes = [
        "def step(X, T, P):",
        *busiest_first(forward + backward),
        unpack_params,
        *scale,
        "    # forward, point by point: each point's term of the loss, as the graph computes it",
        "    saved = []",
        "    total = 0.0",
        "    for x, t in zip(X, T):",
        f"        {unpack}",
        *("        " + line for line in forward),
        *("    " + line for line in mean_of_total),
        "    # the penalty (made last, so differentiated first) and the sum",
        *("    " + line for line in [*before_mean, *after_mean]),
        f"    objective = {tail.value(objective)}",
        *("    " + line for line in tail_rules),
        "    # backward, point by point from the last: each parameter's terms in backward()'s order",
        "    for i in range(len(X) - 1, -1, -1):",
        "        x, t = X[i], T[i]",
        f"        {unpack}",
        *("        " + line for line in backward),
        returned,
        "",
    ]
    return "\n".join(step), "\n".join(two_passes)


_DIGITS = r"(?:\d+\.\d*(?:e[-+]?\d+)?|\d+e[-+]?\d+|inf|nan)"
_NUMBER = re.compile(rf"(?<![\w.])(\(-{_DIGITS}\)|-?{_DIGITS})(?![\w.(])")
"""A number written by ``literal`` in a program's source: ``1.0``, ``(-1.0)``, ``inf``."""


def _one_body(copies: list[list[str]]) -> tuple[list[str], list[dict[str, str]]] | None:
    """The per-point code of each class as one: the lines, with the numbers in which the
    copies differ replaced by locals k1, k2, ..., and each class's numbers for them; None
    when the copies differ otherwise (a template chosen by the constant, say).

    A hinge target is a constant of the traced term, so each class has a copy of the code
    that differs only there; one copy halves the source that ``compile()`` reads. Where a
    number becomes a local, the operations are the same, so are the bits. (A negative
    number before ``**`` stays: ``-1.0 ** 2`` is -(1.0 ** 2), ``k1 ** 2`` would not be.)
    """
    parts = [_NUMBER.split("\n".join(lines)) for lines in copies]
    first = parts[0]
    if any(len(p) != len(first) for p in parts):
        return None
    names: dict[tuple[str, ...], str] = {}
    out = list(first)
    for i in range(len(first)):
        column = tuple(p[i] for p in parts)
        if len(set(column)) == 1:
            continue
        if i % 2 == 0 or any(p[i + 1].lstrip().startswith("**") for p in parts if i + 1 < len(p)):
            return None  # not only numbers differ, or one raised to a power
        out[i] = names.setdefault(column, f"k{len(names) + 1}")
    constants = [{name: column[c] for column, name in names.items()} for c in range(len(copies))]
    return "".join(out).split("\n"), constants


def _tuple(items: Any) -> str:
    """Names or numbers as an assignment's side: ``a, b``, or ``a`` alone."""
    return ", ".join(items)


def _local_order(name: str) -> tuple[int, str]:
    return int(name[1:]), name[0]


def same_step(a: tuple[float, Sequence[float]], b: tuple[float, Sequence[float]]) -> bool:
    """Two steps' (loss, gradients) are the same bits."""
    return same_bits(a[0], b[0]) and len(a[1]) == len(b[1]) and all(
        same_bits(x, y) for x, y in zip(a[1], b[1]))
