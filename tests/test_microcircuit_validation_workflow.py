"""The microcircuit's validation against the hybrid replay as a workflow rule (issue 27):
``microcircuit_validate`` on the tiny stand-in microcircuit of tests/test_microcircuit_workflow.py
(scale 0.02: 1,544 cells of 16 types on ball-and-stick stand-ins), asked for by its output with
``snakemake --cores 2``; it runs ``mpiexec -n 2 python -m lfpk microcircuit validate`` (the
config's network.tasks, default 2), as the network rule runs ``lfpk network``."""

import pytest
import yaml
from test_microcircuit_workflow import tiny_microcircuit
from tinystudy import remove, results, snakemake

STUDY = "pytest_microcircuit_validation"
#: NEST run (ms): 100 ms transient (one kernel width), 200 ms compared.
TSTOP, TRANSIENT = 300.0, 100.0
OUTPUTS = ("signals.nc", "kernels.nc", "prediction.nc", "comparison.nc", "comparison.csv", "channels.csv",
           "traces.png", "metrics.png", "profiles.png")


@pytest.fixture(scope="module")
def validated(mechanisms, tmp_path_factory):
    pytest.importorskip("nest")
    folder = tmp_path_factory.mktemp("microcircuit_validation")
    cfg = tiny_microcircuit(STUDY)
    cfg["microcircuit"] = dict(cfg["microcircuit"], tstop=TSTOP, transient=TRANSIENT)
    path = folder / f"{STUDY}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    remove(STUDY)
    target = f"results/{STUDY}/microcircuit/validation/comparison.csv"
    proc = snakemake(target, "--cores", "2", "--configfile", path, timeout=1800)
    yield cfg, path, proc, results(STUDY)
    remove(STUDY)


def test_validation_rule_runs_the_command_under_mpi(validated):
    import xarray as xr

    from lfpk.api.config import load_config
    from lfpk.entry.workflow import microcircuit_targets

    cfg, path, proc, res = validated
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    out = res / "microcircuit" / "validation"
    for name in OUTPUTS:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    # the rule ran the NEST network and the validation only (no kernels, prediction or figure job)
    assert "microcircuit_validate" in proc.stderr and "microcircuit_simulate" in proc.stderr
    assert "rule microcircuit_predict" not in proc.stderr and "rule kernels" not in proc.stderr
    # on network.tasks = 2 ranks through the launcher, its log in the rule's log
    log = (res / "logs" / "microcircuit" / "validate.log").read_text()
    assert "-n 2 " in log and "-m lfpk microcircuit validate --config" in log, log[-3000:]
    assert "replay: 1544 cells on 2 rank(s)" in log, log[-3000:]
    assert (res / "benchmarks" / "microcircuit" / "validate.tsv").is_file()
    with xr.open_dataset(out / "signals.nc") as sig:
        assert sig.attrs["n_ranks"] == 2
        assert sig.attrs["tstop"] == TSTOP and sig["time"].values[-1] == TSTOP
    # the command read the study's config as a kernels-only file (what the workflow added removed)
    written = load_config(out / "config.yaml")
    assert written["populations"] == cfg["populations"] and written["connections"] == cfg["connections"]
    assert "figures" not in written and "variants" not in written["kernel"]
    # R^2 and r_STD for the total and every population, LFP, CSD and dipole
    text = (out / "comparison.csv").read_text().splitlines()
    assert text[0].startswith("signal,source,")
    assert {line.split(",")[1] for line in text[1:]} == {"total", *cfg["populations"]}
    # a cluster job: not among the study's default targets
    assert not [t for t in microcircuit_targets(cfg) if "/validation/" in t]
    # done: a second run finds nothing to do (the params, the rerun trigger, are stable)
    again = snakemake(f"results/{STUDY}/microcircuit/validation/comparison.csv", "-n", "--cores", "2",
                      "--configfile", path)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr, again.stderr[-3000:]
