# sessile: `make run` serves the demo on SQLite; `make test` runs every check and test.
# Both set up a fresh machine by themselves (Python 3.11, Node 20 and npm).

# uv is installed with the first Python 3.11 on the PATH. The project's environment
# prefers the operating system's own: distributions build it with profile-guided and
# link-time optimization into a static executable, where a version manager's build is
# often neither, and sessile then spends about an eighth more CPU per request
# (docs/operations.md, "Which Python"). uv makes that environment itself, so the
# system's Python needs no venv package. `make PYTHON=...` picks another.
BOOTSTRAP_PYTHON ?= $(shell command -v python3.11 || command -v python3)
PYTHON ?= $(firstword $(wildcard /usr/bin/python3.11) $(BOOTSTRAP_PYTHON))
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

HOST ?= 127.0.0.1
PORT ?= 8000

# npm projects, each installed from its committed lock file.
NPM_PROJECTS := sdk/js demo tests/node tests/prelude tests/browser tests/oauth/provider

.PHONY: setup python node demo run test lint lint-python test-python test-js format clean

setup: python node

python: $(VENV)/.synced

$(UV):
	$(BOOTSTRAP_PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

# `npm ci` where the lock file is newer than the last install.
node:
	@for dir in $(NPM_PROJECTS); do \
		[ -f $$dir/package-lock.json ] || continue; \
		[ $$dir/node_modules/.package-lock.json -nt $$dir/package-lock.json ] && continue; \
		echo "npm ci in $$dir"; \
		npm ci --prefix $$dir --no-audit --no-fund --loglevel=error || exit 1; \
	done

# The browser SDK, then the demo app built on it (served by `sessile serve --demo`).
demo: node
	npm --prefix sdk/js run build
	@if [ -f demo/package.json ]; then npm --prefix demo run build; fi

run: setup demo
	SESSILE_COOKIE_INSECURE_DEV=true SESSILE_COOKIE_NAME=sessile_refresh \
		SESSILE_PUBLIC_URL=http://$(HOST):$(PORT) \
		$(VENV)/bin/sessile serve --host $(HOST) --port $(PORT) --demo --demo-outbox

lint-python: python
	$(VENV)/bin/ruff check src tests bench deploy
	$(VENV)/bin/ruff format --check src tests bench deploy
	$(VENV)/bin/mypy

# The demo's types come from the built SDK, so both are built before they are linted.
lint: lint-python demo
	npm --prefix sdk/js run lint
	@if [ -f demo/package.json ]; then npm --prefix demo run lint; fi

test-python: python node
	$(VENV)/bin/pytest

test-js: demo
	npm --prefix sdk/js test
	node --test tests/prelude/
	@if [ -f tests/browser/package.json ]; then node --test tests/browser/; fi

test: lint test-python test-js

format: setup
	$(VENV)/bin/ruff format src tests bench deploy
	$(VENV)/bin/ruff check --fix src tests bench deploy

clean:
	rm -rf $(TOOLS) $(VENV) var $(addsuffix /node_modules,$(NPM_PROJECTS)) sdk/js/dist demo/dist
