# sessile: `make run` serves the demo on SQLite; `make test` runs every check and test.
# Both set up a fresh machine by themselves (Python 3.11, Node 20 and npm).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test lint format node clean

setup: $(VENV)/.synced node

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

node:
	@if [ -f tests/node/package.json ]; then \
		[ tests/node/node_modules/.package-lock.json -nt tests/node/package-lock.json ] || npm ci --prefix tests/node --no-audit --no-fund; \
	fi

run: setup
	SESSILE_COOKIE_INSECURE_DEV=true SESSILE_COOKIE_NAME=sessile_refresh \
		SESSILE_PUBLIC_URL=http://$(HOST):$(PORT) \
		$(VENV)/bin/sessile serve --host $(HOST) --port $(PORT) --demo

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff format src tests bench
	$(VENV)/bin/ruff check --fix src tests bench

test: lint
	$(VENV)/bin/pytest

clean:
	rm -rf $(TOOLS) $(VENV) tests/node/node_modules var
