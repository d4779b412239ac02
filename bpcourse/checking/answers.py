"""Stored answers, for the few questions the math cannot check by itself: conceptual questions.

A conceptual question ("how many backward passes give the gradient of one loss with
respect to a million weights?") has a number or a word for an answer, and no formula to
verify it against. Such answers are stored as a salted SHA-256 digest, never in plain
text: `digest(grade_id, value)` hashes "bpcourse:<grade_id>:<normalised value>", where a
number is normalised to 4 significant digits (`f"{x:.4g}"`, so 0.33333 and 1/3 agree) and a
word to lower case without surrounding spaces. The grade_id is the salt, so the same value
has a different digest in every item.

A shape (a tuple of ints) is normalised to "(10, 32)".

This keeps answers from being read at a glance, in the package or in a notebook; it is not
security (a determined learner can hash guesses). To store an answer, run

    python -m bpcourse.checking.answers GRADE_ID VALUE      # VALUE: 0.5, b, "(10, 32)"

and paste the digest into the item.

A conceptual question is a graded item like any other: the learner writes a function that
returns the answer (`def dW2_shape(): return (10, 32)`, `def misconception_1(): return "b"`),
and `question(...)` registers its check. The multiple-choice text lives in the notebook's
markdown; choices are letters. A wrong answer says what kind of answer was expected and
which idea to revisit, never the answer (no "2 × too large" for a number: that would give it
away).
"""

from __future__ import annotations

import hashlib
import numbers
import sys

import numpy as np

from bpcourse.checking.compare import describe
from bpcourse.validation import is_int

SALT = "bpcourse"
DIGITS = 4


def normalise(value: object, digits: int = DIGITS) -> str:
    """The canonical text of an answer: '0.3333' for 1/3, 'relu' for ' ReLU '."""
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, (tuple, list)):
        if not all(is_int(v) for v in value):
            raise TypeError(f"a shape is a tuple of whole numbers, got {describe(value)}")
        return "(" + ", ".join(str(int(v)) for v in value) + ")"
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"an answer is a number or a word, got {describe(value)}")
    text = f"{float(value):.{digits}g}"
    return "0" if text == "-0" else text


def digest(grade_id: str, value: object, digits: int = DIGITS) -> str:
    """The salted SHA-256 digest of an answer (hex)."""
    text = f"{SALT}:{grade_id}:{normalise(value, digits)}"
    return hashlib.sha256(text.encode()).hexdigest()


def check_answer(
    grade_id: str, got: object, expected_digest: str, name: str, digits: int = DIGITS
) -> list[str]:
    """What is wrong with `got` as the answer stored as `expected_digest`; [] when right.

    The feedback never hints at the answer (no "the sign is wrong", no "2 × too large").
    """
    if got is None:
        return [f"{name} is None: did you forget to `return` it?"]
    try:
        if digest(grade_id, got, digits) == expected_digest:
            return []
    except TypeError:
        return [f"{name} is {describe(got)}, expected a number or a word"]
    if isinstance(got, (str, tuple, list)):
        return [f"{name} = {got!r} is not the answer"]
    value = float(np.asarray(got).item())
    if not np.isfinite(value):
        return [f"{name} is {value}, expected a finite number"]
    return [f"{name} = {value:.{digits}g} is not the answer"]


KINDS = {
    "letter": 'one letter, the choice you pick (e.g. "a")',
    "shape": "a shape, a tuple of whole numbers (e.g. (3, 4))",
    "integer": "a whole number",
    "number": "a number",
    "word": "a word",
}


def _kind_problem(value: object, kind: str, choices: str, name: str) -> str | None:
    """Why `value` is not the kind of answer asked for, or None when it is."""
    expected = KINDS[kind]
    if kind == "letter":
        if not isinstance(value, str) or value.strip().lower() not in choices:
            return f"{name}() should return {expected}, one of {', '.join(choices)}; got " + (
                repr(value) if isinstance(value, str) else describe(value)
            )
        return None
    if kind == "shape":
        if isinstance(value, list):
            value = tuple(value)
        if not isinstance(value, tuple) or not all(is_int(v) for v in value):
            return f"{name}() should return {expected}; got {describe(value)}"
        return None
    if kind == "word":
        return None if isinstance(value, str) else f"{name}() should return {expected}"
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return f"{name}() should return {expected}; got {describe(value)}"
    if not np.isfinite(float(value)):
        return f"{name}() should return {expected}; got {value}"
    if kind == "integer" and float(value) != round(float(value)):
        return f"{name}() should return {expected}; got {value}"
    return None


def question(
    grade_id: str,
    points: float,
    notebook: str,
    expected_digest: str,
    *,
    kind: str,
    revisit: str,
    choices: str = "abcd",
    digits: int = DIGITS,
) -> object:
    """Register a conceptual question answered by a function of no arguments.

    `kind` is one of KINDS; `revisit` names the idea a wrong answer should revisit ("the
    shapes of z(2) and a(1)"), without the answer; `choices` the letters of a multiple choice.
    """
    from bpcourse.checking.registry import Problems, item
    from bpcourse.checking.safe import call_safely

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {sorted(KINDS)}, got {kind!r}")

    def check_question(answer: object) -> Problems:
        name = str(getattr(answer, "__name__", "your answer"))
        value = call_safely(answer, name=name)
        if value is None:
            return [f"{name}() returned None: did you forget to `return` your answer?"]
        problem = _kind_problem(value, kind, choices, name)
        if problem:
            return [problem]
        if kind == "shape":
            value = tuple(int(v) for v in value)
        if digest(grade_id, value, digits) == expected_digest:
            return []
        shown = repr(value) if isinstance(value, (str, tuple)) else f"{float(value):.{digits}g}"
        return [f"{name}() = {shown} is not the answer: revisit {revisit}"]

    check_question.__qualname__ = f"question[{grade_id}]"
    return item(
        grade_id, points, notebook, checked_by="right (compared with a salted hash of the answer)"
    )(check_question)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bpcourse.checking.answers GRADE_ID VALUE", file=sys.stderr)
        return 2
    grade_id, text = args
    value: object = text
    if text.startswith("(") and text.endswith(")"):
        value = tuple(int(v) for v in text[1:-1].split(",") if v.strip())
    else:
        try:
            value = float(text)
        except ValueError:
            pass
    print(digest(grade_id, value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
