r"""Graded items of exercises/04_backpropagation_through_layers.ipynb.

Both are checked against central finite differences of the forward pass (the definition
of the gradient), so no answer is stored. The known-wrong variants that name a likely
mistake are computed from the checker's inputs.

- `dense_backward(dZ, X, W) -> (dX, dW, db)`: the backward pass of Z = X Wᵀ + b.
- `two_layer_backward(X, Y, W1, b1, W2, b2) -> (dW1, db1, dW2, db2)`: backpropagation
  through two sigmoid layers, A1 = σ(X W1ᵀ + b1), A2 = σ(A1 W2ᵀ + b2), with the loss
  ℒ = (1/N) Σₙ ½‖A2ₙ − Yₙ‖²; the δ recursion δ1 = (δ2 W2) ⊙ σ'(Z1).
- `monash_step(x, y, W1, W2, alpha) -> (W1_new, W2_new)`: one update by the Monash rules
  (Δ = −δ, w ← w + α a Δ, the hidden rule corrected) equals W − α ∂ℒ/∂W.
- `backprop_deltas(caches, dA) -> [δ(1), ..., δ(L)]`: the δ recursion through a sigmoid MLP
  of any depth, checked against the library's own backward pass.
- `fixed_backward(X, Y, W1, b1, W2, b2)`: the debugging exercise. The notebook provides a
  backward pass with three planted bugs; the fixed function is checked against finite
  differences, and an answer that still has some of the bugs is told which (one share of
  the points for each bug fixed).
"""

from __future__ import annotations

import itertools
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
from bpcourse.checking.items.ex04_06_catalogue import BACKPROP_SHORTCUTS
from bpcourse.checking.registry import Problems, item
from bpcourse.checking.safe import BadAnswer, LearnerError, call_safely, expect_tuple
from bpcourse.gradcheck import numerical_gradient, relative_error
from bpcourse.layers import ActivationLayer, Dense
from bpcourse.losses import half_squared_error
from bpcourse.network import MLP

NOTEBOOK = "04_backpropagation_through_layers"
LIBRARY = BACKPROP_SHORTCUTS
N, N_IN, N_HIDDEN, N_OUT = 5, 4, 3, 2


@item(
    "dense_backward",
    3,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="dX, dW and db agree with central finite differences of Z = X Wᵀ + b",
)
def check_dense_backward(dense_backward: Callable[..., tuple[np.ndarray, ...]]) -> Problems:
    rng = np.random.default_rng(4)
    X, W = rng.normal(size=(N, N_IN)), rng.normal(size=(N_HIDDEN, N_IN))
    b, dZ = rng.normal(size=N_HIDDEN), rng.normal(size=(N, N_HIDDEN))
    answer = call_safely(dense_backward, dZ, X, W, name="dense_backward")
    dX, dW, db = expect_tuple(answer, 3, "(dX, dW, db)", "dense_backward")

    def loss() -> float:  # ℒ = Σ dZ ⊙ Z has ∂ℒ/∂Z = dZ
        return float(np.sum(dZ * (X @ W.T + b)))

    last = "the last example of the batch"
    return {
        "dX": compare_gradient(numerical_gradient(loss, X), dX, "dX", layout="(N, n_in)"),
        "dW": compare_gradient(
            numerical_gradient(loss, W),
            dW,
            "dW",
            layout="(n_out, n_in)",
            batch_size=N,
            mistakes=[last_contribution_only(np.outer(dZ[-1], X[-1]), last)],
        ),
        "db": compare_gradient(
            numerical_gradient(loss, b),
            db,
            "db",
            layout="(n_out,)",
            batch_size=N,
            mistakes=[last_contribution_only(dZ[-1], last)],
            shape_hints={(N,): "db sums dZ over the batch, axis=0 (you summed over axis=1)"},
        ),
    }


BROADCAST_N, BROADCAST_OUT = 6, 4


