"""The chain rule over whole graphs: backward(), grad(), the visiting order, depth, memory.

PyTorch float64 is the reference wherever a number is compared (same expression, written
once, run on both). The examples start with micrograd's own test expressions.
"""

from __future__ import annotations

import gc
import math
import sys
from itertools import pairwise
from pathlib import Path

import pytest

from engine import (
    Value,
    backward_order,
    contributions,
    detect_anomaly,
    dot,
    grad,
    local_derivatives,
    vsum,
)
from tests.torch_oracle import (
    assert_matches_torch,
    close,
    import_torch,
    torch_dot,
    torch_leaves,
)

# ---- micrograd's two classic expressions (karpathy/micrograd, test/test_engine.py) ----------


def micrograd_sanity_check(x):
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    return h + q + q * x


def micrograd_more_ops(a, b):
    c = a + b
    d = a * b + b ** 3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    return g + 10.0 / f


def test_micrograd_sanity_check_is_bit_identical_to_torch():
    assert_matches_torch(micrograd_sanity_check, (-4.0,))


def test_micrograd_more_ops_matches_torch():
    # 10.0 / f is PyTorch's reciprocal(f) * 10, which may differ in the last bit
    assert_matches_torch(micrograd_more_ops, (-4.0, 2.0), exact=False)


# ---- one node used more than once: contributions add up ----------------------------------


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda a: a * a, None),
        (lambda a: a + a, None),
        (lambda a: a * a * a - a / (a + a), None),
        (lambda a: (a * 3).tanh() * (a * 3).sigmoid(), None),  # a -> a*3 twice -> product
        (lambda a: vsum([a, a, a * a]), lambda a: a + a + a * a),
    ],
    ids=["a*a", "a+a", "a*a*a - a/(a+a)", "diamond", "vsum with repeats"],
)
def test_a_reused_node_gets_the_sum_of_its_contributions(ours, theirs):
    assert_matches_torch(ours, (1.5,), theirs, exact=False)


def test_a_times_a_keeps_both_parents_and_gets_2a():
    a = Value(3.0)
    y = a * a
    assert y.parents == (a, a)
    y.backward()
    assert a.grad == 6.0


def test_diamond_of_shared_intermediates_is_bit_identical_to_torch():
    def diamond(a, b):
        m = a * b  # used by both branches
        left, right = m + a, m * b
        return left * right + m

    assert_matches_torch(diamond, (1.25, -0.75))


# ---- backward(): seeds, accumulation, fresh intermediates ------------------------------------


def test_backward_twice_accumulates_in_leaves_only_like_torch():
    a, b, c = Value(2.0), Value(3.0), Value(4.0)
    ab = a * b
    y = ab * c
    y.backward()
    y.backward()
    assert a.grad == 24.0  # micrograd gets 36: it accumulates into ab as well
    assert ab.grad == 4.0  # d y / d ab, recomputed on each call, not 8

    ta, tb, tc = torch_leaves((2.0, 3.0, 4.0))
    ty = (ta * tb) * tc
    ty.backward(retain_graph=True)
    ty.backward()
    assert (a.grad, b.grad, c.grad) == (ta.grad.item(), tb.grad.item(), tc.grad.item())


def test_zero_grad_resets_a_leaf_between_backward_calls():
    x = Value(3.0)
    y = x * x
    y.backward()
    x.zero_grad()
    y.backward()
    assert x.grad == 6.0


def test_backward_seed_scales_every_gradient(torch):
    point = (0.5, -2.0)

    def fn(a, b):
        return (a * b).tanh() + a

    ours = [Value(x) for x in point]
    fn(*ours).backward(grad=2.0)
    theirs = torch_leaves(point)
    fn(*theirs).backward(torch.tensor(2.0, dtype=torch.float64))
    assert [v.grad for v in ours] == [t.grad.item() for t in theirs]


