"""The model description (lfpk.model): one source of populations, connections and shared rules."""

import numpy as np
import pytest

from lfpk.config import load_schema, validate_config
from lfpk.model import from_config, rules


def test_rules_are_the_ones_every_stage_uses(config):
    """The weight scaling reaches the ground truth's connectivity and the kernels from one rule."""
    from lfpk.connectivity import Connectivity, place_cells
    from lfpk.kernel import KernelEngine

    config["weight_scaling"]["J"] = 1.25
    cfg = validate_config(config)
    model = from_config(cfg)
    factors = rules.weight_factors(cfg["connections"], 1.25)
    assert factors == [1.25 if c["synapse"]["e"] > -20 else 1.0 for c in cfg["connections"]]
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
