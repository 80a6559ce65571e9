"""Gradient clipping: ``clip_grad_norm_``, PyTorch's guard against exploding gradients.

When the gradients of a deep network blow up, one ``optimizer.step()`` can throw the
parameters so far that training never recovers. Clipping rescales all the gradients
together, after ``loss.backward()`` and before ``optimizer.step()``, so that their total
norm is at most ``max_norm``; the direction of the step is kept, only its length shrinks::

    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()

PyTorch: ``torch.nn.utils.clip_grad_norm_``, with the same arguments, the same formula
(including its 1e-6) and the same return value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Real

from engine import Value

__all__ = ["clip_grad_norm_"]


def _norm_order(norm_type: object) -> float:
    """p of the p-norm: a number > 0, or inf (also given as the string "inf", as in PyTorch)."""
    if isinstance(norm_type, str) and norm_type.strip().lower() in ("inf", "+inf"):
        return math.inf
    if isinstance(norm_type, bool) or not isinstance(norm_type, Real):
        raise TypeError(f"norm_type must be a number > 0 or inf, got "
                        f"{type(norm_type).__name__} {norm_type!r}")
    p = float(norm_type)
    if not p > 0.0:  # also refuses nan
        raise ValueError(f"norm_type must be a number > 0 or inf, got {norm_type!r}")
    return p


def _values(parameters: Value | Iterable[Value]) -> list[Value]:
    if isinstance(parameters, Value):
        return [parameters]
    if isinstance(parameters, (str, bytes)) or not isinstance(parameters, Iterable):
        raise TypeError(f"parameters must be a Value or an iterable of Values, got "
                        f"{type(parameters).__name__}")
    params = list(parameters)
    for index, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"parameters[{index}] is a {type(p).__name__}, not a Value: {p!r}")
    return params


def _total_norm(grads: list[float], p: float) -> float:
    """The p-norm of all the gradients viewed as one vector:

        ||g||_p = (sum_i |g_i|^p)^(1/p),        ||g||_inf = max_i |g_i|.

    A nan anywhere gives nan; an inf (and no nan) gives inf.
    """
    if not grads:
        return 0.0
    if any(math.isnan(g) for g in grads):
        return math.nan
    if p == math.inf:
        return max(abs(g) for g in grads)
    if p == 1.0:
        return sum(abs(g) for g in grads)
    if p == 2.0:
        return math.sqrt(sum(g * g for g in grads))
    return sum(abs(g) ** p for g in grads) ** (1.0 / p)


def clip_grad_norm_(parameters: Value | Iterable[Value], max_norm: float,
                    norm_type: float | str = 2.0, error_if_nonfinite: bool = False) -> float:
    """Scale every parameter's ``.grad`` in place so that their total norm is at most
    ``max_norm``; return the total norm from before the scaling.

        total = ||(g_1, ..., g_n)||_p           over the gradients of all the parameters
        g_i  <- g_i · min(1, max_norm / (total + 1e-6))

    So nothing changes while ``total <= max_norm`` (up to the 1e-6, which keeps the
    division safe when every gradient is 0); above it, all gradients shrink by the same
    factor and the step keeps its direction. ``norm_type`` is p (2 by default, ``inf`` for
    the largest ``|g_i|``).

    A nan or inf gradient makes the total non-finite. With ``error_if_nonfinite=True``
    that raises RuntimeError (as PyTorch does) and leaves the gradients alone; by default,
    as in PyTorch, the scaling goes ahead (an inf total scales every finite gradient to 0,
    a nan total makes them nan), so check the returned norm. An empty list of parameters
    returns 0.0. ``max_norm`` must be a number >= 0 (PyTorch would flip the gradients for a
    negative one).
    """
    params = _values(parameters)
    if isinstance(max_norm, bool) or not isinstance(max_norm, Real):
        raise TypeError(f"max_norm must be a number >= 0, got {type(max_norm).__name__} "
                        f"{max_norm!r}")
    limit = float(max_norm)
    if not limit >= 0.0:  # also refuses nan
        raise ValueError(f"max_norm must be a number >= 0, got {max_norm!r}")
    p = _norm_order(norm_type)
    if not isinstance(error_if_nonfinite, bool):
        raise TypeError(f"error_if_nonfinite must be True or False, got {error_if_nonfinite!r}")
    norm = _total_norm([v.grad for v in params], p)
    if error_if_nonfinite and not math.isfinite(norm):
        raise RuntimeError(f"The total norm of order {p} for gradients from `parameters` is "
                           f"non-finite ({norm}), so it cannot be clipped. To scale the "
                           "gradients by it anyway, set error_if_nonfinite=False")
    coefficient = limit / (norm + 1e-6)
    if not coefficient < 1.0 and not math.isnan(coefficient):
        return norm  # clamped to 1: every gradient stays as it is
    for v in params:
        v.grad *= coefficient
    return norm
