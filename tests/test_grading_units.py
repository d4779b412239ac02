"""The grader's parts that need no kernel: records, tables, submissions, channel, reading."""

from __future__ import annotations

import csv
import json
import os
import sys
import unicodedata
from pathlib import Path

import nbformat
import numpy as np
import pytest

from bpcourse.grading import channel
from bpcourse.grading.match import Ungradable, course_exercises, load_exercises, read_submission
from bpcourse.grading.model import GradeRecord, ItemRecord, safe_text, student_id
from bpcourse.grading.report import (
    append_record,
    read_journal,
    write_feedback,
    write_grades,
    write_summary,
)
from bpcourse.grading.submissions import collect

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "05_activations_and_losses.ipynb"


# --- records and tables --------------------------------------------------------------------


def test_text_with_lone_surrogates_is_made_safe():
    text = safe_text("bad \udcff byte")
    assert text.encode("utf-8") and "\\udcff" in text
    record = GradeRecord("s\udcff", "f", problems=["x\ud800"])
    json.dumps(record.to_dict()).encode("utf-8")
    assert GradeRecord.from_dict(json.loads(json.dumps(record.to_dict()))) == record


def test_student_ids_are_nfc(tmp_path):
    nfd = unicodedata.normalize("NFD", "josé")
    assert student_id(tmp_path / f"{nfd}.ipynb") == unicodedata.normalize("NFC", "josé")


def record(sid, score=1.0, **kw):
    items = [ItemRecord("a", score, 2, "passed" if score == 2 else "failed", ["likely mistake: x"])]
    r = GradeRecord(sid, f"/subs/{sid}.ipynb", "h", "05_x", items, **kw)
    r.total()
    return r


def test_every_submission_has_a_row_and_formulas_are_neutralised(tmp_path):
    records = {
        '=HYPERLINK("http://x")': record('=HYPERLINK("http://x")'),
        "+cmd": GradeRecord("+cmd", "/subs/+cmd.ipynb", ungradable="the file is empty"),
        "-1": record("-1", 2.0),
        "@sum": GradeRecord("@sum", "/subs/@sum.ipynb", ungradable="=not JSON"),
    }
    write_grades(tmp_path, records)
    with open(tmp_path / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4
    for row in rows:
        for value in (row["student_id"], row["reason"]):
            assert not value.startswith(("=", "+", "-", "@")), row
    empty = next(r for r in rows if r["student_id"] == "'+cmd")
    assert empty["score"] == "0.0" and empty["status"] == "ungradable"
    assert empty["reason"] == "the file is empty" and empty["a"] == "0.0"
    with open(tmp_path / "ungradable.csv") as f:
        assert len(list(csv.DictReader(f))) == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".grades")]  # no temp left


def test_journal_round_trip_and_torn_line(tmp_path):
    append_record(tmp_path, record("ann"))
    with open(tmp_path / ".journal.jsonl", "a") as f:
        f.write('{"student_id": "torn"')
    append_record(tmp_path, record("bob", 2.0))
    found = read_journal(tmp_path)
    assert set(found) == {"ann", "bob"} and found["bob"].score == 2


def test_feedback_file_names_cannot_escape(tmp_path):
    write_feedback(tmp_path, record("../../evil"))
    assert [p.parent for p in tmp_path.rglob("*.txt")] == [tmp_path / "feedback"]


