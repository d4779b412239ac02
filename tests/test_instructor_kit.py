"""The instructor kit builds, covers every notebook, and works offline (make slides, make site).

Each build runs once, in its own test file (this one: the slides; test_instructor_kit_site.py:
the site), into a temporary folder, so that xdist builds them on two workers at once. They need
npm, which installs the pinned reveal.js and MathJax (instructor/package-lock.json); without
npm the tests are skipped, except in CI, where they fail.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from instructor_kit_checks import (
    NEEDS_NPM,
    NETWORK,
    build_once,
    css_urls,
    kit,
    missing_local,
    network_loads,
    page_loads,
)

pytestmark = NEEDS_NPM


@pytest.fixture(scope="module")
def slides(tmp_path_factory) -> Path:
    return build_once(tmp_path_factory, "slides")


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


def test_links_between_lessons_point_at_their_decks():
    html = (
        '<a href="05_x_y.ipynb">n</a><a href="../lessons/05_x_y.ipynb#top">m</a>'
        '<a href="../exercises/05_x_y.ipynb">e</a><a href="07_not_here.ipynb">f</a>'
    )
    assert kit._link_decks(html, {"05_x_y"}) == (
        '<a href="05_x_y.html">n</a><a href="05_x_y.html#top">m</a>'
        '<a href="../exercises/05_x_y.ipynb">e</a><a href="07_not_here.ipynb">f</a>'
    )
