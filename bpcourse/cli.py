"""`bpcourse`: the course's tools under one command.

    bpcourse grade SUBMISSIONS... --out DIR [--jobs 2]   # grade a class's exercise notebooks
    bpcourse exercises generate [--check]                # write exercises/ from solutions/
    bpcourse notebooks run lessons/NN_name.ipynb         # execute a notebook, store its outputs
    bpcourse notebooks check lessons/*.ipynb             # list problems with stored notebooks

Each subcommand hands the rest of its arguments unchanged to its module's own `main`
(`bpcourse.grading.cli`, `bpcourse.exercises`, `bpcourse.notebooks`), so
`python -m bpcourse.exercises ...` and `python -m bpcourse.notebooks ...` do the same.
`bpcourse SUBCOMMAND --help` shows a subcommand's options.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bpcourse.quick_start import skip_iri_grammar


def _grade(rest: list[str]) -> int:
    from bpcourse.grading.cli import main

    return main(["grade", *rest])


def _exercises(rest: list[str]) -> int:
    from bpcourse.exercises import main

    return main(rest, prog="bpcourse exercises")


def _notebooks(rest: list[str]) -> int:
    from bpcourse.notebooks import main

    return main(rest, prog="bpcourse notebooks")


# name -> (one-line help, runner); the runners import lazily, so `bpcourse --help` is quick.
COMMANDS: dict[str, tuple[str, Callable[[list[str]], int]]] = {
    "grade": ("grade the notebooks students hand in", _grade),
    "exercises": ("generate exercises/ from solutions/", _exercises),
    "notebooks": ("run or check stored notebooks", _notebooks),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bpcourse",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_, _) in COMMANDS.items():
        sub.add_parser(name, help=help_, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run `bpcourse SUBCOMMAND ARGS...`; returns the exit code (argparse exits on --help)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in COMMANDS:
        skip_iri_grammar()
        return COMMANDS[args[0]][1](args[1:])
    _parser().parse_args(args)  # --help prints and exits 0; anything else is a usage error
    return 2  # pragma: no cover - parse_args has exited


if __name__ == "__main__":
    sys.exit(main())
