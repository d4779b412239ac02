"""A student's kernel: its own process, working directory and environment, with limits.

`Kernel` starts an IPython kernel through a kernelspec written into a temporary folder whose
command is `bpcourse.grading.launch` (which sets the resource limits first), runs cells with
a per-cell timeout (a cell that runs over is interrupted and the kernel goes on), caps the
size of the outputs it keeps, and can be restarted when it dies.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

KERNEL_NAME = "bpcourse-grader"
OUTPUT_LIMIT = 20_000  # characters of each output kept in the grader's copy


@dataclass
class Limits:
    """Per-cell wall time (s), the kernel's memory (MiB), its CPU time (s) and processes."""

    timeout: float = 60.0
    memory: int = 2048
    cpu: int = 600
    nproc: int = 512
    startup: float = 60.0


@dataclass
class CellRun:
    """What running one cell gave: an error name and message, or a timeout, or a dead kernel."""

    error: str = ""
    message: str = ""
    timed_out: bool = False
    died: bool = False
    stdout: str = ""


def write_kernelspec(folder: Path, limits: Limits) -> Path:
    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable,
        "-m",
        "bpcourse.grading.launch",
        str(limits.memory * 2**20),
        str(int(limits.cpu)),
        str(limits.nproc),
        "-f",
        "{connection_file}",
    ]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "bpcourse grader", "language": "python"})
    )
    return folder / "kernels"


def clean_environment(home: Path) -> dict[str, str]:
    """A minimal environment: no BPCOURSE_STRICT, no tokens, one thread for the BLAS."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return env


def cap_outputs(outputs: list[Any], limit: int = OUTPUT_LIMIT) -> bool:
    """Truncate long outputs in place; True when something was cut."""
    cut = False
    for out in outputs:
        if "text" in out and len(out["text"]) > limit:
            out["text"] = out["text"][:limit] + "\n... (output truncated by the grader)"
            cut = True
        data = out.get("data", {})
        for key in list(data):
            if len(str(data[key])) > limit:
                data[key] = "(output removed by the grader: too large)"
                cut = True
    return cut


class Kernel:
    """One student's kernel, in a fresh temporary working directory."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.root = Path(tempfile.mkdtemp(prefix="bpgrade-"))
        self.workdir = self.root / "work"
        self.workdir.mkdir()
        self.home = self.root / "home"
        self.home.mkdir()
        self.spec_dirs = write_kernelspec(self.root / "spec", limits)
        self.client: NotebookClient | None = None
        self.output_capped = False

    def start(self) -> None:
        km = AsyncKernelManager(
            kernel_name=KERNEL_NAME,
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(self.spec_dirs)]),
        )
        client = NotebookClient(
            nbformat.v4.new_notebook(),
            km=km,
            timeout=self.limits.timeout,
            interrupt_on_timeout=True,
            allow_errors=True,
            startup_timeout=int(self.limits.startup),
            kernel_name=KERNEL_NAME,
            resources={"metadata": {"path": str(self.workdir)}},
            record_timing=False,
        )
        client.start_new_kernel(
            env=clean_environment(self.home),
            cwd=str(self.workdir),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client.start_new_kernel_client()
        self.client = client

    def alive(self) -> bool:
        if self.client is None or self.client.km is None:
            return False
        return bool(run_sync(self.client.km.is_alive)())  # type: ignore[arg-type]

    def stop(self) -> None:
        if self.client is not None:
            try:
                self.client._cleanup_kernel()
            except Exception:  # already gone
                pass
            self.client = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _interrupt(self) -> CellRun:
        """Interrupt a cell that ran over; kill the kernel if it does not come back."""
        assert self.client is not None and self.client.km is not None
        self.client.nb.cells.clear()
        try:
            self.client.km.interrupt_kernel()
            probe = nbformat.v4.new_code_cell("pass")
            self.client.nb.cells.append(probe)
            self.client.timeout = 10
            self.client.execute_cell(probe, 0)
            return CellRun("KeyboardInterrupt", "timed out", timed_out=True)
        except Exception:
            self.stop()
            return CellRun("Timeout", "timed out; the kernel was restarted", True, died=True)

    def run(self, source: str, timeout: float | None = None) -> CellRun:
        """Run `source` as a cell; never raises for what the code does."""
        if self.client is None:
            self.start()
        assert self.client is not None
        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells.append(cell)
        index = len(self.client.nb.cells) - 1
        self.client.timeout = int(timeout or self.limits.timeout)
        try:
            self.client.execute_cell(cell, index)
        except CellTimeoutError:
            return self._interrupt()
        except DeadKernelError:
            self.stop()
            return CellRun("DeadKernelError", "the kernel died", died=True)
        except Exception as exc:  # e.g. the kernel stopped replying
            self.stop()
            return CellRun(type(exc).__name__, str(exc)[:300], died=True)
        finally:
            if self.client is not None:
                self.client.nb.cells.clear()
        if cap_outputs(cell.outputs):
            self.output_capped = True
        stdout = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
        for out in cell.outputs:
            if out.get("output_type") == "error":
                name = out.get("ename", "")
                return CellRun(
                    name,
                    str(out.get("evalue", ""))[:300],
                    timed_out=name == "KeyboardInterrupt",
                    stdout=stdout,
                )
        if not self.alive():
            self.stop()
            return CellRun("DeadKernelError", "the kernel died", died=True, stdout=stdout)
        return CellRun(stdout=stdout)
