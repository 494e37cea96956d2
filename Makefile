# Two commands: `make run` serves the product, `make test` runs the whole suite.
# Both create the virtual environment and install the pinned dependencies on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test scheduler lint lock bench clean help

help:
	@echo "make run    - serve the wall screen on http://127.0.0.1:8050 (SQLite, demo district, scheduler)"
	@echo "make test   - run the whole test suite"
	@echo "make bench  - run the benchmarks in bench/"
	@echo "make lock   - re-pin requirements.lock from the current environment"

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

run: $(STAMP)
	$(BIN)/python -m dashboard serve

scheduler: $(STAMP)
	$(BIN)/python -m dashboard scheduler

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/wall_render.py
	$(BIN)/python bench/risk_score.py
	$(BIN)/python bench/risk_whatif.py
	$(BIN)/python bench/crowd_aggregate.py
	$(BIN)/python bench/crowd_render.py
	$(BIN)/python bench/registers_grid.py
	$(BIN)/python bench/station_forecast.py

lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) var .pytest_cache
