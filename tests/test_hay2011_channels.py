"""Kinetics of the channels of Hay et al. (2011) added for Model B (K_Pst, K_Tst, Im, Ca_HVA,
Ca_LVAst, SK_E2, CaDynamics_E2, and Nap_Et2): the NMODL files (lfpk/mod) against the published
equations as written in Python (lfpk.model.biophysics.kinetics, lfpk.model.biophysics.calcium),
hand-evaluated published values, voltage-clamp relaxations with the published time constants, the
calcium shell's relaxation and steady state, and the generic frozen conductance of a compartment
with every Hay channel against the hand-written one with the calcium at rest. The voltage-gated
channels' rate tables (issue 25) against the formulas (``usetable_<suffix> = 0``): the tabulated
rates, the per-step factors, and the currents under a voltage sweep and an AP train.
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
    "Nap_Et2": ("gNap_Et2bar", bp.nap_et2_rates),
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


#: Hay channels whose rates NEURON interpolates from tables (``TABLE`` in the NMODL files, issue 25).
TABULATED = ("Nap_Et2", "K_Pst", "K_Tst", "Ca_HVA", "Ca_LVAst", "Im")


@pytest.fixture()
def exact_rates(h):
    """The NMODL rate formulas themselves (tables off), for comparison with the equations."""
    for name in TABULATED:
        setattr(h, f"usetable_{name}", 0)
    yield
    for name in TABULATED:
        setattr(h, f"usetable_{name}", 1)


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
def test_steady_states_and_time_constants(h, compartment, exact_rates, mech, temperature):
    """mInf, mTau (hInf, hTau) of the NMODL file's formulas (tables off) at every grid voltage equal
    the published equations to 1e-9; INITIAL puts the gates at their steady state."""
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
    # lfpk's sodium and potassium channels carry their reversal potentials (no na or k ion)
    for mech in ("NaTa_t", "Nap_Et2"):
        getattr(sec(0.5), mech).ena = 50.0
    for mech in ("SKv3_1", "SK_E2", "K_Tst", "K_Pst", "Im"):
        getattr(sec(0.5), mech).ek = -85.0
    assert not sec.has_membrane("na_ion") and not sec.has_membrane("k_ion")
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
    q.ek = act(0.5).SKv3_1.ek = -85.0
    q.gSKv3_1bar = act(0.5).SKv3_1.gSKv3_1bar = 0.5
    q.V_r, dv = -60.0, 0.2
    clamps = []
    for s in (sec, act):
        c = h.SEClamp(s(0.5))
        c.rs, c.dur1, c.amp1 = 1e-6, 1e9, -60.0 + dv
        clamps.append(c)
    iq = h.Vector().record(q._ref_i)
    ia = h.Vector().record(act(0.5).SKv3_1._ref_ik)
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


# --------------------------------------------------------------------------------------------
# Rate tables and cached step factors (issue 25)
# --------------------------------------------------------------------------------------------

#: The tabulated values of each mechanism (NMODL names; xStep = 1 - exp(-dt / xTau)).
TABLE_NAMES = {m: ("mInf", "mTau", "mStep") + (() if m == "Im" else ("hInf", "hTau", "hStep")) for m in TABULATED}

#: Every current of the Hay channels (mechanism -> ion current), for the current comparisons.
CURRENTS = {"Nap_Et2": "ina", "K_Pst": "ik", "K_Tst": "ik", "Im": "ik", "SK_E2": "ik", "Ca_HVA": "ica",
            "Ca_LVAst": "ica"}


def _set_tables(h, on):
    for name in TABULATED:
        setattr(h, f"usetable_{name}", int(on))


def _tabulated_values(h, seg, grid):
    out = []
    for v in grid:
        h.finitialize(v)
        out.append([getattr(getattr(seg, m), k) for m, ks in TABLE_NAMES.items() for k in ks])
    return np.array(out)


@pytest.mark.parametrize("temperature, dt", [(21.0, 0.025), (CELSIUS, 0.025), (CELSIUS, 0.1)])
def test_rate_tables_match_the_formulas(h, compartment, temperature, dt):
    """NEURON's rate tables (0.01 mV steps from -150 to 100 mV, linear interpolation; used in every
    simulation) agree with the formulas between table points over -120..60 mV: the interpolation
    error is at most h^2 max|f''| / 8 with h = 0.01 mV. Relative to the value it is largest where a
    rate grows exponentially, f ~ exp(v/k): h^2 / (8 k^2), 1.3e-6 for the steepest, Ca_HVA's m_inf
    below -60 mV (exp(v (1/3.8 + 1/17)), k = 3.1 mV), about 1e-7 elsewhere; asserted below 2e-6.
    The step factors 1 - exp(-dt/tau) follow dt and celsius (the tables are rebuilt when either
    changes)."""
    h.celsius, h.dt = temperature, dt
    seg = compartment(*TABULATED)(0.5)
    grid = np.linspace(-120.0, 60.0, 181) + 0.0437  # between table points, none within 0.01 mV of -60
    try:
        tab = _tabulated_values(h, seg, grid)
        _set_tables(h, False)
        exact = _tabulated_values(h, seg, grid)
    finally:
        _set_tables(h, True)
        h.dt = 0.025
    assert not np.array_equal(tab, exact)  # the tables are in use
    np.testing.assert_allclose(tab, exact, rtol=2e-6, atol=1e-12)
    steps = [k for k, (m, ks) in enumerate((m, k) for m, ks in TABLE_NAMES.items() for k in ks) if m.endswith("Step")]
    taus = [k - 1 for k in steps]
    np.testing.assert_allclose(exact[:, steps], -np.expm1(-dt / exact[:, taus]), rtol=1e-12)


def test_k_pst_table_across_the_switch_of_m_tau(h, compartment):
    """K_Pst's m_tau switches branch at v = -60 mV (u = -50 mV), where the two published branches
    differ by 7.8e-6 of the value: in the table interval holding the switch, linear interpolation
    blends them, so m_tau there is within 1e-5 of the formula (elsewhere 1e-6)."""
    below, above = bp.k_pst_rates(np.array([-60.0 - 1e-12, -60.0]))[1]
    assert abs(below - above) / above == pytest.approx(7.8e-6, rel=0.01)
    seg = compartment("K_Pst")(0.5)
    grid = np.array([-60.012, -60.007, -60.003, -60.0001, -59.9999, -59.997, -59.993, -59.988])
    got = []
    for v in grid:
        h.finitialize(v)
        got.append(seg.K_Pst.mTau)
    np.testing.assert_allclose(got, bp.k_pst_rates(grid, CELSIUS)[1], rtol=1e-5)


@pytest.mark.parametrize("dt", [0.025, 0.1])
def test_tabulated_gates_relax_exponentially_at_fixed_v(h, compartment, dt):
    """At a fixed potential every tabulated gate x obeys x' = (x_inf - x) / tau, whose exact solution
    over n steps is x_inf + (x_0 - x_inf) exp(-n dt / tau): the per-step update
    x += (1 - exp(-dt/tau)) (x_inf - x) with the factor from NEURON's table reproduces it at every
    step against the published rates. A huge capacitance (1e9 uF/cm2) holds v within 1e-9 mV; the
    table's interpolation error (about 1e-7 relative) bounds the tolerance."""
    sec = compartment(*TABULATED)
    sec.cm = 1e9
    seg = sec(0.5)
    for m in TABULATED:  # gates only, no current
        setattr(getattr(seg, m), VOLTAGE_GATED[m][0], 0.0)
    gates = [(m, g) for m in TABULATED for g in ("m", "h") if g == "m" or m != "Im"]
    v0, v1, nstep = -70.0, -35.0, 60
    h.dt = dt
    try:
        h.finitialize(v0)
        x0 = np.array([getattr(getattr(seg, m), g) for m, g in gates])
        seg.v = v1
        got = []
        for _ in range(nstep):
            h.fadvance()
            got.append([getattr(getattr(seg, m), g) for m, g in gates])
    finally:
        h.dt = 0.025
    assert abs(seg.v - v1) < 1e-9
    inf, tau = [], []
    for m, g in gates:
        k = 0 if g == "m" else 2
        r = VOLTAGE_GATED[m][1](v1, CELSIUS)
        inf.append(r[k])
        tau.append(r[k + 1])
    n = np.arange(1, nstep + 1)[:, None]
    exact = np.array(inf) + (x0 - np.array(inf)) * np.exp(-n * dt / np.array(tau))
    np.testing.assert_allclose(np.array(got), exact, rtol=2e-6)


