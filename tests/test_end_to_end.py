"""A tiny complete study through Snakemake: every output file and figure, and a sane R^2.

The network is tiny (64 E / 16 I cells, 500 ms) so the test runs in about a minute; everything
else (kernels, predictions, comparisons, sensitivity map, figures) is the real workflow.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tinystudy import REPO, remove, results, snakemake, tiny_config, write_config  # noqa: F401

from lfpk.entry.workflow import all_targets_for

STUDY = "pytest_e2e"

#: Floor for R^2 of the current dipole moment (z) of the frozen, g_eff kernel prediction. The
#: dipole is dominated by synaptic and return currents, which the kernels capture to first order
#: (the default laptop network gives R^2 = 0.96); a tiny network has few spikes and more
#: non-linear (spike-related) currents, so the floor is set well below that but far above what
#: an unrelated prediction gives (checked below with a time-reversed prediction).
R2_FLOOR = 0.5

#: Band for r_STD (std prediction / std ground truth) of the dipole moment (z) of the frozen, g_eff
#: prediction: amplitude right within a factor 4/3 either way. The kernel prediction is the
#: first-order (linear) response; what it leaves out changes amplitudes by tens of percent, not by
#: factors: second-order terms of the synaptic driving force and active currents around V_rest,
#: and the spike currents of a small network (the tiny study gives 1.08; the paper's Model B LFP
#: median is 1.19 at J = 1). A kernel off by a factor of 2 (e.g. a doubled weight or k_out) or
#: kernels without g_eff (passive cell, too high input resistance: 1.7 here) fall outside. R^2 is
#: blind to such errors (it is invariant to scaling), hence this second check.
R_STD_BAND = (0.75, 4.0 / 3.0)


@pytest.fixture(scope="module")
def tiny_study(mechanisms, tiny_run):
    return tiny_run


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
    from lfpk.base.io import read_dataset
    from lfpk.engines.compare import r2

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


def test_nothing_left_to_do(tiny_study):
    cfg, proc, results = tiny_study
    path = next(Path(p) for p in proc.args if str(p).endswith(".yaml"))
    dry = snakemake("-n", "--configfile", path)
    assert dry.returncode == 0, dry.stderr
    assert "Nothing to be done" in dry.stdout + dry.stderr, dry.stdout[-3000:]


def _cdm_row(table, variant):
    row = table[(table.signal == "cdm_z") & (table.source == "total") & (table.band == "raw")
                & (table.approximation == variant)]
    assert len(row) == 1
    return row.iloc[0]


def test_cdm_amplitude_within_band_and_a_doubled_kernel_fails(tiny_study, tmp_path):
    """r_STD of the dipole sits in the physically expected band; the same kernels scaled by 2,
    predicted and compared by the real stages, keep R^2 but leave the band."""
    from lfpk.base.io import read_dataset, write_dataset
    from lfpk.engines.compare import compare_files
    from lfpk.engines.prediction.predict import predict_files

    cfg, proc, results = tiny_study
    table = pd.read_csv(results / "comparison" / "default" / "summary.csv")
    good = _cdm_row(table, "frozen-geff-scalar")
    lo, hi = R_STD_BAND
    assert lo < good.r_std_median < hi, good
    # the same pipeline with every kernel doubled: R^2 unchanged, r_STD doubled (linearity)
    kernels = read_dataset(results / "kernels" / "default" / "frozen-geff-scalar" / "kernels.nc")
    lagged = [v for v in kernels.data_vars if "lag" in kernels[v].dims]
    write_dataset(kernels.assign({v: kernels[v] * 2.0 for v in lagged}), tmp_path / "kernels_x2.nc")
    predict_files(results / "network" / "default" / "spikes.nc", tmp_path / "kernels_x2.nc", tmp_path / "x2.nc")
    _, bad_table = compare_files(results / "network" / "default" / "signals.nc", tmp_path / "x2.nc",
                                 tmp_path / "x2_cmp.nc", summary=tmp_path / "x2.csv",
                                 transient=cfg["simulation"]["transient"], approximation="frozen-geff-scalar")
    bad = _cdm_row(bad_table, "frozen-geff-scalar")
    assert bad.r2_median == pytest.approx(good.r2_median, rel=1e-5)  # R^2 cannot see it
    assert bad.r_std_median == pytest.approx(2 * good.r_std_median, rel=1e-5)
    assert not lo < bad.r_std_median < hi
    # kernels without g_eff on a passive cell overestimate the amplitude (Hagen et al. 2022)
    assert _cdm_row(table, "passive-nogeff-scalar").r_std_median > hi
