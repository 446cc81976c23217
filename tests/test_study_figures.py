"""Study figures on small synthetic datasets following the data contracts: every figure writes a PNG
and a PDF that open; inputs lacking a variable are rejected with its name; the metrics table."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from lfpk.base.io import write_dataset
from lfpk.engines.compare import compare
from lfpk.figures import study as sf

DT = 0.5
TSTOP = 400.0
TRANSIENT = 100.0


def _time():
    return np.arange(int(TSTOP / DT) + 1) * DT


def make_spikes(config, seed=0):
    rng = np.random.default_rng(seed)
    pops = ["E"] * 12 + ["I"] * 4
    times, units = [], []
    for u, p in enumerate(pops):
        n = rng.poisson((5.0 if p == "E" else 15.0) * TSTOP * 1e-3)
        times.extend(rng.uniform(0, TSTOP, n))
        units.extend([u] * n)
    order = np.lexsort((units, times))
    st, su = np.asarray(times)[order], np.asarray(units)[order]
    t = _time()
    counts = np.zeros((2, len(t)), dtype=np.int64)
    for ti, ui in zip(st, su):
        counts[0 if pops[ui] == "E" else 1, min(int(ti / DT), len(t) - 1)] += 1
    cfg = dict(config)
    return xr.Dataset(
        {"spike_time": ("spike", st, {"units": "ms", "long_name": "spike time"}),
         "spike_unit": ("spike", su, {"units": "1", "long_name": "unit"}),
         "unit_population": ("unit", pops, {"units": "1", "long_name": "population"}),
         "x": ("unit", rng.uniform(-100, 100, 16), {"units": "um", "long_name": "x"}),
         "y": ("unit", rng.uniform(-100, 100, 16), {"units": "um", "long_name": "y"}),
         "z": ("unit", rng.normal(0, 75, 16), {"units": "um", "long_name": "soma depth"}),
         "population_count": (("population", "time"), counts, {"units": "1", "long_name": "spikes per bin"})},
        coords={"unit": np.arange(16), "population": ["E", "I"], "time": t},
        attrs={"dt": DT, "tstop": TSTOP, "transient": TRANSIENT, "parameters": json.dumps(cfg),
               "population_sizes": json.dumps({"E": 12, "I": 4}),
               "connection_probabilities": json.dumps({"E->E": 1.0, "E->I": 1.0, "I->E": 1.0, "I->I": 1.0})})


def make_signals(config, seed=1, scale=1.0, noise=0.0):
    """signals.nc / prediction layout: smooth random traces, total = sum of populations."""
    rng = np.random.default_rng(seed)
    t = _time()
    z = np.asarray(config["probes"]["channel_z"], dtype=float)
    base = np.random.default_rng(99)

    def traces(n, units):
        per = base.normal(size=(2, n, len(t))).cumsum(axis=-1) * 1e-3 * units
        per = per * scale + noise * rng.normal(size=per.shape) * 1e-3 * units
        return np.concatenate([per.sum(axis=0, keepdims=True), per])

    return xr.Dataset(
        {"lfp": (("source", "channel", "time"), traces(len(z), 1.0), {"units": "mV", "long_name": "LFP"}),
         "csd": (("source", "channel", "time"), traces(len(z), 10.0), {"units": "uA/mm3", "long_name": "CSD"}),
         "cdm": (("source", "component", "time"), traces(3, 1e4), {"units": "nA um", "long_name": "CDM"})},
        coords={"source": ["total", "E", "I"], "channel": np.arange(len(z)),
                "channel_z": ("channel", z, {"units": "um", "long_name": "depth"}),
                "component": ["x", "y", "z"], "time": ("time", t, {"units": "ms", "long_name": "time"})},
        attrs={"dt": DT, "tstop": TSTOP, "transient": TRANSIENT})


def make_sensitivity(nx=5, ny=4):
    x = np.linspace(0, 2, nx)
    y = np.linspace(-10, 10, ny)
    X, Y = np.meshgrid(x, y, indexing="ij")
    r2 = 0.9 - 0.05 * (X - 1) ** 2 - 0.002 * Y ** 2
    rs = np.exp(-0.08 * Y) * (1 + 0.1 * (X - 1))
    dims = ("rate_scale", "v_rest_offset")
    return xr.Dataset(
        {"r2": (dims, r2, {"units": "1", "long_name": "R2"}), "r_std": (dims, rs, {"units": "1", "long_name": "r_STD"}),
         "r2_reference": ((), 0.9, {"units": "1", "long_name": "R2 ref"}),
         "r_std_reference": ((), 1.0, {"units": "1", "long_name": "r_STD ref"})},
        coords={"rate_scale": x, "v_rest_offset": y}, attrs={"variant": "frozen-geff-scalar"})


@pytest.fixture
def data(config):
    gt = make_signals(config)
    preds = {"frozen-geff-scalar": make_signals(config, seed=2, scale=1.1, noise=0.3),
             "frozen-nogeff-scalar": make_signals(config, seed=3, scale=2.0, noise=0.5)}
    comps = [compare(gt, p, approximation=lab, psd_segment=64.0) for lab, p in preds.items()]
    return {"spikes": make_spikes(config), "signals": gt, "predictions": preds, "comparisons": comps,
            "sensitivity": make_sensitivity()}


def check_outputs(tmp_path, name):
    import matplotlib.image

    png, pdf = tmp_path / f"{name}.png", tmp_path / f"{name}.pdf"
    img = matplotlib.image.imread(png)
    assert img.ndim == 3 and img.shape[2] in (3, 4) and img.shape[0] > 300 and img.shape[1] > 300
    assert pdf.read_bytes()[:4] == b"%PDF"
    return img


def paths(tmp_path, name):
    return [tmp_path / f"{name}.png", tmp_path / f"{name}.pdf"]


def test_network_overview(data, tmp_path):
    sf.network_overview(data["spikes"], data["signals"], paths(tmp_path, "overview"))
    img = check_outputs(tmp_path, "overview")
    assert img.shape[1] > img.shape[0]  # landscape
    # the config from the spikes attributes carries the run's sizes and probabilities
    cfg = sf.run_config(data["spikes"])
    assert cfg["populations"]["E"]["size"] == 12 and cfg["connections"][0]["probability"] == 1.0


def test_network_overview_takes_a_loaded_config(data, tmp_path):
    """The figure layer does not read configuration files (that is the api layer's job)."""
    write_dataset(data["spikes"], tmp_path / "spikes.nc")
    write_dataset(data["signals"], tmp_path / "signals.nc")
    with pytest.raises(TypeError, match="loaded configuration"):
        sf.network_overview_figure(tmp_path / "spikes.nc", tmp_path / "signals.nc", paths(tmp_path, "o"),
                                   config=str(tmp_path / "config.yaml"))
    assert not list(tmp_path.glob("o.*"))


def test_prediction_traces_and_wrapper(data, tmp_path):
    sf.prediction_traces(data["signals"], data["predictions"], paths(tmp_path, "traces"), window=(100.0, 400.0))
    check_outputs(tmp_path, "traces")
    write_dataset(data["signals"], tmp_path / "signals.nc")
    files = []
    for lab, p in data["predictions"].items():
        write_dataset(p, tmp_path / f"{lab}.nc")
        files.append(tmp_path / f"{lab}.nc")
    sf.prediction_traces_figure(tmp_path / "signals.nc", files, paths(tmp_path, "traces_files"))
    check_outputs(tmp_path, "traces_files")


def test_metrics_and_table(data, tmp_path):
    sf.metrics(data["comparisons"], paths(tmp_path, "metrics"))
    check_outputs(tmp_path, "metrics")
    sf.metrics(data["comparisons"][0], paths(tmp_path, "metrics_one"), source="E")
    check_outputs(tmp_path, "metrics_one")
    files = []
    for i, c in enumerate(data["comparisons"]):
        write_dataset(c, tmp_path / f"comparison{i}.nc")
        files.append(tmp_path / f"comparison{i}.nc")
    sf.metrics_figure(files, paths(tmp_path, "metrics_files"))
    check_outputs(tmp_path, "metrics_files")
    text = sf.format_metrics_table(files)
    for word in ("frozen-geff-scalar", "frozen-nogeff-scalar", "cdm_z", "lfp", "r2_median", str(files[0])):
        assert word in text
    assert " E " not in text  # default: source total only
    assert "lfp" not in sf.format_metrics_table(files[:1], signals=["cdm_z"]).split("\n", 1)[1]


def test_outputs_are_byte_stable(data, tmp_path):
    sf.metrics(data["comparisons"], [tmp_path / "a.png", tmp_path / "a.pdf"])
    sf.metrics(data["comparisons"], [tmp_path / "b.png", tmp_path / "b.pdf"])
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


def test_missing_variables_are_named(data, tmp_path):
    out = paths(tmp_path, "x")
    with pytest.raises(ValueError, match="'cdm'"):
        sf.network_overview(data["spikes"], data["signals"].drop_vars("cdm"), out)
    with pytest.raises(ValueError, match="'population_count'"):
        sf.network_overview(data["spikes"].drop_vars("population_count"), data["signals"], out)
    bad = dict(data["predictions"])
    bad["frozen-geff-scalar"] = bad["frozen-geff-scalar"].drop_vars("lfp")
    with pytest.raises(ValueError, match="'lfp'"):
        sf.prediction_traces(data["signals"], bad, out)
    with pytest.raises(ValueError, match="'coherence'"):
        sf.metrics([data["comparisons"][0].drop_vars("coherence")], out)
    with pytest.raises(ValueError, match="'r2'"):
        sf.format_metrics_table([data["comparisons"][0].drop_vars("r2")])
    assert not list(tmp_path.glob("x.*"))  # nothing written
