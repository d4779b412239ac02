"""Graded items of exercises/06_training_a_multilayer_perceptron.ipynb.

No answer is stored: each checker runs the learner's function on its own seeded inputs and
verifies the result from first principles.

- `minibatch_indices(n, batch_size, rng) -> list of index arrays`: one epoch's shuffled
  mini-batches. Checked as properties: together the batches hold every index 0..n−1 once,
  every batch has `batch_size` of them except a smaller last one, and the order is shuffled
  by the given generator (the same seed gives the same order, another seed another order).
- `expected_initial_loss(n_classes) -> float`: ln C, checked against the library's softmax
  cross-entropy of all-equal logits (a network that knows nothing).
- `train_step(net, X, y, lr) -> loss`: one step of gradient descent on a small MLP. The loss
  is checked against a forward pass, and the change of every parameter against −η times the
  central finite differences of the loss.
- `train_mlp(X, y, seed=0) -> network`: a full mini-batch training loop; the network it
  returns must reach 95% accuracy on the digits' validation set, and a second run with the
  same seed must give the same network.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from bpcourse.checking.compare import compare_array, compare_number, describe, not_a_number
from bpcourse.checking.diagnose import LIKELY, Mistake, diagnose_gradient
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import BadAnswer, NotAttempted, call_safely
from bpcourse.data import Split, load_digits
from bpcourse.gradcheck import numerical_gradient
from bpcourse.layers import ActivationLayer
from bpcourse.losses import softmax_cross_entropy
from bpcourse.network import MLP

NOTEBOOK = "06_training_a_multilayer_perceptron"
TARGET_ACCURACY = 0.95

# --- minibatch_indices ---------------------------------------------------------------------------


def _batches(minibatch_indices: Callable[..., Any], n: int, size: int, seed: int) -> list:
    """The learner's batches for (n, size, default_rng(seed)) as a list of 1-D integer arrays."""
    rng = np.random.default_rng(seed)
    value = call_safely(minibatch_indices, n, size, rng, name="minibatch_indices")
    if isinstance(value, Iterator):  # a generator: its body runs only while it is iterated

        def minibatch_indices_listed() -> list:
            return list(value)

        minibatch_indices_listed.__name__ = "minibatch_indices"
        value = call_safely(minibatch_indices_listed)
    call = f"minibatch_indices({n}, {size}, rng)"
    if value is None:
        raise BadAnswer(f"{call} returned None: did you forget to `return` the list of batches?")
    if isinstance(value, np.ndarray) and value.ndim == 1:
        raise BadAnswer(
            f"{call} returned one array of shape {value.shape}: split the shuffled order into "
            "batches, a list of index arrays [order[0:B], order[B:2B], ...]"
        )
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise BadAnswer(f"{call} should return a list of index arrays, got {describe(value)}")
    batches = []
    for i, batch in enumerate(value):
        array = np.asarray(batch)
        if array.ndim != 1 or array.dtype.kind not in "iu":
            raise BadAnswer(
                f"batch {i} of {call} is {describe(batch)}: each batch should be a 1-D NumPy "
                "array of integer indices (rng.permutation(n) gives one)"
            )
        batches.append(array)
    return batches


def _coverage(batches: list[np.ndarray], n: int, size: int) -> list[str]:
    """[] when the batches hold every index 0..n−1 exactly once."""
    order = np.concatenate(batches) if batches else np.array([], dtype=int)
    if np.array_equal(np.sort(order), np.arange(n)):
        return []
    call = f"minibatch_indices({n}, {size}, rng)"
    left = n % size
    if order.size and (order.min() < 0 or order.max() >= n):
        return [
            f"{call} holds the index {order.max() if order.max() >= n else order.min()}: "
            f"indices run from 0 to n − 1 = {n - 1} (Python counts from 0)"
        ]
    values, counts = np.unique(order, return_counts=True)
    if (counts > 1).any():
        twice = int(values[np.argmax(counts > 1)])
        return [
            f"in {call} the index {twice} appears {counts.max()} times: each example must be "
            "used once per epoch; draw the order without replacement, rng.permutation(n) "
            "(not rng.integers or rng.choice(..., replace=True))"
        ]
    missing = n - order.size
    if left and missing == left and all(len(b) == size for b in batches):
        return [
            f"{call} leaves out the last {left} examples: the last batch is smaller, "
            f"order[{n - left}:{n}]; loop with range(0, n, batch_size)"
        ]
    return [f"{call} holds {order.size} of the {n} indices, each should appear exactly once"]


