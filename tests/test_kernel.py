"""Kernel engine: connection statistics, linearisation, conservation, linearity, delays, g_eff."""

import numpy as np
import pytest

from lfpk.api.config import validate_config
from lfpk.engines.kernel import (
    KernelEngine,
    KernelError,
    KernelOptions,
    Synapse,
    convolve_delays,
    delay_probabilities,
    effective_leak,
    mean_multapses,
    synapse_counts,
    synapse_probabilities,
)
from lfpk.model import SynapseError


@pytest.fixture
def engine_factory(config, mechanisms):
    def make(**kw):
        probes = kw.pop("probes", False)
        eng = KernelEngine.from_config(validate_config(config), **kw)
        if not probes:
            eng._probe_factory = None
        return eng
    return make


def _normal_integer_mean(loc, scale, lo=1, hi=10):
    k = np.arange(lo, hi + 1)
    w = np.exp(-0.5 * ((k - loc) / scale) ** 2)
    return float((k * w).sum() / w.sum())


def test_multapse_mean_and_counts_by_hand(config):
    # truncnorm on [1, 10] evaluated at the integers and normalised == normal weights on 1..10
    for conn, (loc, scale) in zip(config["connections"], [(2, 0.4), (2, 0.6), (5, 0.9), (5, 1.1)]):
        assert mean_multapses(conn["multapses"]) == pytest.approx(_normal_integer_mean(loc, scale), rel=1e-12)
    # paper scale, E -> E: K = C N_X N_Y E[m]
    m = _normal_integer_mean(2, 0.4)
    c = synapse_counts(0.05, 8192, 8192, config["connections"][0]["multapses"])
    assert c.K == pytest.approx(0.05 * 8192 * 8192 * m)
    assert c.k_in == pytest.approx(0.05 * 8192 * m) and c.k_out == pytest.approx(0.05 * 8192 * m)
    # I -> E: k_in counts presynaptic I cells, k_out postsynaptic E cells
    m = _normal_integer_mean(5, 0.9)
    c = synapse_counts(0.05, 1024, 8192, config["connections"][2]["multapses"])
    assert c.k_in == pytest.approx(0.05 * 1024 * m) and c.k_out == pytest.approx(0.05 * 8192 * m)
    # a discrete distribution is used as is
    assert mean_multapses({"distribution": "poisson", "params": {"mu": 0.5, "loc": 1}}) == pytest.approx(1.5, rel=1e-9)


def test_synapse_probabilities_follow_area_and_depth(config):
    from lfpk.model import morphologies as from_config
    seg = from_config(config)["E"].segments()
    conn = config["connections"][0]  # E -> E on apic and dend, 0.5 N(0,100) + N(500,100)
    p = synapse_probabilities(seg, conn["placement"], 0.0, 75.0)
    assert p.sum() == pytest.approx(1.0)
    assert np.all(p[seg["section"] == "soma"] == 0)
    z = seg["z"].mean(axis=1)
    w = np.hypot(100.0, 75.0)
    dens = 0.5 * np.exp(-0.5 * (z / w) ** 2) + np.exp(-0.5 * ((z - 500) / w) ** 2)
    expected = seg["area"] * dens / (w * np.sqrt(2 * np.pi)) * (seg["section"] != "soma")
    np.testing.assert_allclose(p, expected / expected.sum(), rtol=1e-12)
    with pytest.raises(KernelError, match="placement.sections"):
        synapse_probabilities(seg, {"sections": ["axon"], "densities": conn["placement"]["densities"]})


def test_linearised_amplitude_sign_and_size():
    exc = Synapse(0.2, 1.8, 1e-3, e=0.0)
    inh = Synapse(0.1, 9.0, 1e-3, e=-80.0)
    assert exc.linearised_amplitude(-65.0) == pytest.approx(0.065)  # inward
    assert inh.linearised_amplitude(-65.0) == pytest.approx(-0.015)  # outward
    # normalised Exp2Syn time course: integral factor * (tau2 - tau1)
    t = np.linspace(0, 200, 400001)
    g = exc.peak_factor * (np.exp(-t / 1.8) - np.exp(-t / 0.2))
    assert g.max() == pytest.approx(1.0, rel=1e-6)
    assert np.trapezoid(g, t) == pytest.approx(exc.time_integral, rel=1e-6)
    with pytest.raises(SynapseError, match="tau2"):
        Synapse(2.0, 1.0, 1e-3)


def test_truncated_weight_mean():
    s = Synapse(0.2, 1.8, 1.0, weight_sd=1.0)
    # mean of N(1, 1) truncated below at 0: 1 + phi(1)/Phi(1)
    from scipy.stats import norm
    assert s.mean_weight == pytest.approx(1 + norm.pdf(1) / norm.cdf(1), rel=1e-9)