@pytest.mark.parametrize("seed", [math.nan, math.inf, -math.inf])
def test_a_nan_or_infinite_seed_spreads_like_torch(seed):
    # inf times a local derivative of 0 (relu off) is nan in both libraries
    def fn(a, b):
        return (a * b).tanh() + (a - 3.0).relu() + b

    assert_matches_torch(fn, (0.5, -2.0), upstream=seed)


def test_detect_anomaly_names_a_nan_seed():
    x = Value(2.0)
    with detect_anomaly(), pytest.raises(FloatingPointError, match="nan"):
        (x * 3.0).backward(grad=math.nan)
    assert x.grad == 0.0  # a backward that fails leaves the leaves as they were


def test_backward_of_a_leaf_is_its_seed():
    x = Value(5.0)
    x.backward()
    assert x.grad == 1.0
    x.backward(grad=3)
    assert x.grad == 4.0


# ---- grad(): gradients as Values, and derivatives of derivatives ---------------------------


def test_grad_leaves_dot_grad_alone():
    x, y = Value(2.0), Value(-1.0)
    out = x * y + x
    gx, gy = grad(out, [x, y])
    assert (gx.data, gy.data) == (0.0, 2.0)
    assert (x.grad, y.grad, out.grad) == (0.0, 0.0, 0.0)


def test_grad_of_an_input_the_output_does_not_use_is_zero():
    x, unused = Value(2.0), Value(7.0)
    assert grad(x * 3, [unused])[0].data == 0.0


def test_grad_with_respect_to_an_intermediate_node_matches_torch(torch):
    # d y / d m for m = a*b inside y: m's users only, as torch.autograd.grad(y, m) gives
    def build(a, b):
        m = a * b
        return m, (m + a).tanh() * m + (m * 2.0).sigmoid()

    a, b = Value(0.8), Value(-1.25)
    m, y = build(a, b)
    (dm,) = grad(y, [m])
    (dm_graph,) = grad(y, [m], create_graph=True)
    ta, tb = torch_leaves((0.8, -1.25))
    tm, ty = build(ta, tb)
    (tdm,) = torch.autograd.grad(ty, tm)
    assert dm.data == dm_graph.data
    assert close(dm.data, tdm.item(), rel=1e-14)
    # and with respect to a leaf and a node that depends on it at once: each its own total
    da, dm2 = grad(y, [a, m])
    assert dm2.data == dm.data
    (tda,) = torch.autograd.grad(build(ta, tb)[1], ta)
    assert close(da.data, tda.item(), rel=1e-14)


def ours_nth_derivative(fn, point, wrt, n):
    leaves = [Value(x) for x in point]
    out = fn(*leaves)
    for _ in range(n):
        (out,) = grad(out, [leaves[wrt]], create_graph=True)
    return out.data


def torch_nth_derivative(fn, point, wrt, n):
    torch = import_torch()
    leaves = torch_leaves(point)
    out = fn(*leaves)
    for _ in range(n):
        (out,) = torch.autograd.grad(out, leaves[wrt], create_graph=True)
    return out.item()


@pytest.mark.parametrize(
    ("fn", "point"),
    [
        (lambda x: x.tanh(), (0.7,)),
        (lambda x: x.sigmoid(), (-1.3,)),
        (lambda x: x ** 3, (1.7,)),
        (lambda x: x.exp() * x.log(), (2.5,)),
        (lambda x: x.sqrt() / (x + 1), (0.8,)),
        (lambda x, y: (x * y).exp(), (0.4, -1.1)),
    ],
    ids=["tanh", "sigmoid", "x**3", "exp(x) log(x)", "sqrt(x)/(x+1)", "exp(x*y)"],
)
@pytest.mark.parametrize("order", [2, 3])
def test_second_and_third_derivatives_match_torch(fn, point, order):
    ours = ours_nth_derivative(fn, point, 0, order)
    theirs = torch_nth_derivative(fn, point, 0, order)
    assert close(ours, theirs), (ours, theirs)


