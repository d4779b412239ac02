"""Benchmark: one training epoch of a 784-256-128-10 ReLU MLP, against the BLAS and PyTorch.

    python benchmarks/bench_mlp.py                  # 60,000 synthetic examples, best of 7
    python benchmarks/bench_mlp.py --examples 16384 --repeats 3 --no-torch
    python benchmarks/bench_mlp.py --no-adam          # skip the Adam vs gradient descent section

The network learns softmax cross-entropy by mini-batch gradient descent (batch 128, float32)
on synthetic data (standard-normal features, random labels 0..9), through the library's own
training loop, `bpcourse.training.run_epoch`, its data checked once beforehand as `train` does
(not again every epoch). Printed, all measured in the same run:

- the time of one epoch and the GFLOP/s it achieves, counting the FLOPs of the matrix
  products the epoch really performs (2·m·n·k each: the forward X @ W.T of every layer, the
  weight gradient dZ.T @ X of every layer, and the input gradient dZ @ W of every layer but
  the first, which training skips);
- the GFLOP/s of NumPy doing those very matrix products (same shapes, same transposes, same
  number) and nothing else, and the ratio of the two: the share of the time the epoch spends
  in useful matrix multiplication. Target: at least 80%;
- the same epoch in bare NumPy (`bare_numpy.py`: the same weights, batches, loss and update,
  with every array reused and everything in place, no checks, no objects), its share of the
  same-shape GEMM rate, the ratio bare time / our time (the library's own overhead), and the
  largest difference between its weights and ours after the runs (0: the same arithmetic).
  It is what NumPy itself costs outside the matrix products on this machine, for context;
- a large square matrix product's GFLOP/s, for context (the machine's BLAS at its best);
- where PyTorch is installed, the same network trained by torch on the CPU for one epoch,
  and the ratio torch time / our time (above 1: we are faster). Target: above 1;
- the time of `import bpcourse` in a fresh interpreter, and whether it pulled in SymPy,
  Matplotlib, ipywidgets or scikit-learn. Target: under 0.5 s, none of them;
- where a step's time goes: a separate run of `--repeats` epochs of a copy of the network
  whose layers, loss and optimiser step are each timed (`timing.py`), in microseconds per
  step, beside the same-shape GEMMs' time per step; the rest is the batch gather and the loop.
  The timers themselves add about half a microsecond per call. `--no-breakdown` skips it;
- the optimiser's cost: the same epoch (same network, data and batches) with Adam instead
  of gradient descent, the ratio of the two epoch times and Adam's extra time per step, and
  each optimiser's `step()` alone on the network's 235,146 parameters. Adam's extra cost is
  its element-wise work: updating the two moments and forming m̂/(√v̂ + ε) take about a
  dozen passes over every parameter per step, where gradient descent makes two (ηg, then
  θ −= ηg); the matrix products are the same. Informational, no target.

BLAS (and torch) run on ONE thread so that timings are steady on a small shared machine;
each figure is the best of `--repeats` runs, the contenders taking turns so that they share
the machine's load (CPU times are printed too: on a busy machine they are steadier). The
targets are informational: the script always exits 0 once it has measured.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from bare_numpy import bare_epoch_runner, largest_difference
from threadpoolctl import threadpool_info, threadpool_limits
from timing import Seconds, Timed, time_steps, timed_loss

from bpcourse.layers import Parameter
from bpcourse.losses import get_loss
from bpcourse.network import MLP, Sequential
from bpcourse.optim import Adam, GradientDescent, Optimizer
from bpcourse.training import batches, run_epoch

SIZES = [784, 256, 128, 10]
BATCH_SIZE = 128
LEARNING_RATE = 0.01
ADAM_LEARNING_RATE = 0.001  # Adam's default (Kingma & Ba 2015)
DTYPE = np.float32
SQUARE = 1024
SQUARE_PRODUCTS = 4  # per timed run
HEAVY_MODULES = ("sympy", "matplotlib", "ipywidgets", "sklearn")

TARGET_GEMM_SHARE = 0.80
TARGET_IMPORT_SECONDS = 0.5


# ---------------------------------------------------------------- the matrix products


@dataclass(frozen=True)
class Gemm:
    """One matrix product of a training step: `compute(left, right)` on arrays of these shapes."""

    label: str
    left: tuple[int, int]
    right: tuple[int, int]
    compute: Callable[[np.ndarray, np.ndarray], np.ndarray]
    flops: int


def forward_product(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    return X @ W.T


def weight_gradient_product(dZ: np.ndarray, X: np.ndarray) -> np.ndarray:
    return dZ.T @ X


def input_gradient_product(dZ: np.ndarray, W: np.ndarray) -> np.ndarray:
    return dZ @ W


def step_gemms(sizes: list[int], batch: int) -> list[Gemm]:
    """The matrix products of one training step on a batch, as `bpcourse.layers` does them.

    Layer l maps n_in -> n_out with W (n_out, n_in): forward X @ W.T, weight gradient
    dZ.T @ X, and input gradient dZ @ W for every layer but the first.
    """
    gemms = []
    for layer, (n_in, n_out) in enumerate(itertools.pairwise(sizes), start=1):
        flops = 2 * batch * n_in * n_out
        X, W, dZ = (batch, n_in), (n_out, n_in), (batch, n_out)
        gemms.append(Gemm(f"X@W.T  {layer}", X, W, forward_product, flops))
        gemms.append(Gemm(f"dZ.T@X {layer}", dZ, X, weight_gradient_product, flops))
        if layer > 1:
            gemms.append(Gemm(f"dZ@W   {layer}", dZ, W, input_gradient_product, flops))
    return gemms


def epoch_batch_sizes(n: int, batch_size: int) -> list[int]:
    """The size of every batch of one epoch (the last one may be smaller)."""
    return [len(idx) for idx in batches(n, batch_size, None)]


def epoch_flops(sizes: list[int], n: int, batch_size: int) -> int:
    return sum(g.flops for b in epoch_batch_sizes(n, batch_size) for g in step_gemms(sizes, b))


def epoch_gemms_runner(sizes: list[int], n: int, batch_size: int) -> Callable[[int], object]:
    """A function doing exactly the matrix products of one epoch in NumPy, and nothing else."""
    rng = np.random.default_rng(1)
    plan = []
    operands: dict[int, list[tuple[Gemm, np.ndarray, np.ndarray]]] = {}
    for b in epoch_batch_sizes(n, batch_size):
        if b not in operands:
            operands[b] = [
                (
                    g,
                    rng.standard_normal(g.left, dtype=DTYPE),
                    rng.standard_normal(g.right, dtype=DTYPE),
                )
                for g in step_gemms(sizes, b)
            ]
        plan.extend(operands[b])

    def run(seed: int) -> None:
        for g, left, right in plan:
            g.compute(left, right)

    return run


def square_gemm_runner() -> Callable[[int], object]:
    """A function doing SQUARE_PRODUCTS products of two SQUARE x SQUARE matrices."""
    rng = np.random.default_rng(2)
    A = rng.standard_normal((SQUARE, SQUARE), dtype=DTYPE)
    B = rng.standard_normal((SQUARE, SQUARE), dtype=DTYPE)

    def run(seed: int) -> None:
        for _ in range(SQUARE_PRODUCTS):
            A @ B

    return run


# ---------------------------------------------------------------- bpcourse and torch epochs


def synthetic_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, SIZES[0]), dtype=DTYPE)
    y = rng.integers(0, SIZES[-1], size=n)
    return X, y


def gradient_descent(params: list[Parameter]) -> Optimizer:
    return GradientDescent(params, LEARNING_RATE)


def adam(params: list[Parameter]) -> Optimizer:
    return Adam(params, lr=ADAM_LEARNING_RATE)


def bpcourse_epoch_runner(
    X: np.ndarray,
    y: np.ndarray,
    make_optimizer: Callable[[list[Parameter]], Optimizer] = gradient_descent,
) -> tuple[Callable[[int], object], MLP]:
    """A function running one epoch of bpcourse's own training loop (shuffled by `seed`).

    Every runner starts from the same weights, and a round's `seed` gives every runner the
    same batches: runners differing only in their optimiser do the same forward and backward
    work.
    """
    net = MLP(SIZES, activation="relu", seed=0, dtype=DTYPE)
    loss = get_loss("softmax_cross_entropy")
    optimizer = make_optimizer(net.parameters())

    X = net.check_input(X)  # once, as `train` does before its epochs

    def run(seed: int) -> float:
        rng = np.random.default_rng(seed)
        return run_epoch(net, X, y, loss, optimizer, BATCH_SIZE, rng, validated=True)

    return run, net


def step_breakdown(X: np.ndarray, y: np.ndarray, epochs: int) -> tuple[Seconds, float]:
    """Seconds per epoch spent in each layer's forward and backward, the loss and the update
    (a copy of the network with every part timed), and the seconds of a whole epoch."""
    seconds: Seconds = defaultdict(float)
    net = Sequential([Timed(layer, seconds) for layer in MLP(SIZES, "relu", seed=0, dtype=DTYPE)])
    loss = timed_loss(get_loss("softmax_cross_entropy"), seconds)
    optimizer = time_steps(gradient_descent(net.parameters()), seconds)
    X = net.check_input(X)
    start = time.perf_counter()
    for epoch in range(epochs):
        rng = np.random.default_rng(epoch)
        run_epoch(net, X, y, loss, optimizer, BATCH_SIZE, rng, validated=True)
    whole = (time.perf_counter() - start) / epochs
    return {key: value / epochs for key, value in seconds.items()}, whole


def optimizer_step_runner(
    X: np.ndarray, y: np.ndarray, make_optimizer: Callable[[list[Parameter]], Optimizer], steps: int
) -> Callable[[int], object]:
    """A function calling the optimiser's `step()` `steps` times (one epoch's worth) and
    nothing else, on the network's gradients from one batch: the update's cost alone."""
    net = MLP(SIZES, activation="relu", seed=0, dtype=DTYPE)
    net.loss_and_backward(X[:BATCH_SIZE], y[:BATCH_SIZE], get_loss("softmax_cross_entropy"))
    optimizer = make_optimizer(net.parameters())

    def run(seed: int) -> None:
        for _ in range(steps):
            optimizer.step()

    return run


def torch_epoch_runner(X: np.ndarray, y: np.ndarray) -> Callable[[int], object] | None:
    """The same network, loss, optimiser and batches in PyTorch (CPU, one thread), if installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    torch.manual_seed(0)
    layers: list[torch.nn.Module] = []
    for n_in, n_out in itertools.pairwise(SIZES):
        layers += [torch.nn.Linear(n_in, n_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])  # no ReLU after the output layer: logits
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)

    def run(seed: int) -> float:
        # The same shuffling and batching as run_epoch, and the loss read back every step.
        total = 0.0
        for idx in batches(len(X), BATCH_SIZE, np.random.default_rng(seed)):
            index = torch.from_numpy(idx)
            optimizer.zero_grad(set_to_none=True)
            value = loss_fn(model(X_t[index]), y_t[index])
            value.backward()
            optimizer.step()
            total += value.item() * len(idx)
        return total / len(X)

    return run


