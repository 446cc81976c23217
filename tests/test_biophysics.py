"""Physics checks of the channel mechanisms (lfpk/mod/*.mod) and the membrane forms.

The NMODL kinetics are compared against the published equations as written in Python in
:mod:`lfpk.model.biophysics.kinetics`; the linearised forms (passive, generic frozen, quasi_linear) are
checked against the hand-written frozen conductances, for their resting potential and, for
quasi_linear (Ih, Nap_Et2), against the small-signal response of the active cell.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from lfpk.model import biophysics as bp

REPO = Path(__file__).resolve().parents[1]
CELSIUS = 34.0


@pytest.fixture(scope="session")
def h():
    from lfpk.base import mechanisms

    mechanisms.ensure_loaded()
    from neuron import h

    h.load_file("stdrun.hoc")
    h.celsius = CELSIUS
    return h


@pytest.fixture(scope="session")
def cfg():
    from lfpk.api.config import load_config

    return load_config(REPO / "config" / "config.yaml")


@pytest.fixture(scope="session")
def model(cfg):
    from lfpk.model import from_config

    return from_config(cfg)


def _model_with(cfg, densities):
    """The laptop model with the given channel densities (S/cm2) in every group ({mech: value})."""
    from lfpk.model import from_config

    c = copy.deepcopy(cfg)
    for group in c["biophysics"]["groups"].values():
        for mech, param in (("NaTa_t", "gNaTa_tbar"), ("SKv3_1", "gSKv3_1bar"), ("Ih", "gIhbar"),
                            ("Nap_Et2", "gNap_Et2bar")):
            if mech in densities:
                group.setdefault("mechanisms", {}).setdefault(mech, {})[param] = densities[mech]
    return from_config(c)


def _cell(model, pop, prefix):
    p = model.populations[pop]
    return p, p.morphology.build(prefix=prefix)


def _apply(form, p, cell, V_rest=None, **kw):
    """Give a built cell of population ``p`` the membrane form ``form`` (measuring if needed)."""
    linear = None
    if form in ("frozen", "quasi_linear"):
        from lfpk.model import mod_dirs

        linear = bp.measure(p.morphology, p.cell_biophysics, V_rest, form, CELSIUS, mod_dirs({}))
    return bp.apply(form, cell, p.cell_biophysics, V_rest=V_rest, linear=linear, **kw)


@pytest.fixture()
def celsius34(h):
    h.celsius = CELSIUS
    yield
    h.celsius = CELSIUS


#: Channels whose rates NEURON interpolates from tables (``TABLE`` in the NMODL files).
TABULATED = ("NaTa_t", "SKv3_1", "Ih")


@pytest.fixture()
def exact_rates(h):
    """The NMODL rate formulas themselves (tables off), for comparison with the equations."""
    for name in TABULATED:
        setattr(h, f"usetable_{name}", 0)
    yield
    for name in TABULATED:
        setattr(h, f"usetable_{name}", 1)


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


# Voltages including the removable singularities of the rate expressions
# (NaTa_t m: -38 mV, NaTa_t h: -66 mV, Ih: -154.9 mV).
V_GRID = np.array([-160.0, -154.9, -130.0, -100.0, -90.0, -80.0, -70.0, -66.0, -65.0, -50.0,
                   -40.0, -38.0, -30.0, -10.0, 0.0, 20.0, 40.0])


# --------------------------------------------------------------------------------------------
# Kinetics: NMODL vs the published equations (Python)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("temperature", [21.0, CELSIUS])
def test_nmodl_steady_states_and_time_constants(h, celsius34, exact_rates, temperature):
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


@pytest.mark.parametrize("temperature", [21.0, CELSIUS])
def test_rate_tables_match_the_formulas(h, celsius34, temperature):
    """NEURON's rate tables (0.01 mV steps, linear interpolation; used in every simulation) agree
    with the formulas over the range a neuron visits: interpolation error <= h^2 max|f''| / 8,
    about 1e-7 of the value for slope factors >= 6 mV, asserted below 1e-6."""
    h.celsius = temperature
    sec = _compartment(h, TABULATED)
    seg = sec(0.5)
    grid = np.linspace(-120.0, 60.0, 181) + 0.00437  # between table points
    names = {"NaTa_t": ("mInf", "mTau", "hInf", "hTau", "mStep", "hStep"), "SKv3_1": ("mInf", "mTau", "mStep"),
             "Ih": ("mInf", "mTau", "mStep")}
    h.dt = 0.025

    def values():
        out = []
        for v in grid:
            h.finitialize(v)
            out.append([getattr(getattr(seg, m), k) for m, ks in names.items() for k in ks])
        return np.array(out)

    tab = values()
    for name in TABULATED:
        setattr(h, f"usetable_{name}", 0)
    try:
        exact = values()
    finally:
        for name in TABULATED:
            setattr(h, f"usetable_{name}", 1)
    assert not np.array_equal(tab, exact)  # the tables are in use
    np.testing.assert_allclose(tab, exact, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("dt", [0.025, 0.1])
def test_gates_relax_exponentially_at_fixed_v(h, celsius34, dt):
    """At a fixed potential every gate x of NaTa_t, SKv3_1 and Ih obeys x' = (x_inf - x) / tau,
    whose exact solution over n steps is x_inf + (x_0 - x_inf) exp(-n dt / tau): the per-step
    update x += (1 - exp(-dt/tau)) (x_inf - x) with the factor from NEURON's table (DEPEND dt, so
    rebuilt when dt changes) reproduces it at every step, against the published rates
    (lfpk.model.biophysics.kinetics). A huge capacitance (1e9 uF/cm2) holds v within 1e-9 mV of its
    value; the table's interpolation error (about 1e-7 relative) bounds the tolerance."""
    sec = _compartment(h, TABULATED)
    sec.cm = 1e9
    seg = sec(0.5)
    v0, v1, nstep = -70.0, -35.0, 60
    h.dt = dt
    try:
        h.finitialize(v0)
        x0 = np.array([seg.NaTa_t.m, seg.NaTa_t.h, seg.SKv3_1.m, seg.Ih.m])
        seg.v = v1
        got = []
        for _ in range(nstep):
            h.fadvance()
            got.append((seg.NaTa_t.m, seg.NaTa_t.h, seg.SKv3_1.m, seg.Ih.m))
    finally:
        h.dt = 0.025
    assert abs(seg.v - v1) < 1e-9
    m, mt, hh, ht = bp.nata_t_rates(np.array([v1]), CELSIUS)
    km, kmt = bp.skv3_1_rates(np.array([v1]))
    im, imt = bp.ih_rates(np.array([v1]))
    inf = np.array([m[0], hh[0], km[0], im[0]])
    tau = np.array([mt[0], ht[0], kmt[0], imt[0]])
    n = np.arange(1, nstep + 1)[:, None]
    exact = inf + (x0 - inf) * np.exp(-n * dt / tau)
    np.testing.assert_allclose(np.array(got), exact, rtol=2e-6)


