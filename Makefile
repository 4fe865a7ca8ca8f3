# The targets people and CI both call. Everything runs from .venv, made from the lock file.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
export SILKWAY_DATABASE_URL ?= sqlite:///$(CURDIR)/var/silkway.db

.PHONY: run test lint unit bench lock messages clean

$(STAMP): requirements.lock pyproject.toml
	@# the transit document prints Kazakh and Russian with DejaVu, from Debian's fonts-dejavu-core
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || test -n "$$SILKWAY_PDF_FONT_DIR" || \
		(apt-get install -y -q fonts-dejavu-core >/dev/null || \
		 (apt-get update -q >/dev/null && apt-get install -y -q fonts-dejavu-core >/dev/null))
	@# the browser tests drive Debian's chromium; Playwright never downloads a browser of its own
	@test -x /usr/bin/chromium || test -n "$$SILKWAY_CHROMIUM" || \
		(apt-get install -y -q chromium >/dev/null || \
		 (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

var:
	mkdir -p var

# `silkway serve` migrates the database and loads the demo data (outside production) before serving; a new
# database also gets a month of simulated traffic first (about half a minute; SILKWAY_DEMO_HISTORY=0 skips it).
run: $(STAMP) var
	$(BIN)/silkway serve --host 127.0.0.1 --port $(PORT)

test: $(STAMP) lint
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

lint: $(STAMP)
	$(BIN)/ruff check src tests migrations bench
	$(BIN)/ruff format --check src tests migrations bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# Benchmarks, apart from the tests: writes bench/results/<date>.md and its charts (see bench/README.md).
# BENCH_ARGS=--quick for a smaller run; loads go to 127.0.0.1 only and stop by themselves.
bench: $(STAMP)
	@# the load generator is wrk, from Debian's packages
	@command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null || \
		(apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null)
	$(BIN)/python -m bench $(BENCH_ARGS)

# Regenerate the lock file after editing pyproject.toml's dependencies (needs uv on PATH).
lock:
	uv pip compile pyproject.toml --extra dev --extra bench --generate-hashes --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 -o requirements.lock

# Extract every translatable word (Python and templates) and add the new ones to each language's catalogue.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o var/messages.pot .
	for lang in kk ru en; do \
		$(BIN)/pybabel update -i var/messages.pot -d src/silkway/i18n/locales -D messages -l $$lang \
			--no-fuzzy-matching --ignore-obsolete --omit-header; \
	done

clean:
	rm -rf $(VENV) var/*.db
