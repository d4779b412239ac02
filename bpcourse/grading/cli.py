"""`bpcourse grade SUBMISSIONS... --out DIR`: grade a class's exercise notebooks.

Each submission (a notebook, or a folder of them; the student id is the file name's stem,
NFC-normalised) is matched to its exercise, repaired, run in its own kernel (in a
bubblewrap sandbox where available, see `bpcourse.grading.sandbox`) and checked outside it
(see `bpcourse.grading`). Every result is appended to DIR/.journal.jsonl as soon as it is
known, and grades.csv is rewritten atomically after each student; a second run with the same
DIR skips the submissions already graded (same content), so an interrupted run resumes. At
the end DIR holds grades.csv, feedback/, summary.csv, summary.png and ungradable.csv.
`bpcourse grade --check-sandbox` says which isolation is in force. docs/grading.md says what
the sandbox and the limits do and do not do.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import signal
import sys
from pathlib import Path
from typing import Any

from bpcourse.grading.grade import file_hash, grade_one
from bpcourse.grading.match import course_exercises, load_exercises
from bpcourse.grading.model import GradeRecord
from bpcourse.grading.report import (
    append_record,
    read_journal,
    write_feedback,
    write_grades,
    write_tables,
)
from bpcourse.grading.run import Limits
from bpcourse.grading.sandbox import describe_mode, sandbox_mode
from bpcourse.grading.submissions import Submission, collect


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bpcourse", description="bpcourse tools")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade exercise notebooks submitted by students")
    g.add_argument("submissions", nargs="*", type=Path, help="notebooks, or folders of them")
    g.add_argument("--out", type=Path, help="folder for the results")
    g.add_argument(
        "--check-sandbox",
        action="store_true",
        help="say which isolation the kernels would run under, and exit",
    )
    g.add_argument(
        "--exercise",
        help="the assignment, e.g. 05_activations_and_losses; "
        "a notebook of another exercise is then reported, not graded",
    )
    g.add_argument(
        "--course",
        type=Path,
        default=None,
        help="the course checkout whose exercises/ are graded (default: this checkout)",
    )
    g.add_argument("--exercises", type=Path, default=None, help="the exercise notebooks' folder")
    g.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    g.add_argument("--timeout", type=float, default=60, help="seconds per cell (default 60)")
    g.add_argument(
        "--notebook-timeout",
        type=float,
        default=600,
        help="seconds for a whole notebook (default 600)",
    )
    g.add_argument("--memory", type=int, default=2048, help="MiB per kernel (default 2048)")
    g.add_argument("--cpu", type=int, default=600, help="CPU seconds per kernel (default 600)")
    g.add_argument("--nproc", type=int, default=512, help="processes per user (default 512)")
    g.add_argument(
        "--no-sandbox",
        action="store_true",
        help="do not use bubblewrap even where it works (said in every feedback)",
    )
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


_STATE: dict[str, Any] = {}


def _init(exercises: Path, limits: Limits, assignment: str | None) -> None:
    _parent_death_signal()
    _STATE.update(exercises=load_exercises(exercises), limits=limits, assignment=assignment)


def _parent_death_signal() -> None:
    """Linux: this worker is killed when the grader dies (no orphan keeps grading)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _grade(sub: Submission) -> GradeRecord:
    try:
        return grade_one(
            sub.path, _STATE["exercises"], _STATE["limits"], _STATE["assignment"], sub.student_id
        )
    except Exception as exc:  # a bug of the grader: report it, go on with the batch
        return GradeRecord(
            sub.student_id,
            str(sub.path),
            ungradable=f"the grader failed: {type(exc).__name__}: {exc}",
        )


def _max_score(exercises: Path, assignment: str | None) -> float:
    if not assignment:
        return 0.0
    found = load_exercises(exercises).get(assignment)
    return sum(i.points for i in found.items) if found else 0.0


def grade(
    submissions: list[Path],
    out: Path,
    limits: Limits,
    jobs: int = 1,
    exercises: Path | None = None,
    assignment: str | None = None,
    progress: bool = True,
) -> dict[str, GradeRecord]:
    """Grade the submissions into `out`; returns the journal's records by student id."""
    exercises = exercises or course_exercises(None)
    out.mkdir(parents=True, exist_ok=True)
    done = read_journal(out)
    records = dict(done)
    maximum = _max_score(exercises, assignment)
    todo: list[Submission] = []
    for sub in collect(submissions):
        if sub.problem:
            record = GradeRecord(
                sub.student_id,
                str(sub.path),
                assignment=assignment or "",
                max_score=maximum,
                ungradable=sub.problem,
            )
            append_record(out, record)
            records[record.student_id] = record
            continue
        old = done.get(sub.student_id)
        if old is not None and old.graded and old.sha256 == file_hash(sub.path):
            continue  # graded by an earlier run
        todo.append(sub)
    write_grades(out, records)

    from tqdm import tqdm

    bar = tqdm(total=len(todo), unit="nb", disable=not progress, file=sys.stderr)

    def finish(record: GradeRecord) -> None:
        if not record.graded and not record.max_score:
            record.max_score = maximum
            record.assignment = record.assignment or (assignment or "")
        append_record(out, record)
        records[record.student_id] = record
        if record.graded:
            write_feedback(out, record)
        write_grades(out, records)  # a killed run leaves a valid, current table
        bar.update(1)

    if jobs <= 1:
        _STATE.update(exercises=load_exercises(exercises), limits=limits, assignment=assignment)
        for sub in todo:
            finish(_grade(sub))
    else:
        context = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(
            jobs, mp_context=context, initializer=_init, initargs=(exercises, limits, assignment)
        ) as pool:
            futures = {pool.submit(_grade, s): s for s in todo}
            for future in cf.as_completed(futures):
                sub = futures[future]
                try:
                    finish(future.result())
                except Exception as exc:  # the worker process itself died
                    finish(
                        GradeRecord(
                            sub.student_id,
                            str(sub.path),
                            ungradable=f"the grading process failed: {exc}",
                        )
                    )
    bar.close()
    return write_tables(out)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    use_sandbox = not args.no_sandbox
    if args.check_sandbox:
        print(describe_mode(sandbox_mode(use_sandbox)))
        return 0
    if not args.submissions or args.out is None:
        parser.error("grade needs SUBMISSIONS and --out (or --check-sandbox)")
    limits = Limits(
        timeout=args.timeout,
        memory=args.memory,
        cpu=args.cpu,
        nproc=args.nproc,
        notebook=args.notebook_timeout,
        sandbox=use_sandbox,
    )
    mode = sandbox_mode(use_sandbox)
    if mode.name != "bubblewrap":
        print(f"WARNING: {describe_mode(mode)}", file=sys.stderr)
    exercises = args.exercises or course_exercises(args.course)
    records = grade(
        args.submissions,
        args.out,
        limits,
        args.jobs,
        exercises,
        args.exercise,
        not args.no_progress,
    )
    graded = sum(r.graded for r in records.values())
    print(f"{graded} graded, {len(records) - graded} not gradable; results in {args.out}")
    print(describe_mode(mode))
    return 0


if __name__ == "__main__":
    sys.exit(main())
