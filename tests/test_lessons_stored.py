"""The lessons as stored: run top to bottom, with outputs, clean, and shaped like a lesson.

nbval (configured in pyproject.toml) re-runs every lesson and compares its outputs; these
tests check what nbval does not: that a lesson is stored run, in order, without errors or
warnings, without stray metadata, ready for slides, and has the parts every lesson promises.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from bpcourse.notebooks import problems

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
# Optional companions (06x_...) meet the same standards; they share their lesson's exercise.
OPTIONAL = sorted((ROOT / "lessons").glob("[0-9][0-9]x_*.ipynb"))


def test_lessons_exist():
    assert len(LESSONS) >= 1, "no lessons found in lessons/"


@pytest.fixture(params=LESSONS + OPTIONAL, ids=[p.stem for p in LESSONS + OPTIONAL])
def lesson(request):
    return request.param, nbformat.read(request.param, as_version=4)


def markdown(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def test_stored_run_in_order_without_errors_or_stray_metadata(lesson):
    path, nb = lesson
    assert problems(nb, path.name) == []


def test_opens_with_learning_objectives_and_ends_with_a_summary(lesson):
    path, nb = lesson
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), path.name
    head = "\n".join(c.source for c in nb.cells[:3] if c.cell_type == "markdown").lower()
    assert "you will be able to" in head, f"{path.name}: no learning objectives at the top"
    tail = "\n".join(c.source for c in nb.cells[-3:] if c.cell_type == "markdown").lower()
    assert "summary" in tail, f"{path.name}: no summary at the end"


def exercise_name(path: Path) -> str:
    """The exercise notebook of a lesson; an optional companion points to its lesson's."""
    if path in OPTIONAL:
        return next(p.name for p in LESSONS if p.name[:2] == path.name[:2])
    return path.name


def test_points_to_its_exercise_notebook(lesson):
    path, nb = lesson
    exercise = exercise_name(path)
    assert f"exercises/{exercise}" in markdown(nb), f"{path.name}: no pointer to its exercise"


def test_has_math_and_a_figure(lesson):
    path, nb = lesson
    assert "$" in markdown(nb), f"{path.name}: no LaTeX"
    images = [
        out
        for c in nb.cells
        if c.cell_type == "code"
        for out in c.outputs
        if "image/png" in out.get("data", {})
    ]
    assert images, f"{path.name}: no figure"


def test_every_cell_is_ready_for_slides(lesson):
    path, nb = lesson
    missing = [
        i for i, c in enumerate(nb.cells) if "slide_type" not in c.metadata.get("slideshow", {})
    ]
    assert not missing, f"{path.name}: cells {missing} have no slideshow metadata"


def test_randomness_is_seeded(lesson):
    path, nb = lesson
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for unseeded in ("np.random.rand(", "np.random.randn(", "np.random.normal(", "default_rng()"):
        assert unseeded not in code, f"{path.name}: unseeded randomness {unseeded!r}"


def test_plot_cells_end_with_show(lesson):
    """A figure's repr would leak into the text output nbval compares; plt.show() prevents it."""
    path, nb = lesson
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        texts = [
            json.dumps(o.get("data", {}).get("text/plain", ""))
            for o in cell.outputs
            if o.get("output_type") == "execute_result"
        ]
        assert not any("<Figure size" in t or "<matplotlib." in t for t in texts), (
            f"{path.name}: cell {i} shows a matplotlib object's repr; end it with plt.show()"
        )
