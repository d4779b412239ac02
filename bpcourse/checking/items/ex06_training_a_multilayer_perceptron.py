r"""Graded items of exercises/06_training_a_multilayer_perceptron.ipynb: backprop by hand.

The network is a [64, H, 10] MLP on a mini-batch X (N, 64) with integer labels y (N,):

    Z1 = X W1ᵀ + b1,  A1 = ReLU(Z1),  logits = A1 W2ᵀ + b2,
    ℒ = (1/N) Σₙ −log softmax(logitsₙ)[yₙ],

with `params = {"W1": (H, 64), "b1": (H,), "W2": (10, H), "b2": (10,)}`. Only arrays cross
between the learner's code and the checker. No answer is stored: the checker computes its own
reference with NumPy and verifies it by central finite differences.

- `mlp_forward(X, y, params) -> {"Z1", "A1", "logits", "loss"}`: compared in order, the loss
  also on logits in the thousands (it must be computed stably).
- `mlp_backward(X, y, params) -> {"dlogits", "dW2", "db2", "dA1", "dZ1", "dW1", "db1"}`: every
  intermediate gradient, compared in this order against finite differences. The first wrong one
  is named with its likely mistake; each later one is also checked *given the learner's own
  upstream gradient*, so a gradient that is wrong only because an earlier one is says so.
- `train_mlp(X, y, seed=0) -> (params, losses)`: a training loop on the digits, built on the
  learner's own backward pass; the parameters must reach 95% validation accuracy, and a second
  run with the same seed must give the same parameters. The per-epoch training losses are the
  evidence for the diagnosis when it does not (too small a step, uphill steps, divergence).

The reference network, its passes and the catalogue of backward slips are in `ex06_reference`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bpcourse.checking.answers import question
from bpcourse.checking.compare import compare_number, describe, not_a_number
from bpcourse.checking.diagnose import LIKELY
from bpcourse.checking.items.ex04_06_catalogue import Slip, compare, diagnose, transforms
from bpcourse.checking.items.ex06_reference import (
    GRADIENTS,
    LAYOUT,
    N_IN,
    C,
    H,
    N,
    _digits,
    _local,
    _params_copy,
    _shape_hints,
    _usable,
    backward,
    finite_differences,
    forward,
    log_softmax,
    problem,
)
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import BadAnswer, NotAttempted, call_safely
from bpcourse.checking.shortcuts import NETWORK_LIBRARY
from bpcourse.data import Split

NOTEBOOK = "06_training_a_multilayer_perceptron"
TARGET_ACCURACY = 0.95
# the library code that would do the asked-for work: using it scores nothing
LIBRARY = (
    "bpcourse.activations",
    *NETWORK_LIBRARY,
    "bpcourse.init",
)

# --- the checker's own reference -----------------------------------------------------------------


def _as_dict(value: Any, keys: tuple[str, ...], function: str) -> dict[str, Any]:
    """The learner's dict, or BadAnswer saying what came back instead."""
    wanted = "{" + ", ".join(f'"{k}": ...' for k in keys) + "}"
    if value is None:
        raise BadAnswer(f"{function} returned None: did you forget to `return` the dict {wanted}?")
    if not isinstance(value, dict):
        raise BadAnswer(f"{function} should return a dict {wanted}, got {describe(value)}")
    missing = [k for k in keys if k not in value]
    if missing:
        raise BadAnswer(
            f"{function}'s dict lacks the key(s) {', '.join(repr(k) for k in missing)} "
            f"(it has {', '.join(repr(k) for k in value) or 'none'})"
        )
    return value


# --- mlp_forward ---------------------------------------------------------------------------------


