# Fallkonferenz – two commands: `make run` (app with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/0
CHROMIUM := /usr/bin/chromium
export FLASK_APP := run.py

.PHONY: setup e2e-deps run test test-postgres lint format bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# One esbuild run writes every bundle (entry points in package.json's "build" script).
BUNDLES := static/dist/app.js static/dist/minutes.js

$(BUNDLES) &: node_modules/.installed package.json $(wildcard static/src/*.js)
	npm run --silent build

setup: $(VENV)/.installed $(BUNDLES)

# The browser tests (tests/e2e) drive Debian's Chromium, not a browser downloaded by Playwright;
# axe-core, which they run in every page, comes with node_modules. `make run` does not need the browser.
# libharfbuzz-subset0 (a dependency of Chromium anyway) lets WeasyPrint subset fonts in the PDF exports; without
# it WeasyPrint warns on import, and the suite turns warnings into errors.
TEST_PACKAGES := chromium libharfbuzz-subset0
$(CHROMIUM):
	DEBIAN_FRONTEND=noninteractive apt-get install -y $(TEST_PACKAGES) || \
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(TEST_PACKAGES); }

e2e-deps: setup $(CHROMIUM)

run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed
	@echo ""
	@echo "Fallkonferenz: http://127.0.0.1:5000"
	@echo "Demo-Zugänge (Passwort für alle: demo-fallkonferenz):"
	@echo "  ki.koordination (KI, Moderation)   jc.fallmanagement (JC)   aa.beratung (AA)"
	@echo "  abh.sachbearbeitung (ABH)          ja.asd (JA)              lenkung.vorsitz (Lenkungsgruppe)"
	@echo "  dsb (Datenschutzbeauftragter)      admin (Administration)"
	@echo ""
	$(BIN)/python run.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The embedded default: SQLite, one process, no Redis (the Redis scale-out test runs in the next leg).
test: lint e2e-deps
	$(BIN)/pytest -m "not redis"

# The production-like leg: PostgreSQL and Redis.
test-postgres: e2e-deps
	DATABASE_URL=$(PG_URL) REDIS_URL=$(REDIS_TEST_URL) $(BIN)/pytest

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) node_modules static/dist
