"""The one configuration loader: `extends:` overlays, what is validated is what runs, non-finite
numbers, delay distributions (one rule for config, kernels and network), study and run names,
network.runs versus scans, and memory estimates."""

import copy
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from lfpk.api.config import ConfigError, load_config, read_config_file, validate_config
from lfpk.entry.workflow import ground_truth_runs, run_config

BIN = Path(sys.executable).parent


def write(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def errors_of(cfg):
    with pytest.raises(ConfigError) as info:
        validate_config(cfg)
    return str(info.value)


# --- extends: overlays ----------------------------------------------------------------------


def test_extends_merges_mappings_replaces_lists_and_null_removes(tmp_path, repo, config):
    base = write(tmp_path / "base.yaml", config)
    (tmp_path / "sub").mkdir()
    over = write(tmp_path / "sub" / "over.yaml", {
        "extends": "../base.yaml",  # relative to the extending file
        "study": "overlay",
        "populations": {"E": {"size": 64}},
        "scans": {"J": [1.0, 1.1]},
        "recording": {"membrane_dt": 2.0},
        "network": None,
    })
    cfg = load_config(over)
    assert cfg["study"] == "overlay"
    assert cfg["populations"]["E"]["size"] == 64
    assert cfg["populations"]["E"]["morphology"] == config["populations"]["E"]["morphology"]
    assert cfg["populations"]["I"] == config["populations"]["I"]
    assert cfg["scans"]["J"] == [1.0, 1.1]  # a list replaces the base's list
    assert cfg["recording"] == {"membrane_sample": config["recording"]["membrane_sample"], "membrane_dt": 2.0}
    assert "network" not in cfg and "extends" not in cfg
    # a chain: an overlay of an overlay
    top = write(tmp_path / "top.yaml", {"extends": "sub/over.yaml", "study": "top"})
    assert load_config(top)["populations"]["E"]["size"] == 64
    assert load_config(base) == config


def test_extends_errors_name_the_file(tmp_path, config):
    a = write(tmp_path / "a.yaml", {"extends": "b.yaml", "study": "a"})
    write(tmp_path / "b.yaml", {"extends": "a.yaml", "study": "b"})
    with pytest.raises(ConfigError, match=r"a.yaml: extends: .* closes a cycle"):
        load_config(tmp_path / "b.yaml")
    write(a, {"extends": "missing.yaml"})
    with pytest.raises(ConfigError, match=r"configuration file .*missing.yaml does not exist \(extended by .*a.yaml\)"):
        load_config(a)
    write(a, {"extends": 3})
    with pytest.raises(ConfigError, match="extends: expected the path of the configuration this file overlays"):
        load_config(a)
    with pytest.raises(ConfigError, match="extends: 'x.yaml' is not resolved"):
        validate_config(dict(config, extends="x.yaml"))


def test_paper_config_is_an_overlay_of_the_laptop_config(repo, monkeypatch):
    monkeypatch.setenv("LFPK_RANKS_PER_NODE", "8")  # its 64 ranks are spread over cluster nodes
    raw = yaml.safe_load((repo / "config" / "paper.yaml").read_text())
    assert raw["extends"] == "config.yaml"
    assert "biophysics" not in raw and "probes" not in raw  # taken from the laptop study
    laptop, paper = load_config(repo / "config" / "config.yaml"), load_config(repo / "config" / "paper.yaml")
    assert paper["biophysics"] == laptop["biophysics"] and paper["probes"] == laptop["probes"]
    assert paper["populations"]["E"]["size"] == 8192 and paper["simulation"]["tstop"] == 12000.0
    assert [c["probability"] for c in paper["connections"]] == [0.05] * 4


# --- the workflow runs exactly what validate-config checks ------------------------------------


def _workflow_jobs(repo, configfile, *extra):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([str(BIN / "snakemake"), "-n", "--configfile", str(configfile), *extra], cwd=repo,
                          env=env, capture_output=True, text=True, timeout=300)


def _validate(configfile):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([str(BIN / "lfpk"), "validate-config", str(configfile)], env=env, capture_output=True,
                          text=True, timeout=120)


def _renamed(config, study):
    """The laptop study with populations Pyr / Bas (also in its point-neuron network), no scans, and
    a study name of its own."""
    cfg = copy.deepcopy(config)
    cfg["study"] = study
    cfg["populations"] = {{"E": "Pyr", "I": "Bas"}[k]: v for k, v in cfg["populations"].items()}
    for c in cfg["connections"]:
        c["pre"], c["post"] = {"E": "Pyr", "I": "Bas"}[c["pre"]], {"E": "Pyr", "I": "Bas"}[c["post"]]
    cfg["kernel"]["rates"] = {"Pyr": 2.5, "Bas": 5.0}
    pn = cfg["pointnet"]
    pn["populations"] = {{"E": "Pyr", "I": "Bas"}[k]: v for k, v in pn["populations"].items()}
    for c in pn["connections"]:
        c["pre"], c["post"] = {"E": "Pyr", "I": "Bas"}[c["pre"]], {"E": "Pyr", "I": "Bas"}[c["post"]]
    del cfg["scans"]
    return cfg


def test_workflow_and_validate_config_accept_and_reject_the_same_files(repo, config, tmp_path):
    whole = write(tmp_path / "whole.yaml", _renamed(config, "pytest_pyrbas"))
    partial = _renamed(config, "pytest_partial")
    del partial["kernel"]["rates"]["Bas"]  # the laptop default would have filled in I's rate
    partial = write(tmp_path / "partial.yaml", partial)
    overlay = write(tmp_path / "overlay.yaml", {"extends": str(repo / "config" / "config.yaml"),
                                                 "study": "pytest_overlay", "scans": None})
    fragment = write(tmp_path / "fragment.yaml", {"study": "pytest_fragment", "scans": {"J": [1.0]}})
    for path, ok, key in ((whole, True, None), (overlay, True, None),
                          (partial, False, "kernel.rates.Bas"), (fragment, False, "missing key seed")):
        v, w = _validate(path), _workflow_jobs(repo, path)
        assert (v.returncode == 0) == ok and (w.returncode == 0) == ok, (path, v.stderr, w.stderr[-2000:])
        if key:
            assert key in v.stderr and key in w.stdout + w.stderr, (v.stderr, w.stderr[-2000:])
    # what runs is the file alone: Pyr and Bas only (no laptop E/I cells), no J scan runs
    out = _workflow_jobs(repo, whole).stdout
    assert "results/pytest_pyrbas/morphology/Pyr.hoc" in out and "morphology/E.hoc" not in out
    assert "network/J0.975" not in out and "network/default/spikes.nc" in out
    # an overlay needs extends; two config files are refused (no silent merging)
    two = _workflow_jobs(repo, whole, str(overlay))  # --configfile A B
    assert two.returncode != 0 and "give one --configfile" in two.stdout + two.stderr
    # --config overrides are validated with the file
    bad = _workflow_jobs(repo, whole, "--config", "seed=-1")
    assert bad.returncode != 0 and "seed" in bad.stdout + bad.stderr


# --- non-finite numbers -----------------------------------------------------------------------


@pytest.mark.parametrize("path, value", [
    (["connections", 0, "probability"], math.nan),
    (["simulation", "transient"], math.nan),
    (["simulation", "celsius"], math.nan),
    (["simulation", "v_init"], math.nan),
    (["simulation", "tstop"], math.inf),
    (["connections", 2, "synapse", "weight"], math.nan),
    (["populations", "E", "morphology", "apic", "length"], math.nan),
    (["populations", "I", "placement", "z_mean"], -math.inf),
    (["probes", "sigma"], math.nan),
    (["probes", "channel_z", 3], math.nan),
    (["kernel", "rates", "I"], math.inf),
    (["connections", 1, "delays", "params", "loc"], math.nan),
    (["biophysics", "groups", "soma", "mechanisms", "Ih", "gIhbar"], math.inf),
])
def test_non_finite_numbers_rejected_naming_the_key(config, path, value):
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    text = errors_of(config)
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    assert f"{key}: {'NaN' if math.isnan(value) else value}; expected a finite number" in text, text


def test_infinite_distribution_bound_stays_legal(config):
    assert config["connections"][0]["delays"]["params"]["b"] == math.inf
    validate_config(config)


# --- delays: one rule -------------------------------------------------------------------------


def test_negative_delays_rejected_by_config_kernel_and_network(config):
    from lfpk.engines.kernel import KernelError, delay_probabilities
    from lfpk.model.connectivity import Connectivity, place_cells

    spec = {"distribution": "norm", "params": {"loc": -5.0, "scale": 1.0}}
    config["connections"][1]["delays"] = spec
    assert "connections[1].delays: the distribution puts 1 of its probability on negative delays" in errors_of(config)
    with pytest.raises(KernelError, match="negative delays"):
        delay_probabilities(spec, 0.0625, 100)
    small = copy.deepcopy(config)
    small["populations"]["E"]["size"], small["populations"]["I"]["size"] = 4, 2
    with pytest.raises(ValueError, match=r"connections\[1\].delays: .* negative delays"):
        Connectivity(small, place_cells(small))
    config["connections"][1]["delays"] = {"distribution": "nosuch", "params": {}}
    assert "connections[1].delays.distribution: 'nosuch' is not a scipy.stats distribution" in errors_of(config)


@pytest.mark.parametrize("spec", [
    {"distribution": "truncnorm", "params": {"a": -4.0, "b": math.inf, "loc": 1.5, "scale": 0.3}},  # study
    {"distribution": "truncnorm", "params": {"a": -1.0, "b": math.inf, "loc": 0.35, "scale": 0.3}},  # bound 0.05 ms
    {"distribution": "uniform", "params": {"loc": 0.0, "scale": 0.1}},  # most mass below half a step
    {"distribution": "lognorm", "params": {"s": 0.5, "scale": 1.0}},
])
def test_kernel_delay_steps_are_the_network_s_draws(spec):
    """The kernels' delay probabilities equal the histogram of the network's rounded draws
    (an independent Monte-Carlo computation with connectivity.round_delays)."""
    from lfpk.engines.kernel import delay_probabilities
    from lfpk.model.connectivity import delay_distribution, round_delays

    dt, n = 0.0625, 160
    p = delay_probabilities(spec, dt, n)
    dist = delay_distribution(spec)
    draws = round_delays(dist.rvs(size=400_000, random_state=np.random.default_rng(0)), dt, dist.support()[0])
    steps = np.rint(draws / dt).astype(int)
    hist = np.bincount(steps[steps < n], minlength=n) / (steps < n).sum()
    assert p[0] == 0.0 and hist[0] == 0.0  # never a zero delay
    np.testing.assert_allclose(p, hist, atol=4e-3)  # binomial sd <= 0.0008 at 4e5 draws


# --- names that would write outside results/<study> -------------------------------------------


@pytest.mark.parametrize("study", ["..", ".", "laptop\n", "a/b", "", "-x", "../../benchmarks", "x" * 101])
def test_study_name_stays_inside_results(config, study):
    config["study"] = study
    assert "study: " in errors_of(config)


@pytest.mark.parametrize("name", ["..", ".x", "a/b", "J1\n"])
def test_run_names_stay_inside_results(config, name):
    config["network"] = {"runs": {name: {"weight_scaling": {"J": 1.2}}}}
    assert "network.runs" in errors_of(config)


# --- network.runs versus scans ----------------------------------------------------------------


def test_run_names_do_not_collide_with_derived_runs(config):
    config["scans"] = {"J": [0.975, 1.0, 1.05]}
    for name, message in (("default", "network.runs.default: the run name 'default' is reserved"),
                          ("config", "network.runs.config: the run name 'config' is reserved"),
                          ("J1.05", "network.runs.J1.05: collides with the run of scans.J value 1.05")):
        cfg = copy.deepcopy(config)
        cfg["network"] = {"runs": {name: {"weight_scaling": {"J": 1.2}}}}
        assert message in errors_of(cfg)


def test_close_scan_values_keep_distinct_runs(config):
    config["scans"] = {"J": [0.975, 0.9750001, 1.0, 1.05]}
    runs = ground_truth_runs(validate_config(config))
    assert runs == ["default", "J0.975", "J0.9750001", "J1.05"]
    assert run_config(config, "J0.9750001")["weight_scaling"]["J"] == 0.9750001


def test_run_overrides_are_validated_naming_the_run(config, tmp_path):
    config["network"] = {"runs": {"fast": {"simulation": {"dt": -1.0}},
                                  "odd": {"study": "other"},
                                  "three": {"populations": {"X": config["populations"]["I"]}},
                                  "ok": {"weight_scaling": {"J": 1.2}}}}
    path = write(tmp_path / "runs.yaml", config)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert "network.runs.fast: simulation.dt: -1.0 is less than or equal to the minimum of 0" in text
    assert "network.runs.odd: a run cannot override study" in text
    assert "network.runs.three: kernel.rates: missing key kernel.rates.X" in text
    assert "network.runs.ok" not in text
    proc = _validate(path)
    assert proc.returncode == 2 and "network.runs.fast: simulation.dt" in proc.stderr


# --- sizes that cannot fit --------------------------------------------------------------------


@pytest.mark.parametrize("path, value, stage", [
    (["populations", "E", "size"], 1_000_000_000, "network"),
    (["simulation", "tstop"], 1e8, "predict"),  # 1.6e9 steps: within the 2^31 - 1 steps of lfpk.model.times
    (["simulation", "dt"], 1e-6, "compare"),
    (["kernel", "tau"], 2e7, "kernel"),
    (["populations", "E", "segmentation", "d_lambda"], 1e-4, "network"),  # 20500 segments in apic (< 32767)
])
def test_sizes_that_cannot_fit_are_refused_with_the_estimate(config, path, value, stage, monkeypatch):
    monkeypatch.setenv("LFPK_MEMORY_LIMIT", "64G")
    config.pop("pointnet")  # its own memory rule (the LIF network's spikes) would speak first
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    if path == ["kernel", "tau"]:  # hybrid-kernel volleys must stay a kernel window apart
        config["hybrid"] = dict(config.get("hybrid") or {}, volleys={"start": 200.0, "interval": value})
    text = errors_of(config)
    assert f"memory: the {stage} stage would need about " in text and "more than 68.7 GB (LFPK_MEMORY_LIMIT=64G)" in text


def test_memory_estimate_is_calibrated_and_the_limit_applies(config, monkeypatch):
    """The laptop network's estimate brackets its measured peak (0.68 GB per rank on 2 ranks,
    docs/network.md) within a factor 1.5; a limit below it refuses the config."""
    from lfpk.study.resources import estimate_memory

    need = estimate_memory(config)["network"][0]
    assert 0.68e9 <= need <= 1.5 * 0.68e9
    monkeypatch.setenv("LFPK_MEMORY_LIMIT", "500M")
    assert "memory: the network stage would need about" in errors_of(config)
    monkeypatch.setenv("LFPK_MEMORY_LIMIT", "lots")
    assert "LFPK_MEMORY_LIMIT: 'lots' is not a memory size" in errors_of(config)


def test_cli_refuses_impossible_sizes_before_any_work(repo, tmp_path):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", LFPK_MEMORY_LIMIT="64G")
    # without the point-neuron block, whose own memory rule (the LIF network's spikes) would speak first
    cfg = tmp_path.parent / f"{tmp_path.name}_nopointnet.yaml"
    cfg.write_text(f"extends: {repo / 'config' / 'config.yaml'}\npointnet: null\n")
    # lfpk kernel --tau: only the rules of the kernels apply (not the hybrid volleys' spacing)
    for args in (["network", "--config", cfg, "--outdir", "gt", "--population-sizes", "E=1000000000"],
                 ["network", "--config", cfg, "--outdir", "gt", "--tstop", "1e8"],
                 ["kernel", "--config", cfg, "--tau", "1e9", "--outdir", "k"]):
        proc = subprocess.run([str(BIN / "lfpk"), *map(str, args)], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 2 and "stage would need about" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_hybrid_block_is_checked(config):
    """The hybrid scheme's run must be a ground-truth run, and its volleys at least kernel.tau apart
    (each hybrid-kernel window sees one volley)."""
    from lfpk.study.hybrid import approximations, volley_times

    cfg = validate_config(copy.deepcopy(config))
    assert volley_times(cfg) == {"E": 200.0, "I": 400.0}  # the study's t_E, t_I
    labels = [a["label"] for a in approximations(cfg)]
    assert len(labels) == 8 and labels[0] == "reconstruction: quasi_linear-nogeff"
    assert labels[-1] == "direct kernel: frozen-geff-scalar"
    bad = copy.deepcopy(config)
    bad["hybrid"] = {"run": "J9", "volleys": {"start": 100.0, "interval": 50.0}}
    with pytest.raises(ConfigError) as err:
        validate_config(bad)
    assert "hybrid.run: 'J9' is not a ground-truth run" in str(err.value)
    assert "hybrid.volleys.interval: 50.0 ms must be at least kernel.tau (100.0 ms)" in str(err.value)
    ok = copy.deepcopy(config)
    ok["hybrid"] = {"run": "J1.075"}
    assert validate_config(ok)["hybrid"]["run"] == "J1.075"