@item(
    "broadcast_gradients",
    2,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="db, dc and ds agree with central finite differences of Z = X Wᵀ + b + c + s",
)
def check_broadcast_gradients(
    broadcast_gradients: Callable[..., tuple[np.ndarray, ...]],
) -> Problems:
    """Z = X Wᵀ + b + c + s: b (n_out,) per unit, c a scalar, s (N, 1) per example."""
    from bpcourse.checking.items.ex04_06_catalogue import Slip, compare, transforms

    rng = np.random.default_rng(44)
    n, m = BROADCAST_N, BROADCAST_OUT
    dZ = rng.normal(size=(n, m))
    b, c, s = rng.normal(size=m), np.array(rng.normal()), rng.normal(size=(n, 1))
    answer = call_safely(broadcast_gradients, dZ, name="broadcast_gradients")
    db, dc, ds = expect_tuple(answer, 3, "(db, dc, ds)", "broadcast_gradients")

    def loss() -> float:  # ℒ = Σ dZ ⊙ Z has ∂ℒ/∂Z = dZ
        return float(np.sum(dZ * (b + c + s)))

    generic = transforms(n, transpose=False, sign=False, batch_text="a sum, not a mean")
    last = "{name} equals the last row's contribution only: `=` where `+=` belongs? Every row adds"
    if np.ndim(dc) == 1 and np.shape(dc) in ((n,), (m,)):
        dc_hint = {np.shape(dc): "dc is one number: c is added to every entry of Z, sum them all"}
    else:
        dc_hint = None
    return {
        "db": compare(
            numerical_gradient(loss, b),
            db,
            "db",
            [
                Slip(
                    "{name} is the mean over the batch: b is added to every row, so sum", dZ.mean(0)
                ),
                Slip(last, dZ[-1]),
            ],
            generic,
            layout="(n_out,)",
            shape_hints={
                (n,): "db is summed over the wrong axis: b is added to every row (the batch "
                "axis is broadcast), so sum dZ over axis=0",
                (n, m): "db keeps the batch axis: sum dZ over the rows (axis=0)",
            },
        ),
        "dc": compare(
            numerical_gradient(loss, c),
            np.asarray(dc, dtype=np.float64) if isinstance(dc, (int, float)) else dc,
            "dc",
            [
                Slip(
                    "{name} is the mean of dZ: c is added to every entry, so sum them all",
                    dZ.mean(),
                )
            ],
            layout="() (one number)",
            shape_hints=dc_hint,
        ),
        "ds": compare(
            numerical_gradient(loss, s),
            ds,
            "ds",
            [
                Slip(
                    "{name} is the mean over the units: s is added to every column, so sum",
                    dZ.mean(1, keepdims=True),
                )
            ],
            layout="(N, 1)",
            shape_hints={
                (n,): "ds lost its axis of length 1: s has shape (N, 1), use keepdims=True",
                (m,): "ds is summed over the wrong axis: s is added to every column, sum over "
                "axis=1 (keepdims=True)",
            },
        ),
    }


def _backprop(
    X: np.ndarray,
    Y: np.ndarray,
    params: list[np.ndarray],
    *,
    output_derivative: bool = True,
    hidden_derivative: bool = True,
    derivative_of_z: bool = False,
) -> list[np.ndarray]:
    """Gradients as a learner might compute them; the flags switch on known mistakes."""
    W1, b1, W2, b2 = params
    Z1 = X @ W1.T + b1
    A1 = sigmoid(Z1)
    Z2 = A1 @ W2.T + b2
    A2 = sigmoid(Z2)
    use = (Z1, Z2) if derivative_of_z else (A1, A2)  # σ' = a(1 − a), or wrongly z(1 − z)
    D2 = (A2 - Y) / len(X) * (use[1] * (1 - use[1]) if output_derivative else 1.0)
    D1 = (D2 @ W2) * (use[0] * (1 - use[0]) if hidden_derivative else 1.0)
    return [D1.T @ X, D1.sum(axis=0), D2.T @ A1, D2.sum(axis=0)]


