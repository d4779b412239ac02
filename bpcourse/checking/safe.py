"""Call a learner's code without letting anything escape as a traceback.

`call_safely(fn, *args)` returns what `fn(*args)` returns, or stops the check with one of
the exceptions below, which the item's runner turns into a `Result`:

- `NotAttempted`: the code still raises NotImplementedError (the exercise's stub);
- `LearnerError`: it raised another exception, summarised as type, message and the
  learner's own line that raised it;
- `BadAnswer`: it returned something unusable (raised by `expect_tuple` and by checkers).
"""

from __future__ import annotations

import linecache
import sysconfig
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from bpcourse.checking.compare import describe

_LIBRARY = [Path(__file__).resolve().parents[1]] + [
    Path(p).resolve() for k, p in sysconfig.get_paths().items() if k in ("stdlib", "purelib")
]


class StopCheck(Exception):
    """Stops a check early; `status` and `messages` become the Result's."""

    status = "failed"

    def __init__(self, *messages: str) -> None:
        super().__init__(*messages)
        self.messages = list(messages)


class NotAttempted(StopCheck):
    status = "not attempted"


class LearnerError(StopCheck):
    status = "error"


class BadAnswer(StopCheck):
    status = "failed"


def _name(fn: Any) -> str:
    return str(getattr(fn, "__name__", "the answer"))


def _in_library(filename: str) -> bool:
    path = Path(filename).resolve()
    return any(path.is_relative_to(lib) for lib in _LIBRARY)


def learner_line(tb: TracebackType | None) -> str:
    """'line 3: `dW = X.T @ dZ`' for the innermost frame of the learner's own code."""
    frames = traceback.extract_tb(tb)[1:]  # the first frame is call_safely itself
    mine = [f for f in frames if not _in_library(f.filename)]
    if not mine:
        return ""
    frame = mine[-1]
    code = (frame.line or linecache.getline(frame.filename, frame.lineno or 0)).strip()
    where = f"line {frame.lineno} of {frame.name}" if frame.name != "<module>" else "line"
    return f"{where}: `{code}`" if code else where


def _argument_shapes(fn: Callable[..., Any], args: tuple[Any, ...]) -> str:
    """'dZ (5, 3), X (5, 4)' for the array arguments, named as in fn's signature."""
    import inspect

    try:
        bound = inspect.signature(fn).bind(*args).arguments.items()
    except (TypeError, ValueError):  # no signature, or the wrong number of arguments
        bound = {f"argument {i + 1}": a for i, a in enumerate(args)}.items()
    named: list[tuple[str, Any]] = []
    for name, value in bound:
        if isinstance(value, tuple):  # *args
            named += [(f"{name}[{i}]", v) for i, v in enumerate(value)]
        else:
            named.append((name, value))
    return ", ".join(f"{n} {v.shape}" for n, v in named if isinstance(v, np.ndarray))


def summarise_exception(fn: Callable[..., Any], args: tuple[Any, ...], exc: Exception) -> str:
    """One sentence for the learner: what was raised, where, and with which inputs."""
    message = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    text = f"{_name(fn)} raised {type(exc).__name__}" + (f": {message}" if message else "")
    line = learner_line(exc.__traceback__)
    if line:
        text += f" (at {line})"
    shapes = _argument_shapes(fn, args)
    if shapes:
        text += f"; the check called it with shapes {shapes}"
    return text


def call_safely(fn: object, *args: Any, name: str | None = None) -> Any:
    """`fn(*args)`, with array arguments copied (so the learner cannot change the checker's
    inputs) and NumPy warnings silenced (the feedback reports NaN and inf itself)."""
    label = name or _name(fn)
    if not callable(fn):
        example = f" (`{label}`, not `{label}(...)`)" if label.isidentifier() else ""
        raise BadAnswer(
            f"{label} should be a function, got {describe(fn)}: pass the function itself, "
            f"not the result of calling it{example}"
        )
    args = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fn(*args)
    except NotImplementedError:
        raise NotAttempted(
            f"{label} still raises NotImplementedError: replace `raise NotImplementedError()` "
            "with your code"
        ) from None
    except Exception as exc:
        raise LearnerError(summarise_exception(fn, args, exc)) from None


def expect_tuple(value: Any, count: int, names: str, function: str) -> tuple[Any, ...]:
    """`value` as a tuple of `count` items, or BadAnswer saying what came back instead.

    `names` reads like "(dX, dW, db)"; `function` is the learner's function's name.
    """
    should = f"{function} should return {count} values {names}"
    if value is None:
        raise BadAnswer(f"{function} returned None: did you forget `return {names[1:-1]}`?")
    if not isinstance(value, (tuple, list)):
        raise BadAnswer(f"{should}, got {describe(value)}")
    if len(value) != count:
        raise BadAnswer(f"{should}, got {len(value)}")
    return tuple(value)
