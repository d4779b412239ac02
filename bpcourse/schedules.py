r"""Learning-rate schedules: the learning rate as a function of the epoch.

| schedule | $\eta_t$ at epoch $t$ (from 0) |
|---|---|
| constant | $\eta_0$ |
| step decay | $\eta_0\,\gamma^{\lfloor t / s\rfloor}$ (multiply by $\gamma$ every $s$ epochs) |
| exponential decay | $\eta_0\,\gamma^{t}$ |

A schedule is called with the epoch number and returns the learning rate; the training
loop sets `optimizer.lr` from it before each epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

from bpcourse.validation import check_positive, is_int


def _check_decay(gamma: float) -> float:
    gamma = check_positive(gamma, "decay factor gamma")
    if gamma > 1:
        raise ValueError(f"decay factor gamma must be in (0, 1], got {gamma}")
    return gamma


@dataclass(frozen=True)
class StepDecay:
    """Multiply the learning rate by `gamma` every `step_size` epochs."""

    lr: float
    step_size: int
    gamma: float = 0.1

    def __post_init__(self) -> None:
        check_positive(self.lr, "learning rate")
        if not is_int(self.step_size):
            raise TypeError(f"step_size must be an int, got {type(self.step_size).__name__}")
        if self.step_size < 1:
            raise ValueError(f"step_size must be >= 1 epoch, got {self.step_size}")
        _check_decay(self.gamma)

    def __call__(self, epoch: int) -> float:
        return self.lr * self.gamma ** (epoch // self.step_size)


@dataclass(frozen=True)
class ExponentialDecay:
    """Multiply the learning rate by `gamma` every epoch."""

    lr: float
    gamma: float = 0.95

    def __post_init__(self) -> None:
        check_positive(self.lr, "learning rate")
        _check_decay(self.gamma)

    def __call__(self, epoch: int) -> float:
        return self.lr * self.gamma**epoch
