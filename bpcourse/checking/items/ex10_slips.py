r"""Exercise 10's known slips of the forward and the backward pass, as `Slip`s with their causes.

Kept apart from `ex10_batch_normalisation` so that no module is over 600 lines.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bpcourse.checking.items.ex04_06_catalogue import Slip
from bpcourse.checking.items.ex10_math import EPS, backward_slipped, forward

AXIS_1 = (
    "over axis 1 (the features): the batch statistics and the sums over examples run over "
    "axis 0, the batch"
)


def forward_slips(X: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> list[Slip]:
    return [
        Slip(
            "{name} adds ε outside the square root: the denominator is √(σ² + ε), not √σ² + ε",
            forward(X, gamma, beta, EPS, eps_outside=True),
        ),
        Slip(
            "{name} normalises with the unbiased variance (÷ (N − 1)): the batch variance σ² "
            "divides by N (np.var's default, ddof=0)",
            forward(X, gamma, beta, EPS, ddof=1),
        ),
        Slip(f"{{name}} is computed {AXIS_1}", forward(X, gamma, beta, EPS, axis=1)),
        Slip(
            "{name} divides by the variance σ² + ε: divide by the standard deviation √(σ² + ε)",
            gamma * (X - X.mean(axis=0)) / (X.var(axis=0) + EPS) + beta,
        ),
        Slip(
            "{name} swaps γ and β: o = γ x̂ + β scales by γ and shifts by β",
            beta * (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + EPS) + gamma,
        ),
    ]


def dx_slips(dOut: np.ndarray, X: np.ndarray, gamma: np.ndarray) -> list[Slip]:
    def slip(**kw: Any) -> np.ndarray:
        return backward_slipped(dOut, X, gamma, EPS, **kw)

    return [
        Slip(
            "{name} treats μ and σ² as constants: every x̂_i depends on every x_j through the "
            "batch mean and variance, so dX has two more terms (through μ and through σ²)",
            slip(mean_path=False, variance_path=False),
        ),
        Slip(
            "{name} misses the path through σ²: σ² depends on every x_n, and ∂σ²/∂x_n = "
            "2(x_n − μ)/N adds the term dσ² · 2(x_n − μ)/N",
            slip(variance_path=False),
        ),
        Slip(
            "{name} misses the path through μ: μ depends on every x_n (∂μ/∂x_n = 1/N), which "
            "adds the term dμ/N",
            slip(mean_path=False),
        ),
        Slip(
            "{name} lacks the 1/N of ∂σ²/∂x_n: σ² is a mean over the batch, so "
            "∂σ²/∂x_n = 2(x_n − μ)/N",
            slip(variance_n=False),
        ),
        Slip(
            "{name} uses the wrong power in dσ²: d(σ² + ε)^(−1/2)/dσ² = −½ (σ² + ε)^(−3/2)",
            slip(power=-0.5),
        ),
        Slip(EPS_OUTSIDE, slip(eps_outside=True)),
        Slip(UNBIASED, slip(ddof=1)),
        Slip(f"{{name}} is computed {AXIS_1}", slip(axis=1)),
    ]


EPS_OUTSIDE = "{name} adds ε outside the square root: the denominator is √(σ² + ε), not √σ² + ε"
UNBIASED = "{name} uses the unbiased variance (÷ (N − 1)): the batch variance σ² divides by N"