@pytest.mark.parametrize("post,pre", [("E", "E"), ("E", "I"), ("I", "E"), ("I", "I")])
def test_current_conservation(engine_factory, config, post, pre):
    eng = engine_factory()
    k = eng.kernel(post, pre, -65.0, rates=config["kernel"]["rates"])
    I = k["transmembrane_current"]
    assert np.abs(I).max() > 1e-3
    assert np.abs(I.sum(axis=0)).max() < 1e-9 * np.abs(I).max() * I.shape[0]


def test_linearity_in_weight_and_k_out(engine_factory, config):
    eng = engine_factory()
    rates = config["kernel"]["rates"]
    k1 = eng.kernel("E", "I", -65.0, rates=rates)["transmembrane_current"]
    k2 = eng.kernel("E", "I", -65.0, rates=rates, weight_scale=2.0)["transmembrane_current"]
    np.testing.assert_allclose(k2, 2 * k1, rtol=1e-9, atol=1e-12 * np.abs(k1).max())
    # doubling C_YX doubles k_out (g_eff off, so the cell itself does not change)
    eng = engine_factory(g_eff=False)
    base = eng.kernel("E", "E", -65.0)["transmembrane_current"]
    eng.connections[("E", "E")].probability *= 2
    np.testing.assert_allclose(eng.kernel("E", "E", -65.0)["transmembrane_current"], 2 * base,
                               rtol=1e-9, atol=1e-12 * np.abs(base).max())


def test_current_synapse_equals_linearised_conductance(engine_factory):
    eng = engine_factory(g_eff=False)
    cond = eng.kernel("E", "I", -65.0)["transmembrane_current"]
    c = eng.connections[("E", "I")]
    amp = float(c.scaled_synapse.linearised_amplitude(-65.0))
    c.synapse = dict(c.synapse, model="Exp2SynI", weight=amp, weight_sd=0.0)
    curr = eng.kernel("E", "I", -65.0)["transmembrane_current"]
    np.testing.assert_allclose(curr, cond, rtol=1e-9, atol=1e-12 * np.abs(cond).max())


def test_g_eff_with_current_synapses_is_rejected(config, mechanisms):
    config["connections"][0]["synapse"]["model"] = "Exp2SynI"
    from lfpk.model import from_config
    with pytest.raises(KernelError, match="g_eff"):
        KernelEngine(from_config(config), KernelOptions(g_eff=True))


def test_linearised_kernel_matches_small_conductance_synapses(engine_factory, config):
    """Passive cell: Exp2Syn conductances of small weight give the linearised response."""
    from neuron import h

    from lfpk.model import biophysics

    eng = engine_factory(biophysics="passive", g_eff=False)
    lin = eng.transmembrane_response("E", "E", -65.0)
    c = eng.connections[("E", "E")]
    syn = c.scaled_synapse
    weights = eng.counts("E", "E").k_out * eng.synapse_probabilities("E", "E") * syn.mean_weight
    scale = 1e-3
    pop = eng.populations["E"]
    cell = pop.morphology.build(prefix="condcheck")
    biophysics.apply("passive", cell, pop.cell_biophysics, V_rest=-65.0, passive_g_pas=3e-4)
    segs = cell.segments
    syns, ncs = [], []
    for seg, w in zip(segs, weights):
        s = h.Exp2Syn(seg)
        s.tau1, s.tau2, s.e = syn.tau1, syn.tau2, syn.e
        nc = h.NetCon(None, s)
        nc.weight[0] = w * scale
        syns.append(s)
        ncs.append(nc)
    recs = [h.Vector().record(seg._ref_i_membrane_) for seg in segs]
    h.CVode().use_fast_imem(1)
    h.dt = eng.options.dt
    h.finitialize(-65.0)
    onset = 2 * h.dt
    for nc in ncs:
        nc.event(onset)
    h.continuerun(onset + (lin.shape[1] - 1) * h.dt + 0.5 * h.dt)
    k0 = int(round(onset / h.dt))
    cond = np.array([np.asarray(r)[k0:k0 + lin.shape[1]] for r in recs]) / scale
    err = np.abs(cond - lin).max() / np.abs(lin).max()
    assert err < 2e-2, f"relative deviation {err:.3g}"


def test_delay_distribution_preserves_integral_and_shifts(engine_factory):
    dt = 2**-4
    n = 801
    p = delay_probabilities({"distribution": "truncnorm", "params": {"a": -4, "b": np.inf, "loc": 1.5, "scale": 0.3}}, dt, n)
    assert p.sum() == pytest.approx(1.0)
    assert np.sum(np.arange(n) * dt * p) == pytest.approx(1.5 + 0.3 * 4 * 0 + _truncnorm_shift(), abs=2e-3)
    x = np.zeros((2, n))
    x[0, 10:400] = np.hanning(390)
    x[1, 5] = 1.0
    y = convolve_delays(x, p)
    assert y[0].sum() == pytest.approx(x[0].sum(), rel=1e-6)  # support stays inside the window
    # a delta delay of exactly 1 ms shifts by 16 samples
    delta = delay_probabilities({"distribution": "norm", "params": {"loc": 1.0, "scale": 1e-6}}, dt, n)
    y = convolve_delays(x, delta)
    np.testing.assert_allclose(y[:, 16:], x[:, :-16], atol=1e-12)
    assert np.all(np.abs(y[:, :16]) < 1e-12)
    with pytest.raises(KernelError, match="negative"):
        delay_probabilities({"distribution": "norm", "params": {"loc": 0.0, "scale": 1.0}}, dt, n)