# Every op, inside a graph that makes both its input and its upstream gradient depend on x
# and y: u = x*y + x (the op's input), then op(u) * (x - 0.5*y). A second derivative that
# treats the op's output or its upstream gradient as a constant (forgetting that they are
# functions of x and y too) gets the Hessian wrong.
SECOND_DERIVATIVE_OPS = [
    ("u + 1.5", lambda u, v: u + 1.5), ("1.5 + u", lambda u, v: 1.5 + u),
    ("u - 1.5", lambda u, v: u - 1.5), ("1.5 - u", lambda u, v: 1.5 - u),
    ("u * 2.5", lambda u, v: u * 2.5), ("u / 2.5", lambda u, v: u / 2.5),
    ("2.5 / u", lambda u, v: 2.5 / u), ("-u", lambda u, v: -u),
    ("u + v", lambda u, v: u + v), ("u - v", lambda u, v: u - v),
    ("u * v", lambda u, v: u * v), ("u / v", lambda u, v: u / v),
    ("u ** 2", lambda u, v: u ** 2), ("u ** 3", lambda u, v: u ** 3),
    ("u ** -1", lambda u, v: u ** -1), ("u ** -2", lambda u, v: u ** -2),
    ("u ** 0.5", lambda u, v: u ** 0.5), ("u ** -0.5", lambda u, v: u ** -0.5),
    ("u ** 1.5", lambda u, v: u ** 1.5), ("u ** 4", lambda u, v: u ** 4),
    ("2 ** u", lambda u, v: 2 ** u), ("0.5 ** u", lambda u, v: 0.5 ** u),
    ("u ** v", lambda u, v: u ** v), ("v ** u", lambda u, v: v ** u),
    ("exp", lambda u, v: u.exp()), ("log", lambda u, v: u.log()),
    ("tanh", lambda u, v: u.tanh()), ("sigmoid", lambda u, v: u.sigmoid()),
    ("relu", lambda u, v: u.relu()), ("sqrt", lambda u, v: u.sqrt()),
    ("abs", lambda u, v: abs(u)), ("abs(u) ** 3", lambda u, v: abs(u) ** 3),
    # the fused ops, each with the chain of elementary ops PyTorch runs instead
    ("vsum", (lambda u, v: vsum([u, v, u]), lambda u, v: u + v + u)),
    ("dot", (lambda u, v: dot([u, v], [v, u], u), lambda u, v: torch_dot([u, v], [v, u], u))),
    *((f"{act} neuron", (lambda u, v, act=act: dot([u, v], [v, u], u, activation=act),
                         lambda u, v, act=act: torch_dot([u, v], [v, u], u, act)))
      for act in ("relu", "tanh", "sigmoid")),
]
# u = 1.33 and v = 1.47 at the first point (every op defined); u = -0.57 at the second
# (abs and relu on their other side; the ops undefined there are left out)
HESSIAN_POINTS = [(0.7, 0.9), (-0.6, 1.95)]
NEEDS_POSITIVE_U = ("log", "sqrt", "u ** 0.5", "u ** -0.5", "u ** 1.5", "u ** v")


def hessian_cases():
    for name, op in SECOND_DERIVATIVE_OPS:
        ours, theirs = op if isinstance(op, tuple) else (op, op)
        for point in HESSIAN_POINTS:
            if point[0] < 0 and name in NEEDS_POSITIVE_U:
                continue
            yield pytest.param(ours, theirs, point, id=f"{name} at {point}")


def outer(op):
    def f(x, y):
        u, v = x * y + x, y * y - x * 0.5 + 0.8
        return op(u, v) * (x - 0.5 * y)
    return f