def _forward_slips(X: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray]) -> dict:
    """The catalogue of known wrong forward values, part by part (from the right inputs)."""
    f = forward(X, y, params)
    Z1, A1 = f["Z1"], f["A1"]
    sigmoid = 1 / (1 + np.exp(-Z1))
    n = len(y)
    logp = log_softmax(f["logits"])
    logp_columns = f["logits"] - np.log(np.exp(f["logits"]).sum(axis=0, keepdims=True))
    return {
        "Z1": [
            Slip("{name} has no bias: add b1 (it broadcasts over the rows)", X @ params["W1"].T),
        ],
        "A1": [
            Slip("{name} equals Z1: the ReLU is missing, A1 = np.maximum(Z1, 0)", Z1),
            Slip("{name} is the sigmoid of Z1: this network's hidden units are ReLU", sigmoid),
            Slip(
                "{name} keeps the negative part: ReLU(z) = max(z, 0) keeps z where z > 0",
                np.minimum(Z1, 0),
            ),
        ],
        "logits": [
            Slip(
                "{name} is computed from Z1: the output layer takes the hidden layer's output A1",
                Z1 @ params["W2"].T + params["b2"],
            ),
            Slip("{name} has no bias: add b2", A1 @ params["W2"].T),
        ],
        "loss": [
            Slip(
                "{name} is the sum over the batch: ℒ is the mean, divide by N",
                n * f["loss"],
            ),
            Slip(
                "{name} is averaged over all N × 10 entries of −Y ⊙ log P: average over the N "
                "examples only (the one-hot Y keeps one term per row)",
                f["loss"] / C,
            ),
            Slip(
                "{name} normalises the softmax over the batch (axis=0): each example's "
                "probabilities sum to 1 over its 10 classes, axis=1",
                float(-logp_columns[np.arange(n), y].mean()),
            ),
            Slip(
                "{name} sums −log P over all 10 classes of each example: only the true class yₙ "
                "counts",
                float(-logp.sum(axis=1).mean()),
            ),
            Slip("{name} is negative: ℒ = −log p of the true class", -f["loss"]),
        ],
    }


@item(
    "mlp_forward",
    4,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="Z1, A1, logits and the loss agree with the checker's own forward pass, also for "
    "logits in the thousands",
)
def check_mlp_forward(mlp_forward: Callable[..., Any]) -> Problems:
    X, y, params = problem()
    got = _as_dict(
        call_safely(mlp_forward, X, y, _params_copy(params), name="mlp_forward"),
        ("Z1", "A1", "logits", "loss"),
        "mlp_forward",
    )
    right = forward(X, y, params)
    slips = _forward_slips(X, y, params)
    parts: dict[str, list[str]] = {}
    for key in ("Z1", "A1", "logits"):
        follows = _follows_forward(key, got, params)
        if follows and parts.get(_BEFORE[key]):
            parts[key] = [follows]
            continue
        parts[key] = compare(
            right[key],
            got[key],
            key,
            slips[key],
            layout=LAYOUT[key],
            shape_hints={
                (H,): "np.max(Z1, 0) is the largest entry of each column; ReLU is the "
                "element-wise np.maximum(Z1, 0)"
            }
            if key == "A1"
            else None,
        )
    loss_problems = compare_number(right["loss"], got["loss"], "loss")
    follows = _follows_forward("loss", got, params)
    if loss_problems and follows and parts["logits"]:
        loss_problems = [follows]
    elif loss_problems and not not_a_number(got["loss"], ""):
        loss_problems += diagnose(
            right["loss"], float(np.asarray(got["loss"]).item()), "loss", slips["loss"]
        )
    if not loss_problems:
        loss_problems = _stable(mlp_forward, X, y, params)
    parts["loss"] = loss_problems
    return _first_wrong(parts, "the forward pass")


_BEFORE = {"A1": "Z1", "logits": "A1", "loss": "logits"}


def _follows_forward(key: str, got: dict, params: dict[str, np.ndarray]) -> str:
    """'A1 follows correctly from your Z1 …' when `key` is right given the learner's input."""
    before = _BEFORE.get(key)
    shapes = {"Z1": (N, H), "A1": (N, H), "logits": (N, C)}
    if before is None or not _usable(got.get(before), shapes[before]):
        return ""
    u = got[before].astype(np.float64)
    if key == "A1":
        local = np.maximum(u, 0.0)
    elif key == "logits":
        local = u @ params["W2"].T + params["b2"]
    else:
        local = -log_softmax(u)[np.arange(N), _problem_labels()].mean()
    mine = got[key]
    if key == "loss":
        ok = not not_a_number(mine, "") and not compare_number(float(local), mine, "")
    else:
        ok = not compare(local, mine, key)
    return (
        f"{key} follows correctly from your {before}: it is wrong only because {before} is"
        if ok
        else ""
    )


def _problem_labels() -> np.ndarray:
    return problem()[1]


def _stable(mlp_forward: Callable[..., Any], X, y, params) -> list[str]:
    """[] when the loss is right also for logits in the thousands."""
    big = _params_copy(params)
    big["W2"] *= 400.0
    right = forward(X, y, big)
    got = call_safely(mlp_forward, X, y, _params_copy(big), name="mlp_forward")
    if not isinstance(got, dict) or "loss" not in got:
        return ["mlp_forward returned no loss for large logits"]
    problems = compare_number(right["loss"], got["loss"], "the loss for logits in the thousands")
    if problems:
        problems.append(
            "likely cause: exp of a large logit overflows to inf (and inf/inf is NaN): "
            "subtract each row's largest logit before exponentiating; it cancels in the softmax"
        )
    return problems


