"""The instructor's grader, `bpcourse grade`, on submissions built from the real notebooks.

One batch of submissions of exercise 05 (correct, blank, wrong, and every kind of bad input)
is graded once, with two jobs and a 5 s cell timeout; the tests read its results.
"""

from __future__ import annotations

import copy
import csv
import json
import unicodedata
from pathlib import Path

import nbformat
import pytest

from bpcourse.grading.cli import main
from bpcourse.grading.report import NBGRADER_COLUMNS, read_journal

ROOT = Path(__file__).resolve().parents[1]
NAME = "05_activations_and_losses"
SOLUTION = ROOT / "solutions" / f"{NAME}.ipynb"
EXERCISE = ROOT / "exercises" / f"{NAME}.ipynb"
ITEMS = [
    "tanh_backward",
    "relu_backward",
    "softmax_cross_entropy_grad",
    "stable_logsumexp",
    "bce_with_logits",
    "q_softmax_row_sum",
    "q_sigmoid_max_slope",
    "q_dead_relu",
]


def solution():
    return nbformat.read(SOLUTION, as_version=4)


def index(nb, grade_id):
    return next(
        i
        for i, c in enumerate(nb.cells)
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )


def answer(nb, item):
    return nb.cells[index(nb, f"{item}_answer")]


def with_cell(nb, source, after=0):
    nb.cells.insert(after + 1, nbformat.v4.new_code_cell(source))
    return nb


def submissions():
    """{student: notebook or raw text}: the fixtures of the batch."""
    subs: dict[str, object] = {"correct": solution(), "blank": nbformat.read(EXERCISE, 4)}

    wrong = solution()
    answer(wrong, "tanh_backward").source = answer(wrong, "tanh_backward").source.replace(
        "dA * (1.0 - A**2)", "dA * (1.0 - A)"
    )
    subs["wrong"] = wrong

    loop = solution()
    answer(
        loop, "tanh_backward"
    ).source = "def tanh_backward(dA, A):\n    while True:\n        pass"
    answer(loop, "relu_backward").source += "\nwhile True:\n    pass"
    subs["infinite_loop"] = loop

    bomb = solution()
    answer(bomb, "tanh_backward").source += "\nhoard = np.ones(2**31)"
    answer(
        bomb, "relu_backward"
    ).source = "def relu_backward(dA, Z):\n    return np.ones((2**20, 2**12)) * dA.sum()"
    subs["memory_bomb"] = bomb

    exits = solution()
    answer(exits, "tanh_backward").source += "\nimport sys\nsys.exit(1)"
    answer(
        exits, "relu_backward"
    ).source = "def relu_backward(dA, Z):\n    import os\n    os._exit(1)"
    subs["sys_exit"] = exits

    dies = solution()
    answer(dies, "tanh_backward").source += "\nimport os\nos._exit(3)"
    subs["kernel_dies"] = dies

    deleted = solution()
    del deleted.cells[index(deleted, "tanh_backward_answer")]
    subs["deleted"] = deleted

    dup = solution()
    first = copy.deepcopy(answer(dup, "tanh_backward"))
    first.source = "def tanh_backward(dA, A):\n    return dA"
    first["id"] = "duplicate-copy"
    dup.cells.insert(index(dup, "tanh_backward_answer"), first)
    subs["duplicated"] = dup

    retyped = solution()
    answer(retyped, "tanh_backward").metadata = {}
    relu = answer(retyped, "relu_backward")
    retyped.cells[index(retyped, "relu_backward_answer")] = nbformat.v4.new_markdown_cell(
        relu.source, metadata=relu.metadata
    )
    check_cell = retyped.cells[index(retyped, "stable_logsumexp")]
    check_cell.source = "print('✅ stable_logsumexp: passed (2/2 points)')"
    subs["retyped"] = retyped

    patched = nbformat.read(EXERCISE, 4)
    with_cell(
        patched,
        (
            "import numpy as np\nimport bpcourse.checking as c\n"
            "import bpcourse.checking.compare as cc\n"
            "from bpcourse.checking.result import Result\n"
            "c.check = lambda gid, *a: Result(gid, 2, 2, True, [], 'passed')\n"
            "cc.compare_array = lambda *a, **k: []\n"
            "np.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True\n"
            "np.testing.assert_allclose = lambda *a, **k: None"
        ),
    )
    subs["monkeypatch"] = patched

    fake = nbformat.read(EXERCISE, 4)
    with_cell(fake, "\n".join(f"print('✅ {i}: passed (2/2 points)')" for i in ITEMS))
    subs["fake_pass"] = fake

    writer = solution()
    with_cell(
        writer,
        (
            "import os\nos.makedirs('out/feedback', exist_ok=True)\n"
            "for p in ('grades.csv', 'out/grades.csv', 'out/feedback/writer.txt',\n"
            "          '../out/grades.csv'):\n"
            "    try:\n        open(p, 'w').write('hacked')\n    except OSError:\n        pass"
        ),
    )
    subs["writes_output"] = writer

    bare = solution()
    bare.metadata = {}
    for cell in bare.cells:
        cell.metadata = {}
    subs["no_metadata"] = bare

    huge = solution()
    with_cell(huge, "print('x' * 5_000_000)")
    subs["huge_output"] = huge

    subs["other_exercise"] = nbformat.read(
        ROOT / "solutions" / "06_training_a_multilayer_perceptron.ipynb", 4
    )
    big = solution()
    big.cells[1].outputs = [nbformat.v4.new_output("stream", text="y" * 25_000_000 + "\udcff")]
    subs["big_outputs"] = json.dumps(big)  # ASCII: the lone surrogate as an escape
    subs["old_format"] = nbformat.writes(nbformat.convert(solution(), 3), version=3)
    bad = nbformat.writes(solution()).encode("utf-8")
    subs["bad_bytes"] = bad.replace(b"# Exercise", b"# Exercise \xff\xfe", 1)
    subs['=HYPERLINK("evil.example")'] = solution()
    subs[unicodedata.normalize("NFC", "josé")] = solution()
    subs[unicodedata.normalize("NFD", "josé")] = solution()
    subs["not_json"] = "this is { not a notebook"
    subs["empty"] = ""
    return subs


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("grading")
    folder = base / "submissions"
    folder.mkdir()
    for student, nb in submissions().items():
        path = folder / f"{student}.ipynb"
        if isinstance(nb, bytes):
            path.write_bytes(nb)
        elif isinstance(nb, str):
            path.write_text(nb)
        else:
            nbformat.write(nb, path)
    out = base / "out"
    code = main(
        [
            "grade",
            str(folder),
            "--out",
            str(out),
            "--jobs",
            "2",
            "--timeout",
            "5",
            "--exercise",
            NAME,
            "--no-progress",
        ]
    )
    assert code == 0
    return out, read_journal(out)


