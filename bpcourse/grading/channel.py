"""The data-only channel between the grader and a student's kernel: JSON and .npy files.

A value crosses as a folder: `value.json` (numbers, strings, booleans, None, lists and dicts
in JSON; a few tagged objects for what JSON lacks) and one `.npy` file per NumPy array,
written with `np.save(..., allow_pickle=False)` and read with `np.load(...,
allow_pickle=False)`. Reading such a folder runs no code: there is no pickle anywhere.

Tags (a dict with one key): `{"__nd__": k}` the array in `k.npy`; `{"__tuple__": [...]}`;
`{"__map__": [[key, value], ...]}` a dict whose keys are not all strings; `{"__np__": [dtype,
value]}` a NumPy scalar; `{"__complex__": [re, im]}`; `{"__float__": "nan"}` and the
infinities; `{"__rng__": [name, state]}` a `numpy.random.Generator`: the name of its bit
generator (one of `BIT_GENERATORS`, nothing else) and its `bit_generator.state`, whose
integers are written as decimal strings (`{"__int__": "…"}`, exact: PCG64's are 128-bit)
and whose arrays as `.npy` files; reading it builds a new Generator in that state, with
integers below 2**128 and arrays of at most `STATE_ARRAY` unsigned integers;
`{"__fn__": {...}}` a function of the checker (grader → kernel only: its code object,
marshalled, and its closure and globals as data or as importable names; the grader never
loads a function from the kernel).

What the grader reads from a kernel is bounded: `read_value` refuses a folder whose files
are not regular files (links, FIFOs), whose JSON is over `JSON_LIMIT` bytes or has more
than `NODE_LIMIT` values or is nested deeper than `DEPTH_LIMIT`, with more than
`ARRAY_COUNT` arrays, or whose arrays hold more than `ARRAY_BYTES` bytes in all or are not
of a plain numeric/boolean/string dtype.

This module is imported on both sides: in the kernel it needs only NumPy and the standard
library.
"""

from __future__ import annotations

import base64
import builtins
import importlib
import json
import marshal
import math
import os
import stat
import types
from pathlib import Path
from typing import Any

import numpy as np

JSON_LIMIT = 16 * 2**20  # bytes of value.json
NODE_LIMIT = 200_000  # values in the JSON tree
DEPTH_LIMIT = 64
ARRAY_COUNT = 2_000
ARRAY_BYTES = 256 * 2**20  # all arrays of one value
PLAIN_KINDS = "biufcUSM m"  # bool, ints, floats, complex, str, bytes, datetimes
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")
STATE_INT = 2**128  # the integers of a bit generator's state are below this
STATE_ARRAY = 1024  # and its arrays have at most this many elements (MT19937: 624)
STATE_KEYS = 16


class ChannelError(Exception):
    """A value that cannot be sent, or a folder that the grader will not read."""


# --- encoding (both sides) ------------------------------------------------------------------


