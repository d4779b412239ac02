"""Answers to exercises/07_vanishing_and_exploding_gradients.ipynb: right, and wrong on purpose.

The `slip` keyword switches on one slip or several (a tuple), as in answers_ex06.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from item_contract import Wrong, slipped

from bpcourse.checking.items.ex07_vanishing_and_exploding_gradients import NOTEBOOK

__all__ = ["BAD", "CATALOGUE", "NOTEBOOK", "POINTS", "RECALL", "RIGHT"]

POINTS = {
    "xavier_normal": 2,
    "he_normal": 2,
    "gradient_norms": 6,
    "clip_by_global_norm": 3,
    "mlp_flops": 2,
    "cache_bytes": 2,
    "q_sigmoid_chain": 1,
    "q_clip_value_cosine": 1,
    "q_he_factor": 1,
    "q_backward_cost": 1,
}
RECALL = {"q_backward_cost"}  # the rule of thumb, once mlp_flops has derived it

# --- reference solutions, written as a learner would, with switchable slips ----------------------


def _slips(slip):
    return (slip,) if isinstance(slip, str) else slip


def xavier_normal(n_out, n_in, rng, slip=()):
    slip = _slips(slip)
    if "n_in only" in slip:
        variance = 1 / n_in
    elif "n_out only" in slip:
        variance = 1 / n_out
    elif "no 2" in slip:
        variance = 1 / (n_in + n_out)
    elif "He" in slip:
        variance = 2 / n_in
    else:
        variance = 2 / (n_in + n_out)
    std = np.sqrt(variance)
    if "no sqrt" in slip:
        std = variance
    if "2 outside" in slip:
        std = 2 * np.sqrt(1 / (n_in + n_out))
    if "uniform" in slip:
        a = np.sqrt(3 * variance)
        return rng.uniform(-a, a, size=(n_out, n_in))
    if "uniform ± std" in slip:  # the standard deviation used as the limit: variance std²/3
        return rng.uniform(-std, std, size=(n_out, n_in))
    if "unscaled" in slip:
        return rng.standard_normal((n_out, n_in))
    if "np.random" in slip:
        return np.random.normal(0.0, std, size=(n_out, n_in))  # noqa: NPY002 (the slip)
    if "transposed" in slip:
        return rng.normal(0.0, std, size=(n_in, n_out))
    if "× 1.3" in slip:
        std = std * 1.3
    return rng.normal(0.0, std, size=(n_out, n_in))


def he_normal(n_out, n_in, rng, slip=()):
    slip = _slips(slip)
    if "no 2" in slip:
        variance = 1 / n_in
    elif "n_out" in slip:
        variance = 2 / n_out
    elif "Xavier" in slip:
        variance = 2 / (n_in + n_out)
    else:
        variance = 2 / n_in
    std = np.sqrt(variance)
    if "no sqrt" in slip:
        std = variance
    if "2 outside" in slip:
        std = 2 * np.sqrt(1 / n_in)
    if "uniform" in slip:
        a = np.sqrt(3 * variance)
        return rng.uniform(-a, a, size=(n_out, n_in))
    if "uniform ± std" in slip:
        return rng.uniform(-std, std, size=(n_out, n_in))
    if "unscaled" in slip:
        return rng.standard_normal((n_out, n_in))
    if "mean 0.1" in slip:
        return rng.normal(0.1, std, size=(n_out, n_in))
    return rng.normal(0.0, std, size=(n_out, n_in))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def gradient_norms(X, Y, weights, biases, activation, slip=()):
    slip = _slips(slip)
    f = {"sigmoid": sigmoid, "tanh": np.tanh, "relu": lambda z: np.maximum(z, 0)}[activation]

    def f_prime(z):
        if activation == "sigmoid":
            return sigmoid(z) * (1 - sigmoid(z))
        if activation == "tanh":
            return 1 - np.tanh(z) ** 2
        return (z > 0).astype(float)

    L = len(weights)
    As, Zs = [X], []
    for k in range(L):
        Z = As[-1] @ weights[k].T + biases[k]
        Zs.append(Z)
        As.append(Z if k == L - 1 else f(Z))
    delta = (Zs[-1] - Y) / (1 if "no 1/N" in slip else len(X))
    if "no ½" in slip:
        delta = 2 * delta
    if "f' at output" in slip:
        delta = delta * f_prime(Zs[-1])
    norms = []
    for k in range(L - 1, -1, -1):
        dW = delta.T @ (Zs[k - 1] if "z for a" in slip and k > 0 else As[k])
        norms.append(np.linalg.norm(delta if "delta norms" in slip else dW))
        if k > 0:
            upstream = delta @ weights[k]
            if "no f'" in slip:
                delta = upstream
            elif "f' of a" in slip:
                delta = upstream * f_prime(As[k])
            else:
                delta = upstream * f_prime(Zs[k - 1])
    if "squared" in slip:
        norms = [n**2 for n in norms]
    if "× 1.7" in slip:
        norms = [1.7 * n for n in norms]
    return norms if "output first" in slip else norms[::-1]


def clip_by_global_norm(grads, max_norm, slip=()):
    slip = _slips(slip)
    if "per tensor" in slip:
        out = []
        for g in grads:
            n = np.linalg.norm(g)
            out.append(g * max_norm / n if n > max_norm or "always" in slip else g)
        return out, float(np.sqrt(sum(np.sum(g**2) for g in grads)))
    if "by value" in slip:
        return [np.clip(g, -max_norm, max_norm) for g in grads], float(
            np.sqrt(sum(np.sum(g**2) for g in grads))
        )
    squared = sum(np.sum(g**2) for g in grads)
    norm = float(squared if "squared" in slip else np.sqrt(squared))
    if "sum of norms" in slip:
        norm = float(sum(np.linalg.norm(g) for g in grads))
    factor = norm / max_norm if "inverted" in slip else max_norm / norm
    if "always" in slip or norm > max_norm:
        clipped = [g * factor for g in grads]
    else:
        clipped = [g.copy() for g in grads]
    if "× 0.9" in slip:
        clipped = [0.9 * g for g in clipped]
    if "norm after" in slip:
        norm = float(np.sqrt(sum(np.sum(g**2) for g in clipped)))
    return clipped, norm


def mlp_flops(N, sizes, slip=()):
    slip = _slips(slip)
    forward = backward = 0
    per_product = 1 if "multiplications only" in slip else 2
    rows = 1 if "no N" in slip else N
    for k in range(1, len(sizes)):
        n_in, n_out = sizes[k - 1], sizes[k]
        product = per_product * rows * n_in * n_out
        forward += product + (N * n_out if "bias again" in slip else 0)
        backward += product + (N * n_out if "db" in slip else 0)  # dW (and db)
        if (k > 1 or "dX of layer 1" in slip) and "no dX" not in slip:
            backward += product  # dA_prev
    if "swapped" in slip:
        return backward, forward
    if "+1" in slip:
        forward += 1
    return forward, backward


def cache_bytes(N, sizes, slip=()):
    slip = _slips(slip)
    per_number = {"numbers": 1, "float32": 4, "bits": 64}.get(next(iter(slip), ""), 8)
    kept = 0 if "no input" in slip else N * sizes[0]  # X, kept by layer 1
    for n in sizes[1:-1]:  # each hidden layer's activation keeps Z and A
        kept += N * n * (1 if "one per hidden layer" in slip else 3 if "A twice" in slip else 2)
    if "output" in slip:
        kept += N * sizes[-1]
    if "parameters" in slip:
        kept += sum(sizes[k - 1] * sizes[k] + sizes[k] for k in range(1, len(sizes)))
    if "one example" in slip:
        kept //= N
    if "× 1.5" in slip:
        kept = kept * 3 // 2
    return kept * per_number


RIGHT: dict[str, Callable[..., Any]] = {
    "xavier_normal": xavier_normal,
    "he_normal": he_normal,
    "gradient_norms": gradient_norms,
    "clip_by_global_norm": clip_by_global_norm,
    "mlp_flops": mlp_flops,
    "cache_bytes": cache_bytes,
    "q_sigmoid_chain": lambda: 0.25**10,
    "q_clip_value_cosine": lambda: 5 / np.sqrt(34),
    "q_he_factor": lambda: "b",
    "q_backward_cost": lambda: 2,
}
for _name in ("q_sigmoid_chain", "q_clip_value_cosine", "q_he_factor", "q_backward_cost"):
    RIGHT[_name].__name__ = _name

XAVIER = {
    "n_in only": "the variance is 1/n_in: that keeps the forward pass steady only",
    "n_out only": "the variance is 1/n_out",
    "no 2": "the variance is 1/(n_in + n_out): the 2 is missing",
    "no sqrt": "the square of 2/(n_in + n_out)",
    "2 outside": "the 2 belongs inside the square root, std = sqrt(2/(n_in + n_out))",
    "He": "the variance is 2/n_in, He's initialisation",
    "uniform": "xavier_normal draws from a normal distribution, rng.normal, not rng.uniform",
    "uniform ± std": "xavier_normal draws from a normal distribution, rng.normal, not rng.uniform",
    "unscaled": "the variance is 1: rng.standard_normal",
    "np.random": "two generators with the same seed gave different weights",
    "transposed": "W has shape (n_out, n_in)",
    "× 1.3": None,
}
HE = {
    "no 2": "the factor 2 is missing",
    "n_out": "the variance is 2/n_out",
    "Xavier": "the variance is 2/(n_in + n_out), Xavier's",
    "no sqrt": "the square of 2/n_in",
    "2 outside": "the 2 belongs inside the square root, std = sqrt(2/n_in)",
    "uniform": "he_normal draws from a normal distribution",
    "uniform ± std": "he_normal draws from a normal distribution",
    "unscaled": "the variance is 1: rng.standard_normal",
    "mean 0.1": "expected 0 (centred weights)",
}
NORMS = {
    "no f'": "leaves out the activation derivative",
    "f' of a": "evaluates f′ at the activation a(l) = f(z(l))",
    "f' at output": "multiplies the output layer's δ by f′",
    "z for a": "uses z(l−1) where a(l−1) belongs",
    "output first": "lists the layers from the output back to the input",
    "squared": "returns the squared norms",
    "delta norms": "returns the norms of δ(l)",
    "no ½": "is twice the right norms",
    "no 1/N": "is N = 6 times too large",
    "× 1.7": None,
}
CLIP = {
    "per tensor": "clips each tensor by its own norm",
    ("per tensor", "always"): "clips each tensor by its own norm",
    "by value": "that is clipping by value",
    "squared": "divides by the squared norm",
    "inverted": "multiplies by ‖g‖/max_norm",
    "always": "rescales a gradient whose norm is already below max_norm",
    "sum of norms": "uses the sum of the tensors' norms",
    "norm after": "your norm is measured after clipping",
    "× 0.9": None,
}
FLOPS = {
    "multiplications only": "your forward count has one FLOP per term",
    "bias again": "your forward count adds the bias on top",
    "dX of layer 1": "your backward count includes dX of layer 1",
    "no dX": "your backward count has only dW",
    "db": "your backward count includes db",
    "no N": "leaves out the batch: each of the N rows",
    "swapped": "forward and backward are swapped",
    "+1": None,
}
CACHE = {
    "no input": "leaves out the network's input X",
    "one per hidden layer": "keeps one array per hidden layer",
    "A twice": "counts an activation's output A twice",
    "output": "counts the output layer's Z",
    "parameters": "counts the parameters W and b",
    "one example": "counts one example: every kept array has N rows",
    "numbers": "counts numbers, not bytes",
    "float32": "counts 4 bytes per number",
    "bits": "counts bits",
    "× 1.5": None,
}

CATALOGUE: dict[str, list[Wrong]] = {
    "xavier_normal": [Wrong(s, slipped(xavier_normal, s), d) for s, d in XAVIER.items()],
    "he_normal": [Wrong(s, slipped(he_normal, s), d) for s, d in HE.items()],
    "gradient_norms": [Wrong(s, slipped(gradient_norms, s), d) for s, d in NORMS.items()],
    "clip_by_global_norm": [
        Wrong(s if isinstance(s, str) else " + ".join(s), slipped(clip_by_global_norm, s), d)
        for s, d in CLIP.items()
    ],
    "mlp_flops": [Wrong(s, slipped(mlp_flops, s), d) for s, d in FLOPS.items()],
    "cache_bytes": [Wrong(s, slipped(cache_bytes, s), d) for s, d in CACHE.items()],
}

BAD: dict[str, object] = {
    "returns a string": lambda *args: "weights",
    "returns an empty list": lambda *args: [],
}
