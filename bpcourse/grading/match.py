"""Read a submission, find its exercise, and rebuild it from the pristine exercise notebook.

The exercise is the one whose nbgrader grade_ids the submission shares most; a notebook with
no nbgrader metadata (saved by another tool) is matched by the functions it defines and the
similarity of its cells. The repaired notebook is the pristine exercise with the student's
solution cells put in: found by grade_id (the last copy of a duplicated id), else by the
`def name(` of the function the cell defines; a deleted solution cell comes back as the
blank stub. Every other cell (setup, checks) is the pristine one, so an edited check changes
nothing. Each repair is reported.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

CHECKOUT = Path(__file__).resolve().parents[2]
EXERCISES = CHECKOUT / "exercises"
DEF = re.compile(r"^def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)
MAX_BYTES = 20 * 2**20  # of a notebook once its stored outputs are stripped
MAX_FILE = 512 * 2**20  # of the file as submitted (outputs included)


def course_exercises(course: Path | None = None) -> Path:
    """The exercise notebooks' folder of the course checkout `course` (default: this one;
    for an installed package without a checkout, ./exercises)."""
    if course is not None:
        folder = Path(course) / "exercises"
        return folder if folder.is_dir() else Path(course)
    return EXERCISES if EXERCISES.is_dir() else Path.cwd() / "exercises"


class Ungradable(Exception):
    """The submission cannot be graded; the message says why."""


def _meta(cell: Any) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


@dataclass
class Item:
    grade_id: str  # the check cell's id, e.g. "tanh_backward"
    answer_id: str  # the solution cell's id, e.g. "tanh_backward_answer"
    names: list[str]  # the functions the check takes
    points: float = 0.0  # the item's points (the checker's; else the cell's nbgrader points)


@dataclass
class Exercise:
    name: str
    nb: Any
    items: list[Item]
    functions: dict[str, str] = field(default_factory=dict)  # answer_id -> function name

    @property
    def answer_ids(self) -> set[str]:
        return {i.answer_id for i in self.items}

    @property
    def ids(self) -> set[str]:
        return {str(_meta(c).get("grade_id")) for c in self.nb.cells if _meta(c).get("grade_id")}

    def student_source(self, nb: Any) -> str:
        """The code of a repaired notebook that is the student's (solution and own cells):
        what the forbidden-shortcut check reads."""
        pristine = {c.source for c in self.nb.cells if c.cell_type == "code"}
        return "\n\n".join(
            c.source
            for c in nb.cells
            if c.cell_type == "code"
            and (_meta(c).get("solution") or (c.source not in pristine and not _meta(c)))
        )


def _check_names(source: str, grade_id: str) -> list[str]:
    """The names passed to `check(grade_id, ...)` in a check cell (its last such call)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "check"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == grade_id
        ):
            names = [a.id for a in node.args[1:] if isinstance(a, ast.Name)]
    return names


def load_exercise(path: Path) -> Exercise:
    nb = nbformat.read(path, as_version=4)
    items, functions, last_answer = [], {}, ""
    for cell in nb.cells:
        meta = _meta(cell)
        if meta.get("solution") and cell.cell_type == "code":
            last_answer = meta["grade_id"]
            found = DEF.findall(cell.source)
            if found:
                functions[last_answer] = found[0]
        elif meta.get("grade") and meta.get("grade_id"):
            grade_id = str(meta["grade_id"])
            names = _check_names(cell.source, grade_id)
            points = float(meta.get("points", 0) or 0)
            items.append(Item(grade_id, last_answer, names, _points(grade_id, points)))
    return Exercise(path.stem, nb, items, functions)


def _points(grade_id: str, fallback: float) -> float:
    from bpcourse.checking.registry import load_items

    found = load_items().get(grade_id)
    return float(found.points) if found is not None else fallback


