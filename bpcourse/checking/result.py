"""The outcome of checking one graded item, shown as text or as HTML in a notebook."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

PASSED = "passed"
FAILED = "failed"
NOT_ATTEMPTED = "not attempted"
ERROR = "error"
STATUSES = (PASSED, FAILED, NOT_ATTEMPTED, ERROR)

ICONS = {PASSED: "✅", FAILED: "❌", NOT_ATTEMPTED: "⏳", ERROR: "⚠️"}
COLOURS = {PASSED: "#2e7d32", FAILED: "#c62828", NOT_ATTEMPTED: "#757575", ERROR: "#e65100"}


@dataclass
class Result:
    """What a check found: the item, the points earned out of `max_points`, and feedback.

    `status` is one of "passed", "failed", "not attempted" (the answer still raises
    NotImplementedError) and "error" (the answer raised another exception). `messages`
    teach: what is wrong and the likely mistake. `details` holds a traceback when the
    checker itself failed; it is shown only in strict mode, for maintainers.
    """

    item: str
    points: float
    max_points: float
    passed: bool
    messages: list[str]
    status: str
    details: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.passed != (self.status == PASSED):
            raise ValueError(f"passed={self.passed} contradicts status {self.status!r}")

    @property
    def headline(self) -> str:
        return (
            f"{ICONS[self.status]} {self.item}: {self.status} "
            f"({_number(self.points)}/{_number(self.max_points)} points)"
        )

    def __str__(self) -> str:
        return "\n".join([self.headline, *(f"  - {m}" for m in self.messages)])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour = COLOURS[self.status]
        items = "".join(f"<li>{html.escape(m)}</li>" for m in self.messages)
        body = f"<ul style='margin:4px 0'>{items}</ul>" if items else ""
        return (
            f"<div style='border-left:4px solid {colour};padding:4px 10px;margin:4px 0'>"
            f"<b style='color:{colour}'>{html.escape(self.headline)}</b>{body}</div>"
        )

    def to_dict(self) -> dict[str, object]:
        """The result as plain data (for a grade table or a feedback file)."""
        return {
            "item": self.item,
            "points": self.points,
            "max_points": self.max_points,
            "status": self.status,
            "messages": list(self.messages),
        }


def _number(x: float) -> str:
    """3.0 -> '3', 1.5 -> '1.5'."""
    return f"{x:g}"
