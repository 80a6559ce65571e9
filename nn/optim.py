"""Optimizers: PyTorch's update rules on plain floats (schedulers: ``lr_scheduler.py``).

An optimizer owns a list of parameters (leaf ``Value``\\ s) and moves each one against its
gradient after every ``loss.backward()``::

    opt = optim.Adam(model.parameters(), lr=1e-2)
    for xb, yb in batches:
        opt.zero_grad()            # every p.grad = 0.0 (leaves accumulate, like PyTorch)
        loss = ...; loss.backward()
        opt.step()                 # p.data <- update(p.data, p.grad)

Every update is ordinary float arithmetic on ``p.data``: no graph is built and the
parameters stay leaves. Each rule follows the single-tensor code path of ``torch.optim``
(``foreach=False``) operation by operation, in the same order. Results still differ from
PyTorch's in the last bit or two: on processors with fused multiply-add, PyTorch's CPU kernels
compute ``x + a * y`` with one rounding instead of two. After 100 steps the parameters agree
to about 1e-14 relative.

Which one to use:

* ``SGD``: the baseline; with ``momentum=0.9`` it is still what many vision models train with.
* ``Adam``: the default choice; per-parameter step sizes make it forgiving about ``lr``.
* ``AdamW``: Adam when you want weight decay (its decay does not pass through the moments).
* ``RAdam``: Adam without a warm-up: early steps, whose variance estimate is unreliable,
  fall back to momentum SGD.

Differences from ``torch.optim``, on purpose: there is one parameter group, so the learning
rate is a plain attribute ``optimizer.lr`` (what schedulers read and write, where PyTorch uses
``optimizer.param_groups[0]["lr"]``); one step counter ``optimizer.step_count`` serves all
parameters; ``state_dict()`` is a JSON-ready dict of floats and lists.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Real
from typing import Any

from engine import Value

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RAdam"]


# --- argument checks ----------------------------------------------------------------------


def _real(what: str, value: object) -> float:
    """``value`` as a float; TypeError naming its type if it is not a real number."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{what} must be a real number, got {type(value).__name__} {value!r}")
    return float(value)


def _at_least_zero(what: str, value: object) -> float:
    """A finite float >= 0 (nan and inf included in what is refused)."""
    number = _real(what, value)
    if not (math.isfinite(number) and number >= 0.0):
        raise ValueError(f"Invalid {what}: {value!r} (must be a finite number >= 0)")
    return number


