"""Predictions made while NEST runs equal the offline prediction of the same spikes."""

from __future__ import annotations

import copy

import numpy as np
import pytest

#: Online and offline are the same convolution evaluated in blocks (overlap-save) or at once (FFT):
#: they differ by floating-point rounding only (about 1e-15 relative); 1e-10 is the acceptance.
RTOL = 1e-10


@pytest.fixture(scope="module")
def tiny_setup(mechanisms, tmp_path_factory, _laptop_config_raw):
    """The tiny study's configuration (64 E / 16 I) and its kernels (config rates and V_rest)."""
    from tinystudy import tiny_config

    from lfpk.api.kernels import compute_kernels
    from lfpk.base.io import write_dataset

    cfg = tiny_config(copy.deepcopy(_laptop_config_raw), "pytest_pointnet_online")
    cfg["simulation"]["tstop"] = 300.0
    folder = tmp_path_factory.mktemp("online")
    write_dataset(compute_kernels(cfg), folder / "kernels.nc")
    return cfg, folder


def _max_relative_difference(a, b):
    worst = {}
    for name in ("lfp", "csd", "cdm", "eeg", "meg", "lfp_contribution", "cdm_contribution", "eeg_contribution"):
        x, y = np.asarray(a[name].values), np.asarray(b[name].values)
        assert x.shape == y.shape, name
        worst[name] = float(np.abs(x - y).max() / np.abs(y).max())
    return worst


@pytest.mark.filterwarnings("ignore:the kernels. g_eff was computed")
@pytest.mark.parametrize("chunk", [100.0, 7.5])
def test_online_equals_offline(tiny_setup, tmp_path, chunk):
    """The network simulated in chunks (longer than the kernels' 50 ms, and shorter), every chunk's
    spikes fed to the streaming predictor: the file written while NEST ran equals ``lfpk predict``
    on the spikes it wrote, for every signal and connection, to 1e-10 relative."""
    from lfpk.base.io import read_dataset
    from lfpk.engines.prediction.predict import predict_files
    from lfpk.study.pointnet.stages import simulate_files

    cfg, folder = tiny_setup
    out = simulate_files(cfg, tmp_path / "spikes.nc", kernels=folder / "kernels.nc", online=tmp_path / "online.nc",
                         chunk=chunk)
    assert out["spikes"].sizes["spike"] > 100
    predict_files(tmp_path / "spikes.nc", folder / "kernels.nc", tmp_path / "offline.nc")
    online, offline = read_dataset(tmp_path / "online.nc"), read_dataset(tmp_path / "offline.nc")
    np.testing.assert_array_equal(online["time"].values, offline["time"].values)
    assert online["time"].values[-1] == cfg["simulation"]["tstop"]
    np.testing.assert_array_equal(online["population_count"].values, offline["population_count"].values)
    worst = _max_relative_difference(online, offline)
    assert max(worst.values()) < RTOL, worst
    # the signals are not trivially zero: the spikes drive them
    assert np.abs(offline["lfp"].values).max() > 0 and offline["population_count"].values.sum() == out["spikes"].sizes["spike"]


def test_online_prediction_does_not_depend_on_the_chunk(tiny_setup, tmp_path):
    """Spikes and online prediction are the same file content for different chunk lengths."""
    from lfpk.base.io import read_dataset
    from lfpk.study.pointnet.stages import simulate_files

    cfg, folder = tiny_setup
    for name, chunk in (("a", 100.0), ("b", 25.0)):
        simulate_files(cfg, tmp_path / f"spikes_{name}.nc", kernels=folder / "kernels.nc",
                       online=tmp_path / f"online_{name}.nc", chunk=chunk)
    a, b = read_dataset(tmp_path / "spikes_a.nc"), read_dataset(tmp_path / "spikes_b.nc")
    np.testing.assert_array_equal(a["spike_time"].values, b["spike_time"].values)
    np.testing.assert_array_equal(a["spike_unit"].values, b["spike_unit"].values)
    pa, pb = read_dataset(tmp_path / "online_a.nc"), read_dataset(tmp_path / "online_b.nc")
    assert max(_max_relative_difference(pa, pb).values()) < RTOL


def test_simulate_refuses_half_an_online_request(tiny_setup, tmp_path):
    from lfpk.study.pointnet.stages import simulate_files

    cfg, folder = tiny_setup
    with pytest.raises(ValueError, match="give both kernels"):
        simulate_files(cfg, tmp_path / "spikes.nc", kernels=folder / "kernels.nc")
    assert not (tmp_path / "spikes.nc").exists()
