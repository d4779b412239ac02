"""The tests of the graded items: one answers module per exercise notebook, one contract.

- `answers_exNN.py` (one per exercise notebook) holds the notebook's `NOTEBOOK` name, its
  items and points (`POINTS`), the reference answers (`RIGHT`, written as a learner would),
  the catalogue of known wrong answers with the diagnosis each must produce (`CATALOGUE`),
  the items that are recall or plumbing (`RECALL`, at most 15% of the points) and any
  item-specific bad values (`BAD`).
- `test_contract.py` runs every answers module through the same contract: the right answer
  gets full marks, the stub is "not attempted", bad values get feedback and never a
  traceback, a shortcut through a forbidden library function scores 0, and every catalogue
  mistake triggers its own diagnosis and no other mistake of the item triggers it.
- `test_exNN_*.py`: what is particular to one notebook's items.

A new exercise adds its `answers_exNN.py` here with the same names; the contract picks it up.
"""

from __future__ import annotations

import pytest

from bpcourse.checking import load_items, reset

load_items()


@pytest.fixture(autouse=True)
def fresh_session(monkeypatch):
    """No strict or autograde mode unless a test asks for it, and no earlier results."""
    monkeypatch.delenv("BPCOURSE_STRICT", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    reset()
    yield
    reset()
