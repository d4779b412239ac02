"""The contract every graded item keeps, run over every notebook's answers module.

For every item: the reference answer gets full marks; the exercise's stub is "not attempted"
(0 points, no exception); bad values get feedback, never a traceback; an answer that
delegates to a forbidden library function scores 0 and is told which; every known wrong
answer of the catalogue fails with its own diagnosis, and with no other mistake's; recall
and plumbing are at most 15% of a notebook's points.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import item_contract as contract
import pytest

from bpcourse.checking import ITEMS

MODULES = sorted(p.stem for p in Path(__file__).parent.glob("answers_ex*.py"))
ANSWERS = {name: importlib.import_module(name) for name in MODULES}
ALL = [(m, g) for m, module in ANSWERS.items() for g in module.POINTS]
WITH_CATALOGUE = [(m, g) for m, module in ANSWERS.items() for g in module.CATALOGUE]
# (right, wrong) answers of conceptual questions, where an answers module lists them
QUESTION_CASES = [
    (m, g, right, wrong)
    for m, module in ANSWERS.items()
    for g, (right, wrong) in getattr(module, "QUESTIONS", {}).items()
]
WRONGS = [
    (m, g, i)
    for m, module in ANSWERS.items()
    for g, wrongs in module.CATALOGUE.items()
    for i in range(len(wrongs))
]


def ids(cases):
    return [":".join(str(c) for c in case[1:]) for case in cases]


def is_question(grade_id: str) -> bool:
    return ITEMS[grade_id].checker.__qualname__.startswith("question[")


@pytest.mark.parametrize("module", MODULES)
def test_the_notebook_has_these_items_and_no_others(module):
    answers = ANSWERS[module]
    assert dict(contract.items_of(answers.NOTEBOOK)) == answers.POINTS
    assert set(answers.RIGHT) == set(answers.POINTS)


@pytest.mark.parametrize("module", MODULES)
def test_recall_and_plumbing_are_at_most_15_percent_of_the_points(module):
    answers = ANSWERS[module]
    recall = sum(answers.POINTS[g] for g in answers.RECALL)
    assert recall <= 0.15 * sum(answers.POINTS.values())


@pytest.mark.parametrize("module", MODULES)
def test_every_item_but_a_question_forbids_shortcuts_and_has_a_catalogue(module):
    answers = ANSWERS[module]
    for grade_id in answers.POINTS:
        if not is_question(grade_id):
            assert ITEMS[grade_id].forbid, f"{grade_id} forbids nothing"
            assert len(answers.CATALOGUE.get(grade_id, [])) >= 3, f"{grade_id}: catalogue"


@pytest.mark.parametrize(("module", "grade_id"), ALL, ids=ids(ALL))
def test_the_reference_answer_gets_full_marks(module, grade_id):
    contract.assert_full_marks(grade_id, ANSWERS[module].RIGHT[grade_id], run=contract.run)


@pytest.mark.parametrize(("module", "grade_id"), ALL, ids=ids(ALL))
def test_the_exercise_stub_is_not_attempted_with_no_points(module, grade_id):
    contract.assert_not_attempted(grade_id, run=contract.run)


@pytest.mark.parametrize(("module", "grade_id"), ALL, ids=ids(ALL))
def test_bad_values_get_feedback_never_a_traceback(module, grade_id):
    bad = {**contract.BAD, **getattr(ANSWERS[module], "BAD", {})}
    for label, value in bad.items():
        result = contract.assert_feedback_without_traceback(grade_id, value, run=contract.run)
        if label == "raises":
            contract.assert_raise_is_reported(result)


def shortcut_source(grade_id: str, spec: str) -> str:
    """A learner's notebook whose answer delegates to the forbidden `spec`."""
    import importlib as lib
    import types

    name = ITEMS[grade_id].answers[0]
    if spec.startswith("."):  # a method of the library's objects
        return f"def {name}(root, *args):\n    return root{spec}()\n"
    module, _, attribute = spec.rpartition(".")
    try:
        is_module = isinstance(lib.import_module(spec), types.ModuleType)
    except ImportError:
        is_module = False
    if is_module:
        module, attribute = spec, "anything"
    return (
        "import numpy as np\n"
        f"import {module} as library\n\n"
        f"def {name}(*args):\n"
        f"    return library.{attribute}(*args)\n"
    )