@item(
    "two_layer_backward",
    4,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="dW1, db1, dW2 and db2 agree with central finite differences of the loss",
)
def check_two_layer_backward(two_layer_backward: Callable[..., tuple[np.ndarray, ...]]) -> Problems:
    rng = np.random.default_rng(7)
    X, Y = rng.normal(size=(N, N_IN)), rng.uniform(size=(N, N_OUT))
    params = [
        rng.normal(size=(N_HIDDEN, N_IN)),
        rng.normal(size=N_HIDDEN),
        rng.normal(size=(N_OUT, N_HIDDEN)),
        rng.normal(size=N_OUT),
    ]
    answer = call_safely(two_layer_backward, X, Y, *params, name="two_layer_backward")
    got = expect_tuple(answer, 4, "(dW1, db1, dW2, db2)", "two_layer_backward")

    def loss() -> float:
        W1, b1, W2, b2 = params
        A2 = sigmoid(sigmoid(X @ W1.T + b1) @ W2.T + b2)
        return float(0.5 * np.sum((A2 - Y) ** 2) / N)

    variants = {
        "σ'(z2) of the output layer": _backprop(X, Y, params, output_derivative=False),
        "σ'(z1) of the hidden layer": _backprop(X, Y, params, hidden_derivative=False),
    }
    from_z = _backprop(X, Y, params, derivative_of_z=True)
    names = ["dW1", "db1", "dW2", "db2"]
    layouts = ["(n_hidden, n_in)", "(n_hidden,)", "(n_out, n_hidden)", "(n_out,)"]
    parts = {}
    for i, (name, layout, value) in enumerate(zip(names, layouts, params, strict=True)):
        mistakes = [missing_derivative(v[i], d) for d, v in variants.items()]
        mistakes.append(
            Mistake(
                "{name} uses z(1 − z) for σ'(z): the formula a(1 − a) takes the activation "
                "a = σ(z), the layer's output, not its input z",
                from_z[i],
            )
        )
        expected = numerical_gradient(loss, value)
        parts[name] = compare_gradient(
            expected, got[i], name, layout=layout, batch_size=N, mistakes=mistakes
        )
    return parts


# --- the Monash rules -------------------------------------------------------------------------


def _monash(
    x: np.ndarray,
    y: np.ndarray,
    W1: np.ndarray,
    W2: np.ndarray,
    alpha: float,
    *,
    output_derivative: bool = True,
    hidden_derivative: bool = True,
    stale: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """One Monash update, as a learner might write it; the flags switch on known mistakes."""
    a1 = sigmoid(W1 @ x)
    a2 = sigmoid(W2 @ a1)
    Delta_k = (y - a2) * (a2 * (1 - a2) if output_derivative else 1.0)
    W2_new = W2 + alpha * np.outer(Delta_k, a1)
    W_back = W2_new if stale else W2  # Δ_j needs the weights of the forward pass
    Delta_j = (a1 * (1 - a1) if hidden_derivative else 1.0) * (W_back.T @ Delta_k)
    return W1 + alpha * np.outer(Delta_j, x), W2_new


@item(
    "monash_step",
    2,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="W1_new and W2_new equal W − α ∂ℒ/∂W, by central finite differences of ℒ",
)
def check_monash_step(monash_step: Callable[..., tuple[np.ndarray, np.ndarray]]) -> Problems:
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=N_IN), rng.uniform(size=N_OUT)
    W1, W2 = rng.normal(size=(N_HIDDEN, N_IN)), rng.normal(size=(N_OUT, N_HIDDEN))
    alpha = 0.5
    answer = call_safely(monash_step, x, y, W1, W2, alpha, name="monash_step")
    got = expect_tuple(answer, 2, "(W1_new, W2_new)", "monash_step")

    def loss() -> float:
        return float(0.5 * np.sum((y - sigmoid(W2 @ sigmoid(W1 @ x))) ** 2))

    variants = {
        "the hidden rule's Δ_j is computed with the already-updated weights w_j,k: "
        "propagate every Δ back with the forward pass's weights first, then update": _monash(
            x, y, W1, W2, alpha, stale=True
        ),
        "Δ_j lacks g'(in_j) = a_j(1 − a_j)": _monash(x, y, W1, W2, alpha, hidden_derivative=False),
        "Δ_k lacks g'(in_k) = a_k(1 − a_k)": _monash(x, y, W1, W2, alpha, output_derivative=False),
    }
    parts = {}
    for i, (name, value, layout) in enumerate(
        [("W1_new", W1, "(n_hidden, n_in)"), ("W2_new", W2, "(n_out, n_hidden)")]
    ):
        step = -alpha * numerical_gradient(loss, value)
        mistakes = [Mistake("{name} is wrong: " + text, v[i]) for text, v in variants.items()]
        mistakes += [
            Mistake(
                "{name} moves uphill: with Monash's Δ = (y − a) g' (target first) the update "
                "adds, w ← w + α a Δ; with the course's δ = −Δ it subtracts",
                value - step,
            ),
            Mistake("{name} is only the change α a Δ: add it to the old weights", step),
        ]
        hints: dict[tuple[int, ...], str] = {
            W1.shape: "W2_new has the shape of W1: it follows the note's garbled line "
            "w_j,k ← w_i,j + α a_i Δ_j; the hidden rule updates the weights into hidden unit "
            "j, w_i,j ← w_i,j + α a_i Δ_j (that is W1), and w_j,k has its own, output rule"
        }
        parts[name] = compare_gradient(
            value + step,
            got[i],
            name,
            layout=layout,
            mistakes=[*mistakes, Mistake("{name} is the old weights: no update applied", value)],
            shape_hints=hints if name == "W2_new" else None,
        )
    return parts


