"""A catalogue of known wrong answers, with one slip or two, for the items of exercises 04–06.

(It may belong in `bpcourse/checking/diagnose.py`; it lives here while those exercises are
reworked.) Unlike `diagnose_gradient`, it adds no built-in text that may not fit the item
(no "½(y − t)²" where there is no squared error): every message comes from the item's own
catalogue or from the few transforms the item switches on, and a wrong answer that matches
nothing is described (by what factor, which sign, which entries), never explained.

- `Slip(text, value)`: a known wrong answer; `text` may use `{name}`.
- `transforms(n=N)`: the slips that apply to any answer (transpose, sign, ×N, ÷N); each is
  also tried on top of every catalogued slip, and two of them together, so combinations of two
  are recognised ("two slips: …; and …").
- `diagnose(expected, got, name, slips, extra)`: the likely mistake(s), or a description.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from bpcourse.checking.compare import compare_array
from bpcourse.checking.diagnose import LIKELY
from bpcourse.checking.shortcuts import NETWORK_LIBRARY
from bpcourse.gradcheck import LAYER_TOLERANCE, relative_error

# the library code that would do the asked-for work: an answer that uses it scores nothing
BACKPROP_SHORTCUTS = (
    *(
        f"bpcourse.activations.{name}"  # the forward functions sigmoid, tanh, relu, softmax
        for name in (  # are tools the notebook imports; their derivatives are the work
            "logsumexp",
            "log_softmax",
            "softmax_and_log_softmax",
            "softmax_backward",
            "softplus",
            "softplus_derivative",
            "sigmoid_derivative",
            "tanh_derivative",
            "relu_derivative",
            "leaky_relu_derivative",
            "get_activation",
        )
    ),
    *NETWORK_LIBRARY,
)

MATCH = 1e-6


@dataclass(frozen=True)
class Slip:
    """A known wrong answer and what it tells the learner (`{name}` is the answer's name)."""

    text: str
    value: np.ndarray | float


@dataclass(frozen=True)
class Transform:
    """A slip that can happen to any answer: a function of the right (or a wrong) value."""

    text: str
    apply: Callable[[np.ndarray], np.ndarray]
    key: str


def transforms(
    n: int | None = None,
    *,
    transpose: bool = True,
    sign: bool = True,
    batch_text: str = "the loss is a mean over the batch, so its gradient carries a 1/N",
) -> list[Transform]:
    """The generic slips: transpose, opposite sign, N× and 1/N× (for a batch of N)."""
    found = []
    if transpose:
        found.append(
            Transform(
                "{name} is transposed: swap the order of the matrix product (or of its factors' "
                "transposes)",
                lambda v: v.T,
                "T",
            )
        )
    if sign:
        found.append(
            Transform(
                "{name} has the opposite sign: check the sign of every factor", lambda v: -v, "-"
            )
        )
    if n and n > 1:
        found += [
            Transform(f"{{name}} is N = {n} times too large: {batch_text}", lambda v: n * v, "N"),
            Transform(
                f"{{name}} is N = {n} times too small: the 1/N of the mean is taken once too often",
                lambda v: v / n,
                "1/N",
            ),
        ]
    return found


_INVERSE = {("N", "1/N"), ("1/N", "N"), ("-", "-"), ("T", "T"), ("N", "N"), ("1/N", "1/N")}


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.isfinite(a).all()) and relative_error(a, b) < MATCH


def candidates(
    expected: np.ndarray, slips: Sequence[Slip], generic: Sequence[Transform]
) -> list[tuple[np.ndarray, list[str]]]:
    """Every known wrong answer (one slip, then two) with its texts, in order of preference."""
    right = np.asarray(expected, dtype=np.float64)
    found: list[tuple[np.ndarray, list[str]]] = []
    for slip in slips:
        found.append((np.asarray(slip.value, dtype=np.float64), [slip.text]))
    for t in generic:
        found.append((t.apply(right), [t.text]))
    for slip in slips:
        for t in generic:
            found.append((t.apply(np.asarray(slip.value, dtype=np.float64)), [slip.text, t.text]))
    for i, t1 in enumerate(generic):
        for t2 in generic[i + 1 :]:
            if (t1.key, t2.key) not in _INVERSE:
                found.append((t2.apply(t1.apply(right)), [t1.text, t2.text]))
    return [(v, texts) for v, texts in found if not _same(v, right)]


