# eBL title registry — the project's vocabulary. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
NODE22 := node_modules/node/bin/node
STAMP := build/.stamps


.PHONY: help setup run chain test test-long test-hardhat lint typecheck lint-sol slither compile compile-hardhat gas bench bench-quick soak scale clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(STAMP)/python: pyproject.toml
	@mkdir -p $(STAMP)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
	@touch $@

$(STAMP)/node: package.json package-lock.json
	@mkdir -p $(STAMP)
	npm install --no-audit --no-fund --loglevel=error
	@test -x $(NODE22) || { echo "Node 22 from the npm 'node' package is missing" >&2; exit 1; }
	@# Second pass under Node 22: npm skips Hardhat's native EDR binding (engines: node >= 22) under Node 20.
	PATH="$(CURDIR)/node_modules/node/bin:$$PATH" npm install --no-audit --no-fund --loglevel=error
	@touch $@

$(STAMP)/postgres: scripts/ensure-postgres.sh
	@mkdir -p $(STAMP)
	bash scripts/ensure-postgres.sh
	@touch $@

$(STAMP)/outsider-tools: scripts/ensure-outsider-tools.sh
	@mkdir -p $(STAMP)
	bash scripts/ensure-outsider-tools.sh
	@touch $@

setup: $(STAMP)/python $(STAMP)/node $(STAMP)/postgres $(STAMP)/outsider-tools ## Install everything into the project (.venv, node_modules, PostgreSQL, Chromium, curl, jq)

compile: setup ## Compile contracts/ into the shipped artifact registry/chain/artifacts/ (cached by source hash)
	$(PY) -m registry.chain.build

compile-hardhat: setup ## Compile the same contracts with Hardhat 3, offline
	bash scripts/hardhat-compile.sh

lint: setup ## ruff (lint + format check)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup ## mypy --strict on registry/ and api/
	$(VENV)/bin/mypy

lint-sol: setup ## solhint on contracts/
	bash scripts/lint-solidity.sh

slither: setup ## Slither on contracts/, every finding fixed or triaged (slither.config.json, docs/slither.md)
	bash scripts/slither.sh

# The chain-layer integration tests and the HTTP scenario, which also run on the Hardhat node (EDR), a
# second EVM implementation beside anvil (EBL_TEST_LEDGER=hardhat; tests/support/chains.py). make test
# runs the quick part of them on Hardhat; make test-long runs them all.
HARDHAT_TESTS := tests/registry/chain tests/registry/title tests/registry/store tests/registry/proofs \
	tests/registry/test_governance_journal.py tests/api/test_scenario.py tests/api/test_audit_bundle.py
HARDHAT_QUICK_TESTS := tests/api/test_scenario.py tests/registry/chain/test_rpc.py tests/registry/chain/test_relayer.py

test: setup ## Every check and test, as CI runs it
	$(MAKE) --no-print-directory lint typecheck lint-sol slither compile-hardhat
	@# Two workers (the CI machine has two cores); whole files per worker, so module fixtures start once.
	$(VENV)/bin/pytest -q -n 2 --dist loadfile
	EBL_TEST_LEDGER=hardhat $(VENV)/bin/pytest -q -n 2 --dist loadfile $(HARDHAT_QUICK_TESTS)

test-long: setup ## The long property, fuzz and soak-style tests, and the chain-layer tests on the Hardhat node
	HYPOTHESIS_PROFILE=long $(VENV)/bin/pytest -q
	$(MAKE) --no-print-directory test-hardhat

test-hardhat: setup ## The chain-layer integration tests and the HTTP scenario on the Hardhat node (EDR) instead of anvil
	EBL_TEST_LEDGER=hardhat $(VENV)/bin/pytest -q -n 2 --dist loadfile $(HARDHAT_TESTS)

WORKERS ?= 1

run: setup ## Serve the gateway on 127.0.0.1:8000 over the embedded chain and SQLite (state in data/); WORKERS=N (N>1: PostgreSQL, EBL_DATABASE_URL)
	$(PY) -m scripts.serve --workers $(WORKERS)

chain: setup ## Only the embedded chain (anvil, state in data/), deployed once
	$(PY) -m scripts.dev_chain

gas: setup ## Measure the gas of every operation and the reference life cycle (snapshots/gas.json)
	$(PY) -m scripts.gas_report --out snapshots/gas.json

bench: gas ## Every benchmark at full size (results in bench/results/, tables and plots in bench/README.md)
	$(PY) -m bench.gas
	$(PY) -m bench.reads
	$(PY) -m bench.throughput
	$(PY) -m bench.proofs
	$(PY) -m bench.plots

bench-quick: setup ## Every benchmark at a small size (a few minutes)
	$(PY) -m bench.gas --quick
	$(PY) -m bench.reads --quick
	$(PY) -m bench.throughput --quick
	$(PY) -m bench.proofs --quick
	$(PY) -m bench.endurance --quick

soak: setup ## Gateway soak at 80 % of the measured peak for 10 min (bench/results/soak.json), then the embedded chain's endurance: 100 ops/s for 60 min, 2 min idle (endurance.json), and 100,000 eBLs idle for 60 min (endurance-idle.json)
	$(PY) -m bench.soak
	$(PY) -m bench.endurance
	$(PY) -m bench.endurance --rate 0 --preload 100000 --idle 3600 --sample 30 --out bench/results/endurance-idle.json

scale: setup ## Issue 1,000,000 eBLs on the embedded chain; RSS, state file, dumps, cold restart (bench/results/scale.json, about an hour)
	$(PY) -m bench.scale

clean: ## Remove build outputs (keeps data/)
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
