"""`bpcourse grade` runs of their own, beside the batch of tests/test_grading.py.

Resuming an interrupted run, grading without the sandbox, and the notebook's time budget each
need a grading run with other options; in their own file, pytest-xdist's `--dist loadfile`
runs them on the other worker while the batch is graded.
"""

from __future__ import annotations

import csv
import json

import nbformat
from test_grading import EXERCISE, ITEMS, NAME, answer, feedback, solution

from bpcourse.grading.cli import main
from bpcourse.grading.grade import file_hash
from bpcourse.grading.report import JOURNAL, read_journal


def test_an_interrupted_run_resumes(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    nbformat.write(solution(), folder / "done.ipynb")
    nbformat.write(nbformat.read(EXERCISE, 4), folder / "todo.ipynb")
    out = tmp_path / "out"
    out.mkdir()
    earlier = {
        "student_id": "done",
        "file": str(folder / "done.ipynb"),
        "sha256": file_hash(folder / "done.ipynb"),
        "assignment": NAME,
        "score": 7,
        "max_score": 14,
        "repairs": [],
        "problems": [],
        "items": [
            {
                "item": i,
                "points": 7 / 5,
                "max_points": 2,
                "status": "failed",
                "messages": ["sentinel"],
                "in_kernel": False,
            }
            for i in ITEMS
        ],
    }
    (out / JOURNAL).write_text(json.dumps(earlier) + "\n{torn line")
    assert main(["grade", str(folder), "--out", str(out), "--no-progress", "--timeout", "30"]) == 0
    lines = (out / JOURNAL).read_text().splitlines()
    assert sum('"done"' in line for line in lines) == 1, "the graded student was not re-run"
    with open(out / "grades.csv") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"done", "todo"}
    assert float(rows["done"]["score"]) == 7 and float(rows["todo"]["score"]) == 0


def test_without_the_sandbox_it_says_so_loudly(tmp_path, capsys):
    folder = tmp_path / "subs"
    folder.mkdir()
    nbformat.write(solution(), folder / "ann.ipynb")
    out = tmp_path / "out"
    assert main(["grade", str(folder), "--out", str(out), "--no-progress", "--no-sandbox"]) == 0
    printed = capsys.readouterr()
    assert "WARNING" in printed.err and "NONE" in printed.out
    record = read_journal(out)["ann"]
    assert record.score == 14 and record.sandbox == "limits only"
    assert "WITHOUT the bubblewrap sandbox" in feedback(out, "ann")
    assert any("without the sandbox" in p for p in record.problems)


def test_a_notebook_has_a_time_budget(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    slow = solution()
    for _ in range(300):
        slow.cells.insert(1, nbformat.v4.new_code_cell("import time\ntime.sleep(0.05)"))
    nbformat.write(slow, folder / "slow.ipynb")
    out = tmp_path / "out"
    args = ["--out", str(out), "--notebook-timeout", "3", "--no-progress"]
    assert main(["grade", str(folder), *args]) == 0
    record = read_journal(out)["slow"]
    assert record.seconds < 12 and record.score == 0  # not the 15 s the cells would take
    assert any("time budget (3 s)" in p for p in record.problems), record.problems
    assert len(record.items) == len(ITEMS)  # every item has its row, with the reason


def test_a_budget_spent_inside_a_call_leaves_the_next_student_unharmed(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    slow = solution()
    answer(
        slow, "tanh_backward"
    ).source = (
        "import time\ndef tanh_backward(dA, A):\n    time.sleep(6)\n    return dA * (1 - A**2)"
    )
    answer(
        slow, "relu_backward"
    ).source = "def relu_backward(dA, Z):\n    time.sleep(6)\n    return dA * (Z > 0)"
    nbformat.write(slow, folder / "a_slow.ipynb")
    nbformat.write(solution(), folder / "b_correct.ipynb")
    out = tmp_path / "out"
    args = ["--out", str(out), "--notebook-timeout", "5", "--jobs", "1", "--no-progress"]
    assert main(["grade", str(folder), *args]) == 0
    records = read_journal(out)
    assert records["b_correct"].score == 14
    slow_record = records["a_slow"]
    assert any("time budget" in p for p in slow_record.problems)
    assert slow_record.score == 0 and len(slow_record.items) == len(ITEMS)
    assert slow_record.seconds < 12
