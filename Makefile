# The two commands that set up everything on a fresh machine:
#   make demo   creates .venv, installs actlab, runs the main job
#   make test   creates .venv, installs actlab with test extras, runs the whole suite
#
# The torch build is pinned here because a bare `pip install torch` pulls a multi-GB CUDA build.
# Override on your machine, e.g.  make test TORCH="torch==2.5.1 torchvision==0.20.1"
TORCH ?= torch==2.14.1 torchvision==0.29.1
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_ARGS ?=

.PHONY: demo test install install-test browser lint bench gallery docs clean

# setup.py builds the C kernels (src/actlab/kernels/csrc): editing them reinstalls, which recompiles.
$(VENV)/.installed: pyproject.toml Makefile setup.py $(wildcard src/actlab/kernels/csrc/*)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test,vision]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test browser

# Debian's chromium for the playground's browser tests; Playwright drives it by path (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || bash scripts/install_chromium.sh

demo: install
	$(VENV)/bin/actlab compare $(DEMO_ARGS)

gallery: install
	$(VENV)/bin/actlab gallery -o gallery

# One BLAS/OpenMP thread per process: the suite's models are tiny, and its subprocesses (a server, a
# browser, a killed sweep) would otherwise oversubscribe the cores.
test: install-test
	$(VENV)/bin/ruff check src tests benchmarks
	OMP_NUM_THREADS=1 $(PY) -m pytest -q

bench: install
	$(PY) benchmarks/run_all.py

lint: install-test
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) build dist .pytest_cache
