"""Build the instructor kit from the notebooks: offline slides and an offline course website.

    python instructor/build.py slides [--out build/slides]   # a reveal.js deck per lesson
    python instructor/build.py site   [--out build/site]     # the course as a static website
    python instructor/build.py assets                        # only install the pinned assets

`make slides` and `make site` run the first two. Both cover every notebook present
(`lessons/NN_*.ipynb`, `exercises/NN_*.ipynb`, `solutions/NN_*.ipynb`), so lessons 07-12 join
when they land. Nothing a generated page loads comes from the network: reveal.js and MathJax
are pinned npm packages (instructor/package.json, package-lock.json), installed here with
`npm ci` and copied next to the pages; the site's theme, search and fonts come from the
Python packages in pyproject.toml's `test` extra (jupyter-book 1, Sphinx).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KIT = ROOT / "instructor"
NODE_MODULES = KIT / "node_modules"
STAMP = NODE_MODULES / ".bpcourse-installed"
NOTEBOOK = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")
FOLDERS = ("lessons", "exercises", "solutions")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


# --- the notebooks present --------------------------------------------------------------------


def notebooks(folder: str, root: Path = ROOT) -> list[Path]:
    """The course notebooks `folder/NN_name.ipynb` present, sorted by number."""
    return sorted(p for p in (root / folder).glob("*.ipynb") if NOTEBOOK.match(p.name))


def title_of(notebook: Path) -> str:
    """The notebook's first Markdown heading without "Lesson NN:" (else its file name)."""
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        source = "".join(cell.get("source", []))
        match = re.search(r"^#\s+(.+)$", source, re.M)
        if match:
            text = match.group(1).strip()
            return re.sub(
                r"^(Lesson|Exercises?|Solutions?)\s+\d+\s*[:.\u00b7\u2013\u2014-]\s*", "", text
            )
    return notebook.stem[3:].replace("_", " ").capitalize()


# --- pinned browser assets (npm) --------------------------------------------------------------


def ensure_assets() -> Path:
    """Install the pinned npm packages into instructor/node_modules if the lock file changed."""
    lock = KIT / "package-lock.json"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return NODE_MODULES
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "npm is not on PATH: install Node.js (which brings npm) to build the slides and the"
            " site; they copy reveal.js and MathJax from the npm packages pinned in"
            " instructor/package-lock.json"
        )
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
        cwd=KIT,
        check=True,
    )
    STAMP.write_text(digest + "\n")
    return NODE_MODULES


def copy_mathjax(dest: Path) -> Path:
    """Copy MathJax 3 (CommonHTML output, its fonts, TeX extensions, menu) into `dest`."""
    es5 = NODE_MODULES / "mathjax" / "es5"
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(es5 / "tex-chtml-full.js", dest)
    for part in ("input", "output/chtml", "ui", "a11y", "adaptors"):
        shutil.copytree(es5 / part, dest / part, dirs_exist_ok=True)
    shutil.copy2(NODE_MODULES / "mathjax" / "LICENSE", dest / "LICENSE")
    return dest


def copy_reveal(dest: Path, theme: str) -> Path:
    """Copy reveal.js (script, styles, `theme` with its fonts, notes plugin) into `dest`."""
    reveal = NODE_MODULES / "reveal.js"
    (dest / "dist" / "theme").mkdir(parents=True, exist_ok=True)
    for name in ("reveal.js", "reveal.css", "reset.css"):
        shutil.copy2(reveal / "dist" / name, dest / "dist" / name)
    shutil.copy2(reveal / "dist" / "theme" / f"{theme}.css", dest / "dist" / "theme")
    shutil.copytree(
        reveal / "dist" / "theme" / "fonts", dest / "dist" / "theme" / "fonts", dirs_exist_ok=True
    )
    shutil.copytree(reveal / "plugin" / "notes", dest / "plugin" / "notes", dirs_exist_ok=True)
    shutil.copy2(reveal / "LICENSE", dest / "LICENSE")
    return dest


def _fresh(directory: Path) -> Path:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    return directory


# --- slides -----------------------------------------------------------------------------------

REVEAL_THEME = "white"  # its fonts ship with reveal.js; "simple" would load Google Fonts


