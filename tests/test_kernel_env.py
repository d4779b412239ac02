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


def test_a_test_kernel_loads_matplotlib_only_when_a_cell_does():
    """Inline is chosen lazily: a kernel that never plots (most exercises) skips matplotlib's
    import, half a second of CPU for each of them."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import sys\nprint('matplotlib' in sys.modules)")]
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    assert nb.cells[0].outputs[0]["text"].strip() == "False"


def test_notebooks_run_stores_figures_even_with_mplbackend_agg(tmp_path, monkeypatch):
    """`bpcourse notebooks run` on a headless server (MPLBACKEND=Agg, no IPython profile of
    ours): the kernel still draws inline, so the stored figure cell keeps its image, and it
    prints no warning about the TCP transport."""
    from bpcourse.notebooks import execute

    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))  # not the tests' inline profile
    path = tmp_path / "figure.ipynb"
    nb = nbformat.v4.new_notebook()
    code = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"
    nb.cells = [nbformat.v4.new_code_cell(code)]
    nbformat.write(nb, path)
    execute(path, timeout=60)
    outputs = nbformat.read(path, 4).cells[0].outputs
    assert [o.output_type for o in outputs] == ["display_data"]
    assert "image/png" in outputs[0].data
