"""profiles/slurm for real: the tiny study through a single-node SLURM equals a local run.

A module fixture starts a throw-away SLURM on this machine with tests/slurm/local_slurm.sh
(installing slurm-wlm and munge with apt-get when they are missing and this is root) and always
stops it again. The tiny config of tests/tinystudy.py (with 2 MPI ranks, so the network rule goes
through `srun --mpi=pmi2` on SLURM and the mpich wheel's `mpiexec` locally) is run twice into two
study names: once locally, once with `--profile profiles/slurm`. Every netCDF data variable of
every output must be byte-identical between the two.

Command-line overrides of the profile, all specific to this throw-away cluster: job status from
`squeue` (there is no accounting database for `sacct`), a 2 s wait before the first status check
instead of 40 s, no retries (a failure must show), and memory requests capped to what this
node has (only when the node is smaller than the profile's requests).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time

import numpy as np
import pytest
import yaml
from tinystudy import BIN, REPO, remove, results, snakemake, tiny_config, write_config

from lfpk.api.config import validate_config

pytestmark = pytest.mark.slurm

SCRIPT = REPO / "tests" / "slurm" / "local_slurm.sh"
PROFILE = REPO / "profiles" / "slurm" / "config.yaml"
LOCK = "/tmp/lfpk-slurm-test.lock"
TASKS = 2
STUDIES = {"local": "pytest_slurm_local", "slurm": "pytest_slurm_cluster"}
#: every kind of netCDF output that must be compared (folders under results/<study>/)
KINDS = ("network", "kernels", "prediction", "comparison", "sensitivity")


def _env():
    # sbatch --export=ALL: jobs inherit this PATH, so they find the venv's python and lfpk
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def _script(action, timeout):
    return subprocess.run(["bash", str(SCRIPT), action], env=_env(), capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def _exclusive():
    """One test session at a time on this machine: the cluster, its folder and the study names
    are shared, so a second session waits here instead of stopping the first one's cluster."""
    with open(LOCK, "w") as lock:
        deadline = time.monotonic() + 1800
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert time.monotonic() < deadline, f"{LOCK} held by another session for 30 min"
                time.sleep(2)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def local_slurm(_exclusive):
    """A running single-node SLURM; stopped (daemons, state, config link) whatever happens."""
    t0 = time.monotonic()
    start = _script("start", timeout=900)
    if start.returncode == 3:
        pytest.skip("SLURM is not installed and cannot be installed without root: "
                    + start.stderr.strip())
    try:
        assert start.returncode == 0, f"local_slurm.sh start failed:\n{start.stdout}\n{start.stderr}"
        yield {"start_seconds": time.monotonic() - t0}
    finally:
        stop = _script("stop", timeout=300)
        assert stop.returncode == 0, f"local_slurm.sh stop failed:\n{stop.stderr}"


def _node_memory_mb():
    out = subprocess.run(["sinfo", "-h", "-o", "%m"], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0].rstrip("+"))


def _memory_overrides(profile, cap_mb):
    """--set-resources/--default-resources that repeat the profile with memory capped to cap_mb.

    Empty if nothing exceeds the cap, so on a large enough node the profile is used as is. (On
    the command line these options replace the profile's, hence the full lists.)
    """
    def cap(resources, per_cpu_tasks=1):
        out, changed = {}, False
        for key, value in resources.items():
            if key == "mem_mb" and value > cap_mb:
                value, changed = cap_mb, True
            if key == "mem_mb_per_cpu" and value * per_cpu_tasks > cap_mb:
                value, changed = cap_mb // per_cpu_tasks, True
            out[key] = value
        return out, changed

    def fmt(value):
        return repr(value) if isinstance(value, str) else str(value)

    default, any_changed = cap(profile.get("default-resources", {}))
    per_rule = {}
    for rule, resources in profile.get("set-resources", {}).items():
        per_rule[rule], changed = cap(resources, TASKS)
        any_changed |= changed
    if not any_changed:
        return []
    return (["--default-resources", *(f"{k}={fmt(v)}" for k, v in default.items()),
             "--set-resources",
             *(f"{rule}:{k}={fmt(v)}" for rule, res in per_rule.items() for k, v in res.items())])


