"""Graded items by grade_id, and `check`, which runs one and returns its Result.

A checker is a function decorated with `@item(grade_id, points, notebook, checked_by="",
forbid=(), adapter=None)`. It takes the learner's answers (usually their functions), calls
them on its own inputs through `call_safely`, and returns the problems it found:

- a list of messages: all or nothing (no messages means full points), or
- a dict {part: messages}: each part is worth an equal share of the points.

It may also stop early by raising `BadAnswer`, `NotAttempted` or `LearnerError`.

- `forbid`: dotted names of library functions or modules the answer must not use
  (`"bpcourse.activations.logsumexp"`, `"bpcourse.losses"`). An answer whose source uses one
  scores 0, with a message naming the call (`bpcourse.checking.shortcuts`).
- `adapter`: a module-level function `adapter(answer) -> callable` turning a learner's
  answer that works on objects into a function of data only (arrays, numbers, strings,
  lists/tuples/dicts of these). `check(...)` applies it in-process; the instructor's
  grader applies it in the student's kernel and checks the data outside.

Under nbgrader's autograder (`NBGRADER_EXECUTION=autograde`) `check` prints its feedback
and returns the points earned, a number, so nbgrader gives partial credit; in strict mode
(`BPCOURSE_STRICT=1`, or nbgrader's validate) a check that does not pass raises.
"""

from __future__ import annotations

import inspect
import os
import re
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bpcourse.checking.diagnose import LIKELY
from bpcourse.checking.result import ERROR, FAILED, PASSED, Result
from bpcourse.checking.safe import StopCheck
from bpcourse.checking.scoreboard import SCOREBOARD
from bpcourse.checking.shortcuts import forbidden_uses, source_of

# nbgrader's rule for a grade_id, non-empty; the exercise generator uses the same pattern
GRADE_ID = re.compile(r"^[a-zA-Z0-9_-]+$")
STRICT_VARIABLE = "BPCOURSE_STRICT"
NBGRADER_VARIABLE = "NBGRADER_EXECUTION"

Problems = list[str] | dict[str, list[str]]
Adapter = Callable[[Any], Callable[..., Any]]


def strict_mode() -> bool:
    """True when BPCOURSE_STRICT is set (not to 0) or nbgrader is validating.

    In strict mode a check that does not pass raises AssertionError: the solutions are
    tested this way, and `nbgrader validate` scores a test cell by whether it raises.
    """
    if os.environ.get(STRICT_VARIABLE, "") not in ("", "0"):
        return True
    return os.environ.get(NBGRADER_VARIABLE, "") == "validate"


def autograde_mode() -> bool:
    """True under nbgrader's autograder: a check cell then ends with the points earned."""
    return os.environ.get(NBGRADER_VARIABLE, "") == "autograde"


