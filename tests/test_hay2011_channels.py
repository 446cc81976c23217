"""Kinetics of the channels of Hay et al. (2011) added for Model B (K_Pst, K_Tst, Im, Ca_HVA,
Ca_LVAst, SK_E2, CaDynamics_E2): the NMODL files (lfpk/mod) against the published equations as
written in Python (lfpk.model.biophysics.kinetics, lfpk.model.biophysics.calcium), hand-evaluated published
values, voltage-clamp relaxations with the published time constants, the calcium shell's
relaxation and steady state, and the generic frozen conductance of a compartment with every Hay
channel against the hand-written one with the calcium at rest.
"""

from __future__ import annotations

import numpy as np
import pytest

from lfpk.model import biophysics as bp
from lfpk.model.biophysics import calcium

CELSIUS = 34.0

# Voltages across the physiological range, including the switch of K_Pst's m_tau (u = -50 mV,
# v = -60 mV) and Ca_HVA's removable singularity of m_alpha (v = -27 mV).
V_GRID = np.array([-120.0, -100.0, -90.0, -80.0, -75.0, -70.0, -65.0, -60.0001, -60.0, -55.0, -45.0,
                   -35.0, -27.0, -20.0, -10.0, 0.0, 20.0, 40.0])

#: mechanism -> (density parameter, Python rates(v, celsius) -> (m_inf, m_tau[, h_inf, h_tau]))
VOLTAGE_GATED = {
    "K_Pst": ("gK_Pstbar", bp.k_pst_rates),
    "K_Tst": ("gK_Tstbar", bp.k_tst_rates),
    "Im": ("gImbar", bp.im_rates),
    "Ca_HVA": ("gCa_HVAbar", lambda v, c: bp.ca_hva_rates(v)),
    "Ca_LVAst": ("gCa_LVAstbar", bp.ca_lvast_rates),
}


@pytest.fixture(scope="module")
def h():
    from lfpk.base import mechanisms

    mechanisms.ensure_loaded()
    from neuron import h

    h.load_file("stdrun.hoc")
    h.celsius = CELSIUS
    yield h
    h.celsius = CELSIUS
    h.cai0_ca_ion = calcium.CAI0


@pytest.fixture()
def compartment(h):
    made = []

    def make(*mechs):
        sec = h.Section(name=f"hay_compartment{len(made)}")
        sec.L = sec.diam = 10.0
        sec.nseg = 1
        for m in mechs:
            sec.insert(m)
        made.append(sec)
        return sec

    yield make
    h.celsius = CELSIUS
    h.cai0_ca_ion = calcium.CAI0
    for sec in made:
        h.delete_section(sec=sec)


def _run(h, tstop, dt=0.025, v_init=None):
    h.dt = dt
    if v_init is None:
        h.finitialize()
    else:
        h.finitialize(v_init)
    h.continuerun(tstop)


@pytest.mark.parametrize("temperature", [21.0, CELSIUS])
@pytest.mark.parametrize("mech", sorted(VOLTAGE_GATED))
def test_steady_states_and_time_constants(h, compartment, mech, temperature):
    """mInf, mTau (hInf, hTau) of the NMODL file at every grid voltage equal the published
    equations to 1e-9; INITIAL puts the gates at their steady state."""
    h.celsius = temperature
    seg = compartment(mech)(0.5)
    obj = getattr(seg, mech)
    has_h = hasattr(obj, "hInf")
    got, states = [], []
    for v in V_GRID:
        h.finitialize(v)
        got.append((obj.mInf, obj.mTau) + ((obj.hInf, obj.hTau) if has_h else ()))
        states.append((obj.m,) + ((obj.h,) if has_h else ()))
    got, states = np.array(got), np.array(states)
    assert np.all(np.isfinite(got))
    ref = np.array(VOLTAGE_GATED[mech][1](V_GRID, temperature)).T
    assert ref.shape == got.shape
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(states[:, 0], ref[:, 0], rtol=1e-12)
    if has_h:
        np.testing.assert_allclose(states[:, 1], ref[:, 2], rtol=1e-12)


