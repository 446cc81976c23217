"""Per-type in-degree factors (``connections[].indegree_factors``, docs/layers.md): validation, the
ground truth's pair probabilities C f_y (exact expectations and a sampled network), the type
kernels' f_y k_out and f_y k_in, and factors of 1 changing nothing."""

import copy
from pathlib import Path

import numpy as np
import pytest

from layeredstudy import layered, short_kernel_config
from lfpk.api.config import ConfigError, validate_config
from lfpk.engines.kernel import KernelEngine, kernel_datasets
from lfpk.engines.kernel.statistics import synapse_counts
from lfpk.model.connectivity import Connectivity, place_cells

REPO = Path(__file__).resolve().parents[1]
PROBES = ("lfp", "csd", "cdm", "eeg", "meg")
#: E -> I of the layered test config (connections[1]); I has types basket and small (0.5 each).
E_TO_I = 1
FACTORS = {"basket": 1.5, "small": 0.5}


@pytest.fixture(scope="module")
def base():
    return short_kernel_config(REPO)


@pytest.fixture(scope="module")
def cfg(base):
    return layered(base)


def with_factors(cfg, factors, index=E_TO_I):
    out = copy.deepcopy(cfg)
    out["connections"][index]["indegree_factors"] = dict(factors)
    return validate_config(out)


@pytest.fixture(scope="module")
def factored(cfg):
    assert (cfg["connections"][E_TO_I]["pre"], cfg["connections"][E_TO_I]["post"]) == ("E", "I")
    return with_factors(cfg, FACTORS)


def problems(cfg):
    with pytest.raises(ConfigError) as info:
        validate_config(cfg)
    return info.value.problems


# -- validation ---------------------------------------------------------------------------------

W = "connections[1].indegree_factors"


@pytest.mark.parametrize("factors, probability, key", [
    ({"basket": 1.5, "small": 0.5, "pyr": 1.0}, None, f"{W}.pyr: 'pyr' is not a cell type of population I"),
    ({"basket": 1.0}, None, f"{W}: missing cell type(s) small of population I"),
    ({"basket": 2.2, "small": -0.2}, None, f"{W}.small: -0.2; expected a finite number >= 0"),
    ({"basket": 1.5, "small": 0.6}, None, f"{W}: the occurrence-weighted mean sum_y F_y f_y is 1.05; expected 1"),
    ({"basket": 1.9, "small": 0.1}, 0.6, f"{W}.basket: 1.9 x probability 0.6 = 1.14 exceeds 1"),
    # the schema refuses non-finite numbers everywhere (its message, naming the key)
    ({"basket": float("nan"), "small": 1.0}, None, f"{W}.basket: NaN; expected a finite number"),
])
def test_validation_names_the_key(cfg, factors, probability, key):
    bad = copy.deepcopy(cfg)
    bad["connections"][E_TO_I]["indegree_factors"] = factors
    if probability is not None:
        bad["connections"][E_TO_I]["probability"] = probability
    found = problems(bad)
    assert any(p.startswith(key) for p in found), found


def test_mean_tolerance_and_untyped_population(cfg, base):
    # a mean within 1e-9 of 1 is accepted; 1e-8 off is refused
    validate_config(with_factors(cfg, {"basket": 1.5 + 1e-9, "small": 0.5}))
    bad = copy.deepcopy(cfg)
    bad["connections"][E_TO_I]["indegree_factors"] = {"basket": 1.5 + 2e-8, "small": 0.5}
    assert any(p.startswith(f"{W}: the occurrence-weighted mean") for p in problems(bad))
    # a population without cell_types is one type named as the population
    validate_config(with_factors(base, {"I": 1.0}))
    bad = copy.deepcopy(base)
    bad["connections"][E_TO_I]["indegree_factors"] = {"I": 1.2}
    assert any(p.startswith(f"{W}: the occurrence-weighted mean sum_y F_y f_y is 1.2") for p in problems(bad))


# -- the ground truth ---------------------------------------------------------------------------

def _multapse_moments(conn):
    """E[m], E[m^2] of the connection's multapse pmf (the network's draws)."""
    k, p = np.asarray(conn["k"], float), np.asarray(conn["p"], float)
    return float(p @ k), float(p @ k**2)


def test_expected_indegree_per_type_is_f_times_k_in(factored):
    """From the pair probabilities the network draws with (no samples): a type-y cell of I expects
    C f_y N_E E[m] synapses from E, f_y times the kernel engine's k_in; over the population the
    total is the connection's K (the exact type counts are N_I F_y here)."""
    sizes = {"E": 40, "I": 8}
    lay = place_cells(factored, sizes=sizes)
    con = Connectivity(factored, lay)
    conn = con.conns[E_TO_I]
    types = [t.name for t in lay.model.populations["I"].cell_types]
    m1, _ = _multapse_moments(conn)
    counts = synapse_counts(conn["C"], sizes["E"], sizes["I"], factored["connections"][E_TO_I]["multapses"])
    assert counts.mean_multapses == pytest.approx(m1, rel=1e-12)  # the kernels' E[m] is the network's
    expected = {}
    for y, C_y in zip(types, conn["C_type"]):
        expected[y] = C_y * sizes["E"] * m1
        assert expected[y] == pytest.approx(FACTORS[y] * counts.k_in, rel=1e-14)
    type_of = lay.type_of[lay.gids("I")]
    assert np.bincount(type_of).tolist() == [4, 4]
    total = sum(expected[types[t]] for t in type_of)
    assert total == pytest.approx(counts.K, rel=1e-14)


