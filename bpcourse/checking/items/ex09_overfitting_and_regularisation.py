r"""Graded items of exercises/09_overfitting_and_regularisation.ipynb: penalties, dropout, stopping.

The parameters are a dict of arrays, `{"W1": (5, 8), "b1": (5,), "W2": (3, 5), "b2": (3,)}`; a
key that starts with "W" is a weight, every other key a bias. Only arrays, numbers, lists and a
NumPy generator cross between the learner's code and the checker; no answer is stored.

- `l2_penalty(params, lam) -> (penalty, grads)`: (λ/2) Σ ‖W‖² over the weights, and its
  gradient for every key (λW for a weight, zeros for a bias), compared with central finite
  differences of the checker's own penalty; changing params in place costs the gradient's half.
- `l1_penalty(params, lam) -> (penalty, grads)`: λ Σ |w| over the weights, and the subgradient
  λ sign(W) (0 where w = 0; the weights hold exact zeros), zeros for a bias.
- `dropout_forward(X, p, rng, training=True) -> (out, mask)`: inverted dropout, checked
  statistically on 100 000 entries: the fraction dropped is p, out = X ⊙ mask / (1 − p) keeps
  the mean, evaluation mode is the identity, and the mask comes from `rng` (reproducible, and
  fresh at every call). A mask scaled by 1/(1 − p) (the library's convention) or one that
  marks the dropped units costs the mask's point only.
- `dropout_backward(dout, mask, p) -> dX`: compared with central finite differences of
  Σ dout ⊙ out through a forward pass with that mask held fixed (frozen).
- `early_stopping(train_losses, val_losses, patience) -> (stop_epoch, best_epoch)`: the rule
  on 404 validation-loss histories the checker generates (epochs count from 1); the rule, the
  histories and the known wrong rules live in `ex09_stopping`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from bpcourse.checking.answers import question
from bpcourse.checking.compare import compare_array, compare_number, describe, not_a_number
from bpcourse.checking.diagnose import LIKELY
from bpcourse.checking.items.ex04_06_catalogue import Slip, compare, diagnose, transforms
from bpcourse.checking.items.ex09_dropout import (
    DROPOUT_SEED,
    P_DROP,
    _as_mask,
    _close,
    _drop_fraction,
    _evaluation,
    _forward,
    _output,
    _randomness,
    _scaled,
    dropout_input,
)
from bpcourse.checking.items.ex09_stopping import (
    HISTORIES,
    STOPPING_MISTAKES,
    as_epochs,
    histories,
    stopping_rule,
)
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import BadAnswer, call_safely, expect_tuple
from bpcourse.checking.shortcuts import NETWORK_LIBRARY
from bpcourse.gradcheck import numerical_gradient

NOTEBOOK = "09_overfitting_and_regularisation"
# the library code that would do the asked-for work: using it scores nothing
LIBRARY = ("bpcourse.regularization", "bpcourse.dropout", *NETWORK_LIBRARY)
PROBLEM_SEED = 9
LAM = 0.3
SHAPES = {"W1": (5, 8), "b1": (5,), "W2": (3, 5), "b2": (3,)}

BIASES = (
    "{name} is not zero: biases are not penalised (the penalty sums over the weights only, so "
    "its gradient with respect to a bias is 0)"
)
BIASES_IN_PENALTY = (
    "{name} includes the biases: biases are not penalised, sum over the weights (keys starting "
    "with W) only"
)


def is_weight(key: str) -> bool:
    return key.startswith("W")


def problem(seed: int = PROBLEM_SEED) -> dict[str, np.ndarray]:
    """Small random parameters; about a quarter of every array is exactly 0 (for L1)."""
    rng = np.random.default_rng(seed)
    params = {}
    for key, shape in SHAPES.items():
        value = rng.normal(0.0, 1.0, size=shape)
        value[rng.random(shape) < 0.25] = 0.0
        params[key] = value
    params["W1"][0, :2] = 0.0  # zeros for certain, whatever the draw
    return params


def _copy(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in params.items()}


def l2_reference(params: dict[str, np.ndarray], lam: float) -> float:
    return 0.5 * lam * sum(float(np.sum(v * v)) for k, v in params.items() if is_weight(k))


def l1_reference(params: dict[str, np.ndarray], lam: float) -> float:
    return lam * sum(float(np.sum(np.abs(v))) for k, v in params.items() if is_weight(k))


def penalty_gradients(
    penalty: Callable[[dict[str, np.ndarray], float], float], params: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Central finite differences of the penalty with respect to every array (0 at |0|)."""
    p = _copy(params)
    return {key: numerical_gradient(lambda: penalty(p, LAM), p[key]) for key in p}


