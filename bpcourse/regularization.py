r"""Weight penalties: L2 (weight decay) and L1, with their gradients.

A penalty is added to the data loss, and its gradient to each weight's gradient:

| penalty | added to the loss | added to $\partial \mathcal L/\partial W$ |
|---|---|---|
| L2 | $\frac{\lambda}{2}\sum_l \lVert W^{(l)}\rVert_F^2$ | $\lambda W$ |
| L1 | $\lambda\sum_l \sum_{jk} \lvert w^{(l)}_{jk}\rvert$ | $\lambda\,\mathrm{sign}(W)$ |

Only weights are penalised, not biases (names ending in `.b`) or batch-norm shifts and
scales: they do not make the function more complex. With plain gradient descent the L2
gradient shrinks every weight by a factor $(1-\eta\lambda)$ each step, hence "weight decay".
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from bpcourse.layers import Parameter
from bpcourse.validation import check_positive

UNPENALISED_SUFFIXES = (".b", ".beta", ".gamma")


def penalised(params: Iterable[Parameter]) -> list[Parameter]:
    """The parameters a weight penalty applies to: weights, not biases or BN scale/shift."""
    return [p for p in params if not p.name.endswith(UNPENALISED_SUFFIXES)]


def l2_penalty(params: Iterable[Parameter], strength: float) -> float:
    r"""Add $\lambda W$ to each weight's gradient; return $\frac\lambda2\sum\lVert W\rVert^2$."""
    strength = check_positive(strength, "L2 strength", allow_zero=True)
    total = 0.0
    for p in penalised(params):
        total += float(np.sum(p.value * p.value))
        p.grad += strength * p.value
    return 0.5 * strength * total


def l1_penalty(params: Iterable[Parameter], strength: float) -> float:
    r"""Add $\lambda\,\mathrm{sign}(W)$ to each weight's gradient; return $\lambda\sum|W|$.

    $|w|$ has no derivative at 0; we use 0 there (the subgradient that keeps zeros at zero).
    """
    strength = check_positive(strength, "L1 strength", allow_zero=True)
    total = 0.0
    for p in penalised(params):
        total += float(np.sum(np.abs(p.value)))
        p.grad += strength * np.sign(p.value)
    return strength * total
