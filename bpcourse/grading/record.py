"""Grading outside the student's kernel: the checker runs here, the student's code there.

For each item the grader runs the item's own checker in its own process with a stand-in
(`Remote`) for each of the student's functions. A call of the stand-in is forwarded to the
kernel as data only (`bpcourse.grading.channel`: JSON and `.npy` files, no pickle): the
arguments go into a fresh folder of the kernel's scratch space, a short snippet in the
kernel reads them, calls the student's function by name (through the item's adapter, when
it has one: exercise 02's adapters build the autodiff graph from numbers and return plain
data) and writes what it returned (or the exception it raised, as text) into another fresh
folder, which the grader reads back with size limits. Nothing from the kernel is ever run,
unpickled or imported by the grader. `call_safely`, the comparisons and the points are all
computed here, so patching `check`, NumPy or the printed output from inside the notebook
changes nothing. No item is checked inside the student's kernel.

Arguments changed in place by the student's function (arrays, lists, dicts) are copied back
into the grader's objects after the call; a `numpy.random.Generator` crosses as its bit
generator's name and state, and the state it has after the call is set on the checker's
Generator, as if the student's function had drawn from it in this process. A function the
checker passes as an argument (exercise 01: the f of `second_derivative`, the gradient of
`gradient_descent_path`) is sent to the kernel as its code and data; it runs there, on the
kernel's side only.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import threading
import time
from typing import Any

import numpy as np

from bpcourse.checking.registry import load_items
from bpcourse.checking.result import ERROR, Result
from bpcourse.grading.channel import ChannelError, read_value, write_value
from bpcourse.grading.run import Kernel


class KernelDied(Exception):
    """The kernel died while running the student's function."""


class Timeout(Exception):
    """The student's function ran longer than the per-cell timeout."""


class CannotForward(BaseException):  # not an Exception: call_safely must not catch it
    """The arguments cannot cross the process boundary (a bug of a checker, not the student)."""


class NotebookTimeout(BaseException):  # not an Exception: nothing in a checker catches it
    """The notebook's time budget is spent."""


CALL = """
def _bpgrade_call(_name, _adapter, _in, _out):
    import importlib, pathlib, traceback, types
    from bpcourse.grading.channel import read_value, write_value
    args = read_value(pathlib.Path(_in), functions=True)
    fn = globals().get(_name)
    try:
        if fn is None:
            raise NameError(f"your notebook defines no function named {_name}")
        if _adapter:
            fn = getattr(importlib.import_module(_adapter[0]), _adapter[1])(fn)
        value = fn(*args)
        if isinstance(value, types.GeneratorType):
            value = list(value)
        out = {"kind": "value", "value": value,
               "args": [None if callable(a) else a for a in args]}
    except NotImplementedError:
        out = {"kind": "not attempted"}
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        frames = [f for f in traceback.extract_tb(exc.__traceback__)[1:]
                  if f.filename.startswith("<") or "ipykernel" in f.filename
                  or "/tmp" in f.filename]
        where = ""
        if frames:
            f = frames[-1]
            where = f" (at line {f.lineno} of {f.name}: `{(f.line or '').strip()}`)"
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        out = {"kind": "raised", "name": type(exc).__name__, "message": first + where}
    try:
        write_value(pathlib.Path(_out), out)
    except Exception as exc:
        import shutil
        shutil.rmtree(_out, ignore_errors=True)
        write_value(pathlib.Path(_out), {"kind": "unsendable",
                                         "message": f"{type(exc).__name__}: {exc}"[:300]})
"""


def _copy_back(original: Any, new: Any) -> None:
    """Make `original` (the grader's argument) what the kernel's copy became."""
    try:
        if isinstance(original, np.ndarray) and isinstance(new, np.ndarray):
            if original.shape == new.shape and original.flags.writeable:
                original[...] = new
        elif isinstance(original, list) and isinstance(new, list):
            original[:] = new
        elif isinstance(original, dict) and isinstance(new, dict):
            original.clear()
            original.update(new)
        elif isinstance(original, np.random.Generator) and isinstance(new, np.random.Generator):
            if type(original.bit_generator) is type(new.bit_generator):
                original.bit_generator.state = new.bit_generator.state
    except (TypeError, ValueError):
        pass


class Remote:
    """Forwards calls of the student's function `name` to the kernel."""

    def __init__(self, session: Session, name: str, adapter: tuple[str, str] | None) -> None:
        self.session = session
        self.adapter = adapter
        self.__name__ = name
        self.__qualname__ = name

    def __call__(self, *args: Any) -> Any:
        return self.session.call(self.__name__, args, self.adapter)


