# Two commands: `make run` starts the embedded stack, `make test` checks everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# GraphiQL's browser files and the browser tests' tools come from npm, checked
# against package-lock.json's hashes; without npm, GraphiQL says how to get them.
NPM := $(shell command -v npm 2>/dev/null)
WEB_STAMP := node_modules/.installed
INSTALLED := $(STAMP) $(if $(NPM),$(WEB_STAMP))

# requirements.lock pins every runtime dependency with its hashes, for the image
# and for this venv alike, so the suite tests what ships. `make lock` renews it.
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28

.PHONY: run test lint lock clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet -e '.[dev,embedded]'
	touch $(STAMP)

lock: $(STAMP)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) --quiet -o requirements.lock

$(WEB_STAMP): package.json package-lock.json scripts/vendor-graphiql
	npm ci --no-audit --no-fund --loglevel=error
	scripts/vendor-graphiql
	touch $(WEB_STAMP)

run: $(INSTALLED)
	$(BIN)/tidings dev

test: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) node_modules tidings/app/graphiql_assets/vendor .mypy_cache .pytest_cache .ruff_cache
