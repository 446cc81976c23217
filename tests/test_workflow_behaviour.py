"""Workflow behaviour on the tiny study: what reruns after a change, exact reproducibility,
recovery from a killed job, the report, formatting."""

import copy
import os
import signal
import subprocess
import time

import pytest
from tinystudy import BIN, dry_run_jobs, isolated_workdir, remove, results, snakemake, write_config


@pytest.fixture(scope="module")
def base(tiny_run):
    cfg, proc, res = tiny_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return cfg


def _variant_config(cfg, tmp_path, edit):
    new = copy.deepcopy(cfg)
    edit(new)
    return write_config(new, tmp_path)


def test_weight_change_reruns_only_dependent_jobs(base, tmp_path):
    # E -> I weight: changes the ground truth and, through the synaptic input and g_eff of I, the
    # kernels onto I, hence the kernel job (all connections of one run and variant) of every
    # run and variant; nothing upstream of the network reruns.
    def edit(c):
        c["connections"][1]["synapse"]["weight"] *= 1.1
    assert base["connections"][1]["pre"] == "E" and base["connections"][1]["post"] == "I"
    path = _variant_config(base, tmp_path, edit)
    jobs = dry_run_jobs("--configfile", path)
    rules = {r for r, _ in jobs}
    outputs = {o for _, o in jobs}
    res = f"results/{base['study']}"
    assert "morphology" not in rules and "morphology_figure" not in rules and "mechanisms" not in rules
    assert "network" in rules
    # the study's targets: every variant of the ground-truth run, the primary one of run config
    for run, variants in (("default", base["kernel"]["variants"]), ("config", ["frozen-geff-scalar"])):
        for variant in variants:
            assert f"{res}/kernels/{run}/{variant}/kernels.nc" in outputs
    # only the kernel target of the config run (no ground truth): exactly its one kernel job
    jobs = dry_run_jobs(f"{res}/kernels/config/frozen-geff-scalar/kernels.nc", "--configfile", path)
    assert jobs == [("kernels", f"{res}/kernels/config/frozen-geff-scalar/kernels.nc")]


def test_figure_style_change_reruns_only_figures(base, tmp_path):
    path = _variant_config(base, tmp_path, lambda c: c["figures"].update(dpi=100))
    jobs = dry_run_jobs("--configfile", path)
    rules = {r for r, _ in jobs} - {"all"}
    assert rules, "a figure style change must rerun the figures"
    assert all(r.startswith(("figure", "paper_fig")) or r == "morphology_figure" for r in rules), rules


def _data_variables(path):
    import xarray as xr

    with xr.open_dataset(path) as ds:
        return {k: v.values.tobytes() for k, v in ds.data_vars.items()}


def test_reproducible_with_one_core(base, tmp_path):
    """The same config (another study name) with --cores 1 gives byte-identical data variables."""
    other = dict(base, study="pytest_cores1")
    remove(other["study"])
    try:
        proc = snakemake("--cores", "1", "--configfile", write_config(other, tmp_path))
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        a, b = results(base["study"]), results(other["study"])
        files = sorted(p.relative_to(a) for p in a.rglob("*.nc"))
        assert len(files) >= 20
        for rel in files:
            va, vb = _data_variables(a / rel), _data_variables(b / rel)
            assert va.keys() == vb.keys(), rel
            for k in va:
                assert va[k] == vb[k], f"{rel}: {k} differs"
    finally:
        remove(other["study"])


def test_killed_network_job_leaves_nothing_complete_and_rerun_recovers(base, tmp_path):
    """SIGKILL of the whole workflow while the network job simulates; then unlock and rerun.

    Runs in a working directory of its own so the stale lock and its removal concern only it.
    """
    study = dict(base, study="pytest_kill")
    path = write_config(study, tmp_path)
    work = isolated_workdir(tmp_path / "work")
    res = work / "results" / study["study"]
    net = res / "network" / "default"
    target = f"results/{study['study']}/kernels/default/frozen-geff-scalar/kernels.nc"
    proc = snakemake(target, "--cores", "2", "--configfile", path, popen=True, workdir=work)
    try:
        log = res / "logs" / "network" / "default.log.network"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if log.exists() and "simulated" in log.read_text():
                break
            if proc.poll() is not None:
                pytest.fail("workflow ended before the network job could be killed:\n" + proc.stdout.read()[-3000:])
            time.sleep(0.2)
        else:
            pytest.fail("network job never started simulating")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    # no output of the killed job is present (written to temporary names, renamed at the end)
    for name in ("spikes.nc", "signals.nc", "membrane.nc"):
        assert not (net / name).exists(), name
    assert snakemake("--unlock", "--configfile", path, workdir=work).returncode == 0
    # the dry run schedules the network again
    jobs = dry_run_jobs(target, "--configfile", path, workdir=work)
    assert "network" in {r for r, _ in jobs}
    done = snakemake(target, "--cores", "2", "--configfile", path, workdir=work)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    ref = results(base["study"]) / "network" / "default"
    for name in ("spikes.nc", "signals.nc", "membrane.nc"):
        assert _data_variables(net / name) == _data_variables(ref / name), name
    assert not list(net.glob(".*.tmp")), "temporary files left behind"


def test_report(base, tmp_path):
    report = tmp_path / "report.zip"
    path = write_config(base, tmp_path)
    proc = snakemake("--report", report, "--configfile", path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    import zipfile

    with zipfile.ZipFile(report) as z:
        names = z.namelist()
    assert any(n.endswith("report.html") for n in names)
    assert sum(n.endswith(".png") for n in names) >= 7


def test_snakefmt_and_lint_clean(repo):
    proc = subprocess.run([str(BIN / "snakefmt"), "--check", "Snakefile", "workflow/rules"], cwd=repo,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