@dataclass
class Item:
    """A graded item: its checker, the points it is worth, and the notebook it belongs to."""

    grade_id: str
    points: float
    checker: Callable[..., Problems]
    notebook: str = ""
    checked_by: str = ""
    forbid: tuple[str, ...] = ()
    adapter: Adapter | Sequence[Adapter | None] | None = field(default=None)

    @property
    def answers(self) -> list[str]:
        """The names of the answers the checker takes, e.g. ['dense_backward'].

        By convention they are the names of the learner's functions in the notebook, which
        the grader looks up in the submitted source for the forbidden-use check.
        """
        return list(inspect.signature(self.checker).parameters)

    def roots(self) -> set[str]:
        """The top-level packages whose names the source of live answers must keep: the
        library's, and those of the forbidden names (numpy for "numpy.convolve")."""
        names = {f.split(".")[0] for f in self.forbid if not f.startswith(".")}
        return {"bpcourse", "importlib", "sys", *names}

    def adapters(self) -> list[Adapter | None]:
        """The adapter of each answer, in order (None: the answer is passed as it is)."""
        if self.adapter is None or callable(self.adapter):
            return [self.adapter] * len(self.answers)
        return list(self.adapter)

    def adapt(self, *answers: Any) -> tuple[Any, ...]:
        """The answers as the checker takes them: each through its adapter, if it has one.

        An answer that is not callable is passed unchanged, so the checker says what it is.
        """
        adapted = []
        for answer, adapter in zip(answers, self.adapters(), strict=False):
            if adapter is None or not callable(answer):
                adapted.append(answer)
                continue
            function = adapter(answer)
            try:
                function.__name__ = getattr(answer, "__name__", function.__name__)
            except (AttributeError, TypeError):
                pass
            adapted.append(function)
        return tuple(adapted) + answers[len(adapted) :]

    def evaluate(self, *answers: Any) -> Result:
        """The Result of checking the learner's own answers in this process (adapters
        applied, source read from the functions); not recorded, never raises."""
        source = source_of(*answers, roots=self.roots()) if self.forbid else None
        return self.run(*self.adapt(*answers), source=source)

    def __call__(self, *answers: Any) -> Result | float:
        """Check the answers, record the result for `summary()`, and return it.

        Under nbgrader's autograder: print the result and return the points earned.
        """
        result = self.evaluate(*answers)
        SCOREBOARD.record(result, self.notebook)
        if strict_mode() and not result.passed:
            raise AssertionError(f"{result}\n{result.details}".rstrip())
        if autograde_mode():
            print(result)
            return float(result.points)
        return result

    def shortcuts(self, answers: Sequence[Any], source: str | None = None) -> list[str]:
        """Messages for every forbidden use in the answers' code ([] when clean).

        `source` is the learner's code (the grader passes the notebook's code cells
        joined); without it the source is read from the answer functions themselves.
        """
        if not self.forbid:
            return []
        if source is None:
            source = source_of(*answers, roots=self.roots())
        found: list[str] = []
        for name, answer in zip(self.answers, answers, strict=False):
            names = [name]
            own = getattr(answer, "__name__", "")
            if isinstance(own, str) and own.isidentifier() and own != name:
                names.append(own)
            for function in names:
                uses = forbidden_uses(source, function, self.forbid)
                if uses:
                    found += [u for u in uses if u not in found]
                    break
        return found

    def run(self, *answers: Any, source: str | None = None) -> Result:
        """The Result of checking `answers` (as the checker takes them); never raises.

        With `forbid`, the answers' code is first read for forbidden uses: `source` is the
        learner's code (the grader passes the submitted notebook's code); without it the
        source is built from the answer functions (`inspect.getsource`, their globals for
        helpers and imports). A use scores 0. A function whose source is not found is not
        penalised.
        """
        try:
            uses = self.shortcuts(answers, source)
        except Exception:  # a bug in the reader must not cost the learner: no penalty
            uses = []
        if uses:
            return self._result(FAILED, uses)
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
    grade_id: str,
    points: float,
    notebook: str = "",
    checked_by: str = "",
    forbid: Sequence[str] = (),
    adapter: Adapter | Sequence[Adapter | None] | None = None,
) -> Callable[[Callable[..., Problems]], Item]:
    """Register the decorated checker as the graded item `grade_id` worth `points`.

    `notebook` names the exercise notebook (e.g. "04_backpropagation_through_layers") so
    `summary()` can list what is left; `checked_by` says how a passing answer was verified;
    `forbid` the library names the answer must not use; `adapter` a module-level function
    that turns an answer into a data-in, data-out function (or one per answer, or None).
    """
    if isinstance(forbid, str):
        raise TypeError("forbid is a tuple of dotted names, e.g. ('bpcourse.losses',)")
    for adapter_ in [adapter] if adapter is None or callable(adapter) else list(adapter):
        if adapter_ is not None and ("<" in adapter_.__qualname__ or "." in adapter_.__qualname__):
            raise ValueError(
                f"the adapter of {grade_id!r} must be a module-level function (the grader "
                f"imports it by name), got {adapter_.__qualname__}"
            )
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
        ITEMS[grade_id] = Item(
            grade_id, points, checker, notebook, checked_by, tuple(forbid), adapter
        )
        return ITEMS[grade_id]

    return register


def load_items() -> dict[str, Item]:
    """Every graded item of the course (importing the item modules registers them)."""
    import bpcourse.checking.items  # noqa: F401

    return ITEMS


def check(grade_id: str, *answers: Any) -> Result | float:
    """Check the answers to the graded item `grade_id`, e.g. check("dense_backward", fn).

    Put it last in its cell: the notebook shows the Result (under nbgrader's autograder,
    the points earned). Never raises, except in strict mode (see `strict_mode`).
    """
    found = load_items().get(grade_id)
    if found is None:
        known = ", ".join(sorted(ITEMS))
        result = Result(
            str(grade_id), 0.0, 0.0, False, [f"no graded item {grade_id!r}; known: {known}"], ERROR
        )
        if strict_mode():
            raise AssertionError(str(result))
        if autograde_mode():
            print(result)
            return 0.0
        return result
    return found(*answers)
