"""Physics checks of the channel mechanisms (lfpk/mod/*.mod) and the biophysics registry.

The NMODL kinetics are compared against the published equations as written in Python in
:mod:`lfpk.biophysics`; the linearised variants (passive, frozen, quasi_linear) are checked for their
resting potential and, for quasi_linear, against the small-signal response of the active cell.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from lfpk import biophysics as bp
from lfpk.morphology import SECTIONS

REPO = Path(__file__).resolve().parents[1]
CELSIUS = 34.0


@pytest.fixture(scope="session")
def h():
    from lfpk import mechanisms

    mechanisms.ensure_loaded()
    from neuron import h

    h.load_file("stdrun.hoc")
    h.celsius = CELSIUS
    return h


@pytest.fixture(scope="session")
def cfg():
    from lfpk.config import load_config

    return load_config(REPO / "config" / "config.yaml")


@pytest.fixture(scope="session")
def morphs(cfg):
    from lfpk.morphology import from_config

    return from_config(cfg)


@pytest.fixture()
def celsius34(h):
    h.celsius = CELSIUS
    yield
    h.celsius = CELSIUS


def _compartment(h, mechs):
    sec = h.Section(name="compartment")
    sec.L = sec.diam = 10.0
    sec.nseg = 1
    for m in mechs:
        sec.insert(m)
    return sec


def _run(h, tstop, dt=0.025, v_init=-65.0):
    h.dt = dt
    h.finitialize(v_init)
    h.continuerun(tstop)


def _ih_only(cfg_bio):
    """Biophysics block with NaTa_t and SKv3_1 switched off (leak + Ih only)."""
    out = copy.deepcopy(cfg_bio)
    for ch in ("NaTa_t", "SKv3_1"):
        out["densities"][ch] = {s: 0.0 for s in SECTIONS}
    return out


# Voltages including the removable singularities of the rate expressions
# (NaTa_t m: -38 mV, NaTa_t h: -66 mV, Ih: -154.9 mV).
V_GRID = np.array([-160.0, -154.9, -130.0, -100.0, -90.0, -80.0, -70.0, -66.0, -65.0, -50.0,
                   -40.0, -38.0, -30.0, -10.0, 0.0, 20.0, 40.0])


# --------------------------------------------------------------------------------------------
# Kinetics: NMODL vs the published equations (Python)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [21.0, CELSIUS])
def test_nmodl_steady_states_and_time_constants(h, celsius34, temperature):
    h.celsius = temperature
    sec = _compartment(h, ("NaTa_t", "SKv3_1", "Ih"))
    seg = sec(0.5)
    got = {k: [] for k in ("na_m", "na_mt", "na_h", "na_ht", "k_m", "k_mt", "ih_m", "ih_mt")}
    states = []
    for v in V_GRID:
        h.finitialize(v)  # INITIAL evaluates the rates at v and sets every gate to steady state
        got["na_m"].append(seg.NaTa_t.mInf)
        got["na_mt"].append(seg.NaTa_t.mTau)
        got["na_h"].append(seg.NaTa_t.hInf)
        got["na_ht"].append(seg.NaTa_t.hTau)
        got["k_m"].append(seg.SKv3_1.mInf)
        got["k_mt"].append(seg.SKv3_1.mTau)
        got["ih_m"].append(seg.Ih.mInf)
        got["ih_mt"].append(seg.Ih.mTau)
        states.append((seg.NaTa_t.m, seg.NaTa_t.h, seg.SKv3_1.m, seg.Ih.m))
    got = {k: np.array(x) for k, x in got.items()}
    for k, x in got.items():
        assert np.all(np.isfinite(x)), f"{k} not finite at {V_GRID[~np.isfinite(x)]} mV"

    m, mt, hh, ht = bp.nata_t_rates(V_GRID, temperature)
    np.testing.assert_allclose(got["na_m"], m, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(got["na_mt"], mt, rtol=1e-9)
    np.testing.assert_allclose(got["na_h"], hh, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(got["na_ht"], ht, rtol=1e-9)
    m, mt = bp.skv3_1_rates(V_GRID)
    np.testing.assert_allclose(got["k_m"], m, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(got["k_mt"], mt, rtol=1e-9)
    m, mt = bp.ih_rates(V_GRID)
    np.testing.assert_allclose(got["ih_m"], m, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(got["ih_mt"], mt, rtol=1e-9)
    # gates start at their steady state
    states = np.array(states)
    np.testing.assert_allclose(states[:, 0], got["na_m"], rtol=1e-12)
    np.testing.assert_allclose(states[:, 1], got["na_h"], rtol=1e-12)
    np.testing.assert_allclose(states[:, 2], got["k_m"], rtol=1e-12)
    np.testing.assert_allclose(states[:, 3], got["ih_m"], rtol=1e-12)


def test_published_values_and_temperature_factor():
    # Hand-evaluated published expressions at points away from the singularities.
    v = -50.0
    ma = 0.182 * (v + 38) / (1 - np.exp(-(v + 38) / 6))
    mb = 0.124 * (-v - 38) / (1 - np.exp(-(-v - 38) / 6))
    qt = 2.3 ** ((34 - 21) / 10)
    m, mt, _, _ = bp.nata_t_rates(v, 34.0)
    assert m == pytest.approx(ma / (ma + mb), rel=1e-12)
    assert mt == pytest.approx(1 / (ma + mb) / qt, rel=1e-12)
    _, mt21, _, ht21 = bp.nata_t_rates(v, 21.0)
    _, _, _, ht34 = bp.nata_t_rates(v, 34.0)
    assert mt21 / mt == pytest.approx(qt, rel=1e-12)
    assert ht21 / ht34 == pytest.approx(qt, rel=1e-12)
    a = 0.001 * 6.43 * (v + 154.9) / (np.exp((v + 154.9) / 11.9) - 1)
    b = 0.001 * 193 * np.exp(v / 33.1)
    assert bp.ih_rates(v)[0] == pytest.approx(a / (a + b), rel=1e-12)
    assert bp.ih_rates(v)[1] == pytest.approx(1 / (a + b), rel=1e-12)
    assert bp.skv3_1_rates(v)[0] == pytest.approx(1 / (1 + np.exp((v - 18.7) / -9.7)), rel=1e-12)
    assert bp.skv3_1_rates(v)[1] == pytest.approx(4 / (1 + np.exp((v + 46.56) / -44.14)), rel=1e-12)
    # Ih activates on hyperpolarisation, NaTa_t/SKv3_1 activation on depolarisation
    vv = np.linspace(-120, 20, 50)
    assert np.all(np.diff(bp.ih_rates(vv)[0]) < 0)
    assert np.all(np.diff(bp.nata_t_rates(vv)[0]) > 0)
    assert np.all(np.diff(bp.nata_t_rates(vv)[2]) < 0)
    assert np.all(np.diff(bp.skv3_1_rates(vv)[0]) > 0)


@pytest.mark.parametrize("v0", [-38.0, -66.0, -154.9])
def test_singularities_are_continuous(h, celsius34, v0):
    sec = _compartment(h, ("NaTa_t", "Ih"))
    seg = sec(0.5)
    vals = []
    for v in (v0 - 1e-3, v0, v0 + 1e-3):
        h.finitialize(v)
        vals.append((seg.NaTa_t.mInf, seg.NaTa_t.mTau, seg.NaTa_t.hInf, seg.NaTa_t.hTau,
                     seg.Ih.mInf, seg.Ih.mTau))
    vals = np.array(vals)
    assert np.all(np.isfinite(vals))
    # value at the singular point is the mean of its neighbours to second order
    np.testing.assert_allclose(vals[1], 0.5 * (vals[0] + vals[2]), rtol=1e-6)


@pytest.mark.parametrize(
    "mech, gate, v_hold, v_step, temperature",
    [
        ("NaTa_t", "m", -80.0, -30.0, CELSIUS),
        ("NaTa_t", "h", -80.0, -30.0, CELSIUS),
        ("NaTa_t", "h", -80.0, -30.0, 21.0),
        ("SKv3_1", "m", -65.0, 0.0, CELSIUS),
        ("Ih", "m", -65.0, -100.0, CELSIUS),
    ],
)
def test_gates_relax_with_published_time_constant(h, celsius34, mech, gate, v_hold, v_step,
                                                   temperature):
    """Voltage-clamp step: the gate follows x_inf + (x0 - x_inf) exp(-t/tau) at the step level."""
    h.celsius = temperature
    sec = _compartment(h, (mech,))
    seg = sec(0.5)
    setattr(getattr(seg, mech), {"NaTa_t": "gNaTa_tbar", "SKv3_1": "gSKv3_1bar",
                                 "Ih": "gIhbar"}[mech], 0.0)  # gates only, no current
    clamp = h.SEClamp(seg)
    clamp.rs = 1e-6
    clamp.dur1, clamp.amp1 = 1e9, v_step
    rec = h.Vector().record(getattr(seg, f"_ref_{gate}_{mech}"))
    vrec = h.Vector().record(seg._ref_v)
    t = h.Vector().record(h._ref_t)
    h.dt = 0.025
    h.finitialize(v_hold)
    h.continuerun(5.0 if mech != "Ih" else 100.0)
    x, t = np.array(rec), np.array(t)
    assert np.max(np.abs(np.array(vrec)[1:] - v_step)) < 1e-4
    if mech == "NaTa_t":
        m0, _, h0, _ = bp.nata_t_rates(v_hold, temperature)
        m1, mt, h1, ht = bp.nata_t_rates(v_step, temperature)
        x0, x1, tau = (m0, m1, mt) if gate == "m" else (h0, h1, ht)
    else:
        fn = bp.skv3_1_rates if mech == "SKv3_1" else bp.ih_rates
        x0, _ = fn(v_hold)
        x1, tau = fn(v_step)
    expected = x1 + (x0 - x1) * np.exp(-t / tau)
    # cnexp integrates a linear ODE at constant v exactly
    np.testing.assert_allclose(x, expected, rtol=1e-6, atol=1e-9 * abs(x1 - x0))


def test_quasi_ih_linearisation_coefficients(h, celsius34):
    sec = _compartment(h, ("QuasiIh",))
    seg = sec(0.5)
    vr = np.array([-154.9, -120.0, -90.0, -80.0, -70.0, -65.0, -60.0, -50.0])
    got = []
    for v in vr:
        seg.QuasiIh.V_r = v
        h.finitialize(v)
        got.append((seg.QuasiIh.mInf, seg.QuasiIh.mTau, seg.QuasiIh.dmInf))
        assert seg.QuasiIh.i == 0.0  # no current at V_r
    got = np.array(got)
    m, mt = bp.ih_rates(vr)
    np.testing.assert_allclose(got[:, 0], m, rtol=1e-9)
    np.testing.assert_allclose(got[:, 1], mt, rtol=1e-9)
    np.testing.assert_allclose(got[:, 2], bp.ih_dminf_dv(vr), rtol=1e-9)
    # the analytic derivative is the derivative of the steady state
    dv = 1e-4
    numeric = (bp.ih_rates(vr + dv)[0] - bp.ih_rates(vr - dv)[0]) / (2 * dv)
    np.testing.assert_allclose(bp.ih_dminf_dv(vr), numeric, rtol=1e-6)
    assert np.all(bp.ih_dminf_dv(vr) < 0)


# --------------------------------------------------------------------------------------------
# Registry: frozen, passive, quasi_linear
# --------------------------------------------------------------------------------------------


def test_frozen_conductance_equals_active_channel_conductance(h, celsius34, cfg, morphs):
    V_rest = -70.0
    active = morphs["E"].build(prefix="E_active")
    bp.apply("active", active, cfg["biophysics"])
    h.finitialize(V_rest)
    segs = bp.segments(active)
    dens = bp.segment_densities(active, cfg["biophysics"])
    g_neuron = {
        "NaTa_t": np.array([s.NaTa_t.gNaTa_tbar * s.NaTa_t.m**3 * s.NaTa_t.h for s in segs]),
        "SKv3_1": np.array([s.SKv3_1.gSKv3_1bar * s.SKv3_1.m for s in segs]),
        "Ih": np.array([s.Ih.gIhbar * s.Ih.m for s in segs]),
    }
    # the mechanisms' own conductance variables agree
    np.testing.assert_allclose(g_neuron["NaTa_t"], [s.NaTa_t.gNaTa_t for s in segs], rtol=1e-12)
    np.testing.assert_allclose(g_neuron["SKv3_1"], [s.SKv3_1.gSKv3_1 for s in segs], rtol=1e-12)
    np.testing.assert_allclose(g_neuron["Ih"], [s.Ih.gIh for s in segs], rtol=1e-12)
    total = dens["g_pas"].copy()
    for ch, g in g_neuron.items():
        np.testing.assert_allclose(bp.frozen_conductance(ch, dens[ch], V_rest), g, rtol=1e-9)
        assert np.all(g > 0)
        total += g
    frozen = morphs["E"].build(prefix="E_frozen")
    info = bp.apply("frozen", frozen, cfg["biophysics"], V_rest=V_rest)
    fsegs = bp.segments(frozen)
    np.testing.assert_allclose([s.pas.g for s in fsegs], total, rtol=1e-9)
    np.testing.assert_allclose(info["g_leak"], total, rtol=1e-9)
    np.testing.assert_array_equal([s.pas.e for s in fsegs], V_rest)
    for s in fsegs:  # only the leak is inserted
        assert not s.sec.has_membrane("NaTa_t") and not s.sec.has_membrane("Ih")


@pytest.mark.parametrize("pop", ["E", "I"])
@pytest.mark.parametrize("name", ["passive", "frozen", "quasi_linear"])
@pytest.mark.parametrize("with_extra_leak", [False, True])
def test_linearised_cells_rest_at_V_rest(h, celsius34, cfg, morphs, pop, name, with_extra_leak):
    V_rest = -68.0
    secs = morphs[pop].build(prefix=f"{pop}_{name}")
    n = len(bp.segments(secs))
    extra = np.linspace(1e-5, 1e-4, n) if with_extra_leak else None
    bp.apply(name, secs, cfg["biophysics"], V_rest=V_rest,
             passive_g_pas=cfg["kernel"]["passive_g_pas"], extra_leak=extra)
    recs = [h.Vector().record(s._ref_v) for s in bp.segments(secs)]
    _run(h, 200.0, dt=0.0625, v_init=V_rest)
    v = np.array([np.array(r) for r in recs])
    assert np.max(np.abs(v - V_rest)) < 1e-9, f"{name} drifts from V_rest"
    # and returns to V_rest from elsewhere
    _run(h, 1000.0, dt=0.0625, v_init=-60.0)
    v_end = np.array([r[-1] for r in recs])
    assert np.max(np.abs(v_end - V_rest)) < 1e-4


def test_passive_cell_properties(h, celsius34, cfg, morphs):
    secs = morphs["E"].build(prefix="E_passive")
    V_rest = np.linspace(-70.0, -60.0, len(bp.segments(secs)))
    info = bp.apply("passive", secs, cfg["biophysics"], V_rest=V_rest, passive_g_pas=3e-4)
    segs = bp.segments(secs)
    np.testing.assert_array_equal([s.pas.g for s in segs], 3e-4)
    np.testing.assert_array_equal([s.pas.e for s in segs], V_rest)
    np.testing.assert_array_equal(info["e_leak"], V_rest)
    for s in segs:
        assert not s.sec.has_membrane("Ih")


def _step_response(h, secs, amp, v_ref, t_on=100.0, dur=400.0, tstop=700.0):
    stim = h.IClamp(secs["soma"](0.5))
    stim.delay, stim.dur, stim.amp = t_on, dur, amp
    v = h.Vector().record(secs["soma"](0.5)._ref_v)
    t = h.Vector().record(h._ref_t)
    _run(h, tstop, dt=0.025, v_init=v_ref)
    return np.array(t), np.array(v) - v_ref


def test_quasi_linear_ih_matches_active_small_signal(h, celsius34, cfg, morphs):
    """Leak + Ih cell held at V_r: active Ih vs QuasiIh vs frozen Ih for +-5 pA somatic steps."""
    V_r = -65.0
    bio = _ih_only(cfg["biophysics"])
    ehcn = bio["ehcn"]
    amp = 0.005  # nA

    # active leak + Ih, leak reversal per segment chosen so the cell rests at V_r everywhere
    active = morphs["E"].build(prefix="E_ih_active")
    bp.apply("active", active, bio)
    segs = bp.segments(active)
    dens = bp.segment_densities(active, bio)
    g_ih = bp.frozen_conductance("Ih", dens["Ih"], V_r)
    e_pas = V_r + g_ih * (V_r - ehcn) / dens["g_pas"]
    for s, e in zip(segs, e_pas):
        s.pas.e = e
    quasi = morphs["E"].build(prefix="E_ih_quasi")
    bp.apply("quasi_linear", quasi, bio, V_rest=V_r)
    frozen = morphs["E"].build(prefix="E_ih_frozen")
    bp.apply("frozen", frozen, bio, V_rest=V_r)

    # all three rest at V_r
    _run(h, 100.0, v_init=V_r)
    for cell in (active, quasi, frozen):
        assert np.max(np.abs([s.v - V_r for s in bp.segments(cell)])) < 1e-9

    resp = {}
    for label, cell in (("active", active), ("quasi", quasi), ("frozen", frozen)):
        for sign in (+1, -1):
            t, dv = _step_response(h, cell, sign * amp, V_r)
            resp[label, sign] = dv
    on = (t > 100.0) & (t <= 500.0)
    for sign in (+1, -1):
        a, q = resp["active", sign], resp["quasi", sign]
        assert np.max(np.abs(a)) > 0.1  # a measurable response (mV)
        rel = np.max(np.abs(a - q)) / np.max(np.abs(a))
        assert rel < 0.03, f"quasi-linear vs active, step {sign * amp} nA: relative error {rel:.3g}"
    # the odd part of the active response is linear to second order: much closer match
    odd_a = 0.5 * (resp["active", 1] - resp["active", -1])
    odd_q = 0.5 * (resp["quasi", 1] - resp["quasi", -1])
    rel_odd = np.max(np.abs(odd_a - odd_q)) / np.max(np.abs(odd_a))
    assert rel_odd < 2e-3, f"odd part relative error {rel_odd:.3g}"
    # the quasi-linear response is exactly odd in the input (a linear system)
    np.testing.assert_allclose(resp["quasi", 1], -resp["quasi", -1], atol=1e-9)

    # sag: the hyperpolarising response overshoots its steady state in active and quasi-linear
    # cells (Ih activates), but not in the frozen cell (a passive membrane: monotonic approach)
    def sag(dv):
        peak = np.max(np.abs(dv[on]))
        final = np.abs(dv[on][-1])
        return peak / final

    sag_a, sag_q, sag_f = (sag(resp[k, -1]) for k in ("active", "quasi", "frozen"))
    assert sag_a > 1.1 and sag_q > 1.1, (sag_a, sag_q)
    assert sag_q == pytest.approx(sag_a, rel=0.02)
    assert sag_f < 1.0 + 1e-6
    # frozen and quasi-linear agree at the step onset (before Ih has moved), not later
    early = (t > 100.0) & (t <= 102.0)
    np.testing.assert_allclose(resp["frozen", -1][early], resp["quasi", -1][early],
                               rtol=0.05, atol=1e-4)
    assert np.abs(resp["frozen", -1][on][-1]) > 1.2 * np.abs(resp["quasi", -1][on][-1])


# --------------------------------------------------------------------------------------------
# Ground truth: the active cells rest without spiking
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pop", ["E", "I"])
def test_active_cell_settles_to_rest_without_spiking(h, celsius34, cfg, morphs, pop,
                                                     record_property, capsys):
    sim = cfg["simulation"]
    secs = morphs[pop].build(prefix=f"{pop}_rest")
    bp.apply("active", secs, cfg["biophysics"], celsius=sim["celsius"])
    assert h.celsius == sim["celsius"]
    soma = secs["soma"](0.5)
    apc = h.APCount(soma)
    apc.thresh = -20.0
    v = h.Vector().record(soma._ref_v)
    segs = bp.segments(secs)
    _run(h, 2000.0, dt=sim["dt"], v_init=sim["v_init"])
    v = np.array(v)
    assert apc.n == 0 and v.max() < -40.0, f"{pop} cell fires without input"
    # settled: the last 100 ms change by less than 1 uV
    last = int(round(100.0 / sim["dt"]))
    assert abs(v[-1] - v[-last]) < 1e-3
    v_rest = np.array([s.v for s in segs])
    assert np.all((v_rest > -85.0) & (v_rest < -65.0))
    record_property(f"V_rest_soma_{pop}", float(v[-1]))
    with capsys.disabled():
        print(f"\n{pop} cell at rest: soma {v[-1]:.3f} mV, segments {v_rest.min():.3f} .. "
              f"{v_rest.max():.3f} mV")


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def test_errors_name_the_parameter(h, cfg, morphs):
    secs = morphs["I"].build(prefix="I_err")
    n = len(bp.segments(secs))
    with pytest.raises(ValueError, match=r"unknown biophysics 'bogus'.*active.*frozen.*passive"):
        bp.apply("bogus", secs, cfg["biophysics"])
    with pytest.raises(ValueError, match=r"V_rest: expected a scalar or %d" % n):
        bp.apply("frozen", secs, cfg["biophysics"], V_rest=np.zeros(n + 1))
    with pytest.raises(ValueError, match=r"V_rest: required"):
        bp.apply("quasi_linear", secs, cfg["biophysics"])
    with pytest.raises(ValueError, match=r"extra_leak: expected"):
        bp.apply("frozen", secs, cfg["biophysics"], V_rest=-65.0, extra_leak=np.ones(3))
    with pytest.raises(ValueError, match=r"passive_g_pas"):
        bp.apply("passive", secs, cfg["biophysics"], V_rest=-65.0)
    bad = copy.deepcopy(cfg["biophysics"])
    del bad["densities"]["SKv3_1"]
    with pytest.raises(ValueError, match=r"densities.*'SKv3_1'"):
        bp.apply("active", secs, bad)
    bad = copy.deepcopy(cfg["biophysics"])
    del bad["densities"]["Ih"]["apic"]
    with pytest.raises(ValueError, match=r"densities\.Ih: missing section\(s\) \['apic'\]"):
        bp.apply("frozen", secs, bad, V_rest=-65.0)
    with pytest.raises(ValueError, match=r"unknown channel"):
        bp.frozen_conductance("Kv", 1.0, -65.0)


def test_active_extra_leak_is_merged_exactly(h, cfg, morphs):
    secs = morphs["I"].build(prefix="I_extra")
    n = len(bp.segments(secs))
    extra = np.full(n, 2e-5)
    info = bp.apply("active", secs, cfg["biophysics"], V_rest=-60.0, extra_leak=extra)
    dens = info["densities"]
    for v in (-90.0, -60.0, 0.0):
        expected = dens["g_pas"] * (v - cfg["biophysics"]["e_pas"]) + extra * (v + 60.0)
        np.testing.assert_allclose(info["g_leak"] * (v - info["e_leak"]), expected,
                                   rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose([s.pas.g for s in bp.segments(secs)], info["g_leak"])