def _clamped_currents(h, sec, t_cmd, v_cmd, dt=0.025):
    """Currents (mA/cm2, {mechanism: trace}) and cai of ``sec`` clamped to the piecewise linear
    command ``v_cmd`` (mV) at ``t_cmd`` (ms)."""
    seg = sec(0.5)
    clamp = h.SEClamp(seg)
    clamp.rs, clamp.dur1 = 1e-6, 1e9
    tv, vv = h.Vector(t_cmd), h.Vector(v_cmd)
    vv.play(clamp._ref_amp1, tv, 1)
    recs = {m: h.Vector().record(getattr(getattr(seg, m), f"_ref_{i}")) for m, i in CURRENTS.items()}
    cai = h.Vector().record(seg._ref_cai)
    h.dt = dt
    h.finitialize(float(v_cmd[0]))
    while h.t < t_cmd[-1] - 0.5 * dt:
        h.fadvance()
    out = {m: np.array(r) for m, r in recs.items()}
    out["cai"] = np.array(cai)
    vv.play_remove()
    del clamp
    return out


def _ap_train(n=10, interval=20.0, start=10.0, dt=0.025):
    """A somatic AP train as a voltage command: rest -75 mV, spikes to +35 mV (0.5 ms rise,
    1.5 ms fall) followed by a 10 mV afterhyperpolarisation decaying with 5 ms (mV, ms)."""
    t = np.arange(0.0, start + n * interval + 20.0, dt)
    v = np.full_like(t, -75.0)
    for k in range(n):
        s = t - (start + k * interval)
        rise = (s >= 0) & (s < 0.5)
        fall = (s >= 0.5) & (s < 2.0)
        after = s >= 2.0
        v[rise] = -75.0 + 110.0 * s[rise] / 0.5
        v[fall] = 35.0 - 120.0 * (s[fall] - 0.5) / 1.5
        v[after] += -10.0 * np.exp(-(s[after] - 2.0) / 5.0) * (s[after] < interval - 2.0)
    return t, v


