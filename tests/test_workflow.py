"""The Snakemake workflow: dry runs of both configs, lint, and early rejection of bad configs."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lfpk.base import mpi
from lfpk.entry import workflow
from lfpk.entry.workflow import PAPER_FIGURES
from lfpk.study import hybrid, runs

BIN = Path(sys.executable).parent


def _snakemake(repo, *args, timeout=300, env=None):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {}))
    return subprocess.run(
        [str(BIN / "snakemake"), *args], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize("configfile", ["config/config.yaml", "config/paper.yaml"])
def test_dry_run_whole_dag(repo, configfile):
    # a study name without results, so the whole DAG is scheduled
    # the paper's 64 ranks are a cluster's: spread over nodes (they do not fit this machine's memory)
    env = {"LFPK_RANKS_PER_NODE": "8"} if "paper" in configfile else {}
    proc = _snakemake(repo, "-n", "--configfile", configfile, "--config", "study=pytest_dry_run", env=env)
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
    proc = _snakemake(repo, "-n", "--configfile", str(path))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2
    assert key in out
    # refused while the Snakefile is read: before Snakemake builds the DAG of jobs (fast, whatever
    # the machine's load; no timed assertion)
    assert "Building DAG" not in out and "Job stats" not in out



@pytest.mark.parametrize("options", [
    ["--configfile", "config/config.yaml", "--configfile", "config/paper.yaml"],
    ["--configfile=config/config.yaml", "--configfiles", "config/paper.yaml"],
])
def test_repeated_configfile_option_is_refused(repo, options):
    """Snakemake keeps only the last of repeated --configfile options; the workflow refuses them
    like several files of one option: one line, exit status 2, before any job is planned."""
    proc = _snakemake(repo, "-n", *options, "--config", "study=pytest_two_files", timeout=60)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert lines == ["error: 2 config files given (config/config.yaml, config/paper.yaml); give one --configfile: "
                     "a file describes the whole study or names the file it overlays with 'extends:'"]
    assert "Traceback" not in proc.stderr + proc.stdout and "Job stats" not in proc.stdout


def test_command_line_configfiles():
    """The files of every --configfile option of a Snakemake command line, when it is repeated."""
    files = workflow.command_line_configfiles
    assert files(["snakemake", "-n", "--configfile", "a.yaml"]) is None
    assert files(["snakemake", "--configfiles", "a.yaml", "b.yaml"]) is None  # one option: the loader counts
    assert files(["/v/bin/snakemake", "--configfile", "a.yaml", "-n", "--configfile", "b.yaml", "c.yaml"]) == [
        "a.yaml", "b.yaml", "c.yaml"]
    assert files(["/v/lib/snakemake/__main__.py", "--configfile=a.yaml", "--configfile", "b.yaml", "all"]) == [
        "a.yaml", "b.yaml", "all"]  # as Snakemake's parser: the option takes the words up to the next option
    assert files(["pytest", "--configfile", "a.yaml", "--configfile", "b.yaml"]) is None  # not Snakemake's


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


def test_runs_are_listed_once():
    """lfpk.study.runs lists a study's runs; the loader, the workflow and the hybrid check use it."""
    cfg = {"weight_scaling": {"J": 1.0}, "scans": {"J": [0.975, 1.0, 1.075]},
           "network": {"runs": {"small": {"populations": {"E": {"size": 10}}}}}}
    assert runs.ground_truth_runs(cfg) == ["default", "J0.975", "J1.075", "small"]
    assert runs.j_scan_runs(cfg) == ["default", "J0.975", "J1.075"]
    assert workflow.ground_truth_runs is runs.ground_truth_runs and workflow.j_scan_runs is runs.j_scan_runs
    assert runs.run_overlay(cfg, "default") is None and runs.run_overlay(cfg, "config") is None
    assert runs.run_overlay(cfg, "J1.075") == {"weight_scaling": {"J": 1.075}}
    assert runs.run_overlay(cfg, "small") == {"populations": {"E": {"size": 10}}}
    with pytest.raises(ValueError, match="'J2' is not one of the configured ground-truth runs"):
        runs.run_overlay(cfg, "J2")
    assert "reserved" in runs.run_definition_error(cfg, "config", {})
    assert "collides with the run of scans.J value 0.975" in runs.run_definition_error(cfg, "J0.975", {})
    assert "cannot override study, kernel.variants" in runs.run_definition_error(
        cfg, "x", {"study": "s", "kernel": {"variants": []}})
    cfg["hybrid"] = {"run": "nope"}
    cfg["kernel"] = {"tau": 100.0}
    cfg["simulation"] = {"dt": 0.0625}
    cfg["populations"] = {"E": {}}
    assert hybrid.config_errors(cfg)[0].startswith("hybrid.run: 'nope' is not a ground-truth run of the study "
                                                    "(default, J0.975, J1.075, small)")


def test_mpi_launcher_command_and_environment(tmp_path, monkeypatch):
    """MPILauncher: the launcher only for more than one task, `mpiexec` resolved, the launcher
    variables of an enclosing MPI job removed, the command's own log moved into the log, failures
    raised with the exit status."""
    assert mpi.MPILauncher(1, "srun").command(["a", 1]) == ["a", "1"]
    assert mpi.MPILauncher(3, "srun --mpi=pmi2").command(["a"]) == ["srun", "--mpi=pmi2", "-n", "3", "a"]
    assert mpi.MPILauncher(2).command(["a"])[1:] == ["-n", "2", "a"]
    assert mpi.MPILauncher(2).command(["a"])[0] in (mpi.find_mpiexec(), "mpiexec")
    monkeypatch.setenv("PMI_RANK", "1")
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "2")
    env = mpi.clean_environment()
    assert "PMI_RANK" not in env and "OMPI_COMM_WORLD_SIZE" not in env and env.get("PATH") == os.environ["PATH"]
    assert mpi.launch_rank() == 1 and mpi.launch_size() == 2 and mpi.launched_by_mpi()
    own_log = tmp_path / "own.log"
    own_log.write_text("written by the command")
    records = []
    log = logging.getLogger("lfpk.test_mpi_launcher")
    log.addHandler(type("H", (logging.Handler,), {"emit": lambda self, r: records.append(r.getMessage())})())
    log.setLevel(logging.INFO)
    code = "import os, sys; print('rank' if 'PMI_RANK' in os.environ else 'clean'); sys.exit(3)"
    with pytest.raises(RuntimeError, match="probe failed with exit code 3: "):
        mpi.MPILauncher(1, log=log).run([sys.executable, "-c", code], program_log=own_log, name="probe",
                                         program_log_title="own log")
    assert records[1] == "own log:\nwritten by the command" and not own_log.exists()
    assert records[2] == "stdout:\nclean\n"


def test_memory_check_counts_ranks_a_scheduler_places_one_per_node(repo):
    """The paper network's 64 ranks need about 23 GB on one machine: refused for a local run within
    8 GB, planned when the network's launcher is a scheduler's (srun, as profiles/slurm sets it)."""
    env = {"LFPK_MEMORY_LIMIT": "8G", "LFPK_RANKS_PER_NODE": ""}
    args = ("-n", "--configfile", "config/paper.yaml", "--config", "study=pytest_dry_run")
    local = _snakemake(repo, *args, env=env)
    assert local.returncode == 2 and "network.tasks = 64 ranks on this machine" in local.stderr, local.stderr[-2000:]
    assert "Traceback" not in local.stderr
    spread = _snakemake(repo, *args, "--set-resources", "network:mpi='srun --mpi=pmi2'", env=env)
    assert spread.returncode == 0, spread.stderr[-3000:]
