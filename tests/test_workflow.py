"""The Snakemake workflow: dry runs of both configs, lint, and early rejection of bad configs."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from lfpk.entry.workflow import PAPER_FIGURES

BIN = Path(sys.executable).parent


def _snakemake(repo, *args, timeout=300):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(
        [str(BIN / "snakemake"), *args], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("configfile", ["config/config.yaml", "config/paper.yaml"])
def test_dry_run_whole_dag(repo, configfile):
    # a study name without results, so the whole DAG is scheduled
    proc = _snakemake(repo, "-n", "--configfile", configfile, "--config", "study=pytest_dry_run")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    out = proc.stdout + proc.stderr
    for rule in ("morphology", "morphology_figure", "network", "kernels", "predict",
                 "compare", "metrics_table", "sensitivity", "figure_network", "figure_kernels",
                 "figure_traces", "figure_metrics", "hybrid_reconstruction", "hybrid_kernel_run", "hybrid_kernels",
                 "hybrid_predict", "hybrid_compare", "single_cell", *(f"paper_fig{f[3:]}" for f in PAPER_FIGURES)):
        assert f"rule {rule}:" in out or f"\n{rule} " in out, rule


def test_lint_is_clean(repo):
    proc = _snakemake(repo, "--lint")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Lints for" not in out, out


@pytest.mark.parametrize(
    "edit, key",
    [
        (lambda c: c["connections"][0]["synapse"].update(tau2=0.1), "connections[0].synapse.tau2"),
        (lambda c: c["populations"]["E"].update(size=-1), "populations.E.size"),
        (lambda c: c.update(unknown_key=1), "unknown key unknown_key"),
    ],
)
def test_bad_config_fails_fast_naming_key(repo, config, tmp_path, edit, key):
    edit(config)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    start = time.monotonic()
    proc = _snakemake(repo, "-n", "--configfile", str(path))
    elapsed = time.monotonic() - start
    assert proc.returncode != 0
    assert key in proc.stdout + proc.stderr
    assert elapsed < 10.0, f"rejection took {elapsed:.1f} s"


def test_slurm_profile_runs_every_mpi_rule_under_srun(repo):
    """Every rule that declares MPI ranks (resources `tasks`) gets one CPU per rank and `srun` in
    profiles/slurm. Without this, the SLURM executor asks for threads x tasks CPUs (more than a
    node of the throw-away test cluster has) and the job waits forever for a second node."""
    import re

    mpi_rules = set()
    for path in sorted((repo / "workflow" / "rules").glob("*.smk")):
        for block in re.split(r"\n(?=rule )", path.read_text()):
            match = re.match(r"rule (\w+):", block)
            if match and re.search(r"^\s+tasks=", block, re.M):
                mpi_rules.add(match.group(1))
    assert {"network", "hybrid_reconstruction", "hybrid_kernel_run"} <= mpi_rules
    profile = yaml.safe_load((repo / "profiles" / "slurm" / "config.yaml").read_text())
    resources = profile["set-resources"]
    for rule in sorted(mpi_rules):
        assert rule in resources, f"profiles/slurm has no set-resources for MPI rule {rule}"
        assert resources[rule].get("cpus_per_task") == 1, rule
        assert str(resources[rule].get("mpi", "")).startswith("srun"), rule
