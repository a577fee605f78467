# Sarabun developer tasks. Every target that runs project code creates .venv and installs the project on
# first use, and reinstalls it whenever pyproject.toml changes: `make run` only what running needs, the test,
# lint, fuzz, fault and bench targets the dev extras too (pytest, Playwright, moto, ruff, ...).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
PYTEST_ARGS ?=
# up-local starts moto (a dev extra) as its S3 server unless SARABUN_STORAGE_URL names one.
UP_LOCAL_STAMP := $(if $(SARABUN_STORAGE_URL),$(RUN_STAMP),$(DEV_STAMP))

.DEFAULT_GOAL := help
.PHONY: help install run test test-fuzz test-faults lint screenshots up-local down-local up down clean bench

help:
	@echo "make run         embedded mode, everything in one process (demo users seeded)"
	@echo "make test        run the tests (PYTEST_ARGS='-k name' to select)"
	@echo "make test-fuzz   only the hostile-input suite: schemathesis over the API and targeted cases"
	@echo "make test-faults only the fault-injection suite: crashes, cut links, broker restart (PostgreSQL + RabbitMQ)"
	@echo "make lint        ruff check + ruff format --check"
	@echo "make screenshots refresh the README's screenshots in docs/screenshots (the browser tests)"
	@echo "make up-local    distributed mode as local processes (PostgreSQL + RabbitMQ needed)"
	@echo "make down-local  stop the local processes"
	@echo "make up / down   distributed mode with docker compose (secrets from .env, see .env.example)"
	@echo "make bench       benchmark in distributed mode (BENCH_QUICK=1: a few minutes); bench/results/latest.json"
	@echo "make clean       remove var/ (local databases, objects, logs)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e .
	touch $(RUN_STAMP)

# The dev extras include everything running needs, so both stamps are fresh afterwards.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $(DEV_STAMP) $(RUN_STAMP)

install: $(DEV_STAMP)

run: $(RUN_STAMP)
	SARABUN_DEMO=1 $(BIN)/sarabun run

test: $(DEV_STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

# SARABUN_FUZZ_EXAMPLES raises the examples per operation and role (default 25) for a longer search.
test-fuzz: $(DEV_STAMP)
	$(BIN)/pytest -q tests/fuzz $(PYTEST_ARGS)

# Kills and restarts service processes, cuts and stalls their links and restarts the local RabbitMQ node
# (rabbitmqctl stop_app/start_app); a checker then finds no letter lost or duplicated.
test-faults: $(DEV_STAMP)
	$(BIN)/pytest -q tests/faults $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The browser tests write their screenshots to a temporary folder; this is the one run that replaces the
# README's (and so changes tracked files on purpose).
screenshots: $(DEV_STAMP)
	SARABUN_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest -q tests/browser $(PYTEST_ARGS)

up-local: $(UP_LOCAL_STAMP)
	bash deploy/local/up.sh

# Needs nothing installed: it only signals the processes up-local started.
down-local:
	bash deploy/local/down.sh

# docker compose builds its own image; nothing is installed here. It refuses to start without the secrets
# (.env: copy .env.example and fill it in).
up:
	docker compose up -d --build

down:
	docker compose down

# Not a test: figures only, into bench/results/latest.json and the table it prints. Uses its own RabbitMQ
# vhost (sarabun-bench), PostgreSQL database, ports and temporary folder, and removes them afterwards.
bench: $(DEV_STAMP)
	$(BIN)/python -m bench.run

# Needs nothing installed: it only removes local state.
clean:
	rm -rf var/
