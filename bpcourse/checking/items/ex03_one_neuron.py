r"""Graded items of exercises/03_one_neuron.ipynb: one sigmoid neuron, its gradient, its training.

The neuron of lesson 03 in the course's shapes: X (N, n_in), W (1, n_in), b (1,), targets
Y (N, 1), predictions Ŷ = σ(X Wᵀ + b), and the mean half squared error
ℒ = (1/N) Σₙ ½ (ŷₙ − yₙ)². No answer is stored (but the conceptual questions' salted digests):
the gradients are checked against central finite differences, the sigmoid against the
library's, and the training loop against the library's own network and optimiser.

- `sigmoid_and_derivative(z) -> (a, da_dz)`: σ(z) and σ'(z), element-wise, without overflow
  for any float64 z.
- `neuron_gradient(X, Y, W, b) -> (dW, db)`: ∂ℒ/∂W and ∂ℒ/∂b.
- `neuron_step(X, T, W, b, lr) -> (W_new, b_new)`: one step of gradient descent.
- `train_neuron(X, T, W, b, lr, steps) -> (W, b, losses)`: full-batch gradient descent on a
  linearly separable set; the trained neuron must classify at least 95% of it correctly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bpcourse.activations import sigmoid
from bpcourse.checking.answers import question
from bpcourse.checking.diagnose import (
    Mistake,
    compare_gradient,
    last_contribution_only,
    missing_derivative,
)
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import LearnerError, call_safely, expect_tuple
from bpcourse.checking.shortcuts import NETWORK_LIBRARY
from bpcourse.gradcheck import numerical_gradient
from bpcourse.layers import Dense
from bpcourse.network import MLP
from bpcourse.optim import GradientDescent

NOTEBOOK = "03_one_neuron"
N, N_IN = 6, 3
SIGMA_PRIME = "σ'(z) = ŷ(1 − ŷ)"
LIBRARY = (
    "bpcourse.activations",
    *NETWORK_LIBRARY,
    "bpcourse.widgets",
)
CAUSES = {
    "sign": "the loss's derivative is ∂ℒₙ/∂ŷₙ = ŷₙ − yₙ, prediction minus target",
    "double": "½(ŷ − y)² differentiates to (ŷ − y): the ½ is there to cancel the 2",
    "transpose": "the weight gradient has W's shape (1, n_in): δᵀ X, not Xᵀ δ",
}
REQUIRED_ACCURACY = 0.95
TRAIN_LR, TRAIN_STEPS = 2.0, 100


def _neuron_problem(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """X (N, n_in), Y (N, 1) in (0, 1), W (1, n_in), b (1,): a neuron away from saturation."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, N_IN))
    T = rng.uniform(size=(N, 1))
    W = rng.normal(scale=0.7, size=(1, N_IN))
    b = rng.normal(scale=0.5, size=1)
    return X, T, W, b


def _loss(X: np.ndarray, T: np.ndarray, W: np.ndarray, b: np.ndarray) -> float:
    return float(0.5 * np.sum((sigmoid(X @ W.T + b) - T) ** 2) / len(X))