def items(record):
    return {it.item: it for it in record.items}


def feedback(out, student):
    return (out / "feedback" / f"{student}.txt").read_text()


def assert_others_pass(record, *but):
    for name, it in items(record).items():
        if name not in but:
            assert it.status == "passed", (name, it)


def test_correct_submission_gets_full_points(batch):
    out, records = batch
    r = records["correct"]
    assert r.score == r.max_score == 14 and not r.repairs and not r.problems
    assert (out / "feedback" / "correct.html").read_text().count("passed") >= 5


def test_blank_exercise_gets_zero_not_attempted(batch):
    r = batch[1]["blank"]
    assert r.score == 0
    assert {it.status for it in r.items} == {"not attempted"}


def test_wrong_answer_gets_partial_points_and_a_diagnosis(batch):
    out, records = batch
    r = records["wrong"]
    assert r.score == 12
    assert items(r)["tanh_backward"].status == "failed"
    assert items(r)["tanh_backward"].messages
    assert items(r)["tanh_backward"].messages[0] in feedback(out, "wrong")


def test_infinite_loop_is_stopped_and_reported(batch):
    _out, records = batch
    r = records["infinite_loop"]
    assert items(r)["tanh_backward"].status == "error"
    assert "Timeout" in items(r)["tanh_backward"].messages[0]
    assert any("longer than 5 s" in p for p in r.problems)
    assert_others_pass(r, "tanh_backward")


def test_memory_bomb_becomes_memory_error(batch):
    r = batch[1]["memory_bomb"]
    assert any("MemoryError" in p for p in r.problems)
    assert "MemoryError" in items(r)["relu_backward"].messages[0]
    assert_others_pass(r, "relu_backward")


