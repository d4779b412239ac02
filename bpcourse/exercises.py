"""Generate the exercise notebooks from the solution notebooks: one source, nbgrader's format.

    bpcourse exercises generate                         # every solutions/*.ipynb
    bpcourse exercises generate solutions/04_x.ipynb    # one notebook
    bpcourse exercises generate --check                 # exit 1 if exercises/ drifted

(`python -m bpcourse.exercises ...` is the same command.)

Run it from the repository root. `solutions/NN_topic.ipynb` is the source of truth;
`exercises/NN_topic.ipynb` is written from it and never edited by hand. The format is
nbgrader's (schema 3), so an instructor can point nbgrader at `solutions/` as its source.

The rules:

- **Solution regions** are the lines between `### BEGIN SOLUTION` and `### END SOLUTION`.
  In a code cell the region is replaced by `# YOUR CODE HERE` and
  `raise NotImplementedError()`, indented like the BEGIN line; in a markdown cell by
  `YOUR ANSWER HERE`. A markdown solution cell without markers is replaced whole.
- **One rule for code: solution regions sit inside a function body.** The blank exercise
  then still defines every function and runs to the end; calling a blank function raises
  NotImplementedError, which `check` reports as "not attempted". (A region at the top level
  of a cell would stop the notebook, so the generator refuses it.)
- **Hidden tests**, between `### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS` in a graded
  cell, are removed.
- **Metadata**: each cell's `nbgrader` metadata is kept; locked and graded cells are also
  made read-only (`editable`, `deletable` false) as nbgrader does; outputs are cleared and
  execution counts set to None; other metadata is cleaned as for the lessons. Graded,
  solution and locked cells get nbgrader's `checksum` and `cell_type`, computed as
  `nbgrader generate_assignment` does (`nbgrader.utils.compute_checksum`), so the output is
  what nbgrader itself would write.
- **Validation** (errors name the notebook, the cell and its grade_id): nbgrader metadata
  complete (schema_version 3, grade, solution, locked, grade_id matching
  ^[a-zA-Z0-9_-]*$, unique; points for a graded cell); markers exact, balanced and not
  nested; markers only in solution cells (hidden tests only in graded cells); a graded cell
  calling `check("<id>", ...)` has that grade_id and the item's points.
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bpcourse.checking.registry import GRADE_ID

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = "YOUR ANSWER HERE"
REQUIRED = ("schema_version", "grade", "solution", "locked", "grade_id")
MARKER_WORDS = re.compile(r"(BEGIN|END)\s+(SOLUTION|HIDDEN\s+TESTS)", re.IGNORECASE)
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([^"']*)["']""")


class SourceError(ValueError):
    """A solution notebook breaks the rules; the message lists every problem."""


@dataclass
class Region:
    """The lines begin..end (0-based, the marker lines included) of a marked region."""

    kind: str  # "solution" or "hidden"
    begin: int
    end: int
    indent: str


def find_regions(lines: list[str], where: str) -> tuple[list[Region], list[str]]:
    """The marked regions of a cell's lines, and the problems with its markers."""
    markers = {BEGIN_SOLUTION: "solution", END_SOLUTION: "solution"}
    markers |= {BEGIN_HIDDEN: "hidden", END_HIDDEN: "hidden"}
    regions, problems = [], []
    open_: tuple[str, int, str] | None = None
    for i, line in enumerate(lines):
        text = line.strip()
        if text not in markers:
            if MARKER_WORDS.search(line):
                problems.append(
                    f"{where}, line {i + 1}: {text!r} looks like a marker but is not exactly "
                    f"{BEGIN_SOLUTION!r}, {END_SOLUTION!r}, {BEGIN_HIDDEN!r} or {END_HIDDEN!r}"
                )
            continue
        kind, begins = markers[text], text.startswith("### BEGIN")
        if begins and open_:
            problems.append(
                f"{where}, line {i + 1}: {text} inside the region opened at line "
                f"{open_[1] + 1} (regions cannot nest)"
            )
        elif begins:
            open_ = (kind, i, line[: len(line) - len(line.lstrip())])
        elif not open_ or open_[0] != kind:
            problems.append(f"{where}, line {i + 1}: {text} without a matching BEGIN")
        else:
            regions.append(Region(kind, open_[1], i, open_[2]))
            open_ = None
    if open_:
        problems.append(f"{where}, line {open_[1] + 1}: {lines[open_[1]].strip()} has no END")
    return regions, problems


