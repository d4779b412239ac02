"""Answers to exercises/10_batch_normalisation.ipynb: right, and wrong on purpose.

The `slip` keyword switches on one slip (or a tuple of them).
"""

from __future__ import annotations

import numpy as np
from item_contract import Wrong, slipped

from bpcourse.checking.items.ex10_batch_normalisation import NOTEBOOK

__all__ = ["BAD", "CATALOGUE", "NOTEBOOK", "POINTS", "RECALL", "RIGHT"]

POINTS = {
    "batchnorm_forward": 3,
    "batchnorm_backward": 6,
    "batchnorm_backward_compact": 4,
    "batchnorm_running": 4,
    "bn_network_backward": 5,
    "q_sum_dx": 1,
    "q_batch_of_one": 1,
    "q_bias_redundant": 1,
    "q_what_bn_fixes": 1,
}
RECALL = {"q_what_bn_fixes"}  # what batch norm does and does not fix: recall

# --- reference solutions, written as a learner would, with switchable slips ----------------------


def _slips(slip):
    return (slip,) if isinstance(slip, str) else tuple(slip)


def batchnorm_forward(X, gamma, beta, eps, slip=()):
    slip = _slips(slip)
    axis = 1 if "axis 1" in slip else 0
    mu = X.mean(axis=axis, keepdims=True)
    var = X.var(axis=axis, keepdims=True, ddof=1 if "unbiased" in slip else 0)
    if "eps outside" in slip:
        std = np.sqrt(var) + eps
    elif "variance" in slip:
        std = var + eps
    else:
        std = np.sqrt(var + eps)
    x_hat = (X - mu) / std
    out = beta * x_hat + gamma if "swap" in slip else gamma * x_hat + beta
    return out, (x_hat, gamma, std)


def batchnorm_backward(dOut, X, gamma, eps, slip=()):
    """Node by node: x̂ = (X − μ)·inv, inv = (σ² + ε)^(−1/2), out = γ x̂ + β."""
    slip = _slips(slip)
    axis = 1 if "axis 1" in slip else 0
    n = X.shape[axis]
    mu = X.mean(axis=axis, keepdims=True)
    xc = X - mu
    ddof = 1 if "unbiased" in slip else 0
    var = np.sum(xc**2, axis=axis, keepdims=True) / (n - ddof)
    if "eps outside" in slip:
        std = np.sqrt(var) + eps
        inv = 1 / std
        dinv_dvar = -1 / std**2 / (2 * np.sqrt(var))
    else:
        inv = (var + eps) ** -0.5
        dinv_dvar = -0.5 * (var + eps) ** (-0.5 if "power" in slip else -1.5)
    x_hat = xc * inv
    dbeta = dOut if "dbeta not summed" in slip else dOut.sum(axis=axis)
    dgamma = np.sum(dOut * (X if "dgamma with x" in slip else x_hat), axis=axis)
    dxhat = dOut * gamma
    dxc = dxhat * inv
    dinv = np.sum(dxhat * xc, axis=axis, keepdims=True)
    dvar = dinv * dinv_dvar
    dvar_dx = 2 * xc if "variance no 1/N" in slip else 2 * xc / (n - ddof)
    if "no variance path" not in slip and "constants" not in slip:
        dxc = dxc + dvar * dvar_dx
    dmu = -np.sum(dxhat * inv, axis=axis, keepdims=True)
    dX = dxc
    if "no mean path" not in slip and "constants" not in slip:
        dX = dX + dmu / n
    if "sign" in slip:
        dX = -dX
    return dX, dgamma, dbeta


def batchnorm_backward_compact(dOut, X, gamma, eps, slip=()):
    slip = _slips(slip)
    n = X.shape[0]
    mu = X.mean(axis=0)
    var = X.var(axis=0)
    std = np.sqrt(var) + eps if "eps outside" in slip else np.sqrt(var + eps)
    x_hat = (X - mu) / std
    first = 0 if "no mean term" in slip else dOut.sum(axis=0)
    second = 0 if "no x̂ term" in slip else x_hat * np.sum(dOut * x_hat, axis=0)
    g = 1 if "no γ" in slip else gamma
    scale = std**2 if "σ²" in slip else std
    if "loop" in slip:  # right values, one example at a time
        dX = np.empty(X.shape)
        for i in range(n):
            dX[i] = g / (n * scale) * (n * dOut[i] - first - second[i])
        return dX
    dX = g / (n * scale) * (n * dOut - first - second)
    if "×N" in slip:
        dX = n * dX
    return dX


def batchnorm_running(X, gamma, beta, running_mean, running_var, momentum, eps, training, slip=()):
    slip = _slips(slip)
    if training:
        n = X.shape[0]
        mean = X.mean(axis=0)
        var = X.var(axis=0)
        unbiased = var * n / (n - 1)
        m = 1 - momentum if "momentum swapped" in slip else momentum
        new_mean = (1 - m) * running_mean + m * mean
        new_var = (1 - m) * running_var + m * (var if "biased running" in slip else unbiased)
        if "no update" in slip:
            new_mean, new_var = running_mean, running_var
        if "running in training" in slip:
            mean, var = running_mean, running_var
        elif "unbiased normalisation" in slip:
            var = unbiased
        out = gamma * (X - mean) / np.sqrt(var + eps) + beta
        return out, new_mean, new_var
    if "batch in eval" in slip:
        mean, var = X.mean(axis=0), X.var(axis=0)
    else:
        mean, var = running_mean, running_var
    out = gamma * (X - mean) / np.sqrt(var + eps) + beta
    if "eval updates" in slip:
        running_mean = 0.9 * running_mean + 0.1 * X.mean(axis=0)
    return out, running_mean, running_var