# --- the δ recursion through a network of any depth --------------------------------------------

Cache = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def network_caches(
    sizes: list[int], N: int, seed: int
) -> tuple[list[Cache], np.ndarray, list[np.ndarray]]:
    """A sigmoid MLP's forward pass on random data, by the library.

    Returns the caches (A_prev, W, Z, A) of layers 1..L, dA = ∂ℒ/∂A(L) of the mean half
    squared error, and the δ(l) = dZ(l) that the library's backward pass computes.
    """
    rng = np.random.default_rng(seed)
    net = MLP(sizes, "sigmoid", output_activation="sigmoid", seed=rng)
    X, Y = rng.normal(size=(N, sizes[0])), rng.uniform(size=(N, sizes[-1]))
    _, dA = half_squared_error(net.forward(X), Y)
    caches: list[Cache] = []
    for dense, activation in zip(net.layers[::2], net.layers[1::2], strict=True):
        assert isinstance(dense, Dense) and isinstance(activation, ActivationLayer)
        A_prev, W = dense.cache
        Z, A, _ = activation.cache
        caches.append((A_prev, W, Z, A))
    deltas = []
    grad: np.ndarray | None = dA
    for layer in reversed(net.layers):  # the library's backward pass, one layer at a time
        assert grad is not None
        grad = layer.backward(grad)
        if isinstance(layer, ActivationLayer):  # an activation layer returns dZ = δ
            assert grad is not None
            deltas.append(grad.copy())
    return caches, dA, deltas[::-1]


def _deltas(
    caches: list[Cache],
    dA: np.ndarray,
    *,
    output_derivative: bool = True,
    hidden_derivative: bool = True,
    from_z: bool = False,
) -> list[np.ndarray]:
    """The δ recursion as a learner might write it; the flags switch on known mistakes."""
    deltas = []
    for i in range(len(caches) - 1, -1, -1):
        _, W, Z, A = caches[i]
        slope = Z * (1 - Z) if from_z else A * (1 - A)
        use = output_derivative if i == len(caches) - 1 else hidden_derivative
        delta = dA * (slope if use else 1.0)
        deltas.append(delta)
        dA = delta @ W
    return deltas[::-1]


SHAPE_HINT = (
    "a matrix product's shapes do not fit: with a batch as rows, δ(l) = (δ(l+1) @ W(l+1)) ⊙ "
    "σ'(Z(l)), an (N, n_{l+1}) @ (n_{l+1}, n_l) product: is a transpose missing, extra or in "
    "the wrong place?"
)


FIXED_DEPTH = (
    "the function must work for a network of any depth (the check uses 4 layers and 1): loop "
    "over the caches from the last layer to the first, rather than writing out a fixed number "
    "of layers"
)


