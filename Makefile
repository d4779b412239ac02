# bpcourse: the two commands a newcomer needs are `make lab` and `make test`.
# Both set everything up first (a virtualenv in .venv with the package and its test extra),
# and re-install only when pyproject.toml has changed since the last install.
#
#   make PYTHON=python3.12 setup    # choose the interpreter that creates .venv
#   make test PYTEST_ARGS=tests/test_packaging.py   # make lint: ruff and mypy

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Directories that ruff checks; benchmarks/ is skipped until it has files in it.
LINT_PATHS := $(wildcard bpcourse tests benchmarks)
# Open the first lesson when it exists, otherwise JupyterLab's file browser at the repo root.
FIRST_LESSON := $(firstword $(sort $(wildcard lessons/01_*.ipynb)))
PIP_FLAGS := $(if $(CI),--progress-bar off --no-input)
# JupyterLab refuses to start as root (containers, Binder-like images) unless told it may.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root)
# JupyterLab's settings for this venv: no news pop-up over the first widget, no update check.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

.DEFAULT_GOAL := help
.PHONY: help setup lab test lint format bench clean distclean slides site

help:
	@echo "make lab     set up (if needed) and open the course in JupyterLab"
	@echo "make test    set up (if needed) and run the whole test suite"
	@echo "make setup   create .venv and install the package with its test extra"
	@echo "make lint    ruff check, ruff format --check and mypy (CI runs it after make test)"
	@echo "make format  sort imports and format the code with ruff"
	@echo "make bench   run the benchmarks (benchmarks/run_all.py)"
	@echo "make slides  offline reveal.js decks of the lessons in build/slides (docs/instructor.md)"
	@echo "make site    the course as an offline static website in build/site (docs/instructor.md)"
	@echo "make clean   remove caches and build output (keeps .venv); distclean also removes .venv"

setup: $(STAMP) $(LAB_SETTINGS)

$(LAB_SETTINGS): .lab/overrides.json | $(BIN)/python
	mkdir -p $(dir $@)
	cp .lab/overrides.json $@

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# pip older than 21.3 cannot do an editable install from pyproject.toml alone (PEP 660).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install "pip>=21.3" $(PIP_FLAGS)
	$(BIN)/python -m pip install -e ".[test]" $(PIP_FLAGS)
	touch $(STAMP)

lab: setup
	$(BIN)/python -m jupyter lab $(LAB_FLAGS) $(or $(FIRST_LESSON),--notebook-dir=.)

# compileall writes bpcourse's bytecode once; every notebook kernel the tests start reads it
# (where the environment sets PYTHONDONTWRITEBYTECODE, each kernel would compile it again).
test: setup
	$(BIN)/python -m compileall -q -j 0 bpcourse
	$(BIN)/python -m pytest -n auto --dist loadfile -m "not quality" $(PYTEST_ARGS)

lint: setup
	$(BIN)/python -m ruff check $(LINT_PATHS)
	$(BIN)/python -m ruff format --check $(LINT_PATHS)
	$(BIN)/python -m mypy

format: setup
	$(BIN)/python -m ruff check --select I --fix $(LINT_PATHS)
	$(BIN)/python -m ruff format $(LINT_PATHS)

bench: setup
	$(BIN)/python benchmarks/run_all.py

# Instructor kit (instructor/build.py): needs npm, which installs the pinned reveal.js and MathJax.
slides: setup
	$(BIN)/python instructor/build.py slides

site: setup
	$(BIN)/python instructor/build.py site

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache .hypothesis
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) \
		-type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
