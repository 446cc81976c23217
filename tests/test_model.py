"""The model description (lfpk.model): one source of populations, connections and shared rules."""

from pathlib import Path

import numpy as np
import pytest

from lfpk.api.config import load_config, load_schema, validate_config
from lfpk.model import from_config, rules

#: The study's mean weights (uS), onto Y from X (example_network_parameters.py / run_pscan.py).
W_EE, W_IE, W_EI, W_II = 1.5e-4, 1.25e-4, 4.5e-3, 2.0e-3


@pytest.mark.parametrize("J", [0.975, 1.0, 1.025, 1.05, 1.075])
def test_weight_scaling_rule_of_the_study(config, J):
    """Effective weights of the J rule against the study's four sequential updates, written out
    here as in example_network.py (w_EE, then w_IE, then w_EI with the new w_EE, then w_II with
    the new w_IE), and against closed forms of the exponents (w_EI/w_EE = 30, w_II/w_IE = 16)."""
    cfg = validate_config(config)
    by_pair = {(c["pre"], c["post"]): i for i, c in enumerate(cfg["connections"])}
    assert [cfg["connections"][by_pair[p]]["synapse"]["weight"] for p in
            [("E", "E"), ("E", "I"), ("I", "E"), ("I", "I")]] == [W_EE, W_IE, W_EI, W_II]
    w_EE, w_IE, w_EI, w_II = W_EE, W_IE, W_EI, W_II
    w_EE = w_EE * J ** (w_EI / w_EE)
    w_IE = w_IE * J ** (w_II / w_IE)
    w_EI = w_EI * J ** (w_EE / w_EI)
    w_II = w_II * J ** (w_IE / w_II)
    f = rules.weight_factors(cfg["connections"], J)
    got = {p: cfg["connections"][i]["synapse"]["weight"] * f[i] for p, i in by_pair.items()}
    assert got[("E", "E")] == pytest.approx(w_EE, rel=1e-12)
    assert got[("E", "I")] == pytest.approx(w_IE, rel=1e-12)
    assert got[("I", "E")] == pytest.approx(w_EI, rel=1e-12)
    assert got[("I", "I")] == pytest.approx(w_II, rel=1e-12)
    # closed forms: f_EE = J^30, f_IE = J^16, f_EI = J^(J^30 / 30), f_II = J^(J^16 / 16)
    assert f[by_pair[("E", "E")]] == pytest.approx(J ** 30, rel=1e-12)
    assert f[by_pair[("E", "I")]] == pytest.approx(J ** 16, rel=1e-12)
    assert f[by_pair[("I", "E")]] == pytest.approx(J ** (J ** 30 / 30), rel=1e-12)
    assert f[by_pair[("I", "I")]] == pytest.approx(J ** (J ** 16 / 16), rel=1e-12)


def test_weight_scaling_factors_by_hand():
    """Factors at J = 1.075 computed by hand (logarithms to 6 digits): ln 1.075 = 0.0723207;
    f_EE = exp(30 x 0.0723207) = exp(2.169621) = 8.7550, f_IE = exp(16 x 0.0723207) = 3.1808,
    f_EI = exp(0.0723207 x 8.7550 / 30) = exp(0.0211058) = 1.02133,
    f_II = exp(0.0723207 x 3.1808 / 16) = exp(0.0143773) = 1.01448."""
    conns = [{"pre": "E", "post": "E", "synapse": {"e": 0.0, "weight": W_EE}},
             {"pre": "E", "post": "I", "synapse": {"e": 0.0, "weight": W_IE}},
             {"pre": "I", "post": "E", "synapse": {"e": -80.0, "weight": W_EI}},
             {"pre": "I", "post": "I", "synapse": {"e": -80.0, "weight": W_II}}]
    f = rules.weight_factors(conns, 1.075)
    np.testing.assert_allclose(f, [8.7550, 3.1808, 1.02133, 1.01448], rtol=5e-5)
    assert rules.weight_factors(conns, 1.0) == [1.0] * 4
    # J < 1 weakens excitation most: the study's J = 0.975 row (E->E 0.4679, E->I 0.6669)
    np.testing.assert_allclose(rules.weight_factors(conns, 0.975), [0.4679, 0.6669, 0.9996, 0.9989], atol=5e-5)
    # a population without an inhibitory input: the rule is undefined unless J = 1
    with pytest.raises(ValueError, match="I has no inhibitory input"):
        rules.weight_factors(conns[:2] + conns[2:3], 1.05)
    assert rules.weight_factors(conns[:3], 1.0) == [1.0] * 3


