"""Kernel files: data contract, netCDF round trip, gathering, CLI."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lfpk.api.config import validate_config
from lfpk.base.io import read_dataset
from lfpk.engines.kernel.inputs import kernel_inputs
from lfpk.study.stages import gather_kernel_files, write_kernel_set, write_kernels

PAIRS = [("E", "E"), ("E", "I"), ("I", "E"), ("I", "I")]


@pytest.fixture(scope="module")
def kernel_files(tmp_path_factory, mechanisms, _laptop_config_raw):
    cfg = validate_config(_laptop_config_raw)
    out = tmp_path_factory.mktemp("kernels")
    paths = [out / f"{post}_{pre}.nc" for post, pre in PAIRS]
    write_kernels(cfg, PAIRS, paths)
    gather_kernel_files(paths, out / "kernels.nc")
    return cfg, out, paths


def test_contract_units_and_attributes(kernel_files):
    cfg, out, paths = kernel_files
    for path, (post, pre) in zip(paths, PAIRS):
        ds = read_dataset(path)
        assert ds.attrs["post"] == post and ds.attrs["pre"] == pre
        for name in ("lfp", "csd", "cdm", "eeg", "meg", "transmembrane_current"):
            assert name in ds, name
            assert ds[name].attrs["units"] and ds[name].attrs["long_name"]
        assert ds["lfp"].attrs["units"] == "mV"
        assert ds["csd"].attrs["units"] == "uA/mm3"
        assert ds["cdm"].attrs["units"] == "nA um"
        assert ds["lag"].attrs["units"] == "ms"
        np.testing.assert_allclose(ds["channel_z"].values, cfg["probes"]["channel_z"])
        assert ds.sizes["lag"] == 2 * round(cfg["kernel"]["tau"] / cfg["simulation"]["dt"]) + 1
        for key in ("parameters", "rates_used", "V_rest_used", "software_versions", "provenance"):
            assert key in ds.attrs
        # causal: nothing at negative lags
        assert np.all(ds["lfp"].values[:, ds["lag"].values < 0] == 0)
        # the dipole kernel is the dipole of the transmembrane-current kernel
        z = ds["segment_z"].values
        np.testing.assert_allclose(ds["cdm"].sel(component="z").values,
                                   z @ ds["transmembrane_current"].values, rtol=1e-9,
                                   atol=1e-9 * np.abs(ds["cdm"].values).max())


def test_round_trip_values(kernel_files, tmp_path):
    cfg, out, paths = kernel_files
    ds = read_dataset(paths[1])
    again = tmp_path / "again.nc"
    write_kernels(cfg, [PAIRS[1]], [again])
    ds2 = read_dataset(again)
    for name in ds.data_vars:
        np.testing.assert_array_equal(ds[name].values, ds2[name].values)
    assert ds.attrs["parameters"] == ds2.attrs["parameters"]


def test_gathered_file(kernel_files):
    cfg, out, paths = kernel_files
    g = read_dataset(out / "kernels.nc")
    assert list(g["post"].values) == ["E", "I"] and list(g["pre"].values) == ["E", "I"]
    for path, (post, pre) in zip(paths, PAIRS):
        ds = read_dataset(path)
        np.testing.assert_array_equal(g["lfp"].sel(post=post, pre=pre).values, ds["lfp"].values)
        assert float(g["k_out"].sel(post=post, pre=pre)) == pytest.approx(ds.attrs["k_out"])
    # attributes of the postsynaptic population: each post's own, not the first connection's
    per_post = json.loads(g.attrs["per_post"])
    assert sorted(per_post) == ["E", "I"] and "V_rest_used" not in g.attrs
    for path, (post, pre) in zip(paths, PAIRS):
        ds = read_dataset(path)
        assert per_post[post]["V_rest_used"] == json.loads(ds.attrs["V_rest_used"])
    # posts that differ (here by hand: a file morphology for E only, other potentials for I)
    from lfpk.engines.kernel.dataset import gather_kernels

    edited = []
    for path, (post, pre) in zip(paths, PAIRS):
        ds = read_dataset(path)
        if post == "E":
            ds.attrs.update(morphology_file="cells/e.swc", morphology_sha256="ab" * 32)
        else:
            ds.attrs["V_rest_used"] = json.dumps(-71.5)
        edited.append(ds)
    per_post = json.loads(gather_kernels(edited[::-1]).attrs["per_post"])
    assert per_post["E"]["morphology_file"] == "cells/e.swc" and per_post["E"]["morphology_sha256"] == "ab" * 32
    assert "morphology_file" not in per_post["I"] and per_post["I"]["V_rest_used"] == -71.5
    assert per_post["E"]["V_rest_used"] == json.loads(read_dataset(paths[0]).attrs["V_rest_used"])


@pytest.mark.parametrize("options", [{}, {"biophysics": "passive", "g_eff": False, "tau": 20.0}],
                         ids=["config", "passive-nogeff"])
def test_kernel_set_equals_gathered_per_connection_files(mechanisms, _laptop_config_raw, tmp_path, options):
    """The workflow's one kernel job per (run, variant) (write_kernel_set: one engine, every
    connection, written gathered) gives the file the former two steps gave: one kernel file per
    connection, each from a fresh engine as in its own job, then kernel-gather. Data, coordinates
    and every attribute (dataset and variables) are identical, and so are the stored dtypes."""
    import xarray as xr

    cfg = validate_config(_laptop_config_raw)
    pairs = [(c["post"], c["pre"]) for c in cfg["connections"]]  # the old gather's input order
    paths = []
    for post, pre in pairs:
        paths.append(tmp_path / f"{post}_{pre}.nc")
        write_kernels(cfg, [(post, pre)], [paths[-1]], **options)
    gather_kernel_files(paths, tmp_path / "two_steps.nc")
    timings = write_kernel_set(cfg, tmp_path / "one_job.nc", **options)
    assert list(timings) == pairs
    old, new = read_dataset(tmp_path / "two_steps.nc", kind="kernels"), read_dataset(tmp_path / "one_job.nc")
    xr.testing.assert_identical(new, old)  # values, dims, coordinates, attributes of all
    assert set(new.attrs) == set(old.attrs) and new.attrs["parameters"] == old.attrs["parameters"]
    for name in old.variables:
        assert set(new[name].attrs) == set(old[name].attrs), name
        assert new[name].dtype == old[name].dtype, name
    assert np.abs(new["lfp"].values).max() > 0


def test_kernel_set_output_checked_before_computing(mechanisms, _laptop_config_raw, tmp_path, monkeypatch):
    """Bad outputs are refused by the one output guard (lfpk.base.io) before any kernel is computed,
    and nothing is left behind."""
    from lfpk.base.errors import OutputError
    from lfpk.study import stages

    cfg = validate_config(_laptop_config_raw)

    def fail(*args, **kwargs):
        raise AssertionError("kernels computed before the output was checked")

    monkeypatch.setattr(stages, "kernel_datasets", fail)
    with pytest.raises(OutputError, match="does not exist"):
        write_kernel_set(cfg, tmp_path / "missing" / "kernels.nc")
    (tmp_path / "folder.nc").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        write_kernel_set(cfg, tmp_path / "folder.nc")
    membrane = tmp_path / "membrane.nc"
    membrane.write_bytes(b"not touched")
    with pytest.raises(OutputError, match="is the input"):
        write_kernel_set(cfg, membrane, membrane=str(membrane))
    assert membrane.read_bytes() == b"not touched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.nc", "membrane.nc"]


def test_kernel_inputs_from_config(config):
    V, rates, prov = kernel_inputs(validate_config(config))
    assert V == {"E": config["kernel"]["V_rest"], "I": config["kernel"]["V_rest"]}
    assert rates == config["kernel"]["rates"]
    with pytest.raises(ValueError, match="segment"):
        kernel_inputs(config, None, "segment")



def test_engine_kernels_are_the_engine_kernels_and_check_pairs_first(mechanisms, _laptop_config_raw):
    """lfpk.engines.kernel.batch: one engine's kernels of several connections, in the order of
    the pairs, each the engine's own kernel; an unknown pair is refused before any is computed,
    and kernel_datasets labels each with the parameters of its connection."""
    from lfpk.base.io import to_json
    from lfpk.engines.kernel import KernelEngine
    from lfpk.engines.kernel.batch import engine_kernels, kernel_datasets
    from lfpk.engines.kernel.inputs import kernel_parameters

    cfg = validate_config(_laptop_config_raw)
    V, rates, prov = kernel_inputs(cfg)
    engine = KernelEngine.from_config(cfg, biophysics="passive", g_eff=False, tau=10.0)
    pairs = [("I", "E"), ("E", "I")]
    got = list(engine_kernels(engine, pairs, V, rates))
    assert [(post, pre) for post, pre, _ in got] == pairs
    for post, pre, res in got:
        ref = engine.kernel(post, pre, V[post], rates=rates)
        assert np.array_equal(res["lfp"], ref["lfp"]) and np.array_equal(res["cdm"], ref["cdm"])

    calls = []
    engine.kernel = lambda *a, **k: calls.append(a)
    with pytest.raises(ValueError, match="connection X -> E is not in the configuration"):
        list(engine_kernels(engine, [("E", "E"), ("E", "X")], V, rates))
    assert calls == []

    engine = KernelEngine.from_config(cfg, biophysics="passive", g_eff=False, tau=10.0)
    for post, pre, ds, seconds in kernel_datasets(engine, cfg, pairs, V, rates, prov):
        assert (ds.attrs["post"], ds.attrs["pre"]) == (post, pre) and seconds > 0
        assert ds.attrs["parameters"] == to_json(kernel_parameters(cfg, post, pre))
        assert json.loads(ds.attrs["provenance"]) == prov

def _lfpk(*args):
    return subprocess.run([str(Path(sys.executable).with_name("lfpk")), *args], capture_output=True, text=True)


def test_cli_single_kernel_and_errors(tmp_path, repo):
    out = tmp_path / "E_I.nc"
    proc = _lfpk("kernel", "--config", str(repo / "config/config.yaml"), "--post", "E", "--pre", "I",
                 "--output", str(out), "--no-g-eff", "--biophysics", "passive")
    assert proc.returncode == 0, proc.stderr
    ds = read_dataset(out)
    assert ds.attrs["biophysics"] == "passive" and ds.attrs["g_eff_on"] == 0
    # --gathered: the selected connections in one file, as the workflow's kernels.nc (config order)
    proc = _lfpk("kernel", "--config", str(repo / "config/config.yaml"), "--pre", "I", "--gathered",
                 str(tmp_path / "onto_all_from_I.nc"), "--no-g-eff", "--biophysics", "passive")
    assert proc.returncode == 0, proc.stderr
    g = read_dataset(tmp_path / "onto_all_from_I.nc", kind="kernels")
    assert list(g["post"].values) == ["E", "I"] and list(g["pre"].values) == ["I"]
    np.testing.assert_array_equal(g["lfp"].sel(post="E", pre="I").values, ds["lfp"].values)
    assert json.loads(g.attrs["parameters"])["connection"] == next(
        c for c in json.loads(ds.attrs["parameters"])["connections"] if c["pre"] == "I")
    proc = _lfpk("kernel", "--config", str(out), "--gathered", str(out))
    assert proc.returncode == 2 and "refusing to overwrite an input" in proc.stderr
    proc = _lfpk("kernel", "--post", "E", "--pre", "X", "--output", str(tmp_path / "x.nc"))
    assert proc.returncode == 2 and "X -> E" in proc.stderr
    proc = _lfpk("kernel", "--tau", "0.01", "--outdir", str(tmp_path / "bad"))
    assert proc.returncode == 2 and "tau" in proc.stderr
    proc = _lfpk("kernel", "--rate", "E:3", "--outdir", str(tmp_path / "bad"))
    assert proc.returncode != 0 and "--rate" in proc.stderr
    assert not (tmp_path / "bad").exists() or not list((tmp_path / "bad").iterdir())


def test_extra_lfpykit_model_probe(config, mechanisms, tmp_path):
    """A probe given by LFPykit class name lands in the kernel file and is linear in I_m."""
    config["probes"]["models"] = {
        "point": {"model": "PointSourcePotential",
                  "kwargs": {"x": [0.0, 0.0], "y": [0.0, 0.0], "z": [500.0, -100.0], "sigma": 0.3},
                  "order": [4, 4, 6]},
    }
    cfg = validate_config(config)
    write_kernels(cfg, [("E", "I")], [tmp_path / "E_I.nc"])
    ds = read_dataset(tmp_path / "E_I.nc")
    assert ds["point"].dims == ("point_channel", "lag") and ds["point"].attrs["units"] == "mV"
    from lfpk.model.probes import probes_from_config
    probe = probes_from_config(cfg, "E", cell=None)["point"]
    from lfpk.model import from_config
    M = probe.get_transformation_matrix(from_config(cfg).populations["E"].geometry())
    assert json.loads(ds["point"].attrs["quadrature_order"]) == [4, 4, 6]
    np.testing.assert_allclose(ds["point"].values, M @ ds["transmembrane_current"].values, rtol=1e-9,
                               atol=1e-12 * np.abs(ds["point"].values).max())
