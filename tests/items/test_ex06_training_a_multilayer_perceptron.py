"""What is particular to the items of exercises/06_training_a_multilayer_perceptron.ipynb.

The contract (full marks, stub, bad values, shortcuts, each catalogue mistake gets its own
diagnosis and no other) runs from `answers_ex06.py` in `test_contract.py`.
"""

from __future__ import annotations

import numpy as np
import pytest
from answers_ex06 import BACKWARD, TRAINING, init_params, mlp_backward, mlp_forward, train_mlp
from item_contract import run, slipped, stub

from bpcourse.checking.items import ex06_training_a_multilayer_perceptron as ex06
from bpcourse.gradcheck import relative_error


def _text(result) -> str:
    return "\n".join(result.messages)


def test_the_reference_backward_agrees_with_finite_differences():
    X, y, params = ex06.problem()
    analytic, numeric = ex06.backward(X, y, params), ex06.finite_differences(X, y, params)
    for key in ex06.GRADIENTS:
        assert relative_error(analytic[key], numeric[key]) < 1e-7, key


def test_the_problem_stays_away_from_the_relu_kink_and_has_both_sides_of_it():
    X, y, params = ex06.problem()
    Z1 = ex06.forward(X, y, params)["Z1"]
    assert np.abs(Z1).min() > 1e-3
    assert 0.0 < (Z1 > 0).mean() < 1.0


def test_a_stub_forward_called_from_backward_is_not_attempted():
    def backward_on_a_blank_forward(X, y, params):
        return stub()

    assert run("mlp_backward", backward_on_a_blank_forward).status == "not attempted"


@pytest.mark.parametrize("slip", list(BACKWARD))
def test_the_first_wrong_gradient_is_named_first(slip):
    first = "dlogits" if not slip.startswith("d") else slip.split()[0]
    if slip in ("no mask", "mask from dA1", "mask inverted", "times A1"):
        first = "dZ1"
    result = run("mlp_backward", slipped(mlp_backward, slip))
    assert result.messages[0] == f"the first wrong value of the backward pass is {first}"


def test_gradients_after_the_first_wrong_one_say_they_follow_from_it():
    result = run("mlp_backward", slipped(mlp_backward, "no 1/N"))
    assert "dW2 follows correctly from your dlogits: it is wrong only because dlogits is" in _text(
        result
    )
    assert result.points == 0  # every gradient depends on dlogits


@pytest.mark.parametrize(
    ("slips", "says"),
    [
        (("no one-hot", "no 1/N"), ("two slips", "softmax P alone", "8 times too large")),
        (("no 1/N", "sign"), ("two slips", "forgets the 1/N", "opposite sign")),
        (("no mask", "dA1 /N"), ("dA1 is N = 8 times too small", "dZ1 (given your dA1) equals")),
    ],
)
def test_two_slips_together_are_both_named(slips, says):
    result = run("mlp_backward", slipped(mlp_backward, slips))
    assert not result.passed
    for text in says:
        assert text in _text(result), str(result)


def test_a_wrong_gradient_outside_the_catalogue_is_described_without_a_cause():
    result = run("mlp_backward", slipped(mlp_backward, "dW1 × −3.7"))
    assert "dW1 is -3.7 × the right value: every entry has the wrong sign" in _text(result)
    assert "likely mistake" not in _text(result)


def test_a_forward_value_that_follows_from_an_earlier_mistake_says_so():
    result = run("mlp_forward", slipped(mlp_forward, "no b1"))
    assert "A1 follows correctly from your Z1" in _text(result)
    assert "loss follows correctly from your logits" in _text(result)


@pytest.mark.parametrize("mistake", list(TRAINING))
def test_the_wrong_diagnoses_of_the_first_edition_never_come_back(mistake):
    """Issue 11: η = 0.001 was asked about optimizer.step(); np.array_split and (y − t)
    were mentioned where nothing supported them."""
    text = _text(run("train_mlp", TRAINING[mistake][0]))
    for wrong in ("optimizer.step", "array_split", "(y − t)"):
        assert wrong not in text


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (lambda X, y, seed=0: train_mlp(X, y, seed)[0], "should return (params, losses)"),
        (lambda X, y, seed=0: (init_params(64, seed), []), "non-empty list"),
        (
            lambda X, y, seed=0: ({**init_params(64, seed), "W1": np.zeros((32, 64))}, [1.0]),
            "params['b1'] has shape (64,), expected (32,)",
        ),
    ],
)
def test_a_malformed_training_answer_is_told_what_to_return(answer, says):
    result = run("train_mlp", answer)
    assert result.status == "failed" and says in _text(result), str(result)


def test_a_training_loop_that_calls_the_library_scores_nothing():
    source = (
        "from bpcourse.network import MLP\n\n"
        "def train_mlp(X, y, seed=0):\n"
        "    net = MLP([64, 32, 10], seed=seed)\n"
        "    return net\n"
    )
    result = run_with_source("train_mlp", train_mlp, source)
    assert result.points == 0 and "bpcourse.network" in _text(result)


def run_with_source(grade_id, answer, source):
    from bpcourse.checking import ITEMS

    item = ITEMS[grade_id]
    return item.run(*item.adapt(answer), source=source)


def test_two_independent_slips_are_both_found_and_later_gradients_blame_the_nearest():
    """Worked as a learner: P[:, y] -= 1 and a ReLU mask taken from dA1."""
    result = run("mlp_backward", slipped(mlp_backward, ("columns", "mask from dA1")))
    text = _text(result)
    assert "dlogits subtracts 1 from whole columns" in text
    assert "dZ1 (given your dA1) takes the ReLU mask from the wrong quantity" in text
    assert "dW1 follows correctly from your dZ1: it is wrong only because dZ1 is" in text
    assert "dA1 follows correctly from your dlogits: it is wrong only because dlogits is" in text
