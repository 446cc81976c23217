"""A tiny layered study: two layers, two cell types per population (ball-and-stick cells), built
from the laptop config (tests/tinystudy.py) for the tests of layers and cell types."""

import copy
from pathlib import Path

import yaml

from lfpk.api.config import validate_config

#: Layer bounds (um): the laptop cells' somata sit near z = 0 with apical dendrites up to z = 1000.
LAYERS = {"upper": [150.0, 1300.0], "lower": [-250.0, 150.0]}


def short_kernel_config(repo):
    """The laptop config with 20 ms kernels (the layered kernel checks are per lag), validated."""
    from lfpk.api.config import load_config

    cfg = load_config(Path(repo) / "config" / "config.yaml")
    cfg["kernel"] = dict(cfg["kernel"], tau=20.0)
    return validate_config(cfg)


def short_cell(morphology, apic=500.0, soma=20.0):
    """A ball-and-stick morphology of ``morphology`` with a shorter apical dendrite and soma (um)."""
    out = copy.deepcopy(morphology)
    out["apic"] = dict(out["apic"], length=apic)
    out["soma"] = dict(out["soma"], diam=soma, length=soma)
    return out


def layered(base, *, validate=True):
    """``base`` (a laptop-like config: populations E, I) made layered: E in layer ``lower`` with
    types ``long`` (0.75, its own cell) and ``short`` (0.25, shorter apical dendrite, rotated about
    x by pi/8), I placed by depth as before with types ``basket`` (0.5) and ``small`` (0.5, smaller
    cell, its own biophysics copy, soma layer ``lower``); E -> E placed 60 % in ``upper`` and
    40 % in ``lower``; E -> I per type; I -> E, I -> I by their densities as before."""
    cfg = copy.deepcopy(base)
    cfg["layers"] = copy.deepcopy(LAYERS)
    if "variants" in cfg["kernel"]:  # per-segment V_rest of the ground truth is one cell's: scalar variants
        cfg["kernel"]["variants"] = [v for v in cfg["kernel"]["variants"] if not v.endswith("-segment")]
    E, I = cfg["populations"]["E"], cfg["populations"]["I"]
    E["layer"] = "lower"
    E["placement"] = {"radius": E["placement"]["radius"]}
    E["cell_types"] = {"long": {"occurrence": 0.75},
                       "short": {"occurrence": 0.25, "morphology": short_cell(E["morphology"]),
                                 "rotation": {"x": 0.39269908169872414}}}
    I["cell_types"] = {"basket": {"occurrence": 0.5},
                       "small": {"occurrence": 0.5, "morphology": short_cell(I["morphology"], apic=150.0, soma=10.0),
                                 "layer": "lower", "biophysics": copy.deepcopy(I.get("biophysics") or cfg["biophysics"])}}
    for c in cfg["connections"]:
        if (c["pre"], c["post"]) == ("E", "E"):
            c["placement"] = {"sections": ["apic", "dend"], "layers": {"upper": 0.6, "lower": 0.4}}
        elif (c["pre"], c["post"]) == ("E", "I"):
            c["placement"] = {"sections": ["apic", "dend"],
                              "densities": c["placement"]["densities"],
                              "layers": {"basket": {"upper": 0.2, "lower": 0.8}, "small": {"lower": 1.0}}}
    return validate_config(cfg) if validate else cfg


def one_layer(base, *, validate=True):
    """``base`` with one layer holding every segment declared and every population given as one cell
    type of occurrence 1 (its own cell, placed by depth as before): the same network written with
    the new keys, whose kernels and connectivity must equal the plain config's bitwise."""
    cfg = copy.deepcopy(base)
    cfg["layers"] = {"all": [-1e5, 1e5]}
    for name, pop in cfg["populations"].items():
        pop["cell_types"] = {name: {"occurrence": 1.0}}
    return validate_config(cfg) if validate else cfg


STUDY = "pytest_layers"


def layered_study_config(base, study=STUDY, sizes=(32, 8), tstop=300.0):
    """The tiny layered study run through the workflow: :func:`layered` of the laptop config with
    ``sizes`` cells, ``tstop`` ms, one kernel variant, a small sensitivity grid, no hybrid scheme
    and no point-neuron fit (each tested on the plain study)."""
    cfg = layered(base, validate=False)
    cfg["study"] = study
    cfg["simulation"] = dict(base["simulation"], tstop=tstop, transient=100.0)
    for (name, pop), size in zip(cfg["populations"].items(), sizes):
        pop["size"] = size
    cfg["connections"] = [dict(c, probability=1.0) for c in cfg["connections"]]
    cfg["scans"] = {"J": [1.0]}
    cfg["hybrid"] = {"reconstructions": [], "kernels": []}
    cfg["single_cell"] = dict(base.get("single_cell") or {}, amplitudes=3, settle=150.0, duration=40.0)
    cfg["kernel"] = dict(base["kernel"], variants=["frozen-geff-scalar"])
    cfg["sensitivity"] = dict(base["sensitivity"], rate_scales={"start": 0.5, "stop": 1.5, "num": 2},
                              v_rest_offsets={"start": -5.0, "stop": 5.0, "num": 2})
    cfg["network"] = {"tasks": 1}
    cfg["recording"] = dict(base["recording"], membrane_sample=4)
    cfg.pop("pointnet", None)
    return validate_config(cfg)


def write(cfg, folder):
    """Write ``cfg`` to ``folder/<study>.yaml``; returns the path."""
    path = Path(folder) / f"{cfg['study']}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path
