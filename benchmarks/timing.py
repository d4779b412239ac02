"""Where a training step's time goes: layers, a loss and an optimiser wrapped in timers.

bench_cnn.py and bench_mlp.py train a copy of their network whose every layer is `Timed`, with
`timed_loss` and `time_steps`; each adds the seconds it took into one dict, keyed by
(name, "forward" | "backward" | "call"). Whatever the dict does not hold (batching, the loop)
is the rest of the epoch.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bpcourse.layers import Layer, Parameter
from bpcourse.losses import Loss
from bpcourse.optim import Optimizer

Seconds = dict[tuple[str, str], float]


class Timed(Layer):
    """A layer that runs another one and adds up the seconds its forward and backward take."""

    def __init__(self, layer: Layer, seconds: Seconds) -> None:
        self.layer, self.seconds, self.name = layer, seconds, layer.name

    def forward(self, X: np.ndarray, training: bool = True) -> np.ndarray:
        start = time.perf_counter()
        out = self.layer.forward(X, training)
        self.seconds[self.name, "forward"] += time.perf_counter() - start
        return out

    def backward(self, dOut: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        start = time.perf_counter()
        dX = self.layer.backward(dOut, input_grad)
        self.seconds[self.name, "backward"] += time.perf_counter() - start
        return dX

    def parameters(self) -> list[Parameter]:
        return self.layer.parameters()

    def expected_input(self) -> tuple[int, str] | None:
        return self.layer.expected_input()


def _timed(function: Callable[..., Any], seconds: Seconds, name: str) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        start = time.perf_counter()
        result = function(*args)
        seconds[name, "call"] += time.perf_counter() - start
        return result

    return run


def timed_loss(loss: Loss, seconds: Seconds) -> Loss:
    """The same loss, its calls timed under ("loss", "call")."""
    return dataclasses.replace(loss, function=_timed(loss.function, seconds, "loss"))


def time_steps(optimizer: Optimizer, seconds: Seconds) -> Optimizer:
    """The optimiser, its `step()` timed under ("update", "call") from now on."""
    optimizer.step = _timed(optimizer.step, seconds, "update")  # type: ignore[method-assign]
    return optimizer
