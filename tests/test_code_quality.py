"""Static checks run as tests: ruff (lint and format) and mypy, configured in pyproject.toml.

Deselect them with `-m "not quality"` while iterating on something else.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# benchmarks/ may not exist yet in a fresh clone (git keeps no empty folders).
PATHS = [name for name in ("bpcourse", "tests", "benchmarks") if (ROOT / name).is_dir()]

pytestmark = pytest.mark.quality


def run(*args: str) -> tuple[int, str]:
    """Run `python -m <args>` at the repo root; return its exit code and a report of it."""
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    report = f"`python -m {' '.join(args)}` exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.returncode, report


def test_ruff_check():
    returncode, report = run("ruff", "check", "--no-cache", *PATHS)
    assert returncode == 0, report


def test_ruff_format():
    returncode, report = run("ruff", "format", "--check", "--no-cache", *PATHS)
    assert returncode == 0, report


def test_mypy():
    returncode, report = run("mypy")  # files and options come from [tool.mypy] in pyproject.toml
    assert returncode == 0, report
