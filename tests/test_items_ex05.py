"""The checks of exercises/05_activations_and_losses.ipynb, tested as learners meet them.

For every graded item: the reference solution gets full marks; the exercise's stub
(NotImplementedError) is "not attempted", 0 points, no exception; realistic wrong answers
fail with the diagnosis that names their mistake (an overflow at logits of ±1e4 included);
and bad values (None, a list, NaN, a raising function) get feedback, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import item_contract as contract
import numpy as np
import pytest
from item_contract import fresh_session  # noqa: F401 (autouse)

from bpcourse.activations import relu, sigmoid, softmax
from bpcourse.checking import ITEMS, check
from bpcourse.checking.items import ex05_activations_and_losses as ex05

# --- reference solutions, written as a learner would ---------------------------------------------


def tanh_backward(dA, A):
    return dA * (1.0 - A**2)


def relu_backward(dA, Z):
    return dA * (Z > 0)


def softmax_cross_entropy_grad(Z, Y):
    return (softmax(Z, axis=1) - Y) / len(Z)


def logsumexp(Z):
    m = np.max(Z, axis=1, keepdims=True)
    return (m + np.log(np.sum(np.exp(Z - m), axis=1, keepdims=True)))[:, 0]


def bce_with_logits(Z, T):
    return float(np.mean(np.logaddexp(0.0, Z) - T * Z)), (sigmoid(Z) - T) / Z.size


RIGHT: dict[str, Callable[..., Any]] = {
    "tanh_backward": tanh_backward,
    "relu_backward": relu_backward,
    "softmax_cross_entropy_grad": softmax_cross_entropy_grad,
    "stable_logsumexp": logsumexp,
    "bce_with_logits": bce_with_logits,
}


def test_the_notebooks_items_are_registered_in_order_with_their_points():
    mine = {i.grade_id: i.points for i in ITEMS.values() if i.notebook == ex05.NOTEBOOK}
    assert mine == {
        "tanh_backward": 2,
        "relu_backward": 2,
        "softmax_cross_entropy_grad": 2,
        "stable_logsumexp": 2,
        "bce_with_logits": 3,
        "q_softmax_row_sum": 1,
        "q_sigmoid_max_slope": 1,
        "q_dead_relu": 1,
    }


@pytest.mark.parametrize("grade_id", list(RIGHT))
def test_the_reference_solution_gets_full_marks(grade_id):
    contract.assert_full_marks(grade_id, RIGHT[grade_id])


@pytest.mark.parametrize("grade_id", list(RIGHT))
def test_the_exercise_stub_is_not_attempted(grade_id):
    contract.assert_not_attempted(grade_id)


BAD_HERE = {
    **contract.BAD,
    "returns NaN pair": lambda *args: (np.nan, np.nan),
}


@pytest.mark.parametrize("grade_id", list(RIGHT))
@pytest.mark.parametrize("bad", list(BAD_HERE))
def test_bad_values_get_feedback_never_a_traceback(grade_id, bad):
    result = contract.assert_feedback_without_traceback(grade_id, BAD_HERE[bad])
    if bad == "raises":
        contract.assert_raise_is_reported(result, "raised KeyError")


# --- known-wrong answers and the diagnosis each must get ---------------------------------------


def naive_logsumexp(Z):
    return np.log(np.sum(np.exp(Z), axis=1))


def naive_bce(Z, T):
    p = 1 / (1 + np.exp(-Z))
    loss = np.mean(-T * np.log(p) - (1 - T) * np.log(1 - p))
    return float(loss), (p - T) / Z.size


def clipped_bce(Z, T):
    p = np.clip(sigmoid(Z), 1e-12, 1 - 1e-12)
    loss = np.mean(-T * np.log(p) - (1 - T) * np.log(1 - p))
    return float(loss), (sigmoid(Z) - T) / Z.size


def bce_times_sigmoid_prime(Z, T):
    p = sigmoid(Z)
    return bce_with_logits(Z, T)[0], (p - T) * p * (1 - p) / Z.size


WRONG = [
    ("tanh_backward", lambda dA, A: dA, "without the activation derivative tanh'(z) = 1 − a²"),
    ("tanh_backward", lambda dA, A: dA * (1 - A), "uses 1 − a where tanh'(z) = 1 − a²"),
    ("tanh_backward", lambda dA, A: dA * (1 - np.tanh(A) ** 2), "applies tanh to a again"),
    ("tanh_backward", lambda dA, A: dA * A * (1 - A), "uses the sigmoid's derivative"),
    ("tanh_backward", lambda dA, A: 1 - A**2, "multiplies it by the upstream gradient dA"),
    ("tanh_backward", lambda dA, A: dA * (A**2 - 1), "has the opposite sign"),
    ("relu_backward", lambda dA, Z: dA, "the ReLU mask is missing"),
    ("relu_backward", lambda dA, Z: dA * (dA > 0), "applies the mask from the wrong side"),
    ("relu_backward", lambda dA, Z: dA * relu(Z), "instead of its derivative"),
    ("softmax_cross_entropy_grad", lambda Z, Y: softmax(Z) - Y, "N = 6 times too large"),
    ("softmax_cross_entropy_grad", lambda Z, Y: (Z - Y) / len(Z), "uses the logits z"),
    ("softmax_cross_entropy_grad", lambda Z, Y: softmax(Z) / len(Z), "y is not subtracted"),
    (
        "softmax_cross_entropy_grad",
        lambda Z, Y: (softmax(Z, axis=0) - Y) / len(Z),
        "takes the softmax down the columns",
    ),
    ("stable_logsumexp", naive_logsumexp, "overflow: e^z is inf in float64"),
    ("stable_logsumexp", naive_logsumexp, "underflow: in a row of −1e4s every e^z is 0"),
    (
        "stable_logsumexp",
        lambda Z: Z.max() + np.log(np.sum(np.exp(Z - Z.max()), axis=1)),
        "your maximum is taken over the whole array, not over each row",
    ),
    (
        "stable_logsumexp",
        lambda Z: np.log(np.sum(np.exp(Z - Z.max(axis=1, keepdims=True)), axis=1)),
        "never adds it back",
    ),
    ("stable_logsumexp", lambda Z: np.log(np.sum(np.exp(Z), axis=0)), "not down the columns"),
    ("stable_logsumexp", lambda Z: logsumexp(Z)[:, None], "an axis of length 1 too many"),
    ("stable_logsumexp", lambda Z: np.log(np.mean(np.exp(Z), axis=1)), "log of the mean"),
    ("bce_with_logits", naive_bce, "log(1 − σ(z)) = log 0 = −inf"),
    ("bce_with_logits", clipped_bce, "clipping σ(z)"),
    (
        "bce_with_logits",
        lambda Z, T: (bce_with_logits(Z, T)[0], sigmoid(Z) - T),
        "without the 1/(N·C)",
    ),
    (
        "bce_with_logits",
        lambda Z, T: (bce_with_logits(Z, T)[0], (sigmoid(Z) - T) / len(Z)),
        "divided by N only",
    ),
    (
        "bce_with_logits",
        lambda Z, T: (bce_with_logits(Z, T)[0], (T - sigmoid(Z)) / Z.size),
        "dZ has the opposite sign",
    ),
    ("bce_with_logits", bce_times_sigmoid_prime, "the σ' cancels"),
    (
        "bce_with_logits",
        lambda Z, T: (bce_with_logits(Z, T)[0] * Z.size, bce_with_logits(Z, T)[1]),
        "the sum over the N·C = 18 entries",
    ),
    (
        "bce_with_logits",
        lambda Z, T: (bce_with_logits(Z, 1 - T)[0], bce_with_logits(Z, T)[1]),
        "swaps t and 1 − t",
    ),
]


@pytest.mark.parametrize(("grade_id", "answer", "says"), WRONG)
def test_a_wrong_answer_fails_with_its_diagnosis(grade_id, answer, says):
    contract.assert_fails_with(grade_id, answer, says)


def test_a_naive_logsumexp_keeps_the_point_for_moderate_logits_only():
    result = check("stable_logsumexp", naive_logsumexp)
    assert result.points == 1
    assert result.messages[-1] == "right: moderate logits"


def test_a_naive_bce_keeps_the_points_for_moderate_logits_only():
    result = check("bce_with_logits", naive_bce)
    assert result.points == 2
    assert "right: loss, dZ" in result.messages


def test_a_wrong_answer_at_moderate_logits_is_not_blamed_on_overflow():
    result = check("bce_with_logits", lambda Z, T: (bce_with_logits(Z, T)[0], sigmoid(Z) - T))
    assert ex05.TOO in result.messages
    assert not any("overflow" in m for m in result.messages)


# --- second edition (issue 11): the learner's own work, and trustworthy diagnoses ------------


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


QUESTIONS = {
    "q_softmax_row_sum": (0.0, 1.0),
    "q_sigmoid_max_slope": (0.25, 0.5),
    "q_dead_relu": ("c", "b"),
}


@pytest.mark.parametrize("grade_id", list(QUESTIONS))
def test_a_question_takes_its_answer_and_a_wrong_one_gets_no_answer_back(grade_id):
    right, wrong = QUESTIONS[grade_id]
    assert check(grade_id, lambda: right).passed
    result = check(grade_id, lambda: wrong)
    assert not result.passed and "revisit" in str(result)
    assert repr(right) not in str(result).replace(repr(wrong), "")


@pytest.mark.parametrize(("grade_id", "answer", "says"), WRONG)
def test_no_other_mistake_of_the_catalogue_gets_this_diagnosis(grade_id, answer, says):
    """Both ways (issue 11): a slip's feedback names no other catalogued slip of the item."""
    text = "\n".join(check(grade_id, answer).messages)
    # answers with a second, real slip: they also exponentiate without the shift
    also_true = {d for g, a, d in WRONG if a is answer} | (
        {"overflow: e^z is inf in float64", "underflow: in a row of −1e4s every e^z is 0"}
        if says in ("not down the columns", "log of the mean")
        else set()
    )
    others = {
        d
        for g, _, d in WRONG
        if g == grade_id and d != says and d not in says and d not in also_true
    }
    assert not [d for d in others if d in text], text
