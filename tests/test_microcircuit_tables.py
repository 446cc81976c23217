"""Layers, cell types and layer-specificity tables of the microcircuit (lfpk.study.microcircuit.tables,
.layered) and the configuration files written from them (issue 27).

The tables are checked against values computed by hand from the published numbers (Binzegger et al.
2004 via hybridLFPy's table), exact sums, and the configuration files against the generator. These
tests need neither NEST nor NEURON nor the layered-config engine.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from lfpk.api.config import read_config_file
from lfpk.study.microcircuit import tables as T
from lfpk.study.microcircuit.layered import SYNAPTIC_GROUP, config_type_name, difference, exp2_weight, layered_model
from lfpk.study.microcircuit.parameters import (
    CONNECTION_PROBABILITIES,
    FULL_SIZES,
    POPULATION_LAYER,
    POPULATIONS,
    MicrocircuitParameters,
)
from lfpk.study.microcircuit.stages import config_errors
from lfpk.study.runs import deep_merge

ROOT = Path(__file__).resolve().parent.parent
#: connections with C_YX > 0 (pre, post)
PAIRS = [(POPULATIONS[j], POPULATIONS[i]) for i in range(8) for j in range(8) if CONNECTION_PROBABILITIES[i, j] > 0]


def test_layers_tile_the_column_from_the_pia_down():
    bounds = list(T.LAYERS.values())
    assert list(T.LAYERS) == ["L1", "L23", "L4", "L5", "L6"] and bounds[0][1] == 0.0
    for (b0, t0), (b1, t1) in zip(bounds, bounds[1:]):
        assert b0 < t0 and t1 == b0  # contiguous, top to bottom
    assert bounds[-1][0] == -1491.7
    assert set(POPULATION_LAYER.values()) <= set(T.LAYERS)
    for pop in POPULATIONS:  # the soma slab lies inside the population's layer
        lo, hi = T.soma_depth_range(pop)
        b, t = T.LAYERS[POPULATION_LAYER[pop]]
        assert b < lo < hi < t and hi - lo == pytest.approx(50.0)


def test_occurrences_are_renormalised_within_each_population():
    assert [y for p in POPULATIONS for y in T.CELL_TYPES[p]] == list(T.OCCURRENCE_PERCENT) == list(T.SYNAPSES)
    for pop in POPULATIONS:
        assert sum(T.occurrence(pop).values()) == pytest.approx(1.0, abs=1e-15)
    assert T.occurrence("L23I")["b23"] == pytest.approx(3.1 / 7.3)
    assert T.occurrence("L5E") == pytest.approx({"p5(L23)": 4.8 / 6.1, "p5(L56)": 1.3 / 6.1})
    assert T.occurrence("L4E") == pytest.approx({"p4": 1 / 3, "ss4(L23)": 1 / 3, "ss4(L4)": 1 / 3})


def test_layer_specificity_by_hand():
    # p23 from L2/3E (x = p23): L1 has 1306 synapses, 6.3 % from p23; L2/3 5800, 59.9 % from p23
    k1, k23 = 1306 * 0.063, 5800 * 0.599
    L = T.layer_specificity("p23", "L23E")
    assert L["L1"] == pytest.approx(k1 / (k1 + k23), rel=1e-12) and L["L23"] == pytest.approx(k23 / (k1 + k23))
    assert L["L4"] == L["L5"] == L["L6"] == 0.0
    # p5(L56) from L2/3I (x in b23, nb23): layers 1, 2/3, 4, 5 with (0.1 + 1.1) %, (5.1 + 4.1) %, ...
    k = {"L1": 5658 * 0.012, "L23": 1367 * 0.092, "L4": 949 * 0.008, "L5": 5101 * 0.019}
    total = sum(k.values())
    L = T.layer_specificity("p5(L56)", "L23I")
    for layer, v in k.items():
        assert L[layer] == pytest.approx(v / total, rel=1e-12)
    # thalamic input (TCs, TCn) onto ss4(L4): only in L4
    assert T.layer_specificity("ss4(L4)", "TC") == {"L1": 0.0, "L23": 0.0, "L4": 1.0, "L5": 0.0, "L6": 0.0}
    assert T.layer_specificity("p23", "L5I") is None   # no b5 / nb5 synapses onto p23 in the table


def test_type_specificity_and_relative_indegrees():
    for pre, post in PAIRS + [("TC", "L4E")]:
        T_yX = T.type_specificity(post, pre)
        if sum(T_yX.values()) == 0:
            continue
        assert sum(T_yX.values()) == pytest.approx(1.0, abs=1e-12)
        F = T.occurrence(post)
        # occurrence-weighted relative in-degrees average to 1 (the population's in-degree)
        assert sum(F[y] * r for y, r in T.relative_indegree(post, pre).items()) == pytest.approx(1.0, abs=1e-12)
    # L2/3E -> L4E: the pyramidal p4 reaches into L1 and L2/3 where p23 synapses are; by hand
    kx = {"p4": 806 * 0.063 + 866 * 0.631 + 5031 * 0.043, "ss4(L23)": 4989 * 0.056, "ss4(L4)": 5792 * 0.027}
    T_yX = T.type_specificity("L4E", "L23E")
    for y, v in kx.items():
        assert T_yX[y] == pytest.approx(v / sum(kx.values()), rel=1e-12)


def test_indegree_factors_of_the_config():
    """``indegree_factors`` f_y = k_yX / sum_y' F_y' k_y'X: by hand for L2/3E -> L4E (F_y = 1/3), the
    written values within the rounding of 1e-10 of the exact ones, mean 1 within 1e-9 with the
    config's rounded occurrences, pair probabilities C f_y <= 1, and left out exactly where every
    factor is 1 or no type has synapses from X."""
    kx = {"p4": 806 * 0.063 + 866 * 0.631 + 5031 * 0.043, "ss4(L23)": 4989 * 0.056, "ss4(L4)": 5792 * 0.027}
    mean = sum(kx.values()) / 3
    f = T.indegree_factors("L4E", "L23E")
    for y, v in kx.items():
        assert f[y] == pytest.approx(v / mean, abs=0.6e-10)
    assert f["p4"] == pytest.approx(1.9536, abs=1e-4) and f["ss4(L4)"] == pytest.approx(0.3755, abs=1e-4)
    model = layered_model(MicrocircuitParameters(scale=1.0, indegree_scale=1.0))
    lo, hi = np.inf, 0.0
    for c in model["connections"]:
        F = {y: e["occurrence"] for y, e in model["populations"][c["post"]]["cell_types"].items()}
        exact = T.relative_indegree(c["post"], c["pre"])
        if "indegree_factors" not in c:
            assert len(F) == 1 or (c["pre"], c["post"]) == ("L5I", "L4E") or all(
                abs(v - 1.0) < 1e-12 for v in exact.values()), (c["pre"], c["post"])
            continue
        factors = c["indegree_factors"]
        assert list(factors) == list(F)
        assert abs(sum(F[y] * v for y, v in factors.items()) - 1.0) < 1e-9
        assert all(c["probability"] * v <= 1.0 for v in factors.values())
        for y, v in exact.items():
            assert abs(factors[config_type_name(y)] - v) <= 0.5e-10
        lo, hi = min(lo, min(factors.values())), max(hi, max(factors.values()))
    assert (round(lo, 2), round(hi, 2)) == (0.23, 1.95)   # L4I -> L6E p6(L56), L2/3E -> L4E p4


def test_placement_layers_sum_to_one_exactly_and_follow_the_table():
    for pre, post in PAIRS:
        placed = T.placement_layers(post, pre)
        assert list(placed) == list(T.CELL_TYPES[post])
        for y, frac in placed.items():
            assert set(frac) <= set(T.LAYERS) and all(v > 0 for v in frac.values())
            assert abs(sum(frac.values()) - 1.0) < 1e-12
            exact = T.layer_specificity(y, pre)
            if exact is not None:
                for layer in T.LAYERS:
                    assert abs(frac.get(layer, 0.0) - exact[layer]) < 1.1e-6
    # the only connection without table entries: L5I -> L4E (C = 0.0003), all in L4
    assert T.fallbacks(PAIRS) == [("L5I", "L4E", y, "own layer") for y in T.CELL_TYPES["L4E"]]
    assert T.placement_layers("L4E", "L5I") == {y: {"L4": 1.0} for y in T.CELL_TYPES["L4E"]}


def test_morphologies_are_pinned_public_files():
    assert set(T.MORPHOLOGY) == set(T.OCCURRENCE_PERCENT)
    assert set(T.MORPHOLOGY.values()) == set(T.MORPHOLOGY_SHA256)
    assert re.fullmatch(r"[0-9a-f]{40}", T.MORPHOLOGY_COMMIT) and T.MORPHOLOGY_COMMIT in T.MORPHOLOGY_URL
    assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in T.MORPHOLOGY_SHA256.values())
    # the same file (L5I and L6I basket cells) has the same digest; different files differ otherwise
    assert T.MORPHOLOGY_SHA256["L5I_oi15rbc1.hoc"] == T.MORPHOLOGY_SHA256["L6I_oi15rbc1.hoc"]
    assert len(set(T.MORPHOLOGY_SHA256.values())) == len(T.MORPHOLOGY_SHA256) - 1
    assert [T.synapse_sections(y) for y in ("p23", "ss4(L4)", "b5")] == [["apic", "dend"], ["dend"], ["dend"]]


def test_exp2_weight_carries_the_exponential_charge():
    # charge of the peak-normalised double exponential, integrated numerically, equals J tau_syn
    tau1, tau2, J = 0.001, 0.5, 87.8
    t = np.linspace(0.0, 20.0, 2_000_001)
    shape = np.exp(-t / tau2) - np.exp(-t / tau1)
    g = exp2_weight(J, tau2) * shape / shape.max()
    assert np.trapezoid(g, t) == pytest.approx(J * tau2, rel=1e-5)   # grid step 1e-5 ms resolves the 1 us rise


# ---------------------------------------------------------------------------------------------
# The configuration files equal the generator's output
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,scale", [("microcircuit.yaml", 1.0), ("microcircuit_laptop.yaml", 0.1)])
def test_config_files_are_the_generated_model(name, scale):
    cfg = read_config_file(ROOT / "config" / name)   # extends resolved, not validated
    model = layered_model(MicrocircuitParameters(scale=scale, indegree_scale=scale, dt=cfg["simulation"]["dt"]))
    assert cfg["microcircuit"]["scale"] == scale and cfg["microcircuit"]["indegree_scale"] == scale
    assert cfg["layers"] == model["layers"]
    assert cfg["connections"] == model["connections"]
    # morphology paths are made absolute by the loader: compare the file names
    for pop, p in model["populations"].items():
        for y, entry in p["cell_types"].items():
            got = cfg["populations"][pop]["cell_types"][y]["morphology"]
            assert Path(got["file"]).name == Path(entry["morphology"]["file"]).name
            got = {**cfg["populations"][pop]["cell_types"][y], "morphology": entry["morphology"]}
            assert got == entry
        rest = {k: v for k, v in cfg["populations"][pop].items() if k != "cell_types"}
        assert rest == {k: v for k, v in p.items() if k != "cell_types"}
    assert list(cfg["populations"]) == list(POPULATIONS)
    assert config_errors(cfg) == []
    assert sum(p["size"] for p in cfg["populations"].values()) == int(np.round(FULL_SIZES * scale).sum())


def test_laptop_overlay_is_the_difference_of_the_two_models():
    full = layered_model(MicrocircuitParameters(scale=1.0, indegree_scale=1.0))
    laptop = layered_model(MicrocircuitParameters(scale=0.1, indegree_scale=0.1))
    overlay = difference(full, laptop)
    assert deep_merge(full, overlay) == laptop
    # only sizes, background in-degrees and weights change (pair probabilities stay C)
    assert set(overlay) == {"populations", "connections"}
    assert all(set(c) == {"pre", "post", "synapse"} and set(c["synapse"]) == {"weight"} for c in overlay["connections"])
    ratio = laptop["connections"][0]["synapse"]["weight"] / full["connections"][0]["synapse"]["weight"]
    assert ratio == pytest.approx(1 / np.sqrt(0.1), rel=1e-8)


def test_config_type_names():
    assert [config_type_name(y) for y in ("p23", "ss4(L23)", "p5(L56)")] == ["p23", "ss4_L23", "p5_L56"]


def test_synaptic_group_is_hybridlfpys_sections():
    # apic and dend sections (any index, L5E_j4a.hoc's dend6..dend10 too), never soma or axon
    pattern = re.compile(SYNAPTIC_GROUP["dendrites"])
    assert [bool(pattern.fullmatch(n)) for n in ("dend[3]", "apic", "apic[12]", "dend10[2]")] == [True] * 4
    assert [bool(pattern.fullmatch(n)) for n in ("soma", "soma[1]", "axon[0]", "myelin[0]")] == [False] * 4
