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

# A .venv whose python cannot run pip is not an install: a bootstrap interrupted during
# `python -m venv` (before pip, or inside its ensurepip: a pip package that imports but does not
# run), a deleted interpreter. `python -m pip --version` is the test (not `import pip`), decided
# once here: the stamp is forgotten and the rule below rebuilds .venv (`make -n` shows it).
VENV_OK := $(shell $(VENV)/bin/python -m pip --version >/dev/null 2>&1 && echo yes)
ifneq ($(VENV_OK),yes)
$(shell rm -f $(STAMP))
endif
PIP_INSTALL ?= $(VENV)/bin/python -m pip install --quiet

# Re-installs when pyproject.toml changed since the last install, or when .venv is broken; the
# stamp is written only after a complete install.
$(STAMP): pyproject.toml
ifneq ($(VENV_OK),yes)
	@echo "$(VENV) has no working python with pip (interrupted set-up?): rebuilding it"
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
endif
	$(PIP_INSTALL) --upgrade pip
	$(PIP_INSTALL) -e '.[study,test,mpi,slurm,lint,pointnet]'
	touch $@

$(MECHANISMS): $(STAMP) $(wildcard lfpk/mod/*.mod)
	$(BIN)/lfpk mechanisms --build-dir build/mechanisms

# Results and builds; also a broken .venv (see VENV_OK), so nothing of an interrupted set-up is left
# (a working .venv is kept: `make run` after `make clean` does not reinstall).
clean:
	rm -rf results build .snakemake
ifneq ($(VENV_OK),yes)
	rm -rf $(VENV)
endif
