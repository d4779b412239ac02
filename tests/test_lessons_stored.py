"""The lessons as stored: run top to bottom, with outputs, clean, and shaped like a lesson.

nbval (configured in pyproject.toml) re-runs every lesson and compares its outputs; these
tests check what nbval does not: that a lesson is stored run, in order, without errors or
warnings, without stray metadata, ready for slides, and has the parts every lesson promises.
"""

from __future__ import annotations

import json
import re
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


# --- the second-edition lesson standard (issue 10) -----------------------------------------
#
# Every lesson must have, in its markdown:
#   * a link to the notation page, `](../docs/notation.md)`, in its first three cells;
#   * at least two predict-then-run prompts: a markdown cell containing `**Predict` whose
#     next cell is a code cell (the cell that reveals the answer);
#   * a "Common misconceptions" box: a markdown cell containing that phrase;
#   * a references list among its last three cells: a `## References` heading followed by at
#     least two list items (`- `, `* ` or `1. `);
#   * no "the notes", "the note", "source notes", "Monash notes" (cite a source by name:
#     "Monash University's course notes on backpropagation", Wikipedia "Backpropagation");
#   * no `\partial L` (the loss is \mathcal L; L counts layers).
# And no stored output may contain an absolute path (/home/..., /work/..., C:\...).


@pytest.fixture(params=LESSONS + OPTIONAL, ids=[p.stem for p in LESSONS + OPTIONAL])
def second_edition_lesson(request):
    path = request.param
    return path, nbformat.read(path, as_version=4)


def test_links_to_the_notation_page_at_the_top(second_edition_lesson):
    path, nb = second_edition_lesson
    head = "\n".join(c.source for c in nb.cells[:3] if c.cell_type == "markdown")
    assert "](../docs/notation.md)" in head, f"{path.name}: no link to ../docs/notation.md on top"


def test_has_predict_then_run_prompts(second_edition_lesson):
    path, nb = second_edition_lesson
    prompts = [
        i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and "**Predict" in c.source
    ]
    assert len(prompts) >= 2, f"{path.name}: {len(prompts)} '**Predict' prompts, need at least 2"
    for i in prompts:
        assert i + 1 < len(nb.cells) and nb.cells[i + 1].cell_type == "code", (
            f"{path.name}: the prediction prompt in cell {i} is not followed by the code cell "
            "that reveals the answer"
        )


def test_has_a_common_misconceptions_box(second_edition_lesson):
    path, nb = second_edition_lesson
    assert "common misconceptions" in markdown(nb).lower(), f"{path.name}: no misconceptions box"


def test_ends_with_a_references_list(second_edition_lesson):
    path, nb = second_edition_lesson
    tail = "\n".join(c.source for c in nb.cells[-3:] if c.cell_type == "markdown")
    assert "## References" in tail, f"{path.name}: no '## References' in the last three cells"
    after = tail.split("## References", 1)[1]
    items = re.findall(r"^\s*(?:[-*]|\d+\.)\s+\S", after, flags=re.MULTILINE)
    assert len(items) >= 2, f"{path.name}: the references list has {len(items)} entries"


NOTES_PHRASES = re.compile(
    r"\b(?:the|these|our|source|Monash)\s+notes?\b|\bthe\s+note's\b|\bthe\s+(?:source|course)\s+notes?\b",
    flags=re.IGNORECASE,
)


def test_cites_sources_by_name_never_the_notes(second_edition_lesson):
    path, nb = second_edition_lesson
    for i, cell in enumerate(nb.cells):
        found = NOTES_PHRASES.search(cell.source)
        assert not found, (
            f"{path.name}: cell {i} says {found.group(0)!r}; the learner has no notes: quote the "
            "formula and cite the source by name"
        )


def test_loss_is_script_l(second_edition_lesson):
    path, nb = second_edition_lesson
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            found = re.search(r"\\partial\s*L(?![A-Za-z_])", cell.source)
            assert not found, (
                f"{path.name}: cell {i} writes {found.group(0)!r}: the loss is \\mathcal L"
            )


ABSOLUTE_PATH = re.compile(
    r"(?<![\w.~])/(?:home|Users|root|tmp|work|usr|opt|var|mnt|srv)/|\b[A-Z]:\\"
)


def test_no_absolute_paths_in_outputs(lesson):
    path, nb = lesson
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            text = json.dumps({k: out.get(k) for k in ("text", "data", "traceback", "evalue")})
            text = re.sub(r"\\u001b\[[0-9;]*m", " ", text)  # a traceback's colour codes
            found = ABSOLUTE_PATH.search(text)
            assert not found, (
                f"{path.name}: cell {i} stores an absolute path ({found.group(0)!r}...)"
            )


@pytest.mark.parametrize(
    "path",
    [*LESSONS, *OPTIONAL, *sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))],
    ids=lambda p: f"{p.parent.name}/{p.stem}",
)
def test_titles_share_one_style(path):
    """'# Lesson 03: One neuron', '# Exercises 03: One neuron' (the exercises are generated
    from the solutions): one separator everywhere, as the site's sidebar and the decks list
    them side by side."""
    title = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0]
    number = path.stem.split("_")[0]
    kind = "Lesson" if path.parent.name == "lessons" else "Exercises"
    optional = r" \(optional\)" if number.endswith("x") else ""
    assert re.fullmatch(rf"# {kind} {number}{optional}: \S[^·—:]*", title), title
