# Two entry points for newcomers (see README): `make run` and `make test`. Everything else is a step of those.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
BUNDLE ?= var/bundle

.PHONY: setup browser-deps bundle run test lint typecheck guide-screens bench

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $@

# setup also precompresses plotly.js once (brotli -11, ~20-40 s the first time, then found in var/cache).
setup: $(BIN)/.installed
	$(BIN)/python -m dashboard.web.static

# Debian's chromium + chromedriver for the browser tests (a browser self-download cannot work offline), and
# poppler-utils (pdfinfo, pdftotext) to read the PDFs the export tests produce.
browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v pdftotext >/dev/null || \
	  ( $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver poppler-utils fonts-dejavu-core fonts-liberation )

$(BUNDLE)/manifest.json: | setup
	$(BIN)/ctg-carto data build --out $(BUNDLE)

bundle: $(BUNDLE)/manifest.json

run: setup bundle
	$(BIN)/ctg-carto serve --bundle $(BUNDLE)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Strict for geodata/ and indicators/, check_untyped_defs for dashboard/ (settings in pyproject.toml).
typecheck: setup
	$(BIN)/mypy

test: setup browser-deps lint typecheck
	$(BIN)/pytest

# Refresh the user guide's screenshots (docs/guide/*.png) after a visible change of the app; `make test` only
# compares its own screens, taken in a temporary folder, with these.
guide-screens: setup browser-deps
	CTG_GUIDE_SCREENS=$(CURDIR)/docs/guide $(BIN)/pytest tests/dashboard/test_guide_screens.py -p no:cacheprovider

bench: setup
	$(BIN)/python -m bench.run
