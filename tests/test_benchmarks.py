"""benchmarks/bare_numpy.py, the yardstick that bench_mlp.py measures the library against, does
the library's own arithmetic: the same weights after the same epochs (else the comparison
would flatter or wrong the library)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from by_path import load_module

from bpcourse.losses import get_loss
from bpcourse.network import MLP
from bpcourse.optim import GradientDescent
from bpcourse.training import run_epoch

ROOT = Path(__file__).resolve().parents[1]
bare_numpy = load_module("bare_numpy", ROOT / "benchmarks" / "bare_numpy.py")

SIZES = [20, 16, 8, 5]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bare_numpy_trains_to_the_librarys_weights(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, SIZES[0])).astype(dtype)  # 4 batches of 64 and one of 44
    y = rng.integers(0, SIZES[-1], size=300)
    net = MLP(SIZES, "relu", seed=1, dtype=dtype)
    run_bare, bare = bare_numpy.bare_epoch_runner(
        MLP(SIZES, "relu", seed=1, dtype=dtype), X, y, batch_size=64, lr=0.5
    )
    start = [p.value.copy() for p in net.parameters()]
    optimizer = GradientDescent(net.parameters(), lr=0.5)
    loss = get_loss("softmax_cross_entropy")
    for seed in (0, 1):
        ours = run_epoch(net, X, y, loss, optimizer, 64, np.random.default_rng(seed))
        theirs = run_bare(seed)
        assert theirs == pytest.approx(ours, rel=1e-5)

    moved = max(
        float(np.max(np.abs(p.value - q))) for p, q in zip(net.parameters(), start, strict=True)
    )
    assert moved > 0.05  # the weights really trained
    # The same operations in the same order: equal to the bit on this machine's BLAS; the
    # bound only allows another BLAS to sum in another order.
    assert bare_numpy.largest_difference(net, bare) <= 1e-5 * moved
    assert all(p.dtype == dtype for p in bare.parameters())
