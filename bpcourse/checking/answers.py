"""Stored answers, for the few questions the math cannot check by itself.

A conceptual question ("how many backward passes give the gradient of one loss with
respect to a million weights?") has a number or a word for an answer, and no formula to
verify it against. Such answers are stored as a salted SHA-256 digest, never in plain
text: `digest(grade_id, value)` hashes "bpcourse:<grade_id>:<normalised value>", where a
number is normalised to 4 significant digits (`f"{x:.4g}"`, so 0.33333 and 1/3 agree) and a
word to lower case without surrounding spaces. The grade_id is the salt, so the same value
has a different digest in every item.

This keeps answers from being read at a glance, in the package or in a notebook; it is not
security (a determined learner can hash guesses). To store an answer, run

    python -m bpcourse.checking.answers GRADE_ID VALUE

and paste the digest into the item's checker.
"""

from __future__ import annotations

import hashlib
import numbers
import sys

import numpy as np

from bpcourse.checking.compare import describe

SALT = "bpcourse"
DIGITS = 4


def normalise(value: object, digits: int = DIGITS) -> str:
    """The canonical text of an answer: '0.3333' for 1/3, 'relu' for ' ReLU '."""
    if isinstance(value, str):
        return value.strip().lower()
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

    A wrong number is also tried with its sign flipped and doubled or halved, which
    reveals those slips without revealing the answer.
    """
    if got is None:
        return [f"{name} is None: did you forget to `return` it?"]
    try:
        if digest(grade_id, got, digits) == expected_digest:
            return []
    except TypeError:
        return [f"{name} is {describe(got)}, expected a number or a word"]
    if isinstance(got, str):
        return [f"{name} = {got!r} is not the answer"]
    value = float(np.asarray(got).item())
    if not np.isfinite(value):
        return [f"{name} is {value}, expected a finite number"]
    slips = {"the sign is wrong": -value, "it is 2 × too small": 2 * value}
    slips["it is 2 × too large"] = value / 2
    for slip, variant in slips.items():
        if digest(grade_id, variant, digits) == expected_digest:
            return [f"{name} = {value:.{digits}g} is not the answer, but close: {slip}"]
    return [f"{name} = {value:.{digits}g} is not the answer"]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bpcourse.checking.answers GRADE_ID VALUE", file=sys.stderr)
        return 2
    grade_id, text = args
    try:
        value: object = float(text)
    except ValueError:
        value = text
    print(digest(grade_id, value))
    return 0


if __name__ == "__main__":
    sys.exit(main())