def test_published_values_by_hand():
    """The Python kinetics against the published expressions evaluated by hand at -62 mV, 34 degC
    (Hay et al. 2011 after Korngreen & Sakmann 2000, Adams et al. 1982, Reuveni et al. 1993, Avery &
    Johnston 1996, Koehler et al. 1996)."""
    v, qt = -62.0, 2.3 ** ((34.0 - 21.0) / 10.0)
    u = v + 10.0  # the -10 mV junction-potential shift
    # K_Pst (u = -52 < -50: the hyperpolarised branch of m_tau)
    m, mt, hh, ht = bp.k_pst_rates(v, 34.0)
    assert m == pytest.approx(1 / (1 + np.exp(-(u + 1) / 12)), rel=1e-13)
    assert mt == pytest.approx((1.25 + 175.03 * np.exp(-u * -0.026)) / qt, rel=1e-13)
    assert hh == pytest.approx(1 / (1 + np.exp(-(u + 54) / -11)), rel=1e-13)
    assert ht == pytest.approx((360 + (1010 + 24 * (u + 55)) * np.exp(-((u + 75) / 48) ** 2)) / qt, rel=1e-13)
    assert bp.k_pst_rates(-40.0)[1] == pytest.approx((1.25 + 13 * np.exp(-(-30.0) * 0.026)) / qt, rel=1e-13)
    # K_Tst
    m, mt, hh, ht = bp.k_tst_rates(v, 34.0)
    assert m == pytest.approx(1 / (1 + np.exp(-(u + 0) / 19)), rel=1e-13)
    assert mt == pytest.approx((0.34 + 0.92 * np.exp(-((u + 71) / 59) ** 2)) / qt, rel=1e-13)
    assert hh == pytest.approx(1 / (1 + np.exp(-(u + 66) / -10)), rel=1e-13)
    assert ht == pytest.approx((8 + 49 * np.exp(-((u + 73) / 23) ** 2)) / qt, rel=1e-13)
    # Im
    a, b = 3.3e-3 * np.exp(2.5 * 0.04 * (v + 35)), 3.3e-3 * np.exp(-2.5 * 0.04 * (v + 35))
    assert bp.im_rates(v, 34.0) == pytest.approx((a / (a + b), 1 / (a + b) / qt), rel=1e-13)
    # Ca_HVA (no temperature factor)
    ma = 0.055 * (-27 - v) / (np.exp((-27 - v) / 3.8) - 1)
    mb = 0.94 * np.exp((-75 - v) / 17)
    ha = 0.000457 * np.exp((-13 - v) / 50)
    hb = 0.0065 / (np.exp((-v - 15) / 28) + 1)
    assert bp.ca_hva_rates(v) == pytest.approx((ma / (ma + mb), 1 / (ma + mb), ha / (ha + hb), 1 / (ha + hb)),
                                               rel=1e-12)
    # Ca_LVAst
    m, mt, hh, ht = bp.ca_lvast_rates(v, 34.0)
    assert m == pytest.approx(1 / (1 + np.exp((u - -30) / -6)), rel=1e-13)
    assert mt == pytest.approx((5 + 20 / (1 + np.exp((u - -25) / 5))) / qt, rel=1e-13)
    assert hh == pytest.approx(1 / (1 + np.exp((u - -80) / 6.4)), rel=1e-13)
    assert ht == pytest.approx((20 + 50 / (1 + np.exp((u - -40) / 7))) / qt, rel=1e-13)
    # SK_E2: half activation at 0.43 uM, Hill coefficient 4.8
    assert bp.sk_e2_zinf(4.3e-4) == pytest.approx(0.5, rel=1e-13)
    assert bp.sk_e2_zinf(1e-4) == pytest.approx(1 / (1 + 4.3**4.8), rel=1e-13)
    # the frozen conductance is gbar m^p h^q (K_Tst: m^4 h)
    m, _, hh, _ = bp.k_tst_rates(v, 34.0)
    assert bp.frozen_conductance("K_Tst", 0.08, v) == pytest.approx(0.08 * m**4 * hh, rel=1e-13)
    with pytest.raises(ValueError, match="cai"):
        bp.frozen_conductance("SK_E2", 0.04, v)


