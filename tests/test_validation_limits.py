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


# --- 1. malformed populations reach the schema ------------------------------------------------


@pytest.mark.parametrize("value", ["[1, 2]", "5"])
def test_malformed_populations_are_reported_by_the_schema(tmp_path, repo, value):
    path = overlay(tmp_path, repo, f"populations: {value}\n")
    refused(lfpk("validate-config", path), "populations: ", "is not of type 'object'")


# --- 2. times: the one rule, and the analysed window --------------------------------------------


def test_times_follow_the_one_rule(config):
    config["simulation"]["tstop"] = 1000.03
    assert "simulation.tstop: 1000.03 ms is not a whole number of steps of simulation.dt" in errors_of(config)
    config["simulation"].update(tstop=1000.0, transient=1000.0)
    assert "simulation.transient: 1000 ms leaves no time to analyse before simulation.tstop" in errors_of(config)


def test_analysed_window_holds_the_samples_the_comparisons_need(config):
    """tstop of one step (transient 0) validated, then the comparisons failed inside the jobs: the
    window [transient, tstop] needs 16 samples (found by running network, predict, compare and
    the figures with tstop = transient + 15 dt, which work, and 14 dt, which fails)."""
    dt = config["simulation"]["dt"]
    config["simulation"].update(tstop=dt, transient=0.0)
    text = errors_of(config)
    assert "simulation.tstop: 0.0625 ms leaves 2 samples" in text and "expected at least 16" in text
    config["simulation"].update(tstop=500.0 + 14 * dt, transient=500.0)
    assert "leaves 15 samples" in errors_of(config)
    config["simulation"]["tstop"] = 500.0 + 15 * dt
    validate_config(config)
    # a run of network.runs is checked by the same rule, named by its key
    config["network"] = {"runs": {"short": {"simulation": {"tstop": 500.0 + dt}}}}
    assert "network.runs.short: simulation.tstop: 500.062 ms leaves 2 samples" in errors_of(config)


def test_hybrid_volleys_fall_on_the_time_grid(config):
    config["hybrid"] = {"volleys": {"start": 200.01, "interval": 200.0}}
    assert "hybrid.volleys.start: 200.01 ms is not a whole number of steps of simulation.dt" in errors_of(config)


def test_single_cell_and_cell_check_times_follow_the_one_rule(config):
    """The single-cell protocol (Figs 2/S1) and the cell check simulate their own times: checked
    by the same rule at validation, not inside their jobs."""
    config["single_cell"] = {"settle": 20.0}
    assert "single_cell.settle: 20 ms; expected more than 25 ms" in errors_of(config)
    config["single_cell"] = {"settle": 1100.0, "duration": 100.03}
    assert "single_cell.duration (settle + duration = 1200.03 ms): 1200.03 ms is not a whole number of steps" \
        in errors_of(config)
    config["single_cell"] = {"settle": 1100.0, "duration": 100.0}
    config["cell_check"] = {"populations": ["E"], "steps": {"tstop": 0.01}}
    assert "cell_check.steps.tstop: 0.01 ms; expected a positive time of at least one step" in errors_of(config)


# --- 3. morphology sizes ------------------------------------------------------------------------


def test_implausible_section_length_is_refused(tmp_path, repo):
    """apic.length 1e-12 um validated, then the network died with OverflowError in its probe sums
    (so did 1e-6 um; 1e-4 um ran): the schema's lower bound of 0.1 um refuses it."""
    path = overlay(tmp_path, repo, "populations: {E: {morphology: {apic: {length: 1.0e-12}}}}\n")
    refused(lfpk("validate-config", path), "populations.E.morphology.apic.length: 1e-12 is less than the minimum of 0.1")


def test_segment_counts_stay_within_neurons_limit(config):
    config["populations"]["E"]["segmentation"] = {"d_lambda": 1e-5, "frequency": 100.0}
    text = errors_of(config)
    assert "populations.E.segmentation: 2.05e+05 segments in section apic" in text and "at most 32766" in text
    config["populations"]["E"]["segmentation"] = {"d_lambda": 0.1, "frequency": 100.0}
    config["populations"]["E"]["morphology"]["soma"]["diam"] = 5000.0
    assert "populations.E.morphology.soma.diam: 5000.0 is greater than the maximum of 1000" in errors_of(config)


# --- 4. the sensitivity grid ---------------------------------------------------------------------


def test_sensitivity_grid_is_checked_at_validation(tmp_path, repo):
    path = overlay(tmp_path, repo, "sensitivity: {rate_scales: {start: -1.0, stop: 1.0, num: 3}}\n")
    refused(lfpk("validate-config", path), "sensitivity.rate_scales:", "must be finite and >= 0")


def test_sensitivity_grid_without_repeats(config):
    config["sensitivity"]["v_rest_offsets"] = {"start": 2.0, "stop": 2.0, "num": 3}
    assert "sensitivity.v_rest_offsets: the grid {start: 2.0, stop: 2.0, num: 3}" in errors_of(config)


# --- 5. the EEG head and probe models -------------------------------------------------------------


@pytest.mark.parametrize("key, value, message", [
    ("dipole_location", [0.0, 0.0, 1.0e9], "probes.eeg.dipole_location: dipole_location must lie inside the brain"),
    ("electrode_location", [0.0, 0.0, 10.0], "probes.eeg.electrode_location: electrode_locations must satisfy"),
    ("radii", [79000.0, 80000.0, 86000.0, 85000.0], "probes.eeg.radii: radii must be positive and strictly increasing"),
])
def test_eeg_head_geometry_is_checked(config, key, value, message):
    config["probes"]["eeg"][key] = value
    assert message in errors_of(config)


