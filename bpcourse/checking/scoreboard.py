"""Results collected in the kernel session, and the notebook's summary: points, what is left."""

from __future__ import annotations

import html
from dataclasses import dataclass

from bpcourse.checking.result import ICONS, NOT_ATTEMPTED, Result, _number


@dataclass
class Row:
    """One item of a summary: its id, its points and its latest result (None: not checked)."""

    item: str
    max_points: float
    result: Result | None

    @property
    def points(self) -> float:
        return self.result.points if self.result else 0.0

    @property
    def status(self) -> str:
        return self.result.status if self.result else "not checked"


@dataclass
class Summary:
    """The points of a notebook's graded items and the items left to do."""

    title: str
    rows: list[Row]

    @property
    def points(self) -> float:
        return sum(row.points for row in self.rows)

    @property
    def max_points(self) -> float:
        return sum(row.max_points for row in self.rows)

    @property
    def left(self) -> list[str]:
        return [row.item for row in self.rows if not (row.result and row.result.passed)]

    def __str__(self) -> str:
        lines = [f"{self.title}: {_number(self.points)}/{_number(self.max_points)} points"]
        width = max((len(row.item) for row in self.rows), default=0)
        for row in self.rows:
            icon = ICONS.get(row.status, ICONS[NOT_ATTEMPTED])
            lines.append(
                f"  {icon} {row.item:<{width}}  {_number(row.points)}/{_number(row.max_points)}"
                f"  {row.status}"
            )
        lines.append(f"left to do: {', '.join(self.left)}" if self.left else "all done!")
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{ICONS.get(r.status, ICONS[NOT_ATTEMPTED])}</td><td>{html.escape(r.item)}"
            f"</td><td>{_number(r.points)}/{_number(r.max_points)}</td><td>{r.status}</td></tr>"
            for r in self.rows
        )
        foot = html.escape(str(self).splitlines()[-1])
        head = html.escape(str(self).splitlines()[0])
        return f"<b>{head}</b><table>{rows}</table><p>{foot}</p>"

    def to_dict(self) -> dict[str, object]:
        return {
            "title": self.title,
            "points": self.points,
            "max_points": self.max_points,
            "items": [
                row.result.to_dict()
                if row.result
                else {"item": row.item, "points": 0.0, "max_points": row.max_points}
                for row in self.rows
            ],
        }


class Scoreboard:
    """Keeps the latest result of every item checked in this kernel session.

    (Not the instructor's grader, which is the `bpcourse.grading` package.)
    """

    def __init__(self) -> None:
        self.results: dict[str, Result] = {}
        self.notebooks: dict[str, str] = {}

    def record(self, result: Result, notebook: str = "") -> None:
        self.results.pop(result.item, None)  # keep the order of the latest checks
        self.results[result.item] = result
        self.notebooks[result.item] = notebook

    def reset(self) -> None:
        self.results.clear()
        self.notebooks.clear()

    def summary(self, notebook: str | None = None) -> Summary:
        """Every item of `notebook` (default: of the notebooks checked so far), checked or not."""
        from bpcourse.checking.registry import load_items

        items = load_items()
        notebooks = {notebook} if notebook else {n for n in self.notebooks.values() if n}
        rows = [
            Row(i.grade_id, i.points, self.results.get(i.grade_id))
            for i in items.values()
            if i.notebook in notebooks
        ]
        listed = {row.item for row in rows}
        rows += [
            Row(r.item, r.max_points, r)
            for r in self.results.values()
            if r.item not in listed and (notebook is None or self.notebooks.get(r.item) == notebook)
        ]
        title = f"Exercises {notebook}" if notebook else "Your graded items"
        return Summary(title, rows)


SCOREBOARD = Scoreboard()


def summary(notebook: str | None = None) -> Summary:
    """This session's points and what is left, for `notebook` (e.g. "04_backprop...")."""
    return SCOREBOARD.summary(notebook)


def reset() -> None:
    """Forget this session's results."""
    SCOREBOARD.reset()
