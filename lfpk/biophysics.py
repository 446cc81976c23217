"""Membrane biophysics of the ball-and-stick cells, by name.

One registry (:data:`BIOPHYSICS`, applied by :func:`apply`) serves both the ground-truth network
and the kernel engine, so the two cannot disagree about densities, reversals or kinetics:

``active``
    Ground truth (Hagen et al. 2022, after Hay et al. 2011): leak ``pas`` + ``Ih`` + ``NaTa_t`` +
    ``SKv3_1`` with the config's per-section densities and reversals.
``passive``
    Uniform leak ``g_pas = passive_g_pas`` with ``e_pas = V_rest``.
``frozen``
    Every channel's gating variables fixed at their steady state at ``V_rest``: each channel acts
    as a passive conductance ``gbar * m_inf^p * h_inf^q``; all are summed with ``g_pas`` into one
    leak per segment with ``e_pas = V_rest``, so the cell rests exactly at a uniform ``V_rest``.
``quasi_linear``
    ``Ih`` linearised around ``V_rest`` (mechanism ``QuasiIh``; Remme & Rinzel 2011, Ness et al.
    2016), ``NaTa_t`` and ``SKv3_1`` frozen as in ``frozen``; the leak reversal is ``V_rest`` so,
    as ``QuasiIh`` passes no current at ``V_rest``, the cell rests exactly at a uniform ``V_rest``.

The kinetics are also written here in Python (:func:`nata_t_rates`, :func:`skv3_1_rates`,
:func:`ih_rates`, :func:`ih_dminf_dv`), from the published equations, independently of the NMODL
files in ``lfpk/mod/``; ``frozen`` uses them, and the tests compare the NMODL against them.

Units throughout: potentials mV, times ms, specific conductances S/cm2, temperature degC.
Segments are ordered as in :meth:`lfpk.morphology.BallAndStick.segments`: soma, dend, apic, each
from its 0 end to its 1 end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import exprel

from lfpk.morphology import SECTIONS

# ---------------------------------------------------------------------------------------------
# Kinetics (Python versions of the published equations)
# ---------------------------------------------------------------------------------------------

#: Reference temperature (degC) of the NaTa_t temperature factor qt = 2.3^((celsius - 21)/10).
NATA_T_Q10 = 2.3
NATA_T_T_REF = 21.0


def _xlinexp(x, k):
    """``x / (1 - exp(-x/k))`` with its removable singularity at ``x = 0`` (value ``k``) filled.

    Uses ``scipy.special.exprel(z) = (exp(z) - 1)/z``: ``x/(1 - exp(-x/k)) = k / exprel(-x/k)``.
    """
    x = np.asarray(x, dtype=float)
    return k / exprel(-x / k)


def nata_t_rates(v, celsius=34.0):
    """Steady states and time constants of ``NaTa_t`` (Hay et al. 2011, after Colbert & Pan 2002).

    Parameters
    ----------
    v : float or array_like
        Membrane potential (mV).
    celsius : float
        Temperature (degC); time constants are divided by ``qt = 2.3^((celsius - 21)/10)``.

    Returns
    -------
    m_inf, m_tau, h_inf, h_tau : ndarray
        Steady-state activation and inactivation (1) and their time constants (ms).
        The conductance is ``gNaTa_tbar * m^3 * h``.
    """
    v = np.asarray(v, dtype=float)
    qt = NATA_T_Q10 ** ((celsius - NATA_T_T_REF) / 10.0)
    # rates in 1/ms:
    #   m_alpha = 0.182 (v+38)/(1-exp(-(v+38)/6)),  m_beta = 0.124 (-v-38)/(1-exp(-(-v-38)/6))
    #   h_alpha = -0.015 (v+66)/(1-exp((v+66)/6)),  h_beta = -0.015 (-v-66)/(1-exp((-v-66)/6))
    ma = 0.182 * _xlinexp(v + 38.0, 6.0)
    mb = 0.124 * _xlinexp(-(v + 38.0), 6.0)
    ha = 0.015 * _xlinexp(-(v + 66.0), 6.0)
    hb = 0.015 * _xlinexp(v + 66.0, 6.0)
    return ma / (ma + mb), 1.0 / ((ma + mb) * qt), ha / (ha + hb), 1.0 / ((ha + hb) * qt)


def skv3_1_rates(v):
    """Steady state and time constant of ``SKv3_1`` (Hay et al. 2011, after Rettig et al. 1992).

    Parameters
    ----------
    v : float or array_like
        Membrane potential (mV).

    Returns
    -------
    m_inf, m_tau : ndarray
        Steady-state activation (1) and its time constant (ms); the conductance is
        ``gSKv3_1bar * m``. No temperature factor.
    """
    v = np.asarray(v, dtype=float)
    m_inf = 1.0 / (1.0 + np.exp(-(v - 18.7) / 9.7))
    m_tau = 4.0 / (1.0 + np.exp(-(v + 46.56) / 44.14))
    return m_inf, m_tau


def _ih_alpha_beta(v):
    v = np.asarray(v, dtype=float)
    # m_alpha = 0.00643 (v+154.9)/(exp((v+154.9)/11.9)-1),  m_beta = 0.193 exp(v/33.1)  (1/ms)
    a = 0.00643 * _xlinexp(-(v + 154.9), 11.9)
    b = 0.193 * np.exp(v / 33.1)
    return a, b


def ih_rates(v):
    """Steady state and time constant of ``Ih`` (Hay et al. 2011, after Kole et al. 2006).

    Parameters
    ----------
    v : float or array_like
        Membrane potential (mV).

    Returns
    -------
    m_inf, m_tau : ndarray
        Steady-state activation (1) and its time constant (ms); the conductance is
        ``gIhbar * m``. No temperature factor.
    """
    a, b = _ih_alpha_beta(v)
    return a / (a + b), 1.0 / (a + b)


def ih_dminf_dv(v):
    """Derivative ``d m_inf / dV`` of the ``Ih`` steady state (1/mV), used by ``QuasiIh``.

    With ``m_inf = a/(a + b)``: ``dm_inf/dV = m_inf (1 - m_inf) (d ln a/dV - d ln b/dV)``.
    """
    v = np.asarray(v, dtype=float)
    k = 11.9
    x = -(v + 154.9)
    y = x / k
    small = np.abs(y) < 1e-4
    ysafe = np.where(small, 1.0, y)
    # d/dx ln(x/(1-exp(-x/k))) = 1/x - 1/(k (exp(x/k) - 1)) -> 1/(2k) - x/(12 k^2) at x -> 0
    dlog = np.where(small, 1.0 / (2 * k) - x / (12 * k * k),
                    (1.0 / ysafe - 1.0 / np.expm1(ysafe)) / k)
    m_inf, _ = ih_rates(v)
    return m_inf * (1.0 - m_inf) * (-dlog - 1.0 / 33.1)


@dataclass(frozen=True)
class Channel:
    """An active channel of the ground-truth model.

    Attributes
    ----------
    name : str
        Mechanism SUFFIX (and key of the config's ``biophysics.densities``).
    gbar : str
        NEURON name of the density parameter (S/cm2).
    p, q : int
        Exponents of activation ``m`` and inactivation ``h`` in ``g = gbar * m^p * h^q``.
    reversal : str
        Config key of the reversal potential (mV).
    """

    name: str
    gbar: str
    p: int
    q: int
    reversal: str

    def gates(self, v, celsius=34.0):
        """Steady-state gates ``(m_inf, h_inf)`` at ``v`` (mV); ``h_inf`` is 1 without inactivation."""
        if self.name == "NaTa_t":
            m, _, hh, _ = nata_t_rates(v, celsius)
            return m, hh
        if self.name == "SKv3_1":
            m, _ = skv3_1_rates(v)
        elif self.name == "Ih":
            m, _ = ih_rates(v)
        else:  # pragma: no cover - CHANNELS is closed
            raise KeyError(self.name)
        return m, np.ones_like(m)

    def open_fraction(self, v, celsius=34.0):
        """Steady-state ``m_inf^p * h_inf^q`` at ``v`` (mV), dimensionless."""
        m, hh = self.gates(v, celsius)
        return m**self.p * hh**self.q


#: Active channels of the ground truth, by mechanism name.
CHANNELS = {
    "Ih": Channel("Ih", "gIhbar", 1, 0, "ehcn"),
    "NaTa_t": Channel("NaTa_t", "gNaTa_tbar", 3, 1, "ena"),
    "SKv3_1": Channel("SKv3_1", "gSKv3_1bar", 1, 0, "ek"),
}


def frozen_conductance(channel, gbar, v, celsius=34.0):
    """Conductance of ``channel`` with its gates frozen at their steady state at ``v``.

    Parameters
    ----------
    channel : str
        ``Ih``, ``NaTa_t`` or ``SKv3_1``.
    gbar : float or array_like
        Maximal conductance density (S/cm2).
    v : float or array_like
        Potential (mV) at which the gates are frozen.
    celsius : float
        Temperature (degC); steady states do not depend on it (kept for symmetry).

    Returns
    -------
    ndarray
        ``gbar * m_inf(v)^p * h_inf(v)^q`` (S/cm2).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; known channels: {sorted(CHANNELS)}")
    return np.asarray(gbar, dtype=float) * CHANNELS[channel].open_fraction(v, celsius)


# ---------------------------------------------------------------------------------------------
# Segments and densities
# ---------------------------------------------------------------------------------------------


def segments(sections):
    """NEURON segments of a cell in segment-table order (soma, dend, apic; 0 end to 1 end).

    Parameters
    ----------
    sections : dict
        Section name -> ``nrn.Section``, as returned by :meth:`BallAndStick.build`.
    """
    missing = [s for s in SECTIONS if s not in sections]
    if missing:
        raise ValueError(f"sections: missing section(s) {missing}; expected {list(SECTIONS)}")
    return [seg for name in SECTIONS for seg in sections[name]]


def _section_index(sections):
    return np.array([name for name in SECTIONS for _ in sections[name]])


def segment_densities(sections, cfg_biophysics):
    """Per-segment densities (S/cm2) of ``g_pas`` and every channel from the config.

    Parameters
    ----------
    sections : dict
        Section name -> ``nrn.Section``.
    cfg_biophysics : dict
        The config's ``biophysics`` block (``e_pas``, ``ehcn``, ``ena``, ``ek``, ``densities``).

    Returns
    -------
    dict
        ``g_pas``, ``Ih``, ``NaTa_t``, ``SKv3_1`` -> ndarray (n_segments,) in S/cm2.
    """
    dens = cfg_biophysics.get("densities") if isinstance(cfg_biophysics, dict) else None
    if dens is None:
        raise ValueError("cfg_biophysics: missing 'densities' (per-section densities in S/cm2)")
    secnames = _section_index(sections)
    out = {}
    for key in ("g_pas", *CHANNELS):
        if key not in dens:
            raise ValueError(
                f"cfg_biophysics.densities: missing density {key!r} (S/cm2 per section "
                f"{list(SECTIONS)})"
            )
        per_sec = dens[key]
        missing = [s for s in SECTIONS if s not in per_sec]
        if missing:
            raise ValueError(
                f"cfg_biophysics.densities.{key}: missing section(s) {missing}"
            )
        out[key] = np.array([float(per_sec[s]) for s in secnames])
        if np.any(out[key] < 0) or not np.all(np.isfinite(out[key])):
            raise ValueError(f"cfg_biophysics.densities.{key}: densities must be finite and >= 0")
    return out


def _reversal(cfg_biophysics, key):
    if key not in cfg_biophysics:
        raise ValueError(f"cfg_biophysics: missing reversal potential {key!r} (mV)")
    return float(cfg_biophysics[key])


def _per_segment(value, n, what, units):
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(
            f"{what}: expected a scalar or {n} per-segment values ({units}, segments ordered "
            f"soma, dend, apic), got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: values must be finite")
    return arr


# ---------------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------------


def _set_leak(segs, g, e):
    for seg, gi, ei in zip(segs, g, e):
        seg.pas.g = gi
        seg.pas.e = ei


def _unique_sections(segs):
    out = []
    for seg in segs:
        if not any(seg.sec == s for s in out):
            out.append(seg.sec)
    return out


def _combine_leak(g_pas, e_pas, extra_leak, V_rest):
    """One linear leak equivalent to ``g_pas`` at ``e_pas`` plus ``extra_leak`` at ``V_rest``."""
    if extra_leak is None:
        return g_pas, e_pas
    g = g_pas + extra_leak
    with np.errstate(invalid="ignore", divide="ignore"):
        e = np.where(g > 0, (g_pas * e_pas + extra_leak * V_rest) / np.where(g > 0, g, 1.0), e_pas)
    return g, e


def _apply_active(segs, dens, cfg, V_rest, extra_leak, passive_g_pas, celsius):
    n = len(segs)
    e_pas = np.full(n, _reversal(cfg, "e_pas"))
    ehcn, ena, ek = (_reversal(cfg, k) for k in ("ehcn", "ena", "ek"))
    g, e = _combine_leak(dens["g_pas"], e_pas, extra_leak, V_rest)
    for sec in _unique_sections(segs):
        for mech in ("pas", *CHANNELS):
            sec.insert(mech)
    _set_leak(segs, g, e)
    for i, seg in enumerate(segs):
        seg.Ih.gIhbar = dens["Ih"][i]
        seg.Ih.ehcn = ehcn
        seg.NaTa_t.gNaTa_tbar = dens["NaTa_t"][i]
        seg.SKv3_1.gSKv3_1bar = dens["SKv3_1"][i]
        seg.ena = ena
        seg.ek = ek
    return {"g_leak": g, "e_leak": e}


def _apply_passive(segs, dens, cfg, V_rest, extra_leak, passive_g_pas, celsius):
    if passive_g_pas is None:
        raise ValueError("passive_g_pas: required by biophysics 'passive' (S/cm2, e.g. config "
                         "kernel.passive_g_pas)")
    g = _per_segment(passive_g_pas, len(segs), "passive_g_pas", "S/cm2")
    if extra_leak is not None:
        g = g + extra_leak
    for sec in _unique_sections(segs):
        sec.insert("pas")
    _set_leak(segs, g, V_rest)
    return {"g_leak": g, "e_leak": V_rest.copy()}


def _frozen_total(dens, V_rest, celsius, channels):
    g = dens["g_pas"].copy()
    for name in channels:
        g += frozen_conductance(name, dens[name], V_rest, celsius)
    return g


def _apply_frozen(segs, dens, cfg, V_rest, extra_leak, passive_g_pas, celsius):
    g = _frozen_total(dens, V_rest, celsius, CHANNELS)
    if extra_leak is not None:
        g = g + extra_leak
    for sec in _unique_sections(segs):
        sec.insert("pas")
    _set_leak(segs, g, V_rest)
    return {"g_leak": g, "e_leak": V_rest.copy()}


def _apply_quasi_linear(segs, dens, cfg, V_rest, extra_leak, passive_g_pas, celsius):
    ehcn = _reversal(cfg, "ehcn")
    g = _frozen_total(dens, V_rest, celsius, ("NaTa_t", "SKv3_1"))
    if extra_leak is not None:
        g = g + extra_leak
    for sec in _unique_sections(segs):
        sec.insert("pas")
        sec.insert("QuasiIh")
    _set_leak(segs, g, V_rest)
    for i, seg in enumerate(segs):
        seg.QuasiIh.gIhbar = dens["Ih"][i]
        seg.QuasiIh.ehcn = ehcn
        seg.QuasiIh.V_r = V_rest[i]
    return {"g_leak": g, "e_leak": V_rest.copy()}


#: Biophysics by name -> function inserting the mechanisms.
BIOPHYSICS = {
    "active": _apply_active,
    "passive": _apply_passive,
    "frozen": _apply_frozen,
    "quasi_linear": _apply_quasi_linear,
}

#: Variants that need ``V_rest``.
_NEEDS_V_REST = {"passive", "frozen", "quasi_linear"}


def apply(name, sections, cfg_biophysics, V_rest=None, passive_g_pas=None, extra_leak=None,
          celsius=None):
    """Insert and parametrise the membrane mechanisms of biophysics ``name`` into a cell.

    Parameters
    ----------
    name : str
        One of ``active``, ``passive``, ``frozen``, ``quasi_linear`` (see module docstring).
    sections : dict
        Section name -> ``nrn.Section`` (``soma``, ``dend``, ``apic``) from
        :meth:`lfpk.morphology.BallAndStick.build`, without membrane mechanisms.
    cfg_biophysics : dict
        The config's ``biophysics`` block: ``e_pas``, ``ehcn``, ``ena``, ``ek`` (mV) and
        ``densities`` (``g_pas``, ``Ih``, ``NaTa_t``, ``SKv3_1``: section -> S/cm2).
    V_rest : float or array_like, optional
        Resting (linearisation) potential (mV), scalar or one value per segment in segment-table
        order. Required for ``passive``, ``frozen``, ``quasi_linear``, and for ``active`` when
        ``extra_leak`` is given. The linearised variants rest exactly at ``V_rest`` when it is
        uniform; a non-uniform ``V_rest`` makes each segment's membrane current vanish at its own
        ``V_rest``, but axial currents then shift the rest.
    passive_g_pas : float or array_like, optional
        Leak conductance (S/cm2) of ``passive`` (config ``kernel.passive_g_pas``); required there.
    extra_leak : array_like, optional
        Additional per-segment leak conductance (S/cm2) reversing at ``V_rest`` (the kernel
        engine's effective synaptic conductance g_eff). Merged into the single ``pas`` leak of each
        segment (conductance-weighted reversal), which is exact for linear leaks.
    celsius : float, optional
        Temperature (degC). If given, sets NEURON's global ``h.celsius``; otherwise the current
        ``h.celsius`` is used (only ``NaTa_t`` time constants depend on it; steady states do not).

    Returns
    -------
    dict
        ``name``; ``g_leak`` and ``e_leak`` (n_segments,): conductance (S/cm2) and reversal (mV)
        of the ``pas`` leak set in each segment; ``V_rest`` (n_segments,) mV or None;
        ``densities``: per-segment config densities (S/cm2).

    Raises
    ------
    ValueError
        Unknown ``name`` (the message lists the known ones), ``V_rest`` or ``extra_leak`` of the
        wrong length, missing ``V_rest``/``passive_g_pas``, missing densities or reversals.
    """
    if name not in BIOPHYSICS:
        raise ValueError(f"name: unknown biophysics {name!r}; known: {sorted(BIOPHYSICS)}")
    from neuron import h

    if celsius is not None:
        h.celsius = float(celsius)
    celsius = float(h.celsius)
    segs = segments(sections)
    n = len(segs)
    dens = segment_densities(sections, cfg_biophysics)
    if V_rest is None and (name in _NEEDS_V_REST or extra_leak is not None):
        raise ValueError(f"V_rest: required by biophysics {name!r}"
                         + (" with extra_leak" if name == "active" else "") + " (mV)")
    V = None if V_rest is None else _per_segment(V_rest, n, "V_rest", "mV")
    extra = None
    if extra_leak is not None:
        extra = _per_segment(extra_leak, n, "extra_leak", "S/cm2")
        if np.any(extra < 0):
            raise ValueError("extra_leak: conductances must be >= 0 (S/cm2)")
    info = BIOPHYSICS[name](segs, dens, cfg_biophysics, V, extra, passive_g_pas, celsius)
    info.update(name=name, V_rest=V, densities=dens)
    return info
