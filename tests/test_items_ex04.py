"""The checks of exercises/04_backpropagation_through_layers.ipynb, tested as learners meet them.

For every graded item: the reference solution gets full marks; the exercise's stub
(NotImplementedError) is "not attempted", 0 points, no exception; realistic wrong answers
fail with the diagnosis that names their mistake; and bad values (None, a list, NaN, a
raising function) get feedback, never a traceback. The debugging exercise must name each
planted bug that survives, and give a share of the points for each one fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import item_contract as contract
import numpy as np
import pytest
from item_contract import (
    fresh_session,  # noqa: F401 (autouse)
    slipped,
)

from bpcourse.activations import sigmoid
from bpcourse.checking import ITEMS, check
from bpcourse.checking.items import ex04_backpropagation_through_layers as ex04
from bpcourse.gradcheck import numerical_gradient

# --- reference solutions, and the same code with one slip each ---------------------------------


def dense_backward(dZ, X, W, slip=""):
    dX, dW, db = dZ @ W, dZ.T @ X, dZ.sum(axis=0)
    if slip == "transpose":
        dW = X.T @ dZ
    if slip == "mean":
        dW, db = dW / len(X), db / len(X)
    if slip == "sign":
        dX = -dX
    return dX, dW, db


def two_layer_backward(X, T, W1, b1, W2, b2, slip=""):
    A1 = sigmoid(X @ W1.T + b1)
    A2 = sigmoid(A1 @ W2.T + b2)
    D2 = (A2 - T) / len(X) * (1.0 if slip == "no output f'" else A2 * (1 - A2))
    D2 = D2 * len(X) if slip == "sum" else D2
    D1 = (D2 @ W2) * (1.0 if slip == "no hidden f'" else A1 * (1 - A1))
    return D1.T @ X, D1.sum(axis=0), D2.T @ A1, D2.sum(axis=0)


def monash_step(x, y, W1, W2, alpha, slip=""):
    a1 = sigmoid(W1 @ x)
    a2 = sigmoid(W2 @ a1)
    Delta_k = (y - a2) * a2 * (1 - a2)
    W2_new = W2 + alpha * np.outer(Delta_k, a1)
    W_back = W2_new if slip == "stale" else W2
    Delta_j = (1.0 if slip == "no g'" else a1 * (1 - a1)) * (W_back.T @ Delta_k)
    if slip == "garbled":  # the note's misprint, taken literally: w_jk <- w_ij + α a_i Δ_j
        return W1, W1 + alpha * np.outer(Delta_j, x)
    sign = -1.0 if slip == "minus" else 1.0
    return W1 + sign * alpha * np.outer(Delta_j, x), W2 + sign * alpha * np.outer(Delta_k, a1)


def backprop_deltas(caches, dA, slip=""):
    deltas = []
    for i in range(len(caches) - 1, -1, -1):
        _, W, Z, A = caches[i]
        slope = A * (1 - A)
        if slip == "z(1-z)":
            slope = Z * (1 - Z)
        if slip == "no hidden f'" and i < len(caches) - 1:
            slope = 1.0
        delta = dA * slope
        deltas.append(delta / len(Z) if slip == "1/N again" else delta)
        dA = delta @ W.T if slip == "transpose" else delta @ W
    return deltas if slip == "reversed" else deltas[::-1]


def backprop_two_layers_only(caches, dA):
    (_, _, _, A1), (_, W2, _, A2) = caches
    d2 = dA * A2 * (1 - A2)
    return [(d2 @ W2) * A1 * (1 - A1), d2]


def fixed_backward(X, T, W1, b1, W2, b2, bugs=()):
    A1 = np.tanh(X @ W1.T + b1)
    Y = A1 @ W2.T + b2
    dY = (Y - T) if "1/N" in bugs else (Y - T) / len(X)
    dW2 = dY.T @ A1
    db2 = dY.sum(axis=0)
    dA1 = dY @ W2
    dZ1 = dA1 if "tanh'" in bugs else dA1 * (1 - A1**2)
    dW1 = X.T @ dZ1 if "transpose" in bugs else dZ1.T @ X
    return dW1, dZ1.sum(axis=0), dW2, db2


def broadcast_gradients(dZ, slip=""):
    db = {"mean": dZ.mean(axis=0), "axis 1": dZ.sum(axis=1), "=": dZ[-1]}.get(slip, dZ.sum(0))
    dc = dZ.mean() if slip == "mean" else float(dZ.sum())
    ds = dZ.sum(axis=1) if slip == "no keepdims" else dZ.sum(axis=1, keepdims=True)
    if slip == "ds mean":
        ds = dZ.mean(axis=1, keepdims=True)
    return db, dc, ds


RIGHT: dict[str, Callable[..., Any]] = {
    "dense_backward": dense_backward,
    "broadcast_gradients": broadcast_gradients,
    "two_layer_backward": two_layer_backward,
    "monash_step": monash_step,
    "backprop_deltas": backprop_deltas,
    "debug_backward": fixed_backward,
}


def test_the_notebooks_items_are_these_six_and_three_questions():
    assert dict(contract.items_of(ex04.NOTEBOOK)) == {
        "dense_backward": 3,
        "broadcast_gradients": 2,
        "two_layer_backward": 4,
        "monash_step": 2,
        "backprop_deltas": 5,
        "debug_backward": 3,
        "q_dW2_shape": 1,
        "q_saturated_sigmoid": 1,
        "q_no_nonlinearity": 1,
    }


@pytest.mark.parametrize("grade_id", list(RIGHT))
def test_the_reference_solution_gets_full_marks(grade_id):
    contract.assert_full_marks(grade_id, RIGHT[grade_id], says_checked_by=False)


@pytest.mark.parametrize("grade_id", list(RIGHT))
def test_the_stub_is_not_attempted_and_costs_nothing_but_points(grade_id):
    contract.assert_not_attempted(grade_id)


def raises(*args):
    return [1, 2][5]


BAD_HERE = {
    **contract.BAD,
    "raises": raises,  # an IndexError here, in place of the shared KeyError
    "returns NaN arrays": lambda *args: tuple(np.full((2, 3), np.nan) for _ in range(4)),
}


@pytest.mark.parametrize("grade_id", list(RIGHT))
@pytest.mark.parametrize("bad", list(BAD_HERE))
def test_bad_values_get_feedback_never_a_traceback(grade_id, bad):
    result = contract.assert_feedback_without_traceback(grade_id, BAD_HERE[bad], no_points=False)
    if bad == "raises":
        assert "raised IndexError" in result.messages[0] and "[1, 2][5]" in result.messages[0]


WRONG = [
    ("dense_backward", "transpose", "did you forget a transpose"),
    ("dense_backward", "mean", "dW and db: each is N = 5 times too small"),
    ("dense_backward", "sign", "dX has the opposite sign"),
    ("two_layer_backward", "no output f'", "without the activation derivative σ'(z2)"),
    ("two_layer_backward", "no hidden f'", "without the activation derivative σ'(z1)"),
    ("two_layer_backward", "sum", "N = 5 times too large"),
    ("monash_step", "stale", "computed with the already-updated weights"),
    ("monash_step", "no g'", "Δ_j lacks g'(in_j)"),
    ("monash_step", "minus", "moves uphill: with Monash's Δ = (y − a) g'"),
    ("monash_step", "garbled", "it follows the note's garbled line"),
    ("backprop_deltas", "z(1-z)", "uses Z(1 − Z) for σ'(Z)"),
    ("backprop_deltas", "no hidden f'", "without the activation derivative σ'(z) of the hidden"),
    ("backprop_deltas", "1/N again", "N = 5 times too small"),
    ("backprop_deltas", "transpose", "is a transpose missing, extra or in the wrong place?"),
    ("backprop_deltas", "reversed", "returned the δ in reverse order"),
]


@pytest.mark.parametrize(
    ("grade_id", "slip", "diagnosis"), WRONG, ids=[f"{g}-{s}" for g, s, _ in WRONG]
)
def test_known_wrong_answers_fail_with_their_diagnosis(grade_id, slip, diagnosis):
    contract.assert_fails_with(
        grade_id, slipped(RIGHT[grade_id], slip), diagnosis, statuses=("failed", "error")
    )


def backprop_last_two_layers(caches, dA):
    return backprop_two_layers_only(caches[-2:], dA)


@pytest.mark.parametrize("answer", [backprop_two_layers_only, backprop_last_two_layers])
def test_a_deltas_function_written_for_two_layers_only_is_told_to_loop(answer):
    result = check("backprop_deltas", answer)
    assert result.points == 0
    assert any("loop over the caches" in m for m in result.messages), str(result)


def test_the_checkers_caches_and_deltas_are_the_gradient_by_finite_differences():
    caches, dA, deltas = ex04.network_caches([3, 4, 4, 3, 2], 5, 9)
    assert [d.shape for d in deltas] == [(5, 4), (5, 4), (5, 3), (5, 2)]
    _, _, Z2, _ = caches[1]

    def loss_from_z2() -> float:  # the loss as a function of Z(2) (L = Σ dA ⊙ A(4), linearised)
        A = sigmoid(Z2)
        for _, W, _, _ in caches[2:]:
            A = sigmoid(A @ W.T + ex04_bias(caches, W))
        return float(np.sum(dA * A))

    # δ(2) = ∂(Σ dA ⊙ A(L))/∂Z(2): the same chain as the loss, with dA held fixed
    assert np.allclose(numerical_gradient(loss_from_z2, Z2), deltas[1], rtol=1e-6, atol=1e-10)


def ex04_bias(caches, W):
    """The bias of the layer with weights W, read back from its cache: Z − A_prev Wᵀ."""
    for A_prev, W_l, Z, _ in caches:
        if W_l is W:
            return (Z - A_prev @ W.T)[0]
    raise KeyError("no such layer")


# --- the debugging exercise ---------------------------------------------------------------------

PLANTED = ("1/N", "tanh'", "transpose")
PART = {"1/N": "the 1/N of the mean", "tanh'": "tanh'", "transpose": "the transpose in dW1"}
SAYS = {
    "1/N": "lacks the 1/N of the mean loss",
    "tanh'": "lacks the hidden layer's activation derivative",
    "transpose": "dW1 is transposed",
}


@pytest.mark.parametrize(
    "left",
    [(b,) for b in PLANTED] + [("1/N", "tanh'"), ("tanh'", "transpose"), PLANTED],
    ids=lambda left: "+".join(left),
)
def test_the_debugging_check_names_each_surviving_bug_and_credits_the_fixed_ones(left):
    result = check("debug_backward", lambda *args: fixed_backward(*args, bugs=left))
    assert result.status == "failed"
    assert result.points == pytest.approx(3 * (1 - len(left) / 3), abs=0.01)
    text = str(result)
    for bug in PLANTED:
        assert (SAYS[bug] in text) == (bug in left), text
    fixed = [PART[b] for b in PLANTED if b not in left]
    if fixed:
        assert result.messages[-1] == "right: " + ", ".join(fixed)


def test_the_debugging_check_spots_a_new_slip_that_is_not_a_planted_bug():
    def new_slip(*args):
        dW1, db1, dW2, db2 = fixed_backward(*args)
        return dW1, db1, -dW2, db2

    result = check("debug_backward", new_slip)
    assert result.points == 0
    assert any("dW2 has the opposite sign" in m for m in result.messages), str(result)
    assert "not the provided code with some of its planted bugs fixed" in result.messages[-1]


BROADCAST = {
    "mean": "db is the mean over the batch",
    "axis 1": "db is summed over the wrong axis",
    "=": "db equals the last row's contribution only",
    "no keepdims": "ds lost its axis of length 1",
    "ds mean": "ds is the mean over the units",
}


@pytest.mark.parametrize("slip", list(BROADCAST))
def test_a_broadcast_slip_gets_its_diagnosis_and_no_other(slip):
    result = contract.assert_fails_with(
        "broadcast_gradients", contract.slipped(broadcast_gradients, slip), BROADCAST[slip]
    )
    text = "\n".join(result.messages)
    assert not [d for other, d in BROADCAST.items() if other != slip and d in text], text


def test_an_answer_that_calls_the_library_dense_backward_scores_nothing():
    source = (
        "from bpcourse.layers import dense_backward as backward\n\n"
        "def dense_backward(dZ, X, W):\n    return backward(dZ, X, W)\n"
    )
    item = ITEMS["dense_backward"]
    result = item.run(*item.adapt(dense_backward), source=source)
    assert result.points == 0 and "write it yourself" in str(result)


QUESTIONS = {
    "q_dW2_shape": ((2, 3), (3, 2)),
    "q_saturated_sigmoid": (0.999 * 0.001, 0.999),
    "q_no_nonlinearity": ("d", "a"),
}


@pytest.mark.parametrize("grade_id", list(QUESTIONS))
def test_a_question_takes_its_answer_and_a_wrong_one_gets_no_answer_back(grade_id):
    right, wrong = QUESTIONS[grade_id]
    assert check(grade_id, lambda: right).passed
    result = check(grade_id, lambda: wrong)
    assert not result.passed and "revisit" in str(result)
    assert repr(right) not in str(result).replace(repr(wrong), "")


@pytest.mark.parametrize(
    ("grade_id", "slip", "diagnosis"), WRONG, ids=[f"{g}-{s}" for g, s, _ in WRONG]
)
def test_no_other_mistake_of_the_catalogue_gets_this_diagnosis(grade_id, slip, diagnosis):
    """Both ways (issue 11): a slip's feedback names no other catalogued slip of the item."""
    result = check(grade_id, slipped(RIGHT[grade_id], slip))
    text = "\n".join(result.messages)
    others = {d for g, s, d in WRONG if g == grade_id and d != diagnosis and d not in diagnosis}
    assert not [d for d in others if d in text], str(result)
