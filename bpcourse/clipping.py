r"""Gradient clipping: a guard against exploding gradients.

| method | what it does |
|---|---|
| by value | clip every gradient entry to $[-c, c]$ |
| by global norm | if $\lVert g\rVert > c$, scale every gradient by $c/\lVert g\rVert$ |

Here $\lVert g\rVert = \sqrt{\sum_p \lVert g_p\rVert^2}$ over every parameter $p$.
Clipping by global norm keeps the direction of the whole gradient and only shortens the
step (Pascanu et al. 2013); clipping by value can change the direction. Both work in place
on `Parameter.grad`, between `backward` and the optimiser's `step`.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from bpcourse.layers import Parameter
from bpcourse.validation import check_positive


def global_norm(params: Iterable[Parameter]) -> float:
    """The norm of all gradients taken together as one long vector."""
    return float(np.sqrt(sum(float(np.sum(p.grad * p.grad)) for p in params)))


def clip_by_value(params: Iterable[Parameter], clip_value: float) -> None:
    """Clip each gradient entry to [-clip_value, clip_value], in place."""
    c = check_positive(clip_value, "clip_value")
    for p in params:
        np.clip(p.grad, -c, c, out=p.grad)


def clip_by_global_norm(params: Iterable[Parameter], max_norm: float) -> float:
    """Scale all gradients so their global norm is at most `max_norm`; return the norm before."""
    c = check_positive(max_norm, "max_norm")
    params = list(params)
    norm = global_norm(params)
    if norm > c:
        for p in params:
            p.grad *= c / norm
    return norm
