"""Prediction: exact lag-0 alignment, superposition, sums over connections, files and CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from lfpk.base.io import read_dataset, write_dataset
from lfpk.engines.prediction.online import OnlinePredictor
from lfpk.engines.prediction.predict import causal_convolve, predict, predict_files
from lfpk.engines.spikes import SpikeData, population_counts, read_spikes
from lfpk.entry.cli.main import main

DT = 0.25
TAU = 5.0
POPS = ["E", "I"]
MAP = {0: "E", 1: "E", 2: "I"}


def make_kernels(form="causal", dt=DT, tau=TAU, seed=0, nchan=4):
    """Random gathered kernels in the kernels.nc layout (non-zero at lag 0 to test alignment)."""
    rng = np.random.default_rng(seed)
    k = int(round(tau / dt))
    lags = np.arange(-k, k + 1) * dt if form == "causal" else np.arange(1, k + 1) * dt
    neg = lags < 0

    def kern(nc):
        h = rng.normal(size=(2, 2, nc, len(lags)))
        h[..., neg] = 0.0
        return h

    ds = xr.Dataset(
        {"lfp": (("post", "pre", "channel", "lag"), kern(nchan), {"units": "mV", "long_name": "kernel: LFP"}),
         "csd": (("post", "pre", "channel", "lag"), kern(nchan), {"units": "uA/mm3", "long_name": "kernel: CSD"}),
         "cdm": (("post", "pre", "component", "lag"), kern(3), {"units": "nA um", "long_name": "kernel: CDM"}),
         "eeg": (("post", "pre", "electrode", "lag"), kern(1), {"units": "mV", "long_name": "kernel: EEG"}),
         "k_in": (("post", "pre"), np.ones((2, 2)), {"units": "1", "long_name": "in-degree"})},
        coords={"post": POPS, "pre": POPS, "channel": np.arange(nchan),
                "channel_z": ("channel", -100.0 * np.arange(nchan), {"units": "um", "long_name": "depth"}),
                "component": ["x", "y", "z"], "electrode": [0],
                "lag": ("lag", lags, {"units": "ms", "long_name": "lag"})},
        attrs={"dt": dt, "tau": tau, "form": form, "biophysics": "frozen", "g_eff_on": 1,
               "rates_used": json.dumps({"E": 1.0})})
    return ds


def positive_part(ds, name):
    """(post, pre, chan, K+1) kernel at lags 0..tau (zero at lag 0 for the fir form)."""
    v = ds[name].values
    lags = ds["lag"].values
    k = np.round(lags / DT).astype(int)
    out = np.zeros(v.shape[:-1] + (k.max() + 1,))
    out[..., k[k >= 0]] = v[..., k >= 0]
    return out


def counts_of(times, units, tstop=20.0, dt=DT):
    sp = SpikeData(times=np.asarray(times, float), units=np.asarray(units), unit_population=MAP,
                   populations=POPS, tstop=tstop, time_unit="ms")  # ms stated: single spikes near 0
    return population_counts(sp, dt)


@pytest.mark.parametrize("form", ["causal", "fir"])
@pytest.mark.parametrize("t0", [0.0, 7.3, 20.0 - 2 * DT, 20.0])
def test_single_spike_reproduces_kernel_at_its_bin(form, t0):
    kern = make_kernels(form)
    unit, pre = 2, "I"  # one spike of one I neuron
    c = counts_of([t0], [unit])
    pred = predict(kern, c, allow_silent=True)  # one spike: the other population is silent
    n = pred.sizes["time"]
    assert n == 81 and np.allclose(pred["time"].values, np.arange(n) * DT)
    n0 = int(np.floor(t0 / DT))
    for name in ("lfp", "csd", "cdm", "eeg"):
        H = positive_part(kern, name)  # lag 0 .. tau
        scale = np.abs(H).max()
        got = pred[f"{name}_contribution"].values
        for y, post in enumerate(POPS):
            expect = np.zeros(got.shape[2:])
            m = min(H.shape[-1], n - n0)  # the kernel is cut off by the end of the record
            expect[:, n0:n0 + m] = H[y, POPS.index(pre), :, :m]
            np.testing.assert_allclose(got[y, POPS.index(pre)], expect, rtol=0, atol=1e-12 * scale)
            # the other presynaptic population did not spike: its contributions are zero
            np.testing.assert_allclose(got[y, POPS.index("E")], 0.0, atol=1e-12 * scale)
        # sums: per post population over pre, total over everything
        np.testing.assert_allclose(pred[name].sel(source="E").values, got[0].sum(axis=0), atol=1e-12 * scale)
        np.testing.assert_allclose(pred[name].sel(source="total").values, got.sum(axis=(0, 1)),
                                   atol=1e-12 * scale)
        if form == "fir":  # implicit zero at lag 0: nothing in the spike's own bin
            assert np.all(np.abs(got[:, :, :, n0]) < 1e-12 * scale)
        else:  # lag-0 value lands exactly in the spike's bin
            np.testing.assert_allclose(got[:, 1, :, n0], kern[name].sel(pre="I", lag=0.0).values,
                                       atol=1e-12 * scale)


@pytest.mark.parametrize("form", ["causal", "fir"])
def test_matches_direct_convolution(form):
    kern = make_kernels(form, seed=4)
    rng = np.random.default_rng(1)
    t = rng.uniform(0, 20, 400)
    u = rng.integers(0, 3, 400)
    c = counts_of(t, u)
    pred = predict(kern, c)
    H = positive_part(kern, "lfp")
    n = c.sizes["time"]
    for y in range(2):
        for x, pre in enumerate(POPS):
            nu = c.sel(population=pre).values.astype(float)
            for ch in range(H.shape[2]):
                direct = np.convolve(nu, H[y, x, ch])[:n]
                np.testing.assert_allclose(pred["lfp_contribution"].values[y, x, ch], direct, atol=1e-10)


def test_superposition_of_two_spike_trains():
    kern = make_kernels(seed=2)
    rng = np.random.default_rng(5)
    ta, ua = rng.uniform(0, 20, 150), rng.integers(0, 3, 150)
    tb, ub = rng.uniform(0, 20, 90), rng.integers(0, 3, 90)
    pa = predict(kern, counts_of(ta, ua))
    pb = predict(kern, counts_of(tb, ub))
    pab = predict(kern, counts_of(np.r_[ta, tb], np.r_[ua, ub]))
    for name in ("lfp", "csd", "cdm", "eeg", "lfp_contribution", "cdm_contribution"):
        np.testing.assert_allclose(pab[name].values, pa[name].values + pb[name].values, atol=1e-10)
    # and the trains are not trivially equal
    assert not np.allclose(pa["lfp"].values, pb["lfp"].values)


def test_fft_convolution_long_record_has_no_wraparound():
    # a spike in the last bin must not leak into the first bins (zero padding)
    H = np.zeros((1, 1, 1, 50))
    H[..., :] = 1.0
    nu = np.zeros((1, 1000))
    nu[0, -1] = 1
    out = causal_convolve(nu, H)
    assert out.shape == (1, 1, 1, 1000)
    assert np.all(np.abs(out[..., :-1]) < 1e-12) and np.isclose(out[..., -1], 1.0)


def test_dt_mismatch_and_missing_population_rejected():
    kern = make_kernels()
    with pytest.raises(ValueError, match="bin width"):
        predict(kern, counts_of([1.0], [0], dt=0.5))
    c = counts_of([1.0], [0]).sel(population=["E"])
    with pytest.raises(ValueError, match=r"population\(s\) \['I'\]"):
        predict(kern, c)


def test_nonzero_negative_lags_warned_and_ignored():
    kern = make_kernels()
    kern["lfp"].loc[dict(lag=-1.0)] = 1.0
    with pytest.warns(UserWarning, match="negative lags"):
        p = predict(kern, counts_of([5.0], [0]), allow_silent=True)
    ref = predict(make_kernels(), counts_of([5.0], [0]), allow_silent=True)
    np.testing.assert_allclose(p["lfp"].values, ref["lfp"].values, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# files and CLI
# ---------------------------------------------------------------------------------------------


def write_inputs(tmp_path, form="causal"):
    kpath = write_dataset(make_kernels(form), tmp_path / "kernels.nc")
    t = np.array([1.0, 3.3, 3.3, 12.0, 19.9])
    u = np.array([0, 1, 2, 2, 0])
    spikes = xr.Dataset(
        {"spike_time": ("spike", t, {"units": "ms", "long_name": "spike time"}),
         "spike_unit": ("spike", u, {"units": "1", "long_name": "unit"}),
         "unit_population": ("unit", np.array(["E", "E", "I"]), {"units": "1", "long_name": "population"})},
        coords={"unit": [0, 1, 2]}, attrs={"dt": DT, "tstop": 20.0, "transient": 0.0, "seed": 1})
    spath = write_dataset(spikes, tmp_path / "spikes.nc")
    csv = tmp_path / "spikes.csv"
    csv.write_text("sender,time_ms\n" + "".join(f"{a},{b}\n" for a, b in zip(u[::-1], t[::-1])))
    mp = tmp_path / "map.csv"
    mp.write_text("unit,population\n0,E\n1,E\n2,I\n")
    return kpath, spath, csv, mp


def test_prediction_file_round_trip_with_units(tmp_path):
    kpath, spath, _, _ = write_inputs(tmp_path)
    out = tmp_path / "prediction" / "run.nc"
    out.parent.mkdir()  # the output guard never creates a missing folder of an --output
    ds = predict_files(spath, kpath, out).dataset()
    back = read_dataset(out)
    for name, var in back.data_vars.items():
        assert var.attrs["units"] and var.attrs["long_name"], name
    for name in ("lfp", "csd", "cdm", "eeg"):
        xr.testing.assert_allclose(back[name], ds[name])
    assert back["lfp"].dims == ("source", "channel", "time")
    assert back["cdm"].dims == ("source", "component", "time")
    assert back["lfp_contribution"].dims == ("post", "pre", "channel", "time")
    assert back["source"].values.tolist() == ["total", "E", "I"]
    assert back["lfp"].attrs["units"] == "mV" and back["cdm"].attrs["units"] == "nA um"
    np.testing.assert_allclose(back["channel_z"].values, -100.0 * np.arange(4))
    assert json.loads(back.attrs["kernel_attrs"])["form"] == "causal"
    assert back.attrs["spike_source"] == str(spath)
    assert int(back["population_count"].sum()) == 5


def test_cli_text_spikes_equal_netcdf_spikes(tmp_path):
    kpath, spath, csv, mp = write_inputs(tmp_path, form="fir")
    a, b = tmp_path / "a.nc", tmp_path / "b.nc"
    assert main(["predict", "--spikes", str(spath), "--kernels", str(kpath), "--output", str(a)]) == 0
    assert main(["predict", "--spikes", str(csv), "--populations", str(mp), "--tstop", "20",
                 "--kernels", str(kpath), "--output", str(b)]) == 0
    A, B = read_dataset(a), read_dataset(b)
    for name in ("lfp", "csd", "cdm", "eeg", "lfp_contribution"):
        np.testing.assert_array_equal(A[name].values, B[name].values)


@pytest.mark.parametrize("body,extra,expect", [
    ("0,1.0\n2,oops\n", [], "line 2"),
    ("0,1.0\n9,2.0\n", [], "line 2"),
    ("0,1.0\n2,25.0\n", [], "after the stop time"),
    ("0,1.0\n", ["--dt", "0.5"], "differs from the kernels' dt"),
])
def test_cli_bad_spikes_exit_2_and_write_nothing(tmp_path, capsys, body, extra, expect):
    kpath, _, _, mp = write_inputs(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text(body)
    out = tmp_path / "out" / "prediction.nc"
    out.parent.mkdir()
    rc = main(["predict", "--spikes", str(bad), "--populations", str(mp), "--tstop", "20",
               "--kernels", str(kpath), "--output", str(out), *extra])
    err = capsys.readouterr().err
    assert rc == 2 and expect in err
    assert not out.exists() and not (out.parent.exists() and any(out.parent.iterdir()))


def test_unknown_population_in_map_rejected(tmp_path):
    kpath, _, csv, _ = write_inputs(tmp_path)
    mp = tmp_path / "map3.csv"
    mp.write_text("unit,population\n0,E\n1,X\n2,I\n")
    with pytest.raises(ValueError, match=r"population\(s\) \['X'\] have no kernels"):
        predict_files(csv, kpath, tmp_path / "p.nc", populations=mp, tstop=20.0)
    assert not (tmp_path / "p.nc").exists()


# ---------------------------------------------------------------------------------------------
# One layout, one writer, kernels as a factory
# ---------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:the kernels. g_eff was computed")
def test_file_and_dataset_come_from_one_layout(tmp_path):
    """The streamed file read back is the in-memory dataset of the same prediction, but for the
    two stated differences of ``population_count`` (int32 and ``dt_out`` in the file)."""
    from lfpk.engines.prediction import file as layout

    kpath, spath, _, _ = write_inputs(tmp_path)
    res = predict_files(spath, kpath, tmp_path / "p.nc", decimate=2)
    back = read_dataset(tmp_path / "p.nc")
    counts = population_counts(read_spikes([str(spath)]), DT)
    mem = predict(make_kernels(), counts, decimate=2, spike_source=res.attrs["spike_source"])
    assert list(back.data_vars) == list(mem.data_vars) and list(back.coords) == list(mem.coords)
    assert back["population_count"].dtype == np.int32 and mem["population_count"].dtype == np.int64
    assert back["population_count"].attrs["long_name"] == layout.COUNT_LONG_NAME.format(dt="dt_out")
    assert mem["population_count"].attrs["long_name"] == layout.COUNT_LONG_NAME.format(dt="dt")
    mem["population_count"] = back["population_count"]
    for name in back.variables:
        xr.testing.assert_allclose(back[name], mem[name], rtol=0, atol=1e-12 * float(np.abs(mem["lfp"]).max()))
        assert back[name].attrs == mem[name].attrs, name


@pytest.mark.filterwarnings("ignore:the kernels. g_eff was computed")
def test_kernel_factory_equals_ready_kernels(tmp_path):
    """The engine takes kernels as a dataset, a path or a KernelFactory called with the measured
    rates (1/s over the factory's sizes x tstop); the data are the same."""
    from lfpk.engines.prediction.predict import KernelFactory

    kpath, _, csv, mp = write_inputs(tmp_path)
    got = []

    def compute(rates):
        got.append(rates)
        return make_kernels()

    factory = KernelFactory(compute, dt=DT, presynaptic=POPS, sizes={"E": 2, "I": 1}, source="synthetic")
    a = predict_files(csv, factory, tmp_path / "a.nc", populations=mp, tstop=20.0)
    b = predict_files(csv, kpath, tmp_path / "b.nc", populations=mp, tstop=20.0)
    c = predict_files(csv, make_kernels(), tmp_path / "c.nc", populations=mp, tstop=20.0)
    assert got == [{"E": pytest.approx(3 / (2 * 0.02)), "I": pytest.approx(2 / (1 * 0.02))}]
    assert a.attrs["kernel_source"].startswith("synthetic (kernels computed at the measured rates E 75 /s")
    assert c.attrs["kernel_source"] == "<dataset>"
    A, B, C = (read_dataset(r.output) for r in (a, b, c))
    for name in B.data_vars:
        assert A[name].values.tobytes() == B[name].values.tobytes() == C[name].values.tobytes(), name


@pytest.mark.filterwarnings("ignore:the kernels. g_eff was computed")
def test_api_predict_files_is_the_public_one(tmp_path):
    """``lfpk.predict_files`` is :func:`lfpk.api.prediction.predict_files` (kernel_config=); with
    kernels it writes the engine's file."""
    import lfpk
    from lfpk.api import prediction as api

    assert lfpk.predict_files is api.predict_files
    kpath, spath, _, _ = write_inputs(tmp_path)
    with pytest.raises(ValueError, match="give either kernels"):
        api.predict_files(spath, kpath, tmp_path / "x.nc", kernel_config={"a": 1})
    with pytest.raises(ValueError, match="give either kernels"):
        api.predict_files(spath, None, tmp_path / "x.nc")
    a = api.predict_files(spath, kpath, tmp_path / "a.nc", decimate=2, dtype="float32")
    b = predict_files(spath, kpath, tmp_path / "b.nc", decimate=2, dtype="float32")
    A, B = read_dataset(a.output), read_dataset(b.output)
    A.attrs.pop("software_versions"), B.attrs.pop("software_versions")
    xr.testing.assert_identical(A, B)


# ---------------------------------------------------------------------------------------------
# Rates compared over the analysed window (after the spike files' transient)
# ---------------------------------------------------------------------------------------------


def write_transient_spikes(tmp_path, during, after, transient=500.0, tstop=2000.0):
    """A ground-truth-like spikes.nc (units 0, 1: E; 2: I; attribute ``transient``) with ``during``
    E spikes in [0, transient) and ``after`` E spikes in [transient, tstop), three I spikes after."""
    rng = np.random.default_rng(1)
    t_e = np.concatenate([np.sort(rng.uniform(0.0, transient, during)), np.sort(rng.uniform(transient, tstop, after))])
    u_e = rng.integers(0, 2, len(t_e))
    t = np.concatenate([t_e, [600.0, 900.0, 1500.0]])
    u = np.concatenate([u_e, [2, 2, 2]])
    spikes = xr.Dataset(
        {"spike_time": ("spike", t, {"units": "ms", "long_name": "spike time"}),
         "spike_unit": ("spike", u, {"units": "1", "long_name": "unit"}),
         "unit_population": ("unit", np.array(["E", "E", "I"]), {"units": "1", "long_name": "population"})},
        coords={"unit": [0, 1, 2]}, attrs={"dt": DT, "tstop": tstop, "transient": transient, "seed": 1})
    return write_dataset(spikes, tmp_path / f"spikes_{during}_{after}.nc")


@pytest.mark.parametrize("during", [0, 200], ids=["silent_transient", "burst_transient"])
def test_rates_compared_after_the_transient(tmp_path, during):
    """The kernels' g_eff rates (the ground truth's rates after its transient) are compared with
    the spikes' rates over [transient, tstop): a silent or bursting transient alone gives no
    warning; a rate that truly differs after the transient does, naming the window."""
    import warnings

    from lfpk.engines.spikes import SpikeWarning

    kpath = write_dataset(make_kernels(), tmp_path / "kernels.nc")  # g_eff at E 1 /s
    same = write_transient_spikes(tmp_path, during, after=3)  # 3 spikes / (2 units x 1.5 s) = 1 /s
    with warnings.catch_warnings():
        warnings.simplefilter("error", SpikeWarning)
        res = predict_files(same, kpath, tmp_path / "same.nc", signals=["cdm"])
    assert res.warnings == []
    assert json.loads(res.attrs["rates_analysed"])["E"] == pytest.approx(1.0)
    assert res.attrs["rates_analysed_start"] == 500.0
    assert json.loads(res.attrs["rates_measured"])["E"] == pytest.approx((during + 3) / (2 * 2.0))
    assert "mean rates over 500-2000 ms (after the spike files' transient): E 1 /s, I 2 /s" in res.report

    differs = write_transient_spikes(tmp_path, during, after=6)  # 2 /s after the transient
    with pytest.warns(SpikeWarning, match=r"E of 1 /s, but the spikes have 2 /s over 500-2000 ms \(after the "
                                          r"spike files' transient\) \(\+100%\)"):
        res = predict_files(differs, kpath, tmp_path / "differs.nc", signals=["cdm"])
    assert len(res.warnings) == 1


def test_kernel_factory_gets_the_rates_after_the_transient(tmp_path):
    """Kernels computed at the measured rates are computed at the rates after the transient, the
    rates the ground truth's own kernels take (membrane.nc)."""
    from lfpk.engines.prediction.predict import KernelFactory

    got = []

    def compute(rates):
        got.append(rates)
        return make_kernels()

    factory = KernelFactory(compute, dt=DT, presynaptic=POPS, sizes={"E": 2, "I": 1}, source="synthetic")
    res = predict_files(write_transient_spikes(tmp_path, 200, after=3), factory, tmp_path / "p.nc", signals=["cdm"])
    assert got == [{"E": pytest.approx(1.0), "I": pytest.approx(2.0)}]
    assert res.attrs["kernel_source"].endswith("E 1 /s, I 2 /s over 500-2000 ms (after the spike files' transient))")


# ---------------------------------------------------------------------------------------------
# A start time t0 (issue 24)
# ---------------------------------------------------------------------------------------------

T0 = 500.0


@pytest.mark.filterwarnings("ignore:the kernels. g_eff was computed")
def test_t0_shifts_the_time_axis_and_nothing_else(tmp_path):
    """Spikes recorded from t0 (a NEST recorder started at 500 ms) give the prediction of the same
    spikes from 0, on a time axis from t0: files, the CLI, in memory and online."""
    kpath, _, csv, mp = write_inputs(tmp_path)
    late = tmp_path / "late.csv"
    late.write_text("sender,time_ms\n" + "".join(
        f"{u},{T0 + float(t)!r}\n" for u, t in (line.split(",") for line in csv.read_text().split()[1:])))
    ref = predict_files(csv, kpath, tmp_path / "ref.nc", populations=mp, tstop=20.0).dataset()
    rc = main(["predict", "--spikes", str(late), "--populations", str(mp), "--tstop", str(T0 + 20),
               "--t0", str(T0), "--kernels", str(kpath), "--output", str(tmp_path / "late.nc")])
    got = read_dataset(tmp_path / "late.nc")
    assert rc == 0
    np.testing.assert_allclose(got["time"].values, T0 + ref["time"].values, rtol=0, atol=1e-9)
    assert got["time"].values[0] == T0 and got.attrs["t0"] == T0 and got.attrs["tstop"] == T0 + 20
    for name in ("lfp", "csd", "lfp_contribution", "population_count"):
        np.testing.assert_array_equal(got[name].values, ref[name].values)
    assert "over 500-520 ms" in got.attrs["spike_report"]
    # in memory (SpikeData) and online
    sp = read_spikes(str(late), populations=str(mp), tstop=T0 + 20)
    mem = predict(make_kernels(), sp, t0=T0)
    np.testing.assert_allclose(mem["lfp"].values, ref["lfp"].values, rtol=0, atol=1e-12)
    assert mem["time"].values[0] == T0 and mem.attrs["t0"] == T0
    online = OnlinePredictor(make_kernels(), t0=T0, keep=True)
    pops = sp.population_of_spikes()
    for a in np.arange(T0, T0 + 20, 5.0):
        sel = (sp.times >= a) & (sp.times < a + 5.0)
        online.add_spikes(sp.times[sel], population=pops[sel])
        online.advance(a + 5.0)
    online.add_spikes(sp.times[sp.times >= T0 + 20], population=pops[sp.times >= T0 + 20])
    online.close(T0 + 20)
    ds = online.dataset()
    np.testing.assert_allclose(ds["time"].values, mem["time"].values)
    np.testing.assert_allclose(ds["lfp"].values, ref["lfp"].values, rtol=0, atol=1e-12)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "lfpk", *map(str, args)], capture_output=True, text=True)


