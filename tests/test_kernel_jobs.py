"""The workflow's kernel jobs: one job per (run, variant) computing every connection, rerun
exactly when the kernels it computes change (its params hold every connection's kernel
parameters and the variant).

The tiny study's kernels for three runs: ``config`` (V_rest and rates of the config, no ground
truth), ``default`` and ``alt`` (a ``network.runs`` entry). Their ground truth is replaced by
stand-in network outputs whose membrane file gives V_rest and rates, so no network is simulated.
"""

import copy
import json

import numpy as np
import pytest
from tinystudy import dry_run_jobs, isolated_workdir, snakemake, tiny_config, write_config

RUNS = ("config", "default", "alt")
VARIANTS = ("frozen-geff-scalar", "passive-nogeff-scalar")
STUDY = "pytest_kernel_jobs"


def _stand_in_network(folder, populations, v_soma):
    """Network outputs of one run: a membrane file (V_rest and rates for the kernels) and
    placeholder spike and signal files (not read by the kernel jobs)."""
    import xarray as xr

    from lfpk.base.io import write_dataset

    folder.mkdir(parents=True, exist_ok=True)
    n = len(populations)
    write_dataset(xr.Dataset({
        "v_soma": ("population", np.full(n, v_soma), {"units": "mV", "long_name": "median somatic potential"}),
        "v_segment": (("population", "segment"), np.full((n, 1), v_soma), {"units": "mV", "long_name": "median"}),
        "nseg": ("population", np.ones(n, dtype=int), {"units": "1", "long_name": "segments"}),
        "rate": ("population", np.linspace(2.0, 5.0, n), {"units": "1/s", "long_name": "mean rate"}),
    }, coords={"population": list(populations)}), folder / "membrane.nc")
    for name in ("spikes.nc", "signals.nc"):
        (folder / name).write_bytes(b"stand-in")


def _targets(runs=RUNS):
    return [f"results/{STUDY}/kernels/{run}/{variant}/kernels.nc" for run in runs for variant in VARIANTS]


@pytest.fixture(scope="module")
def kernel_study(mechanisms, _laptop_config_raw, tmp_path_factory):
    """(config, working directory, folder for configs) after the six kernel jobs ran."""
    cfg = tiny_config(_laptop_config_raw, STUDY)
    cfg["network"] = dict(cfg["network"], runs={"alt": {"weight_scaling": {"J": 1.05}}})
    cfg["kernel"] = dict(cfg["kernel"], variants=list(VARIANTS))
    folder = tmp_path_factory.mktemp("kernel_jobs")
    work = isolated_workdir(folder / "work")
    for run, v_soma in (("default", -66.0), ("alt", -64.0)):
        _stand_in_network(work / "results" / STUDY / "network" / run, list(cfg["populations"]), v_soma)
    path = write_config(cfg, folder)
    proc = snakemake(*_targets(), "--cores", "2", "--configfile", path, workdir=work)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return cfg, work, folder


def _kernel_jobs(cfg, work, folder, edit):
    new = copy.deepcopy(cfg)
    edit(new)
    path = write_config(new, folder)
    return sorted(o for r, o in dry_run_jobs(*_targets(), "--configfile", path, workdir=work) if r == "kernels")


def test_one_job_per_run_and_variant_writes_the_gathered_kernels(kernel_study):
    from lfpk.base.io import read_dataset

    cfg, work, _ = kernel_study
    res = work / "results" / STUDY
    for run in RUNS:
        for variant in VARIANTS:
            k = read_dataset(res / "kernels" / run / variant / "kernels.nc", kind="kernels")
            assert list(k["post"].values) == ["E", "I"] and list(k["pre"].values) == ["E", "I"]
            # the run's own rates and V_rest: its stand-in membrane file, or the config for `config`
            rates = cfg["kernel"]["rates"] if run == "config" else {"E": 2.0, "I": 5.0}
            assert json.loads(k.attrs["rates_used"]) == rates
            source = json.loads(k.attrs["provenance"])["V_rest"]
            assert (f"network/{run}/membrane.nc" in source) if run != "config" else source.startswith("config")
            assert k.attrs["biophysics"] == variant.split("-")[0]
            # one log and one benchmark per job, no per-connection files
            assert (res / "logs" / "kernels" / run / f"{variant}.log").is_file()
            assert (res / "benchmarks" / "kernels" / run / f"{variant}.tsv").is_file()
            assert sorted(p.name for p in (res / "kernels" / run / variant).iterdir()) == ["kernels.nc"]
    log = (res / "logs" / "kernels" / "alt" / f"{VARIANTS[0]}.log").read_text()
    assert all(f"H_{post}{pre}" in log for post in "EI" for pre in "EI"), log


def test_unchanged_config_reruns_nothing(kernel_study):
    assert _kernel_jobs(*kernel_study, lambda c: None) == []


def test_change_of_one_run_reruns_only_its_kernel_jobs(kernel_study):
    """A weight scaling of run `alt` only: its two kernel jobs rerun (the params trigger; the
    stand-in network outputs carry no Snakemake record), the other runs' do not."""
    jobs = _kernel_jobs(*kernel_study, lambda c: c["network"]["runs"]["alt"]["weight_scaling"].update(J=1.1))
    assert jobs == sorted(_targets(["alt"]))


def test_change_of_every_kernel_reruns_every_kernel_job(kernel_study):
    """The E -> E synapse enters every run's kernels onto E, including run `config`, which has no
    ground truth: only its params can trigger it."""
    def edit(c):
        c["connections"][0]["synapse"]["tau2"] *= 1.1
    assert _kernel_jobs(*kernel_study, edit) == sorted(_targets())


def test_variant_list_and_network_only_keys_rerun_no_kernel_job(kernel_study):
    """Adding a variant schedules its own jobs only; the simulated time is no kernel input."""
    def edit(c):
        c["kernel"]["variants"] = [*VARIANTS, "frozen-nogeff-scalar"]
        c["simulation"]["tstop"] += 100.0
    assert _kernel_jobs(*kernel_study, edit) == []
