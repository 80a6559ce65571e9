"""The engines, and the few scalar operations W2-W4 need from each.

W2-W4 build graphs with ``+``, ``*``, ``.relu()`` and ``.tanh()`` on scalars, which every
engine spells the same way. What differs is how a leaf is made and how its gradient is read;
a ``ScalarEngine`` holds just that. Engines are imported lazily, so a worker process imports
only the engine it measures (importing torch alone adds about 160k objects that Python's
garbage collector then walks: it would slow micrograd).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ENGINES = ("chainrule", "micrograd", "torch-scalar", "torch-batched", "by-hand")

W1_ONLY = ("torch-batched", "by-hand")
"""Engines with no scalar operations: they run the training step W1 alone."""

# The module each engine needs; an engine whose module cannot be found is "not installed".
REQUIRED_MODULE = {
    "chainrule": "engine",
    "micrograd": "micrograd",
    "torch-scalar": "torch",
    "torch-batched": "torch",
    "by-hand": "bench",  # plain floats: nothing to install
}


def is_installed(engine: str) -> bool:
    """True when the engine's module can be imported (checked without importing it)."""
    return importlib.util.find_spec(REQUIRED_MODULE[engine]) is not None


@dataclass(frozen=True)
class ScalarEngine:
    """How one engine makes a leaf and reads a value and a gradient; whether it has tanh."""

    name: str
    leaf: Callable[[float], Any]
    value_of: Callable[[Any], float]
    grad_of: Callable[[Any], float]
    has_tanh: bool


def _chainrule() -> ScalarEngine:
    from engine import Value

    return ScalarEngine("chainrule", Value, lambda v: v.data, lambda v: v.grad, has_tanh=True)


def _micrograd() -> ScalarEngine:
    from micrograd.engine import Value

    return ScalarEngine(
        "micrograd", Value, lambda v: float(v.data), lambda v: float(v.grad), has_tanh=False
    )


def _torch_scalar() -> ScalarEngine:
    import torch

    torch.set_num_threads(1)

    def leaf(x: float) -> Any:
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    def grad_of(t: Any) -> float:
        return 0.0 if t.grad is None else t.grad.item()

    return ScalarEngine("torch-scalar", leaf, lambda t: t.item(), grad_of, has_tanh=True)


SCALAR_ENGINES = {"chainrule": _chainrule, "micrograd": _micrograd, "torch-scalar": _torch_scalar}


def scalar_engine(name: str) -> ScalarEngine:
    """The scalar operations of engine ``name`` (the ``W1_ONLY`` engines have none)."""
    if name not in SCALAR_ENGINES:
        raise ValueError(f"engine {name!r} has no scalar workloads (W2-W4)")
    return SCALAR_ENGINES[name]()
