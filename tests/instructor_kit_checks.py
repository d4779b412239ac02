"""Shared by the instructor-kit tests: the kit's build module and an offline-load checker.

The slides (tests/test_instructor_kit.py) and the site (tests/test_instructor_kit_site.py)
are built in two test files so that pytest-xdist can build them on two workers at once.
"""

from __future__ import annotations

import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from by_path import load_module

ROOT = Path(__file__).resolve().parent.parent
kit = load_module("instructor_build", ROOT / "instructor" / "build.py")

NEEDS_NPM = pytest.mark.skipif(
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


def install_assets_once(tmp_path_factory) -> None:
    """Run the kit's `npm ci` (when the lock file changed) on one xdist worker at a time.

    The slides and the site are built on two workers; in a fresh checkout both would
    otherwise run `npm ci` into the same node_modules at once. The lock file lives in the
    session's shared temporary folder.
    """
    import fcntl

    shared = tmp_path_factory.getbasetemp().parent
    with open(shared / "instructor-kit-npm.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            kit.ensure_assets()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def build_once(tmp_path_factory, what: str) -> Path:
    """Build the kit's `what` ("slides" or "site") into a fresh temporary folder, after the
    assets are installed; each test file calls it once, from a module fixture."""
    install_assets_once(tmp_path_factory)
    out = tmp_path_factory.mktemp("kit") / what
    {"slides": kit.build_slides, "site": kit.build_site}[what](out)
    return out
