"""Issue 22, checked at validation: every problem is refused by `lfpk validate-config` (the one
validator) in one line naming the key, with exit status 2, before any work: strict YAML (duplicate
keys, alias bombs), malformed populations, times and the analysed window, morphology sizes, the
sensitivity grid, the EEG head, probe models, memory of all local ranks, non-ASCII morphology
paths, and `lfpk kernel`'s overrides."""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from lfpk.api.config import ConfigError, validate_config
from lfpk.base.yamlfile import MAX_ALIAS_NODES, YAMLFileError, load_yaml
from lfpk.engines.spikes.maps import PopulationMap
from lfpk.engines.spikes.errors import SpikeInputError

BIN = Path(sys.executable).parent


def lfpk(*args, cwd=None, env=None):
    return subprocess.run([str(BIN / "lfpk"), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=120)


def refused(proc, *words):
    """Exit status 2, one line on stderr containing ``words``, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def overlay(tmp_path, repo, text, name="over.yaml"):
    """An overlay of the laptop config with ``text`` (YAML) written next to a copy of it."""
    base = tmp_path / "config.yaml"
    if not base.exists():
        base.write_text((repo / "config" / "config.yaml").read_text())
    path = tmp_path / name
    path.write_text("extends: config.yaml\n" + text)
    return path


def errors_of(cfg):
    with pytest.raises(ConfigError) as info:
        validate_config(cfg)
    return str(info.value)


BOMB = "\n".join(['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
                 + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]) + "\n"


# --- 7. strict YAML -----------------------------------------------------------------------------


def test_duplicate_key_is_refused_naming_file_line_and_key(tmp_path, repo):
    path = overlay(tmp_path, repo, "simulation: {tstop: 1000.0}\nstudy: dup\nsimulation: {tstop: 1500.0}\n")
    line = refused(lfpk("validate-config", path), "over.yaml, line 4", "'simulation' appears twice", "line 2")
    assert "keep the last" in line


def test_alias_bomb_is_refused_quickly(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    assert len(BOMB) < 1024
    start = time.perf_counter()
    refused(lfpk("validate-config", path), "bomb.yaml", "aliases", str(MAX_ALIAS_NODES))
    assert time.perf_counter() - start < 15  # the start-up of lfpk, not 52 s of walking the aliases


def test_strict_loader_keeps_moderate_aliases_and_merge_keys():
    data = load_yaml("base: &b {p: 1, q: 2}\nd:\n  <<: *b\n  p: 3\nl: [*b, *b]\n")
    assert data["d"] == {"p": 3, "q": 2} and data["l"] == [{"p": 1, "q": 2}] * 2
    with pytest.raises(YAMLFileError, match="recursive alias"):
        load_yaml("x: &x [*x]\n", "r.yaml")
    with pytest.raises(YAMLFileError, match=r"^s.yaml, line 1, column \d+: not valid YAML"):
        load_yaml("a: b: c\n", "s.yaml")


def test_population_map_yaml_is_read_strictly(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("E: 1-8\nI: 9-10\nE: 11-12\n")
    with pytest.raises(SpikeInputError, match=r"map.yaml, line 3: key 'E' appears twice"):
        PopulationMap.read(path)
    path.write_text(BOMB)
    with pytest.raises(SpikeInputError, match="aliases"):
        PopulationMap.read(path)
