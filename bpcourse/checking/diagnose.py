r"""The mistake catalogue: recognise a wrong gradient as a known slip of the right one.

A wrong answer is compared with *known-wrong variants* of the right one. Some are built
from the right answer alone, so every check gets them for free:

- the transpose (a product in the wrong order);
- the opposite sign;
- 2× or ½× (the ½ of ½(y − t)²);
- N× or 1/N× for a batch of N (the mean over the batch forgotten or taken twice);
- any other constant multiple (the direction is right, a factor is wrong).

Others need the checker's inputs and are passed in as `Mistake`s, made by the helpers:
`missing_derivative` (the f'(z) factor left out), `mask_wrong_side` and `mask_not_applied`
(ReLU), `last_contribution_only` (`=` where `+=` belongs), or `Mistake(text, value)` for
anything else. Each message may use `{name}`, the name of the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bpcourse.checking.compare import compare_array
from bpcourse.gradcheck import LAYER_TOLERANCE, relative_error

MATCH = 1e-6  # a wrong answer "is" a variant when it is this close to it
LIKELY = "likely mistake: "


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer and what it tells the learner. `text` may contain {name}."""

    text: str
    value: np.ndarray | float


def missing_derivative(value: np.ndarray, derivative: str = "f'(z)") -> Mistake:
    """The answer with the activation's derivative left out of the chain rule."""
    return Mistake(
        f"{{name}} equals the answer without the activation derivative {derivative}: the chain "
        "rule multiplies the gradient arriving at a unit by f'(z), δ = (gradient from above) ⊙ "
        "f'(z)",
        value,
    )


def mask_not_applied(value: np.ndarray) -> Mistake:
    """The ReLU backward with no mask at all."""
    return Mistake(
        "{name} passes the gradient through everywhere: the ReLU mask is missing (the "
        "gradient is 0 where z ≤ 0, since ReLU'(z) = 0 there)",
        value,
    )


def mask_wrong_side(value: np.ndarray, used: str, right: str = "z > 0") -> Mistake:
    """A mask computed from the wrong quantity, e.g. used='the upstream gradient dA > 0'."""
    return Mistake(
        f"{{name}} applies the mask from the wrong side: it comes from {used}, but ReLU'(z) "
        f"depends on the layer's input: keep the gradient where {right}",
        value,
    )


def last_contribution_only(value: np.ndarray | float, what: str = "the last term") -> Mistake:
    """Only one of several contributions that should have been added up."""
    return Mistake(
        f"{{name}} equals the contribution of {what} only: did you write `=` where `+=` "
        "belongs? Gradients from every path (every example, every use of a value) add up",
        value,
    )


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and relative_error(a, b) < MATCH


def _built_in(expected: np.ndarray, batch_size: int | None) -> list[Mistake]:
    mistakes = [
        Mistake(
            "{name} is the transpose of the right answer: check the order of the matrix "
            "product (for a weight gradient, dZ.T @ X has the weight's shape (n_out, n_in))",
            expected.T,
        ),
        Mistake(
            "{name} has the opposite sign: check the sign of every factor of the chain rule "
            "(for a loss, (y − t), not (t − y))",
            -expected,
        ),
        Mistake(
            "{name} is 2 × the right answer: the ½ in ½(y − t)² is there to cancel the 2 "
            "of the derivative",
            2 * expected,
        ),
        Mistake("{name} is ½ × the right answer: a factor ½ too many", expected / 2),
    ]
    if batch_size and batch_size > 1:
        n = batch_size
        mistakes += [
            Mistake(
                f"{{name}} is N = {n} times too large: the loss is a mean over the batch of "
                f"N = {n}, so its gradient carries a 1/N (did you forget to divide by N?)",
                n * expected,
            ),
            Mistake(
                f"{{name}} is N = {n} times too small: you divided by the batch size once too "
                "often (the 1/N of the mean is already in the upstream gradient)",
                expected / n,
            ),
        ]
    return mistakes


def _constant_factor(expected: np.ndarray, got: np.ndarray) -> float | None:
    """c when got ≈ c · expected for a constant c (least squares), else None."""
    denominator = float(np.sum(expected * expected))
    if denominator == 0.0:
        return None
    c = float(np.sum(expected * got)) / denominator
    return c if abs(c) > 1e-12 and _close(c * expected, got) else None


def diagnose_gradient(
    expected: np.ndarray | float,
    got: np.ndarray | float,
    name: str,
    *,
    batch_size: int | None = None,
    mistakes: Sequence[Mistake] = (),
) -> list[str]:
    """The likely mistake(s) behind a wrong `got` ([] when none is recognised).

    `expected` is the right answer; `batch_size` enables the N× checks; `mistakes` are
    answer-specific variants. Variants that coincide with the right answer are skipped.
    """
    right = np.asarray(expected, dtype=np.float64)
    answer = np.asarray(got, dtype=np.float64)
    if not np.isfinite(answer).all():
        return []
    found = []
    for mistake in [*mistakes, *_built_in(right, batch_size)]:
        variant = np.asarray(mistake.value, dtype=np.float64)
        if variant.shape == right.shape and _close(variant, right):
            continue  # not a mistake for these inputs
        if _close(variant, answer):
            found.append(LIKELY + mistake.text.format(name=name))
    if not found and answer.shape == right.shape:
        c = _constant_factor(right, answer)
        if c is not None:
            found.append(
                f"{LIKELY}{name} is {c:.4g} × the right answer: the direction is right, "
                "but a constant factor is wrong"
            )
    return found


def compare_gradient(
    expected: np.ndarray,
    got: object,
    name: str,
    *,
    layout: str | None = None,
    batch_size: int | None = None,
    mistakes: Sequence[Mistake] = (),
    shape_hints: dict[tuple[int, ...], str] | None = None,
    tolerance: float = LAYER_TOLERANCE,
) -> list[str]:
    """`compare_array`, then, for a wrong array of a usable shape, `diagnose_gradient`."""
    problems = compare_array(
        expected, got, name, layout=layout, tolerance=tolerance, shape_hints=shape_hints
    )
    if problems and isinstance(got, np.ndarray) and got.dtype.kind in "fiu":
        problems += diagnose_gradient(expected, got, name, batch_size=batch_size, mistakes=mistakes)
    return problems
