r"""Optimisers: objects that update a network's parameters in place from their gradients.

Every optimiser has the same interface, so training code never changes when you swap one:

    opt = GradientDescent(net.parameters(), lr=0.1)
    net.loss_and_backward(X, y)   # fills p.grad for every parameter
    opt.step()                    # updates every p.value in place

Plain gradient descent is the update table of the notes:

| parameter | update |
|---|---|
| weight $W^{(l)}$ | $W^{(l)} \leftarrow W^{(l)} - \eta\,\partial \mathcal L/\partial W^{(l)}$ |
| bias $b^{(l)}$ | $b^{(l)} \leftarrow b^{(l)} - \eta\,\partial \mathcal L/\partial b^{(l)}$ |

A new optimiser subclasses `Optimizer` and writes `update(p, state)`, where `state` is a
dict kept per parameter (velocities, running averages) between steps.

| optimiser | state per parameter | convention |
|---|---|---|
| GradientDescent | none | the notes' update |
| Momentum | velocity $v$ (Nesterov optional) | `torch.optim.SGD(momentum=...)` |
| AdaGrad | sum of squared gradients $G$ | `torch.optim.Adagrad` |
| RMSProp | running mean of squared gradients $s$ | `torch.optim.RMSprop` |
| Adam | first and second moments $m$, $v$ | Kingma & Ba 2015, `torch.optim.Adam` |
"""

from __future__ import annotations

import math
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
    r"""$\theta \leftarrow \theta - \eta\,\nabla_\theta L$ for every parameter $\theta$.

    In place, with a work array kept between steps: ηg goes into it, then θ −= it (no new
    arrays per step). (A BLAS `axpy` through SciPy would do it in one pass, but SciPy brings
    its own OpenBLAS, whose threads `threadpoolctl` limits only if it was loaded first: on a
    small shared machine that made an epoch several times slower.)
    """

    def update(self, p: Parameter, state: dict[str, Any]) -> None:
        step = _scratch(state, p)
        np.multiply(p.grad, np.asarray(self.lr, p.value.dtype), out=step)
        p.value -= step