def test_sys_exit_and_os_exit_are_reported(batch):
    _out, records = batch
    r = records["sys_exit"]
    assert any("sys.exit" in p for p in r.problems)
    assert "kernel died" in items(r)["relu_backward"].messages[0]
    assert_others_pass(r, "relu_backward")  # the kernel was restarted for the rest
    dies = records["kernel_dies"]
    assert any("killed the kernel" in p for p in dies.problems)
    assert items(dies)["tanh_backward"].status == "error"
    assert_others_pass(dies, "tanh_backward")


def test_deleted_duplicated_and_retyped_cells_are_repaired(batch):
    out, records = batch
    deleted = records["deleted"]
    assert items(deleted)["tanh_backward"].status == "not attempted"
    assert any("missing" in m for m in deleted.repairs)
    assert_others_pass(deleted, "tanh_backward")
    dup = records["duplicated"]
    assert dup.score == 14 and any("2 times" in m for m in dup.repairs)
    retyped = records["retyped"]
    assert retyped.score == 14
    text = "\n".join(retyped.repairs)
    assert "no nbgrader metadata" in text and "markdown" in text and "edited" in text
    assert "no nbgrader metadata" in feedback(out, "retyped")


def test_monkeypatching_and_fake_prints_change_nothing(batch):
    records = batch[1]
    for student in ("monkeypatch", "fake_pass"):
        assert records[student].score == 0, student
        assert {it.status for it in records[student].items} == {"not attempted"}


def test_writing_into_the_output_folder_has_no_effect(batch):
    out, records = batch
    assert records["writes_output"].score == 14
    assert "hacked" not in (out / "grades.csv").read_text()
    assert not (out / "feedback" / "writer.txt").exists()
    assert not (out / "out").exists()


def test_bad_files_are_reported_and_odd_notebooks_graded(batch):
    out, records = batch
    with open(out / "ungradable.csv") as f:
        reasons = {row["student_id"]: row["reason"] for row in csv.DictReader(f)}
    josé = unicodedata.normalize("NFC", "josé")
    assert set(reasons) == {"not_json", "empty", "other_exercise", f"{josé} (duplicate 1)"}
    assert "not JSON" in reasons["not_json"] and "empty" in reasons["empty"]
    assert "06_training" in reasons["other_exercise"]
    bare = records["no_metadata"]
    assert bare.score == 14 and "no nbgrader metadata" in bare.repairs[0]
    huge = records["huge_output"]
    assert huge.score == 14 and any("truncated" in p for p in huge.problems)


def test_grade_table_and_summary(batch):
    out, records = batch
    with open(out / "grades.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [*NBGRADER_COLUMNS, *ITEMS, "status", "reason"]
    assert len(rows) == len(records) == 24  # every submission has a row
    assert sum(r.graded for r in records.values()) == 20
    correct = next(r for r in rows if r["student_id"] == "correct")
    assert float(correct["score"]) == 14 and correct["assignment"] == NAME
    with open(out / "summary.csv") as f:
        summary = {row["item"]: row for row in csv.DictReader(f)}
    assert {row["item"] for row in summary.values()} == set(ITEMS)
    assert (out / "summary.png").read_bytes()[:4] == b"\x89PNG"


def test_correct_work_is_never_lost_to_its_form(batch):
    _out, records = batch
    for student in ("big_outputs", "old_format", "bad_bytes"):
        assert records[student].score == 14, (student, records[student])
    assert any("nbformat 3" in m for m in records["old_format"].repairs)


def test_ids_are_nfc_and_formulas_neutralised_in_the_table(batch):
    out, records = batch
    josé = unicodedata.normalize("NFC", "josé")
    assert records[josé].score == 14
    assert "another submission has the student id" in records[f"{josé} (duplicate 1)"].ungradable
    with open(out / "grades.csv", encoding="utf-8") as f:
        ids = [row["student_id"] for row in csv.DictReader(f)]
    assert '\'=HYPERLINK("evil.example")' in ids
    assert not any(i.startswith(("=", "+", "-", "@")) for i in ids)
    assert all(unicodedata.is_normalized("NFC", i) for i in ids)
