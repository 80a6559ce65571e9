"""Module: the base class of every layer and model, and what it does for all of them.

A module holds parameters (engine ``Value`` leaves that training changes) and child modules,
and computes something in ``forward``. From those two lists the base class derives, once
for every model, what PyTorch users expect to call:

* ``parameters()``: every parameter Value, in a stable order (for the optimizer);
* ``named_parameters()``: each parameter tensor with a dotted name like ``layers.0.weight``;
* ``zero_grad()``, ``num_parameters()``, ``model(x)`` (calls ``forward``), a repr showing
  the structure;
* ``state_dict()`` / ``load_state_dict()``: the numbers under their names, and back;
* ``save(path)`` / ``Module.load(path)``: the same through a JSON file (see
  ``serialization.py`` for the file format).

A parameter "tensor" is one of three shapes, the way PyTorch would store it (a Value, a
list of Values, or equal rows of Values: ``tensors.py``). A subclass names its parameter attributes in ``parameter_names``; child modules are found
by looking at its attributes (any attribute holding a Module is a child, in the order the
attributes were assigned), as in PyTorch.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, NamedTuple

from engine import Value
from nn import serialization
from nn.tensors import Tensor, checked_numbers, flatten, numbers_of, shape_of


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` skipped: names the model has but the state
    dict lacks, and names the state dict has but the model lacks (PyTorch's result)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: parameters, children, forward, saving.

    Subclasses set ``parameter_names`` (the attributes that hold parameter tensors; an
    attribute set to None, like a disabled bias, is skipped), assign child modules to
    attributes, and define ``forward``. To be saved with ``save()`` they also define
    ``config()``: the constructor arguments that rebuild them.
    """

    parameter_names: ClassVar[tuple[str, ...]] = ()
    training: bool = True
    """Training mode (the default) or evaluation mode: ``train()`` and ``eval()`` set it."""

    # Every Module subclass by its saved name (``saved_name``), so that a saved file naming
    # "MLP" can be rebuilt by Module.load (and a saved Sequential can rebuild its children).
    registry: ClassVar[dict[str, type[Module]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):  # a private base class is no model to load
            Module.registry[saved_name(cls)] = cls

    # ---- computing -------------------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """What the module computes; every subclass defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """``module(x)`` is ``module.forward(x)``, as in PyTorch."""
        return self.forward(*args, **kwargs)

    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=False``: evaluation mode) on this module and every module
        inside it; returns the module, as PyTorch's. Only layers that act differently in the
        two modes read it (``Dropout``)."""
        if not isinstance(mode, bool):
            raise TypeError(f"train() takes a bool, not {type(mode).__name__}")
        self.training = mode
        for _, child in self.named_children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode for this module and every module inside it: ``train(False)``."""
        return self.train(False)

    # ---- what the module holds ------------------------------------------------------------------

    def named_children(self) -> list[tuple[str, Module]]:
        """The direct child modules with their attribute names, in assignment order."""
        return [(name, value) for name, value in vars(self).items() if isinstance(value, Module)]

    def named_parameters(self, prefix: str = "") -> list[tuple[str, Tensor]]:
        """Each parameter tensor with its dotted name: own parameters first, then each child's
        under ``child_name.`` (``layers.0.weight``, ``layers.0.bias``, ``layers.2.weight``...).
        """
        named = list(self._named_tensors(prefix))
        for name, tensor in named:
            shape_of(name, tensor)  # a malformed tensor is a TypeError here
        return named

    def _named_tensors(self, prefix: str) -> Iterator[tuple[str, Tensor]]:
        """``named_parameters`` without the check of each tensor's shape."""
        for name in self.parameter_names:
            tensor = getattr(self, name)
            if tensor is not None:
                yield prefix + name, tensor
        for child_name, child in self.named_children():
            yield from child._named_tensors(f"{prefix}{child_name}.")

    def parameters(self) -> list[Value]:
        """Every parameter Value, flattened in ``named_parameters()`` order (matrices row by
        row); a Value shared by two layers appears once. This is what an optimizer takes."""
        flat = [v for _, tensor in self.named_parameters() for v in flatten(tensor)]
        return list(dict.fromkeys(flat))

    def num_parameters(self) -> int:
        """How many numbers training adjusts: ``len(self.parameters())``."""
        return len(self.parameters())

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0 (leaves accumulate across backward calls)."""
        # Called at every step: the tensors are walked without checking their shapes (or
        # removing a Value shared by two layers), which a wrong element still reports.
        for name, tensor in self._named_tensors(""):
            try:
                for p in flatten(tensor):
                    p.grad = 0.0
            except (AttributeError, TypeError):
                shape_of(name, tensor)
                raise

    # ---- the numbers by name ---------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Every parameter tensor as plain floats under its dotted name, in nested lists of the
        tensor's shape: ``{"layers.0.weight": [[...], ...], "layers.0.bias": [...], ...}``.

        The names and ``out x in`` shapes are PyTorch's, so
        ``{k: torch.tensor(v) for k, v in sd.items()}`` loads into the equivalent torch model.
        The result is a copy: training afterwards does not change it.
        """
        return {name: numbers_of(tensor) for name, tensor in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy the numbers in ``state`` into the parameters (their ``.data``; the Value objects
        stay the same, so an optimizer holding them keeps working).

        Everything is checked before anything is changed, and every problem is a ValueError
        naming the first thing that does not fit: with ``strict`` (the default) the names must
        be exactly the model's, and each tensor must have the model's shape
        (``"layers.2.weight: expected 16x16, found 16x15"``) and hold finite numbers. With
        ``strict=False`` names that do not match are skipped and returned.
        """
        if not isinstance(state, Mapping):  # a ValueError like every other load failure
            raise ValueError(  # noqa: TRY004
                f"a state dict must map names to numbers, not a {type(state).__name__}")
        tensors = dict(self.named_parameters())
        missing = [name for name in tensors if name not in state]
        unexpected = [str(key) for key in state if key not in tensors]
        if strict and (missing or unexpected):
            problems = []
            if missing:
                problems.append(f"missing {', '.join(missing)}")
            if unexpected:
                problems.append(f"unexpected {', '.join(unexpected)}")
            raise ValueError(
                f"state dict does not match {type(self).__name__}: {'; '.join(problems)}"
            )
        updates = [
            (flatten(tensor), checked_numbers(name, shape_of(name, tensor), state[name]))
            for name, tensor in tensors.items()
            if name in state
        ]
        for values, numbers in updates:
            for value, number in zip(values, numbers):
                value.data = number
        return IncompatibleKeys(missing, unexpected)

    # ---- saving to a file ------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this module (JSON types only), for ``save``."""
        raise NotImplementedError(
            f"{type(self).__name__} does not define config(), so save() cannot record how to "
            "rebuild it; define config(), or save its state_dict() yourself"
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Module:
        """A new module built from ``config()``'s output: ``cls(**config)`` by default."""
        return cls(**config)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to ``path`` as JSON: its class, its ``config()`` and its state dict.

        The write is atomic: a temporary file in the same folder is written, flushed to disk
        and then renamed over ``path``, so ``path`` holds either the old file or the whole new
        one, never a part. A model holding nan or inf is refused (ValueError) before anything
        is written, since such a file could not be loaded.
        """
        state = self.state_dict()
        for name, tensor in self.named_parameters():
            try:
                checked_numbers(name, shape_of(name, tensor), state[name])
            except ValueError as error:
                raise ValueError(f"cannot save {type(self).__name__}: {error}") from None
        document = serialization.model_document(saved_name(type(self)), self.config(), state)
        serialization.write_json_atomic(path, document)

    @classmethod
    def load(cls, path: str | os.PathLike[str], strict: bool = True) -> Module:
        """Rebuild the model saved in ``path``: ``MLP.load("model.json")``.

        Called on a subclass, the file must hold that class; ``Module.load`` builds whatever
        class the file names. A file that cannot be opened raises the usual OSError; any
        problem with its contents is a ValueError that names the file and the problem.

        Only what the file holds is allocated: its config builds the model under an
        allowance of as many parameters as its state holds numbers, plus ``LOAD_SLACK``
        (``reserve_parameters``), so a config asking for more fails at once, before the
        large layer is made, as
        ``torch.load(weights_only=True)`` and safetensors promise. Private base classes
        (``_Elementwise``) are no models to load.
        """
        class_name, config, state = serialization.read_model_document(path)
        name = serialization.shown(class_name)
        if cls is Module:
            target = Module.registry.get(class_name)
            if target is None:
                raise ValueError(f"{path}: unknown model class {name!r}")
        elif class_name == saved_name(cls):
            target = cls
        else:
            raise ValueError(f"{path}: holds a model of class {name}, not {saved_name(cls)}")
        holds = _count_numbers(state)
        try:
            with _parameter_allowance(holds + LOAD_SLACK):
                model = target.from_config(config)
        except _TooManyParameters as error:
            raise ValueError(f"{path}: its config makes {name} with far more parameters than "
                             f"the {holds} numbers its state holds ({error})") from None
        except (TypeError, ValueError, LookupError, AttributeError, OverflowError,
                RecursionError) as error:
            raise ValueError(f"{path}: config {serialization.shown(repr(config))} does not "
                             f"build {name}: {serialization.shown(str(error), 200)}") from None
        try:
            model.load_state_dict(state, strict=strict)
        except (ValueError, OverflowError) as error:
            raise ValueError(f"{path}: {serialization.shown(str(error), 200)}") from None
        return model

    # ---- showing the structure ----------------------------------------------------------------

    def extra_repr(self) -> str:
        """What goes inside the parentheses of this module's repr (its settings)."""
        return ""

    def __repr__(self) -> str:
        head = f"{type(self).__name__}({self.extra_repr()}"
        children = self.named_children()
        if not children:
            return head + ")"
        lines = [head]
        for name, child in children:
            lines.append(f"  ({name}): " + repr(child).replace("\n", "\n  "))
        return "\n".join(lines) + "\n)"


# ---- building only what a file holds ---------------------------------------------------------

_allowance = threading.local()
LOAD_SLACK = 65_536
"""Parameters ``Module.load`` may make beyond the numbers its file holds: a file that lacks
a small tensor still gets ``load_state_dict``'s exact message (``missing layers.2.bias``),
while a config that asks for millions more than its state holds fails before allocating."""


class _TooManyParameters(ValueError):
    pass


@contextlib.contextmanager
def _parameter_allowance(count: int) -> Iterator[None]:
    """Inside, this thread's modules may make at most ``count`` parameters in all (see
    ``reserve_parameters``): how ``Module.load`` builds only what its file holds."""
    _allowance.left = count
    try:
        yield
    finally:
        _allowance.left = None


def reserve_parameters(count: int) -> None:
    """Say that ``count`` parameters are about to be made; a layer calls it before it
    allocates them. Inside ``Module.load``, a model may make no more parameters than the
    file's state holds numbers, so a 100-byte file cannot ask for gigabytes: the config
    is checked against the state before anything large is allocated."""
    left = getattr(_allowance, "left", None)
    if left is None:
        return
    if count > left:
        raise _TooManyParameters(f"a layer asks for {count} more, {left} are left")
    _allowance.left = left - count


def _count_numbers(state: Mapping[str, Any]) -> int:
    """How many leaves (numbers, or anything that is not a list) ``state``'s values hold."""
    count, pending = 0, list(state.values())
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
        else:
            count += 1
    return count


def saved_name(cls: type[Module]) -> str:
    """The name a saved file gives a module class: ``"MLP"`` for nn's own classes, the
    module and qualified name (``"mylab.models.MLP"``) for any other, so that a class of
    one's own never stands in for one of nn's, even with the same name."""
    if cls.__module__ == "nn" or cls.__module__.startswith("nn."):
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"
