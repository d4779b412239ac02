"""Attacks on `bpcourse grade` by students who want a better grade or want to harm the run.

Each fixture is exercise 05's notebook (the solution, or the blank exercise) with one attack
added. One batch is graded once (two jobs, bubblewrap sandbox); each test asserts that
nothing escaped (no file written outside the scratch folder, no process left, no network
connection, no change to another student's score) and that the scores are right.

Without bubblewrap these tests are skipped, with the reason; under CI (env CI set) they fail.
"""

from __future__ import annotations

import csv
import os
import secrets
import socket
import threading
import time
from pathlib import Path

import nbformat
import pytest

from bpcourse.grading.cli import main
from bpcourse.grading.report import read_journal
from bpcourse.grading.sandbox import BUBBLEWRAP, describe_mode, sandbox_mode

ROOT = Path(__file__).resolve().parents[1]
NAME = "05_activations_and_losses"
SOLUTION = ROOT / "solutions" / f"{NAME}.ipynb"
EXERCISE = ROOT / "exercises" / f"{NAME}.ipynb"
TOKEN = "bpgradeattack" + secrets.token_hex(6)

MODE = sandbox_mode(True)
if MODE.name != BUBBLEWRAP:
    if os.environ.get("CI"):
        pytest.fail(f"CI needs the bubblewrap sandbox: {describe_mode(MODE)}", pytrace=False)
    pytest.skip(f"no bubblewrap sandbox here: {MODE.why}", allow_module_level=True)


def with_cell(nb, source):
    nb.cells.insert(1, nbformat.v4.new_code_cell(source))
    return nb


def answer(nb, item):
    return next(
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == f"{item}_answer"
    )


def solution():
    return nbformat.read(SOLUTION, as_version=4)


def blank():
    return nbformat.read(EXERCISE, as_version=4)