def test_conductance_hints_are_the_current_slopes(h, celsius34):
    """NEURON takes di/dv of NaTa_t, SKv3_1 and Ih (and Exp2SynSum, g = B - A) from their
    CONDUCTANCE hints (one current evaluation per step instead of two): the hinted variable must
    be the slope of NEURON's current at fixed gates, (i(v + dv) - i(v)) / dv."""
    sec = _compartment(h, TABULATED)
    seg = sec(0.5)
    h.finitialize(-60.0)
    h.fadvance()
    currents = []
    for v in (-60.0, -59.0):  # fcurrent evaluates the currents at the present gates
        seg.v = v
        h.fcurrent()
        currents.append((seg.NaTa_t.ina, seg.SKv3_1.ik, seg.Ih.ihcn))
    slopes = np.diff(np.array(currents), axis=0)[0] / 1.0  # mA/cm2 per mV = S/cm2
    hints = np.array([seg.NaTa_t.gNaTa_t, seg.SKv3_1.gSKv3_1, seg.Ih.gIh])
    assert np.all(hints > 0)
    np.testing.assert_allclose(slopes, hints, rtol=1e-9)


@pytest.mark.parametrize("v0", [-38.0, -66.0, -154.9])
def test_singularities_are_continuous(h, celsius34, exact_rates, v0):
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


