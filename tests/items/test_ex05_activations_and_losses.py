"""What is particular to the items of exercises/05_activations_and_losses.ipynb.

The contract (full marks, stub, bad values, shortcuts, each catalogue mistake gets its own
diagnosis and no other) runs from `answers_ex05.py` in `test_contract.py`. Here: the points a
naive answer keeps for moderate logits, a wrong answer not blamed on overflow, shortcuts
through aliased imports, the sign wording, and the questions' wrong answers.
"""

from __future__ import annotations

import pytest
from answers_ex05 import (
    bce_with_logits,
    bce_without_1_over_NC,
    naive_bce,
    naive_logsumexp,
)

from bpcourse.checking import ITEMS, check
from bpcourse.checking.items import ex05_activations_and_losses as ex05


def test_a_naive_logsumexp_keeps_the_point_for_moderate_logits_only():
    result = check("stable_logsumexp", naive_logsumexp)
    assert result.points == 1
    assert result.messages[-1] == "right: moderate logits"


def test_a_naive_bce_keeps_the_points_for_moderate_logits_only():
    result = check("bce_with_logits", naive_bce)
    assert result.points == 2
    assert "right: loss, dZ" in result.messages


def test_a_wrong_answer_at_moderate_logits_is_not_blamed_on_overflow():
    result = check("bce_with_logits", bce_without_1_over_NC)
    assert ex05.TOO in result.messages
    assert not any("overflow" in m for m in result.messages)


def _run_with_source(grade_id, answer, source):
    item = ITEMS[grade_id]
    return item.run(*item.adapt(answer), source=source)


@pytest.mark.parametrize(
    ("grade_id", "source", "names"),
    [
        (
            "stable_logsumexp",
            "from bpcourse.activations import logsumexp as lse\n\n"
            "def stable_logsumexp(Z):\n    return lse(Z, axis=1)\n",
            "bpcourse.activations.logsumexp",
        ),
        (
            "softmax_cross_entropy_grad",
            "import bpcourse.losses as L\n\n"
            "def softmax_cross_entropy_grad(Z, Y):\n"
            "    return L.softmax_cross_entropy(Z, Y.argmax(axis=1))[1]\n",
            "bpcourse.losses",
        ),
        (
            "bce_with_logits",
            "from bpcourse import losses\n\n"
            "def bce_with_logits(Z, T):\n    return losses.binary_cross_entropy(Z, T)\n",
            "bpcourse.losses",
        ),
    ],
)
def test_an_answer_that_delegates_to_the_library_scores_nothing(grade_id, source, names):
    namespace: dict = {}
    exec(source, namespace)  # the shortcut works: only the source can tell
    answer = namespace[grade_id]
    result = _run_with_source(grade_id, answer, source)
    assert result.points == 0, str(result)
    assert names in str(result) and "write it yourself" in str(result)


def test_a_bce_gradient_with_the_wrong_sign_says_prediction_minus_target_never_y_minus_t():
    def flipped(Z, T):
        loss, dZ = bce_with_logits(Z, T)
        return loss, -dZ

    result = check("bce_with_logits", flipped)
    assert "the prediction minus the target" in str(result)
    assert "(y − t)" not in str(result) and "(t − y)" not in str(result)
