"""The contract every graded item keeps, shared by the tests of the exercise checkers.

For every item: the reference answer gets full marks; the exercise's stub (NotImplementedError)
is "not attempted" with 0 points and no exception; known-wrong answers fail with the diagnosis
of their mistake; and bad values (None, a list, NaN, a raising function) get feedback, never a
traceback. Each test file keeps its own answers and its item-specific bad values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from bpcourse.checking import ITEMS, check, reset
from bpcourse.checking.result import Result

Runner = Callable[[str, object], Result]


@pytest.fixture(autouse=True)
def fresh_session(monkeypatch):
    """No strict mode unless a test asks for it, and no results from earlier tests.

    Autouse in the test modules that import it (as `from item_contract import fresh_session`).
    """
    monkeypatch.delenv("BPCOURSE_STRICT", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    reset()
    yield
    reset()


def run(grade_id: str, answer: object) -> Result:
    """The item's Result for the learner's own answer (adapter applied, source read from the
    function), without recording it for summary() (and never strict)."""
    return ITEMS[grade_id].evaluate(answer)


@dataclass(frozen=True)
class Wrong:
    """A known wrong answer of an item's catalogue and the diagnosis it must produce.

    `diagnosis` None: a slip (often two combined) that no diagnosis fits; the feedback must
    then say what is wrong without naming any of the catalogue's causes. `also`: diagnoses of
    other catalogue entries the answer really deserves too (a second, real slip, e.g. an
    unshifted exponential that also overflows); the feedback may give them. `raises`: the slip
    makes the learner's own code raise (shapes that do not fit), so the result is an error
    rather than a failure, with the diagnosis all the same.
    """

    name: str
    answer: Any
    diagnosis: str | None
    also: tuple[str, ...] = ()
    raises: bool = False


def items_of(notebook: str) -> list[tuple[str, float]]:
    """(grade_id, points) of the notebook's registered items, in registration order."""
    return [(g, i.points) for g, i in ITEMS.items() if i.notebook == notebook]


def slipped(answer: Callable[..., Any], slip: str) -> Callable[..., Any]:
    """The answer with one slip switched on (its `slip` keyword)."""
    return lambda *args: answer(*args, slip=slip)


def stub(*args: object) -> object:
    # YOUR CODE HERE
    raise NotImplementedError()


def raises(*args: object) -> object:
    return {}["missing key"]


def returns_nan(*args: object) -> float:
    return np.nan


# what `raises` must be reported with: the exception, and the learner's line
RAISES_SAYS = ("raised KeyError: 'missing key'", '`return {}["missing key"]`')

# bad values every item must answer with feedback; the files add their item-specific ones
BAD: dict[str, object] = {
    "not a function": None,
    "returns None": lambda *args: None,
    "returns a list": lambda *args: [0.0, 1.0],
    "returns NaN": returns_nan,
    "raises": raises,
}


def assert_full_marks(
    grade_id: str, answer: object, *, run: Runner = check, says_checked_by: bool = True
) -> Result:
    result = run(grade_id, answer)
    assert result.status == "passed", str(result)
    assert result.points == result.max_points == ITEMS[grade_id].points
    if says_checked_by:
        assert result.messages == [ITEMS[grade_id].checked_by]
    return result


def assert_not_attempted(grade_id: str, answer: object = stub, *, run: Runner = check) -> Result:
    result = run(grade_id, answer)
    assert (result.status, result.points, result.passed) == ("not attempted", 0, False)
    assert "still raises NotImplementedError" in result.messages[0]
    return result


def assert_fails_with(
    grade_id: str,
    answer: object,
    diagnosis: str,
    *,
    run: Runner = check,
    statuses: Iterable[str] = ("failed",),
) -> Result:
    result = run(grade_id, answer)
    assert result.status in tuple(statuses), str(result)
    assert result.points < result.max_points
    assert any(diagnosis in m for m in result.messages), str(result)
    return result


def assert_feedback_without_traceback(
    grade_id: str, bad: object, *, run: Runner = check, no_points: bool = True
) -> Result:
    """Feedback for a bad value; no_points=False asks only for less than full marks."""
    result = run(grade_id, bad)
    assert result.status in ("failed", "error"), str(result)
    if no_points:
        assert result.points == 0 and result.messages
    else:
        assert result.points < result.max_points and result.messages
    assert not result.details, f"the checker itself failed:\n{result.details}"
    return result


def assert_raise_is_reported(result: Result, *says: str) -> None:
    """An error Result whose first message has each of `says` (by default RAISES_SAYS)."""
    assert result.status == "error"
    for text in says or RAISES_SAYS:
        assert text in result.messages[0]
