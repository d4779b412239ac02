"""`bpcourse grade SUBMISSIONS... --out DIR`: grade a class's exercise notebooks.

Each submission (a notebook, or a folder of them; the student id is the file name's stem)
is matched to its exercise, repaired, run in its own limited kernel and checked outside it
(see `bpcourse.grading`). Every result is appended to DIR/.journal.jsonl as soon as it is
known; a second run with the same DIR skips the submissions already graded (same content),
so an interrupted run resumes. At the end DIR holds grades.csv, feedback/, summary.csv,
summary.png and ungradable.csv. docs/grading.md says what the limits do and do not do.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing
import sys
from pathlib import Path
from typing import Any

from bpcourse.grading.grade import file_hash, grade_one, student_id
from bpcourse.grading.match import EXERCISES, load_exercises
from bpcourse.grading.report import append_record, read_journal, write_feedback, write_tables
from bpcourse.grading.run import Limits


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bpcourse", description="bpcourse tools")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade exercise notebooks submitted by students")
    g.add_argument("submissions", nargs="+", type=Path, help="notebooks, or folders of them")
    g.add_argument("--out", type=Path, required=True, help="folder for the results")
    g.add_argument(
        "--exercise",
        help="the assignment, e.g. 05_activations_and_losses; "
        "a notebook of another exercise is then reported, not graded",
    )
    g.add_argument("--exercises", type=Path, default=EXERCISES, help="the exercise notebooks")
    g.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    g.add_argument("--timeout", type=float, default=60, help="seconds per cell (default 60)")
    g.add_argument("--memory", type=int, default=2048, help="MiB per kernel (default 2048)")
    g.add_argument("--cpu", type=int, default=600, help="CPU seconds per kernel (default 600)")
    g.add_argument("--nproc", type=int, default=512, help="processes per user (default 512)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def collect(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for p in paths:
        found += sorted(p.glob("*.ipynb")) if p.is_dir() else [p]
    return found


_STATE: dict[str, Any] = {}


def _init(exercises: Path, limits: Limits, assignment: str | None) -> None:
    _STATE.update(exercises=load_exercises(exercises), limits=limits, assignment=assignment)


def _grade(path: Path) -> dict[str, Any]:
    try:
        return grade_one(path, _STATE["exercises"], _STATE["limits"], _STATE["assignment"])
    except Exception as exc:  # a bug of the grader: report it, go on with the batch
        return {
            "student_id": student_id(path),
            "file": str(path),
            "sha256": file_hash(path) if path.exists() else "",
            "ungradable": f"the grader failed: {type(exc).__name__}: {exc}",
        }


def grade(
    submissions: list[Path],
    out: Path,
    limits: Limits,
    jobs: int = 1,
    exercises: Path = EXERCISES,
    assignment: str | None = None,
    progress: bool = True,
) -> dict[str, dict[str, Any]]:
    """Grade the submissions into `out`; returns the journal's records by student id."""
    out.mkdir(parents=True, exist_ok=True)
    done = read_journal(out)
    todo, seen = [], set()
    for path in collect(submissions):
        sid = student_id(path)
        if sid in seen:
            record = {
                "student_id": f"{sid}@{path}",
                "file": str(path),
                "sha256": "",
                "ungradable": f"another submission has the same student id {sid}",
            }
            append_record(out, record)
            continue
        seen.add(sid)
        if not path.is_file():
            append_record(
                out,
                {"student_id": sid, "file": str(path), "sha256": "", "ungradable": "no such file"},
            )
            continue
        if sid in done and done[sid].get("sha256") == file_hash(path):
            continue  # graded by an earlier run
        todo.append(path)

    from tqdm import tqdm

    bar = tqdm(total=len(todo), unit="nb", disable=not progress, file=sys.stderr)

    def finish(record: dict[str, Any]) -> None:
        append_record(out, record)
        if "items" in record:
            write_feedback(out, record)
        bar.update(1)

    if jobs <= 1:
        _init(exercises, limits, assignment)
        for path in todo:
            finish(_grade(path))
    else:
        context = multiprocessing.get_context("spawn")
        with cf.ProcessPoolExecutor(
            jobs, mp_context=context, initializer=_init, initargs=(exercises, limits, assignment)
        ) as pool:
            futures = {pool.submit(_grade, p): p for p in todo}
            for future in cf.as_completed(futures):
                path = futures[future]
                try:
                    finish(future.result())
                except Exception as exc:  # the worker process itself died
                    finish(
                        {
                            "student_id": student_id(path),
                            "file": str(path),
                            "sha256": "",
                            "ungradable": f"the grading process failed: {exc}",
                        }
                    )
    bar.close()
    return write_tables(out)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    limits = Limits(timeout=args.timeout, memory=args.memory, cpu=args.cpu, nproc=args.nproc)
    records = grade(
        args.submissions,
        args.out,
        limits,
        args.jobs,
        args.exercises,
        args.exercise,
        not args.no_progress,
    )
    graded = sum("items" in r for r in records.values())
    print(f"{graded} graded, {len(records) - graded} not gradable; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
