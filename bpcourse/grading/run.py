"""A student's kernel: its own sandbox, scratch folder and environment, with limits.

`Kernel` starts an IPython kernel through a kernelspec written into a temporary folder whose
command is `bwrap ... python -m bpcourse.grading.launch` (see `bpcourse.grading.sandbox`;
without bubblewrap, the launcher alone, which sets the resource limits first). The grader
reaches it over ZeroMQ IPC sockets in its scratch folder (no TCP port). It runs cells with a
per-cell timeout (a cell that runs over is interrupted, by message, and the kernel goes on),
caps the size of the outputs it keeps, can be restarted when it dies, and at the end its
whole process group is killed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
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

from bpcourse.grading.sandbox import BUBBLEWRAP, bwrap_argv, interpreter, sandbox_mode

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
    notebook: float = 600.0  # seconds for the whole notebook
    sandbox: bool = True  # use bubblewrap where it works


@dataclass
class CellRun:
    """What running one cell gave: an error name and message, or a timeout, or a dead kernel."""

    error: str = ""
    message: str = ""
    timed_out: bool = False
    died: bool = False
    stdout: str = ""


def write_kernelspec(folder: Path, limits: Limits, prefix: list[str] | None = None) -> Path:
    """A kernelspec whose command is `prefix` (the sandbox) then the limited launcher."""
    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    argv = [
        *(prefix or []),
        interpreter(),
        "-m",
        "bpcourse.grading.launch",
        str(limits.memory * 2**20),
        str(int(limits.cpu)),
        str(limits.nproc),
        "-f",
        "{connection_file}",
    ]
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": argv,
                "display_name": "bpcourse grader",
                "language": "python",
                "interrupt_mode": "message",  # a signal would stop at bwrap
            }
        )
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
    """One student's kernel, in a fresh scratch folder (in a sandbox where possible).

    `mode` is "bubblewrap" or "limits only", `why` says why. The scratch folder holds the
    working directory, HOME and the IPC sockets; it is the only place the kernel can write.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        found = sandbox_mode(limits.sandbox)
        self.mode, self.why = found.name, found.why
        self.root = Path(tempfile.mkdtemp(prefix="bpgrade-"))
        self.scratch = self.root / "box"
        self.workdir = self.scratch / "work"
        self.home = self.scratch / "home"
        self.ipc = self.scratch / "ipc"
        self.inbox = self.root / "in"  # the calls' arguments: read-only in the sandbox
        for folder in (self.workdir, self.home, self.ipc, self.inbox, self.scratch / "calls"):
            folder.mkdir(parents=True)
        prefix = []
        if self.mode == BUBBLEWRAP:
            prefix = bwrap_argv(found.bwrap_path, self.scratch, self.workdir, [self.inbox])
        self.spec_dirs = write_kernelspec(self.root / "spec", limits, prefix)
        self.client: NotebookClient | None = None
        self.output_capped = False
        self.pgids: set[int] = set()
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        for old in self.ipc.iterdir():
            old.unlink(missing_ok=True)
        # IPC sockets in the scratch folder (the sandbox has no network); Windows has no
        # IPC transport in ZeroMQ, and no sandbox either: TCP on the loopback there.
        where = {"transport": "ipc", "ip": str(self.ipc / f"k{self.starts}")}
        if os.name != "posix":
            where = {"transport": "tcp", "ip": "127.0.0.1"}
        km = AsyncKernelManager(
            kernel_name=KERNEL_NAME,
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(self.spec_dirs)]),
            connection_file=str(self.ipc / f"kernel{self.starts}.json"),
            **where,
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
        pgid = getattr(getattr(km, "provisioner", None), "pgid", None)
        if pgid:
            self.pgids.add(int(pgid))
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
        """Stop the kernel, kill every process of its group(s), remove the scratch folder."""
        try:
            self.stop()
        except BaseException:  # the group is killed below in any case
            self.client = None
        for pgid in self.pgids:
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, OSError):
                pass
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
        self.client.timeout = max(1, int(timeout or self.limits.timeout))
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