def _first_wrong(parts: dict[str, list[str]], what: str) -> dict[str, list[str]]:
    """Lead with the first wrong part, by name; keep each diagnosis beside its part's values
    ("likely mistake: your dW2 …": the registry moves "likely mistake: dW2 …" to the end)."""
    for key, messages in parts.items():
        parts[key] = [m.replace(f"{LIKELY}{key} ", f"{LIKELY}your {key} ", 1) for m in messages]
    wrong = [k for k, v in parts.items() if v]
    if wrong:
        parts[wrong[0]] = [f"the first wrong value of {what} is {wrong[0]}", *parts[wrong[0]]]
    return parts


# --- mlp_backward --------------------------------------------------------------------------------


@item(
    "mlp_backward",
    7,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="dlogits, dW2, db2, dA1, dZ1, dW1 and db1 agree with central finite differences "
    "of the loss",
)
def check_mlp_backward(mlp_backward: Callable[..., Any]) -> Problems:
    X, y, params = problem()
    got = _as_dict(
        call_safely(mlp_backward, X, y, _params_copy(params), name="mlp_backward"),
        GRADIENTS,
        "mlp_backward",
    )
    ref = backward(X, y, params)
    numeric = finite_differences(X, y, params)
    f = forward(X, y, params)
    parts: dict[str, list[str]] = {}
    first = ""
    for key in GRADIENTS:
        generic = transforms(N, sign=True)
        problems = compare(
            numeric[key], got[key], key, layout=LAYOUT[key], shape_hints=_shape_hints(key, N)
        )
        if not problems:
            parts[key] = []
            continue
        local, source, slips = _local(key, got, ref, f, X, y, params["W2"])
        follows = source and not compare(local, got[key], key)
        if first and follows:
            parts[key] = [
                f"{key} follows correctly from {source}: it is wrong only because "
                f"{source.removeprefix('your ')} is"
            ]
            continue
        if not first:
            first = key
        if source and not follows and not _same_values(local, ref[key]):
            # wrong given the learner's own upstream too: diagnose against that
            problems = compare(
                local,
                got[key],
                f"{key} (given {source})",
                slips,
                generic,
                layout=LAYOUT[key],
                shape_hints=_shape_hints(key, N),
            )
        else:
            problems = compare(
                numeric[key],
                got[key],
                key,
                slips,
                generic,
                layout=LAYOUT[key],
                shape_hints=_shape_hints(key, N),
            )
        parts[key] = problems
    return _first_wrong(parts, "the backward pass")


def _same_values(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-9, atol=1e-12))


# --- train_mlp -----------------------------------------------------------------------------------


def _validated_params(value: Any) -> tuple[dict[str, np.ndarray], list[float]]:
    """(params, losses) from train_mlp's answer, or BadAnswer saying what is wrong."""
    shape = "(params, losses): the dict {'W1', 'b1', 'W2', 'b2'} and the list of epoch losses"
    if value is None:
        raise BadAnswer(f"train_mlp returned None: return {shape}")
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise BadAnswer(f"train_mlp should return {shape}, got {describe(value)}")
    params, losses = value
    params = _as_dict(params, ("W1", "b1", "W2", "b2"), "train_mlp's params")
    arrays = {}
    hidden = None
    for key in ("W1", "b1", "W2", "b2"):
        p = params[key]
        if not isinstance(p, np.ndarray) or p.dtype.kind != "f":
            raise BadAnswer(f"params[{key!r}] is {describe(p)}, expected a float array")
        arrays[key] = p.astype(np.float64)
    hidden = arrays["W1"].shape[0] if arrays["W1"].ndim == 2 else None
    want = {"W1": (hidden, N_IN), "b1": (hidden,), "W2": (C, hidden), "b2": (C,)}
    for key, shape_wanted in want.items():
        if arrays[key].shape != shape_wanted:
            raise BadAnswer(
                f"params[{key!r}] has shape {arrays[key].shape}, expected {shape_wanted} "
                f"(W1 (H, 64), b1 (H,), W2 (10, H), b2 (10,))"
            )
    if not isinstance(losses, (list, tuple, np.ndarray)) or len(losses) == 0:
        raise BadAnswer(
            f"train_mlp's losses should be a non-empty list of the epochs' training losses, got "
            f"{describe(losses)}"
        )
    try:
        history = [float(v) for v in np.asarray(losses, dtype=np.float64).ravel()]
    except (TypeError, ValueError):
        raise BadAnswer(f"train_mlp's losses should be numbers, got {describe(losses)}") from None
    return arrays, history