class Momentum(Optimizer):
    r"""Gradient descent with momentum (heavy ball), optionally Nesterov's variant.

    PyTorch's convention (`torch.optim.SGD(momentum=μ, nesterov=...)`), with velocity v:
    $$v \leftarrow \mu v + g, \qquad \theta \leftarrow \theta - \eta v$$
    and with `nesterov=True` the step looks ahead: $\theta \leftarrow \theta - \eta(g + \mu v)$.
    (Sutskever et al. write $v \leftarrow \mu v - \eta g$, $\theta \leftarrow \theta + v$: the
    same steps while η is constant.) The velocity starts at 0.
    """

    def __init__(
        self, params: Iterable[Parameter], lr: float, momentum: float = 0.9, nesterov: bool = False
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _check_fraction(momentum, "momentum")
        self.nesterov = nesterov

    def update(self, p: Parameter, state: dict[str, Any]) -> None:
        v = state.setdefault("velocity", np.zeros_like(p.value))
        v *= self.momentum
        v += p.grad
        step = p.grad + self.momentum * v if self.nesterov else v
        p.value -= np.asarray(self.lr, p.value.dtype) * step


class AdaGrad(Optimizer):
    r"""AdaGrad (Duchi et al. 2011): each entry's step shrinks with its squared-gradient sum.

    $$G \leftarrow G + g^2, \qquad \theta \leftarrow \theta - \eta\, g / (\sqrt{G} + \epsilon)$$
    PyTorch's convention: ε = 1e-10, added outside the square root.
    """

    def __init__(self, params: Iterable[Parameter], lr: float = 0.01, eps: float = 1e-10) -> None:
        super().__init__(params, lr)
        self.eps = check_positive(eps, "eps")

    def update(self, p: Parameter, state: dict[str, Any]) -> None:
        G = state.setdefault("sum_sq", np.zeros_like(p.value))
        G += p.grad * p.grad
        p.value -= self.lr * p.grad / (np.sqrt(G) + self.eps)


class RMSProp(Optimizer):
    r"""RMSProp (Hinton 2012): AdaGrad with a running average instead of a sum.

    $$s \leftarrow \alpha s + (1-\alpha) g^2, \qquad
      \theta \leftarrow \theta - \eta\, g / (\sqrt{s} + \epsilon)$$
    PyTorch's convention: α = 0.99, ε = 1e-8 outside the square root (Keras uses ρ = 0.9
    and ε = 1e-7), s starts at 0.
    """

    def __init__(
        self, params: Iterable[Parameter], lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8
    ) -> None:
        super().__init__(params, lr)
        self.alpha = _check_fraction(alpha, "alpha")
        self.eps = check_positive(eps, "eps")

    def update(self, p: Parameter, state: dict[str, Any]) -> None:
        s = state.setdefault("mean_sq", np.zeros_like(p.value))
        s *= self.alpha
        s += (1 - self.alpha) * p.grad * p.grad
        p.value -= self.lr * p.grad / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba 2015): momentum and RMSProp, with bias correction.

    At step t = 1, 2, ...:
    $$m \leftarrow \beta_1 m + (1-\beta_1) g, \qquad v \leftarrow \beta_2 v + (1-\beta_2) g^2$$
    $$\hat m = m/(1-\beta_1^t), \qquad \hat v = v/(1-\beta_2^t), \qquad
      \theta \leftarrow \theta - \eta\,\hat m/(\sqrt{\hat v} + \epsilon)$$
    The paper's Algorithm 1 and PyTorch's `torch.optim.Adam` (defaults β = (0.9, 0.999),
    ε = 1e-8 added after the square root of the bias-corrected $\hat v$). The bias correction
    undoes the pull towards 0 of averages that start at 0.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        self.beta1 = _check_fraction(betas[0], "beta1")
        self.beta2 = _check_fraction(betas[1], "beta2")
        self.eps = check_positive(eps, "eps")

    def update(self, p: Parameter, state: dict[str, Any]) -> None:
        # In place, and in the paper's cheaper order (Kingma & Ba 2015, end of section 2):
        # eta * m_hat / (sqrt(v_hat) + eps) = eta_t * m / (sqrt(v) + eps_t), with
        # eta_t = eta sqrt(1 - beta2^t) / (1 - beta1^t) and eps_t = eps sqrt(1 - beta2^t):
        # the same number, two passes over the parameters fewer, no temporary arrays.
        g = p.grad
        m = state.setdefault("m", np.zeros_like(p.value))
        v = state.setdefault("v", np.zeros_like(p.value))
        step = _scratch(state, p)
        denominator = _scratch(state, p, "denominator")
        root_bc2 = math.sqrt(1 - self.beta2**self.steps)
        m *= self.beta1
        np.multiply(g, 1 - self.beta1, out=step)
        m += step
        v *= self.beta2
        np.multiply(g, g, out=step)
        step *= 1 - self.beta2
        v += step
        np.sqrt(v, out=denominator)
        denominator += self.eps * root_bc2
        np.divide(m, denominator, out=step)
        step *= self.lr * root_bc2 / (1 - self.beta1**self.steps)
        p.value -= step


def _scratch(state: dict[str, Any], p: Parameter, name: str = "scratch") -> np.ndarray:
    """A work array of p's shape and dtype, kept in the optimiser's state between steps."""
    array = state.get(name)
    if array is None or array.shape != p.value.shape:
        array = state[name] = np.empty_like(p.value)
    return array


def _check_fraction(value: float, name: str) -> float:
    """A number in [0, 1), as momenta and decay rates must be."""
    value = check_positive(value, name, allow_zero=True)
    if value >= 1:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": GradientDescent,
    "gradient_descent": GradientDescent,
    "momentum": Momentum,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
}
