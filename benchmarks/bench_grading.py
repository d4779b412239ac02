"""Grading speed on a mixed class: every exercise found, four kinds of submission each.

    .venv/bin/python benchmarks/bench_grading.py [--copies 48] [--jobs 1 2] [--no-sandbox]

For each exercise notebook in exercises/ that has a solution, the submissions cycle through
correct (the solution), blank (the exercise), half done (every other answer cell blank) and
broken (the first answer cell raises NameError). Prints notebooks per minute for each number
of jobs, the sandbox in force, and the slowest exercise. The target is >= 30 per minute on 2
cores (docs/grading.md).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import nbformat

from bpcourse.grading.cli import grade
from bpcourse.grading.run import Limits
from bpcourse.grading.sandbox import describe_mode, sandbox_mode

ROOT = Path(__file__).resolve().parents[1]


def _answers(nb: nbformat.NotebookNode) -> list[int]:
    return [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    ]


def kinds(name: str) -> list[nbformat.NotebookNode]:
    """Correct, blank, half done and broken submissions of one exercise."""
    solution = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    blank = nbformat.read(ROOT / "exercises" / f"{name}.ipynb", as_version=4)
    blank_answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in blank.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    }
    half = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    for k, i in enumerate(_answers(half)):
        if k % 2:
            half.cells[i].source = blank_answers.get(
                half.cells[i].metadata["nbgrader"]["grade_id"], half.cells[i].source
            )
    broken = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", as_version=4)
    first = _answers(broken)[0]
    broken.cells[first].source += "\nundefined_name_raises_here"
    return [solution, blank, half, broken]


def submissions(folder: Path, copies: int) -> dict[str, str]:
    """Write `copies` submissions cycling through the exercises and kinds; file -> exercise."""
    names = sorted(
        p.stem
        for p in (ROOT / "exercises").glob("[0-9][0-9]_*.ipynb")
        if (ROOT / "solutions" / p.name).exists()
    )
    made = {n: kinds(n) for n in names}
    which = {}
    for i in range(copies):
        name = names[i % len(names)]
        nb = made[name][(i // len(names)) % 4]
        nbformat.write(nb, folder / f"student{i:03d}.ipynb")
        which[f"student{i:03d}"] = name
    return which


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=48)
    parser.add_argument("--jobs", type=int, nargs="+", default=[2])
    parser.add_argument("--no-sandbox", action="store_true")
    args = parser.parse_args()
    print(describe_mode(sandbox_mode(not args.no_sandbox)))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "subs"
        folder.mkdir()
        which = submissions(folder, args.copies)
        for jobs in args.jobs:
            out = Path(tmp) / f"out{jobs}"
            start = time.perf_counter()
            records = grade(
                [folder],
                out,
                Limits(timeout=60, sandbox=not args.no_sandbox),
                jobs=jobs,
                progress=False,
            )
            seconds = time.perf_counter() - start
            graded = sum(r.graded for r in records.values())
            print(
                f"jobs={jobs}: {graded}/{args.copies} graded in {seconds:.1f} s, "
                f"{60 * args.copies / seconds:.1f} notebooks per minute"
            )
            per: dict[str, list[float]] = {}
            for sid, r in records.items():
                per.setdefault(which.get(sid, "?"), []).append(r.seconds)
            for name, times in sorted(per.items()):
                print(f"  {name}: median {statistics.median(times):.1f} s per notebook")


if __name__ == "__main__":
    main()