def load_exercises(folder: Path | None = None) -> dict[str, Exercise]:
    """Every exercise notebook (`NN_name.ipynb`) of the folder, by name: whatever is there."""
    folder = course_exercises(None) if folder is None else folder
    found: dict[str, Exercise] = {}
    for p in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")):
        try:
            found[p.stem] = load_exercise(p)
        except Exception as exc:  # an exercise being written: the others are still graded
            warnings.warn(f"exercise {p.name} is skipped: {exc}", stacklevel=2)
    return found


def _strip(raw: dict[str, Any]) -> None:
    """Drop stored outputs, attachments and widget state: the grader runs the code again."""
    for key in ("worksheets",):
        for sheet in raw.get(key, []) if isinstance(raw.get(key), list) else []:
            if isinstance(sheet, dict):
                _strip_cells(sheet.get("cells"))
    _strip_cells(raw.get("cells"))
    meta = raw.get("metadata")
    if isinstance(meta, dict):
        meta.pop("widgets", None)


def _strip_cells(cells: Any) -> None:
    if not isinstance(cells, list):
        return
    for cell in cells:
        if isinstance(cell, dict):
            if "outputs" in cell:
                cell["outputs"] = []
            cell.pop("attachments", None)
            if "execution_count" in cell:
                cell["execution_count"] = None
            if "prompt_number" in cell:
                cell["prompt_number"] = None


