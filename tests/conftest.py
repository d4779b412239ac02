"""Shared test configuration.

Tests draw with matplotlib's Agg backend, chosen in code so that it does not leak into the
notebook kernels that nbval starts: those use the inline backend, the same one the stored
outputs were made with (`python -m bpcourse.notebooks run ...`), set by the `kernel_env`
plugin (tests/kernel_env.py) even when the caller's environment says MPLBACKEND=Agg.
"""

import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("PYTHONHASHSEED", "0")

# The files that take longest (seconds on 2 busy cores, `--durations`), run first: with
# `pytest -n auto --dist loadfile`, xdist hands out whole files in collection order, so a long
# file collected last would run alone at the end while the other worker waits.
SLOW_FILES_FIRST = (
    "tests/test_grading_every_exercise.py",  # ~26 s: grades 25 notebooks
    "tests/test_exercise_notebooks.py",  # ~26 s: runs the 12 blank exercises
    "tests/test_grading.py",  # ~24 s: one batch of 24 submissions
    "tests/test_grading_runs.py",  # ~13 s, mostly waiting for time budgets to run out
    "lessons/12_convolutions.ipynb",  # ~14 s
    "tests/test_grading_kill.py",  # ~14 s
    "tests/test_instructor_kit_site.py",  # ~13 s: jupyter-book builds the site
    "tests/test_grading_sandbox.py",  # ~13 s: one batch of attacks
    "tests/test_widgets_convolution.py",  # ~11 s
    "tests/test_instructor_kit.py",  # ~9 s: nbconvert builds the slides
)


def pytest_configure(config):
    """Keep that order: pytest-xdist 3.8 otherwise hands out the files with the most tests first,
    which sends the slow files of one or two tests last, to run alone at the end."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items):
    """Move the tests of SLOW_FILES_FIRST to the front, in that order; the rest keep theirs."""
    rank = {name: i for i, name in enumerate(SLOW_FILES_FIRST)}
    root = config.rootpath

    def key(item):
        try:
            name = item.path.relative_to(root).as_posix()
        except ValueError:
            name = ""
        return rank.get(name, len(rank))

    items.sort(key=key)  # stable: the order within a file and among the others is kept