def test_summary_counts_diagnoses_per_item(tmp_path):
    graded = [record("a", 2.0), record("b"), record("c")]
    write_summary(tmp_path, graded)
    with open(tmp_path / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    counts = {r["diagnosis"]: int(r["submissions"]) for r in rows}
    assert counts == {"passed": 1, "x": 2}
    assert (tmp_path / "summary.png").read_bytes()[:4] == b"\x89PNG"


# --- which files, which ids ----------------------------------------------------------------


def test_duplicates_and_links_are_resolved_whatever_the_order(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    nfc, nfd = unicodedata.normalize("NFC", "josé"), unicodedata.normalize("NFD", "josé")
    (a / f"{nfc}.ipynb").write_text("{}")
    (b / f"{nfd}.ipynb").write_text("{}")
    os.utime(a / f"{nfc}.ipynb", (1, 1))
    (a / "ann.ipynb").write_text("{}")
    (b / "ann.ipynb").write_text("{}")
    os.utime(a / "ann.ipynb", (5, 5))
    os.utime(b / "ann.ipynb", (5, 5))
    (b / "copycat.ipynb").symlink_to(a / "ann.ipynb")
    one, two = collect([a, b]), collect([b, a])
    assert [(s.student_id, s.path, s.problem) for s in one] == [
        (s.student_id, s.path, s.problem) for s in two
    ]
    graded = {s.student_id: s.path for s in one if not s.problem}
    assert graded == {"ann": a / "ann.ipynb", nfc: b / f"{nfd}.ipynb"}  # newest; tie: path
    problems = {s.student_id: s.problem for s in one if s.problem}
    assert "symbolic link" in problems["copycat"]
    assert "duplicate 1" in " ".join(problems) and len(problems) == 3


# --- the channel ---------------------------------------------------------------------------


def test_channel_round_trip(tmp_path):
    value = {
        "a": np.arange(6.0).reshape(2, 3),
        "t": (1, 2.5, "x", None, True),
        "n": np.float64(1.5),
        "i": np.int32(3),
        "z": 1 + 2j,
        "inf": [float("inf"), float("nan")],
        "map": {1: "one", (2, 3): [np.zeros(2, dtype=np.float32)]},
    }
    channel.write_value(tmp_path / "v", value)
    got = channel.read_value(tmp_path / "v")
    assert np.array_equal(got["a"], value["a"]) and got["t"] == value["t"]
    assert isinstance(got["n"], np.float64) and isinstance(got["i"], np.int32)
    assert got["z"] == 1 + 2j and np.isinf(got["inf"][0]) and np.isnan(got["inf"][1])
    assert got["map"][1] == "one" and got["map"][(2, 3)][0].dtype == np.float32
    assert not list((tmp_path / "v").glob("*.pkl"))


def test_channel_sends_checker_functions_to_the_kernel_only(tmp_path):
    A = np.array([[2.0, 0.0], [0.0, 1.0]])

    def grad(w):
        return A @ np.asarray(w, dtype=np.float64)

    channel.write_value(tmp_path / "f", [grad, 3.0], functions=True)
    with pytest.raises(channel.ChannelError):
        channel.read_value(tmp_path / "f")  # the grader never reads a function
    fn, x = channel.read_value(tmp_path / "f", functions=True)
    assert np.allclose(fn(np.ones(2)), [2.0, 1.0]) and x == 3.0
    with pytest.raises(channel.ChannelError):
        channel.write_value(tmp_path / "g", [grad])


@pytest.mark.parametrize(
    "tree",
    [
        {"__reduce__": ["os.system", "true"]},
        {"__nd__": -1},
        {"__np__": ["|O", 1]},
        [[0.5]] * (channel.NODE_LIMIT + 1),
    ],
)
def test_channel_refuses_what_is_not_plain_data(tmp_path, tree):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "value.json").write_text(json.dumps(tree))
    with pytest.raises(channel.ChannelError):
        channel.read_value(folder)


def test_channel_refuses_links_object_arrays_and_big_files(tmp_path, monkeypatch):
    folder = tmp_path / "v"
    channel.write_value(folder, [np.zeros(3)])
    (folder / "0.npy").unlink()
    (folder / "0.npy").symlink_to(tmp_path / "secret.npy")
    np.save(tmp_path / "secret.npy", np.ones(3))
    with pytest.raises(channel.ChannelError, match="open"):
        channel.read_value(folder)
    (folder / "0.npy").unlink()
    np.save(folder / "0.npy", np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(channel.ChannelError):
        channel.read_value(folder)
    monkeypatch.setattr(channel, "JSON_LIMIT", 10)
    with pytest.raises(channel.ChannelError, match="limit"):
        channel.read_value(folder)


@pytest.mark.parametrize("name", channel.BIT_GENERATORS)
def test_channel_sends_a_generator_as_its_state(tmp_path, name):
    rng = np.random.Generator(getattr(np.random, name)(2026))
    rng.normal(size=3)  # not at the start
    channel.write_value(tmp_path / "v", [rng, 1.0])
    text = (tmp_path / "v" / "value.json").read_text()
    assert "__rng__" in text and name in text
    got, x = channel.read_value(tmp_path / "v")
    assert isinstance(got, np.random.Generator) and got is not rng and x == 1.0
    assert type(got.bit_generator) is type(rng.bit_generator)
    assert np.array_equal(got.normal(size=5), rng.normal(size=5))


def test_pcg64_state_integers_are_exact(tmp_path):
    rng = np.random.default_rng(7)
    big = rng.bit_generator.state["state"]["state"]
    assert big > 2**100  # a JSON float would round it
    channel.write_value(tmp_path / "v", rng)
    got = channel.read_value(tmp_path / "v")
    assert got.bit_generator.state == rng.bit_generator.state


def test_a_generator_advanced_in_the_kernel_advances_the_checkers(tmp_path):
    """The grader's side of a call: the argument's state after the call is copied back."""
    from bpcourse.grading.record import _copy_back

    def kernel_call(rng):  # what _bpgrade_call does with the folders
        channel.write_value(tmp_path / "in", [rng])
        (theirs,) = channel.read_value(tmp_path / "in")
        mask = theirs.random((4, 5)) >= 0.5
        channel.write_value(tmp_path / "out", {"value": mask, "args": [theirs]})
        out = channel.read_value(tmp_path / "out")
        for d in ("in", "out"):
            for f in (tmp_path / d).iterdir():
                f.unlink()
        _copy_back(rng, out["args"][0])
        return out["value"]

    rng = np.random.default_rng(90)
    before = rng.bit_generator.state
    first, second = kernel_call(rng), kernel_call(rng)
    assert rng.bit_generator.state != before
    assert not np.array_equal(first, second)  # two calls, two masks
    local = np.random.default_rng(90)
    assert np.array_equal(first, local.random((4, 5)) >= 0.5)
    assert np.array_equal(second, local.random((4, 5)) >= 0.5)
    assert rng.bit_generator.state == local.bit_generator.state  # as if called in-process


class _Custom(np.random.PCG64):
    pass


def test_channel_refuses_unknown_bit_generators(tmp_path):
    with pytest.raises(channel.ChannelError, match="only PCG64"):
        channel.write_value(tmp_path / "a", [np.random.Generator(_Custom(1))])
    folder = tmp_path / "b"
    folder.mkdir()
    tree = {"__rng__": ["os.system", {"bit_generator": "os.system"}]}
    (folder / "value.json").write_text(json.dumps(tree))
    with pytest.raises(channel.ChannelError, match="refused"):
        channel.read_value(folder)


def _pcg(state: object, inc: object = {"__int__": "1"}, name: str = "PCG64") -> dict:
    return {
        "__rng__": [
            name,
            {
                "bit_generator": "PCG64",
                "state": {"state": state, "inc": inc},
                "has_uint32": {"__int__": "0"},
                "uinteger": {"__int__": "0"},
            },
        ]
    }


@pytest.mark.parametrize(
    "tree",
    [
        _pcg({"__int__": "9" * 5000}),  # huge
        _pcg({"__int__": str(2**128)}),  # one over 128 bits
        _pcg({"__int__": "-1"}),
        _pcg({"__int__": "1e5"}),
        _pcg(12345),  # a bare JSON number, not the tag
        _pcg({"__int__": "1"}, inc={"__nd__": 0}),  # no such array
        _pcg({"__int__": "1"}, name="MT19937"),  # the state names another bit generator
        {"__rng__": ["PCG64", {"bit_generator": "PCG64"}]},  # missing parts
        {"__rng__": ["PCG64", {"bit_generator": "PCG64", "state": {"a": {"b": {"c": {}}}}}]},
        {"__rng__": ["PCG64", {f"k{i}": "x" for i in range(100)}]},
        {"__rng__": ["PCG64"]},
    ],
)
def test_channel_refuses_a_huge_or_malformed_generator_state(tmp_path, tree):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "value.json").write_text(json.dumps(tree))
    with pytest.raises(channel.ChannelError):
        channel.read_value(folder)


def test_channel_refuses_a_big_array_in_a_generator_state(tmp_path):
    folder = tmp_path / "bad"
    channel.write_value(folder, np.random.Generator(np.random.MT19937(3)))
    np.save(folder / "0.npy", np.zeros(10**6, dtype=np.uint32), allow_pickle=False)
    with pytest.raises(channel.ChannelError, match="not small"):
        channel.read_value(folder)


def test_no_pickle_in_the_grader():
    for path in (ROOT / "bpcourse" / "grading").glob("*.py"):
        text = path.read_text()
        assert "import pickle" not in text and "pickle.load" not in text, path
    assert "KERNEL_CHECKED" not in (ROOT / "bpcourse" / "grading" / "record.py").read_text()


# --- reading a submission ------------------------------------------------------------------


def test_stored_outputs_are_stripped_before_the_size_limit(tmp_path):
    nb = nbformat.read(SOLUTION, as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="x" * 25_000_000)]
    path = tmp_path / "big.ipynb"
    nbformat.write(nb, path)
    assert path.stat().st_size > 25_000_000
    got = read_submission(path)
    assert all(not c.get("outputs") for c in got.cells)


