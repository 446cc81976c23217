"""Model B of the study at tiny scale through the whole Snakemake workflow, with the offline
stand-in for the Hay cell (tests/haystudy.py: LFPy's L23E_p23.hoc with every Hay channel, the
template's segmentation and axon stub): network, kernels of the quasi-linear and frozen forms
(scalar and per-segment V_rest), predictions, comparisons on the E contribution, sensitivity map, the hybrid scheme, a J scan
of two values, the single-cell check and the paper's Model B figures (Figs 2, S1, 10-13, S2, S3)
with their panels."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from figcheck import checked_paper_figure
from haystudy import stand_in_config
from tinystudy import REPO, remove, results, snakemake

STUDY = "pytest_hay2011"
CITATION = "LFPy's L23E_p23.hoc with the channels of Hay et al. (2011), ModelDB 139653"
# the forms of the study's Model B (the passive form's kernels are tested on Model A's tiny study)
VARIANTS = ["quasi_linear-geff-scalar", "frozen-geff-scalar", "frozen-geff-segment"]


@pytest.fixture(scope="module")
def study(mechanisms, tmp_path_factory):
    from lfpk.api.config import load_config

    folder = tmp_path_factory.mktemp("hay2011_study")
    cfg = stand_in_config(folder, study=STUDY, sizes={"E": 24, "I": 8}, tstop=400.0, transient=100.0)
    for c in cfg["connections"]:
        c["probability"] = 1.0  # every cell a partner: in-degrees 24 E and 8 I
    cfg["scans"] = {"J": [1.0, 1.05]}  # Figs 13 and S3: two runs
    # the hybrid scheme (Figs 10-12) at its smallest: one reconstruction, one volley run
    cfg["hybrid"] = {"reconstructions": ["frozen-geff"], "kernels": ["frozen-geff"]}
    cfg["single_cell"] = {"amplitudes": 2, "settle": 150.0, "duration": 40.0}
    # what the figures cite (the stand-in's own citation: its channels are Hay et al.'s)
    cfg["populations"]["E"]["morphology"]["citation"] = CITATION
    cfg["network"] = {"tasks": 1}
    cfg["recording"]["membrane_sample"] = 6
    cfg["kernel"]["variants"] = VARIANTS
    cfg["sensitivity"] = dict(cfg["sensitivity"], rate_scales={"start": 0.5, "stop": 1.5, "num": 2},
                              v_rest_offsets={"start": -15.0, "stop": 15.0, "num": 3})
    cfg["cell_check"] = {"populations": ["E"], "steps": {"amplitudes": [0.2, 0.4], "delay": 100.0, "duration": 300.0,
                                                         "tstop": 450.0}, "bap": {"tstop": 350.0, "sites": [100.0, 250.0]}}
    path = folder / f"{STUDY}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    cfg = load_config(path)
    remove(STUDY)
    proc = snakemake("--cores", "2", "--configfile", path)
    yield cfg, proc, results(STUDY)
    remove(STUDY)


def test_model_b_chain_at_tiny_scale(study):
    from lfpk.base.io import read_dataset
    from lfpk.entry.workflow import all_targets_for

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
    # (kernels.nc keeps the postsynaptic population's attributes per post: E is the Hay cell)
    k = {v: read_dataset(res / "kernels" / "default" / v / "kernels.nc") for v in VARIANTS}
    per_post = json.loads(k["quasi_linear-geff-scalar"].attrs["per_post"])
    assert per_post["E"]["quasi_linear"] == {"Ih": "QuasiIh", "Nap_Et2": "QuasiNap_Et2"}
    assert per_post["E"]["morphology_sha256"] and "morphology_sha256" not in per_post["I"]
    peak = {v: float(np.abs(k[v]["cdm"].sel(post="E", pre="E").values).max()) for v in VARIANTS}
    assert all(p > 0 for p in peak.values()), peak
    assert abs(peak["quasi_linear-geff-scalar"] / peak["frozen-geff-scalar"] - 1) > 1e-3
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


#: The Model B figures the tiny study makes: letter -> (xlabel, ylabel) of each panel ('' = no check).
MODEL_B_PANELS = {
    "Fig10": {"A": ("", "LFP (E contribution)"), "B": ("", ""), "C": ("", "")},
    "Fig11": {"A": ("", ""), "B": ("", "")},
    "Fig12": {"A": ("R^2", "LFP channel"), "B": ("r_STD", "LFP channel"), "C": ("R^2", "r_STD"),
              "D": ("R^2", ""), "E": ("R^2", ""), "F": ("R^2", ""), "G": ("f (Hz)", ""),
              "H": ("f (Hz)", "coherence with ground truth")},
    "Fig13": {"A": ("", "gid"), "B": ("", ""), "C": ("t (ms)", ""), "D": ("", "PSD rate E (s^-2/Hz)"),
              "E": ("R^2 (LFP)", "LFP channel"), "F": ("r_STD (LFP)", ""),
              "G": ("R^2 (LFP, channel median)", "r_STD"), "H": ("R^2 (dipole z)", "r_STD")},
    "FigS2": {k: ("rate scaling nu / nu_run", "V_rest offset (mV)") for k in "ABCD"},
    "FigS3": {"A": ("J", "R^2 (LFP, channel median)"), "B": ("J", "r_STD (LFP, channel median)"),
              "C": ("J", "R^2 (dipole z)"), "D": ("J", "r_STD (dipole z)")},
}


@pytest.mark.parametrize("name", ["Fig02", "FigS1", *MODEL_B_PANELS])
def test_model_b_paper_figures(study, name):
    """Every Model B figure of the study exists with the published panels; Fig 11 shows only the
    kernels onto the E cells; Fig S2 maps the E contribution."""
    from lfpk.base.io import read_dataset
    from lfpk.entry.workflow import paper_figures

    cfg, proc, res = study
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    assert paper_figures(cfg) == ["Fig02", "FigS1", *MODEL_B_PANELS]
    meta = checked_paper_figure(res / "figures" / "paper" / f"{name}.png", name, MODEL_B_PANELS.get(name))
    assert meta["footnote"] == f"cell model: {CITATION}"  # the figures cite the cell model
    if name in ("Fig02", "FigS1"):  # the stand-in Hay cell (E) and the ball-and-stick (I)
        assert [p["title"] for p in meta["panels"][1:]] == ["E: stimulus", "I: stimulus"]
        return
    if name == "Fig10":  # reconstruction, hybrid-kernel and direct-kernel prediction, titled by method
        assert [p["title"].replace("\n", " ").split(":")[0] for p in meta["panels"]] == [
            "reconstruction", "hybrid kernel", "direct kernel"]
    if name == "FigS2":  # the map of the E contribution; its reference point is the E comparison
        sens = read_dataset(res / "sensitivity" / "default.nc")
        assert sens.attrs["source"] == "E"
        assert float(np.abs(sens["v_rest_offset"].values).max()) == 15.0
        comp = read_dataset(res / "comparison" / "default" / f"{sens.attrs['variant']}.nc")
        for metric in ("r2", "r_std"):
            for band, suffix in (("raw", ""), ("lowpass", "_lowpass")):
                ref = float(comp[metric].sel(source="E", signal="cdm_z", channel=0, band=band).isel(approximation=0))
                assert float(sens[metric + suffix + "_reference"]) == pytest.approx(ref, rel=1e-9), (metric, band)
        total = float(comp["r_std"].sel(source="total", signal="cdm_z", channel=0, band="raw").isel(approximation=0))
        assert float(sens["r_std_reference"]) != pytest.approx(total, rel=1e-9)  # not the total signal's


def test_paper_scale_model_b_dag():
    """The paper-scale Model B study schedules every Model B figure with the hybrid scheme and the
    J scan (dry run; the morphology is fetched by the workflow's first job)."""
    # its 64 ranks are placed by a cluster's scheduler (as profiles/slurm sets the launcher)
    proc = snakemake("-n", "--configfile", "config/hay2011.yaml", "--config", "study=pytest_dry_run_hay2011",
                     "--set-resources", "network:mpi='srun --mpi=pmi2'")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    # the morphology is fetched by the first job unless a run on this machine already fetched it
    from lfpk.api.config import read_config_file
    from lfpk.model.morphology.fetch import sources

    missing = [s for s in sources(read_config_file(REPO / "config" / "hay2011.yaml")) if not Path(s.file).is_file()]
    for rule in ("fetch_morphologies",) * bool(missing) + (
                 "cell_check", "single_cell", "hybrid_reconstruction", "hybrid_kernel_run",
                 "paper_fig02", "paper_figS1", "paper_fig10", "paper_fig11", "paper_fig12", "paper_fig13",
                 "paper_figS2", "paper_figS3"):
        assert f"rule {rule}:" in out or f"\n{rule} " in out, rule
    for rule in ("paper_fig03", "paper_fig04", "paper_fig07", "paper_fig09"):  # Model A's own
        assert f"rule {rule}:" not in out and f"\n{rule} " not in out, rule
