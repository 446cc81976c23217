"""The Hay et al. (2011) channels on a reconstructed cell (the stand-in of tests/haystudy.py): the
frozen cell rests at V_rest with the hand-written conductances (calcium-gated SK at the resting
calcium of every segment), the quasi-linear cell's small-signal response matches the active
cell's at its rest within 2 %, and the active cell fires under somatic steps and back-propagates
its action potential actively into the apical dendrite.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
from haystudy import stand_in_config, stand_in_model

from lfpk.model import biophysics as bp
from lfpk.model.biophysics import calcium

CELSIUS = 34.0


@pytest.fixture(scope="module")
def h(mechanisms):
    from neuron import h

    h.load_file("stdrun.hoc")
    h.celsius = CELSIUS
    return h


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("hay_stand_in")


@pytest.fixture(scope="module")
def E(folder, h):
    return stand_in_model(folder).populations["E"]


def _delete(h, cell):
    for sec in list(cell.values()):
        h.delete_section(sec=sec)


def _hand_frozen(E, V):
    """g_pas + sum_c gbar_c m_inf^p h_inf^q at V (mV, per segment), SK_E2 at the resting calcium of
    each segment's shell (lfpk.model.biophysics.calcium), independently of NEURON."""
    bio = E.cell_biophysics
    n = E.n_segments
    V = np.broadcast_to(np.asarray(V, float), (n,))
    par = bio.parameters
    g = par[("pas", "g")].copy()
    has_ca = bio.inserted["CaDynamics_E2"]
    gca = {c: np.where(has_ca, np.nan_to_num(par[(c, bp.CHANNELS[c].gbar)]), 0.0) for c in calcium.CALCIUM_CHANNELS}
    cai = np.full(n, calcium.CAI0)  # segments without a shell keep the ion's initial calcium
    cai[has_ca] = calcium.resting_calcium(V[has_ca], {c: v[has_ca] for c, v in gca.items()},
                                          par[("CaDynamics_E2", "gamma")][has_ca], par[("CaDynamics_E2", "decay")][has_ca])
    for mech, mask in bio.inserted.items():
        if mech in ("pas", "CaDynamics_E2"):
            continue
        gbar = np.where(mask, par[(mech, bp.CHANNELS[mech].gbar)], 0.0)
        g += bp.frozen_conductance(mech, gbar, V, CELSIUS, cai=cai if mech == "SK_E2" else None)
    return g


@pytest.mark.parametrize("per_segment", [False, True])
def test_frozen_hay_cell_rests_at_V_rest(h, E, per_segment):
    """The frozen stand-in with every Hay channel: conductances = the hand-written ones to 1e-7
    (SK_E2 at the resting calcium), also per segment; at a uniform V_rest it rests there to 1e-9 mV
    over 200 ms (a per-segment V_rest is not a rest of the leaks: axial currents flow, which the
    kernels remove by subtracting the input-free run)."""
    from lfpk.model import mod_dirs

    n = E.n_segments
    V = np.linspace(-78.0, -66.0, n) if per_segment else -72.0
    assert set(E.cell_biophysics.inserted) >= {"NaTa_t", "Nap_Et2", "SKv3_1", "SK_E2", "Ca_HVA", "Ca_LVAst", "K_Pst",
                                               "K_Tst", "Im", "Ih", "CaDynamics_E2", "pas"}
    linear = bp.measure(E.morphology, E.cell_biophysics, V, "frozen", CELSIUS, mod_dirs({}))
    np.testing.assert_allclose(linear.g_frozen, _hand_frozen(E, V), rtol=1e-7)
    if per_segment:
        return
    cell = E.morphology.build(prefix=f"hay_frozen{int(per_segment)}")
    try:
        info = bp.apply("frozen", cell, E.cell_biophysics, V_rest=V, linear=linear)
        np.testing.assert_array_equal(info["g_leak"], linear.g_frozen)
        Vs = np.broadcast_to(V, (n,))
        recs = [h.Vector().record(s._ref_v) for s in cell.segments]
        h.dt = 0.0625
        h.finitialize(float(np.mean(Vs)))
        for s, v in zip(cell.segments, Vs):
            s.v = v
        h.fcurrent()
        h.continuerun(200.0)
        v = np.array([np.asarray(r) for r in recs])
        assert np.max(np.abs(v - Vs[:, None])) < 1e-9
    finally:
        _delete(h, cell)


