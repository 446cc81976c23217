"""Connectivity generator of the ground-truth network: statistics against the config's rules."""

import copy

import numpy as np
import pytest
import scipy.stats

from lfpk.api.config import validate_config
from lfpk.model.connectivity import (
    Connectivity,
    cell_rng,
    extrinsic_counts,
    multapse_mean,
    multapse_pmf,
    place_cells,
    round_delays,
    segment_probability,
)
from lfpk.model.rules import weight_factors

SIZES = {"E": 300, "I": 75}


@pytest.fixture(scope="module")
def cfg(_laptop_config_raw):
    c = copy.deepcopy(_laptop_config_raw)
    validate_config(c)
    c["weight_scaling"]["J"] = 1.05  # the study's scan value: E->E x4.32, E->I x2.18, I->E x1.007
    return c


@pytest.fixture(scope="module")
def network(cfg):
    layout = place_cells(cfg, SIZES)
    conn = Connectivity(cfg, layout)
    incoming = {g: conn.incoming(g) for g in range(layout.n_cells)}
    return layout, conn, incoming


def _by_conn(cfg, incoming, layout, ci):
    c = cfg["connections"][ci]
    gids = layout.gids(c["post"])
    return c, gids, [(g, incoming[g]) for g in gids]


def test_multapse_pmf(cfg):
    for c in cfg["connections"]:
        k, p = multapse_pmf(c["multapses"])
        assert k[0] == 1 and k[-1] == 99 and p.sum() == pytest.approx(1.0)
        d = scipy.stats.truncnorm(**c["multapses"]["params"])
        assert np.allclose(p, d.pdf(k) / d.pdf(k).sum())
        assert multapse_mean(c["multapses"]) == pytest.approx(c["multapses"]["params"]["loc"], abs=0.01)
    # a discrete distribution is used as is (normalised on 1..99)
    k, p = multapse_pmf({"distribution": "poisson", "params": {"mu": 3.0}})
    want = scipy.stats.poisson(3.0).pmf(k)
    assert np.allclose(p, want / want.sum())


def test_placement(cfg, network):
    layout, _, _ = network
    r = np.hypot(layout.positions[:, 0], layout.positions[:, 1])
    assert r.max() <= 150.0
    # uniform in the disc: r^2/R^2 ~ U(0, 1)
    assert scipy.stats.kstest((r / 150.0) ** 2, "uniform").pvalue > 1e-3
    z = layout.positions[:, 2]
    assert abs(z.mean()) < 4 * 75 / np.sqrt(len(z))
    assert z.std() == pytest.approx(75.0, rel=0.15)
    # independent of the population sizes of other populations (per-gid streams)
    other = place_cells(cfg, {"E": 300, "I": 10})
    assert np.array_equal(other.positions[:300], layout.positions[:300])


@pytest.mark.parametrize("ci", range(4))
def test_in_degree_and_multapses(cfg, network, ci):
    layout, conn, incoming = network
    c, gids, rows = _by_conn(cfg, incoming, layout, ci)
    n_pre = SIZES[c["pre"]] - (c["pre"] == c["post"])
    C = c["probability"]
    partners, multapses = [], []
    for g, inc in rows:
        sel = inc.connection == ci
        pre, m = np.unique(inc.pre[sel], return_counts=True)
        assert not np.any(pre == g), "autapse"
        assert np.all(np.isin(pre, layout.gids(c["pre"])))
        partners.append(len(pre))
        multapses.append(m)
    partners = np.array(partners)
    se = np.sqrt(n_pre * C * (1 - C) / len(partners))
    assert abs(partners.mean() - C * n_pre) < 4 * se
    m = np.concatenate(multapses)
    k, p = multapse_pmf(c["multapses"])
    sd = np.sqrt((k**2 * p).sum() - multapse_mean(c["multapses"]) ** 2)
    assert abs(m.mean() - multapse_mean(c["multapses"])) < 4 * sd / np.sqrt(len(m))
    assert m.min() >= 1


