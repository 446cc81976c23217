"""``lfpk pointnet``: bad input ends in one line naming the file or option, exit status 2, nothing written."""

from __future__ import annotations

import copy

import pytest
import yaml

from lfpk.entry.cli.main import main


@pytest.fixture(scope="module")
def files(tmp_path_factory, _laptop_config_raw):
    """A tiny configuration, its LIF network's spikes (as a stand-in ground truth) and a config
    without the pointnet section."""
    from lfpk.base.io import write_dataset
    from lfpk.study.pointnet.network import LIFNetwork, spikes_dataset
    from lfpk.study.pointnet.parameters import LIFParameters

    d = tmp_path_factory.mktemp("pointnet_cli")
    cfg = copy.deepcopy(_laptop_config_raw)
    cfg["populations"]["E"]["size"], cfg["populations"]["I"]["size"] = 40, 10
    cfg["simulation"].update(tstop=300.0, transient=100.0)
    cfg["pointnet"]["threads"] = 1
    (d / "tiny.yaml").write_text(yaml.safe_dump(cfg))
    p = LIFParameters.from_config(cfg)
    write_dataset(spikes_dataset(p, LIFNetwork(p).simulate(300.0), 300.0, 100.0), d / "spikes.nc")
    other = copy.deepcopy(cfg)
    other["populations"]["E"]["size"] = 41
    (d / "other.yaml").write_text(yaml.safe_dump(other))
    late = copy.deepcopy(cfg)
    late["simulation"]["transient"] = 250.0
    (d / "late.yaml").write_text(yaml.safe_dump(late))
    bare = copy.deepcopy(cfg)
    del bare["pointnet"]
    (d / "bare.yaml").write_text(yaml.safe_dump(bare))
    return d


CASES = [
    (["fit", "--config", "tiny.yaml", "--ground-truth", "missing.nc", "--output", "fit.nc"],
     "missing.nc does not exist"),
    (["fit", "--config", "other.yaml", "--ground-truth", "spikes.nc", "--output", "fit.nc"],
     "spikes.nc: populations {'E': 40, 'I': 10} differ from the configuration's {'E': 41, 'I': 10}"),
    (["fit", "--config", "bare.yaml", "--ground-truth", "spikes.nc", "--output", "fit.nc"],
     "bare.yaml: no 'pointnet' section"),
    (["fit", "--config", "tiny.yaml", "--ground-truth", "spikes.nc", "--output", "spikes.nc"], "spikes.nc"),
    (["fit", "--config", "late.yaml", "--ground-truth", "spikes.nc", "--output", "fit.nc"],
     "spikes.nc: analysis window [250, 300) ms is shorter than one rate-spectrum segment"),
    (["simulate", "--config", "tiny.yaml", "--output", "s.nc", "--online", "o.nc"], "give both kernels"),
    (["simulate", "--config", "tiny.yaml", "--output", "s.nc", "--fit", "spikes.nc"],
     "spikes.nc: not a pointnet fit"),
    (["rates", "--config", "tiny.yaml", "--ground-truth", "spikes.nc", "--spikes", "nope.nc", "--output", "r.nc"],
     "nope.nc does not exist"),
    # the one rule for times (lfpk.model.times), naming the options (issue 22: NaN rates, exit 0)
    (["simulate", "--config", "tiny.yaml", "--output", "s.nc", "--tstop", "0"],
     "--tstop: 0 ms; expected a positive time of at least one step of simulation.dt (0.0625 ms)"),
    (["simulate", "--config", "tiny.yaml", "--output", "s.nc", "--tstop", "50"],
     "simulation.transient: 100 ms leaves no time to analyse before --tstop (50 ms)"),
    (["simulate", "--config", "tiny.yaml", "--output", "s.nc", "--tstop", "-5"],
     "--tstop: -5 ms; expected a positive time of at least one step"),
    (["simulate", "--config", "tiny.yaml", "--output", "s.nc", "--chunk", "-5"],
     "--chunk: -5.0; expected a positive, finite time (ms)"),
    (["simulate", "--config", "tiny.yaml", "--output", "s.nc", "--chunk", "0.1"],
     "--chunk: 0.1 ms is not a whole number of steps of simulation.dt (0.0625 ms)"),
    (["simulate", "--config", "tiny.yaml", "--output", "s.nc", "--chunk", "1e-9"],
     "--chunk: 1e-09 ms; expected at least one step of simulation.dt (0.0625 ms)"),
    (["simulate", "--config", "tiny.yaml", "--output", "s.nc", "--tstop", "1e12"],
     "--tstop: 1e+12 ms is 1.6e+13 steps of simulation.dt (0.0625 ms); expected at most 2147483647 steps"),
]