class Listener:
    """A TCP server on the host's loopback that counts the connections it gets."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                continue

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()


def attacks(subs: Path, out: Path, outside: Path, port: int) -> dict[str, object]:
    targets = (str(out / "grades.csv"), str(outside / "daemon"))
    loop = (
        "import time\n"
        "for _ in range(150):\n"
        "    time.sleep(0.2)\n"
        f"    for p in {targets!r}:\n"
        "        try: open(p, 'w').write('hacked')\n"
        "        except OSError: pass\n"
        f"# {TOKEN}"
    )
    daemon = (
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', {loop!r}], start_new_session=True,\n"
        "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    )
    spy = (
        "import os, re, glob\n"
        "seen = []\n"
        "for pid in os.listdir('/proc'):\n"
        "    if pid.isdigit():\n"
        "        for f in ('environ', 'cmdline'):\n"
        "            try: seen.append(open(f'/proc/{pid}/{f}', 'rb').read().decode('latin-1'))\n"
        "            except OSError: pass\n"
        "home = os.path.expanduser('~')\n"
        "found = [p for s in seen for p in re.findall(r'/[^\\x00 ]*submissions', s)]\n"
        f"found += [{str(subs)!r}]\n"
        "stolen = None\n"
        "for folder in found:\n"
        "    for path in glob.glob(folder + '/correct.ipynb'):\n"
        "        try: stolen = open(path).read()\n"
        "        except OSError: pass\n"
        "def tanh_backward(dA, A):\n"
        "    raise NotImplementedError()\n"
        "if stolen:\n"
        "    import json\n"
        "    for cell in json.loads(stolen)['cells']:\n"
        "        if 'def tanh_backward' in ''.join(cell['source']):\n"
        "            exec(''.join(cell['source']))\n"
        f"open({str(outside / 'spy')!r}, 'w').write(str(len(seen)))\n"
    )
    network = (
        "import socket\n"
        "for host in ('127.0.0.1', 'localhost', '10.0.2.2', '8.8.8.8'):\n"
        "    try:\n"
        f"        socket.create_connection((host, {port}), timeout=1).close()\n"
        f"        open({str(outside / 'network')!r}, 'w').write(host)\n"
        "    except OSError:\n"
        "        pass\n"
    )
    writer = (
        "import os\n"
        "targets = [\n"
        f"    {str(out / 'grades.csv')!r}, {str(out / 'feedback' / 'correct.txt')!r},\n"
        f"    {str(subs / 'correct.ipynb')!r}, {str(outside / 'written')!r},\n"
        "    '/etc/bpgrade-attack', os.path.expanduser('~/../bpgrade-attack'),\n"
        f"    {str(ROOT / 'bpcourse' / 'checking' / 'attack.py')!r},\n"
        "]\n"
        "for p in targets:\n"
        "    try: open(p, 'w').write('hacked')\n"
        "    except OSError: pass\n"
        "open('/tmp/mine', 'w').write('private tmp works')\n"
        "open('scratch-file', 'w').write('scratch works')\n"
    )
    evil = solution()
    answer(evil, "tanh_backward").source = (
        "class Evil:\n"
        "    def __reduce__(self):\n"
        f"        return (open, ({str(outside / 'unpickled')!r}, 'w'))\n"
        "def tanh_backward(dA, A):\n"
        "    return Evil()"
    )
    huge = solution()
    answer(
        huge, "relu_backward"
    ).source = "def relu_backward(dA, Z):\n    return [[0.5]] * 15_000_000"
    surrogate = solution()
    answer(
        surrogate, "tanh_backward"
    ).source = "def tanh_backward(dA, A):\n    raise ValueError('bad \\udcff byte')"
    return {
        "correct": solution(),
        "daemon": with_cell(solution(), daemon),
        "spy": spy_notebook(spy),
        "network": with_cell(solution(), network),
        "writer": with_cell(solution(), writer),
        "evil_return": evil,
        "huge_result": huge,
        "surrogate": surrogate,
        "wrong_after_evil": nbformat.read(EXERCISE, as_version=4),
    }


def spy_notebook(spy: str):
    """The blank exercise whose tanh_backward answer is copied from a classmate's file."""
    nb = blank()
    answer(nb, "tanh_backward").source = spy
    return nb


