"""Graded items by grade_id, and `check`, which runs one and returns its Result.

A checker is a function decorated with `@item(grade_id, points=..., notebook=...)`. It
takes the learner's answers (usually their functions), calls them on its own inputs
through `call_safely`, and returns the problems it found:

- a list of messages: all or nothing (no messages means full points), or
- a dict {part: messages}: each part is worth an equal share of the points.

It may also stop early by raising `BadAnswer`, `NotAttempted` or `LearnerError`.
"""

from __future__ import annotations

import inspect
import os
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bpcourse.checking.diagnose import LIKELY
from bpcourse.checking.grader import GRADER
from bpcourse.checking.result import ERROR, FAILED, PASSED, Result
from bpcourse.checking.safe import StopCheck

GRADE_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
STRICT_VARIABLE = "BPCOURSE_STRICT"

Problems = list[str] | dict[str, list[str]]


def strict_mode() -> bool:
    """True when BPCOURSE_STRICT is set (not to 0) or nbgrader is grading or validating.

    In strict mode a check that does not pass raises AssertionError: the solutions are
    tested this way, and nbgrader scores a test cell by whether it raises.
    """
    if os.environ.get(STRICT_VARIABLE, "") not in ("", "0"):
        return True
    return os.environ.get("NBGRADER_EXECUTION", "") in ("autograde", "validate")


@dataclass
class Item:
    """A graded item: its checker, the points it is worth, and the notebook it belongs to."""

    grade_id: str
    points: float
    checker: Callable[..., Problems]
    notebook: str = ""
    checked_by: str = ""

    @property
    def answers(self) -> list[str]:
        """The names of the answers the checker takes, e.g. ['dense_backward']."""
        return list(inspect.signature(self.checker).parameters)

    def __call__(self, *answers: Any) -> Result:
        """Check the answers, record the result for `summary()`, and return it."""
        result = self.run(*answers)
        GRADER.record(result, self.notebook)
        if strict_mode() and not result.passed:
            raise AssertionError(f"{result}\n{result.details}".rstrip())
        return result

    def run(self, *answers: Any) -> Result:
        """The Result of checking `answers`; never raises."""
        try:
            inspect.signature(self.checker).bind(*answers)
        except TypeError:
            wanted = ", ".join(self.answers)
            return self._result(
                FAILED,
                [
                    f"call it as check({self.grade_id!r}, {wanted}): it takes "
                    f"{len(self.answers)} answer(s), got {len(answers)}"
                ],
            )
        try:
            problems = self.checker(*answers)
        except StopCheck as stop:
            return self._result(stop.status, stop.messages)
        except Exception as exc:  # a bug in the checker, not in the answer
            return self._result(
                ERROR,
                [f"the check itself failed ({type(exc).__name__}: {exc}); please report this"],
                traceback.format_exc(),
            )
        return self._score(problems)

    def _score(self, problems: Problems) -> Result:
        if isinstance(problems, list):
            if problems:
                return self._result(FAILED, problems)
            return self._result(PASSED, [self.checked_by] if self.checked_by else [])
        wrong = [part for part, found in problems.items() if found]
        if not wrong:
            return self._result(PASSED, [self.checked_by] if self.checked_by else [])
        right = [part for part in problems if part not in wrong]
        messages = merge_mistakes({part: problems[part] for part in wrong})
        if right:
            messages.append(f"right: {', '.join(right)}")
        earned = round(self.points * len(right) / len(problems), 2)
        return self._result(FAILED, messages, points=earned)

    def _result(
        self, status: str, messages: list[str], details: str = "", points: float = 0.0
    ) -> Result:
        if status == PASSED:
            points = self.points
        return Result(
            self.grade_id, points, self.points, status == PASSED, messages, status, details
        )


def merge_mistakes(parts: dict[str, list[str]]) -> list[str]:
    """The parts' messages, with one "likely mistake" line for a slip that several share."""
    plain: list[str] = []
    shared: dict[str, list[str]] = {}
    for part, messages in parts.items():
        for message in messages:
            head = f"{LIKELY}{part} "
            if message.startswith(head):
                shared.setdefault(message[len(head) :], []).append(part)
            else:
                plain.append(message)
    for text, names in shared.items():
        if len(names) == 1:
            plain.append(f"{LIKELY}{names[0]} {text}")
        else:
            plain.append(f"{LIKELY}{', '.join(names[:-1])} and {names[-1]}: each {text}")
    return plain


ITEMS: dict[str, Item] = {}


def item(
    grade_id: str, points: float, notebook: str = "", checked_by: str = ""
) -> Callable[[Callable[..., Problems]], Item]:
    """Register the decorated checker as the graded item `grade_id` worth `points`.

    `notebook` names the exercise notebook (e.g. "04_backpropagation_through_layers") so
    `summary()` can list what is left; `checked_by` says how a passing answer was verified.
    """
    if not GRADE_ID.match(grade_id):
        raise ValueError(f"grade_id {grade_id!r} must match {GRADE_ID.pattern} (nbgrader's rule)")

    def register(checker: Callable[..., Problems]) -> Item:
        old = ITEMS.get(grade_id)
        where = f"{checker.__module__}.{checker.__qualname__}"
        if old is not None and f"{old.checker.__module__}.{old.checker.__qualname__}" != where:
            raise ValueError(
                f"grade_id {grade_id!r} is already used by "
                f"{old.checker.__module__}.{old.checker.__qualname__}"
            )
        ITEMS[grade_id] = Item(grade_id, points, checker, notebook, checked_by)
        return ITEMS[grade_id]

    return register


def load_items() -> dict[str, Item]:
    """Every graded item of the course (importing the item modules registers them)."""
    import bpcourse.checking.items  # noqa: F401

    return ITEMS


def check(grade_id: str, *answers: Any) -> Result:
    """Check the answers to the graded item `grade_id`, e.g. check("dense_backward", fn).

    Put it last in its cell: the notebook shows the Result. Never raises, except in strict
    mode (see `strict_mode`).
    """
    found = load_items().get(grade_id)
    if found is None:
        known = ", ".join(sorted(ITEMS))
        result = Result(
            str(grade_id), 0.0, 0.0, False, [f"no graded item {grade_id!r}; known: {known}"], ERROR
        )
        if strict_mode():
            raise AssertionError(str(result))
        return result
    return found(*answers)
