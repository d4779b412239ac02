"""Answers to exercises/01_derivatives_and_the_chain_rule.ipynb: right, and wrong on purpose."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from item_contract import Wrong, slipped

from bpcourse.activations import sigmoid
from bpcourse.checking.items.ex01_derivatives_and_the_chain_rule import NOTEBOOK

__all__ = ["BAD", "CATALOGUE", "NOTEBOOK", "POINTS", "RECALL", "RIGHT"]

POINTS = {
    "chain_rule_derivative": 3,
    "second_derivative": 3,
    "neuron_chain_rule": 5,
    "gradient_descent_path": 3,
    "largest_learning_rate": 3,
    "q_difference_error": 1,
    "q_what_backprop_is": 1,
    "q_linear_network": 1,
}
RECALL = {"q_difference_error", "q_what_backprop_is", "q_linear_network"}


def chain_rule_derivative(x: float) -> float:
    u = math.sin(3 * x)
    return 1 / (1 + math.exp(-u)) * math.cos(3 * x) * 3


def _sig(u: float) -> float:
    return 1 / (1 + math.exp(-u))


def _softplus(u: float) -> float:
    return math.log(1 + math.exp(u))


def second_derivative(f: Callable[[float], float], x: float, h: float) -> float:
    return (f(x + h) - 2 * f(x) + f(x - h)) / h**2


def neuron_gradient(
    w: float, b: float, x: np.ndarray, y: np.ndarray, slip: str = ""
) -> tuple[Any, Any]:
    z = w * x + b
    y_hat = sigmoid(z)
    slope = y_hat * (1 - y_hat)
    if "no σ'" in slip:
        slope = np.ones_like(z)
    if slip == "z(1-z)":
        slope = z * (1 - z)
    if slip == "σ at ŷ":
        slope = sigmoid(y_hat) * (1 - sigmoid(y_hat))
    delta = (y_hat - y) * slope / len(x)
    if "sum" in slip:
        delta = delta * len(x)
    if "sign" in slip:
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
    "second_derivative": second_derivative,
    "neuron_chain_rule": neuron_gradient,
    "gradient_descent_path": gradient_descent,
    "largest_learning_rate": largest_learning_rate,
    "q_difference_error": lambda: 0.01,
    "q_what_backprop_is": lambda: "b",
    "q_linear_network": lambda: "c",
}

s3, c3 = (lambda x: math.sin(3 * x)), (lambda x: math.cos(3 * x))

CATALOGUE: dict[str, list[Wrong]] = {
    "chain_rule_derivative": [
        Wrong("outer only", lambda x: _sig(s3(x)), "is the outer derivative only"),
        Wrong("no 3", lambda x: _sig(s3(x)) * c3(x), "lacks the innermost factor 3"),
        Wrong("no cos", lambda x: _sig(s3(x)) * 3, "lacks the middle factor cos(3x)"),
        Wrong("σ at x", lambda x: _sig(x) * c3(x) * 3, "takes the outer derivative at x"),
        Wrong("σ(−u)", lambda x: _sig(-s3(x)) * c3(x) * 3, "uses 1/(1 + e^u)"),
        Wrong("cos x", lambda x: _sig(s3(x)) * math.cos(x) * 3, "uses 3 cos x"),
        Wrong("sign", lambda x: -chain_rule_derivative(x), "has the opposite sign"),
        Wrong("σ at x and no 3 (two slips)", lambda x: _sig(x) * c3(x), None),
        Wrong(
            "a finite difference",
            lambda x: (_softplus(s3(x + 1e-5)) - _softplus(s3(x - 1e-5))) / 2e-5,
            "that is what a finite difference gives",
        ),
    ],
    "second_derivative": [
        Wrong(
            "no −2f",
            lambda f, x, h: (f(x + h) + f(x - h)) / h**2,
            "leaves out the −2f(x) term",
        ),
        Wrong(
            "−f",
            lambda f, x, h: (f(x + h) - f(x) + f(x - h)) / h**2,
            "has −f(x) where −2f(x) belongs",
        ),
        Wrong(
            "2h²",
            lambda f, x, h: (f(x + h) - 2 * f(x) + f(x - h)) / (2 * h**2),
            "divides by 2h²",
        ),
        Wrong("/h", lambda f, x, h: (f(x + h) - 2 * f(x) + f(x - h)) / h, "divides by h, not h²"),
        Wrong(
            "/ h * h",
            lambda f, x, h: (f(x + h) - 2 * f(x) + f(x - h)) / h * h,
            "Python divides by h and multiplies by h again",
        ),
        Wrong(
            "/ 2 * h**2",
            lambda f, x, h: (f(x + h) - 2 * f(x) + f(x - h)) / 2 * h**2,
            "Python divides by 2 and then multiplies by h²",
        ),
        Wrong(
            "forward",
            lambda f, x, h: (f(x + 2 * h) - 2 * f(x + h) + f(x)) / h**2,
            "is the forward second difference",
        ),
        Wrong(
            "sign",
            lambda f, x, h: (2 * f(x) - f(x + h) - f(x - h)) / h**2,
            "f(x ± h) enter with +, f(x) with −2",
        ),
    ],
    "neuron_chain_rule": [
        Wrong("no σ'", slipped(neuron_gradient, "no σ'"), "without the activation derivative"),
        Wrong("sum", slipped(neuron_gradient, "sum"), "each is N = 6 times too large"),
        Wrong("sign", slipped(neuron_gradient, "sign"), "each has the opposite sign: the loss's"),
        Wrong("z(1-z)", slipped(neuron_gradient, "z(1-z)"), "uses z(1 − z) for σ'(z)"),
        Wrong("σ at ŷ", slipped(neuron_gradient, "σ at ŷ"), "takes σ' at ŷ"),
        Wrong("no x", slipped(neuron_gradient, "no x"), "∂z/∂w = x"),
        Wrong("=", slipped(neuron_gradient, "="), "did you write `=` where `+=` belongs?"),
        Wrong("per example", slipped(neuron_gradient, "per example"), "one entry per example"),
        Wrong(
            "no σ' and a sum",
            slipped(neuron_gradient, "no σ' sum"),
            "sums over the batch instead of taking the mean (two slips",
        ),
        Wrong(
            "no σ' and the sign",
            slipped(neuron_gradient, "no σ' sign"),
            "leaves out σ'(z) = ŷ(1 − ŷ) and has the opposite sign",
        ),
        Wrong(
            "a sum and the sign",
            slipped(neuron_gradient, "sum sign"),
            "instead of taking the mean, and has the opposite sign",
        ),
    ],
    "gradient_descent_path": [
        Wrong("in place", slipped(gradient_descent, "in place"), "append w.copy()"),
        Wrong("ascent", slipped(gradient_descent, "ascent"), "path climbs"),
        Wrong("no lr", slipped(gradient_descent, "no lr"), "leaves out the learning rate"),
        Wrong("grad at start", slipped(gradient_descent, "grad at start"), "at the start"),
        Wrong("no start", slipped(gradient_descent, "no start"), "the start is missing"),
        Wrong("transpose", slipped(gradient_descent, "transpose"), "forget a transpose"),
    ],
    "largest_learning_rate": [
        Wrong("1/λ", lambda A: 1 / np.linalg.eigvalsh(A).max(), "half the limit"),
        Wrong("diagonal", lambda A: 2 / np.diag(A).max(), "uses the diagonal of A"),
        Wrong("λ_min", lambda A: 2 / np.linalg.eigvalsh(A).min(), "uses the smallest curvature"),
        Wrong("negative", lambda A: -2 / np.linalg.eigvalsh(A).max(), "must be positive"),
    ],
}

BAD: dict[str, object] = {"returns a string": lambda *args: "dW"}
