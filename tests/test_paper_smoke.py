"""config/paper_smoke.yaml (issue 26) is config/paper.yaml with only its costly lengths shortened:
every size and setting of the network, kernels, probes and analysis stays the paper's; and
config/paper_j1.yaml is config/paper.yaml at J = 1 only, on 2 local ranks."""

import copy
import os
import subprocess

import pytest

from lfpk.api.config import load_config

#: The keys the smoke overlay may change, and nothing else (config path -> reason).
SHORTENED = {
    ("study",): "its own results folder",
    ("simulation", "tstop"): "600 ms instead of 12 s",
    ("simulation", "transient"): "200 ms instead of 2 s",
    ("scans", "J"): "two of the five J values",
    ("network", "tasks"): "2 local ranks instead of 64",
    ("pointnet", "fit", "population"): "the fit's budget",
    ("pointnet", "fit", "generations"): "the fit's budget",
    ("pointnet", "fit", "tstop"): "the fit's simulated time",
}


def _drop(cfg, path):
    node = cfg
    for key in path[:-1]:
        node = node[key]
    node.pop(path[-1], None)


@pytest.fixture
def configs(repo, monkeypatch):
    # the paper's 64 ranks are spread by a cluster's scheduler (8 per node), as in test_config
    monkeypatch.setenv("LFPK_RANKS_PER_NODE", "8")
    return load_config(repo / "config" / "paper.yaml"), load_config(repo / "config" / "paper_smoke.yaml")


def _same_but(paper, other, paths):
    a, b = copy.deepcopy(paper), copy.deepcopy(other)
    for path in paths:
        _drop(a, path)
        _drop(b, path)
    # drop provenance keys that name the file itself
    for cfg in (a, b):
        for key in [k for k in cfg if k.startswith("_")]:
            cfg.pop(key)
    return a == b


def test_smoke_keeps_every_paper_setting_but_the_shortened(configs):
    paper, smoke = configs
    assert _same_but(paper, smoke, SHORTENED)
    # and the comparison can fail: a changed size is noticed
    changed = copy.deepcopy(smoke)
    changed["populations"]["E"]["size"] = 1024
    assert not _same_but(paper, changed, SHORTENED)


def test_j1_config_is_the_paper_at_j1_over_12_s(repo, configs, monkeypatch):
    """config/paper_j1.yaml (issue 26, part 2): the paper's full 12 s at J = 1 on 2 ranks."""
    paper, _ = configs
    j1 = load_config(repo / "config" / "paper_j1.yaml")
    assert _same_but(paper, j1, [("study",), ("scans", "J"), ("network", "tasks")])
    assert j1["scans"]["J"] == [1.0] and 1.0 in paper["scans"]["J"]
    assert j1["simulation"]["tstop"] == 12000.0 and j1["network"]["tasks"] == 2


def test_smoke_is_paper_sized_and_short(configs):
    paper, smoke = configs
    assert smoke["populations"]["E"]["size"] == paper["populations"]["E"]["size"] == 8192
    assert smoke["populations"]["I"]["size"] == paper["populations"]["I"]["size"] == 1024
    assert smoke["kernel"]["variants"] == paper["kernel"]["variants"] and len(paper["kernel"]["variants"]) == 12
    assert smoke["sensitivity"] == paper["sensitivity"]
    assert smoke["simulation"]["tstop"] < paper["simulation"]["tstop"]
    assert set(smoke["scans"]["J"]) <= set(paper["scans"]["J"]) and len(smoke["scans"]["J"]) == 2


def test_smoke_dry_run_plans_every_rule_on_two_ranks(repo):
    """The whole DAG plans on this machine without spreading ranks (2 local ranks fit)."""
    bin_ = repo / ".venv" / "bin"
    env = dict(os.environ, PATH=f"{bin_}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("LFPK_RANKS_PER_NODE", None)
    proc = subprocess.run([str(bin_ / "snakemake"), "-n", "--configfile", "config/paper_smoke.yaml",
                           "--config", "study=pytest_smoke_dry_run"],
                          check=False, cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    for rule in ("network", "kernels", "predict", "compare", "sensitivity", "hybrid_reconstruction",
                 "pointnet_fit", "figure_fig14", "paper_fig03", "paper_fig09", "paper_figS1"):
        assert f"\n{rule} " in out or f"rule {rule}:" in out, rule
