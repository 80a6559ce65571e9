"""Parameter tensors: a Value, a list of Values, or equal rows of Values, and their shapes.

A module's parameters are stored the way PyTorch would store them: a single Value (shape
``()``), a list of Values (a vector, shape ``(n,)``, like a bias) or a list of equal rows
of Values (a matrix, shape ``(rows, columns)``, like a weight of ``out x in``). This file
tells those shapes apart, flattens them, and checks numbers that are to be loaded into
them, so that ``module.py`` can stay about modules.
"""

from __future__ import annotations

import math
from itertools import chain
from typing import Any

from engine import Value

Tensor = Value | list[Value] | list[list[Value]]
Shape = tuple[int, ...]


def shape_of(name: str, tensor: Any) -> Shape:
    """The shape of a parameter tensor; a TypeError if it is not one of the three forms."""
    if type(tensor) is Value:
        return ()
    # Types and lengths are gathered into sets (at C speed: optimizers and zero_grad() ask
    # for every parameter at each step) and compared with what each form allows.
    if isinstance(tensor, list) and set(map(type, tensor)) <= {Value}:
        return (len(tensor),)
    if (
        isinstance(tensor, list)
        and tensor
        and all(isinstance(row, list) for row in tensor)
        and len(set(map(len, tensor))) == 1
        and set(map(type, chain.from_iterable(tensor))) <= {Value}
    ):
        return (len(tensor), len(tensor[0]))
    raise TypeError(
        f"parameter {name} must be a Value, a list of Values or a list of equal rows of "
        f"Values, not {type(tensor).__name__}"
    )


def flatten(tensor: Tensor) -> list[Value]:
    if type(tensor) is Value:
        return [tensor]
    if tensor and isinstance(tensor[0], list):
        return list(chain.from_iterable(tensor))
    return list(tensor)


def numbers_of(tensor: Tensor) -> Any:
    if type(tensor) is Value:
        return tensor.data
    if tensor and isinstance(tensor[0], list):
        return [[v.data for v in row] for row in tensor]
    return [v.data for v in tensor]


def format_shape(shape: Shape) -> str:
    """How messages write a shape: "a number", "a list of 16", "16x2"."""
    if shape == ():
        return "a number"
    if len(shape) == 1:
        return f"a list of {shape[0]}"
    return "x".join(str(n) for n in shape)


def _describe(obj: Any) -> str:
    """What was found where a tensor was expected, in the words of ``format_shape``."""
    if not isinstance(obj, list):
        if isinstance(obj, (int, float)) and not isinstance(obj, bool):
            return "a number"
        return f"{type(obj).__name__} {obj!r:.40}"
    if obj and all(isinstance(row, list) for row in obj):
        lengths = sorted({len(row) for row in obj})
        if len(lengths) == 1:
            return f"{len(obj)}x{lengths[0]}"
        return f"{len(obj)} rows of unequal lengths {lengths}"
    if any(isinstance(x, list) for x in obj):
        return f"a list of {len(obj)} mixing numbers and lists"
    return f"a list of {len(obj)}"


def checked_numbers(name: str, shape: Shape, obj: Any) -> list[float]:
    """The finite numbers of ``obj`` (nested lists of ``shape``), flattened row by row.

    Anything else is a ValueError naming the tensor and the first problem:
    ``"layers.1.weight: expected 16x16, found 16x15"`` or
    ``"layers.0.bias[3]: expected a finite number, found nan"``.
    """
    expected = format_shape(shape)
    found = _describe(obj)
    if found != expected:
        raise ValueError(f"{name}: expected {expected}, found {found}")
    if shape == ():
        flat, where = [obj], [""]
    elif len(shape) == 1:
        flat, where = obj, [f"[{i}]" for i in range(len(obj))]
    else:
        flat = [x for row in obj for x in row]
        where = [f"[{i}][{j}]" for i in range(shape[0]) for j in range(shape[1])]
    for x, index in zip(flat, where):
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            raise ValueError(f"{name}{index}: expected a finite number, found {x!r:.40}")
    return [float(x) for x in flat]
