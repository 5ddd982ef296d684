# The two commands of the README:  `make lessons` (run every lesson, build the site)  and  `make test`.
# Each does its own set-up: a venv in .venv with the project installed editable, the data, and Chromium.
# `make lessons FULL=1` also runs the full-scale experiments (the `#| slow` cells; hours on a CPU, cached by spec).
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
PY    := $(BIN)/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1
FULL ?= 0

.PHONY: setup data browser lessons lab docs test sync pytest nbtest clean

setup: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

data: setup
	$(PY) -m course_lib.datasets

browser:
	command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# every notebook runs even if one fails; the site is built from what ran; the exit status says whether all passed
lessons: setup data
	PY=$(PY) FULL=$(FULL) bash scripts/lessons.sh

# take the course: JupyterLab on the lessons, the project's venv as the kernel; saving a lesson cleans it (scripts/lab_hooks.py)
LAB_ARGS ?=
lab: setup data
	cd nbs && PYTHONPATH=$(CURDIR)/scripts ../$(BIN)/jupyter lab --FileContentsManager.pre_save_hook=lab_hooks.pre_save \
	  $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

docs: setup
	bash scripts/build_docs.sh

sync: setup
	bash scripts/check_sync.sh

nbtest: setup data
	# two notebooks at a time on 2 cores: one torch thread each, or their threads fight over the cores
	OMP_NUM_THREADS=1 $(BIN)/nbdev-test --n-workers 2 --timing

pytest: setup data browser
	$(BIN)/pytest -q tests

test: sync nbtest pytest

clean:
	rm -rf _docs _proc .pytest_cache