@pytest.fixture()
def nap_et2_formulas(h):
    """Nap_Et2's rate formulas themselves (its table off, issue 25), for comparison with the equations."""
    h.usetable_Nap_Et2 = 0
    yield
    h.usetable_Nap_Et2 = 1


def test_nap_et2_kinetics_and_quasi_coefficients(h, celsius34, nap_et2_formulas):
    """Nap_Et2.mod and QuasiNap_Et2.mod against the published equations (Hay et al. 2011)."""
    sec = _compartment(h, ("Nap_Et2", "QuasiNap_Et2"))
    seg = sec(0.5)
    vr = np.array([-100.0, -80.0, -70.0, -64.4, -60.0, -52.6, -38.0, -17.0, 0.0, 20.0])
    got = []
    for v in vr:
        seg.QuasiNap_Et2.V_r = v
        h.finitialize(v)
        n, q = seg.Nap_Et2, seg.QuasiNap_Et2
        got.append((n.mInf, n.mTau, n.hInf, n.hTau, q.mInf, q.mTau, q.hInf, q.hTau, q.dmInf, q.dhInf, n.m, n.h))
        assert q.i == 0.0  # no current at V_r
    got = np.array(got)
    assert np.all(np.isfinite(got))
    m, mt, hh, ht = bp.nap_et2_rates(vr, CELSIUS)
    for k, ref in enumerate((m, mt, hh, ht)):
        np.testing.assert_allclose(got[:, k], ref, rtol=1e-9)
        np.testing.assert_allclose(got[:, k + 4], ref, rtol=1e-9)
    dm, dh = bp.nap_et2_dinf_dv(vr)
    np.testing.assert_allclose(got[:, 8], dm, rtol=1e-9)
    np.testing.assert_allclose(got[:, 9], dh, rtol=1e-9)
    np.testing.assert_allclose(got[:, 10], m, rtol=1e-12)  # gates start at steady state
    np.testing.assert_allclose(got[:, 11], hh, rtol=1e-12)
    # published forms at a point away from the singularities, evaluated by hand
    v = -50.0
    qt = 2.3 ** ((34 - 21) / 10)
    ma = 0.182 * (v + 38) / (1 - np.exp(-(v + 38) / 6))
    mb = 0.124 * (-v - 38) / (1 - np.exp(-(-v - 38) / 6))
    ha = -2.88e-6 * (v + 17) / (1 - np.exp((v + 17) / 4.63))
    hb = 6.94e-6 * (v + 64.4) / (1 - np.exp(-(v + 64.4) / 2.63))
    m1, mt1, h1, ht1 = bp.nap_et2_rates(v, 34.0)
    assert m1 == pytest.approx(1 / (1 + np.exp((v + 52.6) / -4.6)), rel=1e-12)
    assert mt1 == pytest.approx(6 / (ma + mb) / qt, rel=1e-12)
    assert h1 == pytest.approx(1 / (1 + np.exp((v + 48.8) / 10)), rel=1e-12)
    assert ht1 == pytest.approx(1 / (ha + hb) / qt, rel=1e-12)
    # the analytic derivatives are those of the steady states
    d = 1e-4
    num_m = (bp.nap_et2_rates(vr + d)[0] - bp.nap_et2_rates(vr - d)[0]) / (2 * d)
    num_h = (bp.nap_et2_rates(vr + d)[2] - bp.nap_et2_rates(vr - d)[2]) / (2 * d)
    np.testing.assert_allclose(dm, num_m, rtol=1e-6, atol=1e-9 * np.abs(dm).max())  # cancellation near 0
    np.testing.assert_allclose(dh, num_h, rtol=1e-6, atol=1e-9 * np.abs(dh).max())


