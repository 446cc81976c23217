"""Three populations with file morphologies (tests/threepop.py): bitwise reproducible across MPI
rank counts, and a tiny study through the whole Snakemake workflow."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml
from threepop import POPULATIONS, three_population_config, write
from tinystudy import REPO, remove, results, snakemake

from lfpk.base.mpi import clean_environment, find_mpiexec

STUDY = "pytest_3pop"


@pytest.fixture(scope="module")
def base():
    with open(REPO / "config" / "config.yaml") as f:
        return yaml.safe_load(f)


def _network(config_path, outdir, ranks):
    env = clean_environment()
    cmd = [sys.executable, "-m", "lfpk", "network", "--config", str(config_path), "--outdir", str(outdir),
           "--tstop", "100", "--transient", "20"]
    if ranks > 1:
        mpiexec = find_mpiexec()
        if mpiexec is None:
            pytest.skip("mpiexec not found (install the 'mpi' extra)")
        cmd = [mpiexec, "-n", str(ranks), *cmd]
    p = subprocess.run(cmd, cwd=config_path.parent, env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]


def test_three_populations_bitwise_on_one_and_two_ranks(base, mechanisms, tmp_path):
    pytest.importorskip("mpi4py")
    from lfpk.base.io import read_dataset

    path = write(three_population_config(base, tmp_path, sizes=(12, 4, 4)), tmp_path)
    _network(path, tmp_path / "r1", 1)
    _network(path, tmp_path / "r2", 2)
    for name in ("spikes", "signals", "membrane"):
        a, b = read_dataset(tmp_path / "r1" / f"{name}.nc"), read_dataset(tmp_path / "r2" / f"{name}.nc")
        assert a.attrs["n_ranks"] == 1 and b.attrs["n_ranks"] == 2
        assert set(a.data_vars) == set(b.data_vars)
        for v in a.data_vars:
            assert np.array_equal(a[v].values, b[v].values, equal_nan=a[v].dtype.kind == "f"), (name, v)
    sp = read_dataset(tmp_path / "r1" / "spikes.nc")
    assert list(sp["population"].values) == list(POPULATIONS)
    counts = sp["population_count"].sum("time").values
    assert np.all(counts > 0), f"every population spikes: {dict(zip(POPULATIONS, counts))}"
    sig = read_dataset(tmp_path / "r1" / "signals.nc")
    assert list(sig["source"].values) == ["total", *POPULATIONS]
    np.testing.assert_allclose(sig["cdm"].values[0], sig["cdm"].values[1:].sum(axis=0), rtol=1e-12, atol=1e-12)
    mem = read_dataset(tmp_path / "r1" / "membrane.nc")
    nseg = dict(zip(POPULATIONS, mem["nseg"].values))
    assert nseg["I"] == 11 and nseg["E"] == 28 and nseg["I2"] > 100
    cfg = json.loads(sp.attrs["parameters"])
    assert os.path.isabs(cfg["populations"]["E"]["morphology"]["file"])  # resolved next to the config


@pytest.fixture(scope="module")
def study(base, mechanisms, tmp_path_factory):
    folder = tmp_path_factory.mktemp("threepop")
    path = write(three_population_config(base, folder, study=STUDY), folder)
    remove(STUDY)
    proc = snakemake("--cores", "2", "--configfile", path)
    yield path, proc, results(STUDY)
    remove(STUDY)


def test_three_population_study_through_snakemake(study):
    import matplotlib.image

    from lfpk.api.config import load_config
    from lfpk.base.io import read_dataset
    from lfpk.entry.workflow import all_targets_for

    path, proc, res = study
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    cfg = load_config(path)
    missing = [t for t in all_targets_for(cfg) if not (REPO / t).is_file()]
    assert not missing, missing
    k = read_dataset(res / "kernels" / "default" / "frozen-geff-scalar" / "kernels.nc")
    assert list(k["post"].values) == sorted(POPULATIONS) and list(k["pre"].values) == sorted(POPULATIONS)
    assert np.all(np.isfinite(k["K"].values)) and np.all(np.abs(k["cdm"].values).max(axis=-1).max(axis=-1) > 0)
    # the quasi-linear kernels onto the I2 basket cell (file morphology, Nap_Et2 linearised as
    # QuasiNap_Et2): present and different from the frozen ones
    ql = read_dataset(res / "kernels" / "default" / "quasi_linear-nogeff-scalar" / "kernels.nc")
    onto_i2 = ql["cdm"].sel(post="I2").values
    assert np.all(np.isfinite(onto_i2)) and np.all(np.abs(onto_i2).max(axis=-1).max(axis=-1) > 0)
    assert not np.allclose(onto_i2, k["cdm"].sel(post="I2").values)
    from lfpk.model import from_config
    from lfpk.model.biophysics import linearised

    model = from_config(cfg)
    assert linearised(model.populations["I2"].cell_biophysics, model.quasi_linear) == {"Nap_Et2": "QuasiNap_Et2"}
    assert json.loads(ql.attrs["parameters"])["populations"]["I2"]["morphology"]["file"].endswith("basket.asc")
    pred = read_dataset(res / "prediction" / "default" / "frozen-geff-scalar.nc")
    assert list(pred["source"].values) == ["total", *POPULATIONS]
    # the kernel figure is a grid: one pair of rows per postsynaptic population, one column per
    # presynaptic one (not a single row of 9 panels)
    img = matplotlib.image.imread(res / "figures" / "default" / "kernels_frozen-geff-scalar.png")
    assert img.shape[0] > 0.8 * img.shape[1], img.shape
    morph = read_dataset(res / "morphology" / "I2.nc")
    assert set(morph["group"].values.astype(str)) >= {"soma", "dend"} and morph.attrs["file"].endswith("basket.asc")
    # the morphology file is an input of the rules that build cells: changing it reruns them
    from tinystudy import dry_run_jobs

    with open(path.parent / "basket.asc", "a") as f:
        f.write("; changed\n")
    rules = {r for r, _ in dry_run_jobs("--configfile", path)}
    assert {"morphology", "network", "kernels"} <= rules, rules
