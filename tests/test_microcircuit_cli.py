"""``lfpk microcircuit``: the Potjans & Diesmann microcircuit on the command line (simulate, and a
run of NEST's own example read back), its spikes readable by lfpk; bad input in one line."""

import subprocess

import numpy as np
import pytest

from lfpk.engines.spikes import read_spikes


def _lfpk(repo, *args, cwd):
    return subprocess.run([str(repo / ".venv" / "bin" / "lfpk"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_simulate_writes_spikes_of_eight_populations(repo, tmp_path):
    proc = _lfpk(repo, "microcircuit", "simulate", "--config", str(repo / "config" / "microcircuit_laptop.yaml"),
                 "--output", "spikes.nc", "--rates", "rates.nc", "--tstop", "600", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "spikes: spikes.nc (" in proc.stdout
    spikes = read_spikes(tmp_path / "spikes.nc")
    names = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
    assert list(spikes.populations) == names
    # scale 0.1 of the published sizes (Potjans & Diesmann 2014, Table 5: 77,169 neurons)
    pm = spikes.unit_population
    assert int(np.sum(pm._last - pm._first + 1)) == 7717
    assert np.all(spikes.times >= 0) and np.all(spikes.times <= 600.0)  # NEST stamps a spike at the end of its step
    # every population spikes after the 500 ms transient at this scale (rates 0.4-8 /s, docs/microcircuit.md)
    assert set(np.unique(spikes.population_index[spikes.times >= 500.0])) == set(range(8))


@pytest.mark.parametrize("args, message", [
    (["simulate", "--config", "config/config.yaml", "--output", "x.nc"], "no 'microcircuit' section"),
    (["from-nest", "--data", "missing", "--output", "x.nc"], "population_nodeids.dat"),
    (["from-nest", "--data", ".", "--output", "x.nc", "--tstop", "0"], "--tstop"),
])
def test_bad_input_one_line(repo, tmp_path, args, message):
    cwd = repo if args[2:3] == ["config/config.yaml"] else tmp_path
    proc = _lfpk(repo, "microcircuit", *args, cwd=cwd)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (cwd / "x.nc").exists()
