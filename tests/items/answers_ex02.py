"""Answers to exercises/02_computational_graphs_and_reverse_mode.ipynb: right, and wrong on purpose.

Each answer works on `Value` graphs, as the learner's does; the items' adapters turn them
into data before the checker sees them (the contract runs `Item.evaluate`, as `check` does).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from item_contract import Wrong, slipped

from bpcourse.autodiff import ScalarMLP, Value, mse_loss, topological_order
from bpcourse.checking.items.ex02_computational_graphs_and_reverse_mode import NOTEBOOK

__all__ = ["BAD", "CATALOGUE", "NOTEBOOK", "POINTS", "RECALL", "RIGHT"]

POINTS = {
    "value_sin_backward": 2,
    "value_div_backward": 2,
    "value_topological_sort": 2,
    "value_backward_pass": 3,
    "value_training_step": 3,
    "reverse_mode_passes": 1,
    "q_value_used_twice": 1,
    "q_forward_mode_passes": 1,
}
RECALL: set[str] = set()


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
            elif slip == "= and no out.grad":
                x.grad = local
            elif slip == "minus":
                x.grad -= local * out.grad
            elif slip == "-cos":
                x.grad += -local * out.grad
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
            if slip == "swapped":
                da, db = db, da
            if slip == "= and sign":
                a.grad, b.grad = da, -db
            elif slip == "=":
                a.grad, b.grad = da, db
            else:
                a.grad += da
                b.grad += db

        out._backward = _backward
        return out

    return divide


def divide_by_the_engine(a: Value, b: Value) -> Value:
    return a / b  # the library's own division node


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
    order = topological_order(root)
    if slip != "no reset":
        for node in order:
            node.grad = 0.0
    if slip != "no seed":
        root.grad = 1.0
    for node in order if slip == "forward order" else reversed(order):
        node._backward()


def backward_pass_by_the_engine(root: Value) -> None:
    root.backward()  # the library's own pass: forbidden


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


RIGHT: dict[str, Callable[..., Any]] = {
    "value_sin_backward": sin_with(),
    "value_div_backward": divide_with(),
    "value_topological_sort": topological_sort,
    "value_backward_pass": backward_pass,
    "value_training_step": training_step,
    "reverse_mode_passes": lambda: 1,
    "q_value_used_twice": lambda: "c",
    "q_forward_mode_passes": lambda: 3,
}

EQUALS = "did you write `=` where `+=` belongs?"
CATALOGUE: dict[str, list[Wrong]] = {
    "value_sin_backward": [
        Wrong("=", sin_with("="), EQUALS),
        Wrong("no out.grad", sin_with("no out.grad"), "without out.grad"),
        Wrong("sin for cos", sin_with("sin for cos"), "uses sin(x) as the local derivative"),
        Wrong(
            "= and no out.grad (two slips)",
            sin_with("= and no out.grad"),
            "is one local derivative cos(x): multiply by out.grad, and add (+=)",
        ),
        Wrong("minus", sin_with("minus"), "x.grad has the opposite sign: d/dx sin x = +cos x"),
        Wrong("−cos", sin_with("-cos"), "x.grad has the opposite sign: d/dx sin x = +cos x"),
    ],
    "value_div_backward": [
        Wrong("=", divide_with("="), EQUALS),
        Wrong("no out.grad", divide_with("no out.grad"), "leaves out out.grad"),
        Wrong("sign", divide_with("sign"), "has the wrong sign for the denominator"),
        Wrong("no a", divide_with("no a"), "uses −1/b² for ∂(a/b)/∂b"),
        Wrong("swapped", divide_with("swapped"), "swaps the two shares"),
        Wrong("= and sign (two slips)", divide_with("= and sign"), None),
        Wrong("the engine's a / b", divide_by_the_engine, "made by the library's own operation"),
    ],
    "value_topological_sort": [
        Wrong("no visited set", slipped(topological_sort, "no visited set"), "set of visited"),
        Wrong("pre-order", slipped(topological_sort, "pre-order"), "(pre-order)"),
        Wrong("reversed", slipped(topological_sort, "reversed"), "the list is reversed"),
        Wrong("no leaves", slipped(topological_sort, "no leaves"), "the leaves"),
    ],
    "value_backward_pass": [
        Wrong(
            "forward order", slipped(backward_pass, "forward order"), "visits the nodes in reverse"
        ),
        Wrong("no reset", slipped(backward_pass, "no reset"), "leftover grads (5.0)"),
        Wrong("no seed", slipped(backward_pass, "no seed"), "root.grad = 1"),
    ],
    "value_training_step": [
        Wrong("no zero_grad", slipped(training_step, "no zero_grad"), "call model.zero_grad()"),
        Wrong(
            "zero_grad after backward",
            slipped(training_step, "zero_grad after backward"),
            "the parameters did not change",
        ),
        Wrong("ascent", slipped(training_step, "ascent"), "goes uphill"),
        Wrong("no lr", slipped(training_step, "no lr"), "multiply the gradient by the"),
        Wrong(
            "returns the Value", slipped(training_step, "returns the Value"), "return the number"
        ),
        Wrong("no return", slipped(training_step, "no return"), "return the loss, a number"),
    ],
}

BAD: dict[str, object] = {"returns a string": lambda *args: "x"}
