# Sarabun developer tasks. Every target that runs project code creates .venv and installs the project
# (with its dev extras) on first use, and reinstalls it whenever pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run test test-fuzz test-faults lint up-local down-local up down clean bench

help:
	@echo "make run         embedded mode, everything in one process (demo users seeded)"
	@echo "make test        run the tests (PYTEST_ARGS='-k name' to select)"
	@echo "make test-fuzz   only the hostile-input suite: schemathesis over the API and targeted cases"
	@echo "make test-faults only the fault-injection suite: crashes, cut links, broker restart (PostgreSQL + RabbitMQ)"
	@echo "make lint        ruff check + ruff format --check"
	@echo "make up-local    distributed mode as local processes (PostgreSQL + RabbitMQ needed)"
	@echo "make down-local  stop the local processes"
	@echo "make up / down   distributed mode with docker compose"
	@echo "make bench       benchmark in distributed mode (BENCH_QUICK=1: a few minutes); bench/results/latest.json"
	@echo "make clean       remove var/ (local databases, objects, logs)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	SARABUN_DEMO=1 $(BIN)/sarabun run

test: $(STAMP)
	$(BIN)/pytest -q $(PYTEST_ARGS)

# SARABUN_FUZZ_EXAMPLES raises the examples per operation and role (default 25) for a longer search.
test-fuzz: $(STAMP)
	$(BIN)/pytest -q tests/fuzz $(PYTEST_ARGS)

# Kills and restarts service processes, cuts and stalls their links and restarts the local RabbitMQ node
# (rabbitmqctl stop_app/start_app); a checker then finds no letter lost or duplicated.
test-faults: $(STAMP)
	$(BIN)/pytest -q tests/faults $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

up-local: $(STAMP)
	bash deploy/local/up.sh

down-local: $(STAMP)
	bash deploy/local/down.sh

up: $(STAMP)
	docker compose up -d --build

down: $(STAMP)
	docker compose down

# Not a test: figures only, into bench/results/latest.json and the table it prints. Uses its own RabbitMQ
# vhost (sarabun-bench), PostgreSQL database, ports and temporary folder, and removes them afterwards.
bench: $(STAMP)
	$(BIN)/python -m bench.run

# Needs nothing installed: it only removes local state.
clean:
	rm -rf var/