def test_old_nbformat_is_upgraded(tmp_path):
    nb = nbformat.read(SOLUTION, as_version=4)
    v3 = nbformat.convert(nb, 3)
    path = tmp_path / "v3.ipynb"
    path.write_text(nbformat.writes(v3, version=3))
    got = read_submission(path)
    assert got.nbformat == 4 and got.metadata["bpcourse_upgraded_from"] == 3
    sources = [c.source for c in got.cells if c.cell_type == "code"]
    assert any("def tanh_backward" in s for s in sources)


def test_invalid_utf8_and_bad_files(tmp_path):
    nb = nbformat.read(SOLUTION, as_version=4)
    raw = nbformat.writes(nb).replace(
        '"cells": [',
        '"cells": [{"cell_type": "markdown", "metadata": {}, "source": "\\ud800 lone"}, ',
        1,
    )
    path = tmp_path / "s.ipynb"
    path.write_bytes(raw.encode("utf-8").replace(b"tanh", b"tanh\xff", 0))
    read_submission(path).cells[0].source.encode("utf-8")
    (tmp_path / "e.ipynb").write_text("")
    with pytest.raises(Ungradable, match="empty"):
        read_submission(tmp_path / "e.ipynb")
    (tmp_path / "n.ipynb").write_text("not { json")
    with pytest.raises(Ungradable, match="not JSON"):
        read_submission(tmp_path / "n.ipynb")