class Session:
    """A kernel with the student's definitions, and calls into it."""

    def __init__(self, kernel: Kernel, setup: list[str], source: str | None = None) -> None:
        self.kernel = kernel
        self.source = source  # the student's code, for the forbidden-shortcut check
        self.deadline = float("inf")
        self.setup = setup  # the cells that define the student's functions
        self.skip: set[int] = set()  # cells that killed the kernel
        self.deaths = 0
        self.cell_problems: list[str] = []
        self.timeouts = 0
        self.calls = 0

    def _note(self, problem: str) -> None:
        if problem not in self.cell_problems:
            self.cell_problems.append(problem)

    def _timeout(self) -> float:
        """The per-cell timeout, shortened to what is left of the notebook's budget."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise NotebookTimeout()
        return max(1.0, min(self.kernel.limits.timeout, left))

    def prepare(self, deadline: float | None = None) -> None:
        """Start the kernel and run the definitions; a cell that kills it is skipped."""
        if deadline is not None:
            self.deadline = deadline
        self.kernel.start()
        for i, source in enumerate(self.setup):
            if i in self.skip:
                continue
            run = self.kernel.run(source, self._timeout())
            if run.timed_out:
                self.timeouts += 1
                limit = self.kernel.limits.timeout
                self._note(f"cell {i + 1} ran longer than {limit:g} s and was stopped")
            elif run.error == "MemoryError":
                self._note(f"cell {i + 1} ran out of memory (MemoryError)")
            elif run.error == "SystemExit":
                self._note(f"cell {i + 1} called sys.exit(); it was ignored")
            if run.died:
                self.deaths += 1
                self.skip.add(i)
                self._note(f"cell {i + 1} killed the kernel ({run.message}); it was skipped")
                if self.deaths > 3:
                    raise KernelDied("the kernel died too often")
                return self.prepare()
        self.kernel.run(CALL)

    def _revive(self) -> None:
        if not self.kernel.alive():
            if self.deaths > 3:
                raise KernelDied("the kernel died too often; no more items are graded")
            self.prepare()

    def call(self, name: str, args: tuple[Any, ...], adapter: tuple[str, str] | None) -> Any:
        self._revive()
        self.calls += 1
        token = secrets.token_hex(16)
        inbox = self.kernel.inbox / token  # read-only in the sandbox
        outbox = self.kernel.scratch / "calls" / token
        try:
            write_value(inbox, list(args), functions=True)
        except ChannelError as exc:
            shutil.rmtree(inbox, ignore_errors=True)
            raise CannotForward(str(exc)) from None
        limit = self._timeout()
        run = self.kernel.run(
            f"_bpgrade_call({name!r}, {adapter!r}, {str(inbox)!r}, {str(outbox)!r})", limit
        )
        shutil.rmtree(inbox, ignore_errors=True)
        try:
            if run.timed_out:
                self.timeouts += 1
                raise Timeout(f"stopped after {max(1, int(limit))} s")
            if run.died:
                self.deaths += 1
                raise KernelDied(f"the kernel died while running {name} ({run.message})")
            if not outbox.is_dir() or outbox.is_symlink():
                raise RuntimeError(f"{name} gave no result ({run.error}: {run.message})".rstrip())
            try:
                out = read_value(outbox, base=self.kernel.scratch)
                kind = out["kind"]
            except (ChannelError, KeyError, TypeError) as exc:
                raise TypeError(
                    f"{name} returned something the grader cannot read back ({exc})"
                ) from None
        finally:
            if outbox.is_symlink():
                outbox.unlink()
            else:
                shutil.rmtree(outbox, ignore_errors=True)
        if kind == "not attempted":
            raise NotImplementedError()
        if kind == "raised":
            name_ = str(out.get("name", ""))
            name_ = name_ if name_.isidentifier() else "Exception"
            raise type(name_, (Exception,), {})(str(out.get("message", "")))
        if kind == "unsendable":
            raise TypeError(
                f"{name} returned something that is not data the grader can read "
                f"({out.get('message', '')}): return arrays, numbers, strings, lists or dicts"
            )
        if kind != "value":
            raise TypeError(f"{name} gave no readable result")
        new_args = out.get("args")
        if isinstance(new_args, list):
            for original, new in zip(args, new_args, strict=False):
                _copy_back(original, new)
        return out.get("value")


def _error(grade_id: str, max_points: float, message: str) -> Result:
    return Result(grade_id, 0.0, max_points, False, [message], ERROR)


def _adapter_names(item: Any, n: int) -> list[tuple[str, str] | None]:
    found: list[tuple[str, str] | None] = []
    for adapter in item.adapters()[:n] if n else []:
        found.append(None if adapter is None else (adapter.__module__, adapter.__qualname__))
    return found + [None] * (n - len(found))


def _alarm(seconds: float) -> Any:
    """Raise NotebookTimeout in this (main) thread after `seconds`; returns the old handler."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        return None

    def ring(signum: int, frame: Any) -> None:
        raise NotebookTimeout()

    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    return old


def _disarm(old: Any) -> None:
    if old is not None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def evaluate(
    session: Session,
    grade_id: str,
    names: list[str],
    deadline: float | None = None,
    points: float = 0.0,
) -> Result:
    """The item's Result, computed here from the data the student's functions return.

    The whole check (the student's calls and the grader's own work on what they returned)
    must end before `deadline` (monotonic seconds): past it, NotebookTimeout is raised."""
    item = load_items().get(grade_id)
    if item is None:
        return _error(grade_id, points, f"the grader has no checker for {grade_id}")
    if deadline is not None:
        session.deadline = deadline
    remotes = [
        Remote(session, n, a) for n, a in zip(names, _adapter_names(item, len(names)), strict=True)
    ]
    old = _alarm(session.deadline - time.monotonic()) if deadline is not None else None
    try:
        return item.run(*remotes, source=session.source)
    except CannotForward as exc:
        return _error(
            grade_id, item.points, f"the grader could not send the check's inputs ({exc})"
        )
    except KernelDied as exc:
        return _error(grade_id, item.points, str(exc))
    finally:
        _disarm(old)
