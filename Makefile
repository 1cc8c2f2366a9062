# Two commands do all the set-up: `make serve` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
INDEX_DIR ?= $(or $(CLAIMCHECK_INDEX_DIR),index/default)

# Every model loads from an installed package or a file in this repository.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export CLAIMCHECK_INDEX_DIR := $(INDEX_DIR)

.PHONY: serve test test-fast index index-with-statements install browser lint clean

install: $(STAMP)

# torch first, from the pinned CPU wheel; otherwise a dependency pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# Built only when missing: a rebuild (with your own sources too) is `scripts/build_index.py`.
$(INDEX_DIR)/manifest.json: | $(STAMP)
	$(BIN)/python scripts/build_index.py index/sources --out $(INDEX_DIR)

# The manifest lives behind a symlink the build swaps: make must never delete it.
.PRECIOUS: $(INDEX_DIR)/manifest.json

index: $(STAMP)
	$(BIN)/python scripts/build_index.py index/sources --out $(INDEX_DIR)

# The same plus the White House statements on NATO, Ukraine and Russia (index/extra/, CC0: index/PROVENANCE.md).
# `make index` goes back to the treaties alone. A running server swaps the new index in on a reload.
index-with-statements: $(STAMP)
	$(BIN)/python scripts/build_index.py index/sources index/extra/whitehouse-statements.jsonl.gz --out $(INDEX_DIR)
	@echo "A running server serves it after: kill -HUP <its pid>, or curl -X POST" \
	  "http://$${CLAIMCHECK_HOST:-127.0.0.1}:$${CLAIMCHECK_PORT:-8000}/v1/admin/reload -H \"authorization: Bearer \$$CLAIMCHECK_ADMIN_TOKEN\""

serve: $(STAMP) $(INDEX_DIR)/manifest.json
	$(BIN)/claimcheck serve

# The browser test drives the system's chromium (Debian's package; Playwright never downloads one).
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)
browser:
	command -v chromium >/dev/null || { $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

test: $(STAMP) browser
	$(BIN)/python -m pytest

# The unit lane: logic tests with fake models, no server, no browser, no training (under a minute).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m unit -q

lint: $(STAMP)
	$(BIN)/ruff check service scripts tests
	$(BIN)/ruff format --check service scripts tests

clean:
	rm -rf $(VENV) index/default index/default.versions index/.default.lock