def _describe(right: np.ndarray, answer: np.ndarray, name: str) -> list[str]:
    """What is wrong, without guessing why: a factor, the signs, the entries that are right."""
    if answer.shape != right.shape or not np.isfinite(answer).all() or _same(answer, right):
        return []  # (equal to the catalogue's precision: a rounding, not a factor of 1)
    denominator = float(np.sum(right * right))
    if denominator > 0:
        c = float(np.sum(right * answer)) / denominator
        # a factor of about 1 is no factor: the values are right and something else is wrong
        if abs(c) > 1e-12 and abs(c - 1) > MATCH and _same(c * right, answer):
            factor = f"{c:.4g}" if f"{abs(c):.4g}" != "1" else f"{c:.8g}"  # never "1 ×"
            if c < 0:
                return [
                    f"{name} is {factor} × the right value: every entry has the wrong sign and "
                    f"is {factor.lstrip('-')} × too large in size"
                ]
            return [f"{name} is {factor} × the right value: the signs are right, the size is not"]
    if right.ndim and right.size > 1:
        ok = np.isclose(answer, right, rtol=1e-6, atol=1e-12)
        flipped = np.isclose(answer, -right, rtol=1e-6, atol=1e-12) & ~ok
        notes = []
        if ok.all():
            return []  # every entry is right: what is wrong is not the values (a dtype, say)
        if ok.any():
            notes.append(f"{int(ok.sum())} of {right.size} entries are right")
        if flipped.any():
            notes.append(f"{int(flipped.sum())} have the right size but the wrong sign")
        if notes:
            return [f"{name}: " + ", ".join(notes)]
    return []


def diagnose(
    expected: np.ndarray | float,
    got: object,
    name: str,
    slips: Sequence[Slip] = (),
    generic: Sequence[Transform] = (),
) -> list[str]:
    """The likely mistake (one slip, or two) behind a wrong `got`, or a plain description."""
    right = np.asarray(expected, dtype=np.float64)
    try:
        answer = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return []
    if not np.isfinite(answer).all():
        return []
    for value, texts in candidates(right, slips, generic):
        if _same(value, answer):
            said = [t.format(name=name) for t in texts]
            if len(said) == 1:
                return [LIKELY + said[0]]
            return [f"{LIKELY}two slips: {said[0]}; and {said[1]}"]
    return _describe(right, answer, name)


def compare(
    expected: np.ndarray,
    got: object,
    name: str,
    slips: Sequence[Slip] = (),
    generic: Sequence[Transform] = (),
    *,
    layout: str | None = None,
    shape_hints: dict[tuple[int, ...], str] | None = None,
    tolerance: float = LAYER_TOLERANCE,
) -> list[str]:
    """`compare_array` (what is wrong), then the catalogue (why), for a float array."""
    problems = compare_array(
        expected, got, name, layout=layout, tolerance=tolerance, shape_hints=shape_hints
    )
    if not problems or not isinstance(got, (np.ndarray, float, int)):
        return problems
    answer = np.asarray(got)
    if answer.dtype.kind not in "fiu" or answer.shape != np.shape(expected):
        return problems
    if not np.isfinite(answer).all():
        return problems  # compare_array has said where the NaN or infinity is
    error = relative_error(answer.astype(np.float64), np.asarray(expected, dtype=np.float64))
    if error < 1e-3:
        # right up to rounding (float32, an integer dtype): no slip to diagnose
        asked = f"{tolerance:.0e}".replace("e-0", "e-")
        problems[0] += f" (close, but not within the {asked} asked for)"
        return problems
    return problems + diagnose(expected, answer, name, slips, generic)
