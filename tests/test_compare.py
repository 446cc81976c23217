"""Comparison metrics against hand-computed values, layout, files and CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import signal

from lfpk.base.io import read_dataset, write_dataset
from lfpk.engines.compare import (
    LOWPASS,
    band_metrics,
    compare,
    compare_files,
    lowpass,
    r2,
    r_std,
    spectra,
    summary_table,
)
from lfpk.entry.cli.main import main

DT = 0.0625  # ms
FS = 1000.0 / DT  # Hz


# ---------------------------------------------------------------------------------------------
# metrics on arrays
# ---------------------------------------------------------------------------------------------


def test_scaled_copy_has_r2_one_and_r_std_equal_to_scale():
    rng = np.random.default_rng(0)
    g = rng.normal(size=(3, 5000))
    for a in (0.3, 2.5, -1.7):
        p = a * g + 4.0  # an offset does not matter
        np.testing.assert_allclose(r2(p, g), 1.0, rtol=1e-12)
        np.testing.assert_allclose(r_std(p, g), abs(a), rtol=1e-12)
    # hand-computed small case: g = [0, 1, 2, 3], p = [0, 2, 1, 3]: r = 0.8
    assert np.isclose(r2([0, 2, 1, 3], [0, 1, 2, 3]), 0.64)
    assert np.isnan(r2([1, 2, 3], [5, 5, 5])) and np.isnan(r_std([1, 2, 3], [5, 5, 5]))


@pytest.mark.parametrize("var_n", [0.25, 1.0, 3.0])
def test_r2_of_signal_plus_independent_noise(var_n):
    rng = np.random.default_rng(1)
    n = 400_000
    s = 2.0 * rng.normal(size=n)  # var_s = 4
    noise = np.sqrt(var_n) * rng.normal(size=n)
    expect = 4.0 / (4.0 + var_n)
    assert abs(float(r2(s + noise, s)) - expect) < 0.005
    assert abs(float(r_std(s + noise, s)) - np.sqrt((4.0 + var_n) / 4.0)) < 0.005


def test_coherence_of_signal_plus_noise_is_S_over_S_plus_N():
    # AR(1) signal x[n] = a x[n-1] + e[n] (PSD ~ 1/|1 - a exp(-i w)|^2) plus independent white noise:
    # coherence(x, x + w) = S(f) / (S(f) + N) at every frequency
    rng = np.random.default_rng(2)
    n, a, var_e, var_w = 2**20, 0.9, 1.0, 4.0
    x = signal.lfilter([1.0], [1.0, -a], np.sqrt(var_e) * rng.normal(size=n))
    y = x + np.sqrt(var_w) * rng.normal(size=n)
    nperseg = 1024
    f, pg, pp, coh = spectra(y, x, FS, nperseg)
    w = 2 * np.pi * f / FS
    S = var_e / np.abs(1 - a * np.exp(-1j * w)) ** 2  # two-sided discrete PSD (same factor for N)
    expect = S / (S + var_w)
    inner = slice(1, -1)  # DC and Nyquist bins have other statistics
    assert expect[inner].min() < 0.1 and expect[inner].max() > 0.9  # a real test over the range
    np.testing.assert_allclose(coh[inner], expect[inner], atol=0.05)
    assert np.mean(np.abs(coh[inner] - expect[inner])) < 0.01
    # PSDs: Welch density of the noisy one exceeds the clean one by N (one-sided 2 var_w / fs)
    np.testing.assert_allclose(np.median((pp - pg)[inner]), 2 * var_w / FS, rtol=0.05)


@pytest.mark.parametrize("noisy", ["prediction", "ground_truth"])
def test_lowpass_metric_compares_lowpassed_with_lowpassed(noisy):
    rng = np.random.default_rng(3)
    n = 2**16
    slow = lowpass(rng.normal(size=n), FS, cutoff=40.0)  # content below ~40 Hz
    t = np.arange(n) / FS
    hf = 3 * slow.std() * np.sin(2 * np.pi * 2000.0 * t + 0.3)  # 2 kHz, far above 100 Hz
    g, p = (slow, slow + hf) if noisy == "prediction" else (slow + hf, slow)
    m = band_metrics(p, g, FS)
    raw_r2, raw_rs = m["raw"]
    lp_r2, lp_rs = m["lowpass"]
    # raw: sine of amplitude 3 std has variance 4.5 var_s, independent of the signal
    assert abs(raw_r2 - 1 / 5.5) < 0.01
    assert lp_r2 > 0.999 and abs(lp_rs - 1.0) < 0.01
    # filtering only one side would not give this: low-passed noisy vs raw clean differs by the filter
    assert r2(lowpass(slow + hf, FS), slow + hf) < 0.2


def test_lowpass_filter_is_zero_phase_and_stated():
    n = 2**14
    t = np.arange(n) / FS
    x = np.sin(2 * np.pi * 10.0 * t)
    y = lowpass(x, FS)
    mid = slice(n // 4, 3 * n // 4)
    # the study's filter: elliptic, order 2, 0.1 dB ripple, 40 dB, 100 Hz, forward and backward
    assert LOWPASS == {"cutoff": 100.0, "order": 2, "rp": 0.1, "rs": 40.0}
    gain = float(y[mid] @ x[mid] / (x[mid] @ x[mid]))
    assert 10 ** (-2 * 0.1 / 20) - 1e-3 <= gain <= 1.0 + 1e-3  # 10 Hz passes within twice the ripple
    np.testing.assert_allclose(y[mid], gain * x[mid], atol=1e-3)  # and without delay (zero phase)
    z = lowpass(np.sin(2 * np.pi * 1000.0 * t), FS)
    assert np.abs(z[mid]).max() < 1e-3  # 1 kHz: > 60 dB down after both passes


# ---------------------------------------------------------------------------------------------
# datasets
# ---------------------------------------------------------------------------------------------


def signals(values_lfp, values_csd, values_cdm, time, sources=("total", "E", "I")):
    nch = values_lfp.shape[1]
    return xr.Dataset(
        {"lfp": (("source", "channel", "time"), values_lfp, {"units": "mV", "long_name": "LFP"}),
         "csd": (("source", "channel", "time"), values_csd, {"units": "uA/mm3", "long_name": "CSD"}),
         "cdm": (("source", "component", "time"), values_cdm, {"units": "nA um", "long_name": "CDM"})},
        coords={"source": list(sources), "channel": np.arange(nch),
                "channel_z": ("channel", 100.0 * np.arange(nch), {"units": "um", "long_name": "depth"}),
                "component": ["x", "y", "z"], "time": ("time", time, {"units": "ms", "long_name": "time"})},
        attrs={"transient": 100.0, "dt": DT})


def pair(seed=0, n=8000, nch=5):
    """Ground truth and a prediction with known relations per source.

    total: prediction = 2 x truth (R^2 = 1, r_STD = 2); E: prediction = truth + independent noise
    of variance 1/3 var (R^2 = 0.75); I: independent (R^2 ~ 0).
    Before the transient (100 ms) the prediction is garbage.
    """
    rng = np.random.default_rng(seed)
    time = np.arange(n) * DT
    g = rng.normal(size=(3, nch, n))
    gc = rng.normal(size=(3, 3, n))
    p, pc = g.copy(), gc.copy()
    p[0], pc[0] = 2 * g[0], 2 * gc[0]
    p[1] = g[1] + np.sqrt(1 / 3) * rng.normal(size=(nch, n))
    pc[1] = gc[1] + np.sqrt(1 / 3) * rng.normal(size=(3, n))
    p[2], pc[2] = rng.normal(size=(nch, n)), rng.normal(size=(3, n))
    early = time < 100.0
    p[..., early] = 1e3 * rng.normal(size=p[..., early].shape)
    gt = signals(g, 3 * g, gc, time)
    pred = signals(p, 3 * p, pc, time).assign_attrs(biophysics="frozen", g_eff_on=1)
    return gt, pred


def test_compare_layout_and_values():
    gt, pred = pair()
    c = compare(gt, pred)
    assert c["r2"].dims == ("source", "signal", "channel", "approximation", "band")
    assert c["signal"].values.tolist() == ["lfp", "csd", "cdm_z"]
    assert c["band"].values.tolist() == ["raw", "lowpass"]
    assert c["approximation"].values.tolist() == ["frozen+g_eff"]
    assert c["n_channels"].values.tolist() == [5, 5, 1]
    raw = dict(approximation="frozen+g_eff", band="raw")
    # total: scaled copy (the garbage before the transient is excluded)
    np.testing.assert_allclose(c["r2"].sel(source="total", **raw).values[:2], 1.0, rtol=1e-10)
    np.testing.assert_allclose(c["r_std"].sel(source="total", **raw).values[:2], 2.0, rtol=1e-10)
    np.testing.assert_allclose(c["r2"].sel(source="total", signal="cdm_z", **raw).values[0], 1.0)
    # cdm_z is NaN-padded beyond its one channel
    assert np.all(np.isnan(c["r2"].sel(signal="cdm_z").values[:, 1:]))
    # E: truth + noise of a third of its variance: R^2 = 1 / (1 + 1/3) = 0.75 (n = 6400 samples)
    np.testing.assert_allclose(c["r2"].sel(source="E", signal="lfp", **raw).values, 0.75, atol=0.03)
    assert np.all(np.abs(c["r2"].sel(source="I", signal="lfp", **raw).values) < 0.01)
    # low-passed white noise with noise: still 0.75 in expectation, fewer effective samples
    np.testing.assert_allclose(c["r2"].sel(source="E", signal="lfp", approximation="frozen+g_eff",
                                           band="lowpass").values, 0.75, atol=0.15)
    # spectra: coherence of a scaled copy is 1; PSD ratio is 4
    coh = c["coherence"].sel(source="total", signal="lfp").values[:, 0, 1:-1]
    np.testing.assert_allclose(coh, 1.0, atol=1e-8)
    ratio = c["psd_prediction"].sel(source="total", signal="cdm_z").values[0, 0, 1:] / \
        c["psd_ground_truth"].sel(source="total", signal="cdm_z").values[0, 1:]
    np.testing.assert_allclose(ratio, 4.0, rtol=1e-8)
    assert c.attrs["n_samples"] == 8000 - 1600 and c.attrs["t_start"] == 100.0
    np.testing.assert_allclose(c["channel_z"].sel(signal="lfp").values, 100.0 * np.arange(5))


def test_summary_table_quantiles():
    gt, pred = pair(nch=11)
    c = compare(gt, pred)
    t = summary_table(c)
    assert len(t) == 3 * 3 * 2  # signal x source x band
    row = t[(t.signal == "lfp") & (t.source == "E") & (t.band == "raw")].iloc[0]
    v = c["r2"].sel(signal="lfp", source="E", band="raw").values[:, 0]
    assert row.n_channels == 11
    assert np.isclose(row.r2_median, np.median(v))
    assert np.isclose(row.r2_q10, np.quantile(v, 0.1)) and np.isclose(row.r2_q90, np.quantile(v, 0.9))
    assert row.r2_q10 <= row.r2_median <= row.r2_q90
    tot = t[(t.signal == "cdm_z") & (t.source == "total") & (t.band == "raw")].iloc[0]
    assert tot.n_channels == 1 and np.isclose(tot.r2_median, 1.0) and np.isclose(tot.r_std_q90, 2.0)


def test_time_axes_must_match_after_the_transient_and_dt_checked():
    gt, pred = pair()
    c_full = compare(gt, pred)
    assert c_full.attrs["n_samples"] == 6400
    # before the transient the axes may differ (those samples are not analysed) ...
    c_late = compare(gt, pred.isel(time=slice(1600, None)))
    xr.testing.assert_identical(c_late["r2"], c_full["r2"])
    # ... after it a shorter (or longer) prediction is another run: refused (issue 22)
    with pytest.raises(ValueError, match=r"^time ranges differ after the transient \(100 ms\): ground truth "
                                         r"100-499.938 ms, prediction 100-437.438 ms; expected the same time axis"):
        compare(gt, pred.isel(time=slice(0, 7000)))
    coarse = pred.isel(time=slice(None, None, 2))
    with pytest.raises(ValueError, match="time step differs"):
        compare(gt, coarse)
    with pytest.raises(ValueError, match="shared time points"):
        compare(gt, pred, transient=1e6)


def test_channel_depth_mismatch_rejected():
    gt, pred = pair()
    pred = pred.assign_coords(channel_z=("channel", 50.0 + 100.0 * np.arange(5)))
    with pytest.raises(ValueError, match="channel depths differ"):
        compare(gt, pred)


PROBES = {"channel_z": [0.0, 100.0, 200.0, 300.0, 400.0], "sigma": 0.3, "lfp": {"contact_radius": 5.0},
          "csd": {"radius": 150.0}}


def unrelated_pairs():
    """(ground truth, prediction, message) of files that do not belong together (issue 22)."""
    import json

    gt, pred = pair()
    gt = gt.assign_attrs(probes=json.dumps(PROBES))
    pred = pred.assign_attrs(kernel_attrs=json.dumps({"parameters": json.dumps({"probes": PROBES})}))
    rng = np.random.default_rng(5)
    n = gt.sizes["time"]
    three = signals(rng.normal(size=(4, 5, n)), rng.normal(size=(4, 5, n)), rng.normal(size=(4, 3, n)),
                    gt["time"].values, sources=("total", "E", "I", "I2"))
    other_sigma = {**PROBES, "sigma": 0.5}
    other_pred = pred.assign_attrs(kernel_attrs=json.dumps({"parameters": json.dumps({"probes": other_sigma})}))
    seven = signals(*(rng.normal(size=(3, c, n)) for c in (7, 7, 3)), gt["time"].values)
    return {
        "populations": (three, pred, "populations differ: gt.nc has E, I, I2, pred.nc has E, I; expected a "
                                     "prediction of the ground truth's network"),
        "probes": (gt, other_pred, "probes differ: probes.sigma is 0.3 in gt.nc but 0.5 in pred.nc"),
        "channels": (gt, seven, "lfp: 5 channels in gt.nc but 7 in pred.nc"),
        "dt": (gt, pred.isel(time=slice(None, None, 2)), "time step differs: gt.nc 0.0625 ms, pred.nc 0.125 ms"),
        "time range": (gt, pred.isel(time=slice(0, 4000)), "time ranges differ after the transient (100 ms): gt.nc "
                                                            "100-499.938 ms, pred.nc 100-249.938 ms"),
    }


@pytest.mark.parametrize("what", ["populations", "probes", "channels", "dt", "time range"])
def test_unrelated_files_are_refused(what):
    gt, pred, message = unrelated_pairs()[what]
    with pytest.raises(ValueError) as err:
        compare(gt, pred, gt_name="gt.nc", pred_name="pred.nc")
    assert str(err.value).startswith(message), str(err.value)


def test_lfpk_compare_of_unrelated_files_exits_2_in_one_line(tmp_path):
    """`lfpk compare` of a three-population ground truth and a two-population prediction (it used
    to write a comparison, exit 0): one line naming what differs, exit 2, nothing written."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    gt, pred, message = unrelated_pairs()["populations"]
    write_dataset(gt, tmp_path / "gt.nc")
    write_dataset(pred.assign_attrs(title="signals predicted from population spike counts"), tmp_path / "pred.nc")
    lfpk = Path(sys.executable).parent / "lfpk"
    proc = subprocess.run([str(lfpk), "compare", "--ground-truth", "gt.nc", "--prediction", "pred.nc", "--output",
                           "c.nc", "--summary", "c.csv"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"lfpk compare: error: {message}") and proc.stderr.count("\n") == 1, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gt.nc", "pred.nc"]


def test_compare_files_round_trip_and_cli(tmp_path, capsys):
    gt, pred = pair()
    g = write_dataset(gt, tmp_path / "signals.nc")
    p = write_dataset(pred, tmp_path / "prediction.nc")
    out, summ = tmp_path / "comparison" / "run.nc", tmp_path / "comparison" / "run.csv"
    out.parent.mkdir()  # the output guard never creates a missing folder of an --output
    ds, table = compare_files(g, p, out, summary=summ)
    back = read_dataset(out)
    for name, var in back.data_vars.items():
        assert var.attrs["units"] and var.attrs["long_name"], name
    xr.testing.assert_allclose(back["r2"], ds["r2"])
    assert back["frequency"].attrs["units"] == "Hz"
    assert back["psd_units"].sel(signal="lfp").item() == "(mV)^2/Hz"
    csv = pd.read_csv(summ)
    assert list(csv.columns[:5]) == ["signal", "source", "approximation", "band", "n_channels"]
    np.testing.assert_allclose(csv["r2_median"].values, table["r2_median"].values, rtol=1e-5)
    # CLI: same numbers, table printed, --transient respected
    out2 = tmp_path / "c2.nc"
    assert main(["compare", "--ground-truth", str(g), "--prediction", str(p), "--transient", "100",
                 "--output", str(out2), "--summary", str(tmp_path / "c2.csv"), "--label", "test"]) == 0
    printed = capsys.readouterr().out
    assert "r2_median" in printed and "cdm_z" in printed
    c2 = read_dataset(out2)
    assert c2["approximation"].values.tolist() == ["test"]
    np.testing.assert_allclose(c2["r2"].values, back["r2"].values)
    rc = main(["compare", "--ground-truth", str(tmp_path / "missing.nc"), "--prediction", str(p),
               "--output", str(tmp_path / "c3.nc")])
    assert rc == 2 and "missing.nc" in capsys.readouterr().err
    assert not (tmp_path / "c3.nc").exists()


def test_prediction_of_kernel_generated_truth_is_perfect(tmp_path):
    """Predict from spikes, use the prediction as the ground truth: R^2 = r_STD = 1 in every band."""
    from lfpk.engines.prediction.predict import predict
    from lfpk.engines.spikes import SpikeData, population_counts

    rng = np.random.default_rng(7)
    k = 80
    lags = np.arange(-k, k + 1) * DT
    h = rng.normal(size=(2, 2, 4, len(lags))) * np.exp(-np.abs(lags) / 1.0)
    h[..., lags < 0] = 0
    hc = rng.normal(size=(2, 2, 3, len(lags)))
    hc[..., lags < 0] = 0
    kern = xr.Dataset(
        {"lfp": (("post", "pre", "channel", "lag"), h, {"units": "mV", "long_name": "kernel: LFP"}),
         "csd": (("post", "pre", "channel", "lag"), -h, {"units": "uA/mm3", "long_name": "kernel: CSD"}),
         "cdm": (("post", "pre", "component", "lag"), hc, {"units": "nA um", "long_name": "kernel: CDM"})},
        coords={"post": ["E", "I"], "pre": ["E", "I"], "channel": np.arange(4),
                "channel_z": ("channel", 100.0 * np.arange(4)), "component": ["x", "y", "z"], "lag": lags},
        attrs={"dt": DT, "form": "causal", "biophysics": "passive", "g_eff_on": 0})
    t = rng.uniform(0, 500, 3000)
    u = rng.integers(0, 10, 3000)
    sp = SpikeData(t, u, {i: "E" if i < 8 else "I" for i in range(10)}, ["E", "I"], tstop=500.0)
    pred = predict(kern, population_counts(sp, DT))
    truth = pred[["lfp", "csd", "cdm"]].assign_attrs(transient=50.0)
    c = compare(truth, pred)
    assert c["approximation"].values.tolist() == ["passive"]
    assert c["source"].values.tolist() == ["total", "E", "I"]
    for var in ("r2", "r_std"):
        v = c[var].values
        np.testing.assert_allclose(v[np.isfinite(v)], 1.0, rtol=1e-9)
        assert np.isfinite(v).sum() == 3 * (4 + 4 + 1) * 2
