"""Configuration validation: shipped configs pass, bad ones fail naming the key."""

import pytest
import yaml

from lfpk.api.config import ConfigError, load_config, validate_config


#: The paper configs run network.tasks = 64 ranks, spread by a cluster's scheduler: at most 8 share a
#: node here (64 ranks on this machine would not fit, and the validator says so).
CLUSTER = {"LFPK_RANKS_PER_NODE": "8"}


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml"])
def test_shipped_configs_validate(repo, name, monkeypatch):
    monkeypatch.setenv("LFPK_RANKS_PER_NODE", CLUSTER["LFPK_RANKS_PER_NODE"])
    cfg = load_config(repo / "config" / name)
    assert cfg["populations"]["E"]["morphology"]["apic"]["length"] == 1000.0


def test_laptop_scale_keeps_paper_in_degrees(repo, monkeypatch):
    monkeypatch.setenv("LFPK_RANKS_PER_NODE", CLUSTER["LFPK_RANKS_PER_NODE"])
    laptop = load_config(repo / "config" / "config.yaml")
    paper = load_config(repo / "config" / "paper.yaml")
    assert paper["populations"]["E"]["size"] == 8192 and paper["populations"]["I"]["size"] == 1024
    for c_lap, c_pap in zip(laptop["connections"], paper["connections"]):
        n_lap = laptop["populations"][c_lap["pre"]]["size"]
        n_pap = paper["populations"][c_pap["pre"]]["size"]
        assert c_lap["probability"] * n_lap == pytest.approx(c_pap["probability"] * n_pap)


def _mutate(cfg, path, value):
    node = cfg
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return cfg


@pytest.mark.parametrize(
    "path, value, message",
    [
        (["connections", 0, "synapse", "tau2"], 0.1, "connections[0].synapse.tau2"),
        (["populations", "E", "extrinsic", "synapse", "tau1"], 5.0, "populations.E.extrinsic.synapse.tau2"),
        (["populations", "I", "size"], -5, "populations.I.size"),
        (["populations", "E", "size"], 10.5, "populations.E.size"),
        (["connections", 2, "probability"], 1.5, "connections[2].probability"),
        (["simulation", "dt"], 0.0, "simulation.dt"),
        (["simulation", "dt"], KeyError, "missing key simulation.dt"),
        (["simulation", "colour"], "red", "unknown key simulation.colour"),
        (["simulation", "transient"], 5000.0, "simulation.transient"),
        (["connections", 1, "pre"], "X", "connections[1].pre"),
        (["kernel", "tau"], 0.01, "kernel.tau"),
        (["kernel", "form"], "acausal", "kernel.form"),
        (["probes", "eeg", "radii"], [1.0, 2.0, 3.0], "probes.eeg.radii"),
        (["connections", 0, "placement", "sections"], ["axon"], "connections[0].placement.sections[0]"),
    ],
)
def test_bad_config_names_the_key(config, path, value, message):
    _mutate(config, path, value)
    with pytest.raises(ConfigError) as info:
        validate_config(config)
    assert message in str(info.value)


def test_load_config_names_the_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="nope.yaml"):
        load_config(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("study: [unclosed\n")
    with pytest.raises(ConfigError, match="broken.yaml"):
        load_config(broken)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"study": "x"}))
    with pytest.raises(ConfigError, match=r"(?s)bad.yaml.*missing key seed"):
        load_config(bad)
