"""`bpcourse grade` on every exercise that has a solution, outside the kernel.

Its own file (the run grades 25 notebooks) so that pytest-xdist's `--dist loadfile` can run it
beside the batch of tests/test_grading.py instead of after it.
"""

from __future__ import annotations

import nbformat
from test_grading import ROOT, with_cell

from bpcourse.grading.cli import main
from bpcourse.grading.report import read_journal


def test_every_exercise_found_is_graded_outside_the_kernel(tmp_path):
    """Every exercise that has a solution: the solution gets full points and the blank
    exercise none, through the data-only channel (exercise 01 passes the checker's own
    functions, sent to the kernel as code; exercise 02's adapters return plain data). A
    check patched inside the kernel gains nothing."""
    folder = tmp_path / "subs"
    folder.mkdir()
    names = [
        p.stem
        for p in sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))
        if (ROOT / "solutions" / p.name).exists()
    ]
    assert len(names) >= 6
    for name in names:
        solved = nbformat.read(ROOT / "solutions" / f"{name}.ipynb", 4)
        nbformat.write(solved, folder / f"solved_{name}.ipynb")
        nbformat.write(
            nbformat.read(ROOT / "exercises" / f"{name}.ipynb", 4), folder / f"blank_{name}.ipynb"
        )
    ex02 = ROOT / "exercises" / "02_computational_graphs_and_reverse_mode.ipynb"
    patched = nbformat.read(ex02, 4)
    with_cell(
        patched,
        "import bpcourse.checking.registry as r\nfrom bpcourse.checking.result import Result\n"
        "r.Item.run = lambda self, *a, **k: Result(self.grade_id, self.points, self.points, "
        "True, [], 'passed')\n"
        "r.Item.evaluate = r.Item.run\nimport numpy as np\nnp.allclose = lambda *a, **k: True",
    )
    nbformat.write(patched, folder / "patched_02.ipynb")
    out = tmp_path / "out"
    args = ["--out", str(out), "--no-progress", "--jobs", "2", "--timeout", "120"]
    assert main(["grade", str(folder), *args]) == 0
    records = read_journal(out)
    for name in names:
        r = records[f"solved_{name}"]
        assert r.assignment == name and not r.problems, (name, r.problems)
        assert r.score == r.max_score > 0, (name, [i for i in r.items if i.status != "passed"])
        blank = records[f"blank_{name}"]
        assert blank.score == 0 and blank.assignment == name
        assert {i.status for i in blank.items} == {"not attempted"}, name
    assert records["patched_02"].score == 0
