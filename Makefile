# The two set-up commands: `make run` (the main job on the embedded default) and `make test`.
# Each creates .venv and installs what it needs on first use; both are idempotent.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/reasoner kg stats
	$(BIN)/reasoner kg path --entity "Inception" --relations directed_by,~directed_by,release_year

test: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/kg_core.py

clean:
	rm -rf $(VENV) .pytest_cache