def changed_in_place(given: dict[str, np.ndarray], kept: dict[str, np.ndarray]) -> list[str]:
    """The keys of the arrays the answer changed (`given` went in, `kept` is a copy)."""
    return [name for name in kept if not np.array_equal(given[name], kept[name], equal_nan=True)]


def _in_place(function: str, names: list[str]) -> list[str]:
    if not names:
        return []
    return [
        f"{function} changed {', '.join(names)} in place (`*=`, `/=` or `[...] =` on an array "
        "of params, or on a gradient that is the same array): a penalty must leave the "
        "network's parameters as they are; compute each gradient as a new array (c * W makes "
        "a new array, W *= c changes W itself)"
    ]


def _grads_layout(value: Any, function: str) -> list[str]:
    """What is wrong with grads as a dict of the parameters' keys (an empty list: nothing)."""
    if not isinstance(value, dict):
        return [
            f"{function}'s grads should be a dict with a gradient for every key of params, got "
            f"{describe(value)}"
        ]
    missing = [k for k in SHAPES if k not in value]
    if missing:
        return [
            f"{function}'s grads lack the key(s) {', '.join(repr(k) for k in missing)}: return a "
            "gradient for every parameter, an array of zeros for a parameter the penalty leaves "
            "out"
        ]
    return []


def _penalty_item(
    answer: Callable[..., Any],
    function: str,
    reference: Callable[[dict[str, np.ndarray], float], float],
    penalty_slips: list[Slip],
    weight_slips: Callable[[np.ndarray], list[Slip]],
    special: Callable[[np.ndarray, Any, str], list[str]] | None = None,
) -> Problems:
    params = problem()
    given = _copy(params)
    value = call_safely(answer, given, LAM, name=function)
    penalty, grads = expect_tuple(value, 2, "(penalty, grads)", function)
    if isinstance(penalty, dict) and not isinstance(grads, dict):
        raise BadAnswer(
            f"{function} returns (grads, penalty): return the two in the order (penalty, grads)"
        )
    parts: dict[str, list[str]] = {}
    right = reference(params, LAM)
    problems = compare_number(right, penalty, "penalty")
    if problems and not not_a_number(penalty, ""):
        problems += diagnose(right, float(np.asarray(penalty).item()), "penalty", penalty_slips)
    parts["penalty"] = problems
    numeric = penalty_gradients(reference, params)
    messages = _grads_layout(grads, function)
    for key in SHAPES if isinstance(grads, dict) else ():
        if key not in grads:
            continue
        name = f"grads[{key!r}]"
        found = special(params[key], grads[key], name) if special and is_weight(key) else []
        if not found:
            slips = (
                weight_slips(params[key])
                if is_weight(key)
                else [Slip(BIASES, LAM * params[key]), Slip(BIASES, LAM * np.sign(params[key]))]
            )
            generic = transforms(transpose=False) if is_weight(key) else []
            found = compare(
                numeric[key], grads[key], name, slips, generic, layout=f"params[{key!r}].shape"
            )
        messages += [m.replace(LIKELY, f"{LIKELY}your ", 1) for m in found]
    changed = [f"params[{k!r}]" for k in changed_in_place(given, params)]
    messages += _in_place(function, changed)
    parts["gradient"] = _dedupe(messages)
    return parts


def _dedupe(messages: list[str]) -> list[str]:
    return list(dict.fromkeys(messages))


# --- l2_penalty ----------------------------------------------------------------------------------


