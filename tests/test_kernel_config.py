"""Kernels for the spikes' own network: `lfpk predict --kernel-config`, `lfpk.compute_kernels`,
probes as a list of objects."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lfpk
from lfpk.base.io import read_dataset, write_dataset
from lfpk.entry.cli.main import main

TSTOP = 400.0


@pytest.fixture(scope="module")
def spike_files(tmp_path_factory):
    """E (1024 units, ids 0..) at about 3 /s and I (128 units) at about 9 /s, one file each."""
    d = tmp_path_factory.mktemp("spk")
    rng = np.random.default_rng(3)
    out = {}
    for pop, n, rate in (("E", 1024, 3.0), ("I", 128, 9.0)):
        k = rng.poisson(rate * n * TSTOP / 1000.0)
        t = np.round(rng.uniform(0, TSTOP, k), 1)
        u = rng.integers(0, n, k)
        keep = np.unique(np.c_[u, t], axis=0, return_index=True)[1]
        (d / f"{pop}.txt").write_text("sender\ttime_ms\n" + "".join(f"{a}\t{b:.1f}\n" for a, b in zip(u[keep], t[keep])))
        out[pop] = (d / f"{pop}.txt", len(keep) / (n * TSTOP / 1000.0))
    return out


def test_kernel_config_uses_measured_rates(tmp_path, mechanisms, repo, spike_files, capsys):
    cfg = repo / "config" / "config.yaml"
    out = tmp_path / "pred.nc"
    args = ["predict", "--spikes", f"E={spike_files['E'][0]}", "--spikes", f"I={spike_files['I'][0]}",
            "--tstop", str(TSTOP), "--output", str(out)]
    assert main([*args, "--kernel-config", str(cfg)]) == 0
    cap = capsys.readouterr()
    assert "warning" not in cap.err
    pred = read_dataset(out)
    used = json.loads(json.loads(pred.attrs["kernel_attrs"])["rates_used"])
    measured = {p: spike_files[p][1] for p in ("E", "I")}
    assert used == pytest.approx(measured, rel=1e-12)
    assert "kernels computed at the measured rates" in pred.attrs["kernel_source"]
    assert f"mean rate {measured['E']:.4g} /s" in cap.out and "(kernel configuration)" in cap.out
    # the same as computing the kernels at those rates and predicting in Python
    kernels = lfpk.compute_kernels(cfg, rates=measured)
    spikes = lfpk.read_spikes([f"E={spike_files['E'][0]}", f"I={spike_files['I'][0]}"], tstop=TSTOP)
    ref = lfpk.predict(kernels, lfpk.population_counts(spikes, kernels.attrs["dt"]))
    for s in ("lfp", "cdm", "eeg"):
        np.testing.assert_allclose(pred[s].values, ref[s].values, rtol=0, atol=1e-12 * np.abs(ref[s].values).max())
    # kernels made for the config's rates (E 2.5, I 5 /s) warn about the mismatch
    kfile = write_dataset(lfpk.compute_kernels(cfg), tmp_path / "kernels.nc")
    assert main([*args[:-1], str(tmp_path / "p2.nc"), "--kernels", str(kfile)]) == 0
    err = capsys.readouterr().err
    assert f"a rate of I of 5 /s, but the spikes have {measured['I']:.4g} /s" in err
    assert "rate of E of 2.5 /s" in err  # 3 /s vs 2.5 /s: +20 %


def test_compute_kernels_with_probe_objects(mechanisms, repo):
    """Probes given as objects (lfpk's and a plain LFPykit model on the kernel cell) give the same
    kernels as the configuration's probes for the shared ones."""
    import lfpykit

    cfg = lfpk.load_config(repo / "config" / "config.yaml")
    from lfpk.model.probes import probes_from_config

    built = probes_from_config(cfg, "E")
    point = lfpykit.PointSourcePotential(cell=None, x=np.array([0.0]), y=np.array([0.0]), z=np.array([500.0]),
                                         sigma=0.3)
    k_cfg = lfpk.compute_kernels(cfg, connections=[("E", "E")])
    k_obj = lfpk.compute_kernels(cfg, connections=[("E", "E")],
                                 probes=[built["lfp"], built["cdm"], lfpk.CellProbe(point, "point", "mV")])
    assert {"lfp", "cdm", "point"} <= set(k_obj.data_vars) and "csd" not in k_obj.data_vars
    for s in ("lfp", "cdm"):
        np.testing.assert_allclose(k_obj[s].values, k_cfg[s].values, rtol=0, atol=1e-14 * np.abs(k_cfg[s].values).max())
    # the point-source kernel is the LFPykit matrix applied to the summed transmembrane currents
    from lfpk.engines.kernel import KernelEngine
    from lfpk.engines.kernel.inputs import kernel_inputs
    from lfpk.model.probes import as_cell_geometry

    eng = KernelEngine.from_config(cfg)
    V, rates, _ = kernel_inputs(cfg)
    res = eng.kernel("E", "E", V["E"], rates=rates)
    point.cell = as_cell_geometry(eng.populations["E"].geometry())
    expect = np.asarray(point.get_transformation_matrix()) @ res["transmembrane_current"]
    np.testing.assert_allclose(k_obj["point"].values[0, 0], expect, rtol=1e-12, atol=1e-15)
