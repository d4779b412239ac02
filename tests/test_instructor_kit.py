"""The instructor kit builds, covers every notebook, and works offline (make slides, make site).

Both builds run once per session into a temporary folder (about 15 s together). They need
npm, which installs the pinned reveal.js and MathJax (instructor/package-lock.json); without
npm the tests are skipped, except in CI, where they fail.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("instructor_build", ROOT / "instructor" / "build.py")
kit = importlib.util.module_from_spec(spec)
spec.loader.exec_module(kit)

pytestmark = pytest.mark.skipif(
    shutil.which("npm") is None and not os.environ.get("CI"),
    reason="npm is not installed (the kit's pinned browser assets come from npm)",
)

NETWORK = re.compile(r"^\s*(https?:)?//", re.I)
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""", re.I)
LOADING = {  # tag -> attributes whose URL the browser fetches on its own
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "audio": ("src",),
    "video": ("src", "poster"),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
}
LINK_LOADS = {"stylesheet", "icon", "preload", "modulepreload", "prefetch", "manifest"}


class _Loads(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in LOADING.get(tag, ()):
            value = attrs.get(name) or ""
            if name == "srcset":
                self.urls += [u.split()[0] for u in value.split(",") if u.strip()]
            elif value:
                self.urls.append(value)
        if tag == "link" and LINK_LOADS & set((attrs.get("rel") or "").lower().split()):
            self.urls.append(attrs.get("href") or "")
        if attrs.get("style"):
            self.urls += css_urls(attrs["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.urls += css_urls(data)


def css_urls(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)  # comments name URLs they do not load
    return [a or b for a, b in CSS_URL.findall(css)]


def page_loads(html: str) -> list[str]:
    """Every URL an HTML page makes the browser fetch by itself (scripts, styles, images...)."""
    parser = _Loads()
    parser.feed(html)
    return parser.urls


def network_loads(folder: Path) -> dict[str, list[str]]:
    """{file: URLs it loads from the network} over every .html and .css file in `folder`."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".html":
            urls = page_loads(path.read_text(encoding="utf-8", errors="replace"))
        elif path.suffix == ".css":
            urls = css_urls(path.read_text(encoding="utf-8", errors="replace"))
        else:
            continue
        remote = [u for u in urls if NETWORK.match(u)]
        if remote:
            found[str(path.relative_to(folder))] = remote
    return found


def missing_local(page: Path) -> list[str]:
    """Local files that `page` loads but that do not exist next to it."""
    missing = []
    for url in page_loads(page.read_text(encoding="utf-8")):
        if url.startswith(("data:", "#")) or NETWORK.match(url):
            continue
        target = (page.parent / url.split("?")[0].split("#")[0]).resolve()
        if not target.exists():
            missing.append(url)
    return missing


@pytest.fixture(scope="module")
def slides(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("kit") / "slides"
    kit.build_slides(out)
    return out


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("kit") / "site"
    kit.build_site(out)
    return out


# --- the checker itself can fail --------------------------------------------------------------


def test_the_network_checker_finds_every_kind_of_remote_load():
    html = """<html><head>
      <script src="https://cdn.example/x.js"></script>
      <link rel="stylesheet" href="//cdn.example/x.css">
      <link rel="icon" href="http://cdn.example/favicon.ico">
      <style>@import "https://fonts.example/f.css"; /* https://ignored.example */
             .a { background: url('https://img.example/b.png') }</style>
      </head><body><img src="https://img.example/a.png"><a href="https://ok.example">a link</a>
      <div style="background:url(https://img.example/c.png)"></div></body></html>"""
    urls = [u for u in page_loads(html) if NETWORK.match(u)]
    assert len(urls) == 7, urls
    assert "https://ok.example" not in urls and "https://ignored.example" not in urls
    css = "@font-face { src: url(https://fonts.example/a.woff2) format('woff2'); }"
    assert css_urls(css) == ["https://fonts.example/a.woff2"]


def test_title_of_drops_the_lesson_number(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "source": ["# Lesson 07: Vanishing gradients\n"]}]}
    path = tmp_path / "07_vanishing.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert kit.title_of(path) == "Vanishing gradients"


# --- slides -----------------------------------------------------------------------------------


def test_every_lesson_has_a_deck(slides):
    lessons = kit.notebooks("lessons")
    assert lessons, "no lessons found"
    decks = sorted(p.stem for p in slides.glob("[0-9][0-9]_*.html"))
    assert decks == [p.stem for p in lessons]
    index = (slides / "index.html").read_text(encoding="utf-8")
    for lesson in lessons:
        assert f'href="{lesson.stem}.html"' in index


def test_no_deck_loads_anything_from_the_network(slides):
    assert network_loads(slides) == {}


def test_decks_load_local_reveal_and_mathjax_that_exist(slides):
    for deck in slides.glob("[0-9][0-9]_*.html"):
        html = deck.read_text(encoding="utf-8")
        loads = page_loads(html)
        assert "_assets/reveal.js/dist/reveal.js" in loads, deck.name
        assert "_assets/mathjax/tex-chtml-full.js" in loads, deck.name
        assert missing_local(deck) == [], deck.name
        assert "application/vnd.jupyter.widget-view+json" not in html, deck.name
        assert "<section" in html and "Reveal.initialize" in html
    fonts = slides / "_assets" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert len(list(fonts.glob("*.woff"))) > 20


def test_deck_css_lets_tall_slides_scroll_and_code_wrap(slides):
    html = next(slides.glob("[0-9][0-9]_*.html")).read_text(encoding="utf-8")
    assert re.search(r"\.slides > section > section \{[^}]*overflow-y: auto", html)
    assert re.search(r"\.jp-InputArea pre[^{]*\{[^}]*white-space: pre-wrap", html)


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


def test_links_between_lessons_point_at_their_decks():
    html = (
        '<a href="05_x_y.ipynb">n</a><a href="../lessons/05_x_y.ipynb#top">m</a>'
        '<a href="../exercises/05_x_y.ipynb">e</a><a href="07_not_here.ipynb">f</a>'
    )
    assert kit._link_decks(html, {"05_x_y"}) == (
        '<a href="05_x_y.html">n</a><a href="05_x_y.html#top">m</a>'
        '<a href="../exercises/05_x_y.ipynb">e</a><a href="07_not_here.ipynb">f</a>'
    )
