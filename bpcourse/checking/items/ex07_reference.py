r"""The checker's own reference for exercise 07: the variances of Xavier and He initialisation
(and the known wrong ones), a deep MLP and its backward pass, gradient clipping, the FLOP count
and the cached bytes of an MLP, and the known wrong answers of each (the slips the feedback
names). Plain NumPy; the items in `ex07_vanishing_and_exploding_gradients` compare
the learner's answers with these.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from bpcourse.checking.items.ex04_06_catalogue import Slip

SIZES = (5, 12, 12, 12, 12, 12, 12, 12, 3)  # L = 8 layers
N_NORMS = 6
ACTIVATIONS = ("sigmoid", "tanh", "relu")


def activate(Z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-Z))
    if activation == "tanh":
        return np.tanh(Z)
    return np.maximum(Z, 0.0)


def derivative(Z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "sigmoid":
        s = activate(Z, "sigmoid")
        return s * (1.0 - s)
    if activation == "tanh":
        return 1.0 - np.tanh(Z) ** 2
    return (Z > 0).astype(np.float64)


def network(seed: int = 7) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """X (6, 5), Y (6, 3) and an 8-layer network; the first seed from `seed` whose ReLU
    pre-activations all lie at least 1e-3 from the kink."""
    while True:
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(N_NORMS, SIZES[0]))
        Y = rng.normal(size=(N_NORMS, SIZES[-1]))
        weights = [
            rng.normal(0.0, 1.5 / np.sqrt(n_in), size=(n_out, n_in))
            for n_in, n_out in itertools.pairwise(SIZES)
        ]
        biases = [rng.normal(0.0, 0.3, size=n) for n in SIZES[1:]]
        Zs, _ = forward(X, weights, biases, "relu")
        if min(float(np.abs(Z).min()) for Z in Zs) > 1e-3:
            return X, Y, weights, biases
        seed += 1000


def forward(
    X: np.ndarray, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], activation: str
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The z(l) and a(l) of every layer (As[0] = X); the last layer is linear, ŷ = z(L)."""
    As, Zs = [X], []
    for k, (W, b) in enumerate(zip(weights, biases, strict=True)):
        Z = As[-1] @ W.T + b
        Zs.append(Z)
        As.append(Z if k == len(weights) - 1 else activate(Z, activation))
    return Zs, As


def loss(X, Y, weights, biases, activation) -> float:
    """ℒ = (1/N) Σₙ ½‖ŷₙ − yₙ‖²."""
    Zs, _ = forward(X, weights, biases, activation)
    return float(0.5 * np.sum((Zs[-1] - Y) ** 2) / len(X))


def backward(
    X: np.ndarray,
    Y: np.ndarray,
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    activation: str,
    slip: str = "",
) -> dict[str, list[np.ndarray]]:
    """The reference dW(l) and δ(l), l = 1..L (with a known slip switched on by name)."""
    Zs, As = forward(X, weights, biases, activation)
    L = len(weights)
    delta = (Zs[-1] - Y) / len(X)
    if slip == "f' at the output":
        delta = delta * derivative(Zs[-1], activation)
    dWs: list[np.ndarray] = [np.empty(0)] * L
    deltas: list[np.ndarray] = [np.empty(0)] * L
    for k in range(L - 1, -1, -1):  # layer k + 1 of the math
        deltas[k] = delta
        below = Zs[k - 1] if slip == "z for a" and k > 0 else As[k]
        dWs[k] = delta.T @ below
        if k == 0:
            break
        upstream = delta @ weights[k]
        if slip == "no f'":
            delta = upstream
        elif slip == "f' of a":
            delta = upstream * derivative(As[k], activation)
        else:
            delta = upstream * derivative(Zs[k - 1], activation)
    return {"dW": dWs, "delta": deltas}


def norms_of(arrays: Sequence[np.ndarray]) -> np.ndarray:
    return np.array([float(np.linalg.norm(a)) for a in arrays])


