"""The order in which xdist hands out the test files (tests/conftest.py): slowest first."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from by_path import load_module

ROOT = Path(__file__).resolve().parents[1]


# tests/conftest.py itself ("conftest" in sys.modules may be another folder's)
conftest = load_module("suite_conftest", ROOT / "tests" / "conftest.py")


def test_every_slow_file_listed_exists():
    missing = [name for name in conftest.SLOW_FILES_FIRST if not (ROOT / name).is_file()]
    assert not missing, f"renamed or removed, so no longer run first: {missing}"


def test_xdist_keeps_the_collection_order():
    """pytest-xdist 3.8 would send the files with the most tests first (loadscopereorder)."""
    config = SimpleNamespace(option=SimpleNamespace(loadscopereorder=True))
    conftest.pytest_configure(config)
    assert config.option.loadscopereorder is False
    conftest.pytest_configure(SimpleNamespace(option=SimpleNamespace()))  # xdist absent: fine


def test_the_slow_files_come_first_in_their_order():
    def item(name):
        return SimpleNamespace(path=ROOT / name, name=name)

    quick = ["tests/test_layers.py", "lessons/01_derivatives_and_the_chain_rule.ipynb"]
    slow = list(conftest.SLOW_FILES_FIRST[:3])
    items = [item(n) for n in [quick[0], slow[2], quick[1], slow[0], slow[1]]]
    conftest.pytest_collection_modifyitems(SimpleNamespace(rootpath=ROOT), items)
    assert [i.name for i in items] == [*slow, *quick]
