"""Two switches that change how ops record the graph: gradient mode and anomaly detection.

``no_grad()`` turns recording off: ops still compute, but their results are plain leaves
with no parents, so nothing is kept for backward (inference, plotting, optimizer updates).
It matters for memory too: a graph recorded and never backpropagated stays on the tape
(``tape.py``) until the next ``backward()`` in the same thread, until the tape is full, or
until the thread ends (its tape lets go of its nodes then).
``detect_anomaly()`` turns checking on: the first op whose forward or backward produces
nan or inf raises ``FloatingPointError`` naming the op, its inputs and the node's label.

Both switches belong to one thread, as in PyTorch: a thread that evaluates under
``no_grad()`` does not stop another thread from recording, and every new thread starts
recording, with anomaly detection off. They are restored on leaving the ``with`` block,
so nesting works (``with no_grad(): with enable_grad(): ...`` records again inside), and a
decorated function gets a fresh switch on every call, so recursion works too.
"""

from __future__ import annotations

import threading
from contextlib import ContextDecorator
from typing import TYPE_CHECKING

from engine.tape import Tape, tapes_of_ended_threads

if TYPE_CHECKING:
    from typing import Self


class ThreadState:
    """One thread's switches and its tape: everything the engine keeps per thread.

    ``recording`` is the tape while gradients are recorded and None under ``no_grad``: the
    one field an op reads to know both (it runs once per node).
    """

    __slots__ = ("_grad_enabled", "anomaly_enabled", "recording", "tape")

    def __init__(self) -> None:
        self.tape = Tape()
        self.anomaly_enabled = False
        self.grad_enabled = True

    @property
    def grad_enabled(self) -> bool:
        """True when ops record parents for backward."""
        return self._grad_enabled

    @grad_enabled.setter
    def grad_enabled(self, enabled: bool) -> None:
        self._grad_enabled = enabled
        self.recording = self.tape if enabled else None

    def new_tape(self) -> None:
        """Start a new tape (after a backward, or when this one is full)."""
        self.tape.close()
        self.tape = Tape()
        self.recording = self.tape if self._grad_enabled else None

    # The thread has ended. The list is bound here, as a default, because this may also run
    # at interpreter exit, when the module's globals are already gone.
    def __del__(self, ended: list[Tape] = tapes_of_ended_threads) -> None:
        self.tape.let_go()
        ended.append(self.tape)


class _PerThread(threading.local):
    def __init__(self) -> None:  # runs once in each thread that looks at ``state``
        self.state = ThreadState()


this_thread = _PerThread()
"""``this_thread.state`` is the calling thread's ``ThreadState``."""


def current() -> ThreadState:
    """The calling thread's switches and tape."""
    return this_thread.state


def is_grad_enabled() -> bool:
    """True when ops in this thread record parents for backward (the default)."""
    return this_thread.state.grad_enabled


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()`` (in this thread)."""
    return this_thread.state.anomaly_enabled


class _Switch(ContextDecorator):
    """Sets one of this thread's switches for the duration of a ``with`` block or a call."""

    _flag = ""
    _value = True

    def __init__(self) -> None:
        # What each thread's switch was before each __enter__ not yet exited: one switch
        # object may be entered by several threads, and again within one (nesting).
        self._saved = threading.local()

    def _recreate_cm(self) -> Self:
        return type(self)()  # a decorated call gets its own switch, as in PyTorch

    def __enter__(self) -> Self:
        state = this_thread.state
        self._saved.__dict__.setdefault("stack", []).append(getattr(state, self._flag))
        setattr(state, self._flag, self._value)
        return self

    def __exit__(self, *exc: object) -> None:
        setattr(this_thread.state, self._flag, self._saved.stack.pop())


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