# --------------------------------------------------------------------------------------------
# Membrane forms: generic frozen, passive, quasi_linear
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("V_rest", [-70.0, -55.0])
def test_generic_frozen_equals_hand_written(h, celsius34, model, V_rest):
    """Generic frozen (measured from NEURON's currents) == gbar m_inf^p h_inf^q + g_pas (Python)."""
    for pop in ("E", "I"):
        p, cell = _cell(model, pop, f"{pop}_frozen_check")
        info = _apply("frozen", p, cell, V_rest=V_rest)
        bio = p.cell_biophysics
        hand = bio.parameters[("pas", "g")].copy()
        for ch, param in (("NaTa_t", "gNaTa_tbar"), ("SKv3_1", "gSKv3_1bar"), ("Ih", "gIhbar")):
            hand += bp.frozen_conductance(ch, bio.parameters[(ch, param)], V_rest)
        np.testing.assert_allclose(info["g_leak"], hand, rtol=1e-9, atol=0)
        np.testing.assert_allclose([s.pas.g for s in cell.segments], hand, rtol=1e-9)
        np.testing.assert_array_equal([s.pas.e for s in cell.segments], V_rest)
        for s in cell.segments:  # only the leak is left
            assert not s.sec.has_membrane("NaTa_t") and not s.sec.has_membrane("Ih")


def test_generic_frozen_kernels_equal_hand_written_kernels(config, mechanisms):
    """Kernels of the generic frozen cell equal those of the hand-written frozen conductances."""
    from lfpk.api.config import validate_config
    from lfpk.engines.kernel import KernelEngine

    cfg = validate_config(config)
    rates = cfg["kernel"]["rates"]
    V = -66.0
    generic = KernelEngine.from_config(cfg, biophysics="frozen")
    hand = KernelEngine.from_config(cfg, biophysics="frozen")
    worst = 0.0
    for post, pre in (("E", "E"), ("E", "I"), ("I", "E"), ("I", "I")):
        cell = hand.cell(post)
        bio = cell.population.cell_biophysics
        g = bio.parameters[("pas", "g")].copy()
        for ch, param in (("NaTa_t", "gNaTa_tbar"), ("SKv3_1", "gSKv3_1bar"), ("Ih", "gIhbar")):
            g += bp.frozen_conductance(ch, bio.parameters[(ch, param)], V)
        Vs = np.full(cell.n_segments, V)
        cell._linear[Vs.tobytes()] = bp.LinearParameters("frozen", Vs, g, {}, {})
        a = generic.kernel(post, pre, V, rates=rates)
        b = hand.kernel(post, pre, V, rates=rates)
        for sig in ("lfp", "csd", "cdm"):
            worst = max(worst, np.abs(a[sig] - b[sig]).max() / np.abs(b[sig]).max())
    assert worst < 1e-6, f"generic vs hand-written frozen kernels differ by {worst:.3g} of the peak"


@pytest.mark.parametrize("pop", ["E", "I"])
@pytest.mark.parametrize("name", ["passive", "frozen", "quasi_linear"])
@pytest.mark.parametrize("with_extra_leak", [False, True])
def test_linearised_cells_rest_at_V_rest(h, celsius34, cfg, model, pop, name, with_extra_leak):
    V_rest = -68.0
    p, cell = _cell(model, pop, f"{pop}_{name}")
    n = len(cell.segments)
    extra = np.linspace(1e-5, 1e-4, n) if with_extra_leak else None
    _apply(name, p, cell, V_rest=V_rest, passive_g_pas=cfg["kernel"]["passive_g_pas"], extra_leak=extra)
    recs = [h.Vector().record(s._ref_v) for s in cell.segments]
    _run(h, 200.0, dt=0.0625, v_init=V_rest)
    v = np.array([np.array(r) for r in recs])
    assert np.max(np.abs(v - V_rest)) < 1e-9, f"{name} drifts from V_rest"
    # and returns to V_rest from elsewhere
    _run(h, 1000.0, dt=0.0625, v_init=-60.0)
    v_end = np.array([r[-1] for r in recs])
    assert np.max(np.abs(v_end - V_rest)) < 1e-4