def _run(cfg, args, tmp_path_factory):
    path = write_config(cfg, tmp_path_factory.mktemp(cfg["study"]))
    remove(cfg["study"])
    t0 = time.monotonic()
    proc = snakemake("--configfile", path, *args, timeout=1500)
    return proc, results(cfg["study"]), time.monotonic() - t0


@pytest.fixture(scope="module")
def two_runs(mechanisms, local_slurm, tmp_path_factory, _laptop_config_raw):
    configs = {}
    for label, study in STUDIES.items():
        cfg = tiny_config(_laptop_config_raw, study)
        configs[label] = validate_config(dict(cfg, network=dict(cfg["network"], tasks=TASKS)))
    runs = {}
    try:
        runs["local"] = _run(configs["local"], ["--cores", "2"], tmp_path_factory)
        profile = yaml.safe_load(PROFILE.read_text())
        slurm_args = ["--profile", "profiles/slurm",
                      "--slurm-status-command", "squeue",
                      "--slurm-init-seconds-before-status-checks", "2",
                      "--retries", "0",
                      *_memory_overrides(profile, _node_memory_mb())]
        runs["slurm"] = _run(configs["slurm"], slurm_args, tmp_path_factory)
        yield runs, local_slurm
    finally:
        for study in STUDIES.values():
            remove(study)


def _tail(proc):
    return f"\nstdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-8000:]}"


def test_both_runs_succeed(two_runs):
    runs, cluster = two_runs
    for label, (proc, results, seconds) in runs.items():
        print(f"{label} run: {seconds:.0f} s")
        assert proc.returncode == 0, f"{label} run failed" + _tail(proc)
    print(f"SLURM install+start: {cluster['start_seconds']:.1f} s")


def test_jobs_went_through_slurm(two_runs):
    runs, _ = two_runs
    proc, results, _ = runs["slurm"]
    assert proc.returncode == 0, _tail(proc)
    log = proc.stdout + proc.stderr
    assert "SLURM jobid" in log, "no job was submitted to SLURM" + _tail(proc)
    # the network ran under srun inside its allocation, the local one under mpiexec
    network_log = (results / "logs" / "network" / "default.log").read_text()
    assert f"srun --mpi=pmi2 -n {TASKS} " in network_log, network_log[-3000:]
    local_log = (runs["local"][1] / "logs" / "network" / "default.log").read_text()
    assert f"mpiexec -n {TASKS} " in local_log, local_log[-3000:]


def _data_files(results):
    return sorted(p.relative_to(results) for p in results.rglob("*.nc"))


def _identical(x, y):
    """Same dims, dtype, shape and bytes (NaN == NaN); object/str arrays element-wise equal."""
    if x.dims != y.dims or x.dtype != y.dtype or x.shape != y.shape:
        return False
    u, v = np.asarray(x.values), np.asarray(y.values)
    if u.dtype.kind == "O":
        return u.tolist() == v.tolist()
    return u.tobytes() == v.tobytes()


def test_outputs_identical(two_runs):
    from lfpk.base.io import read_dataset

    runs, _ = two_runs
    for label in runs:
        assert runs[label][0].returncode == 0, f"{label} run failed" + _tail(runs[label][0])
    local, cluster = runs["local"][1], runs["slurm"][1]
    files = _data_files(local)
    assert files == _data_files(cluster)
    kinds = {f.parts[0] for f in files}
    assert set(KINDS) <= kinds, f"missing outputs of {set(KINDS) - kinds}"
    differences = []
    for rel in files:
        a, b = read_dataset(local / rel), read_dataset(cluster / rel)
        assert sorted(a.data_vars) == sorted(b.data_vars), rel
        assert len(a.data_vars) > 0, rel
        for name in a.data_vars:
            if not _identical(a[name], b[name]):
                differences.append(f"{rel}:{name}")
        for name in a.coords:
            if not _identical(a[name], b[name]):
                differences.append(f"{rel}:coordinate {name}")
    assert not differences, "SLURM run differs from the local run in:\n  " + "\n  ".join(differences)
