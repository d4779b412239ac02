"""The exercise notebooks as a learner and a maintainer meet them.

- Each blank exercise runs to the end, and every graded item says "not attempted".
- Each solution passes every check with full points, and every graded item of a solution
  notebook is checked, with the notebook's points.

The solutions are executed once, by nbval, in strict mode (`BPCOURSE_STRICT=1`, set for the
test kernels by tests/kernel_env.py): a check that does not pass raises there, and nbval
proves that a fresh run prints the stored outputs. The solution test below reads the points
from those verified outputs (the `summary(...)` cell), so it needs no second execution.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))

PROBE = """
import json
from bpcourse.checking import SCOREBOARD
results = {k: [r.status, r.points, r.max_points] for k, r in SCOREBOARD.results.items()}
print("RESULTS" + json.dumps(results))
"""


def run_and_probe(path: Path, strict: bool) -> dict[str, list]:
    """Execute the notebook in a fresh kernel, then read every check's result from it."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    env_before = os.environ.get("BPCOURSE_STRICT")
    os.environ["BPCOURSE_STRICT"] = "1" if strict else "0"
    try:
        NotebookClient(
            nb,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
    finally:
        if env_before is None:
            os.environ.pop("BPCOURSE_STRICT", None)
        else:
            os.environ["BPCOURSE_STRICT"] = env_before
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("name") == "stdout")
    return json.loads(text.split("RESULTS", 1)[1])


def graded_ids(path: Path) -> dict[str, float]:
    nb = nbformat.read(path, as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }


def test_every_solution_has_its_exercise():
    assert [p.name for p in SOLUTIONS] == [p.name for p in EXERCISES]


@pytest.mark.parametrize("path", EXERCISES, ids=[p.stem for p in EXERCISES])
def test_blank_exercise_runs_to_the_end_with_nothing_attempted(path):
    results = run_and_probe(path, strict=False)
    assert set(results) == set(graded_ids(path)), "every graded item is checked once"
    for item, (status, points, _) in results.items():
        assert status == "not attempted" and points == 0, f"{item}: {status}, {points} points"


def stored_summary(path: Path) -> dict[str, tuple[float, float, str]]:
    """The items of the solution's stored `summary(...)` output: points, max points, status."""
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "summary(" in c.source]
    assert cells, f"{path.name}: no summary(...) cell"
    text = "".join(
        out.get("data", {}).get("text/plain", "") or out.get("text", "")
        for out in cells[-1].get("outputs", [])
    )
    rows = re.findall(r"^\s+\S+\s+(\w+)\s+([\d.]+)/([\d.]+)\s+(.+?)\s*$", text, re.M)
    return {item: (float(p), float(m), status) for item, p, m, status in rows}


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solution_passes_every_check_with_the_notebook_points(path):
    results = stored_summary(path)
    expected = graded_ids(path)
    assert len(expected) >= 4, f"{path.name}: fewer than four graded items"
    assert set(results) == set(expected), "every graded item is checked once"
    for item, (points, max_points, status) in results.items():
        assert status == "passed" and points == max_points == expected[item], item


def test_nbval_checks_the_solutions_in_strict_mode(request):
    import kernel_env

    cell = SOLUTIONS[0] / "cell"  # any item under solutions/
    fake = type("Item", (), {"path": cell})()
    kernel_env.pytest_runtest_setup(fake)
    try:
        assert os.environ["BPCOURSE_STRICT"] == "1"
    finally:
        kernel_env.pytest_runtest_setup(request.node)  # back to the caller's setting
    assert os.environ.get("BPCOURSE_STRICT") == kernel_env._original_strict
