"""Start an IPython kernel under resource limits (the grader's kernelspec runs this).

    python -m bpcourse.grading.launch MEMORY_BYTES CPU_SECONDS NPROC -f CONNECTION_FILE

The limits are set with `resource.setrlimit` before the kernel starts, so they bind the
kernel and everything it starts: address space (a memory bomb becomes a MemoryError), CPU
seconds (the kernel is killed when they are spent) and processes (not enforced for root).
A limit of 0 is left unset. These limits guard against accidents, not attackers.
"""

from __future__ import annotations

import os
import resource
import sys


def set_limits(memory: int, cpu: int, nproc: int) -> None:
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    if cpu > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    if nproc > 0:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def die_with_parent() -> None:
    """Linux: the kernel is killed when the process that started it dies."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except Exception:
            pass


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    memory, cpu, nproc = (int(a) for a in args[:3])
    set_limits(memory, cpu, nproc)
    die_with_parent()
    # In a PID namespace the parent is PID 1 there, never the grader's PID: ipykernel's
    # parent poller would shut the kernel down. bwrap --die-with-parent does that job.
    os.environ.pop("JPY_PARENT_PID", None)
    from ipykernel import kernelapp

    kernelapp.launch_new_instance(argv=args[3:])


if __name__ == "__main__":
    main()
