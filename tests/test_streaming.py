"""Streaming prediction: overlap-save blocks, decimation, float32, online feeding, files, memory."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import signal
from test_predict import DT, make_kernels

from lfpk.base.io import read_dataset, write_dataset
from lfpk.engines.prediction.online import OnlinePredictor
from lfpk.engines.prediction.predict import causal_convolve, predict, predict_files
from lfpk.engines.prediction.streaming import AA_PASS, KernelBank, StreamingPredictor, anti_alias_filter, merge_outputs
from lfpk.engines.spikes import SpikeData, population_counts

# the synthetic kernels carry g_eff rates unrelated to these synthetic spikes
pytestmark = pytest.mark.filterwarnings("ignore:the kernels. g_eff was computed")

MAP = {0: "E", 1: "E", 2: "E", 3: "I"}
TSTOP = 400.0


def rel_err(a, b):
    """max |a - b| / max |b| (FFT rounding is relative to the signal's scale, not per sample)."""
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(np.asarray(b)).max())


@pytest.fixture(scope="module")
def spikes():
    rng = np.random.default_rng(11)
    t = np.sort(rng.uniform(0, TSTOP, 900))
    u = rng.integers(0, 4, len(t))
    return SpikeData(t, u, MAP, ["E", "I"], tstop=TSTOP)


@pytest.fixture(scope="module")
def kernels():
    return make_kernels(tau=5.0)  # 21 lags of 0.25 ms


def whole(kernels, counts):
    """Reference: one zero-padded FFT over the whole recording per connection and channel."""
    bank = KernelBank(kernels)
    nu = counts.sel(population=bank.pres).values.astype(float)
    return bank, {s: causal_convolve(nu, bank.H[s]) for s in bank.signals}


@pytest.mark.parametrize("block", [1, 5, 20, 21, 64, 1601, 100000])
@pytest.mark.parametrize("piece", [1, 13, 1601])
def test_streaming_equals_whole_recording(spikes, kernels, block, piece):
    """Blocks shorter and longer than the kernel (21 lags), fed in pieces of any length: equal to
    the whole-recording convolution to 1e-12 of the signal's scale."""
    counts = population_counts(spikes, DT)
    bank, ref = whole(kernels, counts)
    nu = counts.sel(population=bank.pres).values
    sp = StreamingPredictor(bank, contributions=True, block=block)
    outs = [sp.push(nu[:, a:a + piece]) for a in range(0, nu.shape[1], piece)]
    outs.append(sp.finish())
    got = merge_outputs(outs)
    assert got["n"] == nu.shape[1] and np.array_equal(got["counts"], nu)
    for s in bank.signals:
        assert rel_err(got["contributions"][s], ref[s]) < 1e-12
        per_post = ref[s].sum(axis=1)
        assert rel_err(got["signals"][s][1:], per_post) < 1e-12
        assert rel_err(got["signals"][s][0], per_post.sum(axis=0)) < 1e-12


def test_without_contributions_same_totals(spikes, kernels):
    counts = population_counts(spikes, DT)
    a = predict(kernels, counts, block=50)
    b = predict(kernels, counts, contributions=False, block=50)
    assert "lfp_contribution" in a and "lfp_contribution" not in b
    for s in ("lfp", "csd", "cdm", "eeg"):
        assert rel_err(b[s].values, a[s].values) < 1e-12


def test_float32_rounding_is_the_only_change(spikes, kernels):
    """Stated tolerance: float32 storage = the float64 result rounded, |error| <= 2^-24 |value|."""
    counts = population_counts(spikes, DT)
    a = predict(kernels, counts)
    b = predict(kernels, counts, dtype="float32")
    for s in ("lfp", "cdm", "lfp_contribution"):
        assert b[s].dtype == np.float32
        np.testing.assert_array_equal(b[s].values, a[s].values.astype(np.float32))
        assert np.all(np.abs(b[s].values - a[s].values) <= 2.0**-24 * np.abs(a[s].values) + 1e-300)