def slides_exporter():
    """nbconvert's SlidesExporter with the course template and every URL local."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    priority = [
        "application/javascript",
        "text/html",
        "text/markdown",
        "image/svg+xml",
        "text/latex",
        "image/png",
        "image/jpeg",
        "text/plain",
    ]  # nbconvert's order without the widget view: a widget shows its saved picture
    config = Config()
    config.NbConvertBase.display_data_priority = priority
    config.SlidesExporter.reveal_url_prefix = "_assets/reveal.js"
    config.SlidesExporter.reveal_theme = REVEAL_THEME
    config.SlidesExporter.reveal_transition = "none"
    config.SlidesExporter.reveal_number = "c/t"
    config.SlidesExporter.reveal_width = "1280"
    config.SlidesExporter.reveal_height = "720"
    config.SlidesExporter.mathjax_url = "_assets/mathjax/tex-chtml-full.js"
    config.SlidesExporter.exclude_input_prompt = True
    config.SlidesExporter.exclude_output_prompt = True
    config.TemplateExporter.extra_template_basedirs = [str(KIT / "slides")]
    config.SlidesExporter.template_name = "bpcourse_reveal"
    return SlidesExporter(config=config)


def _link_decks(html_text: str, stems: set[str]) -> str:
    """Point links to other lessons (`NN_name.ipynb`) at their decks (`NN_name.html`)."""

    def deck(match: re.Match) -> str:
        stem = match.group(2)
        return f'href="{stem}.html{match.group(3) or ""}"' if stem in stems else match.group(0)

    return re.sub(
        r'href="((?:\.\./lessons/)?)([0-9]{2}_[a-z0-9_]+)\.ipynb(#[^"]*)?"', deck, html_text
    )


def build_slides(out: Path = ROOT / "build" / "slides", root: Path = ROOT) -> list[Path]:
    """Write out/NN_name.html for every lesson, out/index.html, and the assets in out/_assets."""
    ensure_assets()
    _fresh(out)
    copy_reveal(out / "_assets" / "reveal.js", REVEAL_THEME)
    copy_mathjax(out / "_assets" / "mathjax")
    exporter = slides_exporter()
    decks = []
    rows = []
    for lesson in notebooks("lessons", root):
        body, _ = exporter.from_filename(str(lesson))
        body = _link_decks(body, {p.stem for p in notebooks("lessons", root)})
        deck = out / f"{lesson.stem}.html"
        deck.write_text(body, encoding="utf-8")
        decks.append(deck)
        rows.append(
            f'<li><a href="{deck.name}">{html.escape(lesson.stem[:2])}. '
            f"{html.escape(title_of(lesson))}</a></li>"
        )
    index = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>bpcourse slides</title>"
        "<style>body{font-family:sans-serif;max-width:40em;margin:3em auto;line-height:1.6}"
        "</style></head><body><h1>bpcourse: slides</h1>"
        "<p>One deck per lesson. Keys: arrows or space to move, <kbd>S</kbd> speaker notes,"
        " <kbd>F</kbd> full screen, <kbd>Esc</kbd> overview. A slide taller than the screen"
        " scrolls (mouse wheel or trackpad).</p>"
        f"<ol>{''.join(rows)}</ol></body></html>\n"
    )
    (out / "index.html").write_text(index, encoding="utf-8")
    return decks


# --- site -------------------------------------------------------------------------------------

SOLUTIONS_CAPTION = "Solutions (worked answers: try the exercise first)"
SOLUTION_BANNER = """```{admonition} Worked solution
:class: warning
This page is the **solution** of the exercise, with every answer filled in and checked. Work
the blank exercise first: reading an answer teaches far less than deriving it.
```"""
EXERCISE_BANNER = """```{admonition} Blank exercise
:class: tip
Download this notebook (the download button at the top of the page), open it in Jupyter next
to the lesson and fill in the answers: each `check(...)` cell tells you what is right and what
is wrong.
```"""


def course_map(root: Path = ROOT) -> list[tuple[str, str, str]]:
    """(number, lesson file name, what it covers) from the README's course-map table.

    Falls back to the lessons present (with their titles) if the README has no such table.
    """
    readme = root / "README.md"
    rows: list[tuple[str, str, str]] = []
    if readme.exists():
        for line in readme.read_text(encoding="utf-8").splitlines():
            match = re.match(
                r"^\|\s*(\d\d)\s*\|\s*`?lessons/([^`|]+\.ipynb)`?\s*\|(.*)\|\s*$", line
            )
            if match:
                rows.append((match.group(1), match.group(2).strip(), match.group(3).strip()))
    present = {p.name for p in notebooks("lessons", root)}
    known = {name for _, name, _ in rows}
    for name in sorted(present - known):
        rows.append((name[:2], name, title_of(root / "lessons" / name)))
    return sorted(rows)


def home_page(root: Path = ROOT) -> str:
    """The site's home page: what the course is and the course map, linked where written."""
    lines = [
        "# Backpropagation, derived, checked and trained",
        "",
        "A Jupyter course on backpropagation, from the chain rule to training a multilayer",
        "perceptron and on to the techniques that make deep networks train. Every step is",
        "derived, verified with SymPy and finite differences, implemented in NumPy, and used.",
        "",
        "Each lesson has an exercise notebook of the same name, with checks that give feedback",
        "as you work; the worked solutions sit in their own part of the site, clearly labelled.",
        "",
        "## Course map",
        "",
        "| # | lesson | exercise | solution | what it covers |",
        "|---|---|---|---|---|",
    ]
    for number, name, covers in course_map(root):
        stem = name[: -len(".ipynb")]
        cells = []
        for folder in FOLDERS:
            path = root / folder / name
            if path.exists():
                label = title_of(path) if folder == "lessons" else folder[:-1]
                cells.append(f"[{label}]({folder}/{stem}.ipynb)")
            elif folder == "lessons":
                cells.append(stem[3:].replace("_", " ").capitalize() + " (coming)")
            else:
                cells.append("")
        lines.append(f"| {number} | {' | '.join(cells)} | {covers} |")
    lines += [
        "",
        "Use the search box to find a term across every lesson, exercise and solution.",
        "",
    ]
    return "\n".join(lines)