def _truncnorm_shift():
    from scipy.stats import truncnorm
    return truncnorm(-4, np.inf, loc=1.5, scale=0.3).mean() - 1.5


def test_kernel_is_causal_and_window(engine_factory, config):
    eng = engine_factory()
    k = eng.kernel("I", "E", -65.0, rates=config["kernel"]["rates"])
    lags = k["lags"]
    assert lags[0] == pytest.approx(-config["kernel"]["tau"]) and lags[-1] == pytest.approx(config["kernel"]["tau"])
    I = k["transmembrane_current"]
    assert np.all(I[:, lags <= 0] == 0)
    # nothing happens before the minimum delay (0.3 ms) has passed
    assert np.abs(I[:, (lags > 0) & (lags < 0.3 - 1e-9)]).max() < 1e-6 * np.abs(I).max()
    eng = engine_factory(form="fir")
    kf = eng.kernel("I", "E", -65.0, rates=config["kernel"]["rates"])
    assert kf["lags"][0] == pytest.approx(2**-4)
    np.testing.assert_allclose(kf["transmembrane_current"], I[:, lags > 0])


def _tail_rate(trace, dt, start, stop):
    seg = np.abs(trace[int(start / dt):int(stop / dt)])
    t = np.arange(len(seg)) * dt
    return -np.polyfit(t, np.log(seg), 1)[0]


def test_g_eff_shortens_membrane_time_constant(engine_factory, config):
    rates = config["kernel"]["rates"]
    off = engine_factory(biophysics="passive", g_eff=False)
    on = engine_factory(biophysics="passive", g_eff=True)
    dt = 2**-4
    v_off = off.transmembrane_response("E", "E", -65.0, variable="v")
    v_on = on.transmembrane_response("E", "E", -65.0, rates=rates, variable="v")
    rate_off = _tail_rate(v_off[0], dt, 30, 49)
    rate_on = _tail_rate(v_on[0], dt, 30, 49)
    # sealed passive cable with uniform leak: the slowest (uniform) mode decays at g_pas / c_m
    assert rate_off == pytest.approx(3e-4 / 1e-6 * 1e-3, rel=0.01)
    g_eff = on.g_eff("E", rates)
    assert np.all(g_eff > 0)
    # with g_eff the slowest rate lies between the extremes of the raised leak, above the passive one
    g_tot = 3e-4 + g_eff
    assert rate_on > 1.05 * rate_off
    assert g_tot.min() / 1e-6 * 1e-3 * 0.99 <= rate_on <= g_tot.max() / 1e-6 * 1e-3 * 1.01


def test_effective_leak_by_hand(config, engine_factory):
    eng = engine_factory()
    rates = config["kernel"]["rates"]
    seg = eng.populations["I"].morphology.segments()
    g = eng.g_eff("I", rates)
    # total mean conductance (uS) = sum over inputs of k_in * rate * |w| * integral
    total_uS = (g * seg["area"] / 100.0).sum()
    expected = 0.0
    for pre in ("E", "I"):
        s = eng.connections[("I", pre)].scaled_synapse
        expected += eng.counts("I", pre).k_in * rates[pre] * 1e-3 * s.mean_weight * s.time_integral
    ext = eng.populations["I"].extrinsic
    n_ext, nu_ext, s_ext = ext["count"], ext["rate"], eng.populations["I"].extrinsic_synapse
    expected += n_ext * nu_ext * 1e-3 * s_ext.mean_weight * s_ext.time_integral
    assert total_uS == pytest.approx(expected, rel=1e-12)


def test_invalid_options_name_the_parameter():
    with pytest.raises(KernelError, match="tau"):
        KernelOptions(tau=0.01, dt=0.0625)
    with pytest.raises(KernelError, match="form"):
        KernelOptions(form="acausal")
    with pytest.raises(KernelError, match="biophysics"):
        KernelOptions(biophysics="active")


def test_per_segment_v_rest(engine_factory, config):
    eng = engine_factory(g_eff=False)
    n = eng.populations["E"].morphology.segments()["area"].size
    uniform = eng.kernel("E", "I", -65.0)["transmembrane_current"]
    per_seg = eng.kernel("E", "I", np.full(n, -65.0))["transmembrane_current"]
    np.testing.assert_allclose(per_seg, uniform, rtol=1e-9, atol=1e-12)
    grad = eng.kernel("E", "I", np.linspace(-70.0, -60.0, n))["transmembrane_current"]
    assert np.abs(grad.sum(axis=0)).max() < 1e-9 * np.abs(grad).max() * n
    assert not np.allclose(grad, uniform)
    with pytest.raises(KernelError, match="V_rest"):
        eng.kernel("E", "I", np.zeros(3))