@pytest.mark.parametrize("args, message", CASES)
def test_bad_input_is_one_line(files, args, message, capsys, monkeypatch):
    monkeypatch.chdir(files)
    before = sorted(p.name for p in files.iterdir())
    status = main(["pointnet", *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2
    assert len(err) == 1 and err[0].startswith("lfpk pointnet: error: ") and message in err[0], err
    assert sorted(p.name for p in files.iterdir()) == before


def test_simulate_and_rates_from_the_command_line(files, capsys, monkeypatch):
    """The configured network: spikes.nc readable by lfpk predict's reader, rates of both files."""
    from lfpk.base.io import read_dataset
    from lfpk.engines.spikes import read_spikes

    monkeypatch.chdir(files)
    assert main(["pointnet", "simulate", "--config", "tiny.yaml", "--output", "lif.nc"]) == 0
    sp = read_spikes("lif.nc")
    assert sp.populations == ["E", "I"] and sp.tstop == 300.0 and sp.n_spikes > 0
    # the same configuration gives the same spikes as the network the fixture simulated
    assert read_dataset("lif.nc")["spike_time"].equals(read_dataset("spikes.nc")["spike_time"])
    assert main(["pointnet", "rates", "--config", "tiny.yaml", "--ground-truth", "spikes.nc", "--spikes", "lif.nc",
                 "--output", "rates.nc"]) == 0
    out = capsys.readouterr().out
    assert "(+0.0 %)" in out and "rates: rates.nc" in out


def test_simulate_refuses_spikes_that_cannot_fit_in_memory(files, capsys, monkeypatch):
    """The recorded spikes (sizes x expected rate x tstop) are estimated before NEST starts; a run
    whose spikes cannot fit is refused naming --tstop (1e7 ms of 50 neurons: about 1.5 M spikes)."""
    from lfpk.study.pointnet.parameters import spike_memory

    monkeypatch.chdir(files)
    monkeypatch.setenv("LFPK_MEMORY_LIMIT", "512M")
    cfg = yaml.safe_load((files / "tiny.yaml").read_text())
    spikes, need = spike_memory(cfg, 1e7)
    assert spikes == (40 * 2.5 + 10 * 5.0) * 1e4 and need > 512 * 2**20
    status = main(["pointnet", "simulate", "--config", "tiny.yaml", "--output", "s.nc", "--tstop", "1e7"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1, err
    assert err[0].startswith("lfpk pointnet: error: --tstop: 1e+07 ms of the LIF network would record about 1.5e+06 "
                             "spikes"), err
    assert "more than 537 MB (LFPK_MEMORY_LIMIT=512M)" in err[0]
    assert not (files / "s.nc").exists()


def test_pointnet_config_times_follow_the_one_rule(files):
    """pointnet.fit.tstop and pointnet.online.chunk are checked by lfpk.model.times, naming the key."""
    from lfpk.study.pointnet.parameters import config_errors

    cfg = yaml.safe_load((files / "tiny.yaml").read_text())
    assert config_errors(cfg) == []
    cfg["pointnet"]["online"]["chunk"] = -2.0
    cfg["pointnet"]["fit"]["tstop"] = 1e12
    errors = config_errors(cfg)
    assert "pointnet.online.chunk: -2.0; expected a positive, finite time (ms)" in errors
    assert any(e.startswith("pointnet.fit.tstop: 1e+12 ms is 1.6e+13 steps of simulation.dt") for e in errors), errors


def test_simulate_bad_times_from_the_console_script(files):
    """The console script: exit 2, one line, no traceback, nothing written."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    lfpk = Path(sys.executable).parent / "lfpk"
    proc = subprocess.run([str(lfpk), "pointnet", "simulate", "--config", "tiny.yaml", "--output", "s.nc", "--tstop",
                           "0"], cwd=files, capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == ("lfpk pointnet: error: --tstop: 0 ms; expected a positive time of at least one step of "
                           "simulation.dt (0.0625 ms)\n")
    assert not (files / "s.nc").exists()
