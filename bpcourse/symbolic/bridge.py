"""The bridge to code: the library's backprop checked against SymPy's gradient."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from bpcourse.activations import ACTIVATIONS
from bpcourse.gradcheck import relative_error
from bpcourse.network import MLP
from bpcourse.symbolic.activations import (
    KINK_MARGIN,
)
from bpcourse.symbolic.network import (
    SymbolicNetwork,
    symbolic_network,
)
from bpcourse.validation import check_int

# --- the bridge to code ---------------------------------------------------------------------------


def _random_point(
    net: SymbolicNetwork, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Random x, t, W, b with every pre-activation at least KINK_MARGIN away from 0."""
    pairs = list(itertools.pairwise(net.sizes))
    for _ in range(1000):
        x = rng.normal(size=net.sizes[0])
        W = [rng.normal(size=(n_out, n_in)) for n_in, n_out in pairs]
        b = [rng.normal(scale=0.5, size=n_out) for _, n_out in pairs]
        a, near_kink = x, False
        for ell, (Wl, bl) in enumerate(zip(W, b, strict=True), start=1):
            z = Wl @ a + bl
            near_kink |= bool(np.any(np.abs(z) < KINK_MARGIN))
            a = ACTIVATIONS[net.layer_activation(ell)](z)
        if not near_kink:
            break
    else:
        raise RuntimeError(f"no random point in 1000 away from every kink of {net!r}")
    n_out = net.sizes[-1]
    if net.loss == "softmax_cross_entropy":
        t = np.eye(n_out)[rng.integers(n_out)]
    elif net.loss == "binary_cross_entropy":
        t = rng.integers(0, 2, size=n_out).astype(np.float64)
    else:
        t = rng.uniform(0.0, 1.0, size=n_out)
    return x, t, W, b


def compare_with_backprop(
    sizes: Sequence[int],
    activation: str = "sigmoid",
    output_activation: str | None = None,
    loss: str = "half_squared_error",
    n_points: int = 5,
    seed: int = 0,
) -> float:
    """The largest relative error between SymPy's gradient and the library's backprop.

    Builds the symbolic network and `MLP(sizes, ...)` with the same activations, puts the
    same random weights in both, and compares every parameter's gradient at `n_points`
    random single examples (N = 1: the symbolic loss is for one example, and the library's
    average over a batch of one is that same loss). Relative error per parameter tensor,
    ||a - s|| / max(||a||, ||s||, tiny), as in bpcourse.gradcheck. Expect about 1e-16.
    """
    n_points = check_int(n_points, "n_points")
    net = symbolic_network(sizes, activation, output_activation, loss)
    grad = net.lambdify_gradient()
    mlp = MLP(net.sizes, net.activation, net.output_activation, seed=seed)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(n_points):
        x, t, W, b = _random_point(net, rng)
        for p, value in zip(
            mlp.parameters(), itertools.chain(*zip(W, b, strict=True)), strict=True
        ):
            p.value[...] = value
        mlp.loss_and_backward(x[None, :], t[None, :], net.loss)
        for p, g in zip(mlp.parameters(), grad(x, t, W, b), strict=True):
            worst = max(worst, relative_error(p.grad, g))
    return worst