def test_weight_scaling_rule_is_validated(config):
    from lfpk.api.config import ConfigError

    drop = lambda c: c["pre"] == "I" and c["post"] == "I"  # noqa: E731
    config["connections"] = [c for c in config["connections"] if not drop(c)]
    if config.get("pointnet"):  # its LIF network has one entry per connection
        config["pointnet"]["connections"] = [c for c in config["pointnet"]["connections"] if not drop(c)]
    config["scans"] = {"J": [1.0]}
    validate_config(config)  # J = 1 everywhere: fine
    config["scans"] = {"J": [1.0, 1.05]}
    with pytest.raises(ConfigError, match=r"scans\.J\[1\]: 1.05: the weight-scaling rule .* I has no inhibitory"):
        validate_config(config)


def test_rules_are_the_ones_every_stage_uses(config):
    """The weight scaling reaches the ground truth's connectivity and the kernels from one rule."""
    from lfpk.engines.kernel import KernelEngine
    from lfpk.model.connectivity import Connectivity, place_cells

    config["weight_scaling"]["J"] = 1.05
    cfg = validate_config(config)
    model = from_config(cfg)
    factors = rules.weight_factors(cfg["connections"], 1.05)
    assert factors[0] == pytest.approx(1.05 ** 30)  # E->E: the study's sequential rule
    conn = Connectivity(cfg, place_cells(cfg, {"E": 8, "I": 2}))
    eng = KernelEngine.from_config(cfg)
    for c, f, gt in zip(model.connections, factors, conn.conns):
        assert c.weight_factor == f and gt["scale"] == f
        assert eng.connections[(c.post, c.pre)].scaled_synapse.weight == pytest.approx(c.synapse["weight"] * f, rel=0)
        assert eng.counts(c.post, c.pre).mean_multapses == rules.multapse_mean(c.multapses)


def test_variant_grammar_matches_the_schema():
    import re

    schema = load_schema()
    pattern = schema["properties"]["kernel"]["properties"]["variants"]["items"]["pattern"]
    assert pattern == "^" + rules.VARIANT_PATTERN + "$"
    assert schema["properties"]["sensitivity"]["properties"]["variant"]["pattern"] == pattern
    for v in ("frozen-geff-scalar", "quasi_linear-nogeff-segment", "passive-geff-segment"):
        assert re.fullmatch(rules.VARIANT_PATTERN, v)
        assert rules.variant_name(**rules.parse_variant(v)) == v
    with pytest.raises(ValueError, match="kernel variant"):
        rules.parse_variant("frozen-geff")


def test_spike_binning():
    dt, tstop = 0.0625, 1.0
    n = rules.n_bins(tstop, dt)
    assert n == 17
    t = np.array([0.0, 0.0624999, 0.0625 - 1e-9, 0.0625, 0.999, 1.0])
    np.testing.assert_array_equal(rules.bin_index(t, dt, n), [0, 0, 1, 1, 15, 16])


def test_model_from_config(config):
    model = from_config(validate_config(config), sizes={"E": 10})
    assert model.names == ["E", "I"] and model.populations["E"].size == 10
    E = model.populations["E"]
    assert E.n_segments == 27 and E.soma_index == 0 and E.file is None
    np.testing.assert_allclose(E.geometry()["z"], E.segments["z"] + E.z_mean)
    assert [(c.pre, c.post) for c in model.connections_to("I")] == [("E", "I"), ("I", "I")]
    assert model.connection("E", "I").groups == ["soma", "apic", "dend"]
    with pytest.raises(ValueError, match="connection X->E is not configured"):
        model.connection("E", "X")
    # a population's own biophysics block replaces the default for it only
    config["populations"]["I"]["biophysics"] = {"groups": {"all": {"mechanisms": {"pas": {"g": 1e-4, "e": -70.0}}}}}
    model = from_config(validate_config(config))
    assert list(model.populations["I"].cell_biophysics.inserted) == ["pas"]
    assert "Ih" in model.populations["E"].cell_biophysics.inserted


def test_model_objects_print_what_they_describe():
    """hnn-core style one-line summaries: sizes, segments, connection probability and weight."""
    repo = Path(__file__).resolve().parent.parent
    model = from_config(load_config(repo / "config" / "config.yaml"))
    assert repr(model) == "<NetworkModel | 2 populations (E 1024, I 128), 4 connections>"
    pop = repr(model.populations["E"])
    assert pop.startswith("<Population E | 1024 cells, BallAndStick of 27 segments,") and len(pop) < 200
    ee = model.connection(post="E", pre="E")
    text = repr(ee)
    assert text.startswith("<Connection E -> E | C = 0.4,") and f"{ee.weight:.4g} uS" in text
    assert "uS" not in repr(type(ee)(**{**ee.__dict__, "synapse": {**ee.synapse, "model": "Exp2SynI"}}))