def test_probe_models_are_checked(tmp_path, repo):
    path = overlay(tmp_path, repo, "probes: {models: {pt: {model: NoSuchModel}}}\n")
    refused(lfpk("validate-config", path), "probes.models.pt.model: 'NoSuchModel' is not an LFPykit LinearModel",
            "PointSourcePotential")


def test_probe_model_arguments_are_checked(config):
    config["probes"]["models"] = {"pt": {"model": "PointSourcePotential", "kwargs": {"x": [0.0]}}}
    assert "probes.models.pt.kwargs: PointSourcePotential(x) fails on a one-segment cell" in errors_of(config)
    config["probes"]["models"]["pt"]["kwargs"] = {"x": [0.0], "y": [0.0], "z": [50.0], "sigma": 0.3}
    validate_config(config)


# --- 6. memory of every local rank ------------------------------------------------------------------


def test_memory_counts_every_rank_on_the_machine(config, monkeypatch):
    """400 local ranks passed at "158 MB per rank" though they need tens of GB together."""
    from lfpk.study.resources import BASE, estimate_memory, machine_memory

    monkeypatch.setenv("LFPK_MEMORY_LIMIT", "24G")
    monkeypatch.delenv("LFPK_RANKS_PER_NODE", raising=False)
    config["network"] = {"tasks": 400}
    per_rank = estimate_memory(config)["network"][0]
    assert per_rank < 0.5e9  # one rank alone fits easily
    total, text = machine_memory(config)
    assert total > 400 * BASE and "400 ranks on this machine" in text
    message = errors_of(config)
    assert "memory: the network stage would need about" in message and "network.tasks = 400 ranks" in message
    monkeypatch.setenv("LFPK_RANKS_PER_NODE", "32")  # a scheduler spreads them, 32 per node
    validate_config(config)
    monkeypatch.setenv("LFPK_RANKS_PER_NODE", "many")
    assert "LFPK_RANKS_PER_NODE: 'many' is not a positive whole number" in errors_of(config)


def test_validate_config_states_the_ranks_that_share_a_machine(repo):
    """The network's memory line names the ranks counted on one machine."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "LFPK_RANKS_PER_NODE"}
    out = lfpk("validate-config", repo / "config" / "config.yaml", env=env).stdout
    assert "per rank (" in out and " on 2 ranks)" in out, out
    out = lfpk("validate-config", repo / "config" / "config.yaml", env=dict(env, LFPK_RANKS_PER_NODE="1")).stdout
    assert " on 1 of 2 ranks per node)" in out, out


# --- 8. non-ASCII morphology paths -----------------------------------------------------------------


def test_non_ascii_morphology_path_is_refused(tmp_path, repo):
    folder = tmp_path / "zellé"
    folder.mkdir()
    (folder / "cell.swc").write_text("1 1 0 0 0 5 -1\n2 3 0 0 -5 1 1\n3 3 0 0 -50 1 2\n")
    path = overlay(tmp_path, repo, "populations:\n  E:\n    morphology: {soma: null, dend: null, apic: null, "
                                   "file: zellé/cell.swc}\n")
    refused(lfpk("validate-config", path), "populations.E.morphology.file:", "non-ASCII", "'ascii' codec")


# --- 9. lfpk kernel's overrides ------------------------------------------------------------------------


def test_kernel_override_is_checked_by_the_kernel_rules_only(tmp_path, repo):
    """`lfpk kernel --tau 400` was refused for hybrid.volleys.interval (a rule of the hybrid
    scheme, not of this command); a bad --tau still is refused, naming the option and the key."""
    cfg = repo / "config" / "config.yaml"
    proc = lfpk("kernel", "--config", cfg, "--tau", "400", "--post", "E", "--pre", "I", "--outdir", tmp_path / "k")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "k" / "E_I.nc").is_file()
    refused(lfpk("kernel", "--config", cfg, "--tau", "0.01", "--outdir", tmp_path / "bad"),
            f"{cfg} with --tau 0.01: invalid configuration: kernel.tau: 0.01 ms must be greater than simulation.dt")
    refused(lfpk("kernel", "--config", cfg, "--rate", "X=3", "--outdir", tmp_path / "bad"),
            "with --rate X=3: invalid configuration: kernel.rates.X: population 'X' is not declared")
    assert not (tmp_path / "bad").exists()


def test_apply_overrides_keeps_the_rules_of_the_command(config):
    from lfpk.api.config import apply_overrides

    cfg = validate_config(config)
    out = apply_overrides(cfg, {"--tau 400": ("kernel.tau", 400.0)}, "kernel")
    assert out["kernel"]["tau"] == 400.0 and cfg["kernel"]["tau"] == 100.0  # a copy
    with pytest.raises(ValueError, match="hybrid.volleys.interval"):
        validate_config(out)  # the workflow still refuses it: the hybrid scheme needs the spacing
    with pytest.raises(ConfigError, match=r"with --tau -1: invalid configuration: kernel.tau: -1.0 is less"):
        apply_overrides(cfg, {"--tau -1": ("kernel.tau", -1.0)}, "kernel")
