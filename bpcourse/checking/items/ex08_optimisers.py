r"""Graded items of exercises/08_optimisers.ipynb: optimisers' update rules, written by hand.

Each update rule is a function `(params, grads, state, *hyper-parameters) -> (new params, new
state)` that leaves its arguments alone. The checker runs it for many steps, feeding back the
state it returns, and compares the path with the one it computes itself, on two problems:

- the 2-D valley ℒ(θ) = ½ θᵀAθ (A symmetric, eigenvalues 1 and 25): the gradient Aθ is
  computed by the checker at the learner's own point, step after step;
- random arrays of shape (3, 4) with a fixed sequence of random gradients.

The first state is given: zeros (and t = 0 for Adam); what the function returns as its state
is opaque to the checker, which only passes it back. A wrong path is compared with the
catalogue's known slips, each simulated by the checker (bias correction missing, t counted
from 0, ε inside the square root, β and 1 − β swapped, …); an argument changed in place
(params, grads, or the state dict and its arrays) is seen directly, and an error raised by the
rule says at which step and with which state it was called. The checker's own rules, the
runs and the slips' texts are in `ex08_rules`.

- `momentum_step(params, grads, state, lr, beta)`, state {"v"}: heavy ball, v ← βv + g,
  θ ← θ − ηv (PyTorch's convention, as in `bpcourse.optim.Momentum`).
- `nesterov_step(params, grads, state, lr, beta)`: v ← βv + g, θ ← θ − η(g + βv).
- `rmsprop_step(params, grads, state, lr, alpha, eps)`, state {"s"}: s ← αs + (1 − α)g²,
  θ ← θ − ηg/(√s + ε).
- `adam_step(params, grads, state, lr, beta1, beta2, eps)`, state {"m", "v", "t"}.
- `uncorrected_first_step(beta1, beta2)`: how many times larger Adam's first step is without
  bias correction, (1 − β₁)/√(1 − β₂) (for ε → 0), checked on several pairs.
- `descend_valley(A, theta0, steps)`: the learner's optimiser on an ill-conditioned quadratic
  (κ = 100) must bring ℒ to 10⁻⁴ of its start within 100 steps, which plain gradient descent
  cannot.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from bpcourse.checking.answers import question
from bpcourse.checking.compare import describe, not_a_number
from bpcourse.checking.diagnose import LIKELY
from bpcourse.checking.items.ex08_rules import (
    GRADS_IN_PLACE,
    HYPER_NAMES,
    IN_PLACE,
    RUNS,
    SLIPS,
    STATE_IN_PLACE,
    TWICE,
    Run,
    initial_state,
    paths_close,
    simulate,
    valley_loss,
    valley_matrix,
)
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import BadAnswer, LearnerError, call_safely, expect_tuple

NOTEBOOK = "08_optimisers"
LIBRARY = ("bpcourse.optim", "bpcourse.training", "bpcourse.surfaces")
# --- running the learner's rule ------------------------------------------------------------------


def _params_of(value: Any, shape: tuple[int, ...], name: str, k: int) -> tuple[np.ndarray, Any]:
    new, state = expect_tuple(value, 2, "(new_params, new_state)", name)
    if not isinstance(new, np.ndarray) or new.dtype.kind not in "fi":
        order = " (in this order)" if isinstance(new, dict) else ""
        raise BadAnswer(
            f"at step {k} {name} returned new params that are {describe(new)}, expected a float "
            f"array of shape {shape}: return (new_params, new_state){order}"
        )
    if new.shape != shape:
        raise BadAnswer(
            f"at step {k} {name} returned new params of shape {new.shape}, expected {shape} (the "
            "shape of params)"
        )
    if new.dtype.kind == "f" and new.dtype.itemsize < 8:
        raise BadAnswer(
            f"at step {k} {name} returned new params of dtype {new.dtype}; params came in as "
            "float64: keep float64 (the check compares to 1e-6, and float32's rounding, about "
            "1e-7 a step, adds up over the steps)"
        )
    return np.array(new, dtype=np.float64), state


def _snapshot(value: Any) -> Any:
    """A deep copy of a state to compare with after the call (None when it cannot be copied)."""
    try:
        return copy.deepcopy(value)
    except Exception:  # the learner's own state may be anything
        return None


def _same(a: Any, b: Any) -> bool:
    """Whether two states hold the same values (arrays compared entry by entry)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
        )
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    try:
        return bool(a == b) or bool(a != a and b != b)  # NaN equals NaN here
    except Exception:  # an object that cannot be compared: not evidence of a change
        return True


