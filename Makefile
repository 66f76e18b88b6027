# Engage: developer commands. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
VENDOR := static/vendor
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

# Python keeps the bytecode it compiles (in __pycache__, ignored by git) even where
# the environment asks it not to: the suite starts dozens of Python processes (its
# workers, the servers the fault tests start), and each would otherwise compile every
# module again (collecting the suite: 21 s without the cache, 8 s with it).
unexport PYTHONDONTWRITEBYTECODE

.DEFAULT_GOAL := help
.PHONY: help install assets browser imap-server run jobs migrate fmt lint static-checks fuzz test test-sqlite test-postgres test-clocks test-slow test-multihost bench clean

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Engage needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed assets ## Virtualenv, Python packages and front-end files

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.installed ## Copy NHS.UK frontend and Chart.js (npm) into static/vendor/
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/nhsuk $(VENDOR)/chartjs
	cp node_modules/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css node_modules/nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.js $(VENDOR)/nhsuk/
	@# Its @font-face rules fetch Frutiger from assets.nhs.uk, which our CSP (fonts from
	@# Engage only) refuses with a console error on every page: drop them (Arial is used).
	$(PYTHON) -c 'import re, sys; p = sys.argv[1]; s = open(p).read(); open(p, "w").write(re.sub(r"@font-face\{[^}]*\}", "", s))' $(VENDOR)/nhsuk/nhsuk-frontend.min.css
	cp -r node_modules/nhsuk-frontend/dist/nhsuk/assets $(VENDOR)/nhsuk/assets
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/LICENSE.md $(VENDOR)/chartjs/
	printf 'nhsuk-frontend %s (MIT, NHS England; its @font-face rules removed) and chart.js %s (MIT), installed from npm by `make assets`.\n' \
	  "$$(node -p 'require("./node_modules/nhsuk-frontend/package.json").version')" \
	  "$$(node -p 'require("./node_modules/chart.js/package.json").version')" > $(VENDOR)/NOTICE

browser: ## Install Debian's Chromium for the browser tests (when missing and root)
	@if command -v chromium >/dev/null 2>&1; then echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "Install Debian's chromium (sudo apt-get install chromium) to run the browser tests." >&2; exit 1; fi

imap-server: ## Install Debian's dovecot, the IMAP server the bounce tests run on loopback (when missing and root)
	@if [ -x /usr/sbin/dovecot ]; then echo "dovecot: /usr/sbin/dovecot"; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null; \
	else echo "Install Debian's dovecot (sudo apt-get install dovecot-imapd) to run the bounce tests." >&2; exit 1; fi

