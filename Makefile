# The few commands everyone uses. `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BUILD := build
PORT ?= 8765
# The browser tests drive Debian's chromium through Playwright; Playwright never downloads one.
CHROMIUM ?= /usr/bin/chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
# Debian packages are installed as root: with sudo only when make does not run as root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_GET := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get
# $(call apt_install,PACKAGE): install it; refresh the package lists only if that fails.
apt_install = { $(APT_GET) install -y $(1) || { $(APT_GET) update && $(APT_GET) install -y $(1); }; }
# The throwaway PostgreSQL server the store and web tests also run on (.ci/postgres starts it).
export BACKRUB_POSTGRES_PORT ?= 55432
export BACKRUB_TEST_POSTGRES_URL ?= postgresql+psycopg://backrub@127.0.0.1:$(BACKRUB_POSTGRES_PORT)/backrub_test

.PHONY: install browser postgres postgres-stop run demo test lint format typecheck unit bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || $(call apt_install,python3-venv)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,robot]'
	touch $(STAMP)

install: $(STAMP)

# Debian's chromium for the browser tests (tests/web), when it is not there yet.
browser:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests"; $(call apt_install,chromium); }

# A PostgreSQL server on 127.0.0.1:$(BACKRUB_POSTGRES_PORT) for the tests: installed (apt-get),
# created (in build/postgres) and started when needed; it keeps running. postgres-stop stops it.
postgres:
	@bash .ci/postgres start

postgres-stop:
	@bash .ci/postgres stop

# The web app on this machine only: open the address it prints. Ctrl-C stops it.
run: install
	$(BIN)/backrub serve --port $(PORT)

# The command-line demo: plan a 20-minute session and draw it on the back map.
demo: install
	$(BIN)/backrub plan --minutes 20 --activity computer-work --svg $(BUILD)/demo-plan.svg
	$(BIN)/backrub atlas --svg $(BUILD)/back-map.svg > /dev/null
	@echo "Open $(BUILD)/demo-plan.svg and $(BUILD)/back-map.svg in a browser to see the plan and the map."

test: install browser postgres lint typecheck unit

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

typecheck: install
	$(BIN)/mypy

# Three pytest-xdist workers on the suite's two-core goal machine: the browser and server tests
# spend much of their time waiting on another process, which a third worker fills (TEST_WORKERS=0:
# one process). Each is given a whole test file at a time (--dist loadfile) so a module's server and
# database start once; the costliest files are handed out first (tests/conftest.py orders them,
# --no-loadscope-reorder keeps that order).
TEST_WORKERS ?= 3
unit: install browser postgres
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# Figures, not pass/fail: planner, session engine, robot executor, then the web app under load (SQLite, then
# PostgreSQL with several workers on the throwaway server), page bytes, and the command line's start-up.
bench: install postgres
	$(PY) bench/bench_planner.py
	$(PY) bench/bench_session.py
	$(PY) bench/bench_robot.py
	$(PY) bench/bench_web.py
	$(PY) bench/bench_bytes.py
	$(PY) bench/bench_cli.py

clean: postgres-stop
	rm -rf $(BUILD) .pytest_cache .mypy_cache .ruff_cache test-artifacts