def _toc(root: Path, docs: list[str]) -> str:
    parts = [
        ("Lessons", "lessons", ""),
        ("Exercises (blank)", "exercises", " (exercise)"),
        (SOLUTIONS_CAPTION, "solutions", " (solution)"),
    ]
    lines = ["format: jb-book", "root: index", "parts:"]
    for caption, folder, suffix in parts:
        found = notebooks(folder, root)
        if not found:
            continue
        lines += [f'  - caption: "{caption}"', "    chapters:"]
        for p in found:
            title = f"{p.stem[:2]} {title_of(p)}{suffix}".replace('"', "'")
            lines += [f"      - file: {folder}/{p.stem}", f'        title: "{title}"']
    if docs:
        lines += ['  - caption: "Reference"', "    chapters:"]
        lines += [f"      - file: docs/{d}" for d in docs]
    return "\n".join(lines) + "\n"


def _with_banner(notebook: Path, dest: Path, banner: str, suffix: str = "") -> None:
    """Copy `notebook` to `dest` with a Markdown cell `banner` after its title cell.

    `suffix` is appended to the first top-level heading (e.g. " (solution)").
    """
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for first in nb.get("cells", []):
        if first.get("cell_type") == "markdown":
            source = "".join(first.get("source", []))
            if suffix and re.search(r"^#\s+.+$", source, re.M):
                source = re.sub(
                    r"^(#\s+.+?)\s*$", lambda m: m.group(1) + suffix, source, count=1, flags=re.M
                )
                first["source"] = source.splitlines(keepends=True)
            break
    cell = {
        "cell_type": "markdown",
        "id": "bpcourse-site-banner",
        "metadata": {},
        "source": banner.splitlines(keepends=True),
    }
    cells = nb.get("cells", [])
    at = 1 if cells and cells[0].get("cell_type") == "markdown" else 0
    cells.insert(at, cell)
    dest.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")


def prepare_site_source(src: Path, root: Path = ROOT) -> Path:
    """Lay out the Jupyter Book source in `src`: config, table of contents, pages, assets."""
    _fresh(src)
    for folder in FOLDERS:
        (src / folder).mkdir()
        for notebook in notebooks(folder, root):
            if folder == "solutions":
                _with_banner(notebook, src / folder / notebook.name, SOLUTION_BANNER, " (solution)")
            elif folder == "exercises":
                _with_banner(notebook, src / folder / notebook.name, EXERCISE_BANNER)
            else:
                shutil.copy2(notebook, src / folder / notebook.name)
    docs = []
    if (root / "docs").is_dir():
        (src / "docs").mkdir()
        for page in sorted((root / "docs").glob("*.md")):
            shutil.copy2(page, src / "docs" / page.name)
            docs.append(page.stem)
    shutil.copy2(KIT / "site" / "_config.yml", src / "_config.yml")
    (src / "_toc.yml").write_text(_toc(root, docs), encoding="utf-8")
    (src / "index.md").write_text(home_page(root), encoding="utf-8")
    static = src / "_static"  # Jupyter Book adds every .css and .js in it to every page
    static.mkdir()
    shutil.copy2(KIT / "site" / "kit.css", static / "kit.css")
    copy_mathjax(src / "_extra" / "mathjax")  # copied as is to the site's mathjax/
    return src


def build_site(out: Path = ROOT / "build" / "site", root: Path = ROOT) -> Path:
    """Build the site into `out` (out/index.html is the home page); its source goes in out-src."""
    ensure_assets()
    src = prepare_site_source(out.with_name(out.name + "-src"), root)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book)] if jupyter_book.exists() else ["jupyter-book"]
    subprocess.run([*command, "build", str(src), "--builder", "html", "--quiet"], check=True)
    if out.exists():
        shutil.rmtree(out)
    shutil.move(str(src / "_build" / "html"), str(out))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["slides", "site", "assets"])
    parser.add_argument("--out", type=Path, help="output folder (default build/slides, build/site)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.what == "assets":
        print(f"assets in {ensure_assets()}")
    elif args.what == "slides":
        decks = build_slides(args.out or ROOT / "build" / "slides")
        where = decks[0].parent if decks else args.out
        print(
            f"{len(decks)} decks in {where} ({time.perf_counter() - start:.1f} s);"
            f" open {where}/index.html"
        )
    else:
        out = build_site(args.out or ROOT / "build" / "site")
        print(f"site in {out} ({time.perf_counter() - start:.1f} s); open {out}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