@dataclass
class Timing:
    """Seconds of each timed run: wall clock, and CPU time of this process."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.wall)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_best(self) -> float:
        return min(self.cpu)


def interleaved_times(
    runners: dict[str, Callable[[int], object]], repeats: int
) -> dict[str, Timing]:
    """Time each runner `repeats` times, taking turns so that they share the machine's load.

    The first round warms up (caches, allocator, lazy initialisation) and is not counted.
    """
    times = {name: Timing() for name in runners}
    for round_ in range(repeats + 1):
        for name, run in runners.items():
            wall, cpu = time.perf_counter(), time.process_time()
            run(round_)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if round_ > 0:
                times[name].wall.append(wall)
                times[name].cpu.append(cpu)
    return times


# ---------------------------------------------------------------- import time


IMPORT_PROBE = f"""
import json, sys, time
start = time.perf_counter()
import bpcourse
seconds = time.perf_counter() - start
print(json.dumps([seconds, [m for m in {HEAVY_MODULES!r} if m in sys.modules]]))
"""


def import_time(repeats: int) -> tuple[float, list[str]]:
    """Best time of `import bpcourse` in a fresh interpreter, and the heavy modules it loaded."""
    best, heavy = float("inf"), []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, check=True
        ).stdout
        seconds, loaded = json.loads(out)
        best, heavy = min(best, seconds), sorted(set(heavy) | set(loaded))
    return best, heavy


# ---------------------------------------------------------------- report


def machine_description() -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [
        f"machine   {cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}",
        f"python    {platform.python_version()}, numpy {np.__version__}",
    ]
    for pool in threadpool_info():
        library = " ".join(filter(None, [pool["internal_api"], pool.get("version")]))
        kernel = f", kernel {pool['architecture']}" if pool.get("architecture") else ""
        lines.append(
            f"threads   {library} ({pool['user_api']}{kernel}, {Path(pool['filepath']).name}): "
            f"{pool['num_threads']} thread(s)"
        )
    lines.append(f"env       OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    torch = sys.modules.get("torch")
    if torch is not None:
        lines.append(f"torch     {torch.__version__}, {torch.get_num_threads()} thread(s)")
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
        busy = " (busy: timings are noisy)" if load > (os.cpu_count() or 1) - 0.5 else ""
        lines.append(f"load      {load:.2f} (1-minute average){busy}")
    return lines


def check_float32(net: MLP) -> str:
    wrong = [
        f"{p.name} {a.dtype}"
        for p in net.parameters()
        for a in (p.value, p.grad)
        if a.dtype != DTYPE
    ]
    return "float32 throughout" if not wrong else "NOT float32: " + ", ".join(wrong)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=60_000, help="training examples N")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs of each measurement")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    parser.add_argument(
        "--no-adam", action="store_true", help="skip the Adam vs gradient descent section"
    )
    parser.add_argument(
        "--no-breakdown", action="store_true", help="skip the timing of each part of a step"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    n, repeats = args.examples, args.repeats

    X, y = synthetic_data(n)
    flops = epoch_flops(SIZES, n, BATCH_SIZE)
    steps = len(epoch_batch_sizes(n, BATCH_SIZE))
    imported, heavy = import_time(5)

    with threadpool_limits(limits=1):
        run_ours, net = bpcourse_epoch_runner(X, y)
        run_bare, bare = bare_epoch_runner(
            MLP(SIZES, "relu", seed=0, dtype=DTYPE), X, y, BATCH_SIZE, LEARNING_RATE
        )
        runners = {
            "bpcourse": run_ours,
            "bare": run_bare,
            "gemm": epoch_gemms_runner(SIZES, n, BATCH_SIZE),
            "square": square_gemm_runner(),
        }
        run_torch = None if args.no_torch else torch_epoch_runner(X, y)
        if run_torch is not None:
            runners["torch"] = run_torch
        adam_net = None
        if not args.no_adam:
            run_adam, adam_net = bpcourse_epoch_runner(X, y, adam)
            runners["adam"] = run_adam
            runners["gd step"] = optimizer_step_runner(X, y, gradient_descent, steps)
            runners["adam step"] = optimizer_step_runner(X, y, adam, steps)
        print("\n".join(machine_description()), flush=True)
        times = interleaved_times(runners, repeats)
        breakdown = None if args.no_breakdown else step_breakdown(X, y, repeats)
    ours, bare_t, gemm, square = (times[k] for k in ("bpcourse", "bare", "gemm", "square"))
    torch_t, adam_t, gd_step, adam_step = (
        times.get(k) for k in ("torch", "adam", "gd step", "adam step")
    )

    achieved, gemm_rate = flops / ours.best / 1e9, flops / gemm.best / 1e9
    share, share_cpu = gemm.best / ours.best, gemm.cpu_best / ours.cpu_best
    bare_share, bare_share_cpu = gemm.best / bare_t.best, gemm.cpu_best / bare_t.cpu_best
    square_rate = SQUARE_PRODUCTS * 2 * SQUARE**3 / square.best / 1e9

    print(
        f"\nMLP {'-'.join(map(str, SIZES))}, ReLU, softmax cross-entropy, SGD, batch {BATCH_SIZE}, "
        f"float32 ({check_float32(net)});\nN = {n:,} synthetic examples, {steps} steps per epoch. "
        f"Times: best of {repeats} runs, [median], (best CPU time)\n"
    )

    def row(label: str, value: str) -> None:
        print(f"{label:<42}{value}")

    def timing(t: Timing) -> str:
        return f"{t.best * 1e3:8.1f} ms  [{t.median * 1e3:.1f}]  ({t.cpu_best * 1e3:.1f})"

    row("bpcourse epoch", timing(ours))
    row("  per step", f"{ours.best / steps * 1e6:8.0f} us")
    row("  matrix-product FLOPs in the epoch", f"{flops / 1e9:8.2f} GFLOP")
    row("  achieved", f"{achieved:8.1f} GFLOP/s")
    row("  time outside the GEMMs, per step", f"{(ours.best - gemm.best) / steps * 1e6:8.0f} us")
    row("bare NumPy epoch (bare_numpy.py)", timing(bare_t))
    row("  time outside the GEMMs, per step", f"{(bare_t.best - gemm.best) / steps * 1e6:8.0f} us")
    row("  its weights minus bpcourse's, max", f"{largest_difference(net, bare):8.1e}")
    row("the same-shape GEMMs alone (NumPy)", timing(gemm))
    row("  their rate", f"{gemm_rate:8.1f} GFLOP/s")
    row(f"square {SQUARE}x{SQUARE}x{SQUARE} GEMM (NumPy)", f"{square_rate:8.1f} GFLOP/s")
    if torch_t is not None:
        row("torch epoch (CPU, 1 thread)", timing(torch_t))
    row("import bpcourse (fresh interpreter)", f"{imported * 1e3:8.0f} ms  (best of 5)")

    checks: list[tuple[str, str, str, bool | None]] = [
        (
            "achieved / same-shape GEMM rate",
            f"{share:.1%} (CPU {share_cpu:.1%})",
            f">= {TARGET_GEMM_SHARE:.0%}",
            share >= TARGET_GEMM_SHARE,
        ),
        (
            "  bare NumPy's, the same work (context)",
            f"{bare_share:.1%} (CPU {bare_share_cpu:.1%})",
            "",
            None,
        ),
        (
            "bare NumPy epoch / bpcourse epoch",
            f"{bare_t.best / ours.best:.1%} (CPU {bare_t.cpu_best / ours.cpu_best:.1%})",
            "",
            None,
        ),
        ("achieved / square-GEMM rate (context)", f"{achieved / square_rate:.1%}", "", None),
    ]
    if torch_t is not None:
        speedup, speedup_cpu = torch_t.best / ours.best, torch_t.cpu_best / ours.cpu_best
        checks.append(
            (
                "torch epoch / bpcourse epoch",
                f"{speedup:.2f}x (CPU {speedup_cpu:.2f}x)",
                "> 1",
                speedup > 1,
            )
        )
    else:
        checks.append(("torch epoch / bpcourse epoch", "torch not installed", "> 1", None))
    checks += [
        (
            "import bpcourse",
            f"{imported:.3f} s",
            f"< {TARGET_IMPORT_SECONDS} s",
            imported < TARGET_IMPORT_SECONDS,
        ),
        (
            "  SymPy, Matplotlib, ipywidgets, sklearn",
            ", ".join(heavy) or "none loaded",
            "",
            not heavy,
        ),
    ]
    print(
        "\nratios (wall clock; CPU time in brackets) and targets; the 80% target is the epoch's"
        "\nGFLOP/s over the GFLOP/s of its own matrix products done alone, same shapes\n"
    )
    for label, value, target, ok in checks:
        mark = "" if ok is None else ("PASS" if ok else "FAIL")
        print(f"{label:<42}{value:<26}{target:<8}{mark}")

    if breakdown is not None:
        seconds, whole = breakdown
        per_step = 1e6 / steps
        print(
            f"\nwhere a step's time goes (a timed copy of the network, mean of {repeats} "
            f"epochs: {whole * per_step:.0f} us per step); us per step"
        )
        print(f"{'part':<14}{'forward':>9}{'backward':>10}")
        for layer in MLP(SIZES, "relu", seed=0, dtype=DTYPE):
            forward, backward = (
                seconds[layer.name, way] * per_step for way in ("forward", "backward")
            )
            print(f"{layer.name:<14}{forward:9.0f}{backward:10.0f}")
        for part in ("loss", "update"):
            print(f"{part:<14}{seconds[part, 'call'] * per_step:9.0f}")
        rest = whole - sum(seconds.values())
        print(f"{'rest':<14}{rest * per_step:9.0f}   (the batch gather, the loop, float(loss))")
        print(f"the same-shape GEMMs alone: {gemm.best * per_step:.0f} us per step")

    if adam_t is not None and gd_step is not None and adam_step is not None:
        assert adam_net is not None
        print(
            f"\noptimiser cost: the same epoch with Adam (lr {ADAM_LEARNING_RATE:g}, betas 0.9, "
            f"0.999) instead of\ngradient descent: same network ({adam_net.n_params:,} "
            f"parameters, {check_float32(adam_net)}), same data, same batches\n"
        )
        row("gradient descent epoch (as above)", timing(ours))
        row("Adam epoch", timing(adam_t))
        row(
            "  Adam / gradient descent",
            f"{adam_t.best / ours.best:8.2f}x  (CPU {adam_t.cpu_best / ours.cpu_best:.2f}x)",
        )

        def per_step(wall: float, cpu: float) -> str:
            return f"{wall / steps * 1e6:8.0f} us  (CPU {cpu / steps * 1e6:.0f})"

        row(
            "  Adam's extra time per step",
            per_step(adam_t.best - ours.best, adam_t.cpu_best - ours.cpu_best),
        )
        row("gradient descent step() alone, per step", per_step(gd_step.best, gd_step.cpu_best))
        row("Adam step() alone, per step", per_step(adam_step.best, adam_step.cpu_best))
        row(
            "  difference: the moment updates",
            per_step(adam_step.best - gd_step.best, adam_step.cpu_best - gd_step.cpu_best),
        )

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        figures = {
            "examples": n,
            "epoch_seconds": ours.best,
            "achieved_gflops": achieved,
            "same_shape_gemm_gflops": gemm_rate,
            "gemm_share": share,
            "bare_numpy_epoch_seconds": bare_t.best,
            "bare_numpy_gemm_share": bare_share,
            "square_gemm_gflops": square_rate,
            "torch_epoch_seconds": torch_t.best if torch_t else None,
            "import_seconds": imported,
            "heavy_modules": heavy,
            "adam_epoch_seconds": adam_t.best if adam_t else None,
            "adam_over_gd": adam_t.best / ours.best if adam_t else None,
            "gd_step_seconds": gd_step.best / steps if gd_step else None,
            "adam_step_seconds": adam_step.best / steps if adam_step else None,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
