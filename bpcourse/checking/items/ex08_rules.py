"""The checker's own update rules behind exercise 08's checks, right and with each known slip,
the problems they run on, and the texts of the diagnoses.

Run in the checker's process only; `ex08_optimisers` compares the learner's paths with these.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

RTOL, ATOL = 1e-6, 1e-10


def rotation(degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])


def valley_matrix(kappa: float, degrees: float = 30.0) -> np.ndarray:
    """A = R diag(1, κ) Rᵀ: the Hessian of a valley whose axes are turned by `degrees`."""
    R = rotation(degrees)
    return R @ np.diag([1.0, kappa]) @ R.T


def valley_loss(A: np.ndarray, theta: np.ndarray) -> float:
    return float(0.5 * theta @ A @ theta)


# --- the checker's own update rules, right and with each known slip ------------------------------

State = dict[str, Any]


def momentum_rule(p, g, s: State, h, slip: str = "") -> tuple[np.ndarray, State]:
    lr, beta = h
    v_old = np.zeros_like(p) if slip == "reset" else s["v"]
    v = beta * v_old + ((1 - beta) * g if slip == "average" else g)
    if slip == "sign":
        return p + lr * v, {"v": v}
    if slip == "old velocity":
        return p - lr * v_old, {"v": v}
    return p - (2 if slip == "twice" else 1) * lr * v, {"v": v}


def nesterov_rule(p, g, s: State, h, slip: str = "") -> tuple[np.ndarray, State]:
    lr, beta = h
    v = beta * (np.zeros_like(p) if slip == "reset" else s["v"]) + g
    step = {"no look-ahead": v, "look-ahead without beta": g + v}.get(slip, g + beta * v)
    if slip == "sign":
        return p + lr * step, {"v": v}
    return p - (2 if slip == "twice" else 1) * lr * step, {"v": v}


def rmsprop_rule(p, g, s: State, h, slip: str = "") -> tuple[np.ndarray, State]:
    lr, alpha, eps = h
    s_old = np.zeros_like(p) if slip == "reset" else s["s"]
    square = g if slip == "not squared" else g * g
    keep = 1 - alpha if slip == "swapped" else alpha  # the weight of the old average
    new_s = keep * s_old + (1 - keep) * square
    if slip == "eps inside":
        denominator = np.sqrt(new_s + eps)
    elif slip == "no sqrt":
        denominator = new_s + eps
    else:
        denominator = np.sqrt(new_s) + eps
    return p - (2 if slip == "twice" else 1) * lr * g / denominator, {"s": new_s}


def adam_rule(p, g, s: State, h, slip: str = "") -> tuple[np.ndarray, State]:
    lr, b1, b2, eps = h
    if slip == "reset":
        s = {"m": np.zeros_like(p), "v": np.zeros_like(p), "t": 0}
    t = s["t"] + 1
    if slip == "swapped":
        m, v = (1 - b1) * s["m"] + b1 * g, (1 - b2) * s["v"] + b2 * g * g
    else:
        m, v = b1 * s["m"] + (1 - b1) * g, b2 * s["v"] + (1 - b2) * g * g
    k = t - 1 if slip == "t from 0" else t
    m_hat = m if slip in ("no correction", "v only") else m / (1 - b1**k)
    v_hat = v if slip in ("no correction", "m only") else v / (1 - b2**k)
    if slip == "eps before correction":  # Kingma & Ba's "efficient" form: η corrected instead
        step = lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
    else:
        root = np.sqrt(v_hat + eps) if slip == "eps inside" else np.sqrt(v_hat) + eps
        step = lr * m_hat / root
    new = p - (2 if slip == "twice" else 1) * step
    return new, {"m": m, "v": v, "t": s["t"] if slip == "t not kept" else t}


Rule = Callable[..., tuple[np.ndarray, State]]


@dataclass(frozen=True)
class Run:
    """One problem an update rule is run on: a valley (gradient Aθ) or random gradients."""

    label: str
    start: np.ndarray
    hyper: tuple[float, ...]
    steps: int
    A: np.ndarray | None = None  # the valley's matrix; None: the gradients below
    grads: np.ndarray | None = None

    def gradient(self, k: int, p: np.ndarray) -> np.ndarray:
        if self.A is not None:
            return self.A @ p
        assert self.grads is not None
        return self.grads[k].copy()


def _random_run(hyper: tuple[float, ...], seed: int = 8) -> Run:
    rng = np.random.default_rng(seed)
    scale = np.exp(rng.uniform(-2, 1, size=(3, 4)))  # entries of very different sizes
    grads = rng.normal(size=(8, 3, 4)) * scale
    return Run("random arrays of shape (3, 4)", rng.normal(size=(3, 4)), hyper, 8, grads=grads)


def _valley_run(hyper: tuple[float, ...], steps: int = 30) -> Run:
    return Run(
        "the 2-D valley ℒ(θ) = ½ θᵀAθ", np.array([-2.0, 1.5]), hyper, steps, A=valley_matrix(25.0)
    )


def initial_state(kind: str, p: np.ndarray) -> State:
    if kind in ("momentum", "nesterov"):
        return {"v": np.zeros_like(p)}
    if kind == "rmsprop":
        return {"s": np.zeros_like(p)}
    return {"m": np.zeros_like(p), "v": np.zeros_like(p), "t": 0}


RULES: dict[str, Rule] = {
    "momentum": momentum_rule,
    "nesterov": nesterov_rule,
    "rmsprop": rmsprop_rule,
    "adam": adam_rule,
}
RUNS: dict[str, list[Run]] = {
    "momentum": [_valley_run((0.02, 0.9)), _random_run((0.1, 0.7))],
    "nesterov": [_valley_run((0.02, 0.9)), _random_run((0.1, 0.7))],
    "rmsprop": [_valley_run((0.05, 0.9, 1e-3)), _random_run((0.01, 0.8, 1e-2))],
    "adam": [_valley_run((0.1, 0.9, 0.999, 1e-8)), _random_run((0.05, 0.8, 0.9, 1e-2))],
}
HYPER_NAMES = {
    "momentum": "lr, beta",
    "nesterov": "lr, beta",
    "rmsprop": "lr, alpha, eps",
    "adam": "lr, beta1, beta2, eps",
}


def simulate(kind: str, run: Run, slip: str = "", steps: int | None = None) -> np.ndarray:
    """The path (steps + 1, *shape) of the checker's rule (with `slip`) on `run`."""
    p, state = run.start.copy(), initial_state(kind, run.start)
    path = [p]
    with np.errstate(all="ignore"):
        for k in range(run.steps if steps is None else steps):
            p, state = RULES[kind](p, run.gradient(k, p), state, run.hyper, slip)
            path.append(p)
    return np.array(path)


