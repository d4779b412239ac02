"""The graded items of exercises/01_derivatives_and_the_chain_rule.ipynb, checked.

For every item: the reference answer gets full marks, the exercise's stub is "not
attempted" (0 points, no exception), realistic wrong answers fail with the diagnosis of
their mistake, and unusable values get feedback instead of a traceback.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import item_contract as contract
import numpy as np
import pytest
from item_contract import run, slipped

from bpcourse.activations import sigmoid
from bpcourse.checking import load_items
from bpcourse.checking.items.ex01_derivatives_and_the_chain_rule import NOTEBOOK

load_items()

# --- reference answers, as in solutions/01_derivatives_and_the_chain_rule.ipynb -----------------


def chain_rule_derivative(x: float) -> float:
    return math.cos(x**2) * 2 * x


def central_difference(f: Callable[[float], float], x: float, h: float) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


def neuron_gradient(
    w: float, b: float, x: np.ndarray, y: np.ndarray, slip: str = ""
) -> tuple[Any, Any]:
    z = w * x + b
    y_hat = sigmoid(z)
    slope = y_hat * (1 - y_hat)
    if slip == "no σ'":
        slope = np.ones_like(z)
    if slip == "z(1-z)":
        slope = z * (1 - z)
    delta = (y_hat - y) * slope / len(x)
    if slip == "sum":
        delta = delta * len(x)
    if slip == "sign":
        delta = -delta
    if slip == "no x":
        return float(delta.sum()), float(delta.sum())
    if slip == "per example":
        return delta * x, delta
    if slip == "=":  # a loop that overwrites instead of adding
        for n in range(len(x)):
            dw, db = delta[n] * x[n], delta[n]
        return dw, db
    return float(delta @ x), float(delta.sum())


def gradient_descent(
    grad: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray,
    lr: float,
    steps: int,
    slip: str = "",
) -> np.ndarray:
    w = np.array(start, dtype=np.float64)
    path = [w]
    for _ in range(steps):
        if slip == "in place":
            w -= lr * grad(w)  # the same array object, appended again and again
            path.append(w)
            continue
        step = grad(start if slip == "grad at start" else w)
        w = w + lr * step if slip == "ascent" else w - (1.0 if slip == "no lr" else lr) * step
        path.append(w)
    if slip == "no start":
        path = path[1:]
    return np.array(path).T if slip == "transpose" else np.array(path)


def largest_learning_rate(A: np.ndarray) -> float:
    return float(2 / np.linalg.eigvalsh(A).max())


RIGHT: dict[str, Callable[..., Any]] = {
    "chain_rule_derivative": chain_rule_derivative,
    "central_difference": central_difference,
    "neuron_chain_rule": neuron_gradient,
    "gradient_descent_path": gradient_descent,
    "largest_learning_rate": largest_learning_rate,
}


def test_the_notebook_has_these_items_and_no_others():
    assert dict(contract.items_of(NOTEBOOK)) == {
        "chain_rule_derivative": 2,
        "central_difference": 2,
        "neuron_chain_rule": 3,
        "gradient_descent_path": 2,
        "largest_learning_rate": 2,
    }


@pytest.mark.parametrize("grade_id", list(RIGHT))
def test_the_reference_answer_gets_full_marks(grade_id):
    contract.assert_full_marks(grade_id, RIGHT[grade_id], run=run)


@pytest.mark.parametrize("grade_id", list(RIGHT))
def test_the_exercise_stub_is_not_attempted_with_no_points(grade_id):
    contract.assert_not_attempted(grade_id, run=run)


WRONG = [
    ("chain_rule_derivative", lambda x: math.cos(x**2), "is the outer derivative only"),
    ("chain_rule_derivative", lambda x: 2 * x, "is the inner derivative only"),
    ("chain_rule_derivative", lambda x: -2 * x * math.cos(x**2), "has the opposite sign"),
    (
        "central_difference",
        lambda f, x, h: (f(x + h) - f(x)) / h,
        "is the forward difference (f(x + h) − f(x)) / h",
    ),
    (
        "central_difference",
        lambda f, x, h: (f(x + h) - f(x - h)) / 2 * h,
        "Python divides by 2 and then multiplies by h",
    ),
    ("central_difference", lambda f, x, h: (f(x + h) - f(x - h)) / h, "divides by h, not 2h"),
    (
        "central_difference",
        lambda f, x, h: (f(x - h) - f(x + h)) / (2 * h),
        "subtract f(x − h) from f(x + h)",
    ),
    ("central_difference", lambda f, x, h: (f(x) - f(x - h)) / h, "the backward difference"),
    (
        "neuron_chain_rule",
        slipped(neuron_gradient, "no σ'"),
        "each equals the answer without the activation derivative σ'(z)",
    ),
    (
        "neuron_chain_rule",
        slipped(neuron_gradient, "sum"),
        "each is N = 6 times too large",
    ),
    ("neuron_chain_rule", slipped(neuron_gradient, "sign"), "each has the opposite sign"),
    (
        "neuron_chain_rule",
        slipped(neuron_gradient, "z(1-z)"),
        "each uses z(1 − z) for σ'(z)",
    ),
    ("neuron_chain_rule", slipped(neuron_gradient, "no x"), "∂z/∂w = x"),
    (
        "neuron_chain_rule",
        slipped(neuron_gradient, "="),
        "did you write `=` where `+=` belongs?",
    ),
    (
        "neuron_chain_rule",
        slipped(neuron_gradient, "per example"),
        "one entry per example",
    ),
    ("gradient_descent_path", slipped(gradient_descent, "in place"), "append w.copy()"),
    ("gradient_descent_path", slipped(gradient_descent, "ascent"), "path climbs"),
    (
        "gradient_descent_path",
        slipped(gradient_descent, "no lr"),
        "leaves out the learning",
    ),
    ("gradient_descent_path", slipped(gradient_descent, "grad at start"), "at the start"),
    (
        "gradient_descent_path",
        slipped(gradient_descent, "no start"),
        "the start is missing",
    ),
    (
        "gradient_descent_path",
        slipped(gradient_descent, "transpose"),
        "forget a transpose",
    ),
    ("largest_learning_rate", lambda A: 1 / np.linalg.eigvalsh(A).max(), "half the limit"),
    ("largest_learning_rate", lambda A: 2 / np.diag(A).max(), "uses the diagonal of A"),
    (
        "largest_learning_rate",
        lambda A: 2 / np.linalg.eigvalsh(A).min(),
        "uses the smallest curvature",
    ),
    ("largest_learning_rate", lambda A: -2 / np.linalg.eigvalsh(A).max(), "must be positive"),
]


@pytest.mark.parametrize(
    ("grade_id", "answer", "diagnosis"), WRONG, ids=[f"{g}: {d[:30]}" for g, _, d in WRONG]
)
def test_known_wrong_answers_fail_with_their_diagnosis(grade_id, answer, diagnosis):
    contract.assert_fails_with(grade_id, answer, diagnosis, run=run)


def test_half_right_neuron_gradient_gets_half_the_points_and_is_told_which_half():
    result = run("neuron_chain_rule", slipped(neuron_gradient, "no x"))
    assert result.points == 1.5
    assert result.messages[-1] == "right: dL/db"


def test_a_forward_difference_is_told_its_error_order():
    result = run("central_difference", lambda f, x, h: (f(x + h) - f(x)) / h)
    assert any("falls like h^1.0" in m for m in result.messages), str(result)


BAD_HERE: dict[str, object] = {**contract.BAD, "returns a string": lambda *args: "dW"}


@pytest.mark.parametrize("grade_id", list(RIGHT))
@pytest.mark.parametrize("bad", list(BAD_HERE))
def test_bad_values_get_feedback_never_a_traceback(grade_id, bad):
    result = contract.assert_feedback_without_traceback(grade_id, BAD_HERE[bad], run=run)
    if bad == "raises":
        contract.assert_raise_is_reported(result)
