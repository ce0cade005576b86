# Everything starts from python3 + pip: uv is installed into .tools/, the locked
# dependencies into .venv/ (from uv.lock only; Airflow's constraint files are not needed).
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synced-$(shell cat uv.lock pyproject.toml 2>/dev/null | sha256sum | cut -c1-16)

export PYTHONPATH := $(CURDIR)
export UV_PYTHON_DOWNLOADS := never
export GX_ANALYTICS_ENABLED := false

.PHONY: help install demo airflow test bench lint format docs clean

help:  ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --target $(TOOLS) uv==$(UV_VERSION)

$(STAMP): uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --python 3.11
	rm -f $(VENV)/.synced-* && touch $@

install: $(STAMP)  ## Create .venv from the lock (idempotent)

demo: install  ## Retrain the churn model end to end through Airflow, twice, on a loopback S3
	$(BIN)/python -m include.retrain.devtools.demo

airflow: install  ## Run the bundle on a local Airflow (UI + loopback S3 with demo data) until Ctrl-C
	$(BIN)/python -m include.retrain.devtools.local_airflow

test: install  ## Lint, then run every test (unit, DAG, e2e, acceptance)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

bench: install  ## Run the benchmarks; prints a table and writes benchmarks/results.json
	$(BIN)/python -m benchmarks.run

lint: install  ## ruff check + format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

docs: install  ## Regenerate the config reference in README.md from the config models
	$(BIN)/python -m include.retrain.devtools.config_reference

format: install  ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:  ## Remove the virtualenv, tools and local state
	rm -rf $(VENV) $(TOOLS) .local .pytest_cache .ruff_cache
