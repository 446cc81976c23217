"""A tiny three-population network with file morphologies (tests of the 'any cell' model).

E: LFPy's shipped ``L23E_p23.hoc`` (rotated, randomly about z per cell); I: the study's
ball-and-stick; I2: a made-up cell (:mod:`lfpk.model.morphology.synthetic`) written as Neurolucida ASC,
with its own biophysics (leak, NaTa_t, SKv3_1 and persistent Na) and a config-defined section
group. Morphology files are written next to the config and named by relative paths.
"""

import copy
import shutil
from pathlib import Path

import yaml

from lfpk.api.config import validate_config
from lfpk.model.morphology import synthetic

POPULATIONS = ("E", "I", "I2")


def lfpy_hoc():
    import LFPy

    return Path(LFPy.__file__).parent / "test" / "L23E_p23.hoc"


def write_morphologies(folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(lfpy_hoc(), folder / "L23E_p23.hoc")
    synthetic.write(folder / "basket.asc", seed=3, apical_length=200.0, n_obliques=1, n_basal=3)


def three_population_config(base, folder, study="pytest_3pop", sizes=(24, 8, 8), tstop=300.0):
    """The laptop config turned into a tiny three-population study, morphologies in ``folder``."""
    write_morphologies(folder)
    cfg = copy.deepcopy(base)
    cfg["study"] = study
    cfg["simulation"] = dict(base["simulation"], tstop=tstop, transient=100.0)
    E, I = base["populations"]["E"], base["populations"]["I"]
    i2_bio = {"groups": {
        "all": {"ions": {"ena": 50.0, "ek": -85.0}, "mechanisms": {
            "pas": {"g": 5.0e-5, "e": -75.0}, "NaTa_t": {"gNaTa_tbar": 0.02}, "SKv3_1": {"gSKv3_1bar": 1e-3},
            "Nap_Et2": {"gNap_Et2bar": 1e-5}}},
        "soma": {"mechanisms": {"NaTa_t": {"gNaTa_tbar": 2.0}, "SKv3_1": {"gSKv3_1bar": 0.7}}},
        "proximal": {"mechanisms": {"SKv3_1": {"gSKv3_1bar": {"function": "exponential", "a": 0.0,
                                                              "b": 5e-3, "c": -0.01}}}},
    }, "quasi_linear": ["Nap_Et2"]}
    cfg["populations"] = {
        "E": dict(E, size=sizes[0], morphology={"file": "L23E_p23.hoc"},
                  rotation={"x": 0.2, "y": -0.1, "random_z": True}),
        "I": dict(I, size=sizes[1]),
        "I2": dict(I, size=sizes[2], morphology={"file": "basket.asc", "groups": {"proximal": r"(dend|apic)\[[0-3]\]"}},
                   placement={"radius": 150.0, "z_mean": 100.0, "z_sd": 50.0}, biophysics=i2_bio,
                   extrinsic=dict(I["extrinsic"], count=500)),
    }
    by_pre = {c["pre"]: c for c in base["connections"] if c["post"] == "E"}
    to_i = {c["pre"]: c for c in base["connections"] if c["post"] == "I"}
    conns = []
    for post in POPULATIONS:
        for pre in POPULATIONS:
            tmpl = copy.deepcopy((by_pre if post == "E" else to_i)["E" if pre == "E" else "I"])
            tmpl.update(pre=pre, post=post, probability=0.25 if pre == "I2" else 1.0)
            if post == "I2" and pre != "E":
                tmpl["placement"] = {"sections": ["soma", "proximal"], "densities": [{"weight": 1.0, "mean": 100.0, "sd": 100.0}]}
            conns.append(tmpl)
    cfg["connections"] = conns
    cfg["scans"] = {"J": [1.0]}
    cfg["hybrid"] = {"reconstructions": [], "kernels": []}  # the hybrid scheme is tested on two populations
    cfg["single_cell"] = dict(base.get("single_cell") or {}, amplitudes=3, settle=150.0, duration=40.0)
    cfg["kernel"] = dict(base["kernel"], rates={"E": 2.5, "I": 5.0, "I2": 5.0},
                         variants=["frozen-geff-scalar", "quasi_linear-nogeff-scalar"])
    cfg["sensitivity"] = dict(base["sensitivity"], rate_scales={"start": 0.5, "stop": 1.5, "num": 2},
                              v_rest_offsets={"start": -5.0, "stop": 5.0, "num": 2})
    cfg["network"] = {"tasks": 1}
    cfg["recording"] = dict(base["recording"], membrane_sample=4)
    cfg.pop("pointnet", None)  # no point-neuron network in this study (it describes E and I only)
    return cfg


def write(cfg, folder):
    """Write ``cfg`` (relative morphology paths kept) to ``folder/<study>.yaml`` and validate it
    as loaded from there."""
    from lfpk.api.config import load_config

    path = Path(folder) / f"{cfg['study']}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    validate_config(load_config(path))
    return path
