"""The cost of a pass: FLOPs of the matrix products, and the bytes kept for backward.

The FLOP formulas are checked against a count of the multiply-adds a naive triple loop
would do; the cache bytes against the arrays a small network must keep, counted by hand.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bpcourse.cost import cache_bytes, dense_flops, mlp_flops, time_passes
from bpcourse.network import MLP


def naive_matmul_flops(a_shape: tuple[int, int], b_shape: tuple[int, int]) -> int:
    """One multiplication and one addition for every term of every entry of a @ b."""
    (rows, inner), (inner_b, cols) = a_shape, b_shape
    assert inner == inner_b
    return sum(2 * inner for _ in range(rows) for _ in range(cols))


@pytest.mark.parametrize(("N", "n_in", "n_out"), [(1, 1, 1), (4, 3, 5), (7, 6, 2)])
def test_dense_flops_count_the_three_matrix_products(N, n_in, n_out):
    flops = dense_flops(N, n_in, n_out)
    forward = naive_matmul_flops((N, n_in), (n_in, n_out))  # X @ W.T
    dX = naive_matmul_flops((N, n_out), (n_out, n_in))  # dZ @ W
    dW = naive_matmul_flops((n_out, N), (N, n_in))  # dZ.T @ X
    assert flops == {"forward": forward, "backward": dX + dW}
    assert flops["backward"] == 2 * flops["forward"] == 4 * N * n_in * n_out


def test_mlp_flops_add_the_layers_and_can_skip_the_input_gradient():
    sizes, N = [64, 256, 128, 10], 32
    layers = [dense_flops(N, a, b) for a, b in itertools.pairwise(sizes)]
    full = mlp_flops(sizes, N)
    assert full["forward"] == sum(f["forward"] for f in layers)
    assert full["backward"] == 2 * full["forward"]
    training = mlp_flops(sizes, N, input_grad=False)
    assert training["backward"] == full["backward"] - 2 * N * 64 * 256
    with pytest.raises(ValueError, match="two sizes"):
        mlp_flops([3], N)
    with pytest.raises(ValueError, match="n_in"):
        dense_flops(2, 0, 3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cache_bytes_count_each_stored_intermediate_once(dtype):
    N = 10
    net = MLP([4, 5, 6, 3], "relu", dtype=dtype)
    net.forward(np.ones((N, 4), dtype=dtype))
    size = np.dtype(dtype).itemsize
    got = cache_bytes(net)
    assert list(got) == ["dense1", "relu1", "dense2", "relu2", "dense3"]
    assert got == {
        "dense1": N * 4 * size,  # the input X
        "relu1": 2 * N * 5 * size,  # Z and A; dense2's input is this A
        "dense2": 0,
        "relu2": 2 * N * 6 * size,
        "dense3": 0,
    }


def test_cache_bytes_need_a_forward_pass():
    with pytest.raises(RuntimeError, match="forward"):
        cache_bytes(MLP([2, 3, 1]))


def test_time_passes_gives_a_positive_forward_and_backward_time_per_case():
    rng = np.random.default_rng(0)
    cases = [(MLP([w, w, 3], "relu", seed=0), rng.normal(size=(16, w))) for w in (4, 32)]
    times = time_passes(cases, rounds=3)
    assert times.shape == (2, 2)
    assert np.all(np.isfinite(times)) and np.all(times > 0)
    with pytest.raises(ValueError):
        time_passes(cases, rounds=0)


def test_time_passes_reads_the_clock_it_is_given_around_each_pass():
    ticks = iter(range(1000))
    cases = [(MLP([3, 3], "relu", seed=0), np.ones((2, 3)))]
    times = time_passes(cases, rounds=2, clock=lambda: float(next(ticks)))
    np.testing.assert_array_equal(times, [[1.0, 1.0]])  # each pass spans one tick