def processes_with(text: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode("latin-1")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{pid}: {cmdline[:200]}")
    return found


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("attacks")
    subs, out, outside = base / "submissions", base / "out", base / "outside"
    for folder in (subs, outside):
        folder.mkdir()
    for leftover in (Path("/etc/bpgrade-attack"), ROOT / "bpcourse" / "checking" / "attack.py"):
        leftover.unlink(missing_ok=True)  # from a run without the sandbox
    listener = Listener()
    for student, nb in attacks(subs, out, outside, listener.port).items():
        nbformat.write(nb, subs / f"{student}.ipynb")
    before = (subs / "correct.ipynb").read_bytes()
    start = time.monotonic()
    args = ["--jobs", "2", "--timeout", "20", "--exercise", NAME, "--no-progress"]
    code = main(["grade", str(subs), "--out", str(out), *args])
    seconds = time.monotonic() - start
    assert code == 0
    time.sleep(3)  # a surviving daemon would have written by now
    listener.close()
    yield {
        "out": out,
        "outside": outside,
        "records": read_journal(out),
        "connections": listener.connections,
        "correct_before": before,
        "correct_after": (subs / "correct.ipynb").read_bytes(),
        "seconds": seconds,
    }


def test_scores_are_right_whatever_the_classmates_do(batch):
    records = batch["records"]
    for student in ("correct", "daemon", "network", "writer"):
        assert records[student].score == 14, (student, records[student].items)
        assert records[student].sandbox == BUBBLEWRAP
    assert records["spy"].score == 0  # the classmate's answer could not be read
    assert records["wrong_after_evil"].score == 0


def test_a_detached_process_does_not_outlive_grading(batch):
    assert not processes_with(TOKEN), processes_with(TOKEN)
    assert "hacked" not in (batch["out"] / "grades.csv").read_text()
    assert not (batch["outside"] / "daemon").exists()
    with open(batch["out"] / "grades.csv") as f:
        assert {r["student_id"] for r in csv.DictReader(f)} >= {"correct", "daemon"}


def test_no_grader_process_or_kernel_is_left(batch):
    assert not processes_with(str(batch["out"].parent)), "a process of this batch is alive"


def test_the_grader_and_the_classmates_are_invisible(batch):
    assert not (batch["outside"] / "spy").exists()  # nothing outside scratch is writable
    spy = batch["records"]["spy"]
    assert {it.status for it in spy.items} == {"not attempted"}


def test_no_network(batch):
    assert batch["connections"] == 0
    assert not (batch["outside"] / "network").exists()


def test_nothing_is_written_outside_the_scratch_folder(batch):
    assert not (batch["outside"] / "written").exists()
    assert batch["correct_before"] == batch["correct_after"]
    assert "hacked" not in (batch["out"] / "feedback" / "correct.txt").read_text()
    assert not Path("/etc/bpgrade-attack").exists()
    assert not (ROOT / "bpcourse" / "checking" / "attack.py").exists()


def test_returned_objects_are_data_and_run_no_code(batch):
    evil = batch["records"]["evil_return"]
    assert not (batch["outside"] / "unpickled").exists()
    tanh = {it.item: it for it in evil.items}["tanh_backward"]
    assert tanh.status in ("error", "failed") and tanh.points == 0
    assert evil.score == 12  # the other items are right
    huge = {it.item: it for it in batch["records"]["huge_result"].items}["relu_backward"]
    assert huge.points == 0 and huge.status in ("error", "failed")
    assert batch["records"]["huge_result"].score == 12


def test_text_that_does_not_encode_is_written_safely(batch):
    r = batch["records"]["surrogate"]
    tanh = {it.item: it for it in r.items}["tanh_backward"]
    assert tanh.status == "error" and "\\udcff" in tanh.messages[0]
    assert r.score == 12
    assert "surrogate" in (batch["out"] / "grades.csv").read_text(encoding="utf-8")


def test_check_sandbox_reports_bubblewrap(capsys):
    assert main(["grade", "--check-sandbox"]) == 0
    assert "bubblewrap" in capsys.readouterr().out
    assert main(["grade", "--check-sandbox", "--no-sandbox"]) == 0
    assert "NONE" in capsys.readouterr().out


def test_private_tmp_and_scratch_are_writable_inside():
    """Run one kernel by hand: it can write its scratch folder and its own /tmp only."""
    from bpcourse.grading.run import Kernel, Limits

    kernel = Kernel(Limits(timeout=20))
    try:
        kernel.start()
        blocked = kernel.run(f"open({str(kernel.inbox / 'forged')!r}, 'w')")
        assert blocked.error in ("OSError", "PermissionError"), blocked  # the calls' inputs
        run = kernel.run(
            "import os\nopen('/tmp/x', 'w').write('1'); open('here', 'w').write('1')\n"
            "print(os.getpid(), sorted(p for p in os.listdir('/proc') if p.isdigit()))\n"
            "print(os.path.exists(os.path.expanduser('~')), os.listdir('/'))"
        )
        assert not run.error, run
        pid, *_ = run.stdout.split()
        assert int(pid) <= 3  # a PID namespace of its own
        assert (kernel.workdir / "here").exists()
        assert not Path("/tmp/x").exists() or Path("/tmp/x").read_text() != "1"
    finally:
        kernel.close()
    assert not kernel.root.exists()


def test_the_attacks_are_valid_python(tmp_path):
    """A fixture with a syntax error would "fail to escape" for the wrong reason."""
    import ast

    for student, nb in attacks(tmp_path, tmp_path, tmp_path, 1).items():
        for cell in nb.cells:
            if cell.cell_type == "code":
                ast.parse(cell.source, filename=student)
