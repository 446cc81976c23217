"""A tiny complete study through Snakemake: every output file and figure, and a sane R^2.

The network is tiny (64 E / 16 I cells, 500 ms) so the test runs in about a minute; everything
else (kernels, predictions, comparisons, sensitivity map, figures) is the real workflow.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from lfpk.config import validate_config
from lfpk.workflow import all_targets_for

BIN = Path(sys.executable).parent
STUDY = "pytest_e2e"

#: Floor for R^2 of the current dipole moment (z) of the frozen, g_eff kernel prediction. The
#: dipole is dominated by synaptic and return currents, which the kernels capture to first order
#: (the default laptop network gives R^2 = 0.96); a tiny network has few spikes and more
#: non-linear (spike-related) currents, so the floor is set well below that but far above what
#: an unrelated prediction gives (checked below with a time-reversed prediction).
R2_FLOOR = 0.5


def tiny_config(base):
    cfg = dict(base)
    cfg["study"] = STUDY
    cfg["simulation"] = dict(base["simulation"], tstop=500.0, transient=100.0)
    cfg["populations"] = {name: dict(pop, size=size)
                          for (name, pop), size in zip(base["populations"].items(), (64, 16))}
    cfg["connections"] = [dict(c, probability=1.0) for c in base["connections"]]
    cfg["scans"] = {"J": [1.0]}
    cfg["kernel"] = dict(base["kernel"], variants=["frozen-geff-scalar", "passive-nogeff-scalar"])
    cfg["sensitivity"] = dict(base["sensitivity"], rate_scales={"start": 0.5, "stop": 1.5, "num": 3},
                              v_rest_offsets={"start": -5.0, "stop": 5.0, "num": 3})
    cfg["network"] = {"tasks": 1}
    cfg["recording"] = dict(base["recording"], membrane_sample=8)
    return validate_config(cfg)


@pytest.fixture(scope="module")
def tiny_study(repo, mechanisms, tmp_path_factory, _laptop_config_raw):
    cfg = tiny_config(_laptop_config_raw)
    path = tmp_path_factory.mktemp("e2e") / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg))
    results = repo / "results" / STUDY
    shutil.rmtree(results, ignore_errors=True)
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    proc = subprocess.run([str(BIN / "snakemake"), "--cores", "2", "--configfile", str(path)],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=1200)
    yield cfg, proc, results
    shutil.rmtree(results, ignore_errors=True)


def test_every_output_exists(tiny_study, repo):
    cfg, proc, results = tiny_study
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    targets = all_targets_for(cfg)
    missing = [t for t in targets if not (repo / t).is_file()]
    assert not missing, missing
    assert any("/figures/default/" in t for t in targets)
    # the metrics table is printed at the end of the run
    assert "Kernel prediction vs ground truth" in proc.stdout + proc.stderr


def test_figures_open(tiny_study):
    import matplotlib.image

    cfg, proc, results = tiny_study
    pngs = sorted(results.glob("figures/**/*.png"))
    pdfs = sorted(results.glob("figures/**/*.pdf"))
    assert len(pngs) >= 7 and len(pngs) == len(pdfs)
    for png in pngs:
        img = matplotlib.image.imread(png)
        assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 200, png
        assert img[..., :3].std() > 0.01, f"{png} looks blank"
    for pdf in pdfs:
        assert pdf.read_bytes()[:5] == b"%PDF-", pdf


def test_cdm_prediction_quality(tiny_study):
    from lfpk.compare import r2
    from lfpk.io import read_dataset

    cfg, proc, results = tiny_study
    table = pd.read_csv(results / "comparison" / "default" / "summary.csv")
    row = table[(table.signal == "cdm_z") & (table.source == "total") & (table.band == "raw")
                & (table.approximation == "frozen-geff-scalar")]
    assert len(row) == 1
    assert row.r2_median.iloc[0] > R2_FLOOR, row
    # control: the same prediction reversed in time is unrelated to the ground truth
    gt = read_dataset(results / "network" / "default" / "signals.nc")["cdm"].sel(source="total", component="z")
    pr = read_dataset(results / "prediction" / "default" / "frozen-geff-scalar.nc")["cdm"].sel(source="total", component="z")
    keep = gt["time"].values >= cfg["simulation"]["transient"]
    g = gt.values[keep]
    p = pr.sel(time=gt["time"].values[keep]).values
    assert r2(p, g) == pytest.approx(row.r2_median.iloc[0], rel=1e-6)
    assert r2(p[::-1], g) < R2_FLOOR / 2


def test_nothing_left_to_do(tiny_study, repo):
    cfg, proc, results = tiny_study
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    path = next(Path(p) for p in proc.args if str(p).endswith("tiny.yaml"))
    dry = subprocess.run([str(BIN / "snakemake"), "-n", "--configfile", str(path)], cwd=repo, env=env,
                         capture_output=True, text=True, timeout=300)
    assert dry.returncode == 0, dry.stderr
    assert "Nothing to be done" in dry.stdout + dry.stderr, dry.stdout[-3000:]