def _python(source: str) -> ast.Module:
    """The cell's source as Python (IPython magics turned into calls, as the kernel does)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return ast.parse(TransformerManager().transform_cell(source))


def _function_problems(
    source: str, lines: list[str], regions: list[Region], where: str
) -> list[str]:
    """Every solution region of a code cell must lie inside one function's body."""
    try:
        tree = _python(source)
    except SyntaxError as exc:
        return [f"{where}: does not parse as Python ({exc.msg}, line {exc.lineno})"]
    functions = [
        n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    problems = []
    for r in regions:
        body = [line for line in lines[r.begin + 1 : r.end] if line.strip()]
        if not body:
            problems.append(f"{where}, line {r.begin + 1}: the solution region is empty")
            continue
        if any(not line.startswith(r.indent) for line in body) or (
            len(lines[r.end]) - len(lines[r.end].lstrip()) != len(r.indent)
        ):
            problems.append(
                f"{where}, line {r.begin + 1}: a solution region's lines must be indented at "
                "least as deeply as its BEGIN marker, and its END marker exactly as deeply"
            )
        inside = any(
            f.lineno < r.begin + 1 <= (f.end_lineno or 0) and len(r.indent) > f.col_offset
            for f in functions
        )
        if not inside:
            problems.append(
                f"{where}, line {r.begin + 1}: the solution region is not inside a function "
                "body; put the answer in a function (def ...:) that the check calls, so the "
                "blank exercise still runs to the end"
            )
    return problems


def _nbgrader_problems(cell: Any, where: str, seen: dict[str, str]) -> list[str]:
    meta = cell.metadata.get("nbgrader")
    missing = [key for key in REQUIRED if key not in meta]
    if missing:
        return [f"{where}: nbgrader metadata lacks {missing}"]
    problems = []
    if meta["schema_version"] != 3:
        problems.append(f"{where}: nbgrader schema_version is {meta['schema_version']!r}, not 3")
    for key in ("grade", "solution", "locked", "task"):
        if key in meta and not isinstance(meta[key], bool):
            problems.append(f"{where}: nbgrader {key} must be true or false, got {meta[key]!r}")
    grade_id = meta["grade_id"]
    if not isinstance(grade_id, str) or not GRADE_ID.match(grade_id):
        problems.append(f"{where}: grade_id {grade_id!r} must match {GRADE_ID.pattern}")
    elif grade_id in seen:
        problems.append(f"{where}: grade_id {grade_id!r} is also used by {seen[grade_id]}")
    else:
        seen[grade_id] = where
    if meta.get("grade") or meta.get("task"):
        points = meta.get("points")
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
            problems.append(f"{where}: a graded cell needs points (a number >= 0), got {points!r}")
    return problems


def _check_call_problems(cell: Any, where: str) -> list[str]:
    """A graded cell calling check("<id>") must carry that id and the item's points."""
    ids = CHECK_CALL.findall(cell.source)
    meta = cell.metadata["nbgrader"]
    if not ids or not meta.get("grade"):
        return []
    from bpcourse.checking.registry import load_items

    items = load_items()
    unknown = [i for i in ids if i not in items]
    if unknown:
        return [
            f"{where}: check({unknown[0]!r}, ...) names no graded item (see "
            "bpcourse/checking/items/)"
        ]
    problems = []
    if len(ids) == 1 and meta["grade_id"] != ids[0]:
        problems.append(
            f"{where}: calls check({ids[0]!r}, ...), so its grade_id should be {ids[0]!r}"
        )
    points = sum(items[i].points for i in ids)
    if meta.get("points") != points:
        problems.append(
            f"{where}: points are {meta.get('points')!r}, but the checked item(s) "
            f"are worth {points:g}"
        )
    return problems


def _still_parses(source: str, where: str) -> list[str]:
    """[] when the generated cell is Python; else why not (an emptied block, usually)."""
    try:
        _python(source)
    except SyntaxError as exc:
        return [
            f"{where}: the generated exercise cell does not parse ({exc.msg}, line "
            f"{exc.lineno}): does removing a hidden-test region leave a block empty?"
        ]
    return []


def _replace(lines: list[str], regions: list[Region], stub: Any) -> list[str]:
    """`lines` with each region (markers included) replaced by stub(region)."""
    out, start = [], 0
    for r in regions:
        out += lines[start : r.begin] + stub(r)
        start = r.end + 1
    return out + lines[start:]


def _exercise_source(cell: Any, regions: list[Region]) -> str:
    lines = cell.source.split("\n")
    hidden = [r for r in regions if r.kind == "hidden"]
    solution = [r for r in regions if r.kind == "solution"]
    if cell.cell_type == "markdown":
        if cell.metadata["nbgrader"].get("solution") and not solution:
            return MARKDOWN_STUB
        lines = _replace(lines, solution, lambda r: [MARKDOWN_STUB])
        return "\n".join(lines)
    regions = sorted(hidden + solution, key=lambda r: r.begin)
    lines = _replace(
        lines, regions, lambda r: [r.indent + s for s in CODE_STUB] if r.kind == "solution" else []
    )
    return "\n".join(lines)


def make_exercise(nb: Any, name: str = "notebook") -> Any:
    """The exercise notebook generated from the solution notebook `nb` (which is unchanged).

    Raises SourceError listing every problem when `nb` breaks the rules.
    """
    from bpcourse.notebooks import clean

    problems: list[str] = []
    seen: dict[str, str] = {}
    exercise = copy.deepcopy(nb)
    for i, cell in enumerate(exercise.cells):
        meta = cell.metadata.get("nbgrader")
        where = f"{name}, cell {i}" + (f" ({meta.get('grade_id')!r})" if meta else "")
        lines = cell.source.split("\n")
        before = len(problems)
        regions, found = find_regions(lines, where)
        problems += found
        if meta is None:
            if regions:
                problems.append(f"{where}: has markers but no nbgrader metadata")
            continue
        problems += _nbgrader_problems(cell, where, seen)
        if any(key not in meta for key in REQUIRED):
            continue
        kinds = {r.kind for r in regions}
        if "solution" in kinds and not meta["solution"]:
            problems.append(f"{where}: solution markers in a cell whose nbgrader solution is false")
        if "hidden" in kinds and not meta["grade"]:
            problems.append(f"{where}: hidden tests in a cell whose nbgrader grade is false")
        if cell.cell_type == "code":
            solution = [r for r in regions if r.kind == "solution"]
            if meta["solution"] and not solution and not found:
                problems.append(
                    f"{where}: a code solution cell needs {BEGIN_SOLUTION} ... {END_SOLUTION} "
                    "inside a function body"
                )
            if solution and not found:
                problems += _function_problems(cell.source, lines, solution, where)
            problems += _check_call_problems(cell, where)
        if len(problems) == before:  # the cell is valid: make its exercise version
            cell.source = _exercise_source(cell, regions)
            if cell.cell_type == "code" and regions:
                problems += _still_parses(cell.source, where)
    if problems:
        raise SourceError("\n".join(problems))
    clean(exercise)
    for cell in exercise.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if "nbgrader" in cell.metadata:
            _lock(cell)
            if _is_grade(cell) or _is_solution(cell) or _is_locked(cell):
                cell.metadata["nbgrader"]["checksum"] = compute_checksum(cell)
                cell.metadata["nbgrader"]["cell_type"] = cell.cell_type
    return exercise


def _is_grade(cell: Any) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("grade", False))


