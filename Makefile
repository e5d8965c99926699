# newsroom: `make run` and `make test` are all a fresh machine needs (Python 3.11, pip, make).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.lock | cut -c1-16)
SCALE_STAMP := $(VENV)/.scale-$(shell cat requirements.lock requirements-scale.lock | sha256sum | cut -c1-16)

export PYTHONPATH := $(CURDIR)
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DO_NOT_TRACK := 1
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: help install scale java redis browser run serve test bench eval ui dev sql docs lint format manifest spark clean

# Browser tests drive Debian's chromium through Playwright (never Playwright's own download).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

help:
	@echo "make run    install, materialize every asset on data/raw, print a summary"
	@echo "make serve  keep a run process ready (imports done): later make run calls start at once (Ctrl-C stops it)"
	@echo "make test   install, run the test suite"
	@echo "make bench  corpus of 10 MB, 100 MB, 1 GB vs DuckDB's own load -> docs/benchmarks.md (BENCH_SIZES=...)"
	@echo "make eval   language, topic, duplicate and story accuracy -> docs/evaluation.md"
	@echo "make ui     start the Dagster UI on http://127.0.0.1:3000"
	@echo "make sql    read-only SQL shell on the analyst copy (docs/queries.sql has queries to try)"
	@echo "make docs   dbt docs for every model and column -> data/dbt_docs/static_index.html"
	@echo "make lint   ruff check and format check"
	@echo "make spark  the whole job on the sample with Spark doing the work (under data/spark/)"

$(STAMP): requirements.lock
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found"; exit 1; }
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "newsroom needs Python 3.11, found " + sys.version' 
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

# Scaling out (issue 7): dbt-spark with pyspark, dagster-celery and the Redis client from their own lock,
# Java 17 for Spark and redis-server for the Celery broker from Debian's packages, each only where missing.
$(SCALE_STAMP): $(STAMP) requirements-scale.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock -r requirements-scale.lock
	rm -f $(VENV)/.scale-*
	touch $@

java:
	@java -version 2>&1 | grep -Eq 'version "(1[7-9]|2[0-9])' || { \
	  echo "installing Java 17 (headless) for Spark from Debian's packages"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-17-jre-headless; }

redis:
	@command -v redis-server >/dev/null || { \
	  echo "installing redis-server for the Celery worker test from Debian's packages"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server; }

scale: $(SCALE_STAMP) java redis

$(DAGSTER_HOME)/dagster.yaml: orchestration/instance/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp $< $@

manifest: install
	$(BIN)/python -c 'from orchestration.project import dbt_project; print(dbt_project().manifest_path)'

run: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m orchestration.cli run

# The resident runner (orchestration/resident.py): `make run` and the bench hand their runs to it.
serve: install $(DAGSTER_HOME)/dagster.yaml manifest
	$(BIN)/python -m orchestration.cli serve

browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests (apt, about 300 MB)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

test: install scale browser
	$(BIN)/python -m pytest

BENCH_SIZES ?= 10MB,100MB,1GB
bench: install scale $(DAGSTER_HOME)/dagster.yaml manifest
	$(BIN)/python -m bench.run --sizes $(BENCH_SIZES)

eval: install
	$(BIN)/python -m assets.evaluation

ui dev: install $(DAGSTER_HOME)/dagster.yaml manifest
	$(BIN)/dagster dev -h $${DAGSTER_HOST:-127.0.0.1} -p $${DAGSTER_PORT:-3000} -w workspace.yaml

sql: install
	$(BIN)/python -m orchestration.sql

# The whole job on Spark (dbt, the text analysis, the gates after raw) on the sample, under data/spark/.
SPARK_ENV = NEWSROOM_DBT_TARGET=spark NEWSROOM_SPARK_DIR=data/spark NEWSROOM_PARQUET=data/spark/parquet \
	NEWSROOM_WAREHOUSE=data/spark/warehouse.duckdb NEWSROOM_ANALYTICS=data/spark/analytics.duckdb \
	NEWSROOM_REPORT_DIR=data/spark/quality_report
spark: scale $(DAGSTER_HOME)/dagster.yaml
	$(SPARK_ENV) $(BIN)/python -m orchestration.cli run

docs: install manifest
	$(BIN)/python -m orchestration.docs

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf data/warehouse.duckdb data/warehouse.duckdb.wal data/quality_report dbt_project/target dbt_project/logs .dagster_home data/parquet data/spark
