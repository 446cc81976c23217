"""Model B of the study at tiny scale through the whole Snakemake workflow, with the offline
stand-in for the Hay cell (tests/haystudy.py: LFPy's L23E_p23.hoc with every Hay channel, the
template's segmentation and axon stub): network, kernels of the quasi-linear, frozen and passive
forms, predictions, comparisons on the E contribution, sensitivity map, figures and the
single-cell check."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from haystudy import stand_in_config
from tinystudy import REPO, remove, results, snakemake

STUDY = "pytest_hay2011"
VARIANTS = ["quasi_linear-geff-scalar", "frozen-geff-scalar", "passive-geff-scalar", "frozen-geff-segment"]


@pytest.fixture(scope="module")
def study(mechanisms, tmp_path_factory):
    from lfpk.config import load_config

    folder = tmp_path_factory.mktemp("hay2011_study")
    cfg = stand_in_config(folder, study=STUDY, sizes={"E": 24, "I": 8}, tstop=500.0, transient=100.0)
    for c in cfg["connections"]:
        c["probability"] = 1.0  # every cell a partner: in-degrees 24 E and 8 I
    cfg["scans"] = {"J": [1.0]}
    cfg["network"] = {"tasks": 1}
    cfg["recording"]["membrane_sample"] = 6
    cfg["kernel"]["variants"] = VARIANTS
    cfg["sensitivity"] = dict(cfg["sensitivity"], rate_scales={"start": 0.5, "stop": 1.5, "num": 2},
                              v_rest_offsets={"start": -15.0, "stop": 15.0, "num": 3})
    cfg["cell_check"] = {"populations": ["E"], "steps": {"amplitudes": [0.2, 0.4], "delay": 100.0, "duration": 300.0,
                                                         "tstop": 450.0}, "bap": {"tstop": 350.0, "sites": [100.0, 250.0]}}
    # the hybrid scheme is tested on Model A (test_hybrid, test_paper_figures); short step responses
    cfg["hybrid"] = {"reconstructions": [], "kernels": []}
    cfg["single_cell"] = dict(cfg.get("single_cell") or {}, amplitudes=3, settle=150.0, duration=40.0)
    path = folder / f"{STUDY}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    cfg = load_config(path)
    remove(STUDY)
    proc = snakemake("--cores", "2", "--configfile", path)
    yield cfg, proc, results(STUDY)
    remove(STUDY)


def test_model_b_chain_at_tiny_scale(study):
    from lfpk.io import read_dataset
    from lfpk.workflow import all_targets_for

    cfg, proc, res = study
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    missing = [t for t in all_targets_for(cfg) if not (REPO / t).is_file()]
    assert not missing, missing
    # the E cell: the stand-in with the Hay channels, segmented by the template's rule, with its stub
    morph = read_dataset(res / "morphology" / "E.nc")
    assert morph.attrs["segmentation"] == "length" and morph.attrs["segment_length"] == 40.0
    assert set(morph["section"].values.astype(str)) >= {"axon[0]", "axon[1]"}
    sp = read_dataset(res / "network" / "default" / "spikes.nc")
    counts = dict(zip(sp["population"].values.astype(str), sp["population_count"].sum("time").values))
    assert counts["E"] > 0 and counts["I"] > 0, counts
    mem = read_dataset(res / "network" / "default" / "membrane.nc")
    assert mem["nseg"].sel(population="E").item() == len(morph["segment"])
    # kernels: the forms differ, quasi_linear linearises the study's Ih and Nap_Et2
    k = {v: read_dataset(res / "kernels" / "default" / v / "E_E.nc") for v in VARIANTS}
    assert json.loads(k["quasi_linear-geff-scalar"].attrs["quasi_linear"]) == {"Ih": "QuasiIh", "Nap_Et2": "QuasiNap_Et2"}
    peak = {v: float(np.abs(k[v]["cdm"].values).max()) for v in VARIANTS}
    assert all(p > 0 for p in peak.values()), peak
    assert abs(peak["quasi_linear-geff-scalar"] / peak["frozen-geff-scalar"] - 1) > 1e-3
    assert abs(peak["passive-geff-scalar"] / peak["frozen-geff-scalar"] - 1) > 1e-3
    # comparisons on the E contribution: R^2 and r_STD of the LFP and the dipole's z component
    table = pd.read_csv(res / "comparison" / "default" / "summary.csv")
    e = table[(table["source"] == "E") & (table["band"] == "raw") & table["signal"].isin(["lfp", "cdm_z"])]
    assert set(e["approximation"]) >= set(VARIANTS), set(e["approximation"])
    assert np.all(np.isfinite(e["r2_median"])) and np.all(np.isfinite(e["r_std_median"]))
    assert np.all((e["r2_median"] >= 0) & (e["r2_median"] <= 1))
    # the sensitivity map spans the V_rest offsets of Fig S2 (+-15 mV)
    sens = read_dataset(res / "sensitivity" / "default.nc")
    assert float(np.abs(sens["v_rest_offset"].values).max()) == 15.0
    # the single-cell check of the stand-in: firing under both steps
    check = read_dataset(res / "cell_check" / "E.nc")
    assert np.all(check["rate"].values > 0) and check["rate"].values[1] > check["rate"].values[0]
