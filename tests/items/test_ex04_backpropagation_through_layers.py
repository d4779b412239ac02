"""What is particular to the items of exercises/04_backpropagation_through_layers.ipynb.

The contract (full marks, stub, bad values, shortcuts, each catalogue mistake gets its own
diagnosis and no other) runs from `answers_ex04.py` in `test_contract.py`. Here: the
checker's own network against finite differences, the debugging exercise's partial credit,
a deltas function written for two layers only, a raised IndexError, a shortcut through an
aliased import, and the questions' wrong answers.
"""

from __future__ import annotations

import numpy as np
import pytest
from answers_ex04 import (
    BAD,
    PART,
    PLANTED,
    SAYS,
    backprop_last_two_layers,
    backprop_two_layers_only,
    dense_backward,
    fixed_backward,
    new_slip,
)
from item_contract import assert_feedback_without_traceback

from bpcourse.activations import sigmoid
from bpcourse.checking import ITEMS, check
from bpcourse.checking.items import ex04_backpropagation_through_layers as ex04
from bpcourse.gradcheck import numerical_gradient

ANSWERED = ("dense_backward", "broadcast_gradients", "two_layer_backward", "monash_step")
ANSWERED += ("backprop_deltas", "debug_backward")


@pytest.mark.parametrize("grade_id", ANSWERED)
def test_a_raised_index_error_is_reported_with_the_learners_line(grade_id):
    result = assert_feedback_without_traceback(grade_id, BAD["raises IndexError"])
    assert "raised IndexError" in result.messages[0] and "[1, 2][5]" in result.messages[0]


@pytest.mark.parametrize("answer", [backprop_two_layers_only, backprop_last_two_layers])
def test_a_deltas_function_written_for_two_layers_only_is_told_to_loop(answer):
    result = check("backprop_deltas", answer)
    assert result.points == 0
    assert any("loop over the caches" in m for m in result.messages), str(result)


def ex04_bias(caches, W):
    """The bias of the layer with weights W, read back from its cache: Z − A_prev Wᵀ."""
    for A_prev, W_l, Z, _ in caches:
        if W_l is W:
            return (Z - A_prev @ W.T)[0]
    raise KeyError("no such layer")


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


# --- the debugging exercise ---------------------------------------------------------------------


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
    result = check("debug_backward", new_slip)
    assert result.points == 0
    assert any("dW2 has the opposite sign" in m for m in result.messages), str(result)
    assert "not the provided code with some of its planted bugs fixed" in result.messages[-1]


def test_an_answer_that_calls_the_library_dense_backward_scores_nothing():
    source = (
        "from bpcourse.layers import dense_backward as backward\n\n"
        "def dense_backward(dZ, X, W):\n    return backward(dZ, X, W)\n"
    )
    item = ITEMS["dense_backward"]
    result = item.run(*item.adapt(dense_backward), source=source)
    assert result.points == 0 and "write it yourself" in str(result)
