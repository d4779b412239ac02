r"""What a forward and a backward pass cost: floating-point operations and stored memory.

A Dense layer on a batch of N rows does one matrix product forwards and two backwards:

| pass | product | shapes | FLOPs |
|---|---|---|---|
| forward | $Z = XW^\top$ | (N, n_in) @ (n_in, n_out) | $2 N n_{in} n_{out}$ |
| backward | $dX = dZ\,W$ | (N, n_out) @ (n_out, n_in) | $2 N n_{in} n_{out}$ |
| backward | $dW = dZ^\top X$ | (n_out, N) @ (N, n_in) | $2 N n_{in} n_{out}$ |

(each of the $N n_{out}$ entries of Z is a sum of $n_{in}$ products: $n_{in}$ multiplications
and $n_{in}$ additions, counting the bias as the last addition). So the backward pass costs
twice the forward pass; the bias, its gradient and the element-wise activations add only
$O(N n_{out})$, small beside the products when the layers are wide.

Memory: to run backward, every layer keeps its cache from the forward pass (its input X;
an activation its Z and A). `cache_bytes(net)` counts those arrays, each once (a Dense
layer's X *is* the previous activation's A: one array, two references), leaving out the
parameters themselves (W, b are stored anyway, whether or not we train).

Time: `time_passes(cases)` measures the best-of-`rounds` CPU time of one forward and one
backward pass of each network; unlike the counts above, it depends on the machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from bpcourse.network import Sequential
from bpcourse.validation import check_int


def dense_flops(N: int, n_in: int, n_out: int) -> dict[str, int]:
    """FLOPs of the matrix products of one Dense layer: {'forward': 2 N n_in n_out,
    'backward': 4 N n_in n_out} (dX and dW; the first layer may skip dX, see `mlp_flops`)."""
    N, n_in, n_out = check_int(N, "N"), check_int(n_in, "n_in"), check_int(n_out, "n_out")
    forward = 2 * N * n_in * n_out
    return {"forward": forward, "backward": 2 * forward}


def mlp_flops(sizes: Sequence[int], N: int, input_grad: bool = True) -> dict[str, int]:
    """The matrix-product FLOPs of an MLP with layer sizes `sizes` (e.g. [64, 256, 10]) on N rows.

    With `input_grad=False` the first layer's dX (the gradient with respect to the data) is
    not computed, as in training.
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"an MLP needs at least two sizes, e.g. [2, 3, 1]; got {sizes}")
    total = {"forward": 0, "backward": 0}
    for n_in, n_out in pairwise(sizes):
        for kind, flops in dense_flops(N, n_in, n_out).items():
            total[kind] += flops
    if not input_grad:
        total["backward"] -= 2 * N * sizes[0] * sizes[1]
    return total


def _arrays(obj: Any) -> list[np.ndarray]:
    """The NumPy arrays inside a cache (a tuple, possibly nested; other objects ignored)."""
    if isinstance(obj, np.ndarray):
        return [obj]
    if isinstance(obj, tuple | list):
        return [a for item in obj for a in _arrays(item)]
    return []


def cache_bytes(net: Sequential) -> dict[str, int]:
    """Bytes of the intermediates each layer keeps for backward, by layer name.

    Run a forward pass first. Each array is counted once, at the first layer that holds it
    (so a Dense layer's input is counted at the activation that produced it, and the
    network's input X at the first layer); parameters are not counted.
    """
    params = {id(p.value) for p in net.parameters()}
    seen: set[int] = set()
    result = {}
    for layer in net.layers:
        if layer.cache is None:
            raise RuntimeError(f"{layer.describe()} has no cache: run a forward pass first")
        total = 0
        for a in _arrays(layer.cache):
            if id(a) in params or id(a) in seen:
                continue
            seen.add(id(a))
            total += a.nbytes
        result[layer.name] = total
    return result


def time_passes(
    cases: Sequence[tuple[Sequential, np.ndarray]],
    rounds: int = 15,
    clock: Callable[[], float] = time.process_time,
) -> np.ndarray:
    """Best-of-`rounds` seconds of one forward and one full backward pass, for each (net, X).

    Returns shape (len(cases), 2): column 0 the forward, column 1 the backward time. The
    backward pass gets dOut = 1/N everywhere (its values do not change the arithmetic). The
    default `clock` is the CPU time of this process (`time.process_time`): unlike wall-clock
    time (`time.perf_counter`) it does not count the moments when other programs hold the
    processor, so it measures the passes' own work even on a busy machine. The rounds go
    through all cases in turn, and before each timed pair an untimed pair brings that case's
    arrays into the cache. Times depend on the machine: compare ratios, not values.
    """
    rounds = check_int(rounds, "rounds")
    grads = [np.ones_like(net.forward(X)) / len(X) for net, X in cases]
    best = np.full((len(cases), 2), np.inf)
    for _ in range(rounds):
        for i, ((net, X), dOut) in enumerate(zip(cases, grads, strict=True)):
            net.forward(X)
            net.backward(dOut)
            start = clock()
            net.forward(X)
            middle = clock()
            net.backward(dOut)
            best[i] = np.minimum(best[i], [middle - start, clock() - middle])
    return best
