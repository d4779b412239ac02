"""Grading outside the student's kernel: the checker runs here, the student's code there.

For each item the grader runs the item's own checker in its own process with a stand-in for
each of the student's functions. A call of the stand-in is forwarded to the kernel: the
arguments are pickled to a file with a random name chosen now, a short snippet in the kernel
loads them, calls the student's function by name and pickles what it returned (or the
exception it raised, as plain text) to another random file, which the stand-in reads back
with a restricted unpickler (NumPy arrays and scalars, builtins, bpcourse classes only).
`call_safely`, the comparisons and the points are all computed here, so patching `check`,
NumPy or the printed output from inside the notebook changes nothing.

Arguments changed in place by the student's function (a network trained by `train_step`, a
random generator) are copied back into the grader's objects after the call.

Items in `KERNEL_CHECKED` pass the student's function objects that cannot cross a process
boundary (functions of the checker, autodiff graphs whose identity matters); they are
checked by the original `check` in the student's kernel and marked so in the feedback.
"""

from __future__ import annotations

import io
import json
import pickle
import secrets
from pathlib import Path
from typing import Any

import numpy as np

from bpcourse.checking.registry import load_items
from bpcourse.checking.result import ERROR, STATUSES, Result
from bpcourse.grading.run import Kernel

KERNEL_CHECKED = frozenset(
    {
        # ex01: the checker passes its own functions f and grad as arguments
        "central_difference",
        "gradient_descent_path",
        # ex02: autodiff Value graphs, whose node identity the checker relies on
        "value_sin_backward",
        "value_div_backward",
        "value_topological_sort",
        "value_backward_pass",
        "value_training_step",
        "reverse_mode_passes",
    }
)
RESULT_LIMIT = 200 * 2**20  # bytes of a result file the grader will read

_NUMPY = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.random._pickle", "__generator_ctor"),
    ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._pickle", "__randomstate_ctor"),
    ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
    ("numpy.random.bit_generator", "SeedSequence"),
}
_BUILTINS = {"complex", "set", "frozenset", "slice", "range", "bytearray", "list", "dict", "tuple"}


class KernelDied(Exception):
    """The kernel died while running the student's function."""


class Timeout(Exception):
    """The student's function ran longer than the per-cell timeout."""


class CannotForward(BaseException):  # not an Exception: call_safely must not catch it
    """The arguments or the result cannot cross the process boundary."""


class SafeUnpickler(pickle.Unpickler):
    """Only NumPy data, plain builtins and bpcourse classes: no code runs on loading."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _NUMPY or (module == "builtins" and name in _BUILTINS):
            return super().find_class(module, name)
        if module.startswith("numpy.random.") and name[:1].isupper():
            return super().find_class(module, name)  # bit generators: PCG64, MT19937, ...
        if module.startswith("numpy.dtypes") and name.endswith("DType"):
            return super().find_class(module, name)
        if module.startswith("bpcourse.") and not module.startswith("bpcourse.grading"):
            found = super().find_class(module, name)
            if isinstance(found, type) or module == "bpcourse.activations":
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a result")


def safe_loads(data: bytes) -> Any:
    return SafeUnpickler(io.BytesIO(data)).load()


CALL = """
def _bpgrade_call(_name, _args_path, _out_path):
    import inspect, pickle, sys, traceback, types
    with open(_args_path, "rb") as f:
        args = pickle.load(f)
    fn = globals().get(_name)
    try:
        if fn is None:
            raise NameError(f"your notebook defines no function named {_name}")
        value = fn(*args)
        if isinstance(value, types.GeneratorType):
            value = list(value)
        out = ("value", value, args)
    except NotImplementedError:
        out = ("not attempted",)
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
        out = ("raised", type(exc).__name__, first + where)
    try:
        data = pickle.dumps(out, protocol=4)
    except Exception as exc:
        data = pickle.dumps(("unpicklable", f"{type(exc).__name__}: {exc}"[:300]), protocol=4)
    with open(_out_path, "wb") as f:
        f.write(data)
"""

IN_KERNEL = """
def _bpgrade_check(_grade_id, _names, _out_path):
    import json
    from bpcourse.checking.registry import load_items
    fns = [globals().get(n) for n in _names]
    r = load_items()[_grade_id].run(*fns)
    with open(_out_path, "w") as f:
        json.dump(r.to_dict(), f)
