"""Answers to exercises/03_one_neuron.ipynb: right, and wrong on purpose (the `slip` keyword)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from item_contract import Wrong, slipped

from bpcourse.checking.items.ex03_one_neuron import NOTEBOOK

__all__ = ["BAD", "CATALOGUE", "NOTEBOOK", "POINTS", "RECALL", "RIGHT"]

POINTS = {
    "sigmoid_and_derivative": 3,
    "neuron_gradient": 5,
    "neuron_step": 2,
    "train_neuron": 4,
    "q_dZ_shape": 1,
    "q_equal_weights": 1,
    "q_saturation": 1,
}
RECALL = {"neuron_step"}  # plumbing: an update with a gradient already written


def sigmoid_and_derivative(z, slip=""):
    if slip == "naive":
        a = 1 / (1 + np.exp(-z))
    else:
        e = np.exp(-np.abs(z))  # at most 1: never overflows
        a = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    if slip == "exponent":
        a = 1 - a
    da_dz = {"z(1-z)": z * (1 - z), "sigma": a, "1-a": 1 - a}.get(slip, a * (1 - a))
    return a, da_dz


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def neuron_gradient(X, Y, W, b, slip=""):
    N = len(X)
    Z = X @ W.T + b
    A = _sigmoid(Z)
    if slip == "loop =":
        for n in range(N):
            delta = (A[n] - Y[n]) * A[n] * (1 - A[n]) / N
            dW, db = np.outer(delta, X[n]), delta
        return dW, db
    slope = A * (1 - A)
    if "no slope" in slip:
        slope = 1.0
    if slip == "z(1-z)":
        slope = Z * (1 - Z)
    err = (Y - A) if "sign" in slip else (A - Y)
    D = err * slope / (1 if "sum" in slip else N)
    if slip == "double":
        D = 2 * D
    dW = X.T @ D if slip == "transpose" else D.T @ X
    db = D.sum(axis=1) if slip == "axis" else D.sum(axis=0)
    return dW, db


def neuron_step(X, Y, W, b, lr, slip=""):
    dW, db = neuron_gradient(X, Y, W, b, slip="no slope" if slip == "no slope" else "")
    if slip == "uphill":
        return W + lr * dW, b + lr * db
    if slip == "no lr":
        return W - dW, b - db
    if slip == "step only":
        return -lr * dW, -lr * db
    if slip == "not applied":
        return W, b
    return W - lr * dW, b - lr * db


def train_neuron(X, Y, W, b, lr, steps, slip=""):
    losses = []
    dW, db = neuron_gradient(X, Y, W, b)
    for _ in range(steps):
        if slip != "after":
            losses.append(0.5 * np.mean((_sigmoid(X @ W.T + b) - Y) ** 2))
        if slip != "once":
            dW, db = neuron_gradient(X, Y, W, b)
        if slip == "uphill":
            W, b = neuron_step(X, Y, W, b, lr, slip="uphill")  # the sign error is in the step
        else:
            W, b = W - lr * dW, b - lr * db
        if slip == "after":
            losses.append(0.5 * np.mean((_sigmoid(X @ W.T + b) - Y) ** 2))
    if slip == "sum loss":
        losses = [len(X) * v for v in losses]
    return W, b, losses


RIGHT: dict[str, Callable[..., Any]] = {
    "sigmoid_and_derivative": sigmoid_and_derivative,
    "neuron_gradient": neuron_gradient,
    "neuron_step": neuron_step,
    "train_neuron": train_neuron,
    "q_dZ_shape": lambda: (32, 1),
    "q_equal_weights": lambda: "b",
    "q_saturation": lambda: 0.0706508,
}


def _wrong(grade_id: str, slip: str, diagnosis: str | None) -> Wrong:
    return Wrong(slip, slipped(RIGHT[grade_id], slip), diagnosis)


CATALOGUE: dict[str, list[Wrong]] = {
    "sigmoid_and_derivative": [
        _wrong("sigmoid_and_derivative", "naive", "it overflows"),
        _wrong("sigmoid_and_derivative", "exponent", "the exponent is −z"),
        _wrong("sigmoid_and_derivative", "z(1-z)", "takes the output a = σ(z), not the input z"),
        _wrong("sigmoid_and_derivative", "sigma", "is σ(z) itself, not its derivative"),
        _wrong("sigmoid_and_derivative", "1-a", "the factor σ(z) is missing"),
    ],
    "neuron_gradient": [
        _wrong("neuron_gradient", "no slope", "without the activation derivative σ'(z) = ŷ(1 − ŷ)"),
        _wrong("neuron_gradient", "z(1-z)", "uses z(1 − z) for σ'(z)"),
        _wrong("neuron_gradient", "sign", "each has the opposite sign: the loss's derivative"),
        _wrong("neuron_gradient", "sum", "each is N = 6 times too large"),
        _wrong("neuron_gradient", "double", "½(ŷ − y)² differentiates to (ŷ − y)"),
        _wrong("neuron_gradient", "transpose", "did you forget a transpose"),
        _wrong("neuron_gradient", "axis", "sums over the batch, axis=0"),
        _wrong("neuron_gradient", "loop =", "did you write `=` where `+=` belongs?"),
        _wrong(
            "neuron_gradient",
            "no slope sum",
            "and sums over the batch instead of taking the mean (two",
        ),
        _wrong(
            "neuron_gradient", "sum sign", "instead of taking the mean, and has the opposite sign"
        ),
        _wrong("neuron_gradient", "no slope sign", "σ'(z) = ŷ(1 − ŷ) and has the opposite sign"),
    ],
    "neuron_step": [
        _wrong("neuron_step", "uphill", "climbs the loss (a sign error"),
        _wrong("neuron_step", "no lr", "the learning rate η is missing"),
        _wrong("neuron_step", "step only", "is only the step −η ∂ℒ/∂θ"),
        _wrong("neuron_step", "no slope", "is a step with a gradient that lacks σ'(z)"),
        _wrong("neuron_step", "not applied", "is the old parameter: the update was not applied"),
    ],
    "train_neuron": [
        _wrong("train_neuron", "uphill", "is what gradient ascent gives, a sign error"),
        _wrong("train_neuron", "once", "compute the gradient again inside the loop"),
        _wrong("train_neuron", "after", "record it before the update"),
        _wrong(
            "train_neuron", "sum loss", "losses are N = 40 times too large: the loss is the mean"
        ),
    ],
}


BAD: dict[str, object] = {
    "returns NaN arrays": lambda *args: (np.full((1, 3), np.nan), np.full(1, np.nan), [np.nan]),
}
