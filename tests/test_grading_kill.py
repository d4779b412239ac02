"""A grading run killed with SIGKILL leaves a valid, current grades.csv and no process.

The grader is started as a separate process with two jobs; one submission loops forever in
a cell, so a kernel is busy when the grader is killed. Its kernels' scratch folders are
under a TMPDIR of the test and its workers carry a token in their environment, so any
survivor is found in /proc.
"""

from __future__ import annotations

import csv
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NAME = "05_activations_and_losses"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")


def survivors(token: str, folder: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().decode("latin-1")
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode("latin-1")
        except OSError:
            continue
        if token in environ or folder in cmdline:
            found.append(f"{pid}: {cmdline[:160]!r}")
    return found


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("sandbox", ["bubblewrap", "--no-sandbox"])
def test_sigkill_leaves_a_valid_table_and_no_process(tmp_path, sandbox):
    subs, out, tmp = tmp_path / "subs", tmp_path / "out", tmp_path / "tmp"
    subs.mkdir(), tmp.mkdir()
    solution = nbformat.read(ROOT / "solutions" / f"{NAME}.ipynb", as_version=4)
    for k in range(3):
        nbformat.write(solution, subs / f"a{k}.ipynb")
    stuck = nbformat.read(ROOT / "solutions" / f"{NAME}.ipynb", as_version=4)
    stuck.cells.insert(1, nbformat.v4.new_code_cell("while True:\n    pass"))
    nbformat.write(stuck, subs / "z_stuck.ipynb")
    nbformat.write(stuck, subs / "z_stuck2.ipynb")
    token = "bpgradekill" + secrets.token_hex(6)
    env = dict(os.environ, TMPDIR=str(tmp), BPGRADE_TEST_TOKEN=token)
    options = ["--jobs", "2", "--timeout", "120", "--no-progress"]
    if sandbox.startswith("--"):
        options.append(sandbox)
    grader = subprocess.Popen(
        [sys.executable, "-m", "bpcourse.grading", "grade", str(subs), "--out", str(out), *options],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        graded: list[dict[str, str]] = []
        while time.monotonic() < deadline and grader.poll() is None:
            if (out / "grades.csv").exists():
                graded = [r for r in rows(out / "grades.csv") if r["status"] == "graded"]
                if len(graded) == 3:
                    break
            time.sleep(0.5)
        assert len(graded) == 3, "the three quick submissions were not graded in time"
        time.sleep(1)  # the stuck kernels are running their loops
        assert survivors(token, str(tmp)), "the scan finds the running grader"
        grader.send_signal(signal.SIGKILL)
        grader.wait(10)
        for _ in range(20):
            left = survivors(token, str(tmp))
            if not left:
                break
            time.sleep(0.5)
        assert not left, left
    finally:
        if grader.poll() is None:
            grader.kill()
    table = rows(out / "grades.csv")
    assert {r["student_id"] for r in table if r["status"] == "graded"} == {"a0", "a1", "a2"}
    assert all(float(r["score"]) == 14 for r in table)
