"""Two switches that change how ops record the graph: gradient mode and anomaly detection.

``no_grad()`` turns recording off: ops still compute, but their results are plain leaves
with no parents, so nothing is kept for backward (inference, plotting, optimizer updates).
It matters for memory too: a graph recorded and never backpropagated stays on the tape
(``tape.py``) until the next ``backward()`` or until the tape is full.
``detect_anomaly()`` turns checking on: the first op whose forward or backward produces
nan or inf raises ``FloatingPointError`` naming the op, its inputs and the node's label.

Both are process-wide settings (not per thread), restored on leaving the ``with`` block,
so nesting works: ``with no_grad(): with enable_grad(): ...`` records again inside.
"""

from __future__ import annotations

from contextlib import ContextDecorator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Self

grad_enabled = True
anomaly_enabled = False


def is_grad_enabled() -> bool:
    """True when ops record parents for backward (the default)."""
    return grad_enabled


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``."""
    return anomaly_enabled


class _Switch(ContextDecorator):
    """Sets one module flag for the duration of a ``with`` block (or a decorated call)."""

    _flag = ""
    _value = True

    def __enter__(self) -> Self:
        self._previous = globals()[self._flag]
        globals()[self._flag] = self._value
        return self

    def __exit__(self, *exc: object) -> None:
        globals()[self._flag] = self._previous


class no_grad(_Switch):
    """Context manager (and decorator): ops inside build no graph (use it to evaluate).

    >>> from engine import Value, no_grad
    >>> x = Value(2.0)
    >>> with no_grad():
    ...     y = x * 3
    >>> y.parents
    ()
    """

    _flag, _value = "grad_enabled", False


class enable_grad(_Switch):
    """Context manager (and decorator): ops inside record the graph, even within no_grad."""

    _flag, _value = "grad_enabled", True


class detect_anomaly(_Switch):
    """Context manager (and decorator): raise at the first op that produces nan or inf.

    Outside it, ops follow IEEE arithmetic silently (``Value(0.0).log()`` is ``-inf``).
    Inside it, that same call raises ``FloatingPointError`` naming ``log``, its input and
    labels, and so does a backward step whose gradient becomes nan or inf.
    """

    _flag, _value = "anomaly_enabled", True