@item(
    "l2_penalty",
    3,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="the penalty (λ/2) Σ‖W‖² and its gradient for every parameter agree with the "
    "checker's own penalty and its central finite differences",
)
def check_l2_penalty(l2_penalty: Callable[..., Any]) -> Problems:
    params = problem()
    weights = [v for k, v in params.items() if is_weight(k)]
    return _penalty_item(
        l2_penalty,
        "l2_penalty",
        l2_reference,
        [
            Slip(BIASES_IN_PENALTY, 0.5 * LAM * sum(float(np.sum(v * v)) for v in params.values())),
            Slip(
                "{name} has no ½: the penalty is (λ/2) Σ‖W‖², half of λ times the sum of squares",
                2 * l2_reference(params, LAM),
            ),
            Slip(
                "{name} sums the norms ‖W‖, not their squares ‖W‖² = Σ w²",
                0.5 * LAM * sum(float(np.linalg.norm(v)) for v in weights),
            ),
        ],
        lambda W: [
            Slip(
                "{name} is 2λW: the ½ of (λ/2)w² cancels the 2 of d(w²)/dw = 2w, so the gradient "
                "is λW",
                2 * LAM * W,
            ),
            Slip(
                "{name} is λW/2: the ½ stays, but d(w²)/dw = 2w brings a 2 that cancels it, so "
                "the gradient is λW",
                0.5 * LAM * W,
            ),
            Slip("{name} forgets the strength λ: the gradient of (λ/2)w² is λw", W),
        ],
    )


# --- l1_penalty ----------------------------------------------------------------------------------


def _l1_zeros(W: np.ndarray, got: Any, name: str) -> list[str]:
    """NaN exactly where w = 0: W / |W|."""
    if not isinstance(got, np.ndarray) or got.shape != W.shape or got.dtype.kind != "f":
        return []
    bad = ~np.isfinite(got)
    if bad.any() and np.array_equal(bad, W == 0):
        return [
            f"{name} is NaN where w = 0: W / |W| divides 0 by 0 there; the subgradient is 0 at "
            "w = 0 (np.sign(0) is 0)"
        ]
    return []


@item(
    "l1_penalty",
    3,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="the penalty λ Σ|w| and its subgradient for every parameter (0 where w = 0) agree "
    "with the checker's own penalty and its central finite differences",
)
def check_l1_penalty(l1_penalty: Callable[..., Any]) -> Problems:
    params = problem()
    weights = [v for k, v in params.items() if is_weight(k)]
    return _penalty_item(
        l1_penalty,
        "l1_penalty",
        l1_reference,
        [
            Slip(BIASES_IN_PENALTY, LAM * sum(float(np.sum(np.abs(v))) for v in params.values())),
            Slip(
                "{name} sums the weights themselves: the L1 penalty sums their sizes |w|",
                LAM * sum(float(np.sum(v)) for v in weights),
            ),
            Slip(
                "{name} is the L2 penalty: L1 sums |w|, not w²",
                LAM * sum(float(np.sum(v * v)) for v in weights),
            ),
        ],
        lambda W: [
            Slip(
                "{name} is ±λ where w = 0: |w| has no derivative at 0, and the subgradient "
                "used there is 0 (np.sign(0) = 0), which keeps a zero weight at zero",
                np.where(W >= 0, LAM, -LAM),
            ),
            Slip(
                "{name} is ±λ where w = 0: |w| has no derivative at 0, and the subgradient "
                "used there is 0 (np.sign(0) = 0), which keeps a zero weight at zero",
                np.where(W > 0, LAM, -LAM),
            ),
            Slip(
                "{name} is −λ·sign(W): λ|w| grows away from 0, so its gradient points away from "
                "0, +λ·sign(w) (the minus belongs to the update step)",
                -LAM * np.sign(W),
            ),
            Slip(
                "{name} is λW, the L2 gradient: the derivative of λ|w| is λ·sign(w), of the same "
                "size for every nonzero weight",
                LAM * W,
            ),
            Slip("{name} forgets the strength λ: the subgradient is λ·sign(w)", np.sign(W)),
        ],
        special=_l1_zeros,
    )


# --- dropout_forward ------------------------------------------------------------------------------