def _flag(what: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be True or False, got {type(value).__name__} {value!r}")
    return value


def _betas(value: object) -> tuple[float, float]:
    """Two coefficients in [0, 1): a tuple (or, from a state dict, a list) of two numbers."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"betas must be a pair of numbers, got {value!r}")
    b1, b2 = (_real(f"beta parameter at index {i}", b) for i, b in enumerate(value))
    for i, beta in enumerate((b1, b2)):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta!r} (must be in [0, 1))")
    return b1, b2


def _parameter_list(params: Iterable[Value]) -> list[Value]:
    """The parameters as a list: leaf Values, each once, at least one."""
    # A set has no stable order, and state_dict() stores buffers in parameter order.
    if isinstance(params, (Value, set, frozenset, dict)):
        raise TypeError("params must be a list (or another ordered iterable) of Values, "
                        f"got {type(params).__name__}")
    try:
        params = list(params)
    except TypeError:
        raise TypeError(
            f"params must be an iterable of Values, got {type(params).__name__}"
        ) from None
    if not params:
        raise ValueError("optimizer got an empty parameter list")
    seen: dict[int, int] = {}
    for index, p in enumerate(params):
        if type(p) is not Value:
            raise TypeError(f"optimizer can only optimize Values, but params[{index}] is a "
                            f"{type(p).__name__}: {p!r}")
        if not p.is_leaf:
            raise ValueError(f"can't optimize a non-leaf Value: params[{index}] = {p!r} is the "
                             f"result of {p.op!r}")
        if id(p) in seen:
            raise ValueError(f"params[{index}] is params[{seen[id(p)]}] again: {p!r}; "
                             "each parameter may appear only once")
        seen[id(p)] = index
    return params


def _lerp(start: float, end: float, weight: float) -> float:
    """start + weight (end - start), computed as ``torch.lerp`` does (two forms for accuracy)."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1.0 - weight)


# --- the base class -----------------------------------------------------------------------


class Optimizer:
    """Holds the parameters, their per-parameter buffers and the step count.

    Subclasses name their hyperparameters (``_hyperparameters``, set through
    ``_configure``) and buffers (``_buffers``, one float per parameter each), and write
    ``_update(i, x, g)``: the new value of parameter ``i`` from its value ``x`` and gradient
    ``g`` at step number ``self.step_count`` (1 for the first step).
    """

    _hyperparameters: tuple[str, ...] = ()
    _buffers: tuple[str, ...] = ()

    lr: float
    maximize: bool

    def __init__(self, params: Iterable[Value]) -> None:
        self.params = _parameter_list(params)
        self.step_count = 0
        self.state: dict[str, list[float]] = {name: [0.0] * len(self.params)
                                              for name in self._buffers}

    def _configure(self, **hyperparameters: Any) -> None:
        raise NotImplementedError

    def _update(self, i: int, x: float, g: float) -> float:
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0.0 (gradients of leaves accumulate otherwise)."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """One update of every parameter from its current ``grad`` (negated if ``maximize``)."""
        self.step_count += 1
        for i, p in enumerate(self.params):
            g = -p.grad if self.maximize else p.grad
            p.data = self._update(i, p.data, g)

    def hyperparameters(self) -> dict[str, Any]:
        """The current hyperparameters by name (``lr`` included: a scheduler may change it)."""
        return {name: getattr(self, name) for name in self._hyperparameters}

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume training exactly, as plain JSON-ready values::

            {"optimizer": "Adam", "hyperparameters": {"lr": 0.001, "betas": [0.9, 0.999], ...},
             "step": 50, "state": {"exp_avg": [...], "exp_avg_sq": [...], ...}}

        Each buffer is a list with one float per parameter, in parameter order.
        """
        hyper = {name: list(v) if isinstance(v, tuple) else v
                 for name, v in self.hyperparameters().items()}
        return {
            "optimizer": type(self).__name__,
            "hyperparameters": hyper,
            "step": self.step_count,
            "state": {name: list(values) for name, values in self.state.items()},
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters, step count and buffers from ``state_dict()``'s output.

        Everything is checked before anything changes; any mismatch (another optimizer's
        state, another number of parameters, a missing key, a non-finite buffer value) is a
        ValueError saying what does not fit.
        """
        expected = {"optimizer", "hyperparameters", "step", "state"}
        if not isinstance(state_dict, dict) or set(state_dict) != expected:
            found = sorted(state_dict) if isinstance(state_dict, dict) else state_dict
            raise ValueError(f"optimizer state dict must have keys {sorted(expected)}, "
                             f"found {found!r}")
        name = type(self).__name__
        if state_dict["optimizer"] != name:
            raise ValueError(f"state dict is for {state_dict['optimizer']!r}, not {name!r}")
        hyper = state_dict["hyperparameters"]
        if not isinstance(hyper, dict) or set(hyper) != set(self._hyperparameters):
            raise ValueError(f"hyperparameters must be {sorted(self._hyperparameters)}, "
                             f"found {sorted(hyper) if isinstance(hyper, dict) else hyper!r}")
        step = state_dict["step"]
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"step must be an int >= 0, found {step!r}")
        buffers = state_dict["state"]
        if not isinstance(buffers, dict) or set(buffers) != set(self._buffers):
            raise ValueError(f"state must hold buffers {sorted(self._buffers)}, "
                             f"found {sorted(buffers) if isinstance(buffers, dict) else buffers!r}")
        restored = {key: self._checked_buffer(key, values) for key, values in buffers.items()}
        try:
            self._configure(**hyper)
        except TypeError as error:
            raise ValueError(f"bad hyperparameter in state dict: {error}") from error
        self.step_count = step
        self.state = restored

    def _checked_buffer(self, name: str, values: object) -> list[float]:
        n = len(self.params)
        if not isinstance(values, list) or len(values) != n:
            found = f"{len(values)} values" if isinstance(values, list) else repr(values)
            raise ValueError(f"state[{name!r}]: expected a list of {n} values, found {found}")
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, Real) or not math.isfinite(v):
                raise ValueError(f"state[{name!r}][{i}] must be a finite number, found {v!r}")
        return [float(v) for v in values]

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"


# --- the optimizers -----------------------------------------------------------------------


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay (torch.optim.SGD).

    With g the gradient (negated if ``maximize``), x the parameter, at step t::

        g <- g + weight_decay * x                          (if weight_decay != 0)
        b <- g  at t = 1,  else  b <- momentum * b + (1 - dampening) * g
        g <- g + momentum * b   (nesterov)   or   g <- b    (if momentum != 0)
        x <- x - lr * g

    Nesterov's variant looks one step ahead along the momentum; it needs momentum > 0 and
    no dampening.
    """

    _hyperparameters = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")
    _buffers = ("momentum_buffer",)

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, maximize: bool = False) -> None:
        super().__init__(params)
        self._configure(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)

    def _configure(self, *, lr: float, momentum: float, dampening: float, weight_decay: float,
                   nesterov: bool, maximize: bool) -> None:
        settings = (
            _at_least_zero("learning rate", lr),
            _at_least_zero("momentum value", momentum),
            _real("dampening", dampening),
            _at_least_zero("weight_decay value", weight_decay),
            _flag("nesterov", nesterov),
            _flag("maximize", maximize),
        )
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening, got "
                             f"momentum={momentum!r}, dampening={dampening!r}")
        (self.lr, self.momentum, self.dampening, self.weight_decay, self.nesterov,
         self.maximize) = settings

    def _update(self, i: int, x: float, g: float) -> float:
        if self.weight_decay != 0:
            g = g + self.weight_decay * x
        if self.momentum != 0:
            buffer = self.state["momentum_buffer"]
            if self.step_count == 1:
                buffer[i] = g
            else:
                buffer[i] = buffer[i] * self.momentum + (1 - self.dampening) * g
            g = g + self.momentum * buffer[i] if self.nesterov else buffer[i]
        return x - self.lr * g


