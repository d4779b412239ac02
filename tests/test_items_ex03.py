"""The checks of exercises/03_one_neuron.ipynb, tested the way learners will meet them.

For every graded item: the reference solution gets full marks; the exercise's stub
(NotImplementedError) is "not attempted", 0 points, no exception; realistic wrong answers
fail with the diagnosis that names their mistake; and bad values (None, a list, NaN, a
raising function) get feedback, never a traceback.
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
from bpcourse.checking import check
from bpcourse.checking.items import ex03_one_neuron

# --- reference solutions, and the same code with one slip each ---------------------------------


def sigmoid_and_derivative(z, slip=""):
    a = 1 / (1 + np.exp(z if slip == "exponent" else -z))
    da_dz = {"z(1-z)": z * (1 - z), "sigma": a, "1-a": 1 - a}.get(slip, a * (1 - a))
    return a, da_dz


def neuron_gradient(X, T, W, b, slip=""):
    N = len(X)
    Z = X @ W.T + b
    A = sigmoid(Z)
    if slip == "loop =":
        for n in range(N):
            delta = (A[n] - T[n]) * A[n] * (1 - A[n]) / N
            dW, db = np.outer(delta, X[n]), delta
        return dW, db
    slope = {"no slope": 1.0, "z(1-z)": Z * (1 - Z)}.get(slip, A * (1 - A))
    err = (T - A) if slip == "sign" else (A - T)
    D = err * slope / (1 if slip == "sum" else N)
    dW = X.T @ D if slip == "transpose" else D.T @ X
    return dW, D.sum(axis=0)


def neuron_step(X, T, W, b, lr, slip=""):
    dW, db = neuron_gradient(X, T, W, b, slip="no slope" if slip == "no slope" else "")
    if slip == "uphill":
        return W + lr * dW, b + lr * db
    if slip == "no lr":
        return W - dW, b - db
    if slip == "step only":
        return -lr * dW, -lr * db
    return W - lr * dW, b - lr * db


def train_neuron(X, T, W, b, lr, steps, slip=""):
    losses = []
    dW, db = neuron_gradient(X, T, W, b)
    for _ in range(steps):
        if slip != "after":
            losses.append(0.5 * np.mean((sigmoid(X @ W.T + b) - T) ** 2))
        if slip != "once":
            dW, db = neuron_gradient(X, T, W, b)
        if slip == "uphill":
            W, b = W + lr * dW, b + lr * db
        else:
            W, b = W - lr * dW, b - lr * db
        if slip == "after":
            losses.append(0.5 * np.mean((sigmoid(X @ W.T + b) - T) ** 2))
    if slip == "sum loss":
        losses = [len(X) * v for v in losses]
    return W, b, losses


RIGHT: dict[str, Callable[..., Any]] = {
    "sigmoid_and_derivative": sigmoid_and_derivative,
    "neuron_gradient": neuron_gradient,
    "neuron_step": neuron_step,
    "train_neuron": train_neuron,
}


def test_the_notebooks_items_are_these_four_worth_ten_points():
    assert dict(contract.items_of(ex03_one_neuron.NOTEBOOK)) == {
        "sigmoid_and_derivative": 2,
        "neuron_gradient": 3,
        "neuron_step": 2,
        "train_neuron": 3,
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
    "returns NaN arrays": lambda *args: (np.full((1, 3), np.nan), np.full(1, np.nan), [np.nan]),
}


@pytest.mark.parametrize("grade_id", list(RIGHT))
@pytest.mark.parametrize("bad", list(BAD_HERE))
def test_bad_values_get_feedback_never_a_traceback(grade_id, bad):
    result = contract.assert_feedback_without_traceback(grade_id, BAD_HERE[bad], no_points=False)
    if bad == "raises":
        assert "raised IndexError" in result.messages[0] and "[1, 2][5]" in result.messages[0]


WRONG = [
    ("sigmoid_and_derivative", "exponent", "the exponent is −z"),
    ("sigmoid_and_derivative", "z(1-z)", "takes the output a = σ(z), not the input z"),
    ("sigmoid_and_derivative", "sigma", "is σ(z) itself, not its derivative"),
    ("sigmoid_and_derivative", "1-a", "the factor σ(z) is missing"),
    ("neuron_gradient", "no slope", "without the activation derivative σ'(z) = a(1 − a)"),
    ("neuron_gradient", "z(1-z)", "uses z(1 − z) for σ'(z)"),
    ("neuron_gradient", "sign", "opposite sign"),
    ("neuron_gradient", "sum", "N = 6 times too large"),
    ("neuron_gradient", "transpose", "did you forget a transpose"),
    ("neuron_gradient", "loop =", "did you write `=` where `+=` belongs?"),
    ("neuron_step", "uphill", "climbs the loss: gradient descent subtracts"),
    ("neuron_step", "no lr", "the learning rate η is missing"),
    ("neuron_step", "step only", "is only the step −η ∂L/∂θ"),
    ("neuron_step", "no slope", "lacks σ'(z) = a(1 − a)"),
    ("train_neuron", "uphill", "is what gradient ascent gives"),
    ("train_neuron", "once", "compute the gradient again inside the loop"),
    ("train_neuron", "after", "record it before the update"),
    ("train_neuron", "sum loss", "losses are N = 40 times too large: the loss is the mean"),
]


@pytest.mark.parametrize(
    ("grade_id", "slip", "diagnosis"), WRONG, ids=[f"{g}-{s}" for g, s, _ in WRONG]
)
def test_known_wrong_answers_fail_with_their_diagnosis(grade_id, slip, diagnosis):
    contract.assert_fails_with(grade_id, slipped(RIGHT[grade_id], slip), diagnosis)


def test_a_neuron_trained_uphill_also_fails_the_stated_accuracy():
    result = check("train_neuron", slipped(train_neuron, "uphill"))
    assert result.points == 0
    assert any("at least 95% are needed" in m for m in result.messages), str(result)


def test_a_loop_that_only_records_the_losses_late_keeps_the_other_parts():
    result = check("train_neuron", slipped(train_neuron, "after"))
    assert result.points == 2 and result.messages[-1] == "right: W and b, accuracy"


def test_the_checkers_data_set_is_separable_and_the_reference_reaches_the_accuracy():
    X, T = ex03_one_neuron.separable_set()
    W, b, losses = ex03_one_neuron.reference_training(
        X, T, np.zeros((1, 2)), np.zeros(1), ex03_one_neuron.TRAIN_LR, ex03_one_neuron.TRAIN_STEPS
    )
    assert np.mean((sigmoid(X @ W.T + b) > 0.5) == (T > 0.5)) == 1.0
    assert losses[0] == pytest.approx(0.125) and losses[-1] < 0.01


def test_losses_may_be_a_list_of_numbers_or_of_one_element_arrays():
    def as_arrays(*args):
        W, b, losses = train_neuron(*args)
        return W, b, [np.array([v]) for v in losses]

    assert check("train_neuron", as_arrays).passed