@item(
    "dropout_forward",
    4,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by=f"on 100 000 units with p = {P_DROP}, the mask drops a fraction p, out = X ⊙ mask "
    "/ (1 − p) keeps the mean, evaluation is the identity, and the mask comes from rng",
)
def check_dropout_forward(dropout_forward: Callable[..., Any]) -> Problems:
    X = dropout_input()
    out, raw = _forward(dropout_forward, X, np.random.default_rng(DROPOUT_SEED), True)
    mask = _as_mask(raw, X.shape, out)
    fraction = _drop_fraction(mask)
    kept = mask
    if len(fraction) > 1 and _close(out, X * (1 - mask) / (1 - P_DROP)):
        # out is right for the units where mask is 0: the mask marks the dropped units
        fraction = [
            fraction[0],
            f"{LIKELY}your mask is 1 where a unit is dropped (out keeps the units where mask is "
            "0): return mask = 1 for a kept unit and 0 for a dropped one",
        ]
        kept = 1 - mask
    if _scaled(raw):
        fraction = [
            "mask holds 0 and 1/(1 − p): return the mask of 0 (dropped) and 1 (kept); the "
            "rescaling by 1/(1 − p) belongs in out",
            *fraction,
        ]
    return {
        "drop fraction": fraction,
        "out": _output(X, out, kept, kept_p=len(fraction) > 1 and kept is mask),
        "evaluation": _evaluation(dropout_forward, X),
        "randomness": _randomness(dropout_forward, X, mask),
    }


# --- dropout_backward -----------------------------------------------------------------------------

P_BACK = 0.4