def test_sampled_indegree_per_type(factored):
    """A sampled network: the mean number of E -> I synapses per cell of each type lies within 5
    standard errors of C f_y N_E E[m] (per cell the count sums N_E independent pairs, each with
    mean C_y E[m] and variance C_y E[m^2] - (C_y E[m])^2; false alarm about 6e-7 per type)."""
    sizes = {"E": 400, "I": 120}
    lay = place_cells(factored, sizes=sizes)
    con = Connectivity(factored, lay)
    conn = con.conns[E_TO_I]
    m1, m2 = _multapse_moments(conn)
    per_cell = np.array([int(np.sum(con.incoming(g).connection == E_TO_I)) for g in lay.gids("I")])
    type_of = lay.type_of[lay.gids("I")]
    means = []
    for t, C_y in enumerate(conn["C_type"]):
        n = per_cell[type_of == t]
        mean, var = sizes["E"] * C_y * m1, sizes["E"] * (C_y * m2 - (C_y * m1) ** 2)
        assert abs(n.mean() - mean) < 5 * np.sqrt(var / len(n)), (t, n.mean(), mean)
        means.append(n.mean())
    assert means[0] > 2 * means[1]  # factors 1.5 and 0.5: the types differ (ratio 3 expected)


def test_factors_of_one_change_no_draw(cfg):
    """Factors all 1: every cell's synapses (pre, segment, delay, weight) bitwise as without."""
    ones = with_factors(cfg, {"basket": 1.0, "small": 1.0})
    sizes = {"E": 30, "I": 10}
    a, b = place_cells(cfg, sizes=sizes), place_cells(ones, sizes=sizes)
    ca, cb = Connectivity(cfg, a), Connectivity(ones, b)
    for gid in range(a.n_cells):
        x, y = ca.incoming(gid), cb.incoming(gid)
        for f in ("pre", "segment", "delay", "weight", "connection"):
            assert np.array_equal(getattr(x, f), getattr(y, f))


# -- the kernels --------------------------------------------------------------------------------

def test_type_kernel_scales_with_its_factor(cfg, factored):
    """Without g_eff the type kernel is linear in its synapse count: H_yX(f_y) = f_y H_yX(1) to
    1e-12 of the peak, for every probe; the population kernel is sum_y F_y f_y H_yX(1)."""
    V = cfg["kernel"]["V_rest"]
    plain = KernelEngine.from_config(cfg, g_eff=False)
    scaled = KernelEngine.from_config(factored, g_eff=False)
    h1 = [plain.type_kernel("I", "E", V, cell_type=i) for i in (0, 1)]
    hf = [scaled.type_kernel("I", "E", V, cell_type=i) for i in (0, 1)]
    total = scaled.kernel("I", "E", V)
    for probe in PROBES:
        for i, f in enumerate(FACTORS.values()):
            peak = np.abs(h1[i][probe]).max()
            assert peak > 0
            np.testing.assert_allclose(hf[i][probe], f * h1[i][probe], rtol=0, atol=1e-12 * f * peak)
        want = 0.5 * 1.5 * h1[0][probe] + 0.5 * 0.5 * h1[1][probe]
        np.testing.assert_allclose(total[probe], want, rtol=0, atol=1e-12 * np.abs(want).max())
    # connections without factors (E -> E) unchanged, bitwise
    for probe in PROBES:
        assert np.array_equal(plain.kernel("E", "E", V)[probe], scaled.kernel("E", "E", V)[probe])


def test_g_eff_takes_f_times_k_in(cfg, factored):
    """g_eff of a type: the E -> I share of the conductance times f_y, the rest unchanged:
    g(f) - g(1) = (f - 1) (g(1) - g(1; nu_E = 0))."""
    rates = dict(cfg["kernel"]["rates"])
    silent = dict(rates, E=0.0)
    plain, scaled = KernelEngine.from_config(cfg), KernelEngine.from_config(factored)
    for i, f in enumerate(FACTORS.values()):
        g1, g0, gf = plain.g_eff("I", rates, i), plain.g_eff("I", silent, i), scaled.g_eff("I", rates, i)
        assert np.abs(g1 - g0).max() > 0
        np.testing.assert_allclose(gf - g1, (f - 1.0) * (g1 - g0), rtol=0, atol=1e-12 * np.abs(g1).max())


def test_factors_of_one_give_todays_kernels_bitwise(cfg):
    """Factors all 1 (g_eff on): every connection's kernels equal to those without factors."""
    ones = with_factors(cfg, {"basket": 1.0, "small": 1.0})
    V, rates = cfg["kernel"]["V_rest"], dict(cfg["kernel"]["rates"])
    a, b = KernelEngine.from_config(cfg), KernelEngine.from_config(ones)
    for post in ("E", "I"):
        for pre in ("E", "I"):
            ka, kb = a.kernel(post, pre, V, rates), b.kernel(post, pre, V, rates)
            for name in ("transmembrane_current", *PROBES):
                assert np.array_equal(ka[name], kb[name]), (post, pre, name)


def test_kernel_file_records_the_factors(factored):
    """The kernel dataset names the factors and its synapse probabilities are each type's share
    F_y f_y of the connection's synapses (sum 1)."""
    import json

    engine = KernelEngine.from_config(factored, g_eff=False)
    (_, _, ds, _), = kernel_datasets(engine, factored, [("I", "E")], {"E": -65.0, "I": -65.0},
                                     dict(factored["kernel"]["rates"]))
    assert json.loads(ds.attrs["indegree_factors"]) == FACTORS
    n_basket = engine.populations["I"].cell_type("basket").n_segments
    p = ds["synapse_probability"].values
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert p[:n_basket].sum() == pytest.approx(0.5 * 1.5, abs=1e-12)
    (_, _, plain, _), = kernel_datasets(engine, factored, [("I", "I")], {"E": -65.0, "I": -65.0},
                                        dict(factored["kernel"]["rates"]))
    assert "indegree_factors" not in plain.attrs
