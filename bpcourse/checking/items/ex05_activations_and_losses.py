"""Graded items of exercises/05_activations_and_losses.ipynb.

Each is checked against the math on the checker's own seeded inputs: central finite
differences of the forward function (inputs stay away from ReLU's kink at 0, as the course's
gradient-check policy asks), or the definition itself where it is safe to evaluate, and the
library's stable reference at logits of ±1e4, where the definition overflows.

- `tanh_backward(dA, A) -> dZ`: the gradient through tanh from its output, dZ = dA ⊙ (1 − A²).
- `relu_backward(dA, Z) -> dZ`: the gradient through ReLU, dZ = dA ⊙ 1[Z > 0].
- `softmax_cross_entropy_grad(Z, Y) -> dZ`: the gradient of the mean softmax cross-entropy
  with respect to the logits Z (N, C), for one-hot targets Y: (softmax(Z) − Y) / N.
- `stable_logsumexp(Z) -> (N,)`: log Σⱼ e^(zⱼ) of each row, finite and exact at ±1e4.
- `bce_with_logits(Z, Y) -> (loss, dZ)`: binary cross-entropy from logits, the mean over all
  N·C entries, and its gradient (σ(Z) − Y)/(N·C); stable at ±1e4.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bpcourse.activations import logsumexp as reference_logsumexp
from bpcourse.activations import relu, sigmoid, softmax
from bpcourse.checking.answers import question
from bpcourse.checking.compare import compare_array, compare_number, not_a_number
from bpcourse.checking.diagnose import (
    Mistake,
    compare_gradient,
    diagnose_gradient,
    mask_not_applied,
    mask_wrong_side,
    missing_derivative,
)
from bpcourse.checking.items.ex04_06_catalogue import BACKPROP_SHORTCUTS
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import call_safely, expect_tuple
from bpcourse.gradcheck import numerical_gradient
from bpcourse.losses import binary_cross_entropy, softmax_cross_entropy

NOTEBOOK = "05_activations_and_losses"
LIBRARY = BACKPROP_SHORTCUTS
N, UNITS, CLASSES = 6, 4, 3


@item(
    "tanh_backward",
    2,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="dZ agrees with central finite differences of tanh",
)
def check_tanh_backward(tanh_backward: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Problems:
    rng = np.random.default_rng(51)
    Z = rng.uniform(-2.0, 2.0, size=(N, UNITS))
    A, dA = np.tanh(Z), rng.normal(size=(N, UNITS))
    got = call_safely(tanh_backward, dA, A, name="tanh_backward")
    expected = numerical_gradient(lambda: float(np.sum(dA * np.tanh(Z))), Z)
    mistakes = [
        missing_derivative(dA, "tanh'(z) = 1 − a²"),
        Mistake("{name} uses 1 − a where tanh'(z) = 1 − a² squares the output", dA * (1 - A)),
        Mistake(
            "{name} applies tanh to a again: A is already tanh(z), so tanh'(z) = 1 − a², "
            "not 1 − tanh(a)²",
            dA * (1 - np.tanh(A) ** 2),
        ),
        Mistake(
            "{name} uses the sigmoid's derivative a(1 − a); tanh's is 1 − a²", dA * A * (1 - A)
        ),
        Mistake(
            "{name} is the local derivative 1 − a² alone: the chain rule multiplies it by the "
            "upstream gradient dA",
            1 - A**2,
        ),
    ]
    return compare_gradient(expected, got, "dZ", layout="(N, units)", mistakes=mistakes)


@item(
    "relu_backward",
    2,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="dZ agrees with central finite differences of ReLU (away from its kink at 0)",
)
def check_relu_backward(relu_backward: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Problems:
    rng = np.random.default_rng(5)
    Z = rng.choice([-1.0, 1.0], size=(N, UNITS)) * rng.uniform(0.2, 2.0, size=(N, UNITS))
    dA = rng.normal(size=(N, UNITS))
    got = call_safely(relu_backward, dA, Z, name="relu_backward")
    expected = numerical_gradient(lambda: float(np.sum(dA * relu(Z))), Z)
    mistakes = [
        mask_not_applied(dA),
        mask_wrong_side(dA * (dA > 0), "the upstream gradient (dA > 0)"),
        Mistake("{name} keeps the gradient where z < 0: the mask is inverted", dA * (Z < 0)),
        Mistake(
            "{name} multiplies by ReLU(z) instead of its derivative ReLU'(z) = 1[z > 0]",
            dA * relu(Z),
        ),
    ]
    return compare_gradient(expected, got, "dZ", layout="(N, units)", mistakes=mistakes)


@item(
    "softmax_cross_entropy_grad",
    2,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="dZ agrees with central finite differences of the mean cross-entropy",
)
def check_softmax_cross_entropy_grad(
    softmax_cross_entropy_grad: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> Problems:
    rng = np.random.default_rng(6)
    Z = rng.normal(size=(N, CLASSES))
    Y = np.eye(CLASSES)[rng.integers(0, CLASSES, size=N)]
    got = call_safely(softmax_cross_entropy_grad, Z, Y, name="softmax_cross_entropy_grad")
    expected = numerical_gradient(lambda: softmax_cross_entropy(Z, Y)[0], Z)
    mistakes = [
        Mistake(
            "{name} uses the logits z where the probabilities p = softmax(z) belong: "
            "∂ℒ/∂z = (p − y)/N",
            (Z - Y) / N,
        ),
        Mistake("{name} is p/N: the one-hot target y is not subtracted", softmax(Z) / N),
        Mistake(
            "{name} takes the softmax down the columns: each row (one example) is normalised, "
            "softmax(z, axis=1)",
            (softmax(Z, axis=0) - Y) / N,
        ),
    ]
    return compare_gradient(expected, got, "dZ", layout="(N, C)", batch_size=N, mistakes=mistakes)


EXTREME = 1e4
LSE_EXTREME = np.array(
    [
        [EXTREME, 0.0, -EXTREME],
        [-EXTREME, -EXTREME, -EXTREME],
        [EXTREME, EXTREME - 1.0, EXTREME - 2.0],
        [-EXTREME, -EXTREME + 3.0, -EXTREME + 1.0],
        [3.0, -2.0, 0.5],
    ]
)
OVERFLOW = (
    "overflow: e^z is inf in float64 for any z above about 709.8, so e^(1e4) = inf; subtract "
    "each row's maximum m before exp and add it back: LSE(z) = m + log Σⱼ e^(zⱼ − m)"
)
UNDERFLOW = (
    "underflow: in a row of −1e4s every e^z is 0 in float64, and log 0 = −inf; after subtracting "
    "the row's maximum the largest term is e^0 = 1, so the sum is at least 1"
)
TOO = "the values at ±1e4 are wrong as well: fix the moderate logits first"
NOT_A_NUMBER = "NaN comes from inf − inf or inf / inf: an exp overflowed somewhere before it"


def _real(value: object) -> float | None:
    """`value` as a float when it is a real number (finite or not), else None."""
    problems = not_a_number(value, "")
    if problems and not problems[0].endswith("expected a finite number"):
        return None
    return float(np.asarray(value).item())


def _naive_logsumexp(Z: np.ndarray, shift: np.ndarray | float = 0.0) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.ravel(shift + np.log(np.sum(np.exp(Z - shift), axis=1, keepdims=True)))


def non_finite_hints(got: object, shifted_by_global_max: np.ndarray | None = None) -> list[str]:
    """Why `got` holds inf or NaN: overflow, underflow (log 0), or a maximum over the wrong axis."""
    if not isinstance(got, np.ndarray) or got.dtype.kind != "f" or np.isfinite(got).all():
        return []
    if shifted_by_global_max is not None and np.array_equal(
        got, shifted_by_global_max, equal_nan=True
    ):
        return [
            "your maximum is taken over the whole array, not over each row: rows far below "
            "the overall maximum underflow to log 0 = −inf; use np.max(Z, axis=1, keepdims=True)"
        ]
    hints = []
    if np.isposinf(got).any():
        hints.append(OVERFLOW)
    if np.isneginf(got).any():
        hints.append(UNDERFLOW)
    if np.isnan(got).any():
        hints.append(NOT_A_NUMBER)
    return hints


@item(
    "stable_logsumexp",
    2,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="agrees with log Σ e^z for moderate logits, and stays finite and exact at ±1e4",
)
def check_stable_logsumexp(logsumexp: Callable[[np.ndarray], np.ndarray]) -> Problems:
    rng = np.random.default_rng(52)
    Z = 3 * rng.normal(size=(N, UNITS))
    m = Z.max(axis=1, keepdims=True)
    mistakes = [
        Mistake(
            "{name} subtracts the row maximum m but never adds it back: "
            "LSE(z) = m + log Σⱼ e^(zⱼ − m)",
            _naive_logsumexp(Z, m) - m.ravel(),
        ),
        Mistake("{name} is the row maximum alone: the log Σ e^(z − m) term is missing", m.ravel()),
        Mistake(
            "{name} is the log of the mean of e^z, not of the sum: drop the division by C",
            _naive_logsumexp(Z) - np.log(UNITS),
        ),
    ]
    sideways = "log-sum-exp runs along each row (one example), axis=1, not down the columns"
    moderate = call_safely(logsumexp, Z, name="logsumexp")
    extreme = call_safely(logsumexp, LSE_EXTREME, name="logsumexp")
    n, c = LSE_EXTREME.shape
    extreme_problems = compare_array(
        reference_logsumexp(LSE_EXTREME, axis=1),
        extreme,
        "logsumexp(Z) at ±1e4",
        layout="(N,)",
        shape_hints={(c,): sideways} if c != n else None,
    )
    moderate_problems = compare_gradient(
        _naive_logsumexp(Z),  # the definition, safe for these moderate logits
        moderate,
        "logsumexp(Z)",
        layout="(N,)",
        mistakes=mistakes,
        shape_hints={(UNITS,): sideways},
    )
    hints = non_finite_hints(extreme, _naive_logsumexp(LSE_EXTREME, float(LSE_EXTREME.max())))
    if extreme_problems and moderate_problems and not hints:
        extreme_problems = [TOO]
    return {"moderate logits": moderate_problems, "logits of ±1e4": extreme_problems + hints}


BCE_EXTREME = np.array([[EXTREME, -EXTREME], [-EXTREME, EXTREME], [EXTREME, 0.5], [-EXTREME, -2.0]])
BCE_EXTREME_TARGETS = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
BCE_UNSTABLE = (
    "at z = ±1e4 the formula as written breaks in float64: σ(z) rounds to exactly 1 for z = 1e4, "
    "so log(1 − σ(z)) = log 0 = −inf (and 0 · log 0 = NaN), and e^(−z) overflows for z = −1e4. "
    "Write the loss from the logit: −log σ(z) = softplus(−z), −log(1 − σ(z)) = softplus(z), so "
    "ℒ = softplus(z) − y·z, with softplus(z) = np.logaddexp(0, z)"
)
BCE_CLIPPED = (
    "the loss at z = ±1e4 is finite but too small: clipping σ(z) (or log(p + ε)) caps each term "
    "near −log ε, but the true loss of z = 1e4 with y = 0 is 1e4; write it as softplus(z) − y·z"
)


@item(
    "bce_with_logits",
    3,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="the loss agrees with the mean of −y log σ(z) − (1 − y) log(1 − σ(z)), dZ with "
    "central finite differences of it, and both stay exact at z = ±1e4",
)
def check_bce_with_logits(bce_with_logits: Callable[..., tuple[float, np.ndarray]]) -> Problems:
    rng = np.random.default_rng(53)
    Z = 2 * rng.normal(size=(N, CLASSES))
    Y = rng.integers(0, 2, size=(N, CLASSES)).astype(np.float64)
    entries = Z.size
    answer = call_safely(bce_with_logits, Z, Y, name="bce_with_logits")
    loss, dZ = expect_tuple(answer, 2, "(loss, dZ)", "bce_with_logits")

    def definition() -> float:  # safe to evaluate as written for these moderate logits
        p = sigmoid(Z)
        return float(np.mean(-Y * np.log(p) - (1 - Y) * np.log(1 - p)))

    right_loss = definition()
    loss_problems = compare_number(right_loss, loss, "loss")
    if loss_problems and not not_a_number(loss, "loss"):
        loss_problems += diagnose_gradient(
            right_loss,
            float(np.asarray(loss).item()),
            "loss",
            mistakes=[
                Mistake(
                    f"{{name}} is the sum over the N·C = {entries} entries: the loss is their mean",
                    right_loss * entries,
                ),
                Mistake(
                    "{name} averages over the N examples but sums over the C outputs: take the "
                    "mean over all N·C entries",
                    right_loss * Z.shape[1],
                ),
                Mistake(
                    "{name} swaps y and 1 − y: the term −y log σ(z) belongs to y = 1",
                    binary_cross_entropy(Z, 1 - Y)[0],
                ),
            ],
        )
    p = sigmoid(Z)
    dZ_mistakes = [
        Mistake(
            f"{{name}} is σ(z) − y without the 1/(N·C): the loss is a mean over all N·C = "
            f"{entries} entries",
            p - Y,
        ),
        Mistake(
            "{name} is divided by N only: the loss is a mean over all N·C entries, so divide by "
            f"N·C = {entries}",
            (p - Y) / len(Z),
        ),
        Mistake(
            "{name} multiplies by σ'(z) = σ(z)(1 − σ(z)): from the logits the σ' cancels, "
            "∂ℒ/∂z = (σ(z) − y)/(N·C)",
            (p - Y) * p * (1 - p) / entries,
        ),
        Mistake("{name} uses the logit z where the probability σ(z) belongs", (Z - Y) / entries),
        Mistake(
            "{name} has the opposite sign: ∂ℒ/∂z is the prediction minus the target, "
            "(σ(z) − y)/(N·C)",
            (Y - p) / entries,
        ),
    ]
    gradient = numerical_gradient(definition, Z)
    answer = call_safely(bce_with_logits, BCE_EXTREME, BCE_EXTREME_TARGETS, name="bce_with_logits")
    loss_e, dZ_e = expect_tuple(answer, 2, "(loss, dZ)", "bce_with_logits")
    right_e, gradient_e = binary_cross_entropy(BCE_EXTREME, BCE_EXTREME_TARGETS)
    dZ_problems = compare_gradient(gradient, dZ, "dZ", layout="(N, C)", mistakes=dZ_mistakes)
    stable = compare_number(right_e, loss_e, "loss at z = ±1e4")
    stable += compare_array(gradient_e, dZ_e, "dZ at z = ±1e4", layout="(N, C)")
    value = _real(loss_e)
    unstable = (value is not None and not np.isfinite(value)) or non_finite_hints(dZ_e)
    if unstable and not not_a_number(loss, "loss"):  # finite for moderate logits only
        stable.append(BCE_UNSTABLE)
    elif stable and (loss_problems or dZ_problems):
        stable = [TOO]
    elif stable and value is not None and value < right_e:
        stable.append(BCE_CLIPPED)
    return {"loss": loss_problems, "dZ": dZ_problems, "stable at ±1e4": stable}


# --- conceptual questions (answers stored as salted digests) ---

question(
    "q_softmax_row_sum",
    1,
    NOTEBOOK,
    "7202d7086d81f3192e452449f5f39be4ebdf693624151ff437e868d52816c4d6",
    kind="number",
    revisit="the two parts of softmax(z) − y: what each of them sums to over a row",
)

question(
    "q_sigmoid_max_slope",
    1,
    NOTEBOOK,
    "314912db92382acb438c1e99cbd5d4c8364ebcc403c9769e4335a43f6d0d0d4f",
    kind="number",
    revisit="where σ'(z) = σ(z)(1 − σ(z)) is largest",
)

question(
    "q_dead_relu",
    1,
    NOTEBOOK,
    "ba1ecdecad924e42ed0eb2206d7f1067c19edc1cfcc737c8fe7896a3e8279330",
    kind="letter",
    revisit="ReLU'(z) for z < 0, and what reaches the weights through it",
)