class _Writer:
    def __init__(self, folder: Path, functions: bool) -> None:
        self.folder = folder
        self.arrays = 0
        self.nodes = 0
        self.functions = functions

    def array(self, value: np.ndarray) -> dict[str, Any]:
        if value.dtype.kind not in PLAIN_KINDS or value.dtype.hasobject:
            raise ChannelError(f"an array of dtype {value.dtype} cannot be sent as data")
        k = self.arrays
        self.arrays += 1
        np.save(self.folder / f"{k}.npy", np.ascontiguousarray(value), allow_pickle=False)
        return {"__nd__": k}

    def encode(self, value: Any, depth: int = 0) -> Any:
        # The reader's limits, applied while writing too: a kernel that returns a list of 15
        # million items is told at once, not after seconds of encoding a file nobody reads.
        self.nodes += 1
        if self.nodes > NODE_LIMIT:
            raise ChannelError(f"the value has more than {NODE_LIMIT} parts")
        if depth > DEPTH_LIMIT:
            raise ChannelError("the value is nested too deeply")
        if isinstance(value, np.generic):
            if value.dtype.kind not in PLAIN_KINDS:
                raise ChannelError(f"a NumPy scalar of dtype {value.dtype} cannot be sent")
            return {"__np__": [value.dtype.str, self.encode(value.item(), depth + 1)]}
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return value if abs(value) < 2**63 else {"__float__": repr(float(value))}
        if isinstance(value, float):
            return value if math.isfinite(value) else {"__float__": repr(value)}
        if isinstance(value, complex):
            return {"__complex__": [self.encode(value.real), self.encode(value.imag)]}
        if isinstance(value, np.ndarray):
            return self.array(value)
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(v, depth + 1) for v in value]}
        if isinstance(value, list):
            return [self.encode(v, depth + 1) for v in value]
        if isinstance(value, dict):
            if all(isinstance(k, str) and not k.startswith("__") for k in value):
                return {k: self.encode(v, depth + 1) for k, v in value.items()}
            return {
                "__map__": [
                    [self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()
                ]
            }
        if isinstance(value, np.random.Generator):
            return {"__rng__": self.generator(value)}
        if self.functions and isinstance(value, types.FunctionType):
            return {"__fn__": self.function(value, depth)}
        raise ChannelError(f"a {type(value).__name__} cannot be sent as data")

    def generator(self, rng: np.random.Generator) -> list[Any]:
        """[name, state] of a Generator whose bit generator is one of BIT_GENERATORS."""
        kind = type(rng.bit_generator)
        name = kind.__name__
        if name not in BIT_GENERATORS or getattr(np.random, name) is not kind:
            raise ChannelError(
                f"a Generator with the bit generator {name} cannot be sent as data "
                f"(only {', '.join(BIT_GENERATORS)})"
            )
        return [name, self.state(rng.bit_generator.state, 0)]

    def state(self, value: Any, depth: int) -> Any:
        if depth > 3:
            raise ChannelError("a bit generator's state is nested too deeply")
        if isinstance(value, str):
            return value
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            return {"__int__": str(int(value))}
        if isinstance(value, np.ndarray):
            return self.array(value)
        if isinstance(value, dict) and all(
            isinstance(k, str) and not k.startswith("__") for k in value
        ):
            return {k: self.state(v, depth + 1) for k, v in value.items()}
        raise ChannelError(f"a bit generator's state holds a {type(value).__name__}")

    def function(self, fn: types.FunctionType, depth: int) -> dict[str, Any]:
        names: set[str] = set()

        def collect(code: types.CodeType) -> None:
            names.update(code.co_names)
            for const in code.co_consts:
                if isinstance(const, types.CodeType):
                    collect(const)

        collect(fn.__code__)
        refs: dict[str, Any] = {}
        for name in sorted(names):
            if name not in fn.__globals__:
                continue
            refs[name] = self.reference(fn.__globals__[name], depth)
        closure = [self.reference(c.cell_contents, depth) for c in fn.__closure__ or ()]
        return {
            "name": fn.__name__,
            "code": base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii"),
            "globals": refs,
            "closure": closure,
            "defaults": [self.reference(d, depth) for d in fn.__defaults__ or ()],
        }

    def reference(self, value: Any, depth: int) -> Any:
        if isinstance(value, types.ModuleType):
            return ["module", value.__name__]
        module = getattr(value, "__module__", None)
        qualname = getattr(value, "__qualname__", None)
        if callable(value) and not isinstance(value, types.FunctionType) and module and qualname:
            return ["attr", module, qualname]
        if isinstance(value, types.FunctionType):
            return ["data", self.encode(value, depth + 1)]
        try:
            return ["data", self.encode(value, depth + 1)]
        except ChannelError:
            if module and qualname:
                return ["attr", module, qualname]
            raise


def write_value(folder: Path, value: Any, functions: bool = False) -> None:
    """Write `value` into the (new) folder as value.json and .npy files."""
    folder.mkdir(parents=True, exist_ok=True)
    tree = _Writer(folder, functions).encode(value)
    (folder / "value.json").write_text(json.dumps(tree), encoding="utf-8")


# --- decoding --------------------------------------------------------------------------------


def _open_folder(folder: Path, base: Path | None) -> int:
    """A descriptor of `folder`; below `base`, no component may be a symbolic link."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    try:
        if base is None:
            return os.open(folder, flags)
        fd = os.open(base, flags)
        for part in folder.relative_to(base).parts:
            try:
                inner = os.open(part, flags | nofollow, dir_fd=fd)
            finally:
                os.close(fd)
            fd = inner
        return fd
    except (OSError, ValueError) as exc:
        raise ChannelError(f"cannot open the result folder ({exc})") from None


def _read_file(name: str, limit: int, dir_fd: int) -> bytes:
    """The bytes of a regular file (never a link or a FIFO), at most `limit` of them."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        raise ChannelError(f"cannot open {name} ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ChannelError(f"{name} is not a regular file")
        if info.st_size > limit:
            raise ChannelError(f"{name} is {info.st_size} bytes, over the limit {limit}")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ChannelError(f"{name} is over the limit of {limit} bytes")
    return data


class _Reader:
    def __init__(self, dir_fd: int, functions: bool) -> None:
        self.dir_fd = dir_fd
        self.functions = functions
        self.nodes = 0
        self.bytes = 0
        self.arrays: dict[int, np.ndarray] = {}

    def array(self, k: Any) -> np.ndarray:
        if not isinstance(k, int) or isinstance(k, bool) or not 0 <= k < ARRAY_COUNT:
            raise ChannelError("a bad array reference")
        if k in self.arrays:
            return self.arrays[k].copy()
        import io

        data = _read_file(f"{k}.npy", ARRAY_BYTES - self.bytes + 4096, self.dir_fd)
        self.bytes += len(data)
        if self.bytes > ARRAY_BYTES:
            raise ChannelError(f"the arrays are over {ARRAY_BYTES // 2**20} MiB in all")
        try:
            value = np.load(io.BytesIO(data), allow_pickle=False)
        except Exception as exc:
            raise ChannelError(f"array {k} is not a .npy file ({exc})") from None
        if not isinstance(value, np.ndarray) or value.dtype.kind not in PLAIN_KINDS:
            raise ChannelError(f"array {k} has a dtype that is not plain data")
        self.arrays[k] = value
        return value

    def decode(self, node: Any, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > NODE_LIMIT:
            raise ChannelError(f"the value has more than {NODE_LIMIT} parts")
        if depth > DEPTH_LIMIT:
            raise ChannelError("the value is nested too deeply")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v, depth + 1) for v in node]
        if not isinstance(node, dict):
            raise ChannelError("not a value")
        if len(node) == 1:
            ((tag, body),) = node.items()
            if tag == "__nd__":
                return self.array(body)
            if tag == "__tuple__" and isinstance(body, list):
                return tuple(self.decode(v, depth + 1) for v in body)
            if tag == "__map__" and isinstance(body, list):
                out = {}
                for pair in body:
                    if not isinstance(pair, list) or len(pair) != 2:
                        raise ChannelError("a bad mapping")
                    key = self.decode(pair[0], depth + 1)
                    if isinstance(key, list):
                        key = tuple(key)
                    try:
                        out[key] = self.decode(pair[1], depth + 1)
                    except TypeError:
                        raise ChannelError("an unhashable key") from None
                return out
            if tag == "__np__" and isinstance(body, list) and len(body) == 2:
                dtype = np.dtype(str(body[0]))
                if dtype.kind not in PLAIN_KINDS or dtype.hasobject:
                    raise ChannelError("a NumPy scalar that is not plain data")
                return np.array(self.decode(body[1], depth + 1), dtype=dtype)[()]
            if tag == "__complex__" and isinstance(body, list) and len(body) == 2:
                re_, im = (self.decode(v, depth + 1) for v in body)
                return complex(float(re_), float(im))
            if tag == "__float__" and body in ("nan", "inf", "-inf"):
                return float(body)
            if tag == "__float__" and isinstance(body, str) and len(body) < 40:
                return float(body)
            if tag == "__rng__" and isinstance(body, list) and len(body) == 2:
                return self.generator(body[0], body[1])
            if tag == "__fn__" and self.functions and isinstance(body, dict):
                return self.function(body)
            if tag.startswith("__") and tag.endswith("__"):
                raise ChannelError(f"a tag {tag[:20]!r} that is not allowed here")
        return {str(k): self.decode(v, depth + 1) for k, v in node.items()}

    def generator(self, name: Any, tree: Any) -> np.random.Generator:
        """A new Generator: bit generator `name` (one of BIT_GENERATORS) in state `tree`."""
        if name not in BIT_GENERATORS:
            raise ChannelError(
                f"a Generator with the bit generator {str(name)[:40]!r} is refused "
                f"(only {', '.join(BIT_GENERATORS)})"
            )
        state = self.state(tree, 0)
        if not isinstance(state, dict) or state.get("bit_generator") != name:
            raise ChannelError(f"a {name} state that does not name {name}")
        bit_generator = getattr(np.random, name)()
        try:
            bit_generator.state = state
        except Exception as exc:
            raise ChannelError(f"a malformed {name} state ({type(exc).__name__})") from None
        return np.random.Generator(bit_generator)

    def state(self, node: Any, depth: int) -> Any:
        """A bit generator's state: dicts of strings, bounded integers and small arrays."""
        self.nodes += 1
        if self.nodes > NODE_LIMIT or depth > 3:
            raise ChannelError("a bit generator's state that is too big")
        if isinstance(node, str) and len(node) <= 64:
            return node
        if not isinstance(node, dict) or len(node) > STATE_KEYS:
            raise ChannelError("a malformed bit generator's state")
        if len(node) == 1 and "__int__" in node:
            digits = node["__int__"]
            if not isinstance(digits, str) or not digits.isascii() or not digits.isdigit():
                raise ChannelError("a malformed integer in a bit generator's state")
            if len(digits) > len(str(STATE_INT)) or int(digits) >= STATE_INT:
                raise ChannelError("an integer of a bit generator's state that is too big")
            return int(digits)
        if len(node) == 1 and "__nd__" in node:
            array = self.array(node["__nd__"])
            if array.dtype.kind != "u" or array.size > STATE_ARRAY:
                raise ChannelError("an array of a bit generator's state that is not small")
            return array
        if not all(isinstance(k, str) and not k.startswith("__") for k in node):
            raise ChannelError("a malformed bit generator's state")
        return {k: self.state(v, depth + 1) for k, v in node.items()}

    def reference(self, ref: list[Any]) -> Any:
        kind = ref[0]
        if kind == "module":
            return importlib.import_module(ref[1])
        if kind == "attr":
            found: Any = importlib.import_module(ref[1])
            for part in ref[2].split("."):
                found = getattr(found, part)
            return found
        return self.decode(ref[1])

    def function(self, spec: dict[str, Any]) -> types.FunctionType:
        code = marshal.loads(base64.b64decode(spec["code"]))
        scope: dict[str, Any] = {"__builtins__": builtins}
        for name, ref in spec["globals"].items():
            scope[name] = self.reference(ref)
        closure = tuple(types.CellType(self.reference(r)) for r in spec["closure"])
        defaults = tuple(self.reference(r) for r in spec["defaults"]) or None
        return types.FunctionType(code, scope, spec["name"], defaults, closure or None)


def read_value(folder: Path, functions: bool = False, base: Path | None = None) -> Any:
    """The value written into `folder` by `write_value`, read as data only, with limits.

    With `base` (the kernel's scratch folder), no folder between it and `folder` may be a
    symbolic link, so a kernel cannot point the grader at files outside its scratch space.
    `functions=True` only in the kernel, for the checker's functions sent to it."""
    fd = _open_folder(folder, base)
    try:
        data = _read_file("value.json", JSON_LIMIT, fd)
        try:
            tree = json.loads(data.decode("utf-8", errors="backslashreplace"))
        except (ValueError, RecursionError) as exc:
            raise ChannelError(f"the result is not JSON ({exc})") from None
        return _Reader(fd, functions).decode(tree)
    finally:
        os.close(fd)
