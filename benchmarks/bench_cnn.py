"""Benchmark: one training epoch of the small digits CNN (`bpcourse.conv.digits_cnn`).

    python benchmarks/bench_cnn.py                 # best of 5 epochs
    python benchmarks/bench_cnn.py --repeats 10 --batch-size 64

The network (conv 3x3 1->16, ReLU, conv 3x3 16->32, ReLU, 2x2 max pool, flatten, dense
512->10) learns softmax cross-entropy by mini-batch gradient descent in float32 on the
digits' training set (`load_digits()`, images 8x8 scaled to [0, 1]), through the library's
own training loop, `bpcourse.training.run_epoch`. Printed:

- the time of one epoch (best of `--repeats`, median in brackets) and examples per second;
- where an epoch's time goes, from a second run with every layer wrapped in a timer: the
  forward and the backward time of each layer, their share of the epoch, and the share of
  the convolution layers' forward and backward passes together. The rest of the epoch is
  the loss, the optimiser steps and the batching.

BLAS runs on ONE thread (threadpoolctl) so that timings are steady on a small shared machine.
The script always exits 0 once it has measured.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict

import numpy as np
from threadpoolctl import threadpool_limits
from timing import Timed

from bpcourse.conv import Conv2D, digits_cnn
from bpcourse.data import load_digits
from bpcourse.losses import get_loss
from bpcourse.network import Sequential
from bpcourse.optim import GradientDescent
from bpcourse.training import run_epoch

DTYPE = np.float32
LEARNING_RATE = 0.1


def digits_images() -> tuple[np.ndarray, np.ndarray]:
    split = load_digits(standardized=False)
    return (split.X_train / 16.0).reshape(-1, 1, 8, 8).astype(DTYPE), split.y_train


def time_epochs(
    net: Sequential, X: np.ndarray, y: np.ndarray, batch_size: int, repeats: int
) -> list[float]:
    """Seconds of each of 1 + `repeats` epochs of run_epoch (the first one warms up)."""
    loss = get_loss("softmax_cross_entropy")
    optimizer = GradientDescent(net.parameters(), LEARNING_RATE)
    times = []
    for epoch in range(repeats + 1):
        rng = np.random.default_rng(epoch)
        start = time.perf_counter()
        run_epoch(net, X, y, loss, optimizer, batch_size, rng)
        times.append(time.perf_counter() - start)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs")
    parser.add_argument("--batch-size", type=int, default=32, help="mini-batch size")
    args = parser.parse_args()
    X, y = digits_images()
    n, batch = len(X), args.batch_size

    with threadpool_limits(limits=1):
        times = time_epochs(digits_cnn(seed=0, dtype=DTYPE), X, y, batch, args.repeats)[1:]
        seconds: dict[tuple[str, str], float] = defaultdict(float)
        timed_net = Sequential([Timed(layer, seconds) for layer in digits_cnn(0, DTYPE)])
        profiled = time_epochs(timed_net, X, y, batch, args.repeats)
    seconds = {key: value / len(profiled) for key, value in seconds.items()}  # per epoch

    best = min(times)
    print(
        f"digits CNN, {n:,} training images 1x8x8, batch {batch}, float32, SGD, "
        f"BLAS on 1 thread; best of {args.repeats} epochs [median]"
    )
    print(f"epoch        {best * 1e3:8.1f} ms [{statistics.median(times) * 1e3:.1f}]")
    print(f"per step     {best / -(-n // batch) * 1e6:8.0f} us")
    print(f"throughput   {n / best:8,.0f} examples/s\n")

    epoch = statistics.mean(profiled)
    print(f"where the time goes (timed run, {epoch * 1e3:.1f} ms per epoch)")
    print(f"{'layer':<10}{'forward ms':>12}{'backward ms':>13}{'share':>8}")
    for layer in digits_cnn(0, DTYPE):
        fwd, bwd = seconds[layer.name, "forward"], seconds[layer.name, "backward"]
        print(f"{layer.name:<10}{fwd * 1e3:12.2f}{bwd * 1e3:13.2f}{(fwd + bwd) / epoch:8.1%}")
    layers_total = sum(seconds.values())
    print(f"{'rest':<35}{(epoch - layers_total) / epoch:8.1%}  (loss, optimiser, batching)")

    convs = [layer.name for layer in digits_cnn(0, DTYPE) if isinstance(layer, Conv2D)]
    conv_fwd = sum(seconds[name, "forward"] for name in convs)
    conv_bwd = sum(seconds[name, "backward"] for name in convs)
    print(
        f"\nconvolution layers: forward {conv_fwd / epoch:.1%} and backward {conv_bwd / epoch:.1%}"
        f" of the epoch ({(conv_fwd + conv_bwd) / epoch:.1%} together; backward/forward "
        f"{conv_bwd / conv_fwd:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
