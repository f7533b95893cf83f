# portal_social: the two commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Test processes: browser journeys run in one (they share a live server), the rest spread over all.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test test-services lint format docs install install-test browser-deps screenshot clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install -q -e ".[postgres,redis]"
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed setup.cfg
	$(BIN)/pip install -q -e ".[postgres,redis,test,docs]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## make demo: set up and serve the example hospital portal on http://127.0.0.1:8000
demo: install
	@# Quiet set-up: the demo logins printed by seed_demo are the last lines before serving.
	@echo "Setting up the example portal; it will be served on http://127.0.0.1:8000 (Ctrl-C to stop)"
	@cd example_site && ../$(BIN)/python manage.py migrate --noinput --verbosity 0
	@cd example_site && ../$(BIN)/python manage.py seed_demo
	@# The task worker (search indexing, notifications) runs beside the web server and stops with it.
	@(cd example_site && exec ../$(BIN)/python manage.py db_worker) & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  cd example_site && ../$(BIN)/daphne -b 127.0.0.1 -p 8000 example_site.asgi:application

browser-deps:
	scripts/ensure-chromium.sh

lint: install-test
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

docs: install-test
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

## make test: set up and run every test (lint, docs, unit, packaging, browser) on SQLite
test: install-test browser-deps lint docs
	$(PYTEST)

## make test-services: the whole suite again on private PostgreSQL and Redis instances
test-services: install-test browser-deps
	scripts/with-services.sh $(PYTEST)

## make bench-load / bench-crash: load and kill -9 benchmarks on SQLite (docs/database.md);
## for PostgreSQL: scripts/with-services.sh $(BIN)/python bench/load.py --stack postgres
.PHONY: bench-load bench-crash
bench-load: install
	$(BIN)/python bench/load.py

bench-crash: install
	$(BIN)/python bench/crash.py

## make bench-community: community pages' server time against a one-query floor, 200,000 posts on SQLite;
## SCALE=0.1 for a quick run; for PostgreSQL: scripts/with-services.sh $(BIN)/python bench/community.py
.PHONY: bench-community
SCALE ?= 1
bench-community: install
	$(BIN)/python bench/community.py --scale $(SCALE)

## make bench-feedback: reports page's server time over 100,000 feedback cases on SQLite and PostgreSQL
## (PostgreSQL through scripts/with-services.sh); SCALE=0.05 for a quick run, STACK=sqlite or STACK=postgres for one
.PHONY: bench-feedback
STACK ?= both
bench-feedback: install
	$(BIN)/python bench/feedback.py --scale $(SCALE) --stack $(STACK)

## make bench-posting: members replying at once to the same threads (throughput, time per reply, nothing lost)
.PHONY: bench-posting
bench-posting: install
	$(BIN)/python bench/community_posting.py

## make bench-messaging: websocket delivery across two daphne processes on PostgreSQL and Redis (lost, duplicated,
## latency); CLIENTS=200 SECONDS=20 RESTART=--restart-redis for the full run
.PHONY: bench-messaging
CLIENTS ?= 20
SECONDS ?= 10
RESTART ?=
bench-messaging: install
	$(BIN)/python bench/messaging_ws.py --clients $(CLIENTS) --seconds $(SECONDS) $(RESTART)

screenshot: install-test browser-deps
	PORTAL_SOCIAL_UPDATE_SCREENSHOT=1 $(BIN)/pytest tests/browser/test_screenshot.py -q

clean:
	rm -rf $(VENV) build dist *.egg-info docs/_build .pytest_cache .ruff_cache