def test_shapes_of_the_published_curves():
    """Activations rise and inactivations fall with v; K_Pst's m_tau is nearly continuous at its
    switch (u = -50 mV); Ca_HVA's rates are finite and continuous through v = -27 mV."""
    vv = np.linspace(-110.0, 30.0, 141)
    for rates in (bp.k_pst_rates, bp.k_tst_rates, bp.ca_lvast_rates, lambda v, c=34.0: bp.ca_hva_rates(v)):
        m, _, hh, _ = rates(vv)
        assert np.all(np.diff(m) > 0) and np.all(np.diff(hh) < 0)
    assert np.all(np.diff(bp.im_rates(vv)[0]) > 0)
    below, above = bp.k_pst_rates(np.array([-60.0 - 1e-9, -60.0]))[1]
    assert abs(below - above) / above < 2e-3
    vals = np.array(bp.ca_hva_rates(np.array([-27.001, -27.0, -26.999])))
    assert np.all(np.isfinite(vals))
    np.testing.assert_allclose(vals[:, 1], 0.5 * (vals[:, 0] + vals[:, 2]), rtol=1e-6)


@pytest.mark.parametrize(
    "mech, gate, v_hold, v_step, temperature, t_end",
    [
        ("K_Pst", "m", -80.0, -20.0, CELSIUS, 30.0),
        ("K_Pst", "h", -80.0, -20.0, CELSIUS, 1000.0),
        ("K_Tst", "m", -80.0, -20.0, CELSIUS, 2.0),
        ("K_Tst", "h", -80.0, -20.0, 21.0, 40.0),
        ("Im", "m", -70.0, -20.0, CELSIUS, 100.0),
        ("Ca_HVA", "m", -80.0, -10.0, CELSIUS, 5.0),
        ("Ca_HVA", "h", -80.0, -10.0, CELSIUS, 1000.0),
        ("Ca_LVAst", "m", -90.0, -40.0, CELSIUS, 25.0),
        ("Ca_LVAst", "h", -90.0, -40.0, CELSIUS, 100.0),
    ],
)
def test_gates_relax_with_published_time_constant(h, compartment, mech, gate, v_hold, v_step, temperature, t_end):
    """Voltage-clamp step: the gate follows ``x_inf + (x0 - x_inf) exp(-t/tau)`` at the step level
    (cnexp integrates this linear equation exactly at constant v)."""
    h.celsius = temperature
    seg = compartment(mech)(0.5)
    setattr(getattr(seg, mech), VOLTAGE_GATED[mech][0], 0.0)  # gates only, no current
    clamp = h.SEClamp(seg)
    clamp.rs = 1e-6
    clamp.dur1, clamp.amp1 = 1e9, v_step
    rec = h.Vector().record(getattr(seg, f"_ref_{gate}_{mech}"))
    vrec = h.Vector().record(seg._ref_v)
    t = h.Vector().record(h._ref_t)
    _run(h, t_end, dt=0.025, v_init=v_hold)
    x, t = np.array(rec), np.array(t)
    assert np.max(np.abs(np.array(vrec)[1:] - v_step)) < 1e-4
    rates = VOLTAGE_GATED[mech][1]
    k = 0 if gate == "m" else 2
    x0 = rates(v_hold, temperature)[k]
    x1, tau = rates(v_step, temperature)[k:k + 2]
    assert abs(x1 - x0) > 1e-3  # a visible relaxation
    assert t[-1] > 3 * tau  # mostly relaxed
    np.testing.assert_allclose(x, x1 + (x0 - x1) * np.exp(-t / tau), rtol=1e-6, atol=1e-9 * abs(x1 - x0))
    del clamp