FORBIDDEN = [(g, spec) for _, g in ALL for spec in ITEMS[g].forbid]


@pytest.mark.parametrize(("grade_id", "spec"), FORBIDDEN, ids=[f"{g}:{s}" for g, s in FORBIDDEN])
def test_a_shortcut_through_a_forbidden_name_scores_nothing_and_is_named(grade_id, spec):
    module = next(m for m, g in ALL if g == grade_id)
    item = ITEMS[grade_id]
    right = item.adapt(ANSWERS[module].RIGHT[grade_id])
    result = item.run(*right, source=shortcut_source(grade_id, spec))
    assert (result.status, result.points) == ("failed", 0), str(result)
    (message,) = result.messages
    assert f"`{item.answers[0]}` calls " in message and "write it yourself" in message
    assert spec.split(".")[-1] in message


@pytest.mark.parametrize(("module", "grade_id", "index"), WRONGS, ids=ids(WRONGS))
def test_a_known_mistake_triggers_its_diagnosis_and_no_other(module, grade_id, index):
    wrongs = ANSWERS[module].CATALOGUE[grade_id]
    wrong = wrongs[index]
    result = contract.run(grade_id, wrong.answer)
    status = "error" if wrong.raises else "failed"
    assert result.status == status and result.points < result.max_points, str(result)
    text = "\n".join(result.messages)
    if wrong.diagnosis is not None:
        assert wrong.diagnosis in text, f"{wrong.name}: {result}"
    # another entry's diagnosis may appear only when it is part of this one's, or in `also`
    others = {
        w.diagnosis
        for w in wrongs
        if w.diagnosis
        and w.diagnosis != wrong.diagnosis
        and (wrong.diagnosis is None or w.diagnosis not in wrong.diagnosis)
        and w.diagnosis not in wrong.also
    }
    wrongly = [d for d in others if d in text]
    assert not wrongly, f"{wrong.name} is also diagnosed as {wrongly}: {result}"


ADAPTED = [(m, g) for m, g in ALL if ITEMS[g].adapter is not None]


@pytest.mark.parametrize(("module", "grade_id"), ADAPTED, ids=ids(ADAPTED))
def test_only_data_crosses_an_adapter(module, grade_id):
    """What the grader moves out of the kernel: JSON, in both directions."""
    import json

    item = ITEMS[grade_id]
    (adapted,) = item.adapt(ANSWERS[module].RIGHT[grade_id])
    crossed = []

    def spy(*args):
        result = adapted(*args)
        crossed.append([list(args), result])
        return result

    spy.__name__ = adapted.__name__
    assert item.run(spy).passed
    assert crossed
    assert json.loads(json.dumps(crossed)) == crossed


ROOT = Path(__file__).resolve().parents[2]


def notebook_source(notebook: str, folder: str = "solutions") -> str:
    """The notebook's code cells joined, as the grader passes them to Item.run."""
    import nbformat

    nb = nbformat.read(ROOT / folder / f"{notebook}.ipynb", as_version=4)
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "code")


FORBIDDING = [(m, g) for m, g in ALL if ITEMS[g].forbid]


@pytest.mark.parametrize(("module", "grade_id"), FORBIDDING, ids=ids(FORBIDDING))
def test_the_solution_notebooks_own_code_is_not_a_shortcut(module, grade_id):
    """What the grader does: the notebook's source, and the functions the check cell names."""
    import ast

    from bpcourse.checking.shortcuts import forbidden_uses

    source = notebook_source(ANSWERS[module].NOTEBOOK)
    item = ITEMS[grade_id]
    defined = {n.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)}
    assert set(item.answers) <= defined, "the checker's parameters name the notebook's functions"
    for name in item.answers:
        assert forbidden_uses(source, name, item.forbid) == []
    right = item.adapt(ANSWERS[module].RIGHT[grade_id])
    assert item.run(*right, source=source).passed


@pytest.mark.parametrize(
    ("module", "grade_id", "right", "wrong"), QUESTION_CASES, ids=[c[1] for c in QUESTION_CASES]
)
def test_a_question_takes_its_answer_and_a_wrong_one_gets_no_answer_back(
    module, grade_id, right, wrong
):
    assert contract.run(grade_id, lambda: right).passed
    result = contract.run(grade_id, lambda: wrong)
    assert not result.passed and "revisit" in str(result)
    assert repr(right) not in str(result).replace(repr(wrong), "")
