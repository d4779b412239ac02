"""The exercise generator: exercises/ written from solutions/, in nbgrader's format.

A small solution notebook is built here with nbformat; the tests check the stubs, that
nbgrader metadata is kept, hidden tests removed and outputs cleared, that broken sources
are refused with errors naming the notebook and cell, that `--check` detects drift, and
that a generated exercise runs to the end with every check "not attempted".
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from bpcourse.exercises import SourceError, exercise_path, main, make_exercise, render

ROOT = Path(__file__).resolve().parents[1]

ANSWER = '''import math
from bpcourse.autodiff import Value


def dense_backward(dZ, X, W):
    """dX, dW, db from dZ."""
    ### BEGIN SOLUTION
    dX = dZ @ W
    dW = dZ.T @ X
    db = dZ.sum(axis=0)
    ### END SOLUTION
    return dX, dW, db


def sin(x):
    out = Value(math.sin(x.data))
    out.parents = (x,)

    def _backward():
        ### BEGIN SOLUTION
        x.grad += math.cos(x.data) * out.grad
        ### END SOLUTION

    out._backward = _backward
    return out'''

CHECK = """### BEGIN HIDDEN TESTS
assert dense_backward is not None
### END HIDDEN TESTS
check("dense_backward", dense_backward)"""


def nbgrader(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    meta = {
        "schema_version": 3,
        "grade": grade,
        "solution": solution,
        "locked": locked,
        "task": False,
        "grade_id": grade_id,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def solution_notebook():
    """A solution notebook: two answers in functions, checks, a written answer, a summary."""
    ran = new_output("execute_result", {"text/plain": "42"}, execution_count=1)
    return new_notebook(
        cells=[
            new_markdown_cell("# Exercises 99: a fixture", metadata={"slideshow": {"x": 1}}),
            new_code_cell(
                "from bpcourse.checking import check, summary",
                execution_count=1,
                outputs=[ran],
                metadata={"tags": ["keep-me"], "collapsed": True},
            ),
            new_code_cell(ANSWER, execution_count=2, metadata=nbgrader("answers", solution=True)),
            new_code_cell(
                CHECK,
                execution_count=3,
                outputs=[ran],
                metadata=nbgrader("dense_backward", grade=True, locked=True, points=3),
            ),
            new_code_cell(
                'check("value_sin_backward", sin)',
                metadata=nbgrader("value_sin_backward", grade=True, locked=True, points=2),
            ),
            new_markdown_cell(
                "Why does reverse mode win?\n\n### BEGIN SOLUTION\nOne pass.\n### END SOLUTION",
                metadata=nbgrader("why", solution=True, grade=True, points=1),
            ),
            new_markdown_cell(
                "A whole written answer.",
                metadata=nbgrader("essay", solution=True, grade=True, points=1),
            ),
            new_markdown_cell("Read me.", metadata=nbgrader("intro", locked=True)),
            new_code_cell("summary()", execution_count=4),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}, "extra": 1},
    )


@pytest.fixture
def exercise():
    source = solution_notebook()
    before = nbformat.writes(source)
    generated = make_exercise(source, "99_fixture.ipynb")
    assert nbformat.writes(source) == before, "generating changed the solution notebook"
    return generated


# --- what the exercise looks like ---------------------------------------------------------------


def test_solution_regions_become_stubs_at_the_markers_indentation(exercise):
    source = exercise.cells[2].source
    assert "dW = dZ.T @ X" not in source and "x.grad +=" not in source
    assert "BEGIN SOLUTION" not in source and "END SOLUTION" not in source
    assert (
        '    """dX, dW, db from dZ."""\n'
        "    # YOUR CODE HERE\n"
        "    raise NotImplementedError()\n"
        "    return dX, dW, db"
    ) in source
    assert (
        "    def _backward():\n        # YOUR CODE HERE\n        raise NotImplementedError()\n\n"
    ) in source


def test_markdown_answers_become_your_answer_here(exercise):
    assert exercise.cells[5].source == "Why does reverse mode win?\n\nYOUR ANSWER HERE"
    assert exercise.cells[6].source == "YOUR ANSWER HERE"
    assert exercise.cells[7].source == "Read me.", "a locked cell is not an answer"


def test_hidden_tests_are_removed(exercise):
    assert exercise.cells[3].source == 'check("dense_backward", dense_backward)'


def test_nbgrader_metadata_is_kept_and_graded_cells_are_read_only(exercise):
    source = solution_notebook()
    for mine, theirs in zip(exercise.cells, source.cells, strict=True):
        kept = dict(mine.metadata.get("nbgrader", {}))
        kept.pop("checksum", None), kept.pop("cell_type", None)
        assert kept == theirs.metadata.get("nbgrader", {})
    assert exercise.cells[2].metadata["deletable"] is False
    assert "editable" not in exercise.cells[2].metadata, "learners edit their answers"
    for locked in (3, 4, 7):
        assert exercise.cells[locked].metadata["editable"] is False
        assert exercise.cells[locked].metadata["deletable"] is False


# What nbgrader 0.9.6's own `nbgrader.utils.compute_checksum` returned for these cells
# (measured once, with nbgrader's wheel unpacked into /tmp; nbgrader is not a dependency).
NBGRADER_CHECKSUMS = {
    "check": "3ab88246e0165f53097309a6ea1c9f95",
    "answer": "fcc1dfb998fde71a704712c3ec114d24",
    "read-only": "928f8df5e76038ae19d565cefea4a7a4",
}


def test_checksums_are_nbgraders():
    from bpcourse.exercises import compute_checksum

    cells = {
        "check": new_code_cell(
            'check("dense_backward", dense_backward)',
            metadata=nbgrader("dense_backward", grade=True, locked=True, points=3),
        ),
        "answer": new_code_cell(
            "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
            metadata=nbgrader("answers", solution=True),
        ),
        "read-only": new_markdown_cell("Read me.", metadata=nbgrader("intro", locked=True)),
    }
    assert {k: compute_checksum(c) for k, c in cells.items()} == NBGRADER_CHECKSUMS


def test_graded_solution_and_locked_cells_carry_checksum_and_cell_type(exercise):
    from bpcourse.exercises import compute_checksum

    marked = 0
    for cell in exercise.cells:
        meta = cell.metadata.get("nbgrader")
        if not meta:
            continue
        if meta.get("grade") or meta.get("solution") or meta.get("locked"):
            assert meta["cell_type"] == cell.cell_type
            assert meta["checksum"] == compute_checksum(cell), "computed on the exercise's text"
            marked += 1
        else:
            assert "checksum" not in meta
    assert marked >= 5


def test_outputs_are_cleared_and_stray_metadata_removed(exercise):
    for cell in exercise.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert exercise.cells[1].metadata == {"tags": ["keep-me"]}
    assert exercise.cells[0].metadata == {"slideshow": {"x": 1}}
    assert "extra" not in exercise.metadata
    nbformat.validate(exercise)


def test_generation_is_reproducible_and_keeps_cell_ids():
    source = solution_notebook()
    first = make_exercise(source, "x")
    assert [c.id for c in first.cells] == [c.id for c in source.cells]
    assert render(first) == render(make_exercise(source, "x"))


# --- validation of the sources --------------------------------------------------------------------


def broken(cell_index: int, source: str | None = None, **meta_changes):
    """The fixture with one cell's source or nbgrader metadata changed."""
    nb = solution_notebook()
    cell = nb.cells[cell_index]
    if source is not None:
        cell.source = source
    for key, value in meta_changes.items():
        if value is None:
            cell.metadata["nbgrader"].pop(key)
        else:
            cell.metadata["nbgrader"][key] = value
    return nb


