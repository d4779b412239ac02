"""Run every benchmark script, benchmarks/bench_*.py, one after another (`make bench`).

    python benchmarks/run_all.py              # all of them
    python benchmarks/run_all.py mlp symbolic # only bench_mlp.py and bench_symbolic.py

Each script runs in its own interpreter with this one's Python, so that one benchmark's
imports and caches do not colour another's timings. Exits 1 if any script failed (crashed);
a missed speed target is reported by the script itself and is not a failure.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts(names: list[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    if not names:
        return found
    wanted = {f"bench_{name.removeprefix('bench_').removesuffix('.py')}.py" for name in names}
    unknown = wanted - {path.name for path in found}
    if unknown:
        available = ", ".join(path.name for path in found)
        raise SystemExit(f"no such benchmark: {', '.join(sorted(unknown))} (have: {available})")
    return [path for path in found if path.name in wanted]


def main() -> int:
    failed = []
    for path in scripts(sys.argv[1:]):
        print(f"\n=== {path.name} ===", flush=True)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(path)], cwd=HERE.parent)
        seconds = time.perf_counter() - start
        status = "done" if done.returncode == 0 else f"FAILED (exit {done.returncode})"
        if done.returncode != 0:
            failed.append(path.name)
        print(f"--- {path.name} {status} in {seconds:.0f} s", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
