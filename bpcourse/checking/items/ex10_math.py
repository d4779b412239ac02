r"""The math of exercise 10's checkers: batch norm, its known slips, a network.

Everything here is the checker's own reference (no learner code runs here) and the inputs it
builds; the items that use them are in `ex10_batch_normalisation`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bpcourse.checking.items.ex10_probe import GUARD_ROWS
from bpcourse.gradcheck import numerical_gradient

PROBLEM_SEED = 10
N, F = 8, 5
EPS = 0.1  # large on purpose: ε outside the square root is then visible
MOMENTUM = 0.1


def problem(seed: int = PROBLEM_SEED) -> dict[str, np.ndarray]:
    """X (N, F) with features of different means and spreads, γ, β (F,), and dOut (N, F)."""
    rng = np.random.default_rng(seed)
    scale = np.array([0.3, 0.6, 1.0, 1.5, 2.0])
    shift = np.array([-1.0, 0.5, 2.0, -3.0, 1.0])
    return {
        "X": shift + scale * rng.normal(size=(N, F)),
        "gamma": rng.uniform(0.5, 2.0, size=F) * rng.choice([-1.0, 1.0], size=F),
        "beta": rng.normal(size=F),
        "dOut": rng.normal(size=(N, F)),
    }


# --- the checker's own math, and the known slips as switches ------------------------------------


def statistics(
    X: np.ndarray, eps: float, *, ddof: int = 0, axis: int = 0, eps_outside: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(μ, σ², s) with s = √(σ² + ε) (or √σ² + ε when `eps_outside`), kept broadcastable."""
    mu = X.mean(axis=axis, keepdims=True)
    var = X.var(axis=axis, ddof=ddof, keepdims=True)
    s = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
    return mu, var, s


def forward(
    X: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float, **slip: Any
) -> np.ndarray:
    """o = γ x̂ + β, x̂ = (X − μ)/s with the batch's statistics (the slips as keywords)."""
    mu, _, s = statistics(X, eps, **slip)
    return gamma * (X - mu) / s + beta


def backward_slipped(
    dOut: np.ndarray,
    X: np.ndarray,
    gamma: np.ndarray,
    eps: float,
    *,
    ddof: int = 0,
    axis: int = 0,
    eps_outside: bool = False,
    mean_path: bool = True,
    variance_path: bool = True,
    variance_n: bool = True,
    power: float = -1.5,
) -> np.ndarray:
    """dX node by node on the graph, with the known slips as switches (the defaults: right)."""
    n = X.shape[axis]
    mu, var, s = statistics(X, eps, ddof=ddof, axis=axis, eps_outside=eps_outside)
    dxhat = gamma * dOut
    if eps_outside:  # d(1/(√v + ε))/dv = −1/(2√v (√v + ε)²)
        dvar = np.sum(dxhat * (X - mu), axis=axis, keepdims=True) * (-0.5 / (np.sqrt(var) * s**2))
    else:
        dvar = np.sum(dxhat * (X - mu), axis=axis, keepdims=True) * (-0.5) * (var + eps) ** power
    dmu = -np.sum(dxhat, axis=axis, keepdims=True) / s
    dX = dxhat / s
    if variance_path:
        dX = dX + dvar * 2 * (X - mu) / ((n - ddof) if variance_n else 1)
    if mean_path:
        dX = dX + dmu / n
    return dX


