"""Where each student's kernel runs: a bubblewrap sandbox, or (loudly) only its limits.

With bubblewrap (`bwrap`, Debian's `bubblewrap` package, the sandbox Flatpak uses) the
kernel gets new user, PID, network, IPC, UTS and mount namespaces (`--unshare-all`):

- the filesystem it sees is built from read-only binds of the system folders (/usr, /etc,
  /bin, /lib...), the Python installation, its site-packages and the `bpcourse` package
  itself, and nothing else: no /home, no /root, no /work, no submissions, no output folder,
  no course checkout (solutions!) besides the package;
- the one writable place is its scratch folder (working directory, HOME, the IPC sockets
  and the connection file); /tmp is a private tmpfs; /proc shows its own processes only;
- no network: only a loopback device in its own namespace; the grader talks to it over
  ZeroMQ IPC sockets in the scratch folder;
- it runs as an unprivileged user with every capability dropped, in a new session, and dies
  with the grader (`--die-with-parent`); when the sandbox's first process ends, the kernel
  ends every process left in its PID namespace (a detached daemon included).

The resource limits (`bpcourse.grading.launch`) are set inside, before the kernel starts.
Without bubblewrap (macOS, Windows, a Linux without it or without user namespaces) the kernel
runs with the limits only; `sandbox_mode` says why, and the grader says so in its output and
in every feedback.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

BUBBLEWRAP = "bubblewrap"
LIMITS_ONLY = "limits only"
SYSTEM = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"]
UID = 65534  # "nobody" inside the sandbox


@dataclass(frozen=True)
class Mode:
    """The isolation in force: `name` is "bubblewrap" or "limits only"; `why` explains."""

    name: str
    why: str
    bwrap: str = ""  # its version
    bwrap_path: str = ""


def describe_mode(mode: Mode) -> str:
    if mode.name == BUBBLEWRAP:
        return f"sandbox: bubblewrap ({mode.bwrap}): {mode.why}"
    return (
        "sandbox: NONE, resource limits only: student code can read and write your files "
        f"and use the network ({mode.why})"
    )


def interpreter() -> str:
    """This Python as an absolute path without `..` (not resolved: a venv's python is a
    symlink whose own folder marks the venv). `../.venv/bin/python` would name a folder
    that the sandbox does not show."""
    return os.path.abspath(sys.executable)


def python_paths() -> list[str]:
    """The folders the kernel's Python needs: its installation, the venv, site-packages,
    and the bpcourse package (not the checkout around it)."""
    import bpcourse

    found = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        str(Path(sys.executable).resolve().parent.parent),
        str(Path(bpcourse.__file__).resolve().parent),
    }
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            found.add(path)
    for entry in sys.path:
        if (entry and "site-packages" in entry) or entry.endswith(".zip"):
            found.add(entry)
    existing = sorted({str(Path(p).resolve()) for p in found if p and Path(p).exists()})
    # drop a folder that is inside another one already bound
    return [p for p in existing if not any(p != q and p.startswith(q + os.sep) for q in existing)]


def bwrap_argv(
    bwrap: str, scratch: Path, workdir: Path, readable: list[Path] | None = None
) -> list[str]:
    """The bwrap command line for a kernel whose only writable folder is `scratch` (and
    which may also read the folders `readable`)."""
    argv = [bwrap, "--unshare-all", "--die-with-parent", "--new-session"]
    argv += ["--uid", str(UID), "--gid", str(UID), "--cap-drop", "ALL"]
    for path in SYSTEM:
        if os.path.lexists(path):
            if os.path.islink(path):
                argv += ["--symlink", os.readlink(path), path]
            else:
                argv += ["--ro-bind", path, path]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/run"]
    for path in python_paths():
        argv += ["--ro-bind", path, path]
    argv += ["--bind", str(scratch), str(scratch), "--chdir", str(workdir)]
    for folder in readable or []:
        argv += ["--ro-bind", str(folder), str(folder)]
    argv += ["--hostname", "sandbox", "--"]
    return argv


@functools.lru_cache(maxsize=4)
def sandbox_mode(use: bool = True) -> Mode:
    """Bubblewrap if it is installed and works here, else the limits only (and why)."""
    if not use:
        return Mode(LIMITS_ONLY, "--no-sandbox was given")
    if not sys.platform.startswith("linux"):
        return Mode(LIMITS_ONLY, f"bubblewrap needs Linux; this is {sys.platform}")
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return Mode(
            LIMITS_ONLY,
            "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)",
        )
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bpgrade-probe-") as tmp:
        argv = bwrap_argv(bwrap, Path(tmp), Path(tmp))
        try:
            done = subprocess.run(
                [*argv, interpreter(), "-c", "import bpcourse, numpy; print('ok')"],
                capture_output=True,
                text=True,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Mode(LIMITS_ONLY, f"bubblewrap did not run ({exc})")
    if done.returncode != 0 or done.stdout.strip() != "ok":
        err = (done.stderr.strip().splitlines() or ["no message"])[-1][:300]
        hint = ""
        if "namespace" in err or "Operation not permitted" in err:
            hint = (
                " (unprivileged user namespaces may be restricted here, e.g. by AppArmor on "
                "Ubuntu 23.10+: kernel.apparmor_restrict_unprivileged_userns)"
            )
        return Mode(LIMITS_ONLY, f"bubblewrap is installed but failed: {err}{hint}")
    version = subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout
    return Mode(
        BUBBLEWRAP,
        "new PID, network, IPC and mount namespaces; read-only files except the scratch "
        "folder; private /tmp; no network",
        version.strip() or bwrap,
        bwrap,
    )
