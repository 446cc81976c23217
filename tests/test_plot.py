"""lfpk plot: a quick look at a prediction or signals.nc; bad input in one line (issue 24)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
from test_predict import write_inputs

from lfpk.base.io import write_dataset
from lfpk.engines.prediction.predict import predict_files
from lfpk.entry.cli.main import main
from lfpk.figures.prediction import plot_checks

PNG = b"\x89PNG\r\n\x1a\n"


def lfpk(*args):
    return subprocess.run([sys.executable, "-m", "lfpk", *map(str, args)], capture_output=True, text=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plot")
    kpath, spath, _, _ = write_inputs(tmp)
    pred = tmp / "prediction.nc"
    with pytest.warns(Warning):  # the synthetic kernels' g_eff rates
        predict_files(spath, kpath, pred)
    return tmp, pred, kpath, spath


def test_plot_of_a_prediction_and_of_signals(files):
    tmp, pred, _, _ = files
    r = lfpk("plot", pred)  # default name: the input's with .png
    assert r.returncode == 0, r.stderr
    png = pred.with_suffix(".png")
    assert png.read_bytes()[:8] == PNG and png.stat().st_size > 10_000
    out = tmp / "window.png"
    assert main(["plot", str(pred), "--output", str(out), "--window", "2", "12"]) == 0
    assert out.read_bytes()[:8] == PNG
    # a ground-truth signals.nc (lfp, csd, cdm by source; no kernels' attributes)
    t = np.arange(0, 50.0, 0.25)
    rng = np.random.default_rng(0)
    sig = xr.Dataset(
        {"lfp": (("source", "channel", "time"), rng.normal(size=(3, 4, len(t))), {"units": "mV", "long_name": "LFP"}),
         "csd": (("source", "channel", "time"), rng.normal(size=(3, 4, len(t))), {"units": "uA/mm3", "long_name": "CSD"}),
         "cdm": (("source", "component", "time"), rng.normal(size=(3, 3, len(t))), {"units": "nA um", "long_name": "CDM"})},
        coords={"source": ["total", "E", "I"], "channel": np.arange(4),
                "channel_z": ("channel", -100.0 * np.arange(4), {"units": "um", "long_name": "depth"}),
                "component": ["x", "y", "z"], "time": ("time", t, {"units": "ms", "long_name": "time"})},
        attrs={"transient": 10.0})
    spath = write_dataset(sig, tmp / "signals.nc")
    assert main(["plot", str(spath), "--output", str(tmp / "signals.pdf")]) == 0
    assert (tmp / "signals.pdf").read_bytes()[:4] == b"%PDF"
    assert plot_checks(sig)[1] == (10.0, 49.75)  # default window: from the transient to the end


def test_plot_bad_input_one_line_exit_2(files, capsys):
    tmp, pred, kpath, spath = files
    no_signals = write_dataset(xr.Dataset(
        {"other": (("source", "time"), np.zeros((1, 3)), {"units": "1", "long_name": "x"})},
        coords={"source": ["total"], "time": [0.0, 1.0, 2.0]}, attrs={"kernel_attrs": "{}"}), tmp / "empty.nc")
    text = tmp / "notes.txt"
    text.write_text("not netCDF\n")
    cases = [
        ([kpath], "expected a prediction (lfpk predict) or ground-truth signals.nc; it looks like gathered kernels"),
        ([spath], "expected a prediction (lfpk predict) or ground-truth signals.nc; it looks like the network's spikes"),
        ([text, "--output", tmp / "x.png"], "not a netCDF file"),
        ([tmp / "missing.nc"], "does not exist"),
        ([no_signals, "--output", tmp / "y.png"], "none of the signals lfp, csd, cdm, eeg, meg"),
        ([pred, "--window", 15, 40, "--output", tmp / "z.png"],
         "--window 15 40 ms is outside the data of"),
        ([pred, "--window", 5, 5, "--output", tmp / "z.png"], "--window 5 5: expected START < STOP (ms)"),
        ([pred, "--output", tmp / "fig.csv"], "expected a figure name ending in .png, .pdf, .svg"),
        ([pred, "--output", pred], "prediction.nc"),  # the input itself
    ]
    before = pred.read_bytes()
    for args, expect in cases:
        rc = main(["plot", *map(str, args)])
        lines = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(lines) == 1 and expect in lines[0], (args, lines)
        assert lines[0].startswith("lfpk plot: error:")
    r = lfpk("plot", kpath, "--output", tmp / "x.png")  # the console command: one line, no traceback
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert pred.read_bytes() == before
    assert not any((tmp / n).exists() for n in ("x.png", "y.png", "z.png", "fig.csv", "missing.png"))