def test_course_option_and_any_exercise_found(tmp_path):
    assert course_exercises(None).is_dir()
    folder = tmp_path / "course" / "exercises"
    folder.mkdir(parents=True)
    source = ROOT / "exercises" / "05_activations_and_losses.ipynb"
    (folder / "05_activations_and_losses.ipynb").write_bytes(source.read_bytes())
    (folder / "07_new.ipynb").write_text("{}")  # an exercise being written is skipped
    assert course_exercises(tmp_path / "course") == folder
    with pytest.warns(UserWarning, match="07_new"):
        found = load_exercises(folder)
    assert list(found) == ["05_activations_and_losses"]
    assert sum(i.points for i in found["05_activations_and_losses"].items) == 14


def test_unused_demonstration_loops_of_the_exercise_are_left_out():
    from bpcourse.grading.slim import slim

    demo = "import math\nfor k in range(10**9):\n    acc = k\nx = 2"
    mine = "def f(y):\n    return y * x"
    uses = "def g(y, k=0):\n    return acc + x + y"
    assert slim([demo, mine], [True, False]) == ["import math\nx = 2", mine]
    assert slim([demo, uses], [True, False]) == [demo, uses]  # acc is read: kept
    assert slim([demo, mine], [False, False]) == [demo, mine]  # the student's: kept
    local = "def h(k):\n    acc = 1\n    return acc + k"  # its own acc, not the loop's
    assert slim([demo, local], [True, False])[0] == "import math"  # x is not read either