def _adams_settings(lr: object, betas: object, eps: object, weight_decay: object
                    ) -> tuple[float, tuple[float, float], float, float]:
    """The hyperparameters Adam, AdamW and RAdam share, checked with PyTorch's messages."""
    return (_at_least_zero("learning rate", lr), _betas(betas),
            _at_least_zero("epsilon value", eps),
            _at_least_zero("weight_decay value", weight_decay))


def _decay_and_track_moments(opt: Adam | RAdam, i: int, x: float, g: float,
                             decoupled: bool) -> float:
    """Adam's and RAdam's first half: weight decay, then the two running moments of g.

    ``x <- x (1 - lr wd)`` if ``decoupled``, else ``g <- g + wd x``; then
    ``m <- b1 m + (1 - b1) g`` (as a lerp) and ``v <- b2 v + (1 - b2) g^2``.
    Returns the (possibly decayed) parameter; m and v are updated in ``opt.state``.
    """
    b1, b2 = opt.betas
    if opt.weight_decay != 0:
        if decoupled:
            x = x * (1 - opt.lr * opt.weight_decay)
        else:
            g = g + opt.weight_decay * x
    m, v = opt.state["exp_avg"], opt.state["exp_avg_sq"]
    m[i] = _lerp(m[i], g, 1 - b1)
    v[i] = v[i] * b2 + (1 - b2) * g * g
    return x


