"""Names for a model's parameters in pictures: ``named_parameters()``, one name per Value.

PyTorch names each parameter tensor by its module's path and attribute
(``layers.0.weight``), and torchviz labels each node of a graph with that name. Here a
tensor is a Value, a list of Values or a list of rows of Values (``nn``'s layout: a weight
is ``out x in``, row j holding neuron j's weights), so each Value is named by its tensor
and its place in it: ``layers.0.weight[1,0]`` is neuron 1's weight for input 0. A picture
shows it compactly, ``w[1,0]``, inside the box of its module ``layers.0``.

A fused neuron (one node for act(w·x + b), what ``nn`` layers build) has no name of its
own, but its weights tell where it sits: when they are one row j of a named weight, the
neuron is ``layers.0 neuron j``.

``params=`` takes what a model gives: ``dict(model.named_parameters())``,
``model.named_parameters()`` (a list of (name, tensor) pairs) or ``model.parameters()``
(Values without names, as before).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine import Value

# Short names of the usual tensors, as a textbook writes them: y = w·x + b.
SHORT = {"weight": "w", "bias": "b"}

Params = Collection[Value] | Mapping[str, Any] | Collection[tuple[str, Any]] | None


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