def backward_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X (30, 20), the upstream gradient dout, and a 0/1 mask dropping about 40%."""
    rng = np.random.default_rng(PROBLEM_SEED + 100)
    X = rng.normal(size=(30, 20))
    dout = rng.normal(size=(30, 20))
    mask = (rng.random((30, 20)) >= P_BACK).astype(np.float64)
    return X, dout, mask


def backward_by_differences(X: np.ndarray, dout: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """∂/∂X of Σ dout ⊙ out, out = X ⊙ mask / (1 − p), with the mask frozen."""
    x = X.copy()
    return numerical_gradient(lambda: float(np.sum(dout * x * mask / (1 - P_BACK))), x)


def _fresh_mask(dout: np.ndarray, mask: np.ndarray, got: Any) -> list[str]:
    if not isinstance(got, np.ndarray) or got.shape != dout.shape or got.dtype.kind != "f":
        return []
    with np.errstate(all="ignore"):
        ratio = got / dout
    for scale in (1 / (1 - P_BACK), 1.0, 1 / P_BACK):
        other = ratio / scale
        kept = np.isclose(other, 1)
        binary = (np.isclose(other, 0) | kept).all() and 0.05 < kept.mean() < 0.95
        if binary and not np.array_equal(kept, mask == 1):
            if np.array_equal(kept, mask == 0):
                return []  # the inverted mask: a slip of its own
            return [
                f"{LIKELY}dX uses another mask than the forward pass's (a fresh one?): the "
                "backward pass must reuse the mask the forward pass drew"
            ]
    return []


@item(
    "dropout_backward",
    3,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="dX agrees with central finite differences of the forward pass with the same "
    "mask held fixed",
)
def check_dropout_backward(dropout_backward: Callable[..., Any]) -> Problems:
    X, dout, mask = backward_problem()
    got = call_safely(dropout_backward, dout, mask, P_BACK, name="dropout_backward")
    numeric = backward_by_differences(X, dout, mask)
    problems = compare_array(numeric, got, "dX", layout="dout's shape")
    if not problems:
        return []
    fresh = _fresh_mask(dout, mask, got)
    if fresh:
        return problems + fresh
    slips = [
        Slip(
            "{name} is not rescaled: the forward pass divided the kept units by 1 − p, so the "
            "backward pass does too, dX = dout ⊙ mask / (1 − p)",
            dout * mask,
        ),
        Slip("{name} divides by p: the keep probability is 1 − p", dout * mask / P_BACK),
        Slip(
            "{name} passes the gradient to the dropped units: a dropped unit did not reach the "
            "output, so its gradient is 0; multiply by the forward pass's mask",
            dout,
        ),
        Slip(
            "{name} passes the gradient to the dropped units: a dropped unit did not reach the "
            "output, so its gradient is 0; multiply by the forward pass's mask",
            dout / (1 - P_BACK),
        ),
        Slip(
            "{name} passes the gradient to the dropped units only: mask is 1 for a kept unit",
            dout * (1 - mask) / (1 - P_BACK),
        ),
    ]
    return compare(numeric, got, "dX", slips, transforms(transpose=False), layout="dout's shape")


# --- early_stopping -------------------------------------------------------------------------------


@item(
    "early_stopping",
    4,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by=f"the stopping epoch and the best epoch are right on all {HISTORIES + 4} "
    "validation-loss histories the checker generated",
)
def check_early_stopping(early_stopping: Callable[..., Any]) -> Problems:
    cases = histories()
    got = []
    nones = []
    for index, (train, val, patience) in enumerate(cases):
        value = call_safely(early_stopping, list(train), list(val), patience, name="early_stopping")
        if value is None:
            nones.append(index)
            continue
        got.append(as_epochs(value))
    if nones:
        raise BadAnswer(_returned_none(cases, nones))
    right = [stopping_rule(val, patience) for _, val, patience in cases]
    parts: dict[str, list[str]] = {"stop_epoch": [], "best_epoch": []}
    for index, part in enumerate(parts):
        wrong = [i for i in range(len(cases)) if got[i][index] != right[i][index]]
        if wrong:
            i = min(wrong, key=lambda k: len(cases[k][1]))  # the shortest example
            _, val, patience = cases[i]
            parts[part] = [
                f"{part} is wrong on {len(wrong)} of {len(cases)} histories; e.g. for "
                f"val_losses = {val} and patience = {patience} it should be "
                f"{right[i][index]}, your function returns {got[i][index]}"
            ]
    if got != right:
        found = [text for text, rule in STOPPING_MISTAKES if [rule(*c) for c in cases] == got]
        first = "stop_epoch" if parts["stop_epoch"] else "best_epoch"
        parts[first] += [f"{LIKELY}{text}" for text in found]
    return parts


def _returned_none(cases: list[tuple[list[float], list[float], int]], nones: list[int]) -> str:
    """Where early_stopping returned None, on the shortest history that shows it."""
    _, val, patience = cases[min(nones, key=lambda k: len(cases[k][1]))]
    said = (
        f"early_stopping returned None on {len(nones)} of {len(cases)} histories, e.g. for "
        f"val_losses = {val} and patience = {patience}"
    )
    if all(stopping_rule(cases[k][1], cases[k][2])[0] == len(cases[k][1]) for k in nones):
        return (
            f"{said}; on those histories training never stops early, and your function must "
            "still return (stop_epoch, best_epoch)"
        )
    return f"{said}: return (stop_epoch, best_epoch)"


# --- conceptual questions (answers stored as salted digests) -------------------------------------

question(
    "q_decay_factor",
    1,
    NOTEBOOK,
    "3055c4c317cfa8c72d91ff46db9f9a249508e700c4e8a37e637636c99791eb47",
    kind="number",
    revisit="one gradient-descent step on ℒ + (λ/2)‖W‖²: collect the terms in W",
)
question(
    "q_overfitting_curve",
    1,
    NOTEBOOK,
    "26f61f56fa4ef39994473e830f69f8d8da8cb67aa39b5aecfe7f393a1ea8a8f1",
    kind="letter",
    revisit="what the training and the validation loss each measure",
)
question(
    "q_l1_sparsity",
    1,
    NOTEBOOK,
    "accc7c34c97a8aa61bdac0a28dbc09b4d5ce383ca536549ae520a6e60e621a73",
    kind="letter",
    revisit="the size of each penalty's pull on a weight as the weight approaches 0",
)
question(
    "q_dropout_eval",
    1,
    NOTEBOOK,
    "a3cd3e9b96a21a224f601e1f022a2c0e0854673c92d139feca8061d0ffae88be",
    kind="letter",
    revisit="the expected value of an inverted-dropout unit's output in training",
)
