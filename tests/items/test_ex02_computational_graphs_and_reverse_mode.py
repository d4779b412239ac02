"""What is particular to the items of exercises/02_computational_graphs_and_reverse_mode.ipynb."""

from __future__ import annotations

import math

import item_contract as contract
import pytest
from answers_ex02 import backward_pass_by_the_engine, divide_with, sin_with, training_step
from item_contract import run, slipped

from bpcourse.autodiff import Value, topological_order


@pytest.mark.parametrize(
    ("grade_id", "stub"),
    [("value_sin_backward", sin_with("stub")), ("value_div_backward", divide_with("stub"))],
)
def test_the_exercise_stub_inside_backward_is_not_attempted(grade_id, stub):
    contract.assert_not_attempted(grade_id, stub, run=run)


def test_a_missing_zero_grad_is_caught_at_the_second_step():
    result = run("value_training_step", slipped(training_step, "no zero_grad"))
    assert result.messages[0].startswith("step 2's update"), str(result)


def test_the_engines_own_backward_pass_scores_nothing_and_is_named():
    result = run("value_backward_pass", backward_pass_by_the_engine)
    assert result.points == 0
    assert result.messages == [
        "`backward_pass_by_the_engine` calls .backward(), the library's own method: this item "
        "asks you to write it yourself"
    ]


def sets_nan(root: Value) -> None:
    for node in topological_order(root):
        node.grad = math.nan


@pytest.mark.parametrize(
    ("grade_id", "answer"),
    [("value_backward_pass", sets_nan), ("value_training_step", slipped(training_step, "NaN"))],
)
def test_an_answer_that_makes_nan_is_told_so(grade_id, answer):
    result = contract.assert_feedback_without_traceback(grade_id, answer, run=run)
    assert any("nan" in m.lower() for m in result.messages), str(result)


@pytest.mark.parametrize("wrong", [2, 1_000_000, 2e6, 0.5])
def test_the_reverse_mode_question_never_hints_at_its_answer(wrong):
    """Issue 11: '2× too large' gave the answer 1 away."""
    (message,) = run("reverse_mode_passes", lambda: wrong).messages
    assert "too large" not in message and "×" not in message and "forward mode" not in message
