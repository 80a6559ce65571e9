"""A mutation check: small wrong changes to the code, each of which the tests must notice.

A test suite is only as good as the bugs it catches. Each ``Mutant`` below is one plausible
slip (a flipped branch, a detached term, a reordered formula), written as an exact piece of
source text and its replacement. The check copies the repository to a temporary folder,
applies one mutant at a time to the copy (never to the checkout itself), runs the test files
the mutant names, and reports

* killed: some test failed (or the run timed out): the tests notice this slip;
* survived: every test passed on the wrong code: a hole in the tests;
* STALE: the old text is no longer in the file (or not exactly once), so the mutant says
  nothing; a refactor must update it (tests/test_mutants.py fails until then);
* error: pytest could not run (a mutant that breaks the syntax, a test file that is gone).

Before any mutant, the named test files run once on the unchanged copy: if they fail
there, a "killed" would mean nothing, so the check stops. Anything but "killed" fails the
check (exit status 1). Run it from the repository root:

    python -m tests.mutants                  # every mutant, one at a time
    python -m tests.mutants --list           # the names, files and tests, nothing run
    python -m tests.mutants sigmoid fsum     # only mutants whose name contains a word
    python -m tests.mutants --repo DIR       # mutate a copy of another checkout

It takes minutes (about 70 pytest runs), so it is not part of the ordinary test command.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 600  # seconds for one mutant's tests; a mutant that hangs counts as killed


@dataclass(frozen=True)
class Mutant:
    """Replace ``old`` (which must occur exactly once in ``path``) by ``new``; run ``tests``."""

    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


def _m(name: str, path: str, old: str, new: str, *tests: str) -> Mutant:
    return Mutant(name, path, old, new, tuple(f"tests/{t}" for t in tests))


VALUE = "engine/value.py"
FUSED = "engine/fused.py"
IEEE = "engine/ieee.py"
AUTOGRAD = "engine/autograd.py"
OPTIM = "nn/optim.py"
TAPE = "engine/tape.py"
RECORD = "engine/record.py"
PROGRAM = "engine/program.py"

MUTANTS: list[Mutant] = [
    # ---- the survivors a review found, each now with a test that kills it ----------------
    _m("fused linear forgets to note its older inputs", RECORD,
       "            tape.older.extend([x for x in xs if x._number < start])\n",
       "            pass\n", "test_fused.py"),
    _m("c**x: second derivative with out detached", VALUE,
       "else g * (out * ieee.log(c)),", "else g * (data_of(out) * ieee.log(c)),",
       "test_autograd.py"),
    _m("c/x: second derivative with out detached", VALUE,
       "lambda g, out, a, c: -g * divide(out, a)", "lambda g, out, a, c: -g * divide(data_of(out), a)",
       "test_autograd.py"),
    _m("abs: second derivative with g detached", VALUE,
       "lambda g, out, a, c: g * ieee.sign(data_of(a))",
       "lambda g, out, a, c: data_of(g) * ieee.sign(data_of(a))",
       "test_autograd.py"),
    _m("a**b: d/db with out detached", VALUE,
       "else g * (out * logarithm(a)),", "else g * (data_of(out) * logarithm(a)),",
       "test_autograd.py"),
    _m("c**x: second derivative with g detached", VALUE,
       "else g * (out * ieee.log(c)),", "else data_of(g) * (out * ieee.log(c)),",
       "test_autograd.py"),
    _m("c/x: second derivative with g detached", VALUE,
       "lambda g, out, a, c: -g * divide(out, a)", "lambda g, out, a, c: -data_of(g) * divide(out, a)",
       "test_autograd.py"),
    _m("a**b: d/db with g detached", VALUE,
       "else g * (out * logarithm(a)),", "else data_of(g) * (out * logarithm(a)),",
       "test_autograd.py"),
    _m("c**x: no special case for c == 0", VALUE,
       "g * 0.0 if c == 0.0 and data_of(a) >= 0.0 else g * (out * ieee.log(c))",
       "g * (out * ieee.log(c))",
       "test_edge_cases.py"),
    _m("a**b: no special case for b == 0 in d/da", VALUE,
       "0.0 if data_of(b) == 0.0 else g * (b * general_power(a, b - 1.0)),",
       "g * (b * general_power(a, b - 1.0)),",
       "test_edge_cases.py"),
    _m("a**b: d/da at b == 0 is the upstream gradient times 0", VALUE,
       "0.0 if data_of(b) == 0.0 else g * (b * general_power(a, b - 1.0)),",
       "g * 0.0 if data_of(b) == 0.0 else g * (b * general_power(a, b - 1.0)),",
       "test_edge_cases.py"),
    _m("a**b: d/da takes PyTorch's constant-exponent shortcuts", VALUE,
       "0.0 if data_of(b) == 0.0 else g * (b * general_power(a, b - 1.0)),",
       "0.0 if data_of(b) == 0.0 else g * (b * power(a, b - 1.0)),",
       "test_edge_cases.py"),
    _m("general_pow: overflow always +inf", IEEE,
       "return -inf if x < 0.0 and _is_odd_integer(e) else inf", "return inf",
       "test_edge_cases.py"),
    _m("general_pow: 0 to a negative power ignores the sign of zero", IEEE,
       "return math.copysign(inf, x) if _is_odd_integer(e) else inf", "return inf",
       "test_edge_cases.py"),
    _m("_is_odd_integer flipped", IEEE,
       "int(e) % 2 == 1 if", "int(e) % 2 == 0 if",
       "test_edge_cases.py"),
    _m("sigmoid backward reordered", VALUE,
       "lambda g, out, a, c: (g * (1.0 - out)) * out)",
       "lambda g, out, a, c: g * (out * (1.0 - out)))",
       "test_ops_vs_torch.py"),
    _m("fused sigmoid backward reordered", FUSED,
       "    return (g * (1.0 - out)) * out", "    return g * (out * (1.0 - out))",
       "test_fused.py"),
    _m("fused dot sums with math.fsum", FUSED,
       "_sum_in_order = sum if sys.version_info < (3, 12) else _python_sum",
       "_sum_in_order = lambda terms, start: start + math.fsum(terms)  # noqa",
       "test_fused.py"),
    _m("gradcheck atol 100 times looser", "engine/gradcheck.py",
       "atol: float = 1e-5,", "atol: float = 1e-3,", "test_gradcheck.py"),
    _m("gradcheck rtol 100 times looser", "engine/gradcheck.py",
       "rtol: float = 1e-3,", "rtol: float = 1e-1,", "test_gradcheck.py"),
    _m("gradcheck eps 100 times larger", "engine/gradcheck.py",
       "eps: float = 1e-6,\n    atol", "eps: float = 1e-4,\n    atol", "test_gradcheck.py"),
    _m("Linear init bound uses nout", "nn/layers.py",
       "bound = 1.0 / math.sqrt(nin)", "bound = 1.0 / math.sqrt(nout)", "test_layers.py"),
    _m("Linear bias range halved", "nn/layers.py",
       "self.bias = [Value(rng.uniform(-bound, bound))",
       "self.bias = [Value(rng.uniform(-bound / 2, bound / 2))", "test_layers.py"),
    _m("Standardizer: only var == 0 counts as constant", "nn/data.py",
       "constant = var <= n * eps * var + (n * mean * eps) ** 2", "constant = var == 0",
       "test_standardizer.py"),
    _m("lerp takes its first form at weight 0.5", OPTIM,
       "if abs(weight) < 0.5:", "if abs(weight) <= 0.5:", "test_optim.py"),
    _m("Adam divides before multiplying by the step size", OPTIM,
       "return x - step_size * m[i] / denominator", "return x - step_size * (m[i] / denominator)",
       "test_optim.py"),
    _m("demo --optimizer radam runs Adam", "nn/registry.py",
       '"radam": OptimizerEntry(optim.RAdam,', '"radam": OptimizerEntry(optim.Adam,',
       "test_demo.py"),
    _m("demo --optimizer momentum without momentum", "nn/registry.py",
       'OptimizerEntry(optim.SGD, {"momentum": 0.9}', "OptimizerEntry(optim.SGD, {}",
       "test_demo.py"),
    _m("demo --loss bce runs hinge", "demo.py",
       "    return args.loss\n", '    return "hinge" if args.loss == "bce" else args.loss\n',
       "test_demo.py"),
    # ---- slips of the kind the suite already caught (kept so that it goes on catching) ----
    _m("a * b: derivatives swapped", VALUE,
       "lambda g, out, a, b: (g * b, g * a)", "lambda g, out, a, b: (g * a, g * b)",
       "test_ops_vs_torch.py"),
    _m("a - b: d/db sign lost", VALUE,
       'Op("-", "binary", lambda g, out, a, b: (g, -g))', 'Op("-", "binary", lambda g, out, a, b: (g, g))',
       "test_ops_vs_torch.py"),
    _m("c - x: d/dx sign lost", VALUE,
       "lambda g, out, a, c: -g, constant_first=True", "lambda g, out, a, c: g, constant_first=True",
       "test_ops_vs_torch.py"),
    _m("a / b: d/db without the minus", VALUE,
       "(divide(g, b), -g * divide(out, b))", "(divide(g, b), g * divide(out, b))",
       "test_ops_vs_torch.py"),
    _m("tanh derivative 1 - tanh", VALUE,
       "lambda g, out, a, c: g * (1.0 - out * out))", "lambda g, out, a, c: g * (1.0 - out))",
       "test_ops_vs_torch.py"),
    _m("relu passes gradient at the kink", VALUE,
       "0.0 if float(out) <= 0.0 else g", "0.0 if float(out) < 0.0 else g",
       "test_ops_vs_torch.py"),
    _m("log derivative 1/out", VALUE,
       "lambda g, out, a, c: divide(g, a), zero_safe=False)",
       "lambda g, out, a, c: divide(g, out), zero_safe=False)",
       "test_ops_vs_torch.py"),
    _m("sqrt derivative without the 2", VALUE,
       "divide(g, 2.0 * out)", "divide(g, out)", "test_ops_vs_torch.py"),
    _m("x**e: derivative uses e instead of e - 1", VALUE,
       "g * (e * power(a, e - 1.0))", "g * (e * power(a, e))", "test_ops_vs_torch.py"),
    _m("pow: x**3 by libm's pow instead of x * x * x", IEEE,
       "        return x * x * x", "        return general_pow(x, e)", "test_ops_vs_torch.py"),
    _m("relu forward lets -0.0 through as 0.0", VALUE,
       "0.0 if x < 0.0 else x, self, None", "0.0 if x <= 0.0 else x, self, None",
       "test_edge_cases.py"),
    _m("div: 0/0 gives inf", IEEE,
       "if a == 0.0 or math.isnan(a):", "if math.isnan(a):", "test_edge_cases.py"),
    _m("sign of nan is 1", IEEE,
       "    if x < 0.0:\n        return -1.0\n    return 0.0",
       "    if x < 0.0:\n        return -1.0\n    return 1.0 if x != x else 0.0",
       "test_edge_cases.py"),
    _m("sqrt of -0.0 is nan", IEEE,
       "return math.sqrt(x) if x >= 0.0 else nan",
       "return math.sqrt(x) if x > 0.0 else 0.0 if x == 0.0 else nan", "test_edge_cases.py"),
    _m("zero_safe skip also for unsafe ops", AUTOGRAD,
       "if op.zero_safe and math.isfinite(node.data):", "if math.isfinite(node.data):",
       "test_fused.py"),
    _m("leaves overwrite instead of accumulating", AUTOGRAD,
       "    for leaf, before in zip(leaves, accumulated):\n        leaf.grad = before + leaf.grad",
       "    for leaf, before in zip(leaves, accumulated):\n        leaf.grad = leaf.grad",
       "test_autograd.py"),
    _m("backward walks the nodes oldest first", AUTOGRAD,
       "    for node in reversed(ops):\n        op = node._op",
       "    for node in ops:\n        op = node._op", "test_autograd.py"),
    _m("grad() forgets to add a second contribution", AUTOGRAD,
       "grads[p] = d if before is None else before + d", "grads[p] = d",
       "test_autograd.py"),
    _m("fused neuron: weight gradients from the weights", FUSED,
       "return [gz * x for x in xs] + [gz]\n", "return [gz * x for x in xs[::-1]] + [gz]\n",
       "test_fused.py", "test_reference_backward.py"),
    _m("fused tanh neuron derivative 1 - out", FUSED,
       "    return g * (1.0 - out * out)", "    return g * (1.0 - out)", "test_fused.py"),
    _m("fused relu neuron on at exactly 0", RECORD,
       "                if data <= 0.0:\n", "                if data < 0.0:\n", "test_fused.py"),
    _m("gradcheck compares against analytic instead of numeric", "engine/gradcheck.py",
       "passed = gap <= atol + rtol * abs(numeric)", "passed = gap <= atol + rtol * abs(analytic)",
       "test_gradcheck.py"),
    _m("SGD momentum buffer without dampening", OPTIM,
       "buffer[i] * self.momentum + (1 - self.dampening) * g", "buffer[i] * self.momentum + g",
       "test_optim.py"),
    _m("RAdam switches at rho_t > 4", OPTIM,
       "if rho_t > 5.0:", "if rho_t > 4.0:", "test_optim.py"),
    _m("Adam without the second bias correction", OPTIM,
       "bias_correction2_sqrt = (1 - b2**t) ** 0.5", "bias_correction2_sqrt = 1.0",
       "test_optim.py"),
    _m("binary cross-entropy clamps at -10", "nn/losses.py",
       "return -100.0 if log_x.data < -100.0 else log_x",
       "return -10.0 if log_x.data < -10.0 else log_x", "test_losses.py"),
    _m("log1p loses its correction term", "nn/losses.py",
       "return w.log() + (u - (w - 1.0)) / w", "return w.log()", "test_losses.py"),
    # ---- the other findings of the same review -------------------------------------------
    _m("a save forgets to fsync its folder", "nn/serialization.py",
       "        raise\n    _sync_folder(folder)\n", "        raise\n", "test_serialization.py"),
    _m("backward turns a nan or infinite seed into 1", AUTOGRAD,
       "            _chain_rule(root, seed, ops, leaves, exactly_roots)\n",
       "            _chain_rule(root, seed if math.isfinite(seed) else 1.0, ops, leaves, exactly_roots)\n",
       "test_autograd.py"),
    _m("grad() with respect to an op node counts only its first user", AUTOGRAD,
       "            g = grads.get(node)\n", "            g = grads.pop(node, None)\n",
       "test_autograd.py"),
    # ---- the tape without a field in the node (creation numbers tell who knows a node) ----
    _m("backward trusts a tape that another thread recorded beside", TAPE,
       "if any(x._op.kind is not leaf for x in older) or others_since(self):",
       "if any(x._op.kind is not leaf for x in older):", "test_threads.py"),
    _m("a closed tape forgets its newest number", TAPE,
       "    _closed_newest = max(_closed_newest, tape.newest())\n", "",
       "test_threads.py"),
    _m("an older op node among the inputs goes unnoticed", TAPE,
       "if any(x._op.kind is not leaf for x in older) or others_since(self):",
       "if others_since(self):", "test_tape.py"),
    _m("a leaf made while recording does not join the tape", RECORD,
       "    tape.leaves.append(leaf)\n", "", "test_tape.py", "test_autograd.py"),
    # ---- one home for making nodes: every kind notes its older inputs -----------------------
    _m("an n-ary node notes its older inputs for vsum alone (define_op forgets)", RECORD,
       "        tape.older.extend([x for x in inputs if x._number < start])\n",
       "        if op.name == \"sum\":\n"
       "            tape.older.extend([x for x in inputs if x._number < start])\n",
       "test_tape.py"),
    _m("a unary node forgets its older input", RECORD,
       "        if a._number < tape.start:\n            tape.older.append(a)\n", "",
       "test_tape.py"),
    _m("a binary node forgets its second older input", RECORD,
       "        if b._number < start:\n            tape.older.append(b)\n", "",
       "test_tape.py"),
    _m("a fused neuron's add_into forgets the bias", FUSED,
       "        weights_and_bias[-1].grad += gz\n", "", "test_fused.py", "test_reference_backward.py"),
    _m("a fused neuron's add_into sends the inputs their own values", FUSED,
       "            for x, w in zip(xs, wb_numbers):\n",
       "            for x, w in zip(xs, x_numbers):\n", "test_fused.py", "test_reference_backward.py"),
    _m("a neuron's inputs read from the weights' cache entry", AUTOGRAD,
       "                inputs = read.get(id(b))\n", "                inputs = read.get(id(parents))\n",
       "test_fused.py"),
    # ---- compiled programs: source templates, the program's order, the training loop --------
    _m("compiled: b - a's template sends b +g", VALUE,
       '_SUB.source = ("{a} - {b}", "{g}", "-{g}")', '_SUB.source = ("{a} - {b}", "{g}", "{g}")',
       "test_program.py"),
    _m("compiled: sigmoid's template multiplies in another order", VALUE,
       '"({g} * (1.0 - {out})) * {out}")', '"{g} * ((1.0 - {out}) * {out})")',
       "test_program.py"),
    _m("compiled: relu's template passes g at the kink", VALUE,
       '"0.0 if {out} <= 0.0 else {g}")', '"0.0 if {out} < 0.0 else {g}")', "test_program.py"),
    _m("compiled: an off ReLU neuron's gate is dropped", FUSED,
       '"relu": ("0.0 if {z} < 0.0 else {z}", "{g}", "{out} <= 0.0"),',
       '"relu": ("0.0 if {z} < 0.0 else {z}", "{g}", None),', "test_program.py"),
    _m("compiled: the rules run in creation order", PROGRAM,
       "        for node in reversed(self.ops):\n            if node in self.needs:",
       "        for node in self.ops:\n            if node in self.needs:", "test_program.py"),
    _m("compiled: a leaf's sum starts at +0.0", PROGRAM,
       'backward.append(" = ".join(self.grad_name[x] for x in leaves) + " = -0.0")',
       'backward.append(" = ".join(self.grad_name[x] for x in leaves) + " = 0.0")',
       "test_program.py"),
    _m("compiled: a node with gradient 0 is always skipped", PROGRAM,
       'rare = f"{v} - {v} != 0.0"', 'rare = "False"', "test_program.py"),
    _m("compiled: the training step goes through the points forwards", "nn/compiled.py",
       '"    terms = [0.0] * len(X)",\n        "    for i in range(len(X) - 1, -1, -1):"',
       '"    terms = [0.0] * len(X)",\n        "    for i in range(len(X)):"',
       "test_compiled_training.py", "test_bench_w1_compiled.py"),
    _m("compiled: the one-pass step adds the terms last to first", "nn/compiled.py",
       '"    for term in terms:  #', '"    for term in reversed(terms):  #',
       "test_compiled_training.py", "test_bench_w1_compiled.py"),
    _m("compiled: the two-pass step goes through the points forwards", "nn/compiled.py",
       'backward()\'s order",\n        "    for i in range(len(X) - 1, -1, -1):"',
       'backward()\'s order",\n        "    for i in range(len(X)):"',
       "test_compiled_training.py"),
    _m("compiled: a per-point program hands back an error instead of raising it", PROGRAM,
       '"            raise value\\n"', '"            return value\\n"', "test_program.py"),
    _m("compiled: scale_by_sign's rule takes the negative slope at 0", VALUE,
       '"{g} * ({c[0]} if {a} >= 0.0 else {c[1]})")', '"{g} * ({c[0]} if {a} > 0.0 else {c[1]})")',
       "test_program.py"),
    _m("compiled: scale_by_sign's forward keeps one slope", VALUE,
       '_SCALE_BY_SIGN.source = ("{a} * ({c[0]} if {a} >= 0.0 else {c[1]})",',
       '_SCALE_BY_SIGN.source = ("{a} * {c[0]}",', "test_program.py",
       "test_compiled_training.py"),
    _m("compiled: a detached max is differentiated like its inputs", PROGRAM,
       "            if _sends_back(node) and any(p in self.needs for p in node.parents):",
       "            if any(p in self.needs for p in node.parents):", "test_program.py",
       "test_compiled_training.py"),
    _m("compiled: the detached max takes the smallest logit", FUSED,
       '_DETACHED_MAX.source = ("max({args})", None, None)',
       '_DETACHED_MAX.source = ("min({args})", None, None)',
       "test_program.py", "test_compiled_training.py"),
    _m("compiled: bce's targets are not constants (t baked in at 0)", "nn/compiled.py",
       '_TARGETS_AS_CONSTANTS = {"hinge": (0, 1), "bce": (0, 1)}',
       '_TARGETS_AS_CONSTANTS = {"hinge": (0, 1)}', "test_compiled_training.py"),
    _m("compiled: the mean loss forgets the last point", "nn/compiled.py",
       'alone = [*fwd, f"total += {term}", f"outputs.append({shown})"]',
       'alone = [*fwd, f"total = {term}", f"outputs.append({shown})"]',
       "test_playground.py"),
    _m("compiled: a per-point program's sums start at +0.0", PROGRAM,
       '"START = (-0.0,) * {len(weights)}', '"START = (0.0,) * {len(weights)}', "test_program.py"),
    _m("compiled: the hinge classes' code is merged with the first class's numbers",
       "nn/compiled.py", "out[i] = names.setdefault(column, ",
       "out[i] = column[0]; names.setdefault(column, ",
       "test_compiled_training.py"),
]


# ---- running them ----------------------------------------------------------------------------

_NOT_COPIED = shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache", ".hypothesis",
                                     ".ruff_cache", "*.egg-info", "out", "*.pyc")


def stale_reason(mutant: Mutant, root: Path = ROOT) -> str | None:
    """Why ``mutant`` cannot be applied to the files under ``root`` (None if it can)."""
    path = root / mutant.path
    if not path.exists():
        return f"{mutant.path} does not exist"
    count = path.read_text(encoding="utf-8").count(mutant.old)
    if count != 1:
        return f"the old text occurs {count} times in {mutant.path}, not once"
    if mutant.old == mutant.new:
        return "the new text is the old text"
    missing = [t for t in mutant.tests if not (root / t).exists()]
    if missing:
        return f"test file(s) {missing} do not exist"
    return None


def run_tests(tests: list[str] | tuple[str, ...], copy: Path
              ) -> subprocess.CompletedProcess[str] | None:
    """pytest -x -q on ``tests`` inside ``copy`` (None if it ran past ``TIMEOUT``)."""
    # PYTHONPATH makes every process (pytest's subprocesses too) import the copy's modules,
    # never an installed checkout's.
    env = dict(os.environ, PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1")
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    try:
        return subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return None


def run_mutant(mutant: Mutant, copy: Path) -> tuple[str, str]:
    """Apply ``mutant`` to the copy, run its tests, restore the file: (verdict, detail)."""
    reason = stale_reason(mutant, copy)
    if reason:
        return "STALE", reason
    path = copy / mutant.path
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace(mutant.old, mutant.new), encoding="utf-8")
    try:
        done = run_tests(mutant.tests, copy)
    finally:
        path.write_text(original, encoding="utf-8")
    if done is None:
        return "killed", f"timed out after {TIMEOUT} s"
    last = (done.stdout.strip().splitlines() or [""])[-1]
    if done.returncode == 0:
        return "survived", last
    if done.returncode == 1:
        return "killed", last
    return "error", f"pytest exit status {done.returncode}: {last or done.stderr[-300:]}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutants", description=__doc__.split(
        "\n")[0])
    parser.add_argument("words", nargs="*", help="run only mutants whose name contains one")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--repo", type=Path, default=ROOT,
                        help="the checkout to copy and mutate (default: this one)")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS
              if not args.words or any(w.lower() in m.name.lower() for w in args.words)]
    if args.list:
        for m in chosen:
            print(f"{m.name:60} {m.path:22} {' '.join(m.tests)}")
        return 0
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="chainrule-mutants-") as folder:
        copy = Path(folder) / "repo"
        shutil.copytree(args.repo, copy, ignore=_NOT_COPIED)
        tests = sorted({t for m in chosen for t in m.tests if (copy / t).exists()})
        baseline = run_tests(tests, copy)
        if baseline is None or baseline.returncode != 0:
            tail = "timed out" if baseline is None else baseline.stdout.strip()[-2000:]
            print(f"the unchanged copy fails its own tests, so no mutant is run:\n{tail}")
            return 1
        print(f"unchanged copy: {baseline.stdout.strip().splitlines()[-1]}", flush=True)
        for k, mutant in enumerate(chosen, 1):
            start = time.perf_counter()
            verdict, detail = run_mutant(mutant, copy)
            counts[verdict] = counts.get(verdict, 0) + 1
            seconds = time.perf_counter() - start
            print(f"[{k:2}/{len(chosen)}] {verdict:8} {mutant.name} ({seconds:.0f} s): {detail}",
                  flush=True)
    summary = ", ".join(f"{counts.get(v, 0)} {v}" for v in ("killed", "survived", "STALE",
                                                           "error"))
    print(f"{len(chosen)} mutants: {summary}")
    return 0 if counts.get("killed", 0) == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
