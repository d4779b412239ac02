r"""The mistake catalogue: recognise a wrong gradient as a known slip of the right one.

A wrong answer is compared with *known-wrong variants* of the right one. Some are built
from the right answer alone, so every check gets them for free:

- the transpose (a product in the wrong order);
- the opposite sign;
- 2× or ½×;
- N× or 1/N× for a batch of N (the mean over the batch forgotten or taken twice);
- any other constant multiple of an array (a positive factor: the direction is right; a
  negative one: the opposite direction, a sign error as well).

These say what the answer *is*; they name a cause only where the checker passes one in
`causes` (keys "transpose", "sign", "double", "half"), because the cause depends on the item:
"the ½ of ½(ŷ − y)² cancels the 2" is right for a squared-error loss and wrong elsewhere.
Where nothing fits, the feedback says what is wrong without guessing a cause: how many
entries have the wrong sign, or by what range of factors they are off.

Others need the checker's inputs and are passed in as `Mistake`s, made by the helpers:
`missing_derivative` (the f'(z) factor left out), `mask_wrong_side` and `mask_not_applied`
(ReLU), `last_contribution_only` (`=` where `+=` belongs), or `Mistake(text, value)` for
anything else. Each message may use `{name}`, the name of the answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def _with_cause(text: str, causes: Mapping[str, str], key: str, default: str = "") -> str:
    cause = causes.get(key, default)
    return f"{text}: {cause}" if cause else text


def _built_in(
    expected: np.ndarray, batch_size: int | None, causes: Mapping[str, str] | None = None
) -> list[Mistake]:
    causes = causes or {}
    mistakes = [
        Mistake(
            _with_cause(
                "{name} is the transpose of the right answer",
                causes,
                "transpose",
                "check the order of the matrix product against the shapes",
            ),
            expected.T,
        ),
        Mistake(
            _with_cause(
                "{name} has the opposite sign",
                causes,
                "sign",
                "check the sign of every factor of the chain rule",
            ),
            -expected,
        ),
        Mistake(_with_cause("{name} is 2 × the right answer", causes, "double"), 2 * expected),
        Mistake(_with_cause("{name} is ½ × the right answer", causes, "half"), expected / 2),
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
    causes: Mapping[str, str] | None = None,
    describe_rest: bool = True,
) -> list[str]:
    """The likely mistake(s) behind a wrong `got` ([] when nothing can be said).

    `expected` is the right answer; `batch_size` enables the N× checks; `mistakes` are
    answer-specific variants (tried first); `causes` the item's causes of the built-in
    slips. Variants that coincide with the right answer are skipped. When nothing is
    recognised and `describe_rest`, one line says what is wrong (signs, factors).
    """
    right = np.asarray(expected, dtype=np.float64)
    answer = np.asarray(got, dtype=np.float64)
    if not np.isfinite(answer).all():
        return []
    found = []
    for mistake in [*mistakes, *_built_in(right, batch_size, causes)]:
        variant = np.asarray(mistake.value, dtype=np.float64)
        if variant.shape == right.shape and _close(variant, right):
            continue  # not a mistake for these inputs
        if _close(variant, answer):
            found.append(LIKELY + mistake.text.format(name=name))
    if found or answer.shape != right.shape or right.size < 2:
        return found  # a single number: compare_number already said expected and got
    c = _constant_factor(right, answer)
    if c is not None and c > 0:
        return [
            f"{name} is {c:.4g} × the right answer in every entry: the direction is right, "
            "the size is not"
        ]
    if c is not None:
        return [
            f"{name} is {c:.4g} × the right answer in every entry: it points the opposite way "
            f"(a sign error) and its size is off by a factor {-c:.4g}"
        ]
    return _what_is_wrong(right, answer, name) if describe_rest else []


def _what_is_wrong(right: np.ndarray, answer: np.ndarray, name: str) -> list[str]:
    """What is wrong, without a cause: signs and factors of the entries that differ."""
    scale = max(float(np.abs(right).max()), 1e-12)
    differ = np.abs(answer - right) > 1e-6 * scale
    both = differ & (np.abs(right) > 1e-6 * scale)
    flipped = int(np.sum(both & (np.sign(answer) == -np.sign(right))))
    lines = []
    if flipped:
        lines.append(f"{flipped} of {right.size} entries of {name} have the wrong sign")
    if both.any():
        ratios = answer[both] / right[both]
        low, high = float(ratios.min()), float(ratios.max())
        if high - low > 1e-6 * max(abs(high), 1):
            lines.append(
                f"{int(differ.sum())} of {right.size} entries of {name} differ, by factors "
                f"from {low:.3g} to {high:.3g} (not one constant factor)"
            )
    return ["; ".join(lines)] if lines else []


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
    causes: Mapping[str, str] | None = None,
) -> list[str]:
    """`compare_array`, then, for a wrong array of a usable shape, `diagnose_gradient`."""
    problems = compare_array(
        expected, got, name, layout=layout, tolerance=tolerance, shape_hints=shape_hints
    )
    if problems and isinstance(got, np.ndarray) and got.dtype.kind in "fiu":
        problems += diagnose_gradient(
            expected, got, name, batch_size=batch_size, mistakes=mistakes, causes=causes
        )
    return problems