def norm_slips(X, Y, weights, biases, activation) -> list[Slip]:
    """The known wrong lists of norms of `gradient_norms`, each with what it tells the learner."""
    right = norms_of(backward(X, Y, weights, biases, activation)["dW"])

    def slipped(slip: str) -> np.ndarray:
        return norms_of(backward(X, Y, weights, biases, activation, slip)["dW"])

    return [
        Slip(
            "{name} leaves out the activation derivative: δ(l) = (δ(l+1) W(l+1)) ⊙ f′(z(l)), "
            "and it is f′ that shrinks the gradient layer after layer",
            slipped("no f'"),
        ),
        Slip(
            "{name} evaluates f′ at the activation a(l) = f(z(l)) instead of at z(l): "
            "f′(z(l)) written with the stored a(l) is a(1 − a) for sigmoid, 1 − a² for tanh",
            slipped("f' of a"),
        ),
        Slip(
            "{name} multiplies the output layer's δ by f′: the output layer is linear, ŷ = z(L), "
            "so δ(L) = ∂ℒ/∂ŷ = (ŷ − y)/N",
            slipped("f' at the output"),
        ),
        Slip(
            "{name} uses z(l−1) where a(l−1) belongs: ∂ℒ/∂W(l) = δ(l)ᵀ a(l−1), the layer's input",
            slipped("z for a"),
        ),
        Slip(
            "{name} lists the layers from the output back to the input: return layer 1 (the "
            "input side) first; backprop visits them in reverse, so reverse the list",
            right[::-1],
        ),
        Slip(
            "{name} returns the squared norms Σ g²: the Frobenius norm is their square root",
            right**2,
        ),
        Slip(
            "{name} returns the norms of δ(l) = ∂ℒ/∂z(l): the weight gradient is δ(l)ᵀ a(l−1)",
            norms_of(backward(X, Y, weights, biases, activation)["delta"]),
        ),
        Slip(
            "{name} is twice the right norms: ℒ has a ½ whose 2 cancels, ∂ℒ/∂ŷ = (ŷ − y)/N",
            2 * right,
        ),
    ]


CLIP_SHAPES = ((4, 3), (4,), (2, 4), (2,))


def gradients(seed: int = 73) -> list[np.ndarray]:
    """Four gradient tensors of very different sizes, global norm about 5."""
    rng = np.random.default_rng(seed)
    scales = (1.5, 0.2, 0.5, 3.0)
    return [s * rng.normal(size=shape) for s, shape in zip(scales, CLIP_SHAPES, strict=True)]


def global_norm(grads: Sequence[np.ndarray]) -> float:
    return float(np.sqrt(sum(float(np.sum(g * g)) for g in grads)))


def clip_reference(grads: Sequence[np.ndarray], max_norm: float) -> list[np.ndarray]:
    norm = global_norm(grads)
    return [g * (max_norm / norm) if norm > max_norm else g.copy() for g in grads]


def flat(grads: Sequence[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.ravel(g) for g in grads])


def clip_slips(grads: list[np.ndarray], c: float) -> list[Slip]:
    """The known wrong clips of `clip_by_global_norm` at threshold `c`, flattened."""
    norm = global_norm(grads)
    sum_of_norms = sum(float(np.linalg.norm(g)) for g in grads)

    def scaled(factor: float, when: bool) -> np.ndarray:
        return flat([g * factor if when else g for g in grads])

    per_tensor = (
        "{name} clips each tensor by its own norm: the global norm treats all the gradients "
        "as one long vector, ‖g‖ = sqrt(Σ_p ‖g_p‖²), and scales them all by the same factor "
        "(which keeps the direction of the whole update)"
    )
    return [
        Slip(
            per_tensor,
            flat([g * (c / np.linalg.norm(g)) if np.linalg.norm(g) > c else g for g in grads]),
        ),
        Slip(per_tensor, flat([g * (c / np.linalg.norm(g)) for g in grads])),
        Slip(
            "{name} clips every entry to [−max_norm, max_norm]: that is clipping by value, which "
            "changes the direction; scale the whole gradient instead",
            flat([np.clip(g, -c, c) for g in grads]),
        ),
        Slip(
            "{name} divides by the squared norm Σ g²: take its square root, ‖g‖ = sqrt(Σ g²)",
            scaled(c / norm**2, norm**2 > c),
        ),
        Slip(
            "{name} multiplies by ‖g‖/max_norm: the factor that brings the norm down to "
            "max_norm is max_norm/‖g‖",
            scaled(norm / c, norm > c),
        ),
        Slip(
            "{name} rescales a gradient whose norm is already below max_norm: clipping only "
            "shortens a step that is too long; below the threshold it changes nothing",
            scaled(c / norm, True),
        ),
        Slip(
            "{name} uses the sum of the tensors' norms Σ_p ‖g_p‖: the global norm is "
            "sqrt(Σ_p ‖g_p‖²), the norm of all entries as one long vector",
            scaled(c / sum_of_norms, sum_of_norms > c),
        ),
    ]