def _trained(train_mlp: Callable[..., Any], digits: Split):
    try:
        value = call_safely(train_mlp, digits.X_train, digits.y_train, 0, name="train_mlp")
    except NotAttempted as stop:
        raise NotAttempted(
            f"{stop.messages[0]} (if train_mlp calls your mlp_backward, finish it first)"
        ) from None
    return _validated_params(value)


def _predict(params: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.maximum(X @ params["W1"].T + params["b1"], 0) @ params["W2"].T + params["b2"]


def _why_not_learned(params: dict[str, np.ndarray], losses: list[float], digits: Split) -> str:
    """What the losses and the parameters say about a run that missed the target."""
    history = np.array(losses)
    epochs = len(history)
    shown = f"{history[0]:.3g} → {history[-1]:.3g} over {epochs} epoch{'s' * (epochs > 1)}"
    outputs = _predict(params, digits.X_train)
    if not np.isfinite(history).all() or not np.isfinite(outputs).all():
        return (
            "the loss or the parameters became NaN or inf: training diverged (η far too large, "
            "or an unstable softmax: subtract each row's largest logit before exp)"
        )
    if epochs > 1 and history[-1] > history[0] * 1.05:
        return (
            f"the training loss went up ({shown}): the update adds the gradient; gradient "
            "descent subtracts it, θ ← θ − η ∂ℒ/∂θ (or η is far too large)"
        )
    if epochs > 1 and np.ptp(history) <= 1e-9 * abs(history[0]):
        return (
            f"the training loss did not change at all ({shown}): the parameters are never "
            "updated; write the new values back into params (params['W1'] -= lr * grads['dW1'] "
            "changes the array in the dict)"
        )
    logp = log_softmax(outputs)
    train_loss = float(-logp[np.arange(len(digits.y_train)), digits.y_train].mean())
    train_accuracy = float(np.mean(outputs.argmax(axis=1) == digits.y_train))
    known = f"training loss {train_loss:.3g}, training accuracy {train_accuracy:.1%}"
    falling = epochs > 1 and history[-1] < history[-2]
    if falling and train_loss > 0.5 and history[-1] > 0.85 * history[-2 if epochs < 4 else -4]:
        return (
            f"{known}; the loss falls, but slowly ({shown}): the steps are too small, the "
            "learning rate η is too small (about 0.1 works for these digits)"
        )
    if falling and epochs < 10:
        return (
            f"{known}; the loss was still falling fast ({shown}) when training stopped: train "
            "for more epochs (10 to 30)"
        )
    return f"{known} ({shown}): it does not learn the training data well enough yet"


@item(
    "train_mlp",
    6,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by=f"the parameters it trains reach at least {TARGET_ACCURACY:.0%} accuracy on the "
    "359 validation digits, and a second run with the same seed gives the same parameters",
)
def check_train_mlp(train_mlp: Callable[..., Any]) -> Problems:
    digits = _digits()
    params, losses = _trained(train_mlp, digits)
    outputs = _predict(params, digits.X_val)
    correct = int(np.sum(outputs.argmax(axis=1) == digits.y_val))
    accuracy = correct / len(digits.y_val)
    problems = []
    if not np.isfinite(outputs).all() or accuracy < TARGET_ACCURACY:
        problems = [
            f"validation accuracy {correct}/{len(digits.y_val)} = {accuracy:.1%}, below the "
            f"{TARGET_ACCURACY:.0%} asked for",
            "likely cause: " + _why_not_learned(params, losses, digits),
        ]
    again, _ = _trained(train_mlp, digits)
    if any(not np.array_equal(params[k], again[k], equal_nan=True) for k in params):
        problems.append(
            "two runs with seed=0 gave different parameters: derive all randomness from seed, "
            "rng = np.random.default_rng(seed), for the initial weights and the shuffling "
            "(not np.random.normal or np.random.permutation)"
        )
    return problems


# --- conceptual questions (answers stored as salted digests) -------------------------------------

question(
    "q_dW1_shape",
    1,
    NOTEBOOK,
    "0f7af1fd80dbcdabdf7709755e8a8a80aea7e16e24763d7d0920ecfe79d85d50",
    kind="shape",
    revisit="the shape rule: ∂ℒ/∂V has the shape of V, and W(l) is stored (n_out, n_in)",
)
question(
    "q_initial_loss",
    1,
    NOTEBOOK,
    "44bce6c68f55673c0e2e011db4abe685a1333932968b78bec084553ea044cb1c",
    kind="number",
    revisit="the softmax of equal logits, and −log of the true class's probability",
)
question(
    "q_backprop_is",
    1,
    NOTEBOOK,
    "567979506b5a7a82c181f847247cd26844cc7b95af3f9ff110f8080ff193ccd6",
    kind="letter",
    revisit="which part of your train_mlp computes gradients and which part changes the weights",
)
