# The two commands of the README: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint unit docs bench bench-smoke venv clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

venv: $(VENV)/.dev

run: $(VENV)/.runtime  ## serve with gunicorn on ALERTS_BIND (default 127.0.0.1:8080), SQLite store in var/
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

lint: $(VENV)/.dev  ## ruff and mypy --strict
	$(BIN)/ruff check alerts_processor tests bench docker wsgi.py gunicorn.conf.py
	$(BIN)/ruff format --check alerts_processor tests bench docker wsgi.py gunicorn.conf.py
	$(BIN)/mypy

test: lint  ## lint, then the whole suite (end-to-end tests need prometheus-alertmanager installed)
	$(BIN)/python -m pytest

docs: $(VENV)/.dev  ## the Sphinx documentation, warnings as errors
	$(BIN)/sphinx-build -q -W --keep-going -b html docs docs/_build/html

unit: $(VENV)/.dev  ## the fast unit tests only
	$(BIN)/python -m pytest tests/unit

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache

bench: $(VENV)/.dev  ## the benchmark: service vs floor, end to end; table + bench/results/latest.json
	$(BIN)/python -m bench.run

bench-smoke: $(VENV)/.dev  ## a few seconds of the same, to keep it working (run by .ci/run)
	$(BIN)/python -m bench.run --smoke