"""


def _copy_back(original: Any, new: Any) -> None:
    """Make `original` (the grader's argument) what the kernel's copy became."""
    try:
        if isinstance(original, np.ndarray) and isinstance(new, np.ndarray):
            if original.shape == new.shape:
                original[...] = new
        elif isinstance(original, np.random.Generator) and isinstance(new, np.random.Generator):
            original.bit_generator.state = new.bit_generator.state
        elif isinstance(original, list) and isinstance(new, list):
            original[:] = new
        elif isinstance(original, dict) and isinstance(new, dict):
            original.clear()
            original.update(new)
        elif type(original) is type(new) and hasattr(original, "__dict__"):
            original.__dict__.clear()
            original.__dict__.update(new.__dict__)
    except (TypeError, ValueError):
        pass


class Remote:
    """Forwards calls of the student's function `name` to the kernel."""

    def __init__(self, session: Session, name: str) -> None:
        self.session = session
        self.__name__ = name
        self.__qualname__ = name

    def __call__(self, *args: Any) -> Any:
        return self.session.call(self.__name__, args)


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

    def _note(self, problem: str) -> None:
        if problem not in self.cell_problems:
            self.cell_problems.append(problem)

    def prepare(self, deadline: float | None = None) -> None:
        """Start the kernel and run the definitions; a cell that kills it is skipped."""
        if deadline is not None:
            self.deadline = deadline
        self.kernel.start()
        for i, source in enumerate(self.setup):
            if i in self.skip:
                continue
            run = self.kernel.run(source)
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
        self.kernel.run(CALL + IN_KERNEL)

    def _revive(self) -> None:
        if not self.kernel.alive():
            if self.deaths > 3:
                raise KernelDied("the kernel died too often; no more items are graded")
            self.prepare()

    def call(self, name: str, args: tuple[Any, ...]) -> Any:
        self._revive()
        token = secrets.token_hex(16)
        args_path = self.kernel.workdir / f".{token}.in"
        out_path = self.kernel.workdir / f".{token}.out"
        try:
            args_path.write_bytes(pickle.dumps(args, protocol=4))
        except Exception as exc:
            raise CannotForward(str(exc)) from None
        run = self.kernel.run(f"_bpgrade_call({name!r}, {str(args_path)!r}, {str(out_path)!r})")
        args_path.unlink(missing_ok=True)
        if run.timed_out:
            self.timeouts += 1
            raise Timeout(f"stopped after {self.kernel.limits.timeout:g} s")
        if run.died:
            self.deaths += 1
            raise KernelDied(f"the kernel died while running {name} ({run.message})")
        if not out_path.exists():
            raise RuntimeError(f"{name} gave no result ({run.error}: {run.message})".rstrip())
        if out_path.stat().st_size > RESULT_LIMIT:
            out_path.unlink()
            raise RuntimeError(f"{name} returned more than {RESULT_LIMIT // 2**20} MiB")
        data = out_path.read_bytes()
        out_path.unlink(missing_ok=True)
        try:
            out = safe_loads(data)
            kind = out[0]
        except Exception as exc:
            raise TypeError(
                f"{name} returned something the grader cannot read back ({exc})"
            ) from None
        if kind == "not attempted":
            raise NotImplementedError()
        if kind == "raised":
            name_ = out[1] if str(out[1]).isidentifier() else "Exception"
            raise type(name_, (Exception,), {})(out[2])
        if kind == "unpicklable":
            raise TypeError(f"{name} returned something the grader cannot read back ({out[1]})")
        _, value, new_args = out
        for original, new in zip(args, new_args, strict=False):
            _copy_back(original, new)
        return value

    def check_in_kernel(self, grade_id: str, names: list[str]) -> Result:
        """The item's original check, run in the student's kernel (see KERNEL_CHECKED)."""
        item = load_items()[grade_id]
        self._revive()
        out_path = self.kernel.workdir / f".{secrets.token_hex(16)}.json"
        run = self.kernel.run(f"_bpgrade_check({grade_id!r}, {names!r}, {str(out_path)!r})")
        if run.timed_out:
            self.timeouts += 1
            return _error(grade_id, item.points, "the check ran longer than the time limit")
        if run.died:
            self.deaths += 1
            return _error(grade_id, item.points, f"the kernel died while checking ({run.message})")
        try:
            raw = json.loads(Path(out_path).read_text()[:1_000_000])
            out_path.unlink()
            status = str(raw["status"])
            points = min(max(float(raw["points"]), 0.0), item.points)
            if status not in STATUSES:
                raise ValueError(status)
            points = item.points if status == "passed" else min(points, item.points)
            messages = [str(m)[:2000] for m in raw["messages"]][:20]
        except Exception as exc:
            return _error(grade_id, item.points, f"no readable result from the check ({exc})")
        return Result(grade_id, points, item.points, status == "passed", messages, status)


def _error(grade_id: str, max_points: float, message: str) -> Result:
    return Result(grade_id, 0.0, max_points, False, [message], ERROR)


def evaluate(
    session: Session, grade_id: str, names: list[str], deadline: float | None = None
) -> Result:
    """The item's Result."""
    item = load_items()[grade_id]
    if grade_id in KERNEL_CHECKED:
        return session.check_in_kernel(grade_id, names)
    try:
        return item.run(*(Remote(session, n) for n in names))
    except CannotForward:
        return session.check_in_kernel(grade_id, names)
    except KernelDied as exc:
        return _error(grade_id, item.points, str(exc))
