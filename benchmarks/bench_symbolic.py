"""Benchmark: SymPy's gradient of a small network, derived, lambdified and evaluated.

    python benchmarks/bench_symbolic.py              # 2-2-1 and 3-4-4-1 sigmoid networks
    python benchmarks/bench_symbolic.py --quick      # skip the slow lambdify without cse

For each network (sigmoid units, sigmoid output, half squared error, as in the notes) it
prints, each measured from a cleared SymPy cache:

- build: writing the loss E as one SymPy expression (`symbolic_network`);
- derive: `gradient()`, one `sympy.diff` per parameter, never simplified;
- lambdify: `lambdify_gradient()`, with common-subexpression elimination (cse=True);
- the time of one evaluation, of lambdify's own function and of the wrapper that checks the
  arrays and returns them in the library's shapes (best of several runs);
- the same lambdify and evaluation without cse, and the speed-up cse gives.

Targets (informational, never asserted): derive + lambdify under 3 s for 3-4-4-1 and well
under a second for 2-2-1. The script always exits 0 once it has measured.
"""

from __future__ import annotations

import argparse
import itertools
import time
import timeit
from collections.abc import Callable
from typing import Any

import numpy as np

NETWORKS = {"2-2-1": ([2, 2, 1], 1.0), "3-4-4-1": ([3, 4, 4, 1], 3.0)}  # sizes, target (s)


def best_call_time(f: Callable[[], Any], repeats: int = 5) -> float:
    """Seconds per call of f(), the best of `repeats` runs of enough calls to last ~0.1 s."""
    timer = timeit.Timer(f)
    number, _ = timer.autorange()
    return min(timer.repeat(repeats, number)) / number


def timed(f: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = f()
    return result, time.perf_counter() - start


def bench(name: str, sizes: list[int], target: float, quick: bool) -> None:
    import sympy as sp

    from bpcourse import symbolic

    sp.core.cache.clear_cache()
    net, t_build = timed(lambda: symbolic.symbolic_network(sizes))
    _, t_derive = timed(net.gradient)
    grad, t_lambdify = timed(net.lambdify_gradient)

    rng = np.random.default_rng(0)
    x, t = rng.normal(size=sizes[0]), rng.uniform(size=sizes[-1])
    W = [rng.normal(size=(n_out, n_in)) for n_in, n_out in itertools.pairwise(sizes)]
    b = [rng.normal(size=n_out) for n_out in sizes[1:]]
    numbers = net.numbers(x, t, W, b)
    t_raw = best_call_time(lambda: grad.raw(*numbers))
    t_wrapped = best_call_time(lambda: grad(x, t, W, b))

    total = t_derive + t_lambdify
    verdict = "met" if total < target else "MISSED"
    print(f"\n{name}: {len(net.parameters)} parameters")
    print(f"  build E                {t_build:8.3f} s")
    print(f"  derive (sympy.diff)    {t_derive:8.3f} s")
    print(f"  lambdify, cse=True     {t_lambdify:8.3f} s")
    print(f"  derive + lambdify      {total:8.3f} s   (target < {target:g} s: {verdict})")
    print(
        f"  one evaluation, cse    {t_raw * 1e6:8.1f} us  (wrapper with checks: "
        f"{t_wrapped * 1e6:.1f} us)"
    )
    if quick:
        return
    plain, t_lambdify_plain = timed(lambda: net.lambdify_gradient(cse=False))
    t_plain = best_call_time(lambda: plain.raw(*numbers), repeats=3)
    pairs = zip(grad(x, t, W, b), plain(x, t, W, b), strict=True)
    same = max(float(np.max(np.abs(g - h))) for g, h in pairs)
    print(f"  lambdify, cse=False    {t_lambdify_plain:8.3f} s")
    print(
        f"  one evaluation, no cse {t_plain * 1e6:8.1f} us  -> cse is {t_plain / t_raw:.0f}x "
        f"faster per call (results differ by {same:.1e})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip lambdify without cse")
    args = parser.parse_args()
    start = time.perf_counter()
    import bpcourse.symbolic  # noqa: F401  (loads SymPy)

    print(f"import bpcourse.symbolic (with SymPy): {time.perf_counter() - start:.2f} s")
    from bpcourse.symbolic import derivative_table

    table, t_table = timed(derivative_table)
    print(
        f"derivative table, {len(table)} activations derived, simplified and proved: "
        f"{t_table:.2f} s (all equal: {all(row.equal for row in table)})"
    )
    for name, (sizes, target) in NETWORKS.items():
        bench(name, sizes, target, args.quick)


if __name__ == "__main__":
    main()
