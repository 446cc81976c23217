"""benchmarks/job_table.py: the per-stage table of Snakemake benchmark files (docs/cluster.md)."""

import subprocess
import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import job_table

HEAD = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _bench(path, s, rss, cpu):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEAD + f"{s}\t0:00:00\t{rss}\t0\t0\t0\t0\t0\t50\t{cpu}\n")


@pytest.mark.parametrize("rel, stage", [
    ("network/default.tsv", "network"),
    ("network/J1.050.tsv", "network"),
    ("kernels/J1.050/quasi_linear-nogeff-segment.tsv", "kernels"),
    ("hybrid/default/reconstruction_frozen-geff.tsv", "hybrid/reconstruction"),
    ("hybrid/default/kernel_run_quasi_linear-geff.tsv", "hybrid/kernel_run"),
    ("figures/default/kernels_passive-geff-scalar.tsv", "figures/kernels"),
    ("figures/paper/Fig14.tsv", "figures/paper/Fig14"),
    ("single_cell/E.tsv", "single_cell/E"),
])
def test_stage_names(rel, stage):
    from pathlib import Path
    assert job_table.stage_of(Path(rel)) == stage


def test_table_sums_and_maxima(tmp_path):
    b = tmp_path / "benchmarks"
    _bench(b / "network" / "default.tsv", 100.0, 5000.0, 190.0)
    _bench(b / "network" / "J1.050.tsv", 120.0, 5200.0, 230.0)
    _bench(b / "kernels" / "default" / "frozen-geff-scalar.tsv", 3.0, 200.0, 2.5)
    rows = {r[0]: r for r in job_table.table(tmp_path, {"network": 20.0})}
    assert rows["network"][1:] == [2, 120.0, 220.0, 420.0, 5200.0, 8400.0]
    assert rows["kernels"][1:] == [1, 3.0, 3.0, 2.5, 200.0, 2.5]
    text = job_table.markdown(list(rows.values()), scaled=True)
    assert "| network | 2 | 120.0 | 220.0 | 420.0 | 5200 | 8400 |" in text
    assert text.splitlines()[-1].startswith("| all | 3 |")


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    script = REPO / "benchmarks" / "job_table.py"
    for args, needle in (([str(tmp_path)], "no benchmark files"),
                         ([str(tmp_path), "--scale", "network"], "expected STAGE=FACTOR")):
        proc = subprocess.run([sys.executable, str(script), *args], check=False, capture_output=True,
                              text=True)
        assert proc.returncode == 2, proc.stderr
        assert needle in proc.stderr and "Traceback" not in proc.stderr


# benchmarks/study_metrics.py: headline numbers of studies side by side (docs/study.md)
import study_metrics


def _metrics(path, rate_e, r2_lfp):
    import numpy as np
    import xarray as xr
    shape = (1, 1, 1, 3, 2, 1)  # run, variant, source, signal, channel, band
    r2 = np.full(shape, 0.5)
    r2[0, 0, 0, 0, :, 0] = [r2_lfp, np.nan]  # median over finite channels
    ds = xr.Dataset(
        {"r2": (("run", "variant", "source", "signal", "channel", "band"), r2),
         "r_std": (("run", "variant", "source", "signal", "channel", "band"), np.ones(shape)),
         "rate": (("run", "population"), [[rate_e, 5.0]]),
         "v_soma": (("run", "population"), [[-70.0, -69.0]])},
        coords={"run": ["default"], "variant": ["frozen-geff-scalar"], "source": ["total"],
                "signal": ["lfp", "csd", "cdm_z"], "channel": [0, 1], "band": ["raw"],
                "population": ["E", "I"]})
    (path / "scan").mkdir(parents=True)
    ds.to_netcdf(path / "scan" / "metrics.nc")


def test_study_metrics_side_by_side(tmp_path):
    _metrics(tmp_path / "a", 2.5, 0.9)
    _metrics(tmp_path / "b", 1.9, 0.8)
    text = study_metrics.markdown(
        [study_metrics.study_column(tmp_path / "a"), study_metrics.study_column(tmp_path / "b"),
         study_metrics.published_column()], ["a", "b", "published"])
    assert "| rate E (1/s) | 2.500 | 1.900 | 2.571 |" in text
    assert "| lfp R^2 (median) | 0.900 | 0.800 |  |" in text
    assert "| median V_soma I (mV) | -69.000 | -69.000 | -69.360 |" in text
    script = REPO / "benchmarks" / "study_metrics.py"
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "a"), "--run", "J1.05"],
                          check=False, capture_output=True, text=True)
    assert proc.returncode == 2 and "run 'J1.05' not among ['default']" in proc.stderr
    assert "Traceback" not in proc.stderr
