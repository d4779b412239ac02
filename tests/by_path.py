"""Import a Python file that is not part of an importable package, by its path.

The tests use it for `tests/conftest.py` itself ("conftest" in sys.modules may be another
folder's), `instructor/build.py` and the benchmarks' modules.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType


def load_module(name: str, path: Path) -> ModuleType:
    """The module in `path`, imported as `name`."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None, f"cannot import {path}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
