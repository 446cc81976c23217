"""lfpk.figures.profiles: the validation's depth profiles (SD against depth, LFP spectra against
depth, their ratio) on synthetic signals whose answers are known."""

import numpy as np
import pytest
import xarray as xr

from lfpk.figures.profiles import depth_profiles

DT = 0.5  # ms
Z = np.array([0.0, -100.0, -200.0, -300.0])
LAYERS = {"upper": [-150.0, 0.0], "lower": [-350.0, -150.0]}


def signals(seed=1, n=4000, scale=1.0, z=Z):
    """LFP (mV) and CSD (uA/mm3) of two populations and their total: noise plus a 40 Hz sine whose
    amplitude grows with depth (so the profiles have a shape)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) * DT
    amp = 1.0 + np.arange(len(z))[:, None]
    parts = [scale * (amp * np.sin(2 * np.pi * 0.040 * t) * (k + 1) + rng.normal(size=(len(z), n)))
             for k in range(2)]
    lfp = np.stack([parts[0] + parts[1], parts[0], parts[1]]) * 1e-3
    csd = 0.5 * lfp * 1e3
    coords = {"source": ["total", "E", "I"], "channel": np.arange(len(z)), "time": t,
              "channel_z": ("channel", z)}
    return xr.Dataset({"lfp": (("source", "channel", "time"), lfp, {"units": "mV"}),
                       "csd": (("source", "channel", "time"), csd, {"units": "uA/mm3"})}, coords=coords)


def test_identical_signals_have_equal_profiles_and_unit_ratio(tmp_path):
    g = signals()
    out = depth_profiles(g, g.copy(deep=True), [tmp_path / "p.png"], transient=100.0, layers=LAYERS)
    assert (tmp_path / "p.png").stat().st_size > 0
    np.testing.assert_array_equal(out["lfp_sd"][0], out["lfp_sd"][1])
    np.testing.assert_array_equal(out["log2_ratio"], 0.0)
    assert out["log2_ratio"].shape == (len(Z), len(out["frequency"]))
    # the 40 Hz sine: the spectral peak of every channel at the bin nearest 40 Hz (256 ms segments:
    # 3.9 Hz apart), the SD growing with depth as its amplitude
    f = out["frequency"]
    peak = f[np.argmax(out["psd"][0], axis=1)]
    assert np.all(np.abs(peak - 40.0) <= (f[1] - f[0]) / 2)
    assert np.all(np.diff(out["lfp_sd"][0]) > 0)


def test_a_prediction_twice_as_large_is_two_doublings_of_power(tmp_path):
    """Linearity: the prediction 2x the ground truth has 2x its SD and 4x its power at every depth
    and frequency, log2 ratio 2 (rounding only)."""
    g = signals()
    p = g.copy(deep=True)
    p["lfp"] = 2.0 * p["lfp"]
    p["csd"] = 2.0 * p["csd"]
    out = depth_profiles(g, p, [tmp_path / "p.png"], transient=100.0)
    np.testing.assert_allclose(out["lfp_sd"][1], 2.0 * out["lfp_sd"][0], rtol=1e-12)
    np.testing.assert_allclose(out["csd_sd"][1], 2.0 * out["csd_sd"][0], rtol=1e-12)
    np.testing.assert_allclose(out["log2_ratio"], 2.0, rtol=0, atol=1e-9)


def test_transient_leaves_out_the_start(tmp_path):
    """Statistics after the transient only: a burst before it changes nothing."""
    g = signals()
    b = g.copy(deep=True)
    b["lfp"][:, :, :100] += 50.0  # the first 50 ms
    a1 = depth_profiles(g, g, [tmp_path / "a.png"], transient=60.0)
    a2 = depth_profiles(b, b, [tmp_path / "b.png"], transient=60.0)
    np.testing.assert_array_equal(a1["lfp_sd"][0], a2["lfp_sd"][0])


def test_mismatched_inputs_are_named(tmp_path):
    g = signals()
    with pytest.raises(ValueError, match="prediction: its LFP channels"):
        depth_profiles(g, signals(z=Z - 50.0), [tmp_path / "p.png"])
    with pytest.raises(ValueError, match="transient"):
        depth_profiles(g, g, [tmp_path / "p.png"], transient=1e6)
    assert not (tmp_path / "p.png").exists()
