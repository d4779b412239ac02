"""Grade one submission: match, repair, run its definitions in a kernel, check outside it."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from bpcourse.checking.result import ERROR, Result
from bpcourse.grading.match import (
    Exercise,
    Ungradable,
    cells_to_run,
    identify,
    read_submission,
    repair,
)
from bpcourse.grading.record import Session, evaluate
from bpcourse.grading.run import Kernel, Limits


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def student_id(path: Path) -> str:
    return path.stem


def grade_one(
    path: Path,
    exercises: dict[str, Exercise],
    limits: Limits,
    assignment: str | None = None,
) -> dict[str, Any]:
    """A journal record: the student's items, points, repairs and problems, or why not graded."""
    start = time.monotonic()
    record: dict[str, Any] = {
        "student_id": student_id(path),
        "file": str(path),
        "sha256": file_hash(path),
    }
    try:
        nb = read_submission(path)
        exercise, how = identify(nb, exercises)
        if assignment and exercise.name != assignment:
            raise Ungradable(f"it is the notebook of exercise {exercise.name}, not {assignment}")
    except Ungradable as exc:
        record.update(ungradable=str(exc))
        return record
    fixed, repairs = repair(nb, exercise)
    if how != "by its nbgrader grade_ids":
        repairs.insert(0, f"the notebook was recognised {how}")
    kernel = Kernel(limits)
    session = Session(kernel, cells_to_run(fixed))
    results: list[tuple[Result, bool]] = []
    problems: list[str] = []
    try:
        session.prepare()
        for item in exercise.items:
            results.append(evaluate(session, item.grade_id, item.names))
    except Exception as exc:  # the kernel would not start, or died for good
        problems.append(f"grading stopped early: {type(exc).__name__}: {exc}")
        done = {r.item for r, _ in results}
        from bpcourse.checking.registry import load_items

        for item in exercise.items:
            if item.grade_id not in done:
                points = load_items()[item.grade_id].points
                results.append(
                    (Result(item.grade_id, 0.0, points, False, [str(exc)], ERROR), False)
                )
    finally:
        kernel.close()
    problems = session.cell_problems + problems
    if kernel.output_capped:
        problems.append("some outputs were too large and were truncated")
    record.update(
        assignment=exercise.name,
        items=[dict(r.to_dict(), in_kernel=k) for r, k in results],
        score=round(sum(r.points for r, _ in results), 2),
        max_score=sum(r.max_points for r, _ in results),
        repairs=repairs,
        problems=problems,
        seconds=round(time.monotonic() - start, 2),
    )
    return record
