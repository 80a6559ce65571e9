"""Learning-rate schedulers: how ``optimizer.lr`` changes from epoch to epoch.

A scheduler holds an optimizer and sets its ``lr`` once per ``step()``, as
``torch.optim.lr_scheduler`` does::

    opt = optim.SGD(model.parameters(), lr=0.1)
    schedule = lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
    for epoch in range(30):
        train_one_epoch(model, opt)
        schedule.step()          # lr: 0.1 for epochs 0-9, 0.05 for 10-19, 0.025 after
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from nn.checks import count
from nn.optim import Optimizer, _at_least_zero, _real

__all__ = ["CosineAnnealingLR", "LRScheduler", "LambdaLR", "StepLR"]


class LRScheduler:
    """Changes ``optimizer.lr`` once per ``step()``, as ``torch.optim.lr_scheduler`` does.

    Call ``scheduler.step()`` after ``optimizer.step()``, once per epoch (or per batch).
    ``last_epoch`` counts the calls; making the scheduler already performs the first one
    (``last_epoch`` becomes 0), exactly like PyTorch. ``base_lr`` is ``optimizer.lr`` when
    the scheduler is made. To resume, make the optimizer and the scheduler, then load the
    optimizer's state dict and the scheduler's, in that order (making a scheduler may set lr).
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = -1
        self.step()

    def _next_lr(self) -> float:
        """The learning rate for epoch ``self.last_epoch`` (already advanced)."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set ``optimizer.lr`` to that epoch's learning rate."""
        self.last_epoch += 1
        self.optimizer.lr = self._next_lr()

    def get_last_lr(self) -> list[float]:
        """The learning rate set by the latest step, in a list (one entry per parameter
        group in PyTorch; here there is one group)."""
        return [self.optimizer.lr]

    def state_dict(self) -> dict[str, Any]:
        """``{"last_epoch": ..., "base_lr": ...}``: with the optimizer's state, enough to resume."""
        return {"last_epoch": self.last_epoch, "base_lr": self.base_lr}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore ``last_epoch`` and ``base_lr`` (ValueError if either is missing or wrong)."""
        if not isinstance(state_dict, dict) or set(state_dict) != {"last_epoch", "base_lr"}:
            raise ValueError(f"scheduler state dict must have keys ['base_lr', 'last_epoch'], "
                             f"found {state_dict!r}")
        last_epoch, base_lr = state_dict["last_epoch"], state_dict["base_lr"]
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < 0:
            raise ValueError(f"last_epoch must be an int >= 0, found {last_epoch!r}")
        try:
            base_lr = _at_least_zero("base_lr", base_lr)
        except TypeError as error:
            raise ValueError(str(error)) from error
        self.last_epoch, self.base_lr = last_epoch, base_lr


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs::

        lr_epoch = lr_(epoch-1) * gamma   if epoch > 0 and epoch % step_size == 0,
                   lr_(epoch-1)           otherwise

    (so lr = base_lr * gamma^(epoch // step_size) when nothing else changes it).
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = count("step_size", step_size)
        self.gamma = _real("gamma", gamma)
        super().__init__(optimizer)

    def _next_lr(self) -> float:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self.optimizer.lr
        return self.optimizer.lr * self.gamma


class LambdaLR(LRScheduler):
    """Set the learning rate to ``base_lr * lr_lambda(epoch)``, epoch = 0, 1, 2, ...

    ``lr_lambda(0)`` applies at once, when the scheduler is made (as in PyTorch). Example: a
    linear warm-up over 10 epochs is ``LambdaLR(opt, lambda epoch: min(1.0, (epoch + 1) / 10))``.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]) -> None:
        if not callable(lr_lambda):
            raise TypeError(f"lr_lambda must be callable, got {type(lr_lambda).__name__}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def _next_lr(self) -> float:
        return self.base_lr * self.lr_lambda(self.last_epoch)

    def __getstate__(self) -> dict[str, object]:
        """For pickle: refuse, with the reason, a lambda or nested function pickle cannot send."""
        name = getattr(self.lr_lambda, "__qualname__", "")
        if "<lambda>" in name or "<locals>" in name:
            raise TypeError(f"cannot pickle LambdaLR: its lr_lambda {name} is a lambda or a "
                            "nested function; define it with def at the top level of a module")
        return self.__dict__


class CosineAnnealingLR(LRScheduler):
    """Anneal the learning rate from ``base_lr`` to ``eta_min`` along half a cosine::

        lr_e = eta_min + (base_lr - eta_min) (1 + cos(pi e / T_max)) / 2

    and back up again after ``T_max`` (a period of 2 T_max, no restarts). Like PyTorch, each
    step computes it recursively from the current lr, so a change made by hand carries on::

        lr_e = eta_min + (lr_(e-1) - eta_min) (1 + cos(pi e / T_max)) / (1 + cos(pi (e-1) / T_max))

    except where that denominator is 0 (e - 1 - T_max a multiple of 2 T_max), where it adds
    ``(base_lr - eta_min) (1 - cos(pi / T_max)) / 2`` to the previous lr.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        self.T_max = count("T_max", T_max)
        self.eta_min = _real("eta_min", eta_min)
        super().__init__(optimizer)

    def _next_lr(self) -> float:
        lr, epoch, t_max, eta_min = self.optimizer.lr, self.last_epoch, self.T_max, self.eta_min
        if epoch == 0:
            return lr
        if (epoch - 1 - t_max) % (2 * t_max) == 0:
            return lr + (self.base_lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
        return ((1 + math.cos(math.pi * epoch / t_max))
                / (1 + math.cos(math.pi * (epoch - 1) / t_max))
                * (lr - eta_min) + eta_min)