# --- the diagnoses: the known slips of each rule, as the learner reads them ---------------------

IN_PLACE = (
    "changes the params array it was given, in place (`params -= ...`): return a new array, "
    "`params - lr * ...`, and leave the argument alone; a caller that keeps the path (a list "
    "of the points) would see every point move"
)
TWICE = (
    "applies the step twice: once to the array passed in (`params -= ...`, in place) and once "
    "more in the value it returns; compute the new params once, as a new array"
)
RESET = (
    "every step is taken as if it were the first: either the state passed in is not read, or "
    "the state returned is not the updated one; read the running averages from `state` and "
    "return the new ones"
)
STATE_IN_PLACE = (
    "changes the state it was given, in place (`state[...] = ...`, `state[...] *= ...` or "
    "`+= 1`): build the new state as a new dict of new arrays, as the `return` line of the "
    "cell does, and leave the given one as it was; a caller that keeps an old state would see "
    "it change"
)
GRADS_IN_PLACE = (
    "changes the grads array it was given, in place (`grads *= ...`, `grads /= ...`): compute "
    "with new arrays (`grads / ...`) and leave grads alone; the caller may still need it"
)
SLIPS: dict[str, dict[str, str]] = {
    "momentum": {
        "reset": RESET + ", here the velocity v",
        "sign": "the path climbs: the velocity sign convention is mixed up. With v ← βv + g the "
        "step is θ ← θ − ηv (Sutskever's v ← βv − ηg goes with θ ← θ + v)",
        "average": "the velocity is a running average with (1 − β)g: this momentum adds the whole "
        "gradient, v ← βv + g, and so gains up to 1/(1 − β) on a steady slope",
        "old velocity": "the step uses the velocity from before this step's gradient was added: "
        "update v first, then θ ← θ − ηv with the new v",
    },
    "nesterov": {
        "reset": RESET + ", here the velocity v",
        "sign": "the path climbs: the velocity sign convention is mixed up. With v ← βv + g the "
        "step is θ ← θ − η(g + βv)",
        "no look-ahead": "this is heavy-ball momentum: Nesterov's look-ahead is missing. The step "
        "is g + βv, the gradient plus the velocity's next contribution",
        "look-ahead without beta": "the look-ahead adds v itself: it adds the velocity's next "
        "contribution, βv, so the step is g + βv",
    },
    "rmsprop": {
        "reset": RESET + ", here the mean square s",
        "not squared": "s averages the gradient itself, not its square: s ← αs + (1 − α)g² (g "
        "element-wise squared); an average of signed gradients can be negative, and its square "
        "root NaN",
        "eps inside": "ε is inside the square root: the denominator is √s + ε, ε added after "
        "the root",
        "swapped": "α and 1 − α are swapped: the old average keeps the weight α, s ← αs + "
        "(1 − α)g²",
        "no sqrt": "the gradient is divided by s, not by its square root: s is a mean *square*, "
        "√s has the gradient's units",
    },
    "adam": {
        "reset": RESET + ", here m, v and t",
        "no correction": "the bias correction is missing: divide m by 1 − β₁ᵗ and v by 1 − β₂ᵗ "
        "before the step",
        "t from 0": "the bias correction divides by 1 − β⁰ = 0 at the first step: t counts the "
        "steps from 1, so increment t before correcting",
        "eps inside": "ε is inside the square root: the denominator is √v̂ + ε, ε added after "
        "the root",
        "swapped": "β and 1 − β are swapped: the old averages keep the weights β₁ and β₂, "
        "m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²",
        "m only": "only m is bias-corrected: v needs its own correction too, v̂ = v/(1 − β₂ᵗ)",
        "v only": "only v is bias-corrected: m needs its own correction too, m̂ = m/(1 − β₁ᵗ)",
        "t not kept": "the step counter does not advance: the state returned holds the t it was "
        "given, so every step is corrected as if it were the first; return the incremented t",
        "eps before correction": "ε is added to √v before the correction (Kingma & Ba's "
        "'efficient' rewrite, which corrects η instead): this item adds ε to √v̂, the corrected "
        "average, θ ← θ − η m̂/(√v̂ + ε)",
    },
}


def paths_close(a: np.ndarray, b: np.ndarray) -> bool:
    """Same shape, the same entries non-finite, and the finite ones equal to tolerance."""
    if a.shape != b.shape:
        return False
    bad_a, bad_b = ~np.isfinite(a), ~np.isfinite(b)
    if not np.array_equal(bad_a, bad_b):
        return False
    ok = ~bad_a
    return bool(np.allclose(a[ok], b[ok], rtol=RTOL, atol=ATOL))