def _gradient(
    X: np.ndarray,
    T: np.ndarray,
    W: np.ndarray,
    b: np.ndarray,
    *,
    derivative: str = "a(1-a)",
    mean: bool = True,
    sign: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """(dW, db) as a learner might compute them; the options switch on known mistakes."""
    Z = X @ W.T + b
    A = sigmoid(Z)
    slope = {"a(1-a)": A * (1 - A), "z(1-z)": Z * (1 - Z), "none": np.ones_like(A)}[derivative]
    D = sign * (A - T) * slope / (len(X) if mean else 1)
    return D.T @ X, D.sum(axis=0)


def _as_array(value: object) -> object:
    """A list or tuple of numbers (or of 1-element arrays) as a float array; else unchanged."""
    if not isinstance(value, (list, tuple)) or not value:
        return value
    if any(isinstance(v, (bool, str)) or v is None for v in value):
        return value
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return value
    return array.reshape(len(value)) if array.size == len(value) else value


# --- 1. a sigmoid that never overflows ----------------------------------------------------------

EXTREMES = np.array([-800.0, -40.0, -1.5, 0.0, 2.5, 40.0, 800.0])


def _overflow_safe(fn: Callable[[np.ndarray], object]) -> Callable[[np.ndarray], object]:
    """fn, run with NumPy's overflow and invalid-value warnings turned into errors."""

    def strict(z: np.ndarray) -> object:
        with np.errstate(over="raise", invalid="raise"):
            return fn(z)

    strict.__name__ = getattr(fn, "__name__", "sigmoid_and_derivative")
    return strict


@item(
    "sigmoid_and_derivative",
    3,
    NOTEBOOK,
    checked_by="a agrees with the library's sigmoid and da_dz with central finite differences "
    "of it, and nothing overflows, even at z = ±800",
    forbid=LIBRARY,
)
def check_sigmoid_and_derivative(
    sigmoid_and_derivative: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
) -> Problems:
    rng = np.random.default_rng(3)
    z = rng.uniform(-5.0, 5.0, size=(4, 5))
    answer = call_safely(sigmoid_and_derivative, z, name="sigmoid_and_derivative")
    a, da_dz = expect_tuple(answer, 2, "(a, da_dz)", "sigmoid_and_derivative")
    right = sigmoid(z)
    slope = numerical_gradient(lambda: float(np.sum(sigmoid(z))), z)
    flipped = Mistake(
        "{name} is σ(−z) = 1/(1 + e^z): the exponent is −z, σ(z) = 1/(1 + e^(−z))",
        sigmoid(-z),
    )
    parts = {
        "a": compare_gradient(right, a, "a", layout="the shape of z", mistakes=[flipped]),
        "da_dz": compare_gradient(
            slope,
            da_dz,
            "da_dz",
            layout="the shape of z",
            mistakes=[
                Mistake(
                    "{name} is z(1 − z): the formula σ(z)(1 − σ(z)) takes the output a = σ(z), "
                    "not the input z",
                    z * (1 - z),
                ),
                Mistake("{name} is σ(z) itself, not its derivative", right),
                Mistake(
                    "{name} is 1 − σ(z): the derivative is σ(z)(1 − σ(z)), the factor σ(z) is "
                    "missing",
                    1 - right,
                ),
            ],
        ),
    }
    parts["no overflow"] = _extreme_problems(sigmoid_and_derivative)
    return parts


def _extreme_problems(answer: Callable[[np.ndarray], object]) -> list[str]:
    """[] when the answer is right and warning-free at z = ±40 and ±800, else what is wrong."""
    shown = ", ".join(f"{v:g}" for v in EXTREMES)
    try:
        result = call_safely(_overflow_safe(answer), EXTREMES.copy())
    except LearnerError as error:
        text = error.messages[0]
        if "FloatingPointError" in text:
            return [
                f"for z = [{shown}] it overflows ({text.split('FloatingPointError: ')[-1]}): "
                "e^(−z) for z = −800 is e^800, beyond the largest float64 (about 1.8e308); "
                "compute e^(−|z|), which is at most 1, and choose the formula by the sign of z"
            ]
        raise
    a, da_dz = expect_tuple(result, 2, "(a, da_dz)", "sigmoid_and_derivative")
    right = sigmoid(EXTREMES)
    problems = compare_gradient(right, a, "a at large |z|", layout="the shape of z")
    problems += compare_gradient(
        right * (1 - right), da_dz, "da_dz at large |z|", layout="the shape of z"
    )
    return problems


# --- 2. the neuron's gradient -------------------------------------------------------------------


@item(
    "neuron_gradient",
    5,
    NOTEBOOK,
    checked_by="dW and db agree with central finite differences of the mean half squared error",
    forbid=LIBRARY,
)
def check_neuron_gradient(
    neuron_gradient: Callable[..., tuple[np.ndarray, np.ndarray]],
) -> Problems:
    X, T, W, b = _neuron_problem(11)
    answer = call_safely(neuron_gradient, X, T, W, b, name="neuron_gradient")
    dW, db = expect_tuple(answer, 2, "(dW, db)", "neuron_gradient")
    no_slope = _gradient(X, T, W, b, derivative="none")
    from_z = _gradient(X, T, W, b, derivative="z(1-z)")
    no_slope_summed = _gradient(X, T, W, b, derivative="none", mean=False)
    summed_flipped = _gradient(X, T, W, b, mean=False, sign=-1.0)
    no_slope_flipped = _gradient(X, T, W, b, derivative="none", sign=-1.0)
    A = sigmoid(X @ W.T + b)
    last = (A[-1] - T[-1]) * A[-1] * (1 - A[-1]) / N  # the last example's δ
    last_example = "the last example of the batch"
    parts = {}
    for i, (name, value, layout, got, last_term) in enumerate(
        [
            ("dW", W, "(1, n_in)", dW, np.outer(last, X[-1])),
            ("db", b, "(1,)", db, last),
        ]
    ):
        mistakes = [
            missing_derivative(no_slope[i], SIGMA_PRIME),
            Mistake(
                "{name} uses z(1 − z) for σ'(z): the formula ŷ(1 − ŷ) takes the neuron's "
                "output ŷ = σ(z), not its input z",
                from_z[i],
            ),
            last_contribution_only(last_term, last_example),
            Mistake(
                f"{{name}} leaves out {SIGMA_PRIME} and sums over the batch instead of taking "
                "the mean (two slips, so no single factor relates it to the right answer)",
                no_slope_summed[i],
            ),
            Mistake(
                "{name} sums over the batch instead of taking the mean, and has the opposite "
                "sign: " + CAUSES["sign"],
                summed_flipped[i],
            ),
            Mistake(
                f"{{name}} leaves out {SIGMA_PRIME} and has the opposite sign: " + CAUSES["sign"],
                no_slope_flipped[i],
            ),
        ]
        parts[name] = compare_gradient(
            numerical_gradient(lambda: _loss(X, T, W, b), value),
            got,
            name,
            layout=layout,
            batch_size=N,
            mistakes=mistakes,
            causes=CAUSES,
            shape_hints={(N,): f"{name} sums over the batch, axis=0 (you summed over axis=1)"}
            if name == "db"
            else None,
        )
    return parts


# --- 3. one step of gradient descent ------------------------------------------------------------


@item(
    "neuron_step",
    2,
    NOTEBOOK,
    checked_by="W_new and b_new equal W − η ∂ℒ/∂W and b − η ∂ℒ/∂b, by central finite differences",
    forbid=LIBRARY,
)
def check_neuron_step(neuron_step: Callable[..., tuple[np.ndarray, np.ndarray]]) -> Problems:
    X, T, W, b = _neuron_problem(12)
    lr = 0.5
    answer = call_safely(neuron_step, X, T, W, b, lr, name="neuron_step")
    W_new, b_new = expect_tuple(answer, 2, "(W_new, b_new)", "neuron_step")
    no_slope = _gradient(X, T, W, b, derivative="none")
    summed = _gradient(X, T, W, b, mean=False)
    parts = {}
    for i, (name, value, got) in enumerate([("W_new", W, W_new), ("b_new", b, b_new)]):
        grad = numerical_gradient(lambda: _loss(X, T, W, b), value)
        mistakes = [
            Mistake(
                "{name} = θ + η ∂ℒ/∂θ climbs the loss (a sign error in the update, or in the "
                "gradient): gradient descent subtracts, θ ← θ − η ∂ℒ/∂θ",
                value + lr * grad,
            ),
            Mistake(
                "{name} = θ − ∂ℒ/∂θ: the learning rate η is missing, θ ← θ − η ∂ℒ/∂θ",
                value - grad,
            ),
            Mistake(
                "{name} is only the step −η ∂ℒ/∂θ: add it to the old parameter, "
                "θ_new = θ − η ∂ℒ/∂θ",
                -lr * grad,
            ),
            Mistake(
                "{name} takes a step N times too long: the loss is a mean over the batch, so "
                "its gradient carries a 1/N",
                value - lr * summed[i],
            ),
            Mistake(
                f"{{name}} is a step with a gradient that lacks {SIGMA_PRIME}: the chain rule "
                "multiplies by the sigmoid's slope",
                value - lr * no_slope[i],
            ),
            Mistake("{name} is the old parameter: the update was not applied", value.copy()),
        ]
        layout = "(1, n_in), the shape of W" if name == "W_new" else "(1,), the shape of b"
        parts[name] = compare_gradient(
            value - lr * grad, got, name, layout=layout, mistakes=mistakes
        )
    return parts


# --- 4. training on a separable set -------------------------------------------------------------


def separable_set(n: int = 40, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Two blobs in the plane that a line separates: X (n, 2), T (n, 1) of 0s and 1s."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    centres = np.where(labels[:, None] == 1, [1.2, 0.8], [-1.2, -0.8])
    X = centres + rng.normal(scale=0.55, size=(n, 2))
    return X, labels[:, None].astype(np.float64)


def reference_training(
    X: np.ndarray, T: np.ndarray, W: np.ndarray, b: np.ndarray, lr: float, steps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full-batch gradient descent with the library: (W, b, the loss before each step)."""
    net = MLP([X.shape[1], 1], "sigmoid", output_activation="sigmoid")
    dense = net.layers[0]
    assert isinstance(dense, Dense)
    dense.W.value[...], dense.b.value[...] = W, b
    optimiser = GradientDescent(net.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        losses.append(net.loss_and_backward(X, T, "half_squared_error"))
        optimiser.step()
    return dense.W.value.copy(), dense.b.value.copy(), np.array(losses)


def _slipped_training(
    X: np.ndarray, T: np.ndarray, W: np.ndarray, b: np.ndarray, lr: float, steps: int, slip: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The training loop with one known slip: 'uphill', 'no slope', 'once' (the gradient
    computed once, before the loop) or 'after' (each loss recorded after its step)."""
    W, b = W.copy(), b.copy()
    fixed = _gradient(X, T, W, b)
    losses = []
    for _ in range(steps):
        if slip != "after":
            losses.append(_loss(X, T, W, b))
        dW, db = (
            fixed
            if slip == "once"
            else _gradient(X, T, W, b, derivative="none" if slip == "no slope" else "a(1-a)")
        )
        sign = -1.0 if slip == "uphill" else 1.0
        W, b = W - sign * lr * dW, b - sign * lr * db
        if slip == "after":
            losses.append(_loss(X, T, W, b))
    return W, b, np.array(losses)


TRAINING_SLIPS = {
    "uphill": "is what gradient ascent gives, a sign error: descent subtracts the gradient, "
    "θ ← θ − η ∂ℒ/∂θ (check the update in neuron_step, and the sign of neuron_gradient)",
    "no slope": f"is what a gradient without {SIGMA_PRIME} gives (check neuron_gradient)",
    "once": "is what the gradient of the starting point, used at every step, gives: compute "
    "the gradient again inside the loop, at the current W and b",
    "after": "holds the loss after each step: record it before the update, so that losses[0] "
    "is the loss of the starting point",
}


@item(
    "train_neuron",
    4,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by=f"the losses and the final W, b equal the library's gradient descent, and the "
    f"neuron classifies at least {REQUIRED_ACCURACY:.0%} of the checker's separable set correctly",
)
def check_train_neuron(train_neuron: Callable[..., tuple[object, ...]]) -> Problems:
    X, T = separable_set()
    W0, b0 = np.zeros((1, 2)), np.zeros(1)
    answer = call_safely(train_neuron, X, T, W0, b0, TRAIN_LR, TRAIN_STEPS, name="train_neuron")
    W, b, losses = expect_tuple(answer, 3, "(W, b, losses)", "train_neuron")
    losses = _as_array(losses)
    W_ref, b_ref, losses_ref = reference_training(X, T, W0, b0, TRAIN_LR, TRAIN_STEPS)
    slipped = {
        slip: _slipped_training(X, T, W0, b0, TRAIN_LR, TRAIN_STEPS, slip)
        for slip in TRAINING_SLIPS
    }

    def mistakes(i: int) -> list[Mistake]:
        return [Mistake("{name} " + text, slipped[s][i]) for s, text in TRAINING_SLIPS.items()]

    weights = compare_gradient(W_ref, W, "W", layout="(1, n_in)", mistakes=mistakes(0))
    weights += compare_gradient(b_ref, b, "b", layout="(1,)", mistakes=mistakes(1))
    summed = Mistake(
        f"{{name}} are N = {len(X)} times too large: the loss is the mean over the batch, "
        "(1/N) Σₙ ½(ŷₙ − yₙ)², not the sum",
        len(X) * losses_ref,
    )
    losses_problems = compare_gradient(
        losses_ref, losses, "losses", layout="(steps,)", mistakes=[*mistakes(2), summed]
    )
    return {
        "losses": losses_problems,
        "W and b": weights,
        "accuracy": _accuracy_problems(X, T, W, b),
    }


def _accuracy_problems(X: np.ndarray, T: np.ndarray, W: object, b: object) -> list[str]:
    """[] when the neuron (W, b) classifies enough of X correctly (a > 1/2 means class 1)."""
    usable = [
        isinstance(v, np.ndarray) and v.shape == shape and v.dtype.kind == "f"
        for v, shape in ((W, (1, 2)), (b, (1,)))
    ]
    if not all(usable):
        return ["the accuracy needs W of shape (1, 2) and b of shape (1,), arrays of floats"]
    assert isinstance(W, np.ndarray) and isinstance(b, np.ndarray)
    predicted = sigmoid(X @ W.T + b) > 0.5
    accuracy = float(np.mean(predicted == (T > 0.5)))
    if accuracy >= REQUIRED_ACCURACY:
        return []
    return [
        f"the trained neuron classifies {accuracy:.0%} of the {len(X)} points correctly; "
        f"at least {REQUIRED_ACCURACY:.0%} are needed (a line separates the two classes)"
    ]


# --- conceptual questions -----------------------------------------------------------------------

question(
    "q_dZ_shape",
    1,
    NOTEBOOK,
    "a8a7893134d9a14e5278eccf545e6bf2a0f50f60edd846cb29cbd7ea5a7ef7e8",
    kind="shape",
    revisit="the shape rule: a gradient has the shape of the quantity it differentiates by",
)
question(
    "q_equal_weights",
    1,
    NOTEBOOK,
    "27a9ae36123c81416b23c0ba9360fdf43a0155d8a5328427d5854a66b08495ea",
    kind="letter",
    revisit="what the gradient of two units with identical weights and inputs is",
)
question(
    "q_saturation",
    1,
    NOTEBOOK,
    "1c6d84c56d99c8f87322a8bb5bd8ec435de25dd13b8587b5db05bcdfbac785b1",
    kind="number",
    revisit="σ'(z) = σ(z)(1 − σ(z)) at z = 4 and at z = 0",
)
