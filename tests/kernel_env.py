"""A pytest plugin (loaded by `-p kernel_env` in pyproject.toml) for the notebook kernels that
nbval starts: they draw with the inline backend, whatever the caller's MPLBACKEND (a headless
server often sets Agg, which would leave every figure cell without its image), and they
start quietly (no "running over TCP without encryption" warning at each kernel start), and
run the answer checks in strict mode (a check that does not pass raises).

Both are IPython kernel settings, written to a profile of a temporary IPYTHONDIR that only
the kernels of this test run see.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

KERNEL_CONFIG = """\
import os

c.IPKernelApp.matplotlib = "inline"  # the backend the stored outputs were made with
c.IPKernelApp.log_level = "ERROR"  # no per-kernel warning about the local TCP transport
# Strict checks: under nbval a solution's check that does not pass raises, so the one nbval
# run of each solution proves every item passes (tests/test_exercise_notebooks.py reads the
# points from the outputs nbval verified). A test that sets BPCOURSE_STRICT itself wins.
os.environ.setdefault("BPCOURSE_STRICT", "1")
"""

_made: list[Path] = []


def pytest_configure(config: object) -> None:
    ipython_dir = Path(tempfile.mkdtemp(prefix="bpcourse-ipython-"))
    profile = ipython_dir / "profile_default"
    profile.mkdir()
    (profile / "ipython_kernel_config.py").write_text(KERNEL_CONFIG, encoding="utf-8")
    os.environ["IPYTHONDIR"] = str(ipython_dir)
    os.environ.pop("MPLBACKEND", None)  # the kernels choose inline themselves
    _made.append(ipython_dir)


def pytest_unconfigure(config: object) -> None:
    for path in _made:
        shutil.rmtree(path, ignore_errors=True)
