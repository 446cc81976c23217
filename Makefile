# lfpk set-up and entry points. `make run` and `make test` bootstrap .venv themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.lfpk-installed
MECHANISMS := build/mechanisms/lfpk-mechanisms.json
CORES ?= all
PYTEST_ARGS ?=

.PHONY: run test clean venv mechanisms

run: $(STAMP) $(MECHANISMS)
	PATH="$(BIN):$$PATH" $(BIN)/snakemake --cores $(CORES)

test: $(STAMP) $(MECHANISMS)
	PATH="$(BIN):$$PATH" $(BIN)/python -m pytest $(PYTEST_ARGS)

venv: $(STAMP)

mechanisms: $(MECHANISMS)

# Re-installs only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test,mpi,slurm,lint]'
	touch $@

$(MECHANISMS): $(STAMP) $(wildcard lfpk/mod/*.mod)
	$(BIN)/lfpk mechanisms --build-dir build/mechanisms

clean:
	rm -rf results build .snakemake