def test_t0_spike_before_it_and_the_time_rule_refused(tmp_path):
    kpath, _, csv, mp = write_inputs(tmp_path)  # spikes from 1 ms on
    out = tmp_path / "p.nc"
    cases = [(["--tstop", "20", "--t0", "2"], "spike time 1 ms is before the start of the time axis t0 = 2 ms"),
             (["--tstop", "20", "--t0", "0.1"], "tstop - t0 (--tstop - --t0): 19.9 ms is not a whole number of "
                                                 "steps of dt (--dt, the kernels' dt) (0.25 ms)"),
             (["--tstop", "20", "--t0", "20"], "--t0 20 ms is not before the stop time tstop (20 ms)"),
             (["--tstop", "20", "--t0", "-1"], "--t0: -1.0 ms; expected a finite start time >= 0 ms")]
    for extra, expect in cases:
        r = run_cli("predict", "--spikes", csv, "--populations", mp, "--kernels", kpath, "--output", out, *extra)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and expect in lines[0], (extra, r.stderr)
        assert "Traceback" not in r.stderr and not out.exists()
    sp = read_spikes(str(csv), populations=str(mp), tstop=20.0)
    with pytest.raises(ValueError, match="is before the start of the time axis t0 = 2 ms"):
        predict(make_kernels(), sp, t0=2.0)
    with pytest.raises(ValueError, match="counts: the time axis starts at 0 ms but t0 = 2 ms"):
        predict(make_kernels(), population_counts(sp, DT), t0=2.0)
    online = OnlinePredictor(make_kernels(), t0=2.0)
    with pytest.raises(ValueError, match="is before the start of the time axis t0 = 2 ms"):
        online.add_spikes([1.0], population="E")
