"""Run the same function on chainrule Values and on PyTorch float64 tensors, and compare.

A helper for the tests that use PyTorch as the reference. PyTorch is imported only when a
comparison needs it (``import_torch``, or the ``torch`` fixture of tests/conftest.py): without
it, those tests are skipped and say why, and every test that needs no oracle still runs.
A function written with Python's operators and the methods both libraries share
(``x.exp()``, ``x.relu()``, ``abs(x)``, ``2 - x``) runs unchanged on either.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import reduce
from importlib.util import find_spec
from operator import add
from typing import Any

import pytest

from engine import Value


def import_torch() -> Any:
    """The torch module, or a skip naming it as the missing oracle."""
    return pytest.importorskip("torch", reason="PyTorch float64 is this test's oracle "
                               '(pip install -e ".[test]")')


requires_torch = pytest.mark.skipif(find_spec("torch") is None,
                                    reason="PyTorch float64 is this test's oracle")
"""Mark a test that compares with PyTorch (for hypothesis tests, which cannot take fixtures)."""


def engine_result(fn: Callable[..., Value], points: Sequence[float], upstream: float = 1.0
                  ) -> tuple[float, list[float]]:
    """fn's value and the gradient of each input after ``backward(upstream)``, on Values."""
    leaves = [Value(x) for x in points]
    out = fn(*leaves)
    out.backward(upstream)
    return out.data, [leaf.grad for leaf in leaves]


def torch_leaves(points: Sequence[float]) -> list[Any]:
    """0-d float64 tensors that require grad, one per point."""
    torch = import_torch()

    return [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in points]


def torch_result(fn: Callable[..., Any], points: Sequence[float], upstream: float = 1.0
                 ) -> tuple[float, list[float]]:
    """fn's value and gradients on float64 tensors (an input torch leaves without one: 0.0)."""
    torch = import_torch()
    leaves = torch_leaves(points)
    out = fn(*leaves)
    out.backward(torch.tensor(upstream, dtype=torch.float64))
    return out.item(), [0.0 if x.grad is None else x.grad.item() for x in leaves]


def torch_dot(weights: Sequence[Any], inputs: Sequence[Any], bias: Any = None,
              activation: str | None = None) -> Any:
    """chainrule's fused ``dot`` written with elementary tensor ops: act(w1*x1 + ... + b)."""
    z = reduce(add, [w * x for w, x in zip(weights, inputs)])
    if bias is not None:
        z = z + bias
    return z if activation is None else getattr(z, activation)()


def identical(ours: float, theirs: float) -> bool:
    """Bit for bit: equal, nan matching nan, and the same sign on zeros and infinities."""
    if math.isnan(theirs):
        return math.isnan(ours)
    return ours == theirs and math.copysign(1.0, ours) == math.copysign(1.0, theirs)


def identical_gradient(ours: float, theirs: float) -> bool:
    """``identical``, except that a zero gradient may differ from PyTorch's in sign.

    PyTorch's ``.grad`` starts empty and keeps a first gradient of -0.0 as is; ours starts
    at 0.0, and 0.0 + -0.0 is 0.0 (tests/test_edge_cases.py pins the difference).
    """
    return identical(ours, theirs) or ours == theirs == 0.0


def close(ours: float, theirs: float, rel: float = 1e-9, abs_tol: float = 1e-12) -> bool:
    """Within rel (relative) or abs_tol (absolute); nan and infinities must be identical."""
    if not math.isfinite(theirs) or not math.isfinite(ours):
        return identical(ours, theirs)
    return math.isclose(ours, theirs, rel_tol=rel, abs_tol=abs_tol)


def assert_matches_torch(ours: Callable[..., Any], point: Sequence[float],
                         theirs: Callable[..., Any] | None = None, exact: bool = True,
                         upstream: float = 1.0) -> None:
    """``ours`` on Values and ``theirs`` (default: the same function) on tensors agree.

    ``exact``: value ``identical`` and gradients ``identical_gradient``; else all ``close``.
    ``upstream`` seeds both backward passes (d root / d output).
    """
    value, grads = engine_result(ours, point, upstream)
    torch_value, torch_grads = torch_result(theirs or ours, point, upstream)
    same_value, same_gradient = (identical, identical_gradient) if exact else (close, close)
    assert same_value(value, torch_value), f"value {value} vs torch {torch_value}"
    for i, (mine, torchs) in enumerate(zip(grads, torch_grads)):
        assert same_gradient(mine, torchs), f"gradient {i}: {mine} vs torch {torchs}"
