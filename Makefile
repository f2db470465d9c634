# The few commands everyone uses. `make run` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
BUILD := build

.PHONY: install run test lint format typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The main job for now: plan a 20-minute session and draw it on the back map.
run: install
	$(BIN)/backrub plan --minutes 20 --activity computer-work --svg $(BUILD)/demo-plan.svg
	$(BIN)/backrub atlas --svg $(BUILD)/back-map.svg > /dev/null
	@echo "Open $(BUILD)/demo-plan.svg and $(BUILD)/back-map.svg in a browser to see the plan and the map."

test: install lint typecheck unit

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

typecheck: install
	$(BIN)/mypy

unit: install
	$(PY) -m pytest

bench: install
	$(PY) bench/bench_planner.py
	$(PY) bench/bench_session.py

clean:
	rm -rf $(BUILD) .pytest_cache .mypy_cache .ruff_cache
