# The two commands: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: run test test-tools install install-dev lint bench clean

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

# The real-terminal test (tests/tui/test_xterm.py) runs xterm as a VT340 under Xvfb: CI installs
# them here when it runs as root with apt-get; elsewhere that test skips when they are missing.
TEST_TOOLS := xterm xvfb x11-apps xdotool
test-tools:
	@if command -v xterm >/dev/null && command -v Xvfb >/dev/null && command -v xwd >/dev/null \
	    && command -v xdotool >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q --no-install-recommends $(TEST_TOOLS) >/dev/null 2>&1 \
	    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $(TEST_TOOLS) >/dev/null; }; \
	else echo "test-tools: install $(TEST_TOOLS) to run the real-terminal test"; fi

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m mypy chatimg tests
	$(VENV)/bin/lint-imports

bench: install-dev
	for script in benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