TOP_LEVEL = "### BEGIN SOLUTION\nanswer = 42\n### END SOLUTION"
IN_IF = "if True:\n    ### BEGIN SOLUTION\n    answer = 42\n    ### END SOLUTION"

BROKEN = {
    "BEGIN without END": (
        broken(2, "def f():\n    ### BEGIN SOLUTION\n    return 1"),
        "cell 2 ('answers'), line 2: ### BEGIN SOLUTION has no END",
    ),
    "END without BEGIN": (
        broken(2, "def f():\n    return 1\n    ### END SOLUTION"),
        "cell 2 ('answers'), line 3: ### END SOLUTION without a matching BEGIN",
    ),
    "nested": (
        broken(
            2,
            "def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    return 1\n"
            "    ### END SOLUTION\n    ### END SOLUTION",
        ),
        "line 3: ### BEGIN SOLUTION inside the region opened at line 2 (regions cannot nest)",
    ),
    "mismatched": (
        broken(3, "### BEGIN HIDDEN TESTS\nassert True\n### END SOLUTION"),
        "cell 3 ('dense_backward'), line 3: ### END SOLUTION without a matching BEGIN",
    ),
    "near miss": (
        broken(2, "def f():\n    ## BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
        "line 2: '## BEGIN SOLUTION' looks like a marker but is not exactly",
    ),
    "top level": (
        broken(2, TOP_LEVEL),
        "cell 2 ('answers'), line 1: the solution region is not inside a function body",
    ),
    "in an if": (broken(2, IN_IF), "line 2: the solution region is not inside a function body"),
    "empty region": (
        broken(2, "def f():\n    ### BEGIN SOLUTION\n    ### END SOLUTION\n    return 1"),
        "line 2: the solution region is empty",
    ),
    "dedented region": (
        broken(2, "def f():\n    ### BEGIN SOLUTION\n    x = 1\nx = 2\n    ### END SOLUTION"),
        "must be indented at least as deeply as its BEGIN marker",
    ),
    "syntax error": (
        broken(2, "def f(:\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
        "cell 2 ('answers'): does not parse as Python",
    ),
    "markers in a non-solution cell": (
        broken(3, "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
        "cell 3 ('dense_backward'): solution markers in a cell whose nbgrader solution is false",
    ),
    "hidden tests in a non-grade cell": (
        broken(2, ANSWER + "\n### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS"),
        "cell 2 ('answers'): hidden tests in a cell whose nbgrader grade is false",
    ),
    "hidden tests emptying a block": (
        broken(
            3,
            "if True:\n    ### BEGIN HIDDEN TESTS\n    assert True\n    ### END HIDDEN "
            "TESTS\ncheck('dense_backward', dense_backward)",
        ),
        "the generated exercise cell does not parse",
    ),
    "markers without nbgrader metadata": (
        broken(8, "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
        "cell 8: has markers but no nbgrader metadata",
    ),
    "code solution cell without markers": (
        broken(2, "answer = 42"),
        "cell 2 ('answers'): a code solution cell needs ### BEGIN SOLUTION",
    ),
    "duplicate grade_id": (
        broken(4, grade_id="dense_backward"),
        "cell 4 ('dense_backward'): grade_id 'dense_backward' is also used by "
        "99_fixture.ipynb, cell 3",
    ),
    "bad grade_id": (broken(7, grade_id="read me"), "grade_id 'read me' must match"),
    "empty grade_id": (broken(7, grade_id=""), "grade_id '' must match"),
    "graded cell without points": (
        broken(5, points=None),
        "cell 5 ('why'): a graded cell needs points (a number >= 0), got None",
    ),
    "points not a number": (broken(5, points="1"), "a graded cell needs points"),
    "schema_version": (broken(7, schema_version=2), "schema_version is 2, not 3"),
    "missing keys": (
        broken(7, locked=None),
        "cell 7 ('intro'): nbgrader metadata lacks ['locked']",
    ),
    "not a boolean": (broken(7, locked="yes"), "nbgrader locked must be true or false"),
    "check id differs from grade_id": (
        broken(4, 'check("relu_backward", sin)', points=2),
        "calls check('relu_backward', ...), so its grade_id should be 'relu_backward'",
    ),
    "points differ from the item's": (
        broken(3, points=2),
        "cell 3 ('dense_backward'): points are 2, but the checked item(s) are worth 3",
    ),
    "unknown item": (
        broken(4, 'check("no_such_item", sin)'),
        "check('no_such_item', ...) names no graded item",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_sources_are_refused_naming_notebook_and_cell(case):
    nb, says = BROKEN[case]
    with pytest.raises(SourceError) as caught:
        make_exercise(nb, "99_fixture.ipynb")
    message = str(caught.value)
    assert says in message
    assert all(line.startswith("99_fixture.ipynb, cell ") for line in message.splitlines())


def test_every_problem_is_listed_at_once():
    nb = broken(2, TOP_LEVEL)
    nb.cells[5].metadata["nbgrader"].pop("points")
    with pytest.raises(SourceError) as caught:
        make_exercise(nb, "nb")
    assert len(str(caught.value).splitlines()) == 2


# --- the command: generate and --check --------------------------------------------------------


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course folder with one solution notebook and no exercises yet; cwd is its root."""
    (tmp_path / "solutions").mkdir()
    nbformat.write(solution_notebook(), tmp_path / "solutions" / "99_fixture.ipynb")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_generate_writes_the_exercise_and_check_then_passes(course, capsys):
    assert main(["generate", "--check"]) == 1
    assert "exercises/99_fixture.ipynb differs" in capsys.readouterr().err
    assert main(["generate"]) == 0
    assert "wrote exercises/99_fixture.ipynb" in capsys.readouterr().out
    stored = (course / "exercises" / "99_fixture.ipynb").read_text(encoding="utf-8")
    assert "raise NotImplementedError()" in stored
    assert main(["generate", "--check"]) == 0
    assert "1 exercise notebook(s) up to date" in capsys.readouterr().out
    assert main(["generate", "solutions/99_fixture.ipynb"]) == 0
    assert "0 exercise notebook(s) written, 1 unchanged" in capsys.readouterr().out


def test_check_detects_drift_both_ways_and_orphans(course, capsys):
    solution = course / "solutions" / "99_fixture.ipynb"
    exercise = exercise_path(solution)
    assert exercise == course / "exercises" / "99_fixture.ipynb"
    main(["generate"])
    nb = nbformat.read(solution, 4)
    nb.cells[0].source += " (changed)"
    nbformat.write(nb, solution)
    assert main(["generate", "--check"]) == 1, "a changed solution must be noticed"
    main(["generate"])
    exercise.write_text(exercise.read_text("utf-8").replace("YOUR CODE HERE", "mine"), "utf-8")
    assert main(["generate", "--check"]) == 1, "a hand-edited exercise must be noticed"
    main(["generate"])
    (course / "exercises" / "98_gone.ipynb").write_text("{}", encoding="utf-8")
    capsys.readouterr()
    assert main(["generate", "--check"]) == 1
    assert "exercises/98_gone.ipynb has no source in solutions/" in capsys.readouterr().err


def test_generate_refuses_a_broken_source_and_writes_nothing(course, capsys):
    nbformat.write(broken(2, TOP_LEVEL), course / "solutions" / "99_fixture.ipynb")
    assert main(["generate"]) == 1
    assert "not inside a function body" in capsys.readouterr().err
    assert not (course / "exercises").exists()


def test_sources_must_be_in_a_solutions_folder(course, capsys, monkeypatch):
    (course / "elsewhere.ipynb").write_text(
        (course / "solutions" / "99_fixture.ipynb").read_text("utf-8"), "utf-8"
    )
    assert main(["generate", "elsewhere.ipynb"]) == 1
    assert "must be in a folder named solutions/" in capsys.readouterr().err
    monkeypatch.chdir(course / "solutions")
    assert main(["generate"]) == 1
    assert "run this from the repository root" in capsys.readouterr().err


def test_the_module_runs_as_a_command(course):
    done = subprocess.run(
        [sys.executable, "-m", "bpcourse.exercises", "generate", "--check"],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "differs from what its solution generates" in done.stderr


def test_the_committed_exercises_match_their_solutions(monkeypatch, capsys):
    """exercises/ is generated from solutions/: regenerate with the command when this fails."""
    monkeypatch.chdir(ROOT)
    status = main(["generate", "--check"])
    assert status == 0, capsys.readouterr().err


# --- the blank exercise runs to the end ----------------------------------------------------------


def test_a_generated_exercise_runs_to_the_end_with_every_check_not_attempted(course, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.delenv("BPCOURSE_STRICT", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    main(["generate"])
    nb = nbformat.read(course / "exercises" / "99_fixture.ipynb", 4)
    NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(course)}}
    ).execute()
    outputs = {i: c.outputs for i, c in enumerate(nb.cells) if c.cell_type == "code"}
    assert not [o for outs in outputs.values() for o in outs if o.output_type == "error"]
    for i in (3, 4):
        text = outputs[i][0]["data"]["text/plain"]
        assert "not attempted (0/" in text and "still raises NotImplementedError" in text
    assert re.search(r"Your graded items: 0/\d+ points", outputs[8][0]["data"]["text/plain"])


def test_the_solution_passes_every_check_in_strict_mode(course, monkeypatch):
    """How solutions are tested: BPCOURSE_STRICT=1 turns anything but a pass into an error."""
    from nbclient import NotebookClient

    monkeypatch.setenv("BPCOURSE_STRICT", "1")
    nb = nbformat.read(course / "solutions" / "99_fixture.ipynb", 4)
    NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(course)}}
    ).execute()  # raises CellExecutionError if a check does not pass
    assert "dense_backward: passed (3/3 points)" in nb.cells[3].outputs[0]["data"]["text/plain"]
    assert re.search(
        r"Your graded items: 5/\d+ points", nb.cells[8].outputs[0]["data"]["text/plain"]
    )