@pytest.fixture(scope="module")
def active_rest(h, E):
    """The active stand-in settled at rest and its responses to somatic steps of +-5 pA:
    (V_rest per segment (mV), {+1/-1: soma response (mV)}, timing)."""
    dt, t0, amp = 0.0625, 4000.0, 0.005
    stim_at, dur, window, gap = 20.0, 400.0, 700.0, 3000.0
    onsets = {1: t0 + stim_at, -1: t0 + gap + stim_at}  # one step after the other, recovering between
    k = {s: int(round((t - stim_at) / dt)) for s, t in onsets.items()}
    n = int(round(window / dt))
    active = E.morphology.build(prefix="hay_active_ss")
    try:
        bp.apply("active", active, E.cell_biophysics)
        stim = h.IClamp(active.soma)
        amps = h.Vector([0.0, amp, 0.0, -amp, 0.0])
        times = h.Vector([0.0, onsets[1], onsets[1] + dur, onsets[-1], onsets[-1] + dur])
        stim.delay, stim.dur = 0.0, 1e9
        amps.play(stim._ref_amp, times, 0)  # piecewise constant
        v = h.Vector().record(active.soma._ref_v)
        segs = [h.Vector().record(s._ref_v) for s in active.segments]
        h.dt = dt
        h.finitialize(-75.0)
        h.continuerun(t0 + 2 * gap)
        v = np.array(v)
        k0 = int(round(t0 / dt))
        V_rest = np.array([np.asarray(r)[k0] for r in segs])
        assert abs(v[k0] - v[k0 - int(100 / dt)]) < 1e-4  # settled: < 0.1 uV change over 100 ms
        act = {s: v[k[s]:k[s] + n] - v[k[s]] for s in (1, -1)}
        stim = amps = times = None
    finally:
        _delete(h, active)
    return V_rest, act, {"dt": dt, "amp": amp, "stim_at": stim_at, "dur": dur, "window": window, "n": n}


def _linear_responses(h, E, form, V_rest, p, quasi_linear=None):
    """Soma responses (mV) of the linearised stand-in to the steps of :func:`active_rest`."""
    from lfpk.model import mod_dirs

    bio = E.cell_biophysics
    if quasi_linear is not None:
        bio = dataclasses.replace(bio, quasi_linear=tuple(quasi_linear))
    linear = bp.measure(E.morphology, bio, V_rest, form, CELSIUS, mod_dirs({}))
    cell = E.morphology.build(prefix=f"hay_{form}_ss")
    out = {}
    try:
        bp.apply(form, cell, bio, V_rest=V_rest, linear=linear)
        stim = h.IClamp(cell.soma)
        h.dt = p["dt"]
        for s in (0, 1, -1):
            stim.delay, stim.dur, stim.amp = p["stim_at"], p["dur"], s * p["amp"]
            v = h.Vector().record(cell.soma._ref_v)
            h.finitialize(float(np.mean(V_rest)))
            for seg, vr in zip(cell.segments, V_rest):
                seg.v = vr
            h.fcurrent()
            h.continuerun(p["window"])
            out[s] = np.array(v)[:p["n"]]
        stim = None
    finally:
        _delete(h, cell)
    return {s: out[s] - out[0] for s in (1, -1)}  # linear: the difference to the input-free run


def _error(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(a))