@pytest.mark.parametrize("name", ["frozen", "quasi_linear"])
def test_cell_with_several_channel_types_rests_at_V_rest(h, celsius34, cfg, name):
    """NaTa_t, SKv3_1, Ih and Nap_Et2 together: the frozen and quasi-linear (Ih and Nap_Et2
    linearised) cells rest at V_rest to 1e-6 mV over 200 ms."""
    model = _model_with(cfg, {"Nap_Et2": 3e-3})
    V_rest = -62.0
    p, cell = _cell(model, "E", f"E_several_{name}")
    assert set(p.cell_biophysics.inserted) == {"pas", "Ih", "NaTa_t", "SKv3_1", "Nap_Et2"}
    info = _apply(name, p, cell, V_rest=V_rest)
    if name == "quasi_linear":
        assert cell.segments[0].sec.has_membrane("QuasiNap_Et2") and cell.segments[0].sec.has_membrane("QuasiIh")
        assert not cell.segments[0].sec.has_membrane("Nap_Et2")
    hand = p.cell_biophysics.parameters[("pas", "g")].copy()
    channels = (("NaTa_t", "gNaTa_tbar"), ("SKv3_1", "gSKv3_1bar"))
    if name == "frozen":
        channels += (("Ih", "gIhbar"), ("Nap_Et2", "gNap_Et2bar"))
    for ch, param in channels:
        hand += bp.frozen_conductance(ch, p.cell_biophysics.parameters[(ch, param)], V_rest)
    np.testing.assert_allclose(info["g_leak"], hand, rtol=1e-9)
    recs = [h.Vector().record(s._ref_v) for s in cell.segments]
    _run(h, 200.0, dt=0.0625, v_init=V_rest)
    v = np.array([np.array(r) for r in recs])
    assert np.max(np.abs(v - V_rest)) < 1e-6


def test_passive_cell_properties(h, celsius34, model):
    p, cell = _cell(model, "E", "E_passive")
    V_rest = np.linspace(-70.0, -60.0, len(cell.segments))
    info = _apply("passive", p, cell, V_rest=V_rest, passive_g_pas=3e-4)
    segs = cell.segments
    np.testing.assert_array_equal([s.pas.g for s in segs], 3e-4)
    np.testing.assert_array_equal([s.pas.e for s in segs], V_rest)
    np.testing.assert_array_equal(info["e_leak"], V_rest)
    for s in segs:
        assert not s.sec.has_membrane("Ih")


def _step_response(h, cell, amp, v_ref, t_on=100.0, dur=400.0, tstop=700.0):
    stim = h.IClamp(cell.soma)
    stim.delay, stim.dur, stim.amp = t_on, dur, amp
    v = h.Vector().record(cell.soma._ref_v)
    t = h.Vector().record(h._ref_t)
    _run(h, tstop, dt=0.025, v_init=v_ref)
    return np.array(t), np.array(v) - v_ref


def _rest_active_at(cell, p, V_r, linearised):
    """Active leak + channel cell whose leak reversal makes it rest at V_r in every segment."""
    bp.apply("active", cell, p.cell_biophysics)
    i_ch = 0.0
    for ch, param, E in linearised:
        i_ch = i_ch + bp.frozen_conductance(ch, p.cell_biophysics.parameters[(ch, param)], V_r) * (V_r - E)
    g_pas = p.cell_biophysics.parameters[("pas", "g")]
    for s, e in zip(cell.segments, V_r + i_ch / g_pas):
        s.pas.e = e


