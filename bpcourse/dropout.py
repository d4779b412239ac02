r"""Inverted dropout (Srivastava et al. 2014) as a forward/backward pair and a layer.

In training, each unit is kept with probability $1-p$ and zeroed with probability $p$; the
survivors are scaled by $1/(1-p)$, so the expected output equals the input:
$$\text{out} = X \odot M, \qquad M_{ij} = \frac{\mathbb{1}[u_{ij} \ge p]}{1-p},
\quad u_{ij} \sim U(0, 1), \qquad \mathbb{E}[\text{out}] = X.$$
In evaluation the layer is the identity (nothing to rescale: that is what "inverted" buys).
The output is linear in X, so the backward pass multiplies by the same mask:
$dX = d\text{out} \odot M$.

    out, cache = dropout_forward(X, p=0.5, rng=rng, training=True)
    dX = dropout_backward(dOut, cache)

A gradient check runs the forward pass many times and needs the *same* mask each time; the
layer's `freeze_mask()` context manager (or its `fixed_mask` attribute) provides that:

    layer = Dropout(0.5, seed=0)
    with layer.freeze_mask():
        check_layer(layer, X).raise_if_failed()
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from bpcourse.layers import Layer


def check_dropout_probability(p: float, name: str = "dropout") -> float:
    """Return p as a float, or raise ValueError unless 0 <= p < 1."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name}: the drop probability p must be a number, got {type(p).__name__}")
    if not (math.isfinite(p) and 0 <= p < 1):
        why = " (p = 1 would drop every unit, and 1/(1 - p) divides by zero)" if p == 1 else ""
        raise ValueError(f"{name}: the drop probability p must lie in [0, 1), got p = {p}{why}")
    return float(p)


def dropout_mask(shape: tuple[int, ...], p: float, rng: np.random.Generator) -> np.ndarray:
    """The scaled keep-mask M: 1/(1-p) with probability 1-p, else 0 (float64, given shape)."""
    return (rng.random(shape) >= p) / (1.0 - p)


def dropout_forward(
    X: np.ndarray,
    p: float,
    rng: np.random.Generator,
    training: bool = True,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, Any]:
    """Inverted dropout of X (any shape). Returns (out, cache); out has X's shape.

    In training, a new mask is drawn from `rng` unless `mask` (a scaled keep-mask of X's
    shape, as returned in the cache) is given. In evaluation, out is X and the cache is None.
    """
    p = check_dropout_probability(p)
    if not training:
        return X, None
    if mask is None:
        mask = dropout_mask(X.shape, p, rng).astype(X.dtype)
    return X * mask, mask


def dropout_backward(dOut: np.ndarray, cache: Any) -> np.ndarray:
    """dX = dOut * M, with the forward pass's mask M (identity if it ran in evaluation)."""
    mask = cache
    return dOut if mask is None else dOut * mask


class Dropout(Layer):
    """Inverted dropout with drop probability p; identity in evaluation mode.

    While `fixed_mask` is True (see `freeze_mask()`), training-mode forward passes reuse the
    last mask (drawing one only if there is none of the input's shape yet), so the layer is
    a fixed function of its input, as a gradient check needs.
    """

    def __init__(
        self, p: float = 0.5, seed: int | np.random.Generator | None = 0, name: str = "dropout"
    ) -> None:
        self.p = check_dropout_probability(p, f"Dropout layer {name!r}")
        self.rng = np.random.default_rng(seed)
        self.name = name
        self.fixed_mask = False
        self.mask: np.ndarray | None = None  # the last training-mode mask, scaled

    @contextmanager
    def freeze_mask(self) -> Iterator[Dropout]:
        """Within the block, every training-mode forward pass uses the same mask."""
        previous, self.fixed_mask = self.fixed_mask, True
        try:
            yield self
        finally:
            self.fixed_mask = previous

    def forward(self, X: np.ndarray, training: bool = True) -> np.ndarray:
        reuse = self.fixed_mask and self.mask is not None and self.mask.shape == X.shape
        out, cache = dropout_forward(
            X, self.p, self.rng, training, mask=self.mask if reuse else None
        )
        if training:
            self.mask = cache
        return self.remember(out, cache)

    def backward(self, dOut: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        cache = self.recall(dOut)
        return dropout_backward(dOut, cache) if input_grad else None

    def __repr__(self) -> str:
        return f"Dropout(p={self.p:g}, name={self.name!r})"