def _sizes(batches: list[np.ndarray], n: int, size: int) -> list[str]:
    want = [size] * (n // size) + ([n % size] if n % size else [])
    got = [len(b) for b in batches]
    if got == want:
        return []
    message = (
        f"minibatch_indices({n}, {size}, rng): batch sizes {got}, expected {want} (every "
        "batch holds batch_size examples except the last)"
    )
    if sorted(got) != sorted(want) and max(got, default=0) - min(got, default=0) <= 1:
        message += ": np.array_split evens the sizes out; slice order[i:i + batch_size] instead"
    return [message]


def _shuffling(minibatch_indices: Callable[..., Any]) -> list[str]:
    n, size = 60, 10

    def order(batches: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(batches) if batches else np.array([], dtype=int)

    batches = _batches(minibatch_indices, n, size, seed=1)
    first = order(batches)
    again = order(_batches(minibatch_indices, n, size, seed=1))
    other = order(_batches(minibatch_indices, n, size, seed=2))
    chunks = np.arange(n).reshape(-1, size)
    if np.array_equal(first, np.arange(n)):
        return [
            "the examples come in their original order 0, 1, 2, ...: shuffle the order first, "
            "order = rng.permutation(n), then cut it into batches"
        ]
    if len(batches) == len(chunks) and all(
        np.array_equal(np.sort(b), c) for b, c in zip(batches, chunks, strict=True)
    ):
        return [
            "only the order inside each batch is shuffled: every batch holds the same "
            "neighbouring examples in every epoch; shuffle the whole order, then cut it"
        ]
    if not np.array_equal(first, again):
        return [
            "two calls with generators of the same seed gave different orders: shuffle with the "
            "rng you are given (rng.permutation(n)), not np.random, so a run can be repeated"
        ]
    if np.array_equal(first, other):
        return [
            "generators with different seeds gave the same order: use the rng argument, not a "
            "generator or seed of your own"
        ]
    return []


@item(
    "minibatch_indices",
    2,
    NOTEBOOK,
    checked_by="the batches cover every example once, have the right sizes, and are shuffled "
    "by the given generator (reproducibly)",
)
def check_minibatch_indices(minibatch_indices: Callable[..., Any]) -> Problems:
    cases = [(10, 4), (12, 3), (5, 8), (7, 1)]
    got = {(n, size): _batches(minibatch_indices, n, size, seed=0) for n, size in cases}
    coverage = [m for (n, size), b in got.items() for m in _coverage(b, n, size)]
    sizes = [m for (n, size), b in got.items() for m in _sizes(b, n, size)]
    return {
        "every example once": coverage[:1],
        "batch sizes": sizes[:1],
        "shuffled by rng": _shuffling(minibatch_indices),
    }


# --- expected_initial_loss -----------------------------------------------------------------------

CLASS_COUNTS = (2, 3, 10, 26)


@item(
    "expected_initial_loss",
    1,
    NOTEBOOK,
    checked_by="equals the softmax cross-entropy of all-equal logits, for C = 2, 3, 10 and 26",
)
def check_expected_initial_loss(expected_initial_loss: Callable[[int], float]) -> Problems:
    # A network that knows nothing gives every class the same logit: the loss of any label.
    right = np.array(
        [softmax_cross_entropy(np.zeros((1, c)), np.array([0]))[0] for c in CLASS_COUNTS]
    )
    got = []
    for c in CLASS_COUNTS:
        value = call_safely(expected_initial_loss, c, name="expected_initial_loss")
        problems = not_a_number(value, f"expected_initial_loss({c})")
        if problems:
            return problems
        got.append(float(np.asarray(value).item()))
    wrong = [
        f"expected_initial_loss({c}) = {g:.6g}, but a uniform guess over {c} classes has loss "
        f"{r:.6g}"
        for c, g, r in zip(CLASS_COUNTS, got, right, strict=True)
        if compare_number(r, g, "")
    ]
    if not wrong:
        return []
    C = np.array(CLASS_COUNTS, dtype=np.float64)
    mistakes = [
        Mistake("{name} is the base-10 log: the loss uses the natural log, np.log", np.log10(C)),
        Mistake("{name} is the base-2 log: the loss uses the natural log, np.log", np.log2(C)),
        Mistake(
            "{name} is the probability p = 1/C of the true class; the loss is −ln p = ln C", 1 / C
        ),
        Mistake(
            "{name} divides by C: the loss of one example is −ln p of its true class alone",
            np.log(C) / C,
        ),
        Mistake(
            "{name} adds −ln(1/C) over all C classes: with a one-hot target only the true "
            "class's term counts",
            C * np.log(C),
        ),
    ]
    hints = diagnose_gradient(right, np.array(got), "expected_initial_loss(C)", mistakes=mistakes)
    return [*wrong[:2], *hints]


# --- train_step ----------------------------------------------------------------------------------

STEP_SIZES, STEP_N, STEP_SEED, STEP_LR = [4, 5, 3], 8, 61, 0.3


def _step_problem() -> tuple[MLP, np.ndarray, np.ndarray]:
    """A small ReLU network and a batch; no ReLU input lies near its kink at 0."""
    rng = np.random.default_rng(STEP_SEED)
    X = rng.normal(size=(STEP_N, STEP_SIZES[0]))
    y = rng.integers(0, STEP_SIZES[-1], size=STEP_N)
    return MLP(STEP_SIZES, "relu", seed=STEP_SEED), X, y


def _only_own(found: list[str], mistakes: list[Mistake], name: str) -> list[str]:
    """The diagnoses, keeping only the item's own when one of them matched."""
    own = [m for m in found if m in {LIKELY + x.text.format(name=name) for x in mistakes}]
    return own or found


@item(
    "train_step",
    3,
    NOTEBOOK,
    checked_by="the returned loss agrees with a forward pass, and every parameter moved by −η "
    "times the central finite differences of the loss",
)
def check_train_step(train_step: Callable[..., float]) -> Problems:
    reference, X, y = _step_problem()

    def loss() -> float:
        return softmax_cross_entropy(reference.forward(X), y)[0]

    before = loss()
    params = reference.parameters()
    grads = [numerical_gradient(loss, p.value) for p in params]
    for p, g in zip(params, grads, strict=True):
        p.value -= STEP_LR * g
    after = loss()

    net, _, _ = _step_problem()
    old = [p.value.copy() for p in net.parameters()]
    returned = call_safely(train_step, net, X, y, STEP_LR, name="train_step")
    loss_problems = compare_number(before, returned, "the returned loss")
    if (
        loss_problems
        and not not_a_number(returned, "")
        and compare_number(after, returned, "") == []
    ):
        loss_problems.append(
            "likely mistake: that is the loss after the update: return the loss of the forward "
            "pass that gave the gradients, before the step"
        )
    parts = {"loss": loss_problems}
    for p, start, g in zip(net.parameters(), old, grads, strict=True):
        step = np.asarray(p.value, dtype=np.float64) - start
        mistakes = [
            Mistake(
                "{name} did not change: update every parameter in place after "
                "net.loss_and_backward(X, y), p.value -= lr * p.grad (W = W - lr * dW makes a "
                "new local array and leaves the network unchanged)",
                np.zeros_like(g),
            ),
            Mistake("{name} went uphill: gradient descent subtracts, θ ← θ − η ∂L/∂θ", STEP_LR * g),
            Mistake(
                "{name} moved by the whole gradient: multiply it by the learning rate η, "
                "θ ← θ − η ∂L/∂θ",
                -g,
            ),
        ]
        problems = compare_array(-STEP_LR * g, step, f"the change of {p.name}", layout=str(g.shape))
        if problems:
            found = diagnose_gradient(-STEP_LR * g, step, p.name, mistakes=mistakes)
            problems += _only_own(found, mistakes, p.name)
        parts[p.name] = problems
    return _one_example(parts)


def _one_example(parts: dict[str, list[str]]) -> dict[str, list[str]]:
    """Show the values of the first wrong parameter only when the mistake is named for all."""
    wrong = [name for name, found in parts.items() if name != "loss" and found]
    if all(any(m.startswith(LIKELY) for m in parts[name]) for name in wrong):
        for name in wrong[1:]:
            parts[name] = [m for m in parts[name] if m.startswith(LIKELY)]
    return parts


# --- train_mlp -----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _digits() -> Split:
    return load_digits()


def _trained(train_mlp: Callable[..., Any], digits: Split) -> Any:
    """The network train_mlp returns for the training digits, with seed=0."""
    try:
        net = call_safely(train_mlp, digits.X_train, digits.y_train, 0, name="train_mlp")
    except NotAttempted as stop:
        raise NotAttempted(
            f"{stop.messages[0]} (if train_mlp calls your minibatch_indices or train_step, "
            "finish those first)"
        ) from None
    if net is None:
        raise BadAnswer("train_mlp returned None: return the trained network, `return net`")
    if hasattr(net, "val_loss") and hasattr(net, "train_loss"):
        raise BadAnswer(
            "train_mlp returned a History (what bpcourse.training.train returns): return the "
            "network itself"
        )
    if not callable(getattr(net, "predict", None)):
        raise BadAnswer(
            f"train_mlp should return the trained network (an MLP, with .predict), got "
            f"{describe(net)}"
        )
    return net


def _outputs(net: Any, X: np.ndarray) -> np.ndarray:
    out = call_safely(net.predict, X.copy(), name="the returned network's predict")
    problems = compare_array(np.zeros((len(X), 10)), out, "net.predict(X_val)", layout="(N, 10)")
    if problems and not (isinstance(out, np.ndarray) and out.shape == (len(X), 10)):
        raise BadAnswer(*problems)
    return np.asarray(out, dtype=np.float64)


def _why_not_learned(net: Any, digits: Split, accuracy: float) -> str:
    """The likely reason a returned network misses the target accuracy."""
    layers = getattr(net, "layers", None) or [None]
    last = layers[-1]
    if isinstance(last, ActivationLayer) and last.activation.name == "softmax":
        return (
            "the network ends with a softmax layer, but the loss applies the softmax itself: "
            "build it with MLP(sizes, 'relu') (output_activation='identity', the default)"
        )
    outputs = _outputs(net, digits.X_train)
    if not np.isfinite(outputs).all():
        return "its outputs contain NaN or inf: training diverged; lower the learning rate"
    train_loss = softmax_cross_entropy(outputs, digits.y_train)[0]
    train_accuracy = float(np.mean(outputs.argmax(axis=1) == digits.y_train))
    known = f"training loss {train_loss:.3g}, training accuracy {train_accuracy:.1%}"
    if train_loss > 5:
        return (
            f"{known}: far above the ln 10 = 2.30 of a network that knows nothing, so the steps "
            "went uphill: gradient descent subtracts, p.value -= lr * p.grad (or η is far too "
            "large)"
        )
    if train_accuracy < 0.2:
        return (
            f"{known}: the network has hardly changed from its random start; is every "
            "parameter updated after each net.loss_and_backward (optimizer.step())?"
        )
    return (
        f"{known}: it learns, but not enough yet: use every example of X in every epoch, in "
        "shuffled mini-batches of about 32, with η about 0.1, for more epochs (10 to 30)"
    )


@item(
    "train_mlp",
    4,
    NOTEBOOK,
    checked_by=f"the network it trains reaches at least {TARGET_ACCURACY:.0%} accuracy on the "
    "359 validation digits, and a second run with the same seed gives the same network",
)
def check_train_mlp(train_mlp: Callable[..., Any]) -> Problems:
    digits = _digits()
    net = _trained(train_mlp, digits)
    outputs = _outputs(net, digits.X_val)
    correct = int(np.sum(outputs.argmax(axis=1) == digits.y_val))
    accuracy = correct / len(digits.y_val)
    problems = []
    if accuracy < TARGET_ACCURACY:
        problems = [
            f"validation accuracy {correct}/{len(digits.y_val)} = {accuracy:.1%}, below the "
            f"{TARGET_ACCURACY:.0%} asked for",
            "likely cause: " + _why_not_learned(net, digits, accuracy),
        ]
    again = _outputs(_trained(train_mlp, digits), digits.X_val)
    if not np.array_equal(outputs, again, equal_nan=True):
        problems.append(
            "two runs with seed=0 gave different networks: derive all randomness from seed, "
            "MLP(..., seed=seed) and rng = np.random.default_rng(seed) for the shuffling (not "
            "np.random.permutation)"
        )
    return problems