@pytest.mark.parametrize("ci", range(4))
def test_delays_and_weights(cfg, network, ci):
    layout, conn, incoming = network
    c, gids, rows = _by_conn(cfg, incoming, layout, ci)
    sel = [inc.connection == ci for _, inc in rows]
    d = np.concatenate([inc.delay[s] for (_, inc), s in zip(rows, sel)])
    w = np.concatenate([inc.weight[s] for (_, inc), s in zip(rows, sel)])
    dt = cfg["simulation"]["dt"]
    dist = scipy.stats.truncnorm(**c["delays"]["params"])
    lower = dist.support()[0]
    assert d.min() >= lower  # 0.3 ms (I->E: 0.2 ms) in the study
    assert np.allclose(d / dt, np.round(d / dt))  # on the dt grid
    assert d.mean() == pytest.approx(dist.mean(), abs=dt / 4 + 4 * dist.std() / np.sqrt(len(d)))
    syn = c["synapse"]
    J = weight_factors(cfg["connections"], cfg["weight_scaling"]["J"])[ci]
    assert np.all(w > 0)
    mu, sd = syn["weight"] * J, syn["weight_sd"] * syn["weight"] * J
    assert w.mean() == pytest.approx(mu, abs=4 * sd / np.sqrt(len(w)))
    assert w.std() == pytest.approx(sd, rel=0.05)


@pytest.mark.parametrize("ci", range(4))
def test_synapse_depth_distribution(cfg, network, ci):
    """Segment counts pooled over cells match sum over cells of n_syn * p_segment (chi-square)."""
    layout, conn, incoming = network
    c, gids, rows = _by_conn(cfg, incoming, layout, ci)
    st = layout.segtables[c["post"]]
    observed = np.zeros(len(st["area"]))
    expected = np.zeros(len(st["area"]))
    zs_obs, zs_exp = [], 0.0
    for g, inc in rows:
        seg = inc.segment[inc.connection == ci]
        p = segment_probability(st, layout.positions[g, 2], c["placement"]["sections"],
                                c["placement"]["densities"])
        np.add.at(observed, seg, 1)
        expected += len(seg) * p
        zs_obs.append(st["z"].mean(axis=1)[seg] + layout.positions[g, 2])
        zs_exp += len(seg) * (p * (st["z"].mean(axis=1) + layout.positions[g, 2])).sum()
    assert np.all(observed[expected == 0] == 0)  # never on forbidden sections
    keep = expected > 5
    chi2 = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    assert scipy.stats.chi2(keep.sum() - 1).sf(chi2) > 1e-4
    z = np.concatenate(zs_obs)
    assert z.mean() == pytest.approx(zs_exp / len(z), abs=4 * z.std() / np.sqrt(len(z)))


def test_segment_probability_formula(cfg):
    layout = place_cells(cfg, {"E": 2, "I": 2})
    st = layout.segtables["E"]
    dens = [{"weight": 0.5, "mean": 0.0, "sd": 100.0}, {"weight": 1.0, "mean": 500.0, "sd": 100.0}]
    p = segment_probability(st, 40.0, ["apic", "dend"], dens)
    z = st["z"].mean(axis=1) + 40.0
    want = st["area"] * (0.5 * scipy.stats.norm.pdf(z, 0, 100) + scipy.stats.norm.pdf(z, 500, 100))
    want[st["section"] == "soma"] = 0
    assert np.allclose(p, want / want.sum())


def test_streams_do_not_depend_on_order(cfg, network):
    layout, conn, incoming = network
    again = Connectivity(cfg, layout)
    for g in (layout.n_cells - 1, 7, 0):  # other order, other instance
        a, b = again.incoming(g), incoming[g]
        for f in ("pre", "segment", "delay", "weight", "connection"):
            assert np.array_equal(getattr(a, f), getattr(b, f))
    assert cell_rng(1, 2, 3).random() != cell_rng(1, 3, 2).random()


def test_round_delays():
    d = round_delays([0.30, 0.31, 0.34, 1.0], 0.0625, lower=0.3)
    assert np.allclose(d, [0.3125, 0.3125, 0.3125, 1.0])
    assert round_delays([0.2], 0.0625, lower=0.3)[0] == pytest.approx(0.3125)


def test_extrinsic_counts(cfg, network):
    layout = network[0]
    st = layout.segtables["E"]
    tot = np.zeros(len(st["area"]))
    for g in layout.gids("E"):
        n = extrinsic_counts(layout, g, 465)
        assert n.sum() == 465
        tot += n
    expected = 465 * len(layout.gids("E")) * st["area"] / st["area"].sum()
    chi2 = ((tot - expected) ** 2 / expected).sum()
    assert scipy.stats.chi2(len(tot) - 1).sf(chi2) > 1e-4
