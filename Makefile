# timbrespace: `make demo` runs the default experiment, `make test` runs the tests.
# Every pip call uses constraints.txt (hand pins: the CPU build of torch, tinysoundfont) and
# requirements.lock (every other dependency at an exact version, written by `make lock`), so a
# fresh machine installs what printed the README's figures.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
PIPC := $(PIP) install --disable-pip-version-check -c constraints.txt -c requirements.lock
STAMP := $(VENV)/.timbrespace-installed

.PHONY: install demo test test-fast bench lint lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt requirements.lock | $(BIN)/python
	$(PIPC) --upgrade pip setuptools wheel
	$(PIPC) torch==2.13.0
	$(PIPC) numpy
	$(PIPC) --no-build-isolation nsgt
	$(PIPC) --no-deps tinysoundfont
	$(PIPC) -e ".[test,dev]"
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/timbrespace run

# pytest-xdist: one worker per core, at most TEST_WORKERS (tests/conftest.py gives each worker one
# thread); tests marked xdist_group share a worker and the fixtures it built. TEST_WORKERS=0: one process.
# --max-worker-restart 0: a worker that dies (a crash, the OOM killer) ends the run at once and names
# its test; under --dist loadgroup a replaced worker can otherwise wait forever (pytest-xdist #1378).
TEST_WORKERS ?= 2
XDIST = $(if $(filter 0,$(TEST_WORKERS)),,-n auto --maxprocesses $(TEST_WORKERS) --dist loadgroup --max-worker-restart 0)

test: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-2} $(BIN)/python -m pytest -q -p no:cacheprovider $(XDIST)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

bench: $(STAMP)
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

# Refresh requirements.lock from pyproject.toml (pip-tools' pip-compile, newest versions the
# index serves that fit constraints.txt), then `make install` and re-quote the README's figures.
lock: $(STAMP)
	$(BIN)/pip-compile --quiet --upgrade --strip-extras --no-header --no-emit-index-url --no-emit-find-links \
	  --pip-args "--no-build-isolation" --extra test --extra dev -c constraints.txt -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) build *.egg-info