@pytest.mark.parametrize("protocol", ["sweep", "ap_train"])
def test_currents_with_tables_match_the_formulas(h, compartment, protocol):
    """Every Hay channel's current in a compartment with all of them and the calcium shell (the
    soma's densities), clamped to a slow voltage sweep (-100 to +40 mV over 700 ms) or to an AP
    train (10 APs at 50 Hz), with the rate tables vs the formulas (usetable = 0): the largest
    difference is within 1e-5 of the current's peak, and so is cai's. Bound: each tabulated value
    is within 2e-6 of the formula (test_rate_tables_match_the_formulas), and a current
    g m^p h^q (v - e) multiplies a gate's relative error by at most p + q <= 5. Measured: at most
    3.5e-7 (Ca_LVAst, sweep), 1e-7 under the AP train (docs/hay2011.md)."""
    sec, _ = _hay_compartment(h, compartment)
    if protocol == "sweep":
        t_cmd = np.array([0.0, 50.0, 750.0, 800.0])
        v_cmd = np.array([-100.0, -100.0, 40.0, 40.0])
    else:
        t_cmd, v_cmd = _ap_train()
    tab = _clamped_currents(h, sec, t_cmd, v_cmd)
    _set_tables(h, False)
    try:
        exact = _clamped_currents(h, sec, t_cmd, v_cmd)
    finally:
        _set_tables(h, True)
    assert any(not np.array_equal(tab[m], exact[m]) for m in TABULATED)  # the tables are in use
    errors = {}
    for m in [*CURRENTS, "cai"]:
        peak = np.max(np.abs(exact[m]))
        assert peak > 0
        errors[m] = np.max(np.abs(tab[m] - exact[m])) / peak
    assert max(errors.values()) < 1e-5, errors


