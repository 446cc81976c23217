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