def _is_solution(cell: Any) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution", False))


def _is_locked(cell: Any) -> bool:
    """nbgrader's rule: a solution cell is never locked; a graded cell always is."""
    if "nbgrader" not in cell.metadata or _is_solution(cell):
        return False
    return _is_grade(cell) or bool(cell.metadata["nbgrader"].get("locked", False))


def compute_checksum(cell: Any) -> str:
    """nbgrader's checksum of a cell (nbgrader 0.9, `nbgrader.utils.compute_checksum`):
    MD5 of the source, the cell type, is-grade, is-solution, is-locked, the grade_id and,
    for a graded cell, its points as a float."""
    m = hashlib.md5()
    m.update(cell.source.encode("utf-8"))
    m.update(cell.cell_type.encode("utf-8"))
    m.update(str(_is_grade(cell)).encode("utf-8"))
    m.update(str(_is_solution(cell)).encode("utf-8"))
    m.update(str(_is_locked(cell)).encode("utf-8"))
    m.update(cell.metadata["nbgrader"]["grade_id"].encode("utf-8"))
    if _is_grade(cell):
        m.update(str(float(cell.metadata["nbgrader"]["points"])).encode("utf-8"))
    return m.hexdigest()


def _lock(cell: Any) -> None:
    """Make graded and locked cells read-only, and answer cells undeletable, as nbgrader does."""
    meta = cell.metadata["nbgrader"]
    if meta.get("solution"):
        cell.metadata["deletable"] = False
    elif meta.get("grade") or meta.get("locked"):
        cell.metadata["editable"] = False
        cell.metadata["deletable"] = False


