"""The `bpcourse` console script: one command for the course's tools.

Run as a user runs it, in a subprocess: the installed script (next to this Python) and
`python -m bpcourse`, the help texts, the exit codes, and a real `bpcourse notebooks check`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "bpcourse"
SUBCOMMANDS = ("grade", "exercises", "notebooks")


def bpcourse(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`bpcourse ARGS...` through the installed console script."""
    return subprocess.run(
        [str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_pyproject_names_the_one_console_script() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"] == {"bpcourse": "bpcourse.cli:main"}
    assert SCRIPT.exists(), f"{SCRIPT} missing: run pip install -e . in the venv"


def test_help_lists_the_three_subcommands() -> None:
    result = bpcourse("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: bpcourse")
    for name in SUBCOMMANDS:
        assert f"\n    {name} " in result.stdout, name


def test_python_dash_m_bpcourse_is_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bpcourse", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == bpcourse("--help").stdout


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("grade", ["usage: bpcourse grade", "--out", "--jobs", "--exercise"]),
        ("exercises", ["usage: bpcourse exercises", "generate"]),
        ("notebooks", ["usage: bpcourse notebooks", "run", "check"]),
    ],
)
def test_each_subcommand_has_its_own_help(name: str, expected: list[str]) -> None:
    result = bpcourse(name, "--help")
    assert result.returncode == 0, result.stderr
    for text in expected:
        assert text in result.stdout, (name, text)


def test_nested_help_reaches_the_module() -> None:
    result = bpcourse("exercises", "generate", "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: bpcourse exercises generate" in result.stdout
    assert "--check" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "required"),
        (("nonsense",), "invalid choice"),
        (("notebooks",), "required"),
        (("notebooks", "lint"), "invalid choice"),
        (("exercises", "frobnicate"), "invalid choice"),
        (("grade", "x.ipynb"), "--out"),  # --out is required
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    result = bpcourse(*args)
    assert result.returncode == 2, (args, result.stdout, result.stderr)
    assert "usage: bpcourse" in result.stderr
    assert message in result.stderr


def test_notebooks_check_on_a_real_lesson() -> None:
    lesson = sorted((ROOT / "lessons").glob("01_*.ipynb"))[0]
    result = bpcourse("notebooks", "check", str(lesson.relative_to(ROOT)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "1 notebook(s): no problems"


def test_notebooks_check_reports_a_problem_with_exit_1(tmp_path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("1 + 1"))  # never run
    path = tmp_path / "never_run.ipynb"
    nbformat.write(nb, path)
    result = bpcourse("notebooks", "check", str(path))
    assert result.returncode == 1
    assert "never_run.ipynb" in result.stdout


def test_exercises_generate_outside_a_checkout_exits_1(tmp_path: Path) -> None:
    result = bpcourse("exercises", "generate", "--check", cwd=tmp_path)
    assert result.returncode == 1
    assert "no solutions/ folder here" in result.stderr


def test_python_dash_m_modules_still_work() -> None:
    for module in ("bpcourse.exercises", "bpcourse.notebooks"):
        result = subprocess.run(
            [sys.executable, "-m", module, "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, (module, result.stderr)
        assert f"usage: python -m {module}" in result.stdout


def test_the_rest_of_argv_is_forwarded_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    import bpcourse.exercises
    import bpcourse.grading.cli
    import bpcourse.notebooks
    from bpcourse.cli import main

    seen: list[object] = []

    def fake(argv: list[str], prog: str | None = None) -> int:
        seen.append((argv, prog))
        return 7

    monkeypatch.setattr(bpcourse.grading.cli, "main", fake)
    monkeypatch.setattr(bpcourse.exercises, "main", fake)
    monkeypatch.setattr(bpcourse.notebooks, "main", fake)
    args = ["a b.ipynb", "--out", "-x", "--help"]
    assert main(["grade", *args]) == 7
    assert main(["exercises", *args]) == 7
    assert main(["notebooks", *args]) == 7
    assert seen == [
        (["grade", *args], None),
        (args, "bpcourse exercises"),
        (args, "bpcourse notebooks"),
    ]


def test_the_grader_loads_nbformat_without_the_iri_grammar():
    """bpcourse.quick_start: the grader (and each worker) skips rfc3987_syntax, which costs
    about 1 s at import, and nbformat still validates; `import bpcourse` changes nothing."""
    probe = (
        "import sys, bpcourse\n"
        "assert 'rfc3987_syntax' not in sys.modules\n"
        "import bpcourse.grading.cli, nbformat, jsonschema\n"
        "assert sys.modules['rfc3987_syntax'] is None\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "nbformat.validate(nb)\n"
        "nb.cells[0]['cell_type'] = 'not a cell type'\n"
        "try:\n"
        "    nbformat.validate(nb)\n"
        "except nbformat.ValidationError:\n"
        "    print('invalid notebook refused')\n"
    )
    lesson = sorted((ROOT / "lessons").glob("01_*.ipynb"))[0]
    done = subprocess.run(
        [sys.executable, "-c", probe, str(lesson)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "invalid notebook refused"
