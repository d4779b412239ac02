"""The grader's records: one typed `GradeRecord` per submission, one `ItemRecord` per item.

Every text that goes into a record passes `safe_text`, so a lone surrogate in an exception
message or invalid UTF-8 in a file name can never stop the journal, the tables or the
feedback from being written. Student ids are NFC-normalised (`student_id`), so "josé" typed
on macOS (NFD) and on Linux (NFC) is one student.
"""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bpcourse.checking.diagnose import LIKELY
from bpcourse.checking.result import PASSED, STATUSES, Result

TEXT_LIMIT = 4000  # characters of one message kept in a record


def safe_text(value: object, limit: int = TEXT_LIMIT) -> str:
    """`value` as text that encodes as UTF-8: lone surrogates become `\\udcff` escapes."""
    text = value if isinstance(value, str) else str(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[:limit] + " …"


def student_id(path: Path) -> str:
    """The student id of a submission: its file name's stem, NFC-normalised, safe text."""
    return unicodedata.normalize("NFC", safe_text(path.stem, 200))


def diagnosis_of(status: str, messages: list[str]) -> str:
    """One label per item result for the class summary: the likely mistake, or the status."""
    if status == PASSED:
        return PASSED
    for m in messages:
        if m.startswith(LIKELY):
            text = m[len(LIKELY) :].strip()
            return safe_text(text.split(":")[0].split(";")[0].strip(), 120)
    return status


@dataclass
class ItemRecord:
    """One graded item of one submission."""

    item: str
    points: float
    max_points: float
    status: str
    messages: list[str] = field(default_factory=list)
    diagnosis: str = ""

    def __post_init__(self) -> None:
        self.item = safe_text(self.item, 200)
        self.messages = [safe_text(m) for m in list(self.messages)[:30]]
        if self.status not in STATUSES:
            self.status = "error"
        self.points = float(min(max(float(self.points), 0.0), float(self.max_points)))
        self.diagnosis = safe_text(self.diagnosis or diagnosis_of(self.status, self.messages), 120)

    @classmethod
    def from_result(cls, result: Result) -> ItemRecord:
        return cls(
            result.item, result.points, result.max_points, result.status, list(result.messages)
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ItemRecord:
        return cls(
            str(data["item"]),
            float(data["points"]),
            float(data["max_points"]),
            str(data["status"]),
            [str(m) for m in data.get("messages", [])],
            str(data.get("diagnosis", "")),
        )


@dataclass
class GradeRecord:
    """What grading one submission gave: its items and points, or why it was not graded.

    An ungradable submission (`ungradable` says why) still has a row in grades.csv, with 0
    points. `sandbox` is the isolation its kernel ran under ("bubblewrap" or "limits only").
    """

    student_id: str
    file: str
    sha256: str = ""
    assignment: str = ""
    items: list[ItemRecord] = field(default_factory=list)
    score: float = 0.0
    max_score: float = 0.0
    repairs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ungradable: str = ""
    sandbox: str = ""
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self.student_id = unicodedata.normalize("NFC", safe_text(self.student_id, 300))
        self.file = safe_text(self.file, 1000)
        self.assignment = safe_text(self.assignment, 200)
        self.repairs = [safe_text(m) for m in self.repairs]
        self.problems = [safe_text(m) for m in self.problems]
        self.ungradable = safe_text(self.ungradable)

    @property
    def graded(self) -> bool:
        return not self.ungradable

    def total(self) -> None:
        """Set score and max_score from the items."""
        self.score = round(sum(it.points for it in self.items), 2)
        self.max_score = round(sum(it.max_points for it in self.items), 2)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradeRecord:
        return cls(
            student_id=str(data["student_id"]),
            file=str(data.get("file", "")),
            sha256=str(data.get("sha256", "")),
            assignment=str(data.get("assignment", "")),
            items=[ItemRecord.from_dict(it) for it in data.get("items", [])],
            score=float(data.get("score", 0.0)),
            max_score=float(data.get("max_score", 0.0)),
            repairs=[str(m) for m in data.get("repairs", [])],
            problems=[str(m) for m in data.get("problems", [])],
            ungradable=str(data.get("ungradable", "")),
            sandbox=str(data.get("sandbox", "")),
            seconds=float(data.get("seconds", 0.0)),
        )