def _deltas_problems(
    backprop_deltas: Callable[..., object], caches: list[Cache], dA: np.ndarray, label: str
) -> tuple[list[object], list[str]]:
    """Call the learner's function; (its list of δ, []) or ([], why it cannot be compared)."""
    try:
        answer = call_safely(backprop_deltas, caches, dA, name="backprop_deltas")
    except LearnerError as error:
        text = error.messages[0]
        if any(word in text for word in ("matmul", "could not be broadcast", "not aligned")):
            raise LearnerError(text, f"likely mistake: {SHAPE_HINT}") from None
        if "unpack" in text:
            raise LearnerError(text, f"likely mistake: {FIXED_DEPTH}") from None
        raise
    depth = len(caches)
    if not isinstance(answer, (list, tuple)):
        raise BadAnswer(
            f"backprop_deltas should return a list of {depth} arrays [δ(1), ..., δ({depth})] "
            f"for {label}, got {type(answer).__name__ if answer is not None else None}"
        )
    if len(answer) != depth:
        raise BadAnswer(
            f"backprop_deltas returned {len(answer)} arrays for {label}; it needs one δ per "
            f"layer, {depth}: {FIXED_DEPTH}"
        )
    return list(answer), []


@item(
    "backprop_deltas",
    5,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="every δ(l) equals the library's backward pass, for networks of depth 4 and 1",
)
def check_backprop_deltas(backprop_deltas: Callable[..., object]) -> Problems:
    parts: dict[str, list[str]] = {}
    for sizes, seed, label in (([3, 4, 4, 3, 2], 9, "a 4-layer network"), ([3, 2], 10, "")):
        caches, dA, expected = network_caches(sizes, N, seed)
        got, _ = _deltas_problems(backprop_deltas, caches, dA, label or "a 1-layer network")
        reversed_order = len(got) > 1 and all(
            isinstance(g, np.ndarray) and g.shape == e.shape and relative_error(g, e) < 1e-6
            for g, e in zip(got, expected[::-1], strict=True)
        )
        if reversed_order:
            raise BadAnswer(
                f"backprop_deltas returned the δ in reverse order for {label}: return them as "
                "[δ(1), ..., δ(L)], layer 1 first (reverse the list you built backwards)"
            )
        variants = {
            "σ'(z) of the output layer": _deltas(caches, dA, output_derivative=False),
            "σ'(z) of the hidden layers": _deltas(caches, dA, hidden_derivative=False),
        }
        from_z = _deltas(caches, dA, from_z=True)
        for i, (right, answer) in enumerate(zip(expected, got, strict=True)):
            name = f"δ({i + 1})" if label else "δ(1) of a 1-layer network"
            mistakes = [missing_derivative(v[i], d) for d, v in variants.items()]
            mistakes.append(
                Mistake(
                    "{name} uses Z(1 − Z) for σ'(Z): the formula A(1 − A) takes the layer's "
                    "output A = σ(Z), not its input",
                    from_z[i],
                )
            )
            parts[name] = compare_gradient(
                right, answer, name, layout=f"(N, n_{i + 1})", batch_size=N, mistakes=mistakes
            )
    return parts


# --- the debugging exercise -------------------------------------------------------------------

BUGS = {
    "the 1/N of the mean": "the gradient entering the output, dŶ = ∂ℒ/∂Ŷ, lacks the 1/N of the "
    "mean loss: dŶ = (Ŷ − Y) / N (without it every gradient is N = {n} times too large)",
    "tanh'": "dZ1 lacks the hidden layer's activation derivative: dZ1 = dA1 ⊙ tanh'(Z1) = "
    "dA1 ⊙ (1 − A1²)",
    "the transpose in dW1": "dW1 is transposed: dW1 = dZ1.T @ X has W1's shape "
    "(n_hidden, n_in); X.T @ dZ1 is its transpose (the shapes hide it when n_in = n_hidden)",
}