def test_anti_alias_filter_response():
    """Stated tolerance: pass band (<= 0.8 of the new Nyquist) gain 1 +- 1e-4 (80 dB Kaiser
    ripple, small margin for the design), stop band (>= new Nyquist) gain <= 1e-4."""
    for q in (2, 4, 16):
        h = anti_alias_filter(q)
        assert len(h) % 2 == 1 and np.allclose(h, h[::-1]) and h.sum() == pytest.approx(1.0, abs=1e-14)
        f, H = signal.freqz(h, worN=1 << 15, fs=1.0)
        nyq = 0.5 / q
        passband = np.abs(H[f <= AA_PASS * nyq])
        stopband = np.abs(H[f >= nyq])
        assert np.abs(passband - 1).max() < 1.5e-4, q
        assert stopband.max() < 1.5e-4, q


def test_decimated_equals_filtered_prediction(spikes, kernels):
    """Decimated output = the full-rate prediction (counts zero outside the recording) filtered
    by the zero-phase anti-alias FIR, sampled at n = 0, q, 2q, ... (1e-12); counts sum per bin."""
    counts = population_counts(spikes, DT)
    bank, _ = whole(kernels, counts)
    nu = counts.sel(population=bank.pres).values
    n = nu.shape[1]
    for q in (2, 5):
        h = anti_alias_filter(q)
        m = (len(h) - 1) // 2
        ext = causal_convolve(np.concatenate([nu, np.zeros((2, m + 30))], axis=1), bank.H["lfp"])
        z = np.apply_along_axis(lambda y: np.convolve(y, h)[m:m + n], -1, ext)[..., ::q]
        got = predict(kernels, counts, decimate=q, block=37)
        assert got.sizes["time"] == -(-n // q) == z.shape[-1]
        np.testing.assert_allclose(got["time"].values, np.arange(got.sizes["time"]) * q * DT)
        assert got.attrs["dt"] == q * DT
        assert rel_err(got["lfp_contribution"].values, z) < 1e-12
        c = got["population_count"].values
        assert c.sum() == nu.sum()
        np.testing.assert_array_equal(c[:, :n // q], nu[:, :n // q * q].reshape(2, -1, q).sum(axis=2))


def test_decimation_keeps_band_limited_signal_and_removes_alias():
    """A kernel that is a slow Gaussian survives decimation within the pass-band tolerance; a
    kernel oscillating above the new Nyquist frequency is removed to the stop-band tolerance."""
    dt, q = DT, 4
    lags = np.arange(0, 601) * dt  # 150 ms; both kernels vanish smoothly at the ends (< 1e-8)
    slow = np.exp(-0.5 * ((lags - 40.0) / 3.0) ** 2)  # spectrum at 0.8 f_N (400 Hz): ~1e-10
    fast = np.cos(2 * np.pi * (1.5 * 0.5 / q / dt) * lags) * np.exp(-0.5 * ((lags - 75.0) / 10.0) ** 2)
    h = np.zeros((1, 1, 2, len(lags)))
    h[0, 0, 0], h[0, 0, 1] = slow, fast
    kern = xr.Dataset({"lfp": (("post", "pre", "channel", "lag"), h, {"units": "mV", "long_name": "kernel"})},
                      coords={"post": ["E"], "pre": ["E"], "channel": [0, 1], "lag": lags},
                      attrs={"dt": dt, "form": "fir"})
    kern = kern.assign_coords(lag=lags + dt)  # fir: lags (0, tau]; one spike at bin 10 -> H at n = 11..
    sp = SpikeData(np.array([10 * dt]), np.array([0]), {0: "E"}, ["E"], tstop=200.0)
    full = predict(kern, population_counts(sp, dt))["lfp"].values[0]
    dec = predict(kern, population_counts(sp, dt), decimate=q)["lfp"].values[0]
    assert np.abs(dec[0] - full[0, ::q]).max() < 1.5e-4 * np.abs(full[0]).max()
    assert np.abs(dec[1]).max() < 1.5e-4 * np.abs(full[1]).max()


# ---------------------------------------------------------------------------------------------
# online feeding
# ---------------------------------------------------------------------------------------------


def _feed(online, spikes, step, tstop=TSTOP):
    """Feed like a simulator run in steps of ``step`` ms: spikes in [t, t + step), then advance."""
    pops = spikes.population_of_spikes()
    t = 0.0
    outs = []
    while t < tstop:
        t1 = min(t + step, tstop)
        sel = (spikes.times >= t) & (spikes.times < t1) if t1 < tstop else spikes.times >= t
        if sel.any():
            online.add_spikes(spikes.times[sel], population=pops[sel])
        outs.append(online.advance(t1))
        t = t1
    outs.append(online.close(tstop))
    return merge_outputs(outs)


@pytest.mark.parametrize("step,decimate,block", [(0.1, 1, None), (7.3, 1, None), (50.0, 1, 64), (7.3, 4, None),
                                                 (0.3, 5, 33)])
def test_incremental_feeding_equals_offline(spikes, kernels, step, decimate, block):
    offline = predict(kernels, population_counts(spikes, DT), decimate=decimate)
    online = OnlinePredictor(kernels, contributions=True, decimate=decimate, block=block)
    got = _feed(online, spikes, step)
    assert got["n"] == offline.sizes["time"]
    np.testing.assert_allclose(got["time"], offline["time"].values)
    for s in ("lfp", "csd", "cdm", "eeg"):
        assert rel_err(got["signals"][s], offline[s].values) < 1e-12
        assert rel_err(got["contributions"][s], offline[f"{s}_contribution"].values) < 1e-12
    np.testing.assert_array_equal(got["counts"], offline["population_count"].values)
    ds = online.dataset()
    assert rel_err(ds["lfp"].values, offline["lfp"].values) < 1e-12


def test_online_by_units_and_errors(spikes, kernels):
    online = OnlinePredictor(kernels, unit_population=MAP)
    early = spikes.times < 100
    online.add_spikes(spikes.times[early], units=spikes.units[early])
    online.advance(100.0)
    with pytest.raises(ValueError, match="in a bin already predicted"):
        online.add_spikes([99.0], population="E")
    with pytest.raises(ValueError, match="has no kernels"):
        online.add_spikes([150.0], population="X")
    with pytest.raises(ValueError, match="not in the unit_population map"):
        online.add_spikes([150.0], units=[42])
    with pytest.raises(ValueError, match="before the previous"):
        online.advance(50.0)
    online.add_spikes(spikes.times[~early], units=spikes.units[~early])
    got = online.close(TSTOP)
    ref = predict(kernels, population_counts(spikes, DT), contributions=False)
    assert rel_err(got["signals"]["lfp"], ref["lfp"].values[..., -got["n"]:]) < 1e-12


def test_online_output_file_equals_predict_files(tmp_path, spikes, kernels):
    kpath = write_dataset(kernels, tmp_path / "kernels.nc")
    csv = tmp_path / "spikes.csv"
    csv.write_text("sender,time_ms\n" + "".join(f"{u},{float(t)!r}\n" for u, t in zip(spikes.units, spikes.times)))
    predict_files(csv, kpath, tmp_path / "offline.nc", populations=MAP, tstop=TSTOP, decimate=2,
                  dtype="float32", contributions=False)
    with OnlinePredictor(kpath, output=tmp_path / "online.nc", decimate=2, dtype="float32", keep=False) as online:
        pops = spikes.population_of_spikes()
        for t0 in np.arange(0.0, TSTOP, 10.0):
            sel = (spikes.times >= t0) & (spikes.times < t0 + 10.0)
            online.add_spikes(spikes.times[sel], population=pops[sel])
            online.advance(t0 + 10.0)
            assert not (tmp_path / "online.nc").exists()  # appears complete, at close
        online.add_spikes(spikes.times[spikes.times >= TSTOP], population=pops[spikes.times >= TSTOP])
        online.close(TSTOP)
    a, b = read_dataset(tmp_path / "offline.nc"), read_dataset(tmp_path / "online.nc")
    for s in ("lfp", "csd", "cdm", "eeg", "population_count"):
        assert a[s].dtype == b[s].dtype
        np.testing.assert_allclose(b[s].values, a[s].values, rtol=2.0**-23, atol=1e-12 * np.abs(a[s].values).max())
    assert a["channel_z"].values.tolist() == b["channel_z"].values.tolist()


def test_online_error_leaves_no_file(tmp_path, kernels):
    out = tmp_path / "online.nc"
    with pytest.raises(ValueError, match="has no kernels"):
        with OnlinePredictor(kernels, output=out) as online:
            online.add_spikes([1.0], population="E")
            online.advance(10.0)
            online.add_spikes([11.0], population="nope")
    assert not out.exists() and not list(tmp_path.iterdir())


# ---------------------------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------------------------


def test_file_options_signals_compression_float32(tmp_path, spikes, kernels):
    kpath = write_dataset(kernels, tmp_path / "kernels.nc")
    csv = tmp_path / "spikes.csv"
    csv.write_text("".join(f"{u} {float(t)!r}\n" for u, t in zip(spikes.units, spikes.times)))
    full = predict_files(csv, kpath, tmp_path / "full.nc", populations=MAP, tstop=TSTOP).dataset()
    small = tmp_path / "small.nc"
    res = predict_files(csv, kpath, small, populations=MAP, tstop=TSTOP, signals=["lfp", "cdm"],
                        contributions=False, dtype="float32", compress=4, block=25)
    ds = read_dataset(small, kind="prediction")
    assert sorted(ds.data_vars) == ["cdm", "lfp", "population_count"]
    assert ds["lfp"].dtype == np.float32 and res.attrs["storage_dtype"] == "float32"
    np.testing.assert_allclose(ds["lfp"].values, full["lfp"].values, rtol=2.0**-24,
                               atol=1e-12 * np.abs(full["lfp"].values).max())
    np.testing.assert_array_equal(ds["population_count"].values, full["population_count"].values)
    with pytest.raises(ValueError, match=r"signals \['xyz'\] are not in the kernels"):
        predict_files(csv, kpath, tmp_path / "bad.nc", populations=MAP, tstop=TSTOP, signals=["xyz"])
    assert not (tmp_path / "bad.nc").exists()


# ---------------------------------------------------------------------------------------------
# kernels of any probe (issue 23)
# ---------------------------------------------------------------------------------------------


def renamed(kernels):
    """The kernels with lfp named as an LFPykit probe and csd as a user's own name, units and
    attributes of their own."""
    k = kernels.rename({"lfp": "PointSourcePotential", "csd": "my_probe"})
    k["PointSourcePotential"].attrs = {"units": "uV", "long_name": "kernel: point-source potential",
                                       "probe_order": 3}
    return k


def test_any_probe_variable_is_predicted_like_lfp(tmp_path, spikes, kernels):
    k2 = renamed(kernels)
    counts = population_counts(spikes, DT)
    ref = predict(kernels, counts)
    got = predict(k2, counts)
    assert list(got.attrs["signals"].split(",")) == ["cdm", "eeg", "PointSourcePotential", "my_probe"]
    np.testing.assert_array_equal(got["PointSourcePotential"].values, ref["lfp"].values)
    np.testing.assert_array_equal(got["my_probe_contribution"].values, ref["csd_contribution"].values)
    attrs = got["PointSourcePotential"].attrs
    assert attrs["units"] == "uV" and attrs["probe_order"] == 3
    assert attrs["long_name"] == "predicted point-source potential"
    assert got["PointSourcePotential"].dims == ("source", "channel", "time")
    # the file route (written, read back) and the online route give the same numbers
    kpath = write_dataset(k2, tmp_path / "kernels.nc")
    csv = tmp_path / "spikes.csv"
    csv.write_text("sender,time_ms\n" + "".join(f"{u},{float(t)!r}\n" for u, t in zip(spikes.units, spikes.times)))
    predict_files(csv, kpath, tmp_path / "p.nc", populations=MAP, tstop=TSTOP, signals=["PointSourcePotential"])
    f = read_dataset(tmp_path / "p.nc")
    assert rel_err(f["PointSourcePotential"].values, ref["lfp"].values) < 1e-12
    assert f["PointSourcePotential"].attrs["units"] == "uV" and "lfp" not in f
    online = OnlinePredictor(kpath, signals=["my_probe"])
    out = _feed(online, spikes, 25.0)
    assert rel_err(out["signals"]["my_probe"], ref["csd"].values) < 1e-12


def test_signal_names_the_layout_uses_are_refused(kernels):
    with pytest.raises(ValueError, match="'population_count' is a name of the prediction's layout"):
        KernelBank(kernels.rename({"lfp": "population_count"}))
    with pytest.raises(ValueError, match="'lfp_contribution' is the contribution variable of signal 'lfp'"):
        KernelBank(kernels.rename({"csd": "lfp_contribution"}))
    with pytest.raises(ValueError, match=r"no signal variable with dims \(post, pre"):
        KernelBank(kernels.drop_vars(["lfp", "csd", "cdm", "eeg"]))
