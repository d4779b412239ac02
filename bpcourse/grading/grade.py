"""Grade one submission: match, repair, run its definitions in a kernel, check outside it."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from bpcourse.checking.result import ERROR, Result
from bpcourse.grading.match import (
    Exercise,
    Ungradable,
    cells_to_run,
    identify,
    read_submission,
    repair,
)
from bpcourse.grading.model import GradeRecord, ItemRecord
from bpcourse.grading.record import NotebookTimeout, Session, evaluate
from bpcourse.grading.run import Kernel, Limits


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def grade_one(
    path: Path,
    exercises: dict[str, Exercise],
    limits: Limits,
    assignment: str | None = None,
    sid: str = "",
) -> GradeRecord:
    """The student's items, points, repairs and problems, or why the file was not graded."""
    from bpcourse.grading.model import student_id

    start = time.monotonic()
    record = GradeRecord(sid or student_id(path), str(path), file_hash(path))
    try:
        nb = read_submission(path)
        exercise, how = identify(nb, exercises)
        if assignment and exercise.name != assignment:
            raise Ungradable(f"it is the notebook of exercise {exercise.name}, not {assignment}")
    except Ungradable as exc:
        record.ungradable = str(exc)
        return record
    fixed, repairs = repair(nb, exercise)
    old = nb.metadata.get("bpcourse_upgraded_from")
    if old:
        repairs.insert(0, f"the notebook was in nbformat {old}: it was upgraded to 4")
    if how != "by its nbgrader grade_ids":
        repairs.insert(0, f"the notebook was recognised {how}")
    kernel = Kernel(limits)
    record.sandbox = kernel.mode
    session = Session(kernel, cells_to_run(fixed, exercise), source=exercise.student_source(fixed))
    results: list[Result] = []
    problems: list[str] = []
    deadline = start + limits.notebook
    try:
        session.prepare(deadline)
        for item in exercise.items:
            if time.monotonic() > deadline:
                raise NotebookTimeout()
            results.append(evaluate(session, item.grade_id, item.names, deadline, item.points))
    except (Exception, NotebookTimeout) as exc:  # no kernel, died for good, or out of time
        if isinstance(exc, NotebookTimeout):
            why = f"the notebook's time budget ({limits.notebook:g} s) was spent"
        else:
            why = f"{type(exc).__name__}: {exc}"
        problems.append(f"grading stopped early: {why}")
        done = {r.item for r in results}
        for item in exercise.items:
            if item.grade_id not in done:
                results.append(Result(item.grade_id, 0.0, item.points, False, [why], ERROR))
    finally:
        try:
            kernel.close()
        except BaseException:  # the processes are killed by group in any case
            pass
    problems = session.cell_problems + problems
    if kernel.output_capped:
        problems.append("some outputs were too large and were truncated")
    if kernel.mode != "bubblewrap":
        problems.insert(0, f"graded without the sandbox ({kernel.mode}): {kernel.why}")
    record.assignment = exercise.name
    record.items = [ItemRecord.from_result(r) for r in results]
    record.repairs = repairs
    record.problems = problems
    record.total()
    record.seconds = round(time.monotonic() - start, 2)
    return record
