"""The kernels the tests start draw inline and start quietly, whatever MPLBACKEND says."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient


def test_a_test_kernel_uses_the_inline_backend_even_with_mplbackend_agg(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import matplotlib\nprint(matplotlib.get_backend())"),
        nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([0, 1])\nplt.show()"),
    ]
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    backend = nb.cells[0].outputs[0]["text"].strip()
    assert "inline" in backend, backend
    assert any("image/png" in out.get("data", {}) for out in nb.cells[1].outputs)
