# The two commands: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: run test install install-dev lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install: $(PY)
	$(PIP) install --quiet -e ".[ocr]"

install-dev: $(PY)
	bash .ci/install-fonts.sh
	$(PIP) install --quiet "torch==2.13.0"
	$(PIP) install --quiet -e ".[local,ocr,postgres,dev]"

run: install
	$(VENV)/bin/chatimg

test: install-dev
	bash .ci/with-postgres.sh $(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m mypy chatimg tests
	$(VENV)/bin/lint-imports

bench: install-dev
	for script in benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
