"""Grading speed: 40 submissions of exercise 06, with one and with two jobs.

    .venv/bin/python benchmarks/bench_grading.py [--copies 40]

The submissions mix correct (the solution), blank (the exercise), wrong (train_step moves
uphill) and broken (minibatch_indices raises) notebooks. Prints submissions per minute.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import nbformat

from bpcourse.grading.cli import grade
from bpcourse.grading.run import Limits

ROOT = Path(__file__).resolve().parents[1]
NAME = "06_training_a_multilayer_perceptron"


def submissions(folder: Path, copies: int) -> None:
    solution = nbformat.read(ROOT / "solutions" / f"{NAME}.ipynb", as_version=4)
    blank = nbformat.read(ROOT / "exercises" / f"{NAME}.ipynb", as_version=4)
    wrong = nbformat.read(ROOT / "solutions" / f"{NAME}.ipynb", as_version=4)
    broken = nbformat.read(ROOT / "solutions" / f"{NAME}.ipynb", as_version=4)
    for cell in wrong.cells:
        cell.source = cell.source.replace("p.value -= lr * p.grad", "p.value += lr * p.grad")
    for cell in broken.cells:
        if cell.source.startswith("def minibatch_indices"):
            cell.source = "def minibatch_indices(n, batch_size, rng):\n    return undefined_name"
    kinds = [solution, blank, wrong, broken]
    for i in range(copies):
        nbformat.write(kinds[i % 4], folder / f"student{i:03d}.ipynb")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "subs"
        folder.mkdir()
        submissions(folder, args.copies)
        for jobs in (1, 2):
            out = Path(tmp) / f"out{jobs}"
            start = time.perf_counter()
            records = grade([folder], out, Limits(timeout=60), jobs=jobs, progress=False)
            seconds = time.perf_counter() - start
            graded = sum("items" in r for r in records.values())
            print(
                f"jobs={jobs}: {graded}/{args.copies} graded in {seconds:.1f} s, "
                f"{60 * args.copies / seconds:.1f} submissions per minute"
            )


if __name__ == "__main__":
    main()