COST_CASES = ((7, (5, 9, 4)), (1, (3, 2)), (32, (64, 128, 128, 10)), (13, (6, 11, 8, 9, 2)))


def flops(N: int, sizes: Sequence[int], slip: str = "") -> tuple[int, int]:
    """(forward, backward) FLOPs of the matrix products of an MLP, as lesson 07 counts them.

    Forward: Z = X Wᵀ + b, 2·N·n_in·n_out per layer (each of the N·n_out sums of n_in products
    takes n_in multiplications and n_in additions, the last adding the bias). Backward: dW and
    dX, 2·N·n_in·n_out each; layer 1 computes no dX. db and the activations are not counted.
    """
    forward_count = backward_count = 0
    per_product = 1 if slip == "multiplications only" else 2
    rows = 1 if slip == "no N" else N
    for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        product = per_product * rows * n_in * n_out
        forward_count += product + (N * n_out if slip == "bias again" else 0)
        backward_count += product  # dW
        backward_count += N * n_out if slip == "db" else 0
        if (k > 0 or slip == "dX of layer 1") and slip != "no dX":
            backward_count += product  # dX, the gradient for the layer below
    return forward_count, backward_count


def cache_bytes(N: int, sizes: Sequence[int], slip: str = "") -> int:
    """Bytes of float64 the layers of an MLP keep for the backward pass (lesson 07's count).

    Dense, activation, ..., Dense: a Dense layer keeps its input X, an activation layer its Z
    and its A; an array two layers hold (an activation's A is the next Dense layer's X) counts
    once; the parameters, the output and the loss are not counted.
    """
    hidden = sum(sizes[1:-1])
    numbers = N * (sizes[0] + 2 * hidden)
    if slip == "no input":
        numbers -= N * sizes[0]
    elif slip == "one per hidden layer":
        numbers -= N * hidden
    elif slip == "A twice":
        numbers += N * hidden
    elif slip == "output":
        numbers += N * sizes[-1]
    elif slip == "parameters":
        numbers += sum(n_in * n_out + n_out for n_in, n_out in itertools.pairwise(sizes))
    elif slip == "one example":
        numbers //= N
    return 8 * numbers


# what each known wrong count tells the learner (the slips of `flops` and `cache_bytes`)
FORWARD_SLIPS = {
    "multiplications only": "your forward count has one FLOP per term of each product: a sum "
    "of n_in products takes n_in multiplications and n_in additions, 2·N·n_in·n_out per layer",
    "no N": "your forward count leaves out the batch: each of the N rows of X goes through "
    "every product, so every count carries a factor N",
    "bias again": "your forward count adds the bias on top: the n_in additions of each entry of "
    "Z already include adding b (the sum of n_in products needs only n_in − 1 of them)",
}
BACKWARD_SLIPS = {
    "dX of layer 1": "your backward count includes dX of layer 1 (it is exactly 2 × the "
    "forward count): the input X needs no gradient, so the first layer computes only dW",
    "no dX": "your backward count has only dW: every layer but the first also computes dX = "
    "dZ W, the gradient passed to the layer below, another product of the same size",
    "db": "your backward count includes db: like the bias in the forward pass, its O(N·n_out) "
    "sum is not counted here",
    "no N": "your backward count leaves out the batch: each of the N rows of X goes through "
    "every product, so every count carries a factor N",
    "multiplications only": "your backward count has one FLOP per term of each product: a "
    "product of (a × b) and (b × c) costs 2·a·b·c",
}
CACHE_SLIPS = {
    "no input": "leaves out the network's input X: layer 1 keeps it, its dW(1) = δ(1)ᵀ X needs it",
    "one per hidden layer": "keeps one array per hidden layer: an activation layer keeps both "
    "its input Z (for f′(Z)) and its output A",
    "A twice": "counts an activation's output A twice: it is the same array as the next Dense "
    "layer's input X, kept once",
    "output": "counts the output layer's Z: the network's output and the loss are not counted "
    "(the last Dense layer keeps only its input)",
    "parameters": "counts the parameters W and b: they are stored whether or not we train; "
    "count only what the forward pass keeps for the backward pass",
    "one example": "counts one example: every kept array has N rows",
    "numbers": "counts numbers, not bytes: a float64 takes 8 bytes",
    "float32": "counts 4 bytes per number: the network computes in float64, 8 bytes",
    "bits": "counts bits: a float64 takes 8 bytes (64 bits)",
}