def _brief(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{'an array' if value.any() else 'zeros'} of shape {value.shape}"
    if isinstance(value, numbers.Number):
        return repr(value)
    return describe(value)


def _describe_state(state: Any) -> str:
    if isinstance(state, dict):
        return "{" + ", ".join(f"{k!r}: {_brief(v)}" for k, v in state.items()) + "}"
    return _brief(state)


IN_PLACE_TEXT = {"params": IN_PLACE, "grads": GRADS_IN_PLACE, "state": STATE_IN_PLACE}


def learner_path(
    fn: Callable[..., Any], name: str, kind: str, run: Run
) -> tuple[np.ndarray, set[str]]:
    """The learner's path on `run` (stopped at the first non-finite point) and the arguments
    ("params", "grads", "state") it ever changed in place."""
    p, state = run.start.copy(), initial_state(kind, run.start)
    path, changed = [p], set()
    for k in range(run.steps):
        given, gradient, before = p.copy(), run.gradient(k, p), _snapshot(state)
        seen: dict[str, Any] = {}

        def step(params, grads, state, *hyper, _seen=seen):
            _seen.update(params=params, grads=grads)
            return fn(params, grads, state, *hyper)

        step.__name__ = name
        try:
            value = call_safely(step, given, gradient, state, *run.hyper, name=name)
        except LearnerError as error:
            if kind == "adam" and k == 0 and "ZeroDivisionError" in error.messages[0]:
                path.append(np.full_like(p, np.nan))  # a Python float divided by 1 − β⁰ = 0
                break
            called = (
                f"at step 1, the first call, with state = {_describe_state(before)}"
                if k == 0
                else f"at step {k + 1}, called with the state {name} returned at step {k}: "
                f"{_describe_state(before)}"
            )
            raise LearnerError(f"{error.messages[0]} ({called})", *error.messages[1:]) from None
        if "params" in seen and not np.array_equal(seen["params"], p, equal_nan=True):
            changed.add("params")
        if "grads" in seen and not np.array_equal(seen["grads"], gradient, equal_nan=True):
            changed.add("grads")
        if before is not None and not _same(before, state):
            changed.add("state")
        p, state = _params_of(value, run.start.shape, name, k + 1)
        path.append(p)
        if not np.isfinite(p).all():
            break
    return np.array(path), changed


def _first_wrong(path: np.ndarray, right: np.ndarray) -> int:
    for k in range(1, len(path)):
        if not paths_close(path[k], right[k]):
            return k
    return len(path)


def _show(value: np.ndarray, precision: int = 6) -> str:
    return np.array2string(value, precision=precision, separator=", ")


def _distinct(got: Any, want: Any, show: Callable[[Any, int], str]) -> tuple[str, str]:
    """`got` and `want` shown with the fewest digits (6 to 12) that tell them apart."""
    for precision in range(6, 13):
        a, b = show(got, precision), show(want, precision)
        if a != b:
            break
    return a, b


def _where(path: np.ndarray, right: np.ndarray, k: int, run: Run) -> str:
    got, want = path[k], right[k]
    if got.ndim == 1 and got.size <= 2:
        a, b = _distinct(got, want, _show)
        return f"step {k} gives params {a}, expected {b}"
    with np.errstate(all="ignore"):
        off = np.abs(got - want)
    off[~np.isfinite(off)] = np.inf
    index = tuple(int(i) for i in np.unravel_index(np.argmax(off), got.shape))
    a, b = _distinct(got[index], want[index], lambda x, n: f"{x:.{n}g}")
    return f"step {k} gives params{list(index)} = {a}, expected {b} (the farthest entry)"


def check_rule(fn: Callable[..., Any], kind: str, name: str) -> list[str]:
    """The messages for the learner's update rule `kind` ([] when its paths are right)."""
    for run in RUNS[kind]:
        path, changed = learner_path(fn, name, kind, run)
        right = simulate(kind, run)
        n = len(path) - 1
        if paths_close(path, right[: n + 1]) and n == run.steps and not changed:
            continue
        if "params" in changed and paths_close(path, simulate(kind, run, "twice", n)):
            return [f"{LIKELY}{name} {TWICE}"]
        head = f"on {run.label} ({HYPER_NAMES[kind]} = {', '.join(f'{h:g}' for h in run.hyper)})"
        in_place = [IN_PLACE_TEXT[a] for a in IN_PLACE_TEXT if a in changed]
        if n == run.steps and paths_close(path, right):
            return [f"{head}: the path is right, but {name} {in_place[0]}"] + [
                f"{name} also {text}" for text in in_place[1:]
            ]
        k = _first_wrong(path, right)
        messages = [f"{head}: {_where(path, right, k, run)}"]
        if not np.isfinite(path[k]).all():
            messages[0] += " (NaN or inf)"
        if k > 1:
            agree = "step 1 agrees" if k == 2 else f"the first {k - 1} steps agree"
            messages.append(f"{agree}, step {k} does not")
        messages += [f"{name} also {text}" for text in in_place]
        found = [
            text
            for slip, text in SLIPS[kind].items()
            if paths_close(path, simulate(kind, run, slip, n))
        ]
        messages += [f"{LIKELY}{name}: {text}" for text in found[:1]]
        return messages
    return []


def _rule_item(kind: str, name: str, what: str) -> str:
    return (
        f"{what}: its path agrees with the checker's own over {RUNS[kind][0].steps} steps on the "
        f"2-D valley and {RUNS[kind][1].steps} steps on random arrays, feeding back its state, "
        "and it leaves its arguments unchanged"
    )


@item(
    "momentum_step",
    3,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by=_rule_item("momentum", "momentum_step", "heavy-ball momentum"),
)
def check_momentum_step(momentum_step: Callable[..., Any]) -> Problems:
    return check_rule(momentum_step, "momentum", "momentum_step")


@item(
    "nesterov_step",
    2,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by=_rule_item("nesterov", "nesterov_step", "Nesterov momentum"),
)
def check_nesterov_step(nesterov_step: Callable[..., Any]) -> Problems:
    return check_rule(nesterov_step, "nesterov", "nesterov_step")


@item(
    "rmsprop_step",
    3,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by=_rule_item("rmsprop", "rmsprop_step", "RMSProp"),
)
def check_rmsprop_step(rmsprop_step: Callable[..., Any]) -> Problems:
    return check_rule(rmsprop_step, "rmsprop", "rmsprop_step")


@item(
    "adam_step",
    4,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by=_rule_item("adam", "adam_step", "Adam with bias correction"),
)
def check_adam_step(adam_step: Callable[..., Any]) -> Problems:
    return check_rule(adam_step, "adam", "adam_step")


# --- Adam's first step without bias correction ---------------------------------------------------

BETAS = ((0.9, 0.999), (0.8, 0.99), (0.5, 0.9), (0.95, 0.9999))
RATIO_SLIPS = {
    "no root": (
        lambda b1, b2: (1 - b1) / (1 - b2),
        "the ratio divides by 1 − β₂: the step divides by √v, so it is √(1 − β₂)",
    ),
    "inverted": (
        lambda b1, b2: np.sqrt(1 - b2) / (1 - b1),
        "the ratio is upside down: uncorrected step over corrected step",
    ),
    "betas": (
        lambda b1, b2: b1 / np.sqrt(b2),
        "the ratio uses β where 1 − β belongs: the first averages are m₁ = (1 − β₁)g₁ and "
        "v₁ = (1 − β₂)g₁²",
    ),
}


@item(
    "uncorrected_first_step",
    2,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="the ratio agrees with the derivation for four pairs (β₁, β₂), from "
    "(0.9, 0.999) to (0.5, 0.9)",
)
def check_uncorrected_first_step(uncorrected_first_step: Callable[..., Any]) -> Problems:
    name = "uncorrected_first_step"
    got = []
    for b1, b2 in BETAS:
        value = call_safely(uncorrected_first_step, b1, b2, name=name)
        problems = not_a_number(value, f"{name}({b1}, {b2})")
        if problems:
            return problems
        got.append(float(np.asarray(value).item()))
    right = [(1 - b1) / np.sqrt(1 - b2) for b1, b2 in BETAS]
    if np.allclose(got, right, rtol=1e-6):
        return []
    k = next(i for i in range(len(BETAS)) if not np.isclose(got[i], right[i], rtol=1e-6))
    b1, b2 = BETAS[k]
    messages = [f"{name}({b1}, {b2}) = {got[k]:.6g} is not the ratio of the two first steps"]
    for slip, text in RATIO_SLIPS.values():
        if np.allclose(got, [slip(*b) for b in BETAS], rtol=1e-6):
            messages.append(f"{LIKELY}{text}")
    if np.allclose(got, got[0]) and not np.allclose(got, 1.0):
        messages.append(
            f"{name} returns the same number for every pair: the ratio is a formula in "
            "beta1 and beta2, and the check varies both"
        )
    if np.allclose(got, 1.0):
        messages.append(
            "1 is the ratio of two corrected steps: without the correction, m₁ and v₁ are the "
            "raw averages (1 − β₁)g₁ and (1 − β₂)g₁²"
        )
    return messages


# --- a valley with κ = 100 -----------------------------------------------------------------------

KAPPA, VALLEY_STEPS, TARGET = 100.0, 100, 1e-4
VALLEY = valley_matrix(KAPPA, 30.0)
STARTS = (np.array([1.5, 1.0]), np.array([2.0, -1.5]))
VALLEY_SLIPS = {
    "diverged": "the path diverges: the steps overshoot across the steep direction, whose "
    "curvature is 100; make η smaller",
    "uphill": "the first step goes uphill: it adds the gradient; an optimiser steps against it",
    "slow": "too slow: the loss falls, but not far enough in the shallow direction (curvature 1)",
    "aliased": "every point of the path is the same array: the update changed one array in "
    "place and the path holds it many times over",
    "jump": "the path reaches the minimum in one step: that is solving the equations, not "
    "descending; take steps of your optimiser from the gradient Aθ",
    "still": "the path never leaves theta0: is the result of each step assigned back "
    "(`theta, state = momentum_step(theta, ...)`) before it is appended?",
}


def _valley_path(value: Any, start: np.ndarray) -> np.ndarray:
    shape = (VALLEY_STEPS + 1, 2)
    if value is None:
        raise BadAnswer("descend_valley returned None: did you forget to `return` the path?")
    try:
        path = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise BadAnswer(f"descend_valley should return the path, got {describe(value)}") from None
    if path.shape != shape:
        raise BadAnswer(
            f"descend_valley should return the path as an array of shape {shape} (θ₀ and the "
            f"point after each of the {VALLEY_STEPS} steps), got shape {path.shape}"
        )
    if np.array_equal(path, np.broadcast_to(path[-1], shape)) and not np.allclose(path[-1], start):
        raise BadAnswer(
            f"every point of the path is {_show(path[-1])}", f"{LIKELY}{VALLEY_SLIPS['aliased']}"
        )
    if not np.allclose(path[0], start):
        said = [f"the path should start at theta0 = {_show(start)}, got {_show(path[0])}"]
        if np.isfinite(path[0]).all() and np.array_equal(path[0], path[1]):
            said.append(  # theta0 itself moved with the first step
                "an update that changes its params argument in place (`params -= ...`) also "
                "moves the points already in the path: return new arrays"
            )
        else:
            said.append(
                f"the path holds {VALLEY_STEPS + 1} points: theta0 first, then the point after "
                "each step"
            )
        raise BadAnswer(*said)
    return path


@item(
    "descend_valley",
    3,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by=f"from two starts, {VALLEY_STEPS} steps bring ℒ to below {TARGET:g} of its "
    f"start in the valley of condition number {KAPPA:g}, one first-order step at a time",
)
def check_descend_valley(descend_valley: Callable[..., Any]) -> Problems:
    for start in STARTS:
        value = call_safely(descend_valley, VALLEY.copy(), start.copy(), VALLEY_STEPS)
        path = _valley_path(value, start)
        with np.errstate(all="ignore"):
            losses = np.array([valley_loss(VALLEY, p) for p in path])
        first = path[1] - path[0]
        head = f"from theta0 = {_show(start)}: ℒ went from {losses[0]:.4g} to {losses[-1]:.4g}"
        if np.array_equal(path, np.broadcast_to(start, path.shape)):
            return [head, f"{LIKELY}{VALLEY_SLIPS['still']}"]
        if np.isfinite(losses[1]) and losses[1] <= 1e-12 * losses[0]:
            return [head, f"{LIKELY}{VALLEY_SLIPS['jump']}"]
        if float(first @ (VALLEY @ start)) > 0:
            return [head, f"{LIKELY}{VALLEY_SLIPS['uphill']}"]
        if not np.isfinite(losses).all() or losses[-1] > losses[0]:
            return [head, f"{LIKELY}{VALLEY_SLIPS['diverged']}"]
        if losses[-1] > TARGET * losses[0]:
            return [
                f"{head}, {losses[-1] / losses[0]:.2g} of its start; the target is {TARGET:g}",
                f"{LIKELY}{VALLEY_SLIPS['slow']}: plain gradient descent cannot get there in "
                f"{VALLEY_STEPS} steps; momentum can (tune η and β)",
            ]
    return []


# --- conceptual questions (answers stored as salted digests) -------------------------------------

question(
    "q_momentum_gain",
    1,
    NOTEBOOK,
    "6bcf8d4fb32f527eda70bbd8f7da680c4d4798c20c3a26a1a6004e55d005817c",
    kind="number",
    revisit="the velocity on a constant slope: where v ← βv + g stops growing",
)
question(
    "q_scale_invariant",
    1,
    NOTEBOOK,
    "6024a2765e50ea0c45fe6bd3954d8e713d8ef1f23fb3d9c6cc96fe901c15db2d",
    kind="letter",
    revisit="what each update divides the gradient by, and what a factor c does to it",
)
question(
    "q_largest_lr",
    1,
    NOTEBOOK,
    "5e797bd7e9423560f03c658fbbd9db71237a47395c5bf29f293a394036faddaa",
    kind="number",
    revisit="gradient descent along one eigenvector: θ ← (1 − ηλ)θ, and when |1 − ηλ| < 1",
)
