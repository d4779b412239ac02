"""The graded items of exercises/02_computational_graphs_and_reverse_mode.ipynb, checked.

For every item: the reference answer gets full marks, the exercise's stub is "not
attempted" (0 points, no exception), realistic wrong answers fail with the diagnosis of
their mistake, and unusable values get feedback instead of a traceback.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import item_contract as contract
import pytest
from item_contract import run, slipped

from bpcourse.autodiff import ScalarMLP, Value, mse_loss, topological_order
from bpcourse.checking import load_items
from bpcourse.checking.items.ex02_computational_graphs_and_reverse_mode import NOTEBOOK

load_items()

# --- reference answers (with switchable slips), as in the solution notebook ---------------------


def sin_with(slip: str = "") -> Callable[[Value], Value]:
    def sin(x: Value) -> Value:
        out = Value(math.sin(x.data))
        out.parents, out.op = (x,), "sin"

        def _backward() -> None:
            if slip == "stub":
                raise NotImplementedError()
            local = math.cos(x.data)
            if slip == "=":
                x.grad = local * out.grad
            elif slip == "no out.grad":
                x.grad += local
            elif slip == "minus":
                x.grad -= local * out.grad
            elif slip == "sin for cos":
                x.grad += math.sin(x.data) * out.grad
            else:
                x.grad += local * out.grad

        out._backward = _backward
        return out

    return sin


def divide_with(slip: str = "") -> Callable[[Value, Value], Value]:
    def divide(a: Value, b: Value) -> Value:
        out = Value(a.data / b.data)
        out.parents, out.op = (a, b), "/"

        def _backward() -> None:
            if slip == "stub":
                raise NotImplementedError()
            da, db = out.grad / b.data, -out.grad * a.data / b.data**2
            if slip == "no out.grad":
                da, db = 1 / b.data, -a.data / b.data**2
            if slip == "sign":
                db = -db
            if slip == "no a":
                db = -out.grad / b.data**2
            if slip == "=":
                a.grad, b.grad = da, db
            else:
                a.grad += da
                b.grad += db

        out._backward = _backward
        return out

    return divide


def topological_sort(root: Value, slip: str = "") -> list[Value]:
    order: list[Value] = []
    visited: set[Value] = set()

    def visit(node: Value) -> None:
        if slip != "no visited set":
            if node in visited:
                return
            visited.add(node)
        if slip == "pre-order":
            order.append(node)
        for parent in node.parents:
            visit(parent)
        if slip != "pre-order" and (node.parents or slip != "no leaves"):
            order.append(node)

    visit(root)
    return order[::-1] if slip == "reversed" else order


def backward_pass(root: Value, slip: str = "") -> None:
    if slip == "root.backward()":
        root.backward()
        return
    order = topological_order(root)
    if slip != "no reset":
        for node in order:
            node.grad = 0.0
    if slip != "no seed":
        root.grad = 1.0
    for node in order if slip == "forward order" else reversed(order):
        node._backward()


def training_step(
    model: ScalarMLP, inputs: list[list[float]], targets: list[float], lr: float, slip: str = ""
) -> Any:
    predictions = [model(x) for x in inputs]
    loss = mse_loss([p for p in predictions if isinstance(p, Value)], targets)
    if slip != "no zero_grad":
        model.zero_grad()
    loss.backward()
    if slip == "zero_grad after backward":
        model.zero_grad()
    for p in model.parameters():
        if slip == "ascent":
            p.data += lr * p.grad
        elif slip == "no lr":
            p.data -= p.grad
        elif slip == "NaN":
            p.data = math.nan
        else:
            p.data -= lr * p.grad
    if slip == "no return":
        return None
    return loss if slip == "returns the Value" else loss.data


def backward_passes() -> float:
    return 1


RIGHT: dict[str, Callable[..., Any]] = {
    "value_sin_backward": sin_with(),
    "value_div_backward": divide_with(),
    "value_topological_sort": topological_sort,
    "value_backward_pass": backward_pass,
    "value_training_step": training_step,
    "reverse_mode_passes": backward_passes,
}


def test_the_notebook_has_these_items_in_this_order():
    assert contract.items_of(NOTEBOOK) == [
        ("value_sin_backward", 2),
        ("value_div_backward", 2),
        ("value_topological_sort", 2),
        ("value_backward_pass", 3),
        ("value_training_step", 3),
        ("reverse_mode_passes", 1),
    ]


@pytest.mark.parametrize("grade_id", list(RIGHT))
def test_the_reference_answer_gets_full_marks(grade_id):
    contract.assert_full_marks(grade_id, RIGHT[grade_id], run=run)


STUBS: dict[str, Callable[..., Any]] = {
    "value_sin_backward": sin_with("stub"),  # the exercise's stub is inside _backward
    "value_div_backward": divide_with("stub"),
}


@pytest.mark.parametrize("grade_id", list(RIGHT))
def test_the_exercise_stub_is_not_attempted_with_no_points(grade_id):
    contract.assert_not_attempted(grade_id, STUBS.get(grade_id, contract.stub), run=run)


EQUALS = "did you write `=` where `+=` belongs?"
WRONG = [
    ("value_sin_backward", sin_with("="), EQUALS),
    ("value_sin_backward", sin_with("no out.grad"), "without out.grad"),
    ("value_sin_backward", sin_with("sin for cos"), "the derivative of sin is cos"),
    ("value_sin_backward", sin_with("minus"), "x.grad has the opposite sign"),
    ("value_div_backward", divide_with("="), EQUALS),
    ("value_div_backward", divide_with("no out.grad"), "leaves out out.grad"),
    ("value_div_backward", divide_with("sign"), "∂(a/b)/∂b = −a/b²"),
    ("value_div_backward", divide_with("no a"), "uses −1/b² for ∂(a/b)/∂b"),
    (
        "value_topological_sort",
        slipped(topological_sort, "no visited set"),
        "set of visited",
    ),
    ("value_topological_sort", slipped(topological_sort, "pre-order"), "(pre-order)"),
    (
        "value_topological_sort",
        slipped(topological_sort, "reversed"),
        "the list is reversed",
    ),
    ("value_topological_sort", slipped(topological_sort, "no leaves"), "the leaves"),
    (
        "value_backward_pass",
        slipped(backward_pass, "forward order"),
        "visits the nodes in reverse",
    ),
    ("value_backward_pass", slipped(backward_pass, "no reset"), "leftover grads (5.0)"),
    ("value_backward_pass", slipped(backward_pass, "no seed"), "root.grad = 1"),
    ("value_backward_pass", slipped(backward_pass, "root.backward()"), "root.backward()"),
    (
        "value_training_step",
        slipped(training_step, "no zero_grad"),
        "call model.zero_grad()",
    ),
    (
        "value_training_step",
        slipped(training_step, "zero_grad after backward"),
        "the parameters did not change",
    ),
    ("value_training_step", slipped(training_step, "ascent"), "goes uphill"),
    (
        "value_training_step",
        slipped(training_step, "no lr"),
        "multiply the gradient by the",
    ),
    (
        "value_training_step",
        slipped(training_step, "returns the Value"),
        "return the number",
    ),
    ("value_training_step", slipped(training_step, "no return"), "forget to `return` it?"),
    ("reverse_mode_passes", lambda: 2, "is not the answer"),
    ("reverse_mode_passes", lambda: 1_000_000, "what forward mode needs"),
    ("reverse_mode_passes", lambda: 2e6, "what central differences need"),
]


@pytest.mark.parametrize(
    ("grade_id", "answer", "diagnosis"), WRONG, ids=[f"{g}: {d[:30]}" for g, _, d in WRONG]
)
def test_known_wrong_answers_fail_with_their_diagnosis(grade_id, answer, diagnosis):
    contract.assert_fails_with(grade_id, answer, diagnosis, run=run)


def test_a_missing_zero_grad_is_caught_at_the_second_step():
    result = run("value_training_step", slipped(training_step, "no zero_grad"))
    assert result.messages[0].startswith("step 2's update"), str(result)


def sets_nan(root: Value) -> None:
    for node in topological_order(root):
        node.grad = math.nan


BAD_HERE: dict[str, object] = {  # not "returns None": the right backward pass returns None
    **{k: v for k, v in contract.BAD.items() if k != "returns None"},
    "returns a string": lambda *args: "x",
}
NAN_ANSWERS = {  # where "return NaN" is no answer at all, an answer that makes NaN
    "value_backward_pass": sets_nan,
    "value_training_step": slipped(training_step, "NaN"),
}


@pytest.mark.parametrize("grade_id", list(RIGHT))
@pytest.mark.parametrize("bad", list(BAD_HERE))
def test_bad_values_get_feedback_never_a_traceback(grade_id, bad):
    answer = NAN_ANSWERS.get(grade_id, BAD_HERE[bad]) if bad == "returns NaN" else BAD_HERE[bad]
    result = contract.assert_feedback_without_traceback(grade_id, answer, run=run)
    if bad == "raises":
        contract.assert_raise_is_reported(result)
    if bad == "returns NaN" and grade_id in NAN_ANSWERS:
        assert any("nan" in m.lower() for m in result.messages), str(result)
