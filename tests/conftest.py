"""Shared fixtures: configuration paths and compiled mechanisms (built by the tests themselves)."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
#: the study's build of the package's mechanisms (made by `make mechanisms` or the fixture below);
#: pinned for this process and every subprocess, so no test writes into the user's cache
BUILD = REPO / "build" / "mechanisms"
os.environ["LFPK_BUILD_DIR"] = str(BUILD)


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def _laptop_config_raw():
    with open(REPO / "config" / "config.yaml") as f:
        return yaml.safe_load(f)


@pytest.fixture
def config(_laptop_config_raw):
    """A fresh, mutable copy of the validated laptop configuration."""
    return copy.deepcopy(_laptop_config_raw)


@pytest.fixture(scope="session")
def mechanisms():
    """Compile ``lfpk/mod`` into ``build/mechanisms`` if stale, and load it into this process."""
    from lfpk.base.mechanisms import ensure_loaded

    return ensure_loaded(build_dir=BUILD)


@pytest.fixture(scope="session")
def tiny_run(mechanisms, tmp_path_factory, _laptop_config_raw):
    """The tiny study run once per session with ``--cores 2``: (config, process, results folder)."""
    from tinystudy import remove, results, snakemake, tiny_config, write_config

    cfg = tiny_config(_laptop_config_raw, "pytest_e2e")
    path = write_config(cfg, tmp_path_factory.mktemp("tiny"))
    remove(cfg["study"])
    proc = snakemake("--cores", "2", "--configfile", path)
    yield cfg, proc, results(cfg["study"])
    remove(cfg["study"])
