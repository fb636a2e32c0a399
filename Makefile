# `make run`: set up everything and start the web server and the worker (Ctrl-C stops both).
# `make test`: set up everything, check style and import rules, and run the whole test suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements
ADDR ?= 127.0.0.1:8000
SIDE_QUEUE ?= $(or $(DETECTION_SIDE_QUEUE_NAME),$(or $(DETECTION_QUEUE_NAME),deepfake)-side)

.PHONY: install run web worker migrate lint test bench clean browser

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py create_demo_accounts
	$(PY) manage.py moderation_deadlines --install-schedule
	@echo "Serving on http://$(ADDR)/ with a detection worker. Ctrl-C stops both."
	@trap 'kill $$web $$worker $$side 2>/dev/null; wait' EXIT INT TERM; \
	$(PY) manage.py qcluster & worker=$$!; \
	Q_CLUSTER_NAME=$(SIDE_QUEUE) $(PY) manage.py qcluster & side=$$!; \
	$(PY) manage.py runserver $(ADDR) --noreload & web=$$!; \
	wait -n $$web $$worker $$side

web: migrate
	$(PY) manage.py runserver $(ADDR)

# Two clusters: analyses on one; heatmaps, webhook deliveries and the job reconciler on the
# side one, so an analysis never waits behind them.
worker: migrate
	@trap 'kill $$worker $$side 2>/dev/null; wait' EXIT INT TERM; \
	$(PY) manage.py qcluster & worker=$$!; \
	Q_CLUSTER_NAME=$(SIDE_QUEUE) $(PY) manage.py qcluster & side=$$!; \
	wait -n $$worker $$side

# The browser tests drive Debian's Chromium (never a browser downloaded by Playwright).
browser:
	@command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

# Style (ruff) and the import rules between apps (import-linter; contracts in pyproject.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

test: lint browser
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) bench/pipeline_speed.py $(BENCH_ARGS)
	$(PY) bench/worker_memory.py

clean:
	rm -rf $(VENV) var .pytest_cache
