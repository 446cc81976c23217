"""A tiny but complete study (64 E / 16 I cells, 500 ms) run through Snakemake, for workflow tests."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from lfpk.api.config import validate_config

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]


def tiny_config(base, study="pytest_e2e"):
    """The laptop config shrunk to a tiny study named ``study`` (validated)."""
    cfg = dict(base)
    cfg["study"] = study
    cfg["simulation"] = dict(base["simulation"], tstop=500.0, transient=100.0)
    cfg["populations"] = {name: dict(pop, size=size)
                          for (name, pop), size in zip(base["populations"].items(), (64, 16))}
    cfg["connections"] = [dict(c, probability=1.0) for c in base["connections"]]
    cfg["scans"] = {"J": [1.0]}
    cfg["single_cell"] = dict(base.get("single_cell") or {}, amplitudes=3, settle=150.0, duration=40.0)
    # the hybrid scheme with g_eff off and on (frozen), and frozen hybrid kernels
    cfg["hybrid"] = dict(base.get("hybrid") or {}, reconstructions=["frozen-nogeff", "frozen-geff"],
                         kernels=["frozen-geff"])
    cfg["kernel"] = dict(base["kernel"], variants=["frozen-geff-scalar", "passive-nogeff-scalar"])
    cfg["sensitivity"] = dict(base["sensitivity"], rate_scales={"start": 0.5, "stop": 1.5, "num": 3},
                              v_rest_offsets={"start": -5.0, "stop": 5.0, "num": 3})
    cfg["network"] = {"tasks": 1}
    cfg["recording"] = dict(base["recording"], membrane_sample=8)
    if "pointnet" in base:  # the point-neuron fit: 4 individuals over 2 generations of 500 ms
        cfg["pointnet"] = dict(base["pointnet"], threads=1,
                               fit=dict(base["pointnet"]["fit"], population=4, generations=2, tstop=500.0))
    return validate_config(cfg)


def write_config(cfg, folder):
    path = Path(folder) / f"{cfg['study']}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def isolated_workdir(folder):
    """A working directory of its own (Snakemake locks, results) sharing config and build."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("config", "build"):
        link = folder / name
        if not link.exists():
            link.symlink_to(REPO / name, target_is_directory=True)
    return folder


def snakemake(*args, timeout=1200, popen=False, workdir=None):
    """Run the repository's workflow with ``args`` (the venv's snakemake; working directory the
    repository, or ``workdir`` made by :func:`isolated_workdir`)."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    cmd = [str(BIN / "snakemake"), *map(str, args)]
    if workdir is not None:
        cmd += ["--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    if popen:
        return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def results(study):
    return REPO / "results" / study


def remove(study):
    shutil.rmtree(results(study), ignore_errors=True)


def dry_run_jobs(*args, workdir=None):
    """(rule, first output) of every job a dry run would execute."""
    proc = snakemake(*args, "-n", workdir=workdir)
    if proc.returncode != 0:
        raise RuntimeError(proc.stdout[-3000:] + proc.stderr[-3000:])
    jobs, rule = [], None
    for line in (proc.stdout + proc.stderr).splitlines():
        s = line.strip()
        if s.startswith("rule ") and s.endswith(":"):
            rule = s[5:-1]
        elif s.startswith("localrule ") and s.endswith(":"):
            rule = s[10:-1]
        elif rule and s.startswith("output:"):
            jobs.append((rule, s[len("output:"):].split(",")[0].strip()))
            rule = None
        elif rule and s.startswith("jobid:") and rule == "all":
            jobs.append(("all", ""))
            rule = None
    return jobs