def debug_backward_reference(
    X: np.ndarray,
    Y: np.ndarray,
    W1: np.ndarray,
    b1: np.ndarray,
    W2: np.ndarray,
    b2: np.ndarray,
    *,
    bugs: frozenset[str] = frozenset(),
) -> tuple[np.ndarray, ...]:
    """The debugging exercise's backward pass, with the given planted bugs left in."""
    A1 = np.tanh(X @ W1.T + b1)
    Y_hat = A1 @ W2.T + b2
    dY_hat = (Y_hat - Y) if "the 1/N of the mean" in bugs else (Y_hat - Y) / len(X)
    dW2, db2 = dY_hat.T @ A1, dY_hat.sum(axis=0)
    dA1 = dY_hat @ W2
    dZ1 = dA1 if "tanh'" in bugs else dA1 * (1 - A1**2)
    dW1 = X.T @ dZ1 if "the transpose in dW1" in bugs else dZ1.T @ X
    return dW1, dZ1.sum(axis=0), dW2, db2


def _same(got: tuple[object, ...], variant: tuple[np.ndarray, ...]) -> bool:
    return all(
        isinstance(g, np.ndarray) and g.shape == v.shape and relative_error(g, v) < 1e-6
        for g, v in zip(got, variant, strict=True)
    )


@item(
    "debug_backward",
    3,
    NOTEBOOK,
    forbid=LIBRARY,
    checked_by="dW1, db1, dW2 and db2 agree with central finite differences of the loss: "
    "all three planted bugs are fixed",
)
def check_debug_backward(fixed_backward: Callable[..., tuple[np.ndarray, ...]]) -> Problems:
    rng = np.random.default_rng(12)
    n = N
    X, Y = rng.normal(size=(n, N_HIDDEN)), rng.normal(size=(n, N_OUT))
    params = [
        rng.normal(size=(N_HIDDEN, N_HIDDEN)),  # n_in = n_hidden: a transpose keeps the shape
        rng.normal(size=N_HIDDEN),
        rng.normal(size=(N_OUT, N_HIDDEN)),
        rng.normal(size=N_OUT),
    ]
    answer = call_safely(fixed_backward, X, Y, *params, name="fixed_backward")
    got = expect_tuple(answer, 4, "(dW1, db1, dW2, db2)", "fixed_backward")

    def loss() -> float:
        W1, b1, W2, b2 = params
        Y_hat = np.tanh(X @ W1.T + b1) @ W2.T + b2
        return float(0.5 * np.sum((Y_hat - Y) ** 2) / n)

    expected = [numerical_gradient(loss, p) for p in params]
    names = ["dW1", "db1", "dW2", "db2"]
    layouts = ["(n_hidden, n_in)", "(n_hidden,)", "(n_out, n_hidden)", "(n_out,)"]
    found = [
        compare_gradient(e, g, name, layout=layout, batch_size=n)
        for e, g, name, layout in zip(expected, got, names, layouts, strict=True)
    ]
    if not any(found):
        return {bug: [] for bug in BUGS}
    for count in range(1, len(BUGS) + 1):
        for left in itertools.combinations(BUGS, count):
            if _same(got, debug_backward_reference(X, Y, *params, bugs=frozenset(left))):
                return {
                    bug: [f"planted bug still there: {text.format(n=n)}"] if bug in left else []
                    for bug, text in BUGS.items()
                }
    return [
        *(message for messages in found for message in messages),
        "this is not the provided code with some of its planted bugs fixed: a new slip? Run "
        "the gradient check on your function and compare it tensor by tensor",
    ]


# --- conceptual questions (answers stored as salted digests) ---

question(
    "q_dW2_shape",
    1,
    NOTEBOOK,
    "8da0dd93c29c71620954b596f3220bbb145601ceac42d056c27893031268430f",
    kind="shape",
    revisit="the shape rule: ∂ℒ/∂W(l) has the shape of W(l), (n_out, n_in)",
)

question(
    "q_saturated_sigmoid",
    1,
    NOTEBOOK,
    "4c2eabc01130f5ffe31b6cef04a1d598c090f1bd636394979cc189d8d10027dc",
    kind="number",
    revisit="σ'(z) written from the output, σ(z)(1 − σ(z))",
)

question(
    "q_no_nonlinearity",
    1,
    NOTEBOOK,
    "225499e09e4e10893780d61186d4bbcedc3bac5c84311df843193b7017796434",
    kind="letter",
    revisit="what a product of matrices is",
)