@pytest.mark.parametrize("channel, density, V_r, amp", [("Ih", None, -65.0, 0.005), ("Nap_Et2", 5e-5, -60.0, 0.001)])
def test_quasi_linear_matches_active_small_signal(h, celsius34, cfg, channel, density, V_r, amp):
    """Leak + one channel held at V_r: active vs quasi-linear vs frozen for small somatic steps
    (``amp`` nA; persistent Na amplifies, so its linear range is narrower)."""
    dens = {"NaTa_t": 0.0, "SKv3_1": 0.0}
    if channel == "Nap_Et2":
        dens.update(Ih=0.0, Nap_Et2=density)
    model = _model_with(cfg, dens)
    E = {"Ih": -45.0, "Nap_Et2": 50.0}[channel]
    param = {"Ih": "gIhbar", "Nap_Et2": "gNap_Et2bar"}[channel]
    p, active = _cell(model, "E", f"E_{channel}_active")
    _rest_active_at(active, p, V_r, [(channel, param, E)])
    _, quasi = _cell(model, "E", f"E_{channel}_quasi")
    _apply("quasi_linear", p, quasi, V_rest=V_r)
    _, frozen = _cell(model, "E", f"E_{channel}_frozen")
    _apply("frozen", p, frozen, V_rest=V_r)

    _run(h, 100.0, v_init=V_r)
    for cell in (active, quasi, frozen):
        assert np.max(np.abs([s.v - V_r for s in cell.segments])) < 1e-9

    resp = {}
    for label, cell in (("active", active), ("quasi", quasi), ("frozen", frozen)):
        for sign in (+1, -1):
            t, dv = _step_response(h, cell, sign * amp, V_r)
            resp[label, sign] = dv
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
    np.testing.assert_allclose(resp["quasi", 1], -resp["quasi", -1], atol=1e-9)  # linear
    # the frozen cell misses the channel's dynamics: a larger error than the quasi-linear one
    rel_frozen = np.max(np.abs(resp["active", -1] - resp["frozen", -1])) / np.max(np.abs(resp["active", -1]))
    assert rel_frozen > 3 * np.max(np.abs(resp["active", -1] - resp["quasi", -1])) / np.max(np.abs(resp["active", -1]))
    if channel == "Ih":
        # sag: hyperpolarisation overshoots in active and quasi-linear cells, not in the frozen one
        on = (t > 100.0) & (t <= 500.0)

        def sag(dv):
            return np.max(np.abs(dv[on])) / np.abs(dv[on][-1])

        sag_a, sag_q, sag_f = (sag(resp[k, -1]) for k in ("active", "quasi", "frozen"))
        assert sag_a > 1.1 and sag_q > 1.1, (sag_a, sag_q)
        assert sag_q == pytest.approx(sag_a, rel=0.02)
        assert sag_f < 1.0 + 1e-6


# --------------------------------------------------------------------------------------------
# Ground truth: the active cells rest without spiking
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pop", ["E", "I"])
def test_active_cell_settles_to_rest_without_spiking(h, celsius34, cfg, model, pop,
                                                     record_property, capsys):
    sim = cfg["simulation"]
    p, cell = _cell(model, pop, f"{pop}_rest")
    h.celsius = sim["celsius"]
    bp.apply("active", cell, p.cell_biophysics)
    apc = h.APCount(cell.soma)
    apc.thresh = -20.0
    v = h.Vector().record(cell.soma._ref_v)
    _run(h, 2000.0, dt=sim["dt"], v_init=sim["v_init"])
    v = np.array(v)
    assert apc.n == 0 and v.max() < -40.0, f"{pop} cell fires without input"
    # settled: the last 100 ms change by less than 1 uV
    last = int(round(100.0 / sim["dt"]))
    assert abs(v[-1] - v[-last]) < 1e-3
    v_rest = np.array([s.v for s in cell.segments])
    assert np.all((v_rest > -85.0) & (v_rest < -65.0))
    record_property(f"V_rest_soma_{pop}", float(v[-1]))
    with capsys.disabled():
        print(f"\n{pop} cell at rest: soma {v[-1]:.3f} mV, segments {v_rest.min():.3f} .. "
              f"{v_rest.max():.3f} mV")


def test_active_cell_has_the_configured_values(h, model):
    p, cell = _cell(model, "E", "E_values")
    bp.apply("active", cell, p.cell_biophysics)
    soma = [s for s in cell.segments if s.sec.name().endswith("soma")]
    dend = [s for s in cell.segments if not s.sec.name().endswith("soma")]
    assert all(s.pas.g == 3.38e-5 and s.NaTa_t.gNaTa_tbar == 2.04 for s in soma)
    assert all(s.pas.g == 5.89e-5 and s.NaTa_t.gNaTa_tbar == 0.0213 for s in dend)
    assert all(s.pas.e == -90.0 and s.Ih.ehcn == -45.0 for s in cell.segments)
    # the group's ions reach the channels that carry their reversal potential; no na or k ion
    # exists (issue 25: the ions' bookkeeping is not paid for constant concentrations)
    assert all(s.NaTa_t.ena == 50.0 and s.SKv3_1.ek == -85.0 for s in cell.segments)
    assert not any(sec.has_membrane("na_ion") or sec.has_membrane("k_ion") for sec in cell.values())