def test_conductance_hints_are_the_current_slopes(h, compartment):
    """NEURON takes di/dv of every Hay channel from its CONDUCTANCE hint (one current evaluation
    per step instead of two): the hinted conductance must be the slope of NEURON's current at
    fixed gates and reversal potentials, (i(v + dv) - i(v)) / dv."""
    sec, _ = _hay_compartment(h, compartment)
    seg = sec(0.5)
    h.finitialize(-50.0)
    for _ in range(4):
        h.fadvance()
    currents = []
    for v in (-50.0, -49.0):  # fcurrent evaluates the currents at the present gates
        seg.v = v
        h.fcurrent()
        currents.append([getattr(getattr(seg, m), i) for m, i in CURRENTS.items()])
    slopes = np.diff(np.array(currents), axis=0)[0] / 1.0  # mA/cm2 per mV = S/cm2
    hints = np.array([getattr(getattr(seg, m), f"g{m}") for m in CURRENTS])
    assert np.all(hints > 0)
    np.testing.assert_allclose(slopes, hints, rtol=1e-9)


def test_cached_step_factors_follow_dt_decay_and_z_tau(h, compartment):
    """CaDynamics_E2 and SK_E2 keep their step factors 1 - exp(-dt/decay), 1 - exp(-dt/zTau) per
    segment and compute them again when dt, decay or zTau change: after changing all three in the
    middle of a run, cai relaxes to minCai with the new decay and z to its z_inf with the new zTau,
    exactly exponentially at every step of the new dt (z towards z_inf of each step's new calcium:
    NEURON updates the shell before the gate)."""
    sec = compartment("CaDynamics_E2", "SK_E2")
    seg = sec(0.5)
    cad = seg.CaDynamics_E2
    cad.decay, cad.gamma = 122.0, 5.09e-4
    h.cai0_ca_ion = 1e-3
    z_tau0 = h.zTau_SK_E2
    h.dt = 0.025
    try:
        h.finitialize(-70.0)
        for _ in range(400):  # 10 ms
            h.fadvance()
        cai1, z1 = seg.cai, seg.SK_E2.z
        assert cai1 == pytest.approx(1e-4 + 9e-4 * np.exp(-10.0 / 122.0), rel=1e-9)
        cad.decay, h.dt, h.zTau_SK_E2 = 30.0, 0.1, 3.0
        cai, z = [], []
        for _ in range(100):  # 10 ms more
            h.fadvance()  # the shell's step comes first; the gate relaxes towards z_inf of the new cai
            cai.append(seg.cai)
            z.append((seg.SK_E2.z, bp.sk_e2_zinf(seg.cai)))
    finally:
        h.dt, h.zTau_SK_E2, h.cai0_ca_ion = 0.025, z_tau0, calcium.CAI0
    n = np.arange(1, 101)
    np.testing.assert_allclose(cai, 1e-4 + (cai1 - 1e-4) * np.exp(-n * 0.1 / 30.0), rtol=1e-9)
    z, z_inf = np.array(z).T
    z_prev = np.r_[z1, z[:-1]]
    np.testing.assert_allclose(z, z_inf + (z_prev - z_inf) * np.exp(-0.1 / 3.0), rtol=1e-12)
