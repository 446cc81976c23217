"""Rerun triggers: a config change reruns exactly the jobs whose params (what they read) it
changes. A study's outputs are faked (empty files, `snakemake --touch` records their metadata), so
`snakemake -n --rerun-triggers params` lists the jobs a change would rerun in seconds."""

import copy

import pytest
import yaml
from tinystudy import dry_run_jobs, snakemake

from lfpk.api.config import load_config
from lfpk.study.cellcheck import parameters as cell_check_parameters
from lfpk.study.single_cell import single_cell_parameters
from lfpk.study.stages import morphology_parameters, population_morphology

STUDY = "pytest_triggers"
RES = f"results/{STUDY}"
#: The jobs checked: morphologies and their figure, single cells, Figs 2 and S1, the default run's
#: network figure.
TARGETS = [f"{RES}/morphology/{p}.{ext}" for p in ("E", "I") for ext in ("hoc", "nc")] + [
    f"{RES}/figures/paper/{f}.png" for f in ("Fig02", "FigS1")] + [
    f"{RES}/figures/{f}.png" for f in ("default/network", "morphology")]
#: Every output of those jobs and of the jobs they need.
OUTPUTS = TARGETS + [f"{RES}/figures/paper/{f}.pdf" for f in ("Fig02", "FigS1")] + [
    f"{RES}/figures/{f}.pdf" for f in ("default/network", "morphology")] + [
    "build/mechanisms/lfpk-mechanisms.json"] + [
    f"{RES}/single_cell/{p}.nc" for p in ("E", "I")] + [
    f"{RES}/network/default/{n}.nc" for n in ("spikes", "signals", "membrane")]


@pytest.fixture(scope="module")
def study(repo, tmp_path_factory):
    """A working directory whose outputs are up to date for the laptop config (study renamed)."""
    folder = tmp_path_factory.mktemp("triggers")
    cfg = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    cfg["study"] = STUDY
    path = folder / "base.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    for name in OUTPUTS:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("")
    proc = snakemake(*TARGETS, "--touch", "--forceall", "--cores", "1", "--configfile", path, workdir=folder, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return folder, cfg


def rerun(study, edit):
    """(rule, first output) of the jobs a dry run with params triggers only plans after ``edit``."""
    folder, cfg = study
    new = copy.deepcopy(cfg)
    edit(new)
    path = folder / "edited.yaml"
    path.write_text(yaml.safe_dump(new, sort_keys=False))
    return set(dry_run_jobs(*TARGETS, "--rerun-triggers", "params", "--configfile", path, workdir=folder))


def _single_cell_and_figures(*pops):
    return {("single_cell", f"{RES}/single_cell/{p}.nc") for p in pops} | {
        (f"paper_fig{f[3:]}", f"{RES}/figures/paper/{f}.png") for f in ("Fig02", "FigS1")}


NETWORK = {("network", f"{RES}/network/default/spikes.nc"),
           ("figure_network", f"{RES}/figures/default/network.png")}


def _set(*keys, value=None, scale=None):
    def edit(cfg):
        d = cfg
        for k in keys[:-1]:
            d = d[k]
        d[keys[-1]] = d[keys[-1]] * scale if scale is not None else value
    return edit


@pytest.mark.parametrize("edit, expected", [
    # the study of the issue: I's extrinsic weight is the network's, not the cell's
    (_set("populations", "I", "extrinsic", "synapse", "weight", scale=2.0), NETWORK),
    # a part of the config that none of these jobs reads
    (_set("sensitivity", "rate_scales", "num", value=5), set()),
    # the cell of I: its morphology, its step responses, the figures drawing them, the network
    (_set("populations", "I", "morphology", "apic", "length", value=300.0),
     {("morphology", f"{RES}/morphology/I.hoc"), ("morphology_figure", f"{RES}/figures/morphology.png")}
     | _single_cell_and_figures("I") | NETWORK),
    # the figures' time window: only the figures with traces, not the morphologies' figure
    (_set("figures", "window", value=200.0), {("figure_network", f"{RES}/figures/default/network.png")}),
    # the channels: the active cells and the network, not the morphologies (no cm / Ra change)
    (_set("biophysics", "groups", "soma", "mechanisms", "NaTa_t", "gNaTa_tbar", value=2.0),
     _single_cell_and_figures("E", "I") | NETWORK),
    # the protocol of one population's steps
    (_set("single_cell", "max_amplitude", "E", value=0.3), _single_cell_and_figures("E")),
], ids=["I_extrinsic_weight", "sensitivity", "I_apic_length", "figures_window", "soma_sodium", "E_max_amplitude"])
def test_config_change_reruns_only_what_reads_it(study, edit, expected):
    assert rerun(study, edit) == expected


def test_parameters_hold_only_what_the_stage_reads(config, tmp_path):
    """The params functions change for a key their stage reads, not for another; the morphology
    built from its params is the population's (cable overrides of a biophysics group included)."""
    path = tmp_path / "c.yaml"

    def loaded(edit=None):
        cfg = copy.deepcopy(config)
        if edit:
            edit(cfg)
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        return load_config(path)

    base = loaded()
    for edit, morphology_changes, single_cell_changes in [
        (_set("populations", "I", "extrinsic", "rate", value=20.0), False, False),
        (_set("populations", "I", "placement", "z_sd", value=50.0), False, False),
        (_set("populations", "I", "size", value=64), False, False),
        (_set("populations", "I", "segmentation", "d_lambda", value=0.2), True, True),
        (_set("biophysics", "groups", "all", "mechanisms", "Ih", "gIhbar", value=1e-3), False, True),
        (_set("biophysics", "groups", "soma", "cm", value=2.0), True, True),
        (_set("simulation", "tstop", value=1000.0), False, False),
        (_set("kernel", "tau", value=50.0), False, False),
        (_set("single_cell", "duration", value=50.0), False, True),
        (_set("simulation", "celsius", value=30.0), False, True),
        (_set("kernel", "passive_g_pas", value=1e-4), False, True),
        (_set("single_cell", "max_amplitude", "E", value=0.5), False, False),  # E's, not I's
    ]:
        other = loaded(edit)
        assert (morphology_parameters(other, "I") != morphology_parameters(base, "I")) == morphology_changes, edit
        assert (single_cell_parameters(other, "I") != single_cell_parameters(base, "I")) == single_cell_changes, edit
    cm = loaded(_set("biophysics", "groups", "soma", "cm", value=2.0))
    cell = population_morphology("I", morphology_parameters(cm, "I"))
    assert cell.section_cm == {"soma": 2.0} and cell.cm == 1.0


def test_cell_check_parameters_hold_only_what_the_check_reads(config):
    """The single-cell check's params change with its cell, channels and protocol, not with the
    population's drive, size or the connections (which once reran it)."""
    base = cell_check_parameters(config, "E")
    for edit, changes in [
        (_set("populations", "E", "extrinsic", "synapse", "weight", scale=2.0), False),
        (_set("populations", "E", "size", value=64), False),
        (_set("weight_scaling", "J", value=1.2), False),
        (lambda c: c["connections"][0].update(probability=0.5), False),
        (_set("populations", "E", "morphology", "apic", "length", value=300.0), True),
        (_set("biophysics", "groups", "soma", "mechanisms", "NaTa_t", "gNaTa_tbar", value=2.0), True),
        (_set("simulation", "celsius", value=30.0), True),
        (lambda c: c.setdefault("cell_check", {}).update(v_init=-70.0), True),
    ]:
        cfg = copy.deepcopy(config)
        edit(cfg)
        assert (cell_check_parameters(cfg, "E") != base) == changes, edit
