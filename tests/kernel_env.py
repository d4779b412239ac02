"""A pytest plugin (loaded by `-p kernel_env` in pyproject.toml) for the notebook kernels that
nbval starts: they draw with the inline backend, whatever the caller's MPLBACKEND (a headless
server often sets Agg, which would leave every figure cell without its image), and they
start quietly (no "running over TCP without encryption" warning at each kernel start), and
nbval runs the solutions with strict answer checks (BPCOURSE_STRICT=1: a check that does not
pass raises), so its one run of each solution proves every item passes;
tests/test_exercise_notebooks.py reads the points from the outputs nbval verified.

Both are set by a kernel profile in a temporary IPYTHONDIR that only the kernels of this test
run see; it chooses the inline backend through MPLBACKEND, so matplotlib is imported only by a
notebook that uses it.

Loaded with `-p`, before nbval imports nbformat, this plugin also skips the IRI grammar that
jsonschema would compile on import (`bpcourse.quick_start`): 1.7 s less for pytest and for each
xdist worker.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from bpcourse.quick_start import skip_iri_grammar

skip_iri_grammar()

KERNEL_CONFIG = """\
import os

# The backend the stored outputs were made with, loaded when a cell first imports matplotlib
# (the same activation as %matplotlib inline; c.IPKernelApp.matplotlib = "inline" would import
# matplotlib at every kernel start, 0.5 s of CPU for each notebook that never plots).
os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
c.IPKernelApp.log_level = "ERROR"  # no per-kernel warning about the local TCP transport
"""
SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
_original_strict = os.environ.get("BPCOURSE_STRICT")

_made: list[Path] = []


def pytest_configure(config: object) -> None:
    ipython_dir = Path(tempfile.mkdtemp(prefix="bpcourse-ipython-"))
    profile = ipython_dir / "profile_default"
    profile.mkdir()
    (profile / "ipython_kernel_config.py").write_text(KERNEL_CONFIG, encoding="utf-8")
    os.environ["IPYTHONDIR"] = str(ipython_dir)
    os.environ.pop("MPLBACKEND", None)  # the kernels choose inline themselves
    _made.append(ipython_dir)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Strict checks for the cells of solutions/ (their kernel starts with the first cell's
    setup, so it inherits this), the caller's setting for everything else."""
    if SOLUTIONS in Path(str(item.path)).resolve().parents:
        os.environ["BPCOURSE_STRICT"] = "1"
    elif _original_strict is None:
        os.environ.pop("BPCOURSE_STRICT", None)
    else:
        os.environ["BPCOURSE_STRICT"] = _original_strict


def pytest_unconfigure(config: object) -> None:
    for path in _made:
        shutil.rmtree(path, ignore_errors=True)
