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

# A .venv whose python cannot import pip (a bootstrap interrupted during `python -m venv`, a
# deleted interpreter) is not an install: forget the stamp so the rule below rebuilds it.
VENV_OK := $(shell $(VENV)/bin/python -c "import pip" >/dev/null 2>&1 && echo yes)
ifneq ($(VENV_OK),yes)
$(shell rm -f $(STAMP))
endif
PIP_INSTALL ?= $(VENV)/bin/python -m pip install --quiet

# Re-installs when pyproject.toml changed since the last install, or when .venv is broken; the
# stamp is written only after a complete install.
$(STAMP): pyproject.toml
	@$(VENV)/bin/python -c "import pip" >/dev/null 2>&1 || { \
		echo "$(VENV) has no working python with pip (interrupted set-up?): rebuilding it"; \
		rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(PIP_INSTALL) --upgrade pip
	$(PIP_INSTALL) -e '.[study,test,mpi,slurm,lint,pointnet]'
	touch $@

$(MECHANISMS): $(STAMP) $(wildcard lfpk/mod/*.mod)
	$(BIN)/lfpk mechanisms --build-dir build/mechanisms

clean:
	rm -rf results build .snakemake
