"""Sensitivity map: the reference point equals the kernel -> predict -> compare pipeline, analytic
properties of the map, file stage and input errors (synthetic spikes and ground truth, short kernels)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from lfpk.base.io import read_dataset, write_dataset
from lfpk.model.morphology import BallAndStick
from lfpk.study.sensitivity import sensitivity_files, sensitivity_grid, sensitivity_scan

DT = 0.0625
TSTOP = 250.0
TRANSIENT = 50.0
V_SOMA = {"E": -67.0, "I": -64.0}
RATES = {"E": 3.0, "I": 8.0}


@pytest.fixture
def cfg(config):
    config["kernel"]["tau"] = 10.0  # short kernels: fast
    config["simulation"]["dt"] = DT
    config["sensitivity"] = {"variant": "frozen-geff-scalar",
                             "rate_scales": {"start": 0.5, "stop": 1.5, "num": 3},
                             "v_rest_offsets": {"start": -4.0, "stop": 4.0, "num": 3}}
    return config


def membrane_dataset(cfg):
    pops = list(cfg["populations"])
    nseg = [len(BallAndStick.from_config(p, cfg["populations"][p]).segments()["area"]) for p in pops]
    vseg = np.full((len(pops), max(nseg)), np.nan)
    for i, p in enumerate(pops):
        vseg[i, :nseg[i]] = V_SOMA[p] + np.linspace(0.0, 2.0, nseg[i])
    return xr.Dataset(
        {"v_soma": ("population", [V_SOMA[p] for p in pops], {"units": "mV", "long_name": "median somatic V"}),
         "v_segment": (("population", "segment"), vseg, {"units": "mV", "long_name": "median segment V"}),
         "nseg": ("population", nseg, {"units": "1", "long_name": "segments"}),
         "rate": ("population", [RATES[p] for p in pops], {"units": "1/s", "long_name": "mean rate"})},
        coords={"population": pops, "segment": np.arange(max(nseg))},
        attrs={"dt": DT, "tstop": TSTOP, "transient": TRANSIENT})


def spikes_dataset(seed=1):
    """Poisson spikes of 40 E and 10 I units on bin centres (spikes.nc layout)."""
    rng = np.random.default_rng(seed)
    units, pops = [], []
    times, owners = [], []
    n_bins = int(TSTOP / DT)
    for u in range(50):
        pop = "E" if u < 40 else "I"
        pops.append(pop)
        rate = 15.0 if pop == "E" else 30.0  # 1/s
        n = rng.poisson(rate * TSTOP * 1e-3)
        b = np.sort(rng.choice(n_bins, size=n, replace=False))
        times.extend((b + 0.5) * DT)
        owners.extend([u] * n)
        units.append(u)
    order = np.lexsort((owners, times))
    t = np.asarray(times)[order]
    o = np.asarray(owners)[order]
    n = int(np.floor(TSTOP / DT)) + 1
    counts = np.zeros((2, n), dtype=np.int64)
    for ti, ui in zip(t, o):
        counts[0 if ui < 40 else 1, int(np.floor(ti / DT + 1e-6))] += 1
    return xr.Dataset(
        {"spike_time": ("spike", t, {"units": "ms", "long_name": "spike time"}),
         "spike_unit": ("spike", o, {"units": "1", "long_name": "unit"}),
         "unit_population": ("unit", pops, {"units": "1", "long_name": "population"}),
         "population_count": (("population", "time"), counts, {"units": "1", "long_name": "spikes per bin"})},
        coords={"unit": units, "population": ["E", "I"], "time": np.arange(n) * DT},
        attrs={"dt": DT, "tstop": TSTOP, "transient": TRANSIENT})


def noisy_ground_truth(prediction, seed=2, rel=0.5):
    """Ground truth = prediction (lfp, csd, cdm; total and per population) + independent noise."""
    rng = np.random.default_rng(seed)
    out = {}
    for name in ("lfp", "csd", "cdm"):
        v = prediction[name]
        noise = rng.normal(size=v.shape) * rel * float(v.std())
        out[name] = (v.dims, v.values + noise, dict(v.attrs))
    coords = {k: prediction.coords[k] for k in ("source", "channel", "channel_z", "component", "time")}
    return xr.Dataset(out, coords=coords, attrs={"dt": DT, "tstop": TSTOP, "transient": TRANSIENT})


@pytest.fixture
def files(cfg, tmp_path, mechanisms):
    """Synthetic run files and the independent kernel -> predict -> compare result at the reference."""
    from lfpk.engines.compare import compare_files
    from lfpk.engines.prediction.predict import predict_files
    from lfpk.study.stages import gather_kernel_files, write_kernels

    write_dataset(membrane_dataset(cfg), tmp_path / "membrane.nc")
    write_dataset(spikes_dataset(), tmp_path / "spikes.nc")
    pairs = [(c["post"], c["pre"]) for c in cfg["connections"]]
    outs = [tmp_path / f"k/{post}_{pre}.nc" for post, pre in pairs]
    (tmp_path / "k").mkdir()
    write_kernels(cfg, pairs, outs, membrane=tmp_path / "membrane.nc", v_rest_mode="scalar",
                  biophysics="frozen", g_eff=True)
    gather_kernel_files(outs, tmp_path / "kernels.nc")
    pred = predict_files(tmp_path / "spikes.nc", tmp_path / "kernels.nc", tmp_path / "prediction.nc").dataset()
    write_dataset(noisy_ground_truth(pred), tmp_path / "signals.nc")
    comp, _ = compare_files(tmp_path / "signals.nc", tmp_path / "prediction.nc", tmp_path / "comparison.nc")
    return tmp_path, comp


def test_reference_point_equals_kernel_predict_compare(cfg, files):
    path, comp = files
    ds = sensitivity_files(cfg, path / "spikes.nc", path / "signals.nc", path / "membrane.nc", path / "sens.nc")
    back = read_dataset(path / "sens.nc")
    assert back["r2"].dims == ("rate_scale", "v_rest_offset")
    np.testing.assert_allclose(back["rate_scale"].values, [0.5, 1.0, 1.5])
    np.testing.assert_allclose(back["v_rest_offset"].values, [-4.0, 0.0, 4.0])
    for name, var in back.variables.items():
        if name not in back.dims and name != "population":
            assert "units" in var.attrs and "long_name" in var.attrs, name
    sel = dict(source="total", signal="cdm_z", channel=0, approximation=comp["approximation"].values[0])
    for band, suffix in (("raw", ""), ("lowpass", "_lowpass")):
        for metric in ("r2", "r_std"):
            ref = float(comp[metric].sel({**sel, "band": band}))
            got = float(ds[metric + suffix].sel(rate_scale=1.0, v_rest_offset=0.0))
            assert got == pytest.approx(ref, rel=1e-9, abs=1e-12), (metric, band)
            assert float(ds[metric + suffix + "_reference"]) == pytest.approx(ref, rel=1e-9)
    lfp = comp["r2"].sel(source="total", signal="lfp", approximation=sel["approximation"], band="raw").values
    lfp = lfp[: int(comp["n_channels"].sel(signal="lfp"))]
    assert float(ds["lfp_r2_median_reference"]) == pytest.approx(float(np.median(lfp)), rel=1e-9)
    # away from the reference the kernels differ, so the metrics do too
    assert float(ds["r_std"].sel(rate_scale=1.0, v_rest_offset=4.0)) != pytest.approx(
        float(ds["r_std_reference"]), rel=1e-6)
    assert ds.attrs["variant"] == "frozen-geff-scalar"
    np.testing.assert_allclose(ds["V_rest_reference"].values, [V_SOMA["E"], V_SOMA["I"]])


def test_deterministic_and_reference_off_grid(cfg, files):
    path, comp = files
    spikes, signals = read_dataset(path / "spikes.nc"), read_dataset(path / "signals.nc")
    mem = read_dataset(path / "membrane.nc")
    a = sensitivity_scan(cfg, spikes, signals, mem, "frozen-geff-scalar", [0.5, 2.0], [3.0], lfp=False)
    b = sensitivity_scan(cfg, spikes, signals, mem, "frozen-geff-scalar", [0.5, 2.0], [3.0], lfp=False)
    for name in ("r2", "r_std", "r2_lowpass", "r_std_lowpass", "r2_reference"):
        np.testing.assert_array_equal(a[name].values, b[name].values)
    # reference point not on the grid: computed separately, equals the pipeline
    ref = float(comp["r2"].sel(source="total", signal="cdm_z", channel=0, band="raw").values[0])
    assert float(a["r2_reference"]) == pytest.approx(ref, rel=1e-9)
    assert "lfp_r2_median" not in a


def test_passive_without_geff_is_linear_in_driving_force(cfg, files):
    """Passive cell, no g_eff: the cell does not depend on V_rest or the rates, and every kernel is
    -g (V_rest - E) times a fixed response, so the prediction is P(d) = P0 + d B for a V_rest offset d:
    the map is constant along rate_scale and r_STD^2 is a quadratic polynomial in d."""
    path, _ = files
    spikes, signals = read_dataset(path / "spikes.nc"), read_dataset(path / "signals.nc")
    offsets = np.array([-9.0, -3.0, 3.0, 9.0, 15.0])
    ds = sensitivity_scan(cfg, spikes, signals, path / "membrane.nc", "passive-nogeff-scalar",
                          [0.0, 1.0, 2.0], offsets, lfp=False)
    for name in ("r2", "r_std"):
        v = ds[name].values
        np.testing.assert_array_equal(v, np.broadcast_to(v[:1], v.shape))
    s2 = ds["r_std"].values[0] ** 2
    coef = np.polyfit(offsets, s2, 2)
    np.testing.assert_allclose(np.polyval(coef, offsets), s2, rtol=1e-7)
    assert np.ptp(s2) > 1e-3 * s2.max()  # and it does change with V_rest
    assert ds.attrs["g_eff_on"] == 0


def test_extrinsic_rate_is_scaled_with_the_network_rates(cfg, files):
    """The study's Fig 8 scales the extrinsic rate with the presynaptic rates (scale_extrinsic, the
    default): g_eff is linear in all rates, so at scale 0 it vanishes and the map equals the map
    of the same kernels without g_eff; only the network's rates scaled leaves the extrinsic load
    and differs there. At scale 1 both agree."""
    path, _ = files
    spikes, signals = read_dataset(path / "spikes.nc"), read_dataset(path / "signals.nc")
    mem = path / "membrane.nc"
    both = sensitivity_scan(cfg, spikes, signals, mem, "frozen-geff-scalar", [0.0, 1.0], [0.0], lfp=False)
    assert both.attrs["scale_extrinsic"] == 1
    net_only = sensitivity_scan(cfg, spikes, signals, mem, "frozen-geff-scalar", [0.0, 1.0], [0.0], lfp=False,
                                scale_extrinsic=False)
    nogeff = sensitivity_scan(cfg, spikes, signals, mem, "frozen-nogeff-scalar", [1.0], [0.0], lfp=False)
    for name in ("r2", "r_std", "r_std_lowpass"):
        assert float(both[name][0, 0]) == pytest.approx(float(nogeff[name][0, 0]), rel=1e-9)
        assert float(both[name][1, 0]) == pytest.approx(float(net_only[name][1, 0]), rel=1e-12)
    assert float(net_only["r_std"][0, 0]) != pytest.approx(float(nogeff["r_std"][0, 0]), rel=1e-3)


def test_segment_variant_and_grid_from_config(cfg, files):
    path, _ = files
    rs, vo = sensitivity_grid(cfg)
    np.testing.assert_allclose(rs, [0.5, 1.0, 1.5])
    np.testing.assert_allclose(vo, [-4.0, 0.0, 4.0])
    ds = sensitivity_scan(cfg, read_dataset(path / "spikes.nc"), read_dataset(path / "signals.nc"),
                          read_dataset(path / "membrane.nc"), "frozen-nogeff-segment", [1.0], [0.0, 2.0], lfp=False)
    assert ds.attrs["v_rest_mode"] == "segment"
    assert np.all(np.isfinite(ds["r2"].values))
    # V_rest_reference reports the median over the per-segment values
    assert float(ds["V_rest_reference"].sel(population="E")) == pytest.approx(V_SOMA["E"] + 1.0)


def test_errors_name_the_problem(cfg, files):
    path, _ = files
    spikes, signals = read_dataset(path / "spikes.nc"), read_dataset(path / "signals.nc")
    mem = read_dataset(path / "membrane.nc")
    with pytest.raises(ValueError, match="'cdm'"):
        sensitivity_scan(cfg, spikes, signals.drop_vars("cdm"), mem, "frozen-geff-scalar", [1.0], [0.0])
    with pytest.raises(ValueError, match="population_count"):
        sensitivity_scan(cfg, spikes.drop_vars("population_count"), signals, mem, "frozen-geff-scalar", [1.0], [0.0])
    with pytest.raises(ValueError, match="'rate'"):
        sensitivity_scan(cfg, spikes, signals, mem.drop_vars("rate"), "frozen-geff-scalar", [1.0], [0.0])
    with pytest.raises(ValueError, match="variant"):
        sensitivity_scan(cfg, spikes, signals, mem, "frozen-geff", [1.0], [0.0])
    with pytest.raises(ValueError, match="rate_scales"):
        sensitivity_scan(cfg, spikes, signals, mem, "frozen-geff-scalar", [-1.0], [0.0])
    bad = dict(cfg)
    bad["sensitivity"] = {"variant": "frozen-geff-scalar"}
    with pytest.raises(ValueError, match="rate_scales"):
        sensitivity_grid(bad)