def _clean(value: Any) -> Any:
    """Every string in the JSON as text that encodes (invalid UTF-8 and lone surrogates
    become backslash escapes)."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


def read_submission(path: Path) -> Any:
    """The notebook (outputs stripped, upgraded to nbformat 4), or Ungradable saying why."""
    size = path.stat().st_size
    if size == 0:
        raise Ungradable("the file is empty")
    if size > MAX_FILE:
        raise Ungradable(f"the file is {size / 2**20:.0f} MiB, over {MAX_FILE // 2**20} MiB")
    data = path.read_bytes()
    try:
        raw = json.loads(data.decode("utf-8", errors="surrogateescape"))
    except ValueError as exc:
        raise Ungradable(f"not a notebook: the file is not JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise Ungradable("not a notebook: the JSON is not an object")
    _strip(raw)
    raw = _clean(raw)
    if not isinstance(raw.get("cells"), list) and not isinstance(raw.get("worksheets"), list):
        raise Ungradable("not a notebook: no list of cells")
    text = json.dumps(raw)
    if len(text) > MAX_BYTES:
        raise Ungradable(
            f"the notebook's code and text are {len(text) / 2**20:.0f} MiB (outputs removed), "
            f"over {MAX_BYTES // 2**20} MiB"
        )
    try:
        with warnings.catch_warnings():  # notebooks saved by other tools may lack cell ids
            warnings.simplefilter("ignore")
            major = int(raw.get("nbformat", 4))
            nb = nbformat.reads(text, as_version=4)
            if major < 4:
                nb.metadata["bpcourse_upgraded_from"] = major
            return nb
    except Exception as exc:
        raise Ungradable(f"not a readable notebook ({type(exc).__name__}: {exc})") from None


def _text(nb: Any) -> str:
    return "\n".join(str(c.get("source", "")) for c in nb.cells)


def identify(nb: Any, exercises: dict[str, Exercise]) -> tuple[Exercise, str]:
    """The exercise a submission is for, and how it was recognised."""
    ids = {str(_meta(c).get("grade_id")) for c in nb.cells if _meta(c).get("grade_id")}
    scores = {name: len(ids & ex.ids) for name, ex in exercises.items()}
    best = max(scores, key=lambda n: scores[n]) if scores else None
    if best is not None and scores[best] > 0:
        return exercises[best], "by its nbgrader grade_ids"
    defined = set(DEF.findall(_text(nb)))
    text = _text(nb)

    def score(ex: Exercise) -> float:
        names = set(ex.functions.values())
        share = len(defined & names) / len(names) if names else 0.0
        similar = difflib.SequenceMatcher(None, text[:20000], _text(ex.nb)[:20000]).quick_ratio()
        return share + 0.5 * similar

    ranked = sorted(exercises.values(), key=score, reverse=True)
    if not ranked or not defined & set(ranked[0].functions.values()):
        raise Ungradable("it is not one of the exercise notebooks (no graded function found)")
    return ranked[0], "by its cells (it has no nbgrader metadata)"


def repair(nb: Any, exercise: Exercise) -> tuple[Any, list[str]]:
    """The pristine exercise with the student's answers in it, and the repairs made."""
    repairs: list[str] = []
    cells = [c for c in nb.cells if isinstance(c, dict)]
    used: set[int] = set()
    out = nbformat.v4.new_notebook(metadata=exercise.nb.metadata)
    pristine_sources = {c.source for c in exercise.nb.cells}
    for cell in exercise.nb.cells:
        meta = _meta(cell)
        gid = meta.get("grade_id")
        if not (meta.get("solution") and cell.cell_type == "code"):
            mine = [c for c in cells if gid and _meta(c).get("grade_id") == gid]
            used.update(id(c) for c in mine)
            if meta.get("grade") and not mine:
                repairs.append(f"check cell {gid} was missing: the original was used")
            elif meta.get("grade") and mine[-1].get("source") != cell.source:
                repairs.append(f"check cell {gid} was edited: the original was used")
            out.cells.append(cell)
            continue
        same_id = [c for c in cells if _meta(c).get("grade_id") == gid]
        chosen = same_id[-1] if same_id else None
        if len(same_id) > 1:
            repairs.append(f"solution cell {gid} appeared {len(same_id)} times: the last was used")
        fname = exercise.functions.get(str(gid))
        if chosen is None and fname:
            pattern = re.compile(rf"^def\s+{re.escape(fname)}\s*\(", re.MULTILINE)
            found = [
                c
                for c in cells
                if id(c) not in used and not _meta(c) and pattern.search(str(c.get("source", "")))
            ]
            if found:
                chosen = found[-1]
                repairs.append(
                    f"solution cell {gid} had no nbgrader metadata (retyped or copied): the "
                    f"cell defining {fname} was used"
                )
        used.update(id(c) for c in same_id)
        if chosen is None:
            repairs.append(f"solution cell {gid} was missing: the blank cell was put back")
            out.cells.append(cell)
            continue
        used.add(id(chosen))
        if chosen.get("cell_type") != "code":
            repairs.append(
                f"solution cell {gid} had been turned into {chosen.get('cell_type')}: "
                "it was run as code"
            )
        new = nbformat.v4.new_code_cell(str(chosen.get("source", "")), metadata=cell.metadata)
        out.cells.append(new)
    extra = [
        c
        for c in cells
        if id(c) not in used
        and c.get("cell_type") == "code"
        and not _meta(c).get("grade_id")
        and str(c.get("source", "")).strip()
        and c.get("source") not in pristine_sources
        and "check(" not in str(c.get("source", ""))
    ]
    if extra:
        first = next(
            i for i, c in enumerate(out.cells) if _meta(c).get("solution") or _meta(c).get("grade")
        )
        for offset, c in enumerate(extra):
            out.cells.insert(first + offset, nbformat.v4.new_code_cell(str(c.get("source"))))
        repairs.append(f"{len(extra)} code cell(s) of your own were run before your answers")
    return out, repairs


def cells_to_run(nb: Any, exercise: Exercise | None = None) -> list[str]:
    """The code to run in the kernel: every code cell but the checks and the summary (and,
    given the exercise, its own demonstration loops that nothing uses: `slim`)."""
    sources = []
    for cell in nb.cells:
        if cell.cell_type != "code" or _meta(cell).get("grade"):
            continue
        if re.search(r"^\s*(check|summary)\(", cell.source, re.MULTILINE) and not _meta(cell).get(
            "solution"
        ):
            continue
        sources.append(cell.source)
    if exercise is None:
        return sources
    from bpcourse.grading.slim import slim

    mine = {
        c.source
        for c in exercise.nb.cells
        if c.cell_type == "code" and not _meta(c).get("solution")
    }
    needed = tuple(n for item in exercise.items for n in item.names)
    return slim(sources, [s in mine for s in sources], needed)