def test_sk_e2_follows_calcium(h, compartment):
    """SK_E2's z_inf against the published Hill curve over 1e-8..1e-2 mM (incl. the 1e-7 mM floor),
    conductance gbar z, and z relaxing with z_tau = 1 ms after a calcium step."""
    sec = compartment("SK_E2")
    seg = sec(0.5)
    seg.SK_E2.gSK_E2bar = 0.0441
    cai = np.logspace(-8, -2, 25)
    got = []
    for c in cai:
        seg.cai = c  # nothing writes cai here: initialisation keeps it
        h.finitialize(-70.0)
        assert seg.cai == pytest.approx(c, rel=1e-15)
        got.append((seg.SK_E2.zInf, seg.SK_E2.z, seg.SK_E2.gSK_E2))
    got = np.array(got)
    ref = bp.sk_e2_zinf(cai)
    np.testing.assert_allclose(got[:, 0], ref, rtol=1e-12)
    np.testing.assert_allclose(got[:, 1], ref, rtol=1e-12)
    np.testing.assert_allclose(got[:, 2], 0.0441 * ref, rtol=1e-12)
    assert bp.sk_e2_zinf(5e-8) == pytest.approx(1 / (1 + (0.00043 / 1.5e-7) ** 4.8), rel=1e-13)
    # step of cai from 0.1 to 1 uM at t = 0: z(t) = z1 + (z0 - z1) exp(-t / 1 ms)
    seg.cai = 1e-4
    z = h.Vector().record(seg.SK_E2._ref_z)
    t = h.Vector().record(h._ref_t)
    h.dt = 0.025
    h.finitialize(-70.0)
    seg.cai = 1e-3
    h.continuerun(5.0)
    z0, z1 = bp.sk_e2_zinf(1e-4), bp.sk_e2_zinf(1e-3)
    np.testing.assert_allclose(np.array(z)[1:], (z1 + (z0 - z1) * np.exp(-np.array(t) / 1.0))[1:], rtol=1e-6)


def test_cadynamics_relaxes_to_min_cai_without_current(h, compartment):
    """Without calcium channels cai relaxes from cai0 to minCai with time constant decay
    (exactly exponential), as the published equation says; there is no INITIAL block."""
    sec = compartment("CaDynamics_E2")
    seg = sec(0.5)
    seg.CaDynamics_E2.decay, seg.CaDynamics_E2.gamma = 122.0, 5.09e-4
    c = h.Vector().record(seg._ref_cai)
    t = h.Vector().record(h._ref_t)
    h.cai0_ca_ion = calcium.CAI0
    _run(h, 500.0, dt=0.025, v_init=-70.0)
    expected = calcium.cadynamics_relaxation(np.array(t), calcium.CAI0, 0.0, 5.09e-4, 122.0)
    np.testing.assert_allclose(np.array(c), expected, rtol=1e-9)
    assert c[0] == pytest.approx(calcium.CAI0)  # the ion's initial concentration