def test_only_displays_and_unused_names_are_left_out():
    from bpcourse.grading.slim import slim

    demo = (
        "import numpy as np\nnp.random.seed(0)\ndata = np.ones(3)\ndata[0] = 5\n"
        "big = np.ones(10)\nprint(big)\nbig.shape\nshown = big.sum()"
    )
    kept = slim([demo, "def f():\n    return data"], [True, False])[0]
    # displays go; `big` stays: it calls np, which what runs reads (np's state may change)
    assert kept == demo.replace("print(big)\nbig.shape\n", "")
    loader = "digits = load_digits()\nprint(digits)"
    assert slim([loader, "def f():\n    return 1"], [True, False])[0] == ""
    assert slim([loader], [True], needed=("digits",))[0] == "digits = load_digits()"


def test_a_linked_result_folder_is_refused(tmp_path):
    scratch, elsewhere = tmp_path / "scratch", tmp_path / "elsewhere"
    (scratch / "calls").mkdir(parents=True)
    channel.write_value(elsewhere / "x", {"secret": 1})
    (scratch / "calls" / "x").symlink_to(elsewhere / "x")
    with pytest.raises(channel.ChannelError, match="result folder"):
        channel.read_value(scratch / "calls" / "x", base=scratch)
    (scratch / "calls" / "x").unlink()
    (scratch / "calls").rmdir()
    (scratch / "calls").symlink_to(elsewhere)
    with pytest.raises(channel.ChannelError, match="result folder"):
        channel.read_value(scratch / "calls" / "x", base=scratch)
    channel.write_value(scratch / "ok", [1])
    assert channel.read_value(scratch / "ok", base=scratch) == [1]


def test_the_kernel_command_names_python_without_dot_dot(tmp_path, monkeypatch):
    """`../.venv/bin/python` names a folder the sandbox does not show: the kernelspec and the
    sandbox probe use the absolute, normalised path (not the resolved one, which loses a venv)."""
    from bpcourse.grading.run import Limits, write_kernelspec
    from bpcourse.grading.sandbox import interpreter

    here = Path(os.path.abspath(sys.executable))
    dotted = here.parent / ".." / here.parent.name / here.name
    monkeypatch.setattr(sys, "executable", str(dotted))
    assert interpreter() == str(here)
    spec = write_kernelspec(tmp_path, Limits(), prefix=["bwrap", "--"])
    argv = json.loads((spec / "bpcourse-grader" / "kernel.json").read_text())["argv"]
    assert argv[2] == str(here) and ".." not in argv[2]


def test_the_writer_stops_at_the_readers_node_limit(tmp_path):
    """A kernel returning a list of millions of items is refused at once, in the kernel,
    with the reader's message; a value just under the limit still crosses."""
    with pytest.raises(channel.ChannelError, match=f"more than {channel.NODE_LIMIT} parts"):
        channel.write_value(tmp_path / "huge", [0.5] * 15_000_000)
    assert not (tmp_path / "huge" / "value.json").exists()
    fits = [0.5] * (channel.NODE_LIMIT - 1)  # the list itself is one more part
    channel.write_value(tmp_path / "fits", fits)
    assert channel.read_value(tmp_path / "fits") == fits