PORT ?= 5000
run: install ## Set up, load demo data and serve Engage on http://127.0.0.1:5000 (or PORT=…)
	$(FLASK) db upgrade
	# The demo's e-mails hold links: to the address it is served on.
	ENGAGE_BASE_URL=$${ENGAGE_BASE_URL:-http://127.0.0.1:$(PORT)} $(FLASK) load-demo
	ENGAGE_BASE_URL=$${ENGAGE_BASE_URL:-http://127.0.0.1:$(PORT)} $(FLASK) run --host 127.0.0.1 --port $(PORT)

jobs: install ## Run the scheduler process (one is active; start more as standbys)
	$(PY) -m jobs

migrate: install ## Apply database migrations
	$(FLASK) db upgrade

fmt: install ## Format the code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lint: install ## ruff check, ruff format check, mypy, bandit and semgrep (our own rules)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy engage jobs
	$(MAKE) --no-print-directory static-checks

# Static security checks (docs/security.md). semgrep runs
# only our rule files in .ci/semgrep/ (the registry needs semgrep.dev), and first checks
# the rules against their own examples.
SEMGREP := $(VENV)/bin/semgrep scan --metrics off --disable-version-check
static-checks: install ## bandit over engage/ and jobs/; semgrep with .ci/semgrep/ rules
	$(VENV)/bin/bandit -c pyproject.toml -q -r engage jobs
	$(SEMGREP) --test --quiet .ci/semgrep/
	$(SEMGREP) --config .ci/semgrep/ --error --quiet engage jobs templates

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := csv xlsx postcode phone formula feed
fuzz: install ## Hypothesis fuzz targets and the walker, longer; then each atheris target for FUZZ_SECONDS (default 60)
	ENGAGE_FUZZ_EXAMPLES=2000 $(PY) -m pytest tests/fuzz -q -p no:cacheprovider
	ENGAGE_WALKER_EXAMPLES=40 $(PY) -m pytest tests/test_walker.py -n $(WORKERS) -q -p no:cacheprovider
	$(PY) -m pip install --quiet -e '.[dev,fuzz]'
	mkdir -p .fuzz-corpus/csv && cp tests/fixtures/imports/*.csv .fuzz-corpus/csv/
	for target in $(FUZZ_TARGETS); do mkdir -p .fuzz-corpus/$$target; \
	  $(PY) -m tests.fuzz.atheris_targets $$target .fuzz-corpus/$$target \
	    -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 || exit 1; done

test: install browser imap-server lint ## The whole suite: lint; tests on SQLite and PostgreSQL (if ENGAGE_TEST_DATABASE_URL is set) at four clock settings; the load and fault tests
	$(MAKE) --no-print-directory test-sqlite
	@if [ -n "$$ENGAGE_TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "ENGAGE_TEST_DATABASE_URL not set: PostgreSQL run skipped"; fi
	$(MAKE) --no-print-directory test-clocks
	$(MAKE) --no-print-directory test-slow

# Three processes on two cores: the suite's waits (timeouts, scheduler ticks) overlap.
WORKERS ?= 3
# Tests are handed to the processes two at a time (not a quarter of the suite each at
# the start): the walker's tests, collected first, then go one or two to each process,
# rather than all to the first, where they would run one after another.
XDIST := -n $(WORKERS) --maxschedchunk 2

# No time bombs: the fast suite at four clock settings (tests/clock.py), each the next
# such moment after today: the last hour of a month and a quarter (SQLite, with
# coverage), New Year (PostgreSQL), and the Sundays the clocks change (SQLite). Each
# long part runs once or where it adds most: the browser journeys in the PostgreSQL
# run; the walker as every role in the SQLite run, and its sweep of every field with
# each kind of hostile value in the PostgreSQL run (which refuses more of them); in
# the runs at the clock changes it opens every page and form as the admin without
# fuzzing them again, and the browser journeys, the benchmark harness and the
# gunicorn start-up test are left to the other runs. Tests marked `pure` (no engine
# or clock can change them: file parsing, formula safety, network time-outs) run in
# the SQLite run only. Set SQLITE_CLOCK= or PG_CLOCK= for a run at the real time.
SQLITE_CLOCK ?= month-end
PG_CLOCK ?= new-year
CLOCKS ?= spring-forward fall-back

# Random submissions per form in the walker's runs as each role (its sweep of every
# field with each kind of hostile value runs whatever this is; `make fuzz` goes deeper).
WALKER_EXAMPLES ?= 2

test-sqlite: ## Tests on SQLite only (all but the browser journeys), at SQLITE_CLOCK, with coverage
	@echo "== tests on SQLite, ENGAGE_TEST_CLOCK=$(SQLITE_CLOCK) =="
	ENGAGE_WALKER_EXAMPLES=$(WALKER_EXAMPLES) ENGAGE_WALKER_ROLES=anonymous,lead,officer,admin ENGAGE_TEST_CLOCK=$(SQLITE_CLOCK) ENGAGE_TEST_DATABASE_URL= $(PY) -m pytest -m "not slow and not browser" $(XDIST) --cov --cov-report=term:skip-covered --cov-fail-under=85

test-postgres: ## Tests on PostgreSQL ($$ENGAGE_TEST_DATABASE_URL, default $(PG_TEST_URL); a database per worker), at PG_CLOCK
	@echo "== tests on PostgreSQL, ENGAGE_TEST_CLOCK=$(PG_CLOCK) =="
	ENGAGE_WALKER_ROLES=sweep ENGAGE_TEST_CLOCK=$(PG_CLOCK) ENGAGE_TEST_DATABASE_URL=$${ENGAGE_TEST_DATABASE_URL:-$(PG_TEST_URL)} $(PY) -m pytest -m "not slow and not pure" $(XDIST) -p no:cacheprovider

test-clocks: ## The fast suite on SQLite at each of CLOCKS
	@for clock in $(CLOCKS); do echo "== tests on SQLite, ENGAGE_TEST_CLOCK=$$clock =="; \
	  ENGAGE_TEST_CLOCK=$$clock ENGAGE_WALKER_EXAMPLES=0 ENGAGE_WALKER_ROLES=admin ENGAGE_TEST_DATABASE_URL= \
	  $(PY) -m pytest -m "not slow and not browser and not pure" $(XDIST) -q -p no:cacheprovider \
	    --ignore=tests/bench --ignore=tests/test_deploy.py || exit 1; done

# The mailing kill test sends to MAILING_KILL_RECIPIENTS members in each of its four
# runs (SQLite and PostgreSQL, SMTP and GOV.UK Notify); CI keeps it small, and
# `make test-slow MAILING_KILL_RECIPIENTS=5000` is the full-size run (about 2 minutes a run).
MAILING_KILL_RECIPIENTS ?= 600
# The fault tests run side by side (each has its own servers, databases and ports);
# those whose figures are times (marked `alone`: the load test) run after, by
# themselves.
test-slow: install ## Load and fault tests (docs/security.md F1-F8: own servers and databases, about 5 minutes)
	@echo "== load and fault tests =="
	ENGAGE_FAULT_MAILING_RECIPIENTS=$(MAILING_KILL_RECIPIENTS) $(PY) -m pytest -m "slow and not alone" -n 2 -p no:cacheprovider
	$(PY) -m pytest -m "slow and alone" -p no:cacheprovider

# Two app hosts and two schedulers on one PostgreSQL and one Redis (db 3 unless
# ENGAGE_MULTIHOST_REDIS_URL), one of each killed under load; part of test-slow.
# ENGAGE_MULTIHOST_SECONDS (default 25) makes it a longer soak.
test-multihost: install ## Several app hosts: two gunicorn hosts and two schedulers, one of each killed under load
	$(PY) -m pytest -m slow tests/faults/test_multihost.py -p no:cacheprovider

SCALE ?= 1
bench: install ## Benchmarks on a generated county-scale data set (SCALE=1; SCALE=0.01 is quick)
	$(FLASK) bench --scale $(SCALE)

clean: ## Remove the virtualenv, node_modules and vendored files
	rm -rf $(VENV) node_modules $(VENDOR)