def exercise_path(solution: Path) -> Path:
    """solutions/04_x.ipynb -> exercises/04_x.ipynb (a sibling folder)."""
    return solution.parent.parent / "exercises" / solution.name


def render(nb: Any) -> str:
    """The notebook as the text stored on disk (nbformat's JSON, ending in a newline)."""
    import nbformat

    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def orphans(sources: list[Path]) -> list[Path]:
    """Exercise notebooks, next to the given sources' exercises, that have no solution."""
    folders = {exercise_path(s).parent: s.parent for s in sources}
    return sorted(
        e
        for folder, sol in folders.items()
        for e in folder.glob("*.ipynb")
        if not (sol / e.name).exists()
    )


def generate(sources: list[Path], check: bool = False) -> int:
    """Write (or, with check, compare) the exercises of `sources`; the exit status."""
    import nbformat

    texts, errors = {}, []
    for source in sources:
        if source.resolve().parent.name != "solutions":
            errors.append(f"{source}: a solution notebook must be in a folder named solutions/")
            continue
        try:
            nb = nbformat.read(source, as_version=4)
            texts[exercise_path(source)] = render(make_exercise(nb, str(source)))
        except (OSError, ValueError) as exc:  # SourceError, unreadable or invalid JSON
            errors.append(str(exc))
    if errors:
        print("cannot generate exercises:\n" + "\n".join(errors), file=sys.stderr)
        return 1
    stale = [str(o) + " has no source in solutions/" for o in orphans(sources)]
    changed = [t for t, text in texts.items() if not t.exists() or t.read_text("utf-8") != text]
    if check:
        drift = [f"{t} differs from what its solution generates" for t in changed] + stale
        if drift:
            print(
                "exercises out of date (run `bpcourse exercises generate`):\n" + "\n".join(drift),
                file=sys.stderr,
            )
            return 1
        print(f"{len(texts)} exercise notebook(s) up to date")
        return 0
    for target in changed:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(texts[target], encoding="utf-8")
        print(f"wrote {target}")
    print(f"{len(changed)} exercise notebook(s) written, {len(texts) - len(changed)} unchanged")
    for line in stale:
        print(f"warning: {line}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None, prog: str = "python -m bpcourse.exercises") -> int:
    """The command line (also `bpcourse exercises ...`); returns the exit code."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write exercises/ from solutions/")
    gen.add_argument("paths", nargs="*", type=Path, help="solution notebooks (default: all)")
    gen.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and list the exercises that differ",
    )
    args = parser.parse_args(argv)
    if not args.paths and not Path("solutions").is_dir():
        print("no solutions/ folder here: run this from the repository root", file=sys.stderr)
        return 1
    sources = args.paths or sorted(Path("solutions").glob("*.ipynb"))
    return generate(sources, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