def test_ion_variables_reach_the_ion_and_every_mechanism_that_reads_them(h, cfg):
    """``ions: {ena: ...}`` sets NEURON's na ion where a mechanism uses it (here NEURON's own
    ``hh``) and the ``ena`` of every channel that carries it; a channel's own value in the block
    wins; a variable that nothing in a section reads names the key and the section."""
    from lfpk.model import from_config

    c = copy.deepcopy(cfg)
    groups = c["biophysics"]["groups"]
    groups["all"]["ions"] = {"ena": 55.0, "ek": -80.0}
    groups["soma"]["mechanisms"]["hh"] = {"gnabar": 0.0, "gkbar": 0.0, "gl": 0.0}
    groups["soma"]["mechanisms"]["SKv3_1"]["ek"] = -90.0
    p = from_config(c).populations["E"]
    cell = p.morphology.build(prefix="E_ions")
    bp.apply("active", cell, p.cell_biophysics)
    soma = [s for s in cell.segments if s.sec.name().endswith("soma")]
    dend = [s for s in cell.segments if not s.sec.name().endswith("soma")]
    assert all(s.ena == 55.0 and s.ek == -80.0 and s.NaTa_t.ena == 55.0 for s in soma)  # hh's ions
    assert all(s.SKv3_1.ek == -90.0 for s in soma)  # the channel's own value
    assert all(s.NaTa_t.ena == 55.0 and s.SKv3_1.ek == -80.0 for s in dend)
    assert not any(s.sec.has_membrane("na_ion") for s in dend)
    # an ion variable no mechanism of a section reads
    groups["all"]["ions"]["eca"] = 120.0
    q = from_config(c).populations["E"]
    with pytest.raises(bp.MechanismError, match=r"biophysics.*ion variable 'eca' does not exist in section E_ions2.*soma"):
        bp.apply("active", q.morphology.build(prefix="E_ions2"), q.cell_biophysics)


# --------------------------------------------------------------------------------------------
# Distance-dependent densities
# --------------------------------------------------------------------------------------------