@pytest.mark.parametrize(("ours", "theirs", "point"), list(hessian_cases()))
def test_every_ops_second_derivatives_match_torch(ours, theirs, point, torch):
    x, y = (Value(p) for p in point)
    first = grad(outer(ours)(x, y), [x, y], create_graph=True)
    hessian = [[h.data for h in grad(g, [x, y])] for g in first]

    tx, ty = torch_leaves(point)
    t_first = torch.autograd.grad(outer(theirs)(tx, ty), (tx, ty), create_graph=True)
    t_hessian = [[h.item() for h in torch.autograd.grad(g, (tx, ty), retain_graph=True)]
                 for g in t_first]
    for row, t_row in zip(hessian, t_hessian):
        assert all(close(h, th, rel=1e-9, abs_tol=1e-12) for h, th in zip(row, t_row)), (
            hessian, t_hessian)


def test_hessian_of_two_variables_matches_torch(torch):
    def f(x, y):
        return x * x * y + (x * y).tanh() + (x / y).exp() + x ** 3

    point = (0.6, -1.4)
    x, y = (Value(p) for p in point)
    first = grad(f(x, y), [x, y], create_graph=True)
    hessian = [[h.data for h in grad(g, [x, y])] for g in first]

    tx, ty = torch_leaves(point)
    t_first = torch.autograd.grad(f(tx, ty), (tx, ty), create_graph=True)
    t_hessian = [[h.item() for h in torch.autograd.grad(g, (tx, ty), retain_graph=True)]
                 for g in t_first]
    for row, t_row in zip(hessian, t_hessian):
        assert all(map(close, row, t_row)), (hessian, t_hessian)
    assert close(hessian[0][1], hessian[1][0])  # mixed partials agree (Schwarz)


# ---- the order backward uses, and each step's share ----------------------------------------


def test_backward_order_is_decreasing_creation_order_root_first():
    a, b = Value(1.5), Value(-2.0)
    m = a * b
    y = (m + a).tanh() * m
    order = backward_order(y)
    assert order[0] is y
    assert [n._number for n in order] == sorted((n._number for n in order), reverse=True)
    assert all(not n.is_leaf for n in order)
    assert set(map(id, order)) == set(map(id, [y, y.parents[0], y.parents[0].parents[0], m]))


def test_local_derivatives_of_a_product_are_the_other_factor():
    a, b = Value(3.0), Value(-4.0)
    assert local_derivatives(a * b) == (-4.0, 3.0)
    assert contributions(a * b, 0.5) == (-2.0, 1.5)


def test_replaying_contributions_in_backward_order_reproduces_backward():
    # the chain rule by hand, with the engine's own pieces: the same numbers, to the bit
    a, b, c = Value(0.5), Value(-1.5), Value(2.0)
    m = a * b
    y = dot([m, c], [a, m.tanh()], b) / (c + m.sigmoid())
    y.backward()

    grads = {id(y): 1.0}
    for node in backward_order(y):
        for parent, share in zip(node.parents, contributions(node, grads[id(node)])):
            grads[id(parent)] = grads.get(id(parent), 0.0) + share
    for node in (a, b, c, m):
        assert grads[id(node)] == node.grad


# ---- depth and memory ------------------------------------------------------------------------


ROOT = Path(__file__).resolve().parent.parent


class _Tag(str):
    """A label that notes when its node is freed (the node's op, which holds it, goes then)."""

    def __del__(self) -> None:
        FREED.append(int(self))


FREED: list[int] = []


@pytest.mark.parametrize("backpropagated", [True, False])
def test_a_deep_chain_is_freed_newest_first_one_level_deep(backpropagated):
    # Freeing node k before node k - 1 means k - 1 was still held when k went: no node's
    # freeing ran inside another's. Freed by plain reference counting, a chain frees its
    # oldest nodes first, each inside the freeing of the one above it, as deep as the chain
    # (CPython defers past 50 levels; Pyodide's stack died at 3,000 to 5,000, issue 27).
    FREED.clear()
    x = Value(1.0)
    y = x
    for k in range(1, 3001):
        y = y * 1.0001
        y.label = _Tag(k)
    if backpropagated:
        y.backward()
    else:
        Value(0.0).backward()  # any backward closes the tape
    del y
    gc.collect()
    assert sorted(FREED) == list(range(1, 3001))
    assert FREED[-1] == 3000  # the newest node's label goes last, with the list it held
    assert all(a > b for a, b in pairwise(FREED[:-1])), FREED[:60]