def init_slips(kind: str, n_out: int, n_in: int) -> list[tuple[float, str]]:
    """(variance, diagnosis) of the known wrong Xavier or He initialisations (`kind`)."""
    fan = n_in + n_out
    if kind == "xavier":
        return [
            (
                1 / n_in,
                "the variance is 1/n_in: that keeps the forward pass steady only; Xavier also "
                "keeps the backward pass steady (variance 1/n_out) and compromises with the "
                "average of the two fans, 2/(n_in + n_out)",
            ),
            (
                1 / n_out,
                "the variance is 1/n_out: that keeps the backward pass steady only; Xavier "
                "averages the fan-in and the fan-out, 2/(n_in + n_out)",
            ),
            (
                1 / fan,
                "the variance is 1/(n_in + n_out): the 2 is missing (1/((n_in + n_out)/2) "
                "is the reciprocal of the average fan)",
            ),
            (
                (2 / fan) ** 2,
                "the variance is the square of 2/(n_in + n_out): rng.normal takes the standard "
                "deviation, the square root of the variance (sqrt missing)",
            ),
            (
                4 / fan,
                "the variance is twice too large: the 2 belongs inside the square root, "
                "std = sqrt(2/(n_in + n_out)), not 2 × sqrt(1/(n_in + n_out))",
            ),
            (
                1.0,
                "the variance is 1: rng.standard_normal (or rng.normal with no scale) draws "
                "with standard deviation 1; give rng.normal the standard deviation you derived",
            ),
            (
                2 / n_in,
                "the variance is 2/n_in, He's initialisation for ReLU layers: Xavier's is "
                "2/(n_in + n_out)",
            ),
        ]
    return [
        (
            1 / n_in,
            "the variance is 1/n_in: the factor 2 is missing; ReLU sets half of its inputs to 0, "
            "which halves the mean square passed on, and the 2 makes up for it",
        ),
        (
            2 / n_out,
            "the variance is 2/n_out: He's forward-pass rule uses the fan-in n_in, the number of "
            "inputs each unit adds up",
        ),
        (
            2 / fan,
            "the variance is 2/(n_in + n_out), Xavier's: He's for ReLU is 2/n_in",
        ),
        (
            1.0,
            "the variance is 1: rng.standard_normal (or rng.normal with no scale) draws "
            "with standard deviation 1; give rng.normal the standard deviation you derived",
        ),
        (
            (2 / n_in) ** 2,
            "the variance is the square of 2/n_in: rng.normal takes the standard deviation, the "
            "square root of the variance (sqrt missing)",
        ),
        (
            4 / n_in,
            "the variance is twice too large: the 2 belongs inside the square root, "
            "std = sqrt(2/n_in), not 2 × sqrt(1/n_in)",
        ),
    ]


def variance(kind: str, n_out: int, n_in: int) -> float:
    """The variance that keeps the signal steady: Xavier's or He's."""
    return 2 / (n_in + n_out) if kind == "xavier" else 2 / n_in


def whole_number(value: Any) -> int | None:
    """`value` as an int when it is a whole real number (3, 3.0, np.int64(3)), else None."""
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    v = float(value)
    return round(v) if np.isfinite(v) and v == round(v) else None
