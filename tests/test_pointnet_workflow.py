"""The pointnet stage of the tiny study through Snakemake: fit, online and offline predictions,
comparison, rates, Fig 14."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def tiny_study(mechanisms, tiny_run):
    cfg, proc, results = tiny_run
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    return cfg, results


def test_fig14_is_drawn(tiny_study):
    import matplotlib.image

    cfg, results = tiny_study
    png, pdf = results / "figures" / "paper" / "Fig14.png", results / "figures" / "paper" / "Fig14.pdf"
    img = matplotlib.image.imread(png)
    assert img.shape[0] > 1000 and img.shape[1] > 1000 and img[..., :3].std() > 0.01
    assert pdf.read_bytes()[:5] == b"%PDF-"
    for log in ("pointnet/default/fit.log", "pointnet/default/simulate.log", "figures/paper/Fig14.log"):
        assert (results / "logs" / log).is_file(), log
    assert (results / "benchmarks" / "pointnet" / "default" / "fit.tsv").is_file()


def test_fit_online_offline_and_comparison(tiny_study):
    from lfpk.base.io import read_dataset

    cfg, results = tiny_study
    base = results / "pointnet" / "default"
    fit = read_dataset(base / "fit.nc")
    assert fit.sizes["parameter"] == 11 and fit.sizes["generation"] == 2 and fit.sizes["individual"] == 4
    assert fit.attrs["population_size"] == 4 and fit.attrs["threads"] == 1
    spikes = read_dataset(base / "spikes.nc")
    assert spikes.attrs["tstop"] == cfg["simulation"]["tstop"] and spikes.sizes["spike"] > 0
    online, offline = read_dataset(base / "online.nc"), read_dataset(base / "offline.nc")
    for name in ("lfp", "csd", "cdm", "eeg", "meg"):
        a, b = online[name].values, offline[name].values
        assert np.abs(a - b).max() <= 1e-10 * np.abs(b).max(), name
    table = pd.read_csv(base / "comparison.csv")
    assert set(table["approximation"]) == {"LIF-frozen-geff-scalar"}
    assert {"lfp", "cdm_z"} <= set(table["signal"])
    rates = read_dataset(base / "rates.nc")
    assert list(rates["population"].values) == list(cfg["populations"])
    assert np.isfinite(rates["rate_lif"].values).all()