DROP_A_MILLION = """
import threading
from engine import Value

def build_and_drop(backward):
    x = Value(1.0)
    y = x
    for _ in range(500_000):
        y = y * 1.0001 + 0.001
    if backward:
        y.backward()
    del y

threading.stack_size(64 * 1024)  # a small C stack, as in a browser's worker
for backward in (True, False):
    worker = threading.Thread(target=build_and_drop, args=(backward,))
    worker.start()
    worker.join()
print("freed")
"""


def _runnable(name: str) -> str | None:
    """An interpreter called ``name`` that runs: on the PATH, or pyenv's; None if none."""
    import glob
    import shutil
    import subprocess

    candidates = [shutil.which(name), *sorted(glob.glob(
        str(Path.home() / ".pyenv" / "versions" / f"{name.removeprefix('python')}*" / "bin" / name)))]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "-c", "pass"], capture_output=True, check=False).returncode == 0:
            return candidate
    return None


@pytest.mark.parametrize("python", ["this Python", "python3.13"])
def test_a_million_node_chain_is_freed_on_a_small_c_stack(python):
    # The shape of issue 27's crash: a deep graph built, then dropped, in a thread with a
    # small stack. CPython 3.11 survives even without the newest-first freeing (it defers
    # frees past 50 levels); CPython 3.13 defers by stack depth, and with a 64 KiB stack the
    # engine before that change died there (SIGSEGV), as Pyodide did. The test above checks
    # the freeing order itself, on any Python.
    import subprocess

    executable = sys.executable if python == "this Python" else _runnable(python)
    if executable is None:
        pytest.skip(f"{python} is not installed: the crash it shows needs its stack-depth check")
    result = subprocess.run([executable, "-c", DROP_A_MILLION], capture_output=True,
                            text=True, timeout=600, cwd=str(ROOT), check=False)
    assert result.returncode == 0 and result.stdout.strip() == "freed", result.stderr[-2000:]


def test_a_100000_op_chain_backpropagates_at_the_default_recursion_limit():
    steps = 50_000  # two ops each
    x = Value(1.0)
    y = x
    for _ in range(steps):
        y = y * 1.0001 + 0.001
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # CPython's default: a recursive backward would fail here
    try:
        y.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert len(backward_order(y)) == 2 * steps
    assert close(x.grad, 1.0001 ** steps), x.grad


class _SelfReferencingNode:
    """A node the way closure-based engines make them: its backward closure refers to it."""

    def __init__(self) -> None:
        self.grad = 0.0
        self.backward = lambda: self.grad  # self -> closure -> self: a reference cycle


def objects_left_for_the_cycle_collector(make_garbage, kind):
    """How many objects of ``kind`` ``make_garbage()`` leaves that refcounting cannot free."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        make_garbage()
        gc.set_debug(gc.DEBUG_SAVEALL)  # the collector keeps what it finds in gc.garbage
        gc.collect()
        return sum(type(obj) is kind for obj in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()


def test_the_cycle_detector_sees_a_self_referencing_closure():
    def make_garbage():
        nodes = [_SelfReferencingNode() for _ in range(10)]
        del nodes

    assert objects_left_for_the_cycle_collector(make_garbage, _SelfReferencingNode) == 10


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_graph_is_freed_without_the_cycle_collector(create_graph):
    def make_garbage():
        a, b = Value(0.3), Value(-1.2)
        m = a * b
        y = (dot([m, a], [b, m.relu()], a) + (m / b).exp() + abs(a) ** 2).tanh()
        y.backward()
        first = grad(y, [a, b], create_graph=create_graph)
        if create_graph:
            grad(first[0], [a, b])

    assert objects_left_for_the_cycle_collector(make_garbage, Value) == 0
