"""Answers to exercises/08_optimisers.ipynb: right, and wrong on purpose.

Each update rule takes a `slip` keyword that switches on one known mistake, written as a
learner would write it (the in-place update, the reset state, the Python-float division by
1 − β⁰ = 0, …).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from item_contract import Wrong, slipped

from bpcourse.checking.items.ex08_optimisers import NOTEBOOK, VALLEY_SLIPS
from bpcourse.checking.items.ex08_rules import SLIPS, TWICE

__all__ = ["BAD", "CATALOGUE", "NOTEBOOK", "POINTS", "RECALL", "RIGHT"]

POINTS = {
    "momentum_step": 3,
    "nesterov_step": 2,
    "rmsprop_step": 3,
    "adam_step": 4,
    "uncorrected_first_step": 2,
    "descend_valley": 3,
    "q_momentum_gain": 1,
    "q_scale_invariant": 1,
    "q_largest_lr": 1,
}
# which update divides by the gradient's size, and 1/(1 − β) (its hint derives it): recall
RECALL = {"q_scale_invariant", "q_momentum_gain"}

# --- reference solutions, written as a learner would, with switchable slips ----------------------


def momentum_step(params, grads, state, lr, beta, slip=""):
    v = np.zeros_like(params) if slip == "reset" else state["v"]
    if slip == "average":
        v = beta * v + (1 - beta) * grads
    elif slip == "old velocity":
        new_params = params - lr * v
        return new_params, {"v": beta * v + grads}
    elif slip == "sign":  # Sutskever's velocity, PyTorch's step
        v = beta * v - grads
    else:
        v = beta * v + grads
    if slip == "in place":
        params -= lr * v
        return params, {"v": v}
    if slip == "twice":
        params -= lr * v
        return params - lr * v, {"v": v}
    return params - lr * v, {"v": v}


def nesterov_step(params, grads, state, lr, beta, slip=""):
    v = beta * (np.zeros_like(params) if slip == "reset" else state["v"]) + grads
    if slip == "no look-ahead":
        step = v
    elif slip == "look-ahead without beta":
        step = grads + v
    else:
        step = grads + beta * v
    if slip == "sign":
        return params + lr * step, {"v": v}
    if slip == "twice":
        params -= lr * step
        return params - lr * step, {"v": v}
    return params - lr * step, {"v": v}


def rmsprop_step(params, grads, state, lr, alpha, eps, slip=""):
    s = np.zeros_like(params) if slip == "reset" else state["s"]
    if slip == "not squared":
        s = alpha * s + (1 - alpha) * grads
    elif slip == "swapped":
        s = (1 - alpha) * s + alpha * grads**2
    else:
        s = alpha * s + (1 - alpha) * grads**2
    if slip == "eps inside":
        return params - lr * grads / np.sqrt(s + eps), {"s": s}
    if slip == "no sqrt":
        return params - lr * grads / (s + eps), {"s": s}
    if slip == "twice":
        params -= lr * grads / (np.sqrt(s) + eps)
        return params - lr * grads / (np.sqrt(s) + eps), {"s": s}
    return params - lr * grads / (np.sqrt(s) + eps), {"s": s}


def adam_step(params, grads, state, lr, beta1, beta2, eps, slip=""):
    if slip == "reset":
        state = {"m": np.zeros_like(params), "v": np.zeros_like(params), "t": 0}
    m, v, t = state["m"], state["v"], state["t"]
    if slip == "swapped":
        m = (1 - beta1) * m + beta1 * grads
        v = (1 - beta2) * v + beta2 * grads**2
    else:
        m = beta1 * m + (1 - beta1) * grads
        v = beta2 * v + (1 - beta2) * grads**2
    if slip in ("t from 0", "t from 0, float"):
        if slip == "t from 0, float":  # a Python float divided by 1 − β⁰ = 0 raises
            factor = 1 / (1 - beta1**t)
            m_hat, v_hat = m * factor, v / (1 - beta2**t)
        else:
            m_hat, v_hat = m / (1 - np.float64(beta1) ** t), v / (1 - np.float64(beta2) ** t)
        t = t + 1
    else:
        t = t + 1
        if slip == "no correction":
            m_hat, v_hat = m, v
        elif slip == "m only":
            m_hat, v_hat = m / (1 - beta1**t), v
        elif slip == "v only":
            m_hat, v_hat = m, v / (1 - beta2**t)
        else:
            m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    if slip == "eps inside":
        step = lr * m_hat / np.sqrt(v_hat + eps)
    elif slip == "eps before correction":  # Kingma & Ba's Algorithm 1, last paragraph
        lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
        step = lr_t * m / (np.sqrt(v) + eps)
    else:
        step = lr * m_hat / (np.sqrt(v_hat) + eps)
    if slip == "twice":
        params -= step
    if slip == "t not kept":
        return params - step, {"m": m, "v": v, "t": state["t"]}
    return params - step, {"m": m, "v": v, "t": t}


def uncorrected_first_step(beta1, beta2, slip=""):
    if slip == "no root":
        return (1 - beta1) / (1 - beta2)
    if slip == "inverted":
        return np.sqrt(1 - beta2) / (1 - beta1)
    if slip == "betas":
        return beta1 / np.sqrt(beta2)
    return (1 - beta1) / np.sqrt(1 - beta2)


def descend_valley(A, theta0, steps, lr=0.02, beta=0.8, slip=""):
    if slip == "jump":
        return np.array([theta0] + [np.zeros(2)] * steps)
    if slip == "result dropped":  # the step's result is never assigned back to theta
        theta, state = theta0.copy(), {"v": np.zeros_like(theta0)}
        path = [theta]
        for _ in range(steps):
            momentum_step(theta, A @ theta, state, lr, beta)
            path.append(theta)
        return np.array(path)
    theta, state = theta0.copy(), {"v": np.zeros_like(theta0)}
    path = [theta]
    for _ in range(steps):
        grads = A @ theta
        if slip == "uphill":
            grads = -grads
        theta, state = momentum_step(
            theta, grads, state, lr, beta, slip="in place" if slip == "aliased" else ""
        )
        path.append(theta)
    return np.array(path)


def rmsprop_swapped_eps_inside(params, grads, state, lr, alpha, eps):
    s = (1 - alpha) * state["s"] + alpha * grads**2
    return params - lr * grads / np.sqrt(s + eps), {"s": s}


def adam_swapped_uncorrected(params, grads, state, lr, beta1, beta2, eps):
    m = (1 - beta1) * state["m"] + beta1 * grads
    v = (1 - beta2) * state["v"] + beta2 * grads**2
    return params - lr * m / (np.sqrt(v) + eps), {"m": m, "v": v, "t": state["t"] + 1}


RIGHT: dict[str, Callable[..., Any]] = {
    "momentum_step": momentum_step,
    "nesterov_step": nesterov_step,
    "rmsprop_step": rmsprop_step,
    "adam_step": adam_step,
    "uncorrected_first_step": uncorrected_first_step,
    "descend_valley": descend_valley,
    "q_momentum_gain": lambda: 20.0,
    "q_scale_invariant": lambda: "c",
    "q_largest_lr": lambda: 0.04,
}
for _name in ("q_momentum_gain", "q_scale_invariant", "q_largest_lr"):
    RIGHT[_name].__name__ = _name

IN_PLACE_SAYS = "changes the params array it was given, in place"


def _rule_catalogue(answer, kind: str, extra: dict[str, str | None]) -> list[Wrong]:
    """Every slip of SLIPS[kind], with the start of its diagnosis, plus `extra`."""
    says = {slip: text.split(":")[0][:60] for slip, text in SLIPS[kind].items()}
    return [
        Wrong(s, slipped(answer, s), d) for s, d in {**says, "twice": TWICE[:40], **extra}.items()
    ]


def _valley(**options):
    return lambda A, theta0, steps: descend_valley(A, theta0, steps, **options)


CATALOGUE: dict[str, list[Wrong]] = {
    "momentum_step": _rule_catalogue(momentum_step, "momentum", {"in place": IN_PLACE_SAYS}),
    "nesterov_step": _rule_catalogue(nesterov_step, "nesterov", {}),
    "rmsprop_step": [
        *_rule_catalogue(rmsprop_step, "rmsprop", {}),
        Wrong("swapped and ε inside", rmsprop_swapped_eps_inside, None),
    ],
    "adam_step": [
        *_rule_catalogue(
            adam_step, "adam", {"t from 0, float": SLIPS["adam"]["t from 0"].split(":")[0][:60]}
        ),
        Wrong("swapped and uncorrected", adam_swapped_uncorrected, None),
    ],
    "uncorrected_first_step": [
        Wrong("no root", slipped(uncorrected_first_step, "no root"), "divides by 1 − β₂"),
        Wrong("inverted", slipped(uncorrected_first_step, "inverted"), "upside down"),
        Wrong("betas", slipped(uncorrected_first_step, "betas"), "uses β where 1 − β belongs"),
        Wrong("corrected", lambda b1, b2: 1.0, "1 is the ratio of two corrected steps"),
        Wrong("squared", lambda b1, b2: ((1 - b1) / np.sqrt(1 - b2)) ** 2, None),
        Wrong("defaults only", lambda b1, b2: 1 / np.sqrt(10), "the same number for every pair"),
    ],
    "descend_valley": [
        Wrong("plain gradient descent", _valley(lr=0.0198, beta=0.0), VALLEY_SLIPS["slow"]),
        Wrong("η too large", _valley(lr=0.05), VALLEY_SLIPS["diverged"][:40]),
        Wrong("uphill", _valley(slip="uphill"), VALLEY_SLIPS["uphill"][:40]),
        Wrong("aliased path", _valley(slip="aliased"), VALLEY_SLIPS["aliased"][:40]),
        Wrong("solved, not descended", _valley(slip="jump"), VALLEY_SLIPS["jump"][:40]),
        Wrong("result dropped", _valley(slip="result dropped"), VALLEY_SLIPS["still"][:40]),
    ],
}

BAD: dict[str, object] = {
    "returns a pair of arrays": lambda *args: (np.zeros(3), np.zeros(3)),
    "returns a string": lambda *args: "θ",
}