@pytest.mark.parametrize("v_clamp", [-75.0, -40.0, -20.0])
def test_cadynamics_steady_state_under_clamp(h, compartment, v_clamp):
    """Clamped with both calcium channels, cai settles at the root of the published shell equation
    with the channels' steady-state current and Nernst's eca (lfpk.model.biophysics.calcium), and obeys
    cai = minCai - decay 1e4 gamma ica / (2 F depth) with NEURON's own ica."""
    sec = compartment("Ca_HVA", "Ca_LVAst", "CaDynamics_E2")
    seg = sec(0.5)
    g = {"Ca_HVA": 5e-3, "Ca_LVAst": 0.0187}
    seg.Ca_HVA.gCa_HVAbar, seg.Ca_LVAst.gCa_LVAstbar = g["Ca_HVA"], g["Ca_LVAst"]
    gamma, decay = 5.01e-4, 60.0
    seg.CaDynamics_E2.gamma, seg.CaDynamics_E2.decay = gamma, decay
    clamp = h.SEClamp(seg)
    clamp.rs = 1e-6
    clamp.dur1, clamp.amp1 = 1e9, v_clamp
    _run(h, 4000.0, dt=0.1, v_init=v_clamp)
    expected = calcium.resting_calcium(v_clamp, g, gamma, decay, celsius=CELSIUS)
    assert seg.cai == pytest.approx(float(expected), rel=1e-6)
    assert seg.eca == pytest.approx(float(calcium.nernst(seg.cai, calcium.CAO0, 2, CELSIUS)), rel=1e-9)
    assert seg.cai == pytest.approx(float(calcium.cadynamics_steady_state(seg.ica, gamma, decay)), rel=1e-9)
    if v_clamp > -50:
        assert seg.cai > 2e-4  # the influx term matters here, not only the floor
    del clamp


def _hay_compartment(h, make):
    """One compartment with every channel of Hay et al.'s soma (L5PCbiophys3 densities) plus the
    apical Im, the hot-zone Ca_LVAst density and the calcium shell."""
    sec = make("pas", "Ca_LVAst", "Ca_HVA", "SKv3_1", "SK_E2", "K_Tst", "K_Pst", "Nap_Et2", "NaTa_t",
               "CaDynamics_E2", "Ih", "Im")
    dens = {"Ca_LVAst": 0.0187, "Ca_HVA": 0.000992, "SKv3_1": 0.693, "SK_E2": 0.0441, "K_Tst": 0.0812,
            "K_Pst": 0.00223, "Nap_Et2": 0.00172, "NaTa_t": 2.04, "Ih": 0.0002, "Im": 6.75e-5}
    for mech, g in dens.items():
        setattr(getattr(sec(0.5), mech), bp.CHANNELS[mech].gbar, g)
    sec.g_pas, sec.e_pas = 3.38e-5, -90.0
    sec.ena, sec.ek = 50.0, -85.0
    sec(0.5).CaDynamics_E2.gamma, sec(0.5).CaDynamics_E2.decay = 5.01e-4, 460.0
    return sec, dens


@pytest.mark.parametrize("V_rest", [-80.0, -70.0, -60.0])
def test_generic_frozen_conductance_with_calcium_at_rest(h, compartment, V_rest):
    """The generic frozen conductance of a compartment with every Hay channel equals g_pas plus
    each channel's gbar m_inf^p h_inf^q at V_rest, with SK_E2 at the shell's resting calcium (the
    root of the published shell equation), not at the initial 5e-5 mM."""
    from lfpk.base.mechanisms import PACKAGE_MOD_DIR
    from lfpk.model.biophysics import linear
    from lfpk.model.biophysics.nmodl import scan
    from lfpk.model.morphology.cell import CellSections

    sec, dens = _hay_compartment(h, compartment)
    cell = CellSections({"soma": sec}, 0)
    info = scan([PACKAGE_MOD_DIR])
    V = np.array([V_rest])
    sec(0.5).v = V_rest
    h.finitialize()
    assert sec(0.5).cai == pytest.approx(calcium.CAI0)  # the start: the ion's initial calcium
    g_initial = linear._frozen_slope(h, cell, V, info)
    g = linear._relax_at(h, cell, V, info, "test")
    assert sec.cm == 1.0 and sec(0.5).v == V_rest  # capacitance restored, potential held
    cai = calcium.resting_calcium(V_rest, {k: dens[k] for k in calcium.CALCIUM_CHANNELS}, 5.01e-4, 460.0)
    assert sec(0.5).cai == pytest.approx(float(cai), rel=1e-8)
    hand = 3.38e-5 + sum(bp.frozen_conductance(m, g_bar, V_rest, cai=cai) for m, g_bar in dens.items())
    np.testing.assert_allclose(g, hand, rtol=1e-8)
    # the SK conductance at the initial calcium would be wrong by much more than that
    sk_rest = bp.frozen_conductance("SK_E2", dens["SK_E2"], V_rest, cai=cai)
    sk_init = bp.frozen_conductance("SK_E2", dens["SK_E2"], V_rest, cai=calcium.CAI0)
    assert abs(g_initial[0] - g[0]) == pytest.approx(float(sk_rest - sk_init), rel=1e-4)
    assert sk_rest > 10 * sk_init