class Adam(Optimizer):
    """Adam: momentum on the gradient, scaled by a running RMS of it (torch.optim.Adam).

    With g the gradient (negated if ``maximize``), x the parameter, at step t = 1, 2, ...::

        g <- g + weight_decay * x                     (L2 penalty; AdamW decays x instead)
        m <- b1 m + (1 - b1) g                        (first moment, computed as a lerp)
        v <- b2 v + (1 - b2) g^2                      (second moment)
        v_max <- max(v_max, v)                        (amsgrad only; then v_max replaces v)
        m_hat = m / (1 - b1^t);   v_hat = v / (1 - b2^t)     (bias corrections)
        x <- x - lr m_hat / (sqrt(v_hat) + eps)

    computed in PyTorch's order: ``x - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)``.
    """

    _hyperparameters = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")
    _buffers = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _decoupled_weight_decay = False

    def __init__(self, params: Iterable[Value], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params)
        self._configure(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize)

    def _configure(self, *, lr: float, betas: tuple[float, float], eps: float,
                   weight_decay: float, amsgrad: bool, maximize: bool) -> None:
        self.lr, self.betas, self.eps, self.weight_decay = _adams_settings(
            lr, betas, eps, weight_decay)
        self.amsgrad, self.maximize = _flag("amsgrad", amsgrad), _flag("maximize", maximize)

    def _update(self, i: int, x: float, g: float) -> float:
        b1, b2 = self.betas
        t = self.step_count
        m, v = self.state["exp_avg"], self.state["exp_avg_sq"]
        x = _decay_and_track_moments(self, i, x, g, self._decoupled_weight_decay)
        step_size = self.lr / (1 - b1**t)
        bias_correction2_sqrt = (1 - b2**t) ** 0.5
        if self.amsgrad:
            v_max = self.state["max_exp_avg_sq"]
            v_max[i] = max(v_max[i], v[i])
            second_moment = v_max[i]
        else:
            second_moment = v[i]
        denominator = math.sqrt(second_moment) / bias_correction2_sqrt + self.eps
        return x - step_size * m[i] / denominator


class AdamW(Adam):
    """Adam with decoupled weight decay (torch.optim.AdamW, Loshchilov and Hutter).

    The same update as ``Adam``, except that weight decay shrinks the parameter directly,
    before the moments are updated, instead of being added to the gradient::

        x <- x (1 - lr weight_decay);   then Adam's step with the raw gradient g

    so the decay is not rescaled by 1 / sqrt(v). ``weight_decay`` defaults to 1e-2, like PyTorch.
    """

    _decoupled_weight_decay = True

    def __init__(self, params: Iterable[Value], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


class RAdam(Optimizer):
    """Rectified Adam (torch.optim.RAdam, Liu et al. 2019): Adam with a variance check.

    Early on, v rests on too few gradients to be trusted. RAdam measures that with the
    length of the approximated simple moving average, rho_t, and uses the adaptive step only
    once rho_t > 5::

        g <- g + weight_decay * x    (or x <- x (1 - lr weight_decay) if decoupled_weight_decay)
        m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2;   m_hat = m / (1 - b1^t)
        rho_inf = 2 / (1 - b2) - 1;   rho_t = rho_inf - 2 t b2^t / (1 - b2^t)
        if rho_t > 5:
            r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            x <- x - m_hat lr sqrt(1 - b2^t) / (sqrt(v) + eps) r_t
        else:
            x <- x - m_hat lr                                  (momentum SGD)
    """

    _hyperparameters = ("lr", "betas", "eps", "weight_decay", "decoupled_weight_decay",
                        "maximize")
    _buffers = ("exp_avg", "exp_avg_sq")

    def __init__(self, params: Iterable[Value], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params)
        self._configure(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)

    def _configure(self, *, lr: float, betas: tuple[float, float], eps: float,
                   weight_decay: float, decoupled_weight_decay: bool, maximize: bool) -> None:
        self.lr, self.betas, self.eps, self.weight_decay = _adams_settings(
            lr, betas, eps, weight_decay)
        self.decoupled_weight_decay = _flag("decoupled_weight_decay", decoupled_weight_decay)
        self.maximize = _flag("maximize", maximize)

    def _update(self, i: int, x: float, g: float) -> float:
        b1, b2 = self.betas
        t = self.step_count
        m, v = self.state["exp_avg"], self.state["exp_avg_sq"]
        x = _decay_and_track_moments(self, i, x, g, self.decoupled_weight_decay)
        bias_correction1 = 1 - b1**t
        bias_correction2 = 1 - b2**t
        m_hat = m[i] / bias_correction1
        rho_inf = 2 / (1 - b2) - 1
        rho_t = rho_inf - 2 * t * (b2**t) / bias_correction2
        if rho_t > 5.0:
            rectification = ((rho_t - 4) * (rho_t - 2) * rho_inf
                             / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            # PyTorch evaluates number / tensor as reciprocal(tensor) * number.
            adaptive_lr = (1.0 / (math.sqrt(v[i]) + self.eps)) * bias_correction2**0.5
            return x - m_hat * self.lr * adaptive_lr * rectification
        return x - m_hat * self.lr