def by_differences(
    dOut: np.ndarray, X: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Central finite differences of Σ dOut ⊙ forward(X, γ, β) w.r.t. X, γ and β."""
    x, g, b = X.copy(), gamma.copy(), beta.copy()

    def loss() -> float:
        return float(np.sum(dOut * forward(x, g, b, eps)))

    return numerical_gradient(loss, x), numerical_gradient(loss, g), numerical_gradient(loss, b)


def xhat_of(X: np.ndarray, **slip: Any) -> np.ndarray:
    mu, _, s = statistics(X, EPS, **slip)
    return (X - mu) / s


def guarded_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dOut, X) of shape (GUARD_ROWS, 3) and γ (3,), plain arrays: the learner's kernel
    guards the rows (`ex10_probe.probe_compact`)."""
    rng = np.random.default_rng(PROBLEM_SEED + 1)
    X = rng.normal(size=(GUARD_ROWS, 3))
    dOut = rng.normal(size=(GUARD_ROWS, 3))
    return dOut, X, rng.uniform(0.5, 2.0, size=3)


def compact(dOut: np.ndarray, X: np.ndarray, gamma: np.ndarray, **slip: Any) -> np.ndarray:
    """The closed form dX = γ/(N s) (N dOut − Σ dOut − x̂ Σ dOut x̂), s and x̂ with the slips."""
    mu, _, s = statistics(X, EPS, **slip)
    xhat = (X - mu) / s
    n = X.shape[0]
    return gamma / (n * s) * (n * dOut - dOut.sum(axis=0) - xhat * np.sum(dOut * xhat, axis=0))


N_EVAL = 4


def running_problem() -> dict[str, np.ndarray]:
    """A training batch, running averages far from its statistics, and an evaluation batch."""
    rng = np.random.default_rng(PROBLEM_SEED + 2)
    p = problem()
    return {
        **p,
        "running_mean": rng.normal(0.0, 1.0, size=F),
        "running_var": rng.uniform(0.5, 3.0, size=F),
        "X_eval": 0.5 + rng.normal(size=(N_EVAL, F)),
    }


# --- a two-layer network with batch norm ---------------------------------------------------------
# Z = X W1ᵀ (no bias: β shifts), H = BN(Z; γ, β), A = ReLU(H), Ŷ = A W2ᵀ + b2,
# ℒ = (1/N) Σ_n ½‖ŷ_n − y_n‖² (the course's half squared error, a mean over the batch).

NET_IN, NET_H, NET_C = 4, 6, 3
NET_KEYS = ("W1", "gamma", "beta", "W2", "b2")
NET_LAYOUT = {
    "W1": "(n_hidden, n_in)",
    "gamma": "(n_hidden,)",
    "beta": "(n_hidden,)",
    "W2": "(n_out, n_hidden)",
    "b2": "(n_out,)",
}


def network_problem() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """X (N, 4) with a nonzero mean, targets Y (N, 3), and the parameters of the network."""
    rng = np.random.default_rng(PROBLEM_SEED + 3)
    X = 1.0 + rng.normal(size=(N, NET_IN))
    Y = rng.normal(size=(N, NET_C))
    params = {
        "W1": rng.normal(0.0, 0.7, size=(NET_H, NET_IN)),
        "gamma": rng.uniform(0.5, 1.5, size=NET_H),
        "beta": rng.normal(0.0, 0.5, size=NET_H),
        "W2": rng.normal(0.0, 0.5, size=(NET_C, NET_H)),
        "b2": rng.normal(0.0, 0.1, size=NET_C),
    }
    return X, Y, params


def network_nodes(X: np.ndarray, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Z, H, A and Ŷ of the forward pass (training-mode batch norm)."""
    Z = X @ params["W1"].T
    H = forward(Z, params["gamma"], params["beta"], EPS)
    A = np.maximum(H, 0.0)
    return {"Z": Z, "H": H, "A": A, "Yhat": A @ params["W2"].T + params["b2"]}


def network_loss(X: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray]) -> float:
    diff = network_nodes(X, params)["Yhat"] - Y
    return float(0.5 * np.sum(diff * diff) / X.shape[0])


def network_by_differences(
    X: np.ndarray, Y: np.ndarray, params: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Central finite differences of the loss with respect to every parameter."""
    p = {k: v.copy() for k, v in params.items()}
    return {key: numerical_gradient(lambda: network_loss(X, Y, p), p[key]) for key in NET_KEYS}


def network_gradients(
    X: np.ndarray,
    Y: np.ndarray,
    params: dict[str, np.ndarray],
    *,
    constants: bool = False,
    relu: bool = True,
    mask_on_z: bool = False,
    dW2_with_H: bool = False,
) -> dict[str, np.ndarray]:
    """The gradients by the chain rule, with the known slips as switches (defaults: right)."""
    f = network_nodes(X, params)
    n = X.shape[0]
    dYhat = (f["Yhat"] - Y) / n
    grads = {
        "W2": dYhat.T @ (f["H"] if dW2_with_H else f["A"]),
        "b2": dYhat.sum(axis=0),
    }
    dA = dYhat @ params["W2"]
    mask = (f["Z"] > 0) if mask_on_z else (f["H"] > 0)
    dH = dA * mask if relu else dA
    Z, gamma = f["Z"], params["gamma"]
    grads["gamma"] = np.sum(dH * xhat_of(Z), axis=0)
    grads["beta"] = dH.sum(axis=0)
    if constants:
        dZ = gamma * dH / np.sqrt(Z.var(axis=0) + EPS)
    else:
        dZ = backward_slipped(dH, Z, gamma, EPS)
    grads["W1"] = dZ.T @ X
    return grads