def test_quasi_skv3_1_coefficients_and_linear_response(h, compartment):
    """QuasiSKv3_1 (the optional quasi-linear Kv3.1) against the published kinetics: steady state,
    time constant and dm_inf/dV at V_r; no current at V_r; under a small clamp step its current
    equals the linearisation of SKv3_1's, and the active channel's to second order."""
    sec = compartment("QuasiSKv3_1")
    q = sec(0.5).QuasiSKv3_1
    vr = np.array([-90.0, -75.0, -65.0, -50.0, -30.0, 0.0, 18.7, 30.0])
    got = []
    for v in vr:
        q.V_r = v
        h.finitialize(v)
        got.append((q.mInf, q.mTau, q.dmInf))
        assert q.i == 0.0
    got = np.array(got)
    m, mt = bp.skv3_1_rates(vr)
    np.testing.assert_allclose(got[:, 0], m, rtol=1e-12)
    np.testing.assert_allclose(got[:, 1], mt, rtol=1e-12)
    np.testing.assert_allclose(got[:, 2], bp.skv3_1_dminf_dv(vr), rtol=1e-12)
    d = 1e-4
    np.testing.assert_allclose(bp.skv3_1_dminf_dv(vr), (bp.skv3_1_rates(vr + d)[0] - bp.skv3_1_rates(vr - d)[0]) / (2 * d),
                               rtol=1e-6)
    # clamp from V_r = -60 mV to -59.8 mV: i(t) = g (m_inf dV + (V_r - ek) dm_inf dV (1 - exp(-t/tau)))
    act = compartment("SKv3_1")
    for seg in (sec(0.5), act(0.5)):
        seg.ek = -85.0
    q.gSKv3_1bar = act(0.5).SKv3_1.gSKv3_1bar = 0.5
    q.V_r, dv = -60.0, 0.2
    clamps = []
    for s in (sec, act):
        c = h.SEClamp(s(0.5))
        c.rs, c.dur1, c.amp1 = 1e-6, 1e9, -60.0 + dv
        clamps.append(c)
    iq = h.Vector().record(q._ref_i)
    ia = h.Vector().record(act(0.5)._ref_ik)
    t = h.Vector().record(h._ref_t)
    h.dt = 0.005
    h.finitialize(-60.0)
    h.continuerun(10.0)
    t, iq, ia = np.array(t)[2:], np.array(iq)[2:], np.array(ia)[2:]
    m0, tau = bp.skv3_1_rates(-60.0)
    dm = bp.skv3_1_dminf_dv(-60.0)
    # the current recorded at t is evaluated from the states of the previous step (t - dt)
    expected = 0.5 * (m0 * dv + (-60.0 + 85.0) * dm * dv * (1 - np.exp(-(t - h.dt) / tau)))
    np.testing.assert_allclose(iq, expected, rtol=2e-3)  # the clamp settles within one step
    i0 = 0.5 * m0 * (-60.0 + 85.0)  # the active channel's static current at V_r
    np.testing.assert_allclose(ia - i0, iq, rtol=0.02)  # second-order terms of a 0.2 mV step
    del clamps
