"""Run the course's notebooks and keep them clean, for maintainers.

    bpcourse notebooks run lessons/03_one_neuron.ipynb   # execute, store outputs
    bpcourse notebooks check lessons/*.ipynb              # stored as it should be?

(`python -m bpcourse.notebooks ...` is the same command.)

`run` executes a notebook top to bottom in a fresh kernel (working directory: the notebook's
folder), stores the outputs, and strips what a reader does not need (timings, widget state,
the Python patch version). `check` lists what is wrong with a stored notebook: code cells
never run, run out of order, errors in outputs, or stray metadata.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

KEEP_NOTEBOOK_METADATA = ("kernelspec", "language_info")
KEEP_CELL_METADATA = ("tags", "slideshow", "nbgrader", "editable", "deletable")


def clean(nb: Any) -> Any:
    """Strip metadata a reader does not need, in place; returns the notebook."""
    nb.metadata = {k: v for k, v in nb.metadata.items() if k in KEEP_NOTEBOOK_METADATA}
    if "language_info" in nb.metadata:
        nb.metadata["language_info"] = {"name": "python"}
    if "kernelspec" in nb.metadata:
        nb.metadata["kernelspec"] = {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        }
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in KEEP_CELL_METADATA}
    return nb


def execute(path: str | Path, timeout: int = 300) -> Any:
    """Execute the notebook at `path` in a fresh kernel, clean it, and write it back."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent.resolve())}},
        # the backend the tests check against, whatever MPLBACKEND says (a headless server's
        # Agg would store every figure cell without its image); no TCP warning at start
        extra_arguments=["--IPKernelApp.matplotlib=inline", "--IPKernelApp.log_level=ERROR"],
    )
    client.execute()
    clean(nb)
    nbformat.write(nb, path)
    return nb


def problems(nb: Any, name: str = "notebook") -> list[str]:
    """What is wrong with a stored notebook: unrun cells, order, errors, stray metadata."""
    found = []
    code = [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]
    counts = [c.execution_count for c in code]
    if code and all(n is None for n in counts):
        found.append(f"{name}: stored without outputs (run it top to bottom)")
    elif counts != list(range(1, len(code) + 1)):
        found.append(f"{name}: execution counts are {counts}, not 1..{len(code)} in order")
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and "raises-exception" not in cell.metadata.get(
                "tags", []
            ):
                found.append(f"{name}: cell {i} stored with an error ({out.get('ename')})")
            if out.get("name") == "stderr" and "Warning" in out.get("text", ""):
                found.append(f"{name}: cell {i} stored with a warning: {out['text'][:80]!r}")
        extra = set(cell.metadata) - set(KEEP_CELL_METADATA)
        if extra:
            found.append(f"{name}: cell {i} has stray metadata {sorted(extra)}")
    extra = set(nb.metadata) - set(KEEP_NOTEBOOK_METADATA)
    if extra:
        found.append(f"{name}: stray notebook metadata {sorted(extra)}")
    return found


def main(argv: list[str] | None = None, prog: str = "python -m bpcourse.notebooks") -> int:
    """The command line (also `bpcourse notebooks ...`); returns the exit code."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute notebooks and store their outputs")
    run.add_argument("paths", nargs="+", type=Path)
    run.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    chk = sub.add_parser("check", help="list problems with stored notebooks")
    chk.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)

    import nbformat

    if args.command == "run":
        for path in args.paths:
            print(f"running {path} ...", flush=True)
            execute(path, args.timeout)
        return 0
    found = [p for path in args.paths for p in problems(nbformat.read(path, 4), str(path))]
    print("\n".join(found) or f"{len(args.paths)} notebook(s): no problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
