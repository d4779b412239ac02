"""The instructor kit's site (make site): every notebook has a page, and it works offline.

Built once into a temporary folder; the slides are built by tests/test_instructor_kit.py,
on another xdist worker. Needs npm like the slides (skipped without it, except in CI).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from instructor_kit_checks import (
    NEEDS_NPM,
    build_once,
    kit,
    missing_local,
    network_loads,
    page_loads,
)

pytestmark = NEEDS_NPM


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_once(tmp_path_factory, "site")


# --- site -------------------------------------------------------------------------------------


def test_every_notebook_has_a_page(site):
    for folder in kit.FOLDERS:
        for notebook in kit.notebooks(folder):
            assert (site / folder / f"{notebook.stem}.html").exists(), f"{folder}/{notebook.name}"
    home = (site / "index.html").read_text(encoding="utf-8")
    for lesson in kit.notebooks("lessons"):
        assert f"lessons/{lesson.stem}.html" in home, lesson.name
    assert "Course map" in home
    assert (site / "searchindex.js").exists(), "the site has no search index"


def test_no_site_page_loads_anything_from_the_network(site):
    assert network_loads(site) == {}


def test_site_uses_local_mathjax_and_labels_the_solutions(site):
    page = site / "lessons" / f"{kit.notebooks('lessons')[0].stem}.html"
    loads = page_loads(page.read_text(encoding="utf-8"))
    mathjax = [u.split("?")[0] for u in loads if "mathjax" in u]
    assert mathjax == ["../_static/../mathjax/tex-chtml-full.js"], mathjax
    assert missing_local(page) == []
    for solution in kit.notebooks("solutions"):
        html = (site / "solutions" / f"{solution.stem}.html").read_text(encoding="utf-8")
        assert "Worked solution" in html and "(solution)" in html, solution.name
    assert kit.SOLUTIONS_CAPTION in (site / "index.html").read_text(encoding="utf-8")


def test_site_shows_every_saved_picture_including_widget_fallbacks(site):
    for lesson in kit.notebooks("lessons"):
        nb = json.loads(lesson.read_text(encoding="utf-8"))
        pictures = sum(
            "image/png" in output.get("data", {})
            for cell in nb["cells"]
            for output in cell.get("outputs", [])
        )
        html = (site / "lessons" / f"{lesson.stem}.html").read_text(encoding="utf-8")
        assert "application/vnd.jupyter.widget-view+json" not in html, lesson.name
        assert html.count("<img") >= pictures, lesson.name