def test_distance_functions(h, cfg):
    """Linear, exponential, sigmoid and window densities follow their formulas of the path
    distance (um) from the soma centre, also in NEURON."""
    from lfpk.model import from_config

    c = copy.deepcopy(cfg)
    c["biophysics"]["groups"]["apic"] = {"mechanisms": {
        "Ih": {"gIhbar": {"function": "exponential", "a": -0.8696, "b": 2.087, "c": 0.00345, "scale": 2e-4}},
        "NaTa_t": {"gNaTa_tbar": {"function": "linear", "a": 0.02, "b": -1e-5}},
        "SKv3_1": {"gSKv3_1bar": {"function": "sigmoid", "a": 0.0, "b": 1e-3, "c": 50.0, "d0": 500.0}},
        "pas": {"g": {"function": "window", "start": 300.0, "stop": 600.0, "inside": 1e-4, "outside": 5e-5}},
    }}
    c["biophysics"]["groups"]["dend"] = {"mechanisms": {"NaTa_t": {"gNaTa_tbar": {
        "function": "linear", "a": 0.0, "b": 1.0, "normalise": True, "scale": 0.01}}}}
    model = from_config(c)
    p = model.populations["E"]
    seg = p.segments
    d = seg["path_distance"]
    apic, dend = seg["group"] == "apic", seg["group"] == "dend"
    # path distance of the ball-and-stick: soma half length plus the position along the section
    np.testing.assert_allclose(d[apic], 15.0 + seg["x_norm"][apic] * 1000.0)
    bio = p.cell_biophysics
    np.testing.assert_allclose(bio.parameters[("Ih", "gIhbar")][apic], 2e-4 * (-0.8696 + 2.087 * np.exp(0.00345 * d[apic])))
    np.testing.assert_allclose(bio.parameters[("NaTa_t", "gNaTa_tbar")][apic], 0.02 - 1e-5 * d[apic])
    np.testing.assert_allclose(bio.parameters[("SKv3_1", "gSKv3_1bar")][apic], 1e-3 / (1 + np.exp((d[apic] - 500.0) / 50.0)))
    np.testing.assert_array_equal(bio.parameters[("pas", "g")][apic], np.where((d[apic] >= 300) & (d[apic] <= 600), 1e-4, 5e-5))
    # relative distance: over the path distance of the group's farthest point (the dendrite's tip)
    np.testing.assert_allclose(bio.parameters[("NaTa_t", "gNaTa_tbar")][dend], 0.01 * d[dend] / (15.0 + 200.0))
    cell = p.morphology.build(prefix="E_distance")
    bp.apply("active", cell, bio)
    np.testing.assert_array_equal([s.Ih.gIhbar for s in cell.segments], bio.parameters[("Ih", "gIhbar")])
    assert np.all(np.diff(bio.parameters[("Ih", "gIhbar")][apic]) > 0)  # increases along the apical dendrite
    with pytest.raises(ValueError, match=r"function.*needs c"):
        bp.DistanceFunction.from_config({"function": "exponential", "b": 1.0}, "x")


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def test_errors_name_the_parameter(h, cfg, model):
    p, cell = _cell(model, "I", "I_err")
    bio = p.cell_biophysics
    n = len(cell.segments)
    with pytest.raises(ValueError, match=r"unknown biophysics 'bogus'.*active.*frozen.*passive"):
        bp.apply("bogus", cell, bio)
    with pytest.raises(ValueError, match=r"V_rest: expected a scalar or %d" % n):
        bp.apply("passive", cell, bio, V_rest=np.zeros(n + 1), passive_g_pas=1e-4)
    with pytest.raises(ValueError, match=r"V_rest: required"):
        bp.apply("quasi_linear", cell, bio)
    with pytest.raises(ValueError, match=r"extra_leak: expected"):
        bp.apply("passive", cell, bio, V_rest=-65.0, passive_g_pas=1e-4, extra_leak=np.ones(3))
    with pytest.raises(ValueError, match=r"passive_g_pas"):
        bp.apply("passive", cell, bio, V_rest=-65.0)
    with pytest.raises(ValueError, match=r"measured parameters"):
        bp.apply("frozen", cell, bio, V_rest=-65.0)
    with pytest.raises(ValueError, match=r"unknown channel"):
        bp.frozen_conductance("Kv", 1.0, -65.0)
    from lfpk.model import from_config

    # an unknown mechanism and parameter name the config key
    for mech, params, match in (("Kv_bogus", {"gbar": 1.0}, r"biophysics: mechanism 'Kv_bogus' is not loaded"),
                                ("Ih", {"gbar": 1.0}, r"mechanism Ih has no parameter 'gbar'.*gIhbar")):
        c = copy.deepcopy(cfg)
        c["biophysics"]["groups"]["soma"]["mechanisms"][mech] = params
        q = from_config(c).populations["I"]
        with pytest.raises(bp.MechanismError, match=match):
            bp.apply("active", q.morphology.build(prefix="I_err2"), q.cell_biophysics)
    # a mechanism listed for quasi-linearisation without a quasi-linear version
    c = copy.deepcopy(cfg)
    c["biophysics"]["quasi_linear"] = ["Ih", "NaTa_t"]
    q = from_config(c).populations["I"]
    with pytest.raises(bp.MechanismError, match=r"quasi_linear: mechanism\(s\) NaTa_t have no quasi-linear"):
        _apply("quasi_linear", q, q.morphology.build(prefix="I_err3"), V_rest=-65.0)


def test_active_extra_leak_is_merged_exactly(h, model):
    p, cell = _cell(model, "I", "I_extra")
    n = len(cell.segments)
    extra = np.full(n, 2e-5)
    info = bp.apply("active", cell, p.cell_biophysics, V_rest=-60.0, extra_leak=extra)
    g_pas = p.cell_biophysics.parameters[("pas", "g")]
    for v in (-90.0, -60.0, 0.0):
        expected = g_pas * (v + 90.0) + extra * (v + 60.0)
        np.testing.assert_allclose(info["g_leak"] * (v - info["e_leak"]), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose([s.pas.g for s in cell.segments], info["g_leak"])