@pytest.mark.parametrize("quasi_linear, limit", [(None, 0.06), (("Ih", "Nap_Et2", "SKv3_1"), 0.02)])
def test_quasi_linear_matches_active_small_signal(h, E, active_rest, quasi_linear, limit):
    """At the active stand-in's rest (every segment at its own potential, calcium settled), somatic
    steps of +-5 pA (a linear response: its even part is < 1 % of it). The study's quasi-linear form
    (Ih and Nap_Et2 linearised, the rest frozen; the config's default) is within 6 % of the active
    response (measured 4.4 %), the frozen form 63 % off: on this small stand-in the soma's fast
    Kv3.1 conductance (frozen 4.9e-5, dynamic slope 5.6e-5 S/cm2 at rest, more than its leak)
    carries much of the input conductance, so linearising SKv3_1 as well brings it within 2 %
    (measured 0.8 %). On the Hay cell itself the study's form is within 1.2 % (measured with
    config/hay2011.yaml and the ModelDB morphology, docs/hay2011.md)."""
    V_rest, act, p = active_rest
    even = 0.5 * (act[1] + act[-1])
    assert np.max(np.abs(even)) < 0.01 * np.max(np.abs(act[1]))
    quasi = _linear_responses(h, E, "quasi_linear", V_rest, p, quasi_linear)
    frozen = _linear_responses(h, E, "frozen", V_rest, p)
    for s in (1, -1):
        assert np.max(np.abs(act[s])) > 0.3  # a measurable response (mV)
        err_q, err_f = _error(act[s], quasi[s]), _error(act[s], frozen[s])
        assert err_q < limit, f"quasi-linear ({quasi_linear}) vs active, step {s * p['amp']} nA: {err_q:.3g}"
        assert err_f > 10 * err_q, (err_f, err_q)


def test_step_firing_and_back_propagation(h, folder):
    """The active stand-in is silent below rheobase and fires regularly above it at a rate that grows
    with the current; a brief somatic pulse elicits an AP that reaches the apical dendrite later with
    distance, and actively: without the apical sodium channels it arrives much smaller."""
    from lfpk.api.config import validate_config
    from lfpk.model import from_config
    from lfpk.study import cellcheck

    protocols = cellcheck.Protocols.from_config({
        "steps": {"amplitudes": [0.0, 0.05, 0.2, 0.4], "delay": 200.0, "duration": 500.0, "tstop": 800.0},
        "bap": {"sites": [100.0, 250.0]}})
    cfg = stand_in_config(folder)
    ds = cellcheck.simulate(from_config(validate_config(copy.deepcopy(cfg))).populations["E"], protocols)
    rates = ds["rate"].values
    assert rates[0] == 0 and rates[1] == 0, rates  # rest and a subthreshold step
    assert rates[2] > 0 and rates[3] > rates[2], rates
    assert -85.0 < ds.attrs["v_rest_soma"] < -65.0
    soma_amp = ds.attrs["soma_amplitude_bap"]
    assert soma_amp > 90.0  # a full somatic AP
    amp, lat, d = ds["bap_amplitude"].values, ds["bap_latency"].values, ds["bap_distance"].values
    order = np.argsort(d)
    assert np.all(np.diff(lat[order]) >= 0) and lat[order][-1] > 0.5  # arrives later with distance (ms)
    assert np.all(amp < soma_amp) and np.all(amp > 40.0)
    # the same pulse with the apical NaTa_t removed: passive spread only
    cfg["populations"]["E"]["biophysics"]["groups"]["apic"]["mechanisms"]["NaTa_t"]["gNaTa_tbar"] = 0.0
    ds_passive = cellcheck.simulate(from_config(validate_config(cfg)).populations["E"], protocols)
    distal = np.argmax(d)
    assert amp[distal] > 1.4 * ds_passive["bap_amplitude"].values[distal]
    assert ds_passive.attrs["soma_amplitude_bap"] == pytest.approx(soma_amp, abs=2.0)
