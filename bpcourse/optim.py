r"""Optimisers: objects that update a network's parameters in place from their gradients.

Every optimiser has the same interface, so training code never changes when you swap one:

    opt = GradientDescent(net.parameters(), lr=0.1)
    net.loss_and_backward(X, y)   # fills p.grad for every parameter
    opt.step()                    # updates every p.value in place

Plain gradient descent is the update table of the notes:

| parameter | update |
|---|---|
| weight $W^{(l)}$ | $W^{(l)} \leftarrow W^{(l)} - \eta\,\partial L/\partial W^{(l)}$ |
| bias $b^{(l)}$ | $b^{(l)} \leftarrow b^{(l)} - \eta\,\partial L/\partial b^{(l)}$ |

A new optimiser subclasses `Optimizer` and writes `update(p, state)`, where `state` is a
dict kept per parameter (velocities, running averages) between steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from bpcourse.layers import Parameter
from bpcourse.validation import check_positive


class Optimizer:
    """Base class: holds the parameters, the learning rate and per-parameter state."""

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} was given no parameters to optimise")
        for p in self.params:
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"{type(self).__name__} needs Parameters (net.parameters()), "
                    f"got {type(p).__name__}"
                )
        self.lr = lr
        self.state: dict[int, dict[str, Any]] = {id(p): {} for p in self.params}
        self.steps = 0

    @property
    def lr(self) -> float:
        """The learning rate η (a schedule may change it between steps)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_positive(value, f"{type(self).__name__}: learning rate")

    def step(self) -> None:
        """Update every parameter from its current gradient."""
        self.steps += 1
        for p in self.params:
            self.update(p, self.state[id(p)])

    def update(self, p: Parameter, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad[...] = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lr={self.lr:g})"


class GradientDescent(Optimizer):
    r"""$\theta \leftarrow \theta - \eta\,\nabla_\theta L$ for every parameter $\theta$."""

    def update(self, p: Parameter, state: dict[str, Any]) -> None:
        p.value -= np.asarray(self.lr, p.value.dtype) * p.grad