def bn_network_backward(X, Y, params, eps, slip=()):
    """Z = X W1ᵀ, H = BN(Z), A = ReLU(H), Ŷ = A W2ᵀ + b2, ℒ = mean of ½‖ŷ − y‖²."""
    slip = _slips(slip)
    Z = X @ params["W1"].T
    H, _ = batchnorm_forward(Z, params["gamma"], params["beta"], eps)
    A = np.maximum(H, 0)
    Yhat = A @ params["W2"].T + params["b2"]
    n = X.shape[0]
    dYhat = (Yhat - Y) if "no 1/N" in slip else (Yhat - Y) / n
    grads = {"W2": dYhat.T @ (H if "dW2 with H" in slip else A), "b2": dYhat.sum(axis=0)}
    dA = dYhat @ params["W2"]
    if "no relu" in slip:
        dH = dA
    elif "mask on Z" in slip:
        dH = dA * (Z > 0)
    else:
        dH = dA * (H > 0)
    dZ, grads["gamma"], grads["beta"] = batchnorm_backward(dH, Z, params["gamma"], eps)
    if "constants" in slip:
        dZ = params["gamma"] * dH / np.sqrt(Z.var(axis=0) + eps)
    grads["W1"] = X.T @ dZ if "dW1 transposed" in slip else dZ.T @ X
    return grads


def q_sum_dx():
    return "b"


def q_batch_of_one():
    return 0.5


def q_bias_redundant():
    return "c"


def q_what_bn_fixes():
    return "b"


RIGHT = {
    "batchnorm_forward": batchnorm_forward,
    "batchnorm_backward": batchnorm_backward,
    "batchnorm_backward_compact": batchnorm_backward_compact,
    "batchnorm_running": batchnorm_running,
    "bn_network_backward": bn_network_backward,
    "q_sum_dx": q_sum_dx,
    "q_batch_of_one": q_batch_of_one,
    "q_bias_redundant": q_bias_redundant,
    "q_what_bn_fixes": q_what_bn_fixes,
}

# --- the catalogue: each known mistake and the words its diagnosis must contain -------------------

FORWARD = {
    "eps outside": "out adds ε outside the square root",
    "unbiased": "out normalises with the unbiased variance",
    "axis 1": "out is computed over axis 1 (the features)",
    "variance": "out divides by the variance σ² + ε",
    "swap": "out swaps γ and β",
}

BACKWARD = {
    "constants": "dX treats μ and σ² as constants",
    "no variance path": "dX misses the path through σ²",
    "no mean path": "dX misses the path through μ",
    "variance no 1/N": "dX lacks the 1/N of ∂σ²/∂x_n",
    "power": "dX uses the wrong power in dσ²",
    "eps outside": "adds ε outside the square root",
    "unbiased": "uses the unbiased variance (÷ (N − 1))",
    "axis 1": "over axis 1 (the features)",
    "dgamma with x": "dgamma uses X where x̂ belongs",
    "dbeta not summed": "did you forget to sum over the batch?",
    "sign": "dX has the opposite sign",
}

COMPACT = {
    "no mean term": "dX lacks the term Σ_i do_i",
    "no x̂ term": "dX lacks the term x̂ Σ_i do_i x̂_i",
    "no γ": "dX lacks γ",
    "σ²": "dX divides by σ² + ε",
    "eps outside": "dX adds ε outside the square root",
    "×N": "dX is N = 8 times too large",
    "loop": "batchnorm_backward_compact is not vectorised",
}

RUNNING = {
    "running in training": "normalises with the running averages in training mode",
    "unbiased normalisation": "training out normalises with the unbiased variance",
    "momentum swapped": "weights the old average by momentum and the batch by 1 − momentum",
    "biased running": "running_var uses the biased batch variance",
    "no update": "is not updated: training mode updates the running averages",
    "batch in eval": "evaluation out normalises with the batch's own statistics",
    "eval updates": "evaluation mode changed running_mean",
}

NETWORK = {
    "constants": "treats the batch statistics μ and σ² as constants",
    "no relu": "misses the ReLU's derivative",
    "mask on Z": "takes the ReLU's mask from Z",
    "dW2 with H": "dW2 uses H, the ReLU's input",
    "no 1/N": "is N = 8 times too large: the loss is a mean over the batch",
    "dW1 transposed": "did you forget a transpose",
}


def _name(slip) -> str:
    return slip if isinstance(slip, str) else " + ".join(slip)


CATALOGUE: dict[str, list[Wrong]] = {
    name: [Wrong(_name(s), slipped(function, s), d) for s, d in table.items()]
    for name, function, table in (
        ("batchnorm_forward", batchnorm_forward, FORWARD),
        ("batchnorm_backward", batchnorm_backward, BACKWARD),
        ("batchnorm_backward_compact", batchnorm_backward_compact, COMPACT),
        ("batchnorm_running", batchnorm_running, RUNNING),
        ("bn_network_backward", bn_network_backward, NETWORK),
    )
}

BAD: dict[str, object] = {
    "returns an empty dict": lambda *args: {},
    "returns a tuple of strings": lambda *args: ("a", "b", "c"),
}
