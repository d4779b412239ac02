r"""Exercise 09's dropout checks: the mask, the output, evaluation mode and the generator.

Helpers of `check_dropout_forward` in `ex09_overfitting_and_regularisation`, kept apart so
that no module is over 600 lines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bpcourse.checking.compare import compare_array, describe
from bpcourse.checking.diagnose import LIKELY
from bpcourse.checking.items.ex04_06_catalogue import Slip, compare
from bpcourse.checking.safe import BadAnswer, call_safely, expect_tuple

P_DROP = 0.3
DROPOUT_SHAPE = (400, 250)
DROPOUT_SEED = 90


def dropout_input() -> np.ndarray:
    return np.random.default_rng(DROPOUT_SEED + 1).normal(1.0, 0.5, size=DROPOUT_SHAPE)


def _forward(dropout_forward: Callable[..., Any], X, rng, training) -> tuple[Any, Any]:
    value = call_safely(dropout_forward, X, P_DROP, rng, training, name="dropout_forward")
    return expect_tuple(value, 2, "(out, mask)", "dropout_forward")


def _binary(value: Any) -> bool:
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
        return False
    return bool(np.isin(value.astype(np.float64), (0.0, 1.0)).all())


def _as_mask(mask: Any, shape: tuple[int, ...], out: Any = None) -> np.ndarray:
    """The learner's mask as 0.0/1.0, or BadAnswer saying what it is instead."""
    if (
        isinstance(out, np.ndarray)
        and out.shape == shape
        and _binary(out)
        and not _binary(mask)
        and isinstance(mask, np.ndarray)
        and mask.shape == shape
    ):
        raise BadAnswer(
            "dropout_forward returns (mask, out): return the two in the order (out, mask)"
        )
    if not isinstance(mask, np.ndarray) or mask.shape != shape:
        raise BadAnswer(
            f"mask should be an array of X's shape {shape}, 1 where a unit is kept and 0 where "
            f"it is dropped; got {describe(mask)}"
        )
    values = mask.astype(np.float64)
    if np.isin(values, (0.0, 1.0)).all():
        return values
    if _scaled(mask):
        return (values > 0).astype(np.float64)  # said in the drop-fraction part
    raise BadAnswer("mask should hold only 0 (dropped) and 1 (kept), as floats or booleans")


def _scaled(mask: Any) -> bool:
    """A keep-mask scaled by 1/(1 − p), as the library's dropout_mask returns (not asked for)."""
    if not isinstance(mask, np.ndarray) or mask.dtype.kind != "f":
        return False
    scaled = np.isclose(mask, 1 / (1 - P_DROP))
    return bool(scaled.any() and scaled.sum() + (mask == 0).sum() == mask.size)


def _drop_fraction(mask: np.ndarray) -> list[str]:
    dropped = float(np.mean(mask == 0))
    tolerance = 5 * np.sqrt(P_DROP * (1 - P_DROP) / mask.size)
    if abs(dropped - P_DROP) <= tolerance:
        return []
    said = (
        f"the mask drops {dropped:.1%} of the units, expected p = {P_DROP:.0%} (± {tolerance:.1%})"
    )
    if abs(dropped - (1 - P_DROP)) <= tolerance:
        return [
            said,
            f"{LIKELY}you keep each unit with probability p: p is the probability of dropping a "
            "unit, keep it with probability 1 − p (rng.random(shape) >= p, or < 1 − p)",
        ]
    return [said]


def _output(X: np.ndarray, out: Any, mask: np.ndarray, kept_p: bool) -> list[str]:
    right = X * mask / (1 - P_DROP)
    slips = []
    if not kept_p:
        slips = [
            Slip(
                "{name} is not rescaled: inverted dropout divides the kept units by the keep "
                "probability 1 − p, so that the expected output equals X",
                X * mask,
            ),
            Slip(
                "{name} divides by p, the drop probability: divide by the keep probability 1 − p",
                X * mask / P_DROP,
            ),
            Slip(
                "{name} multiplies by 1 − p: inverted dropout divides the kept units by 1 − p",
                X * mask * (1 - P_DROP),
            ),
            Slip(
                "{name} keeps the units where mask is 0: mask is 1 for a kept unit",
                X * (1 - mask) / (1 - P_DROP),
            ),
        ]
    problems = compare(right, out, "out (given your mask)", slips, layout="X's shape")
    if (
        problems
        and isinstance(out, np.ndarray)
        and out.shape == X.shape
        and out.dtype.kind == "f"
        and np.isfinite(out).all()
    ):
        mean, expected = float(np.mean(out)), float(np.mean(X))
        if abs(mean - expected) > 5 * float(np.std(right)) / np.sqrt(out.size):
            problems.append(
                f"the mean of out is {mean:.4g}, the mean of X {expected:.4g}: inverted "
                "dropout keeps the mean, out = X ⊙ mask / (1 − p)"
            )
    return problems


def _evaluation(dropout_forward: Callable[..., Any], X: np.ndarray) -> list[str]:
    try:
        out, _ = _forward(dropout_forward, X, np.random.default_rng(DROPOUT_SEED), False)
    except BadAnswer as bad:
        return [f"in evaluation mode (training=False): {bad}"]
    problems = compare_array(X, out, "out in evaluation mode (training=False)", layout="X's shape")
    if problems and isinstance(out, np.ndarray) and out.shape == X.shape:
        zeros = float(np.mean(out == 0))
        if zeros > 0.1:
            problems.append(
                f"{LIKELY}dropout is applied in evaluation mode ({zeros:.0%} of out is 0): with "
                "training=False the layer is the identity, out = X"
            )
        elif np.allclose(out, X * (1 - P_DROP)):
            problems.append(
                f"{LIKELY}out is scaled by 1 − p in evaluation mode: inverted dropout already "
                "rescaled in training, so evaluation is the identity, out = X"
            )
    return problems


def _randomness(dropout_forward: Callable[..., Any], X: np.ndarray, mask: np.ndarray) -> list[str]:
    rng = np.random.default_rng(DROPOUT_SEED)
    first = _as_mask(_forward(dropout_forward, X, rng, True)[1], X.shape)
    second = _as_mask(_forward(dropout_forward, X, rng, True)[1], X.shape)
    if not np.array_equal(first, mask):
        return [
            "two calls with generators of the same seed gave different masks: draw the mask from "
            "the rng passed in (rng.random), not from np.random"
        ]
    if np.all(first == first.flat[0]):
        return [
            f"the mask {'keeps' if first.flat[0] else 'drops'} every unit: it is not random; "
            "draw one number per unit from rng and compare it with p"
        ]
    if np.array_equal(first, second):
        return [
            "two calls with the same rng gave the same mask: every forward pass draws a fresh "
            "mask from rng (do not make a new generator inside the function)"
        ]
    return []


def _close(got: Any, expected: np.ndarray) -> bool:
    return (
        isinstance(got, np.ndarray)
        and got.shape == expected.shape
        and got.dtype.kind == "f"
        and bool(np.allclose(got, expected, rtol=1e-7, atol=1e-12))
    )
