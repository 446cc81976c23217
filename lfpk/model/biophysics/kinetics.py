"""Published channel kinetics written in Python, independently of the NMODL files.

Hay et al. (2011), PLoS Comput Biol 7:e1002107 (and the sources it cites): steady states and time
constants of every channel of their layer 5b pyramidal cell -- ``NaTa_t``, ``Nap_Et2``, ``SKv3_1``,
``Ih``, ``K_Pst``, ``K_Tst``, ``Im``, ``Ca_HVA``, ``Ca_LVAst`` and the calcium-gated ``SK_E2``
(its calcium, ``CaDynamics_E2``, is in :mod:`lfpk.model.biophysics.calcium`). The tests compare the
compiled NMODL mechanisms (``mod/``) against these equations, and :func:`frozen_conductance` is
the hand-written frozen conductance ``gbar * m_inf^p * h_inf^q`` the generic linearisation of
:mod:`lfpk.model.biophysics.linear` is checked against.

Temperature: the rates of ``NaTa_t``, ``Nap_Et2``, ``K_Pst``, ``K_Tst``, ``Im`` and ``Ca_LVAst``
are raised from 21 degC with Q10 = 2.3 (``qt = 2.3^((celsius - 21)/10)``); Hay et al. evaluate
``qt`` at a fixed 34 degC, lfpk at the simulation's temperature (identical at the study's 34 degC).
``SKv3_1``, ``Ih``, ``Ca_HVA`` and ``SK_E2`` have no temperature factor.

Units: potentials mV, times ms, specific conductances S/cm2, concentrations mM, temperature degC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import exprel

#: Reference temperature (degC) of the NaTa_t temperature factor qt = 2.3^((celsius - 21)/10).
NATA_T_Q10 = 2.3
NATA_T_T_REF = 21.0


def _qt(celsius):
    """Temperature factor ``2.3^((celsius - 21)/10)`` of Hay et al.'s Q10-corrected rates."""
    return NATA_T_Q10 ** ((celsius - NATA_T_T_REF) / 10.0)


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
    qt = _qt(celsius)
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


def skv3_1_dminf_dv(v):
    """Derivative ``d m_inf/dV = m_inf (1 - m_inf) / 9.7`` (1/mV) of ``SKv3_1``'s steady state
    (used by ``QuasiSKv3_1``)."""
    m_inf, _ = skv3_1_rates(v)
    return m_inf * (1.0 - m_inf) / 9.7


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


def nap_et2_rates(v, celsius=34.0):
    """Steady states and time constants of ``Nap_Et2`` (Hay et al. 2011, after Magistretti &
    Alonso 1999).

    ``g = gNap_Et2bar * m^3 * h`` with (rates in 1/ms, ``qt = 2.3^((celsius - 21)/10)``)::

        m_inf   = 1 / (1 + exp(-(v + 52.6)/4.6))
        m_alpha = 0.182 (v + 38) / (1 - exp(-(v + 38)/6))
        m_beta  = 0.124 (-v - 38) / (1 - exp(-(-v - 38)/6))
        m_tau   = 6 / (m_alpha + m_beta) / qt
        h_inf   = 1 / (1 + exp((v + 48.8)/10))
        h_alpha = -2.88e-6 (v + 17) / (1 - exp((v + 17)/4.63))
        h_beta  = 6.94e-6 (v + 64.4) / (1 - exp(-(v + 64.4)/2.63))
        h_tau   = 1 / (h_alpha + h_beta) / qt

    Parameters
    ----------
    v : float or array_like
        Membrane potential (mV).
    celsius : float
        Temperature (degC).

    Returns
    -------
    m_inf, m_tau, h_inf, h_tau : ndarray
    """
    v = np.asarray(v, dtype=float)
    qt = _qt(celsius)
    m_inf = 1.0 / (1.0 + np.exp(-(v + 52.6) / 4.6))
    _, m_tau_nata, _, _ = nata_t_rates(v, celsius)  # NaTa_t's activation rates, six times slower
    h_inf = 1.0 / (1.0 + np.exp((v + 48.8) / 10.0))
    ha = 2.88e-6 * _xlinexp(-(v + 17.0), 4.63)
    hb = 6.94e-6 * _xlinexp(v + 64.4, 2.63)
    return m_inf, 6.0 * m_tau_nata, h_inf, 1.0 / ((ha + hb) * qt)


def nap_et2_dinf_dv(v):
    """Derivatives ``d m_inf/dV`` and ``d h_inf/dV`` (1/mV) of ``Nap_Et2``'s steady states."""
    m_inf, _, h_inf, _ = nap_et2_rates(v)
    return m_inf * (1.0 - m_inf) / 4.6, -h_inf * (1.0 - h_inf) / 10.0


def k_pst_rates(v, celsius=34.0):
    """Steady states and time constants of ``K_Pst`` (Hay et al. 2011, after the persistent K
    current of Korngreen & Sakmann 2000, shifted by -10 mV).

    ``g = gK_Pstbar * m^2 * h``; with ``u = v + 10``::

        m_inf = 1 / (1 + exp(-(u + 1)/12))
        m_tau = (1.25 + 175.03 exp(0.026 u)) / qt   (u < -50),   (1.25 + 13 exp(-0.026 u)) / qt
        h_inf = 1 / (1 + exp((u + 54)/11))
        h_tau = (360 + (1010 + 24 (u + 55)) exp(-((u + 75)/48)^2)) / qt

    Parameters
    ----------
    v : float or array_like
        Membrane potential (mV).
    celsius : float
        Temperature (degC).

    Returns
    -------
    m_inf, m_tau, h_inf, h_tau : ndarray
    """
    u = np.asarray(v, dtype=float) + 10.0
    qt = _qt(celsius)
    m_inf = 1.0 / (1.0 + np.exp(-(u + 1.0) / 12.0))
    m_tau = np.where(u < -50.0, 1.25 + 175.03 * np.exp(0.026 * u), 1.25 + 13.0 * np.exp(-0.026 * u)) / qt
    h_inf = 1.0 / (1.0 + np.exp((u + 54.0) / 11.0))
    h_tau = (360.0 + (1010.0 + 24.0 * (u + 55.0)) * np.exp(-(((u + 75.0) / 48.0) ** 2))) / qt
    return m_inf, m_tau, h_inf, h_tau


def k_tst_rates(v, celsius=34.0):
    """Steady states and time constants of ``K_Tst`` (Hay et al. 2011, after the transient K
    current of Korngreen & Sakmann 2000, shifted by -10 mV).

    ``g = gK_Tstbar * m^4 * h``; with ``u = v + 10``::

        m_inf = 1 / (1 + exp(-u/19)),          m_tau = (0.34 + 0.92 exp(-((u + 71)/59)^2)) / qt
        h_inf = 1 / (1 + exp((u + 66)/10)),    h_tau = (8 + 49 exp(-((u + 73)/23)^2)) / qt

    Returns
    -------
    m_inf, m_tau, h_inf, h_tau : ndarray
    """
    u = np.asarray(v, dtype=float) + 10.0
    qt = _qt(celsius)
    m_inf = 1.0 / (1.0 + np.exp(-u / 19.0))
    m_tau = (0.34 + 0.92 * np.exp(-(((u + 71.0) / 59.0) ** 2))) / qt
    h_inf = 1.0 / (1.0 + np.exp((u + 66.0) / 10.0))
    h_tau = (8.0 + 49.0 * np.exp(-(((u + 73.0) / 23.0) ** 2))) / qt
    return m_inf, m_tau, h_inf, h_tau


def im_rates(v, celsius=34.0):
    """Steady state and time constant of ``Im`` (Hay et al. 2011, after Adams et al. 1982).

    ``g = gImbar * m`` with ``m_alpha = 3.3e-3 exp(0.1 (v + 35))``, ``m_beta = 3.3e-3
    exp(-0.1 (v + 35))`` (1/ms), ``m_inf = a/(a + b)``, ``m_tau = 1/((a + b) qt)``.

    Returns
    -------
    m_inf, m_tau : ndarray
    """
    v = np.asarray(v, dtype=float)
    a = 3.3e-3 * np.exp(2.5 * 0.04 * (v + 35.0))
    b = 3.3e-3 * np.exp(-2.5 * 0.04 * (v + 35.0))
    return a / (a + b), 1.0 / ((a + b) * _qt(celsius))


def ca_hva_rates(v):
    """Steady states and time constants of ``Ca_HVA`` (Hay et al. 2011, after Reuveni et al. 1993).

    ``g = gCa_HVAbar * m^2 * h`` with (1/ms, no temperature factor)::

        m_alpha = 0.055 (-27 - v) / (exp((-27 - v)/3.8) - 1),   m_beta = 0.94 exp((-75 - v)/17)
        h_alpha = 0.000457 exp((-13 - v)/50),                   h_beta = 0.0065 / (exp((-v - 15)/28) + 1)

    Returns
    -------
    m_inf, m_tau, h_inf, h_tau : ndarray
    """
    v = np.asarray(v, dtype=float)
    ma = 0.055 * _xlinexp(v + 27.0, 3.8)
    mb = 0.94 * np.exp((-75.0 - v) / 17.0)
    ha = 0.000457 * np.exp((-13.0 - v) / 50.0)
    hb = 0.0065 / (np.exp((-v - 15.0) / 28.0) + 1.0)
    return ma / (ma + mb), 1.0 / (ma + mb), ha / (ha + hb), 1.0 / (ha + hb)


def ca_lvast_rates(v, celsius=34.0):
    """Steady states and time constants of ``Ca_LVAst`` (Hay et al. 2011, after Avery & Johnston
    1996 and Randall & Tsien 1997, shifted by -10 mV).

    ``g = gCa_LVAstbar * m^2 * h``; with ``u = v + 10``::

        m_inf = 1 / (1 + exp(-(u + 30)/6)),     m_tau = (5 + 20 / (1 + exp((u + 25)/5))) / qt
        h_inf = 1 / (1 + exp((u + 80)/6.4)),    h_tau = (20 + 50 / (1 + exp((u + 40)/7))) / qt

    Returns
    -------
    m_inf, m_tau, h_inf, h_tau : ndarray
    """
    u = np.asarray(v, dtype=float) + 10.0
    qt = _qt(celsius)
    m_inf = 1.0 / (1.0 + np.exp(-(u + 30.0) / 6.0))
    m_tau = (5.0 + 20.0 / (1.0 + np.exp((u + 25.0) / 5.0))) / qt
    h_inf = 1.0 / (1.0 + np.exp((u + 80.0) / 6.4))
    h_tau = (20.0 + 50.0 / (1.0 + np.exp((u + 40.0) / 7.0))) / qt
    return m_inf, m_tau, h_inf, h_tau


#: Calcium concentration (mM) below which SK_E2 adds 1e-7 mM (the published code's floor).
SK_E2_CA_FLOOR = 1e-7


def sk_e2_zinf(cai):
    """Steady-state activation of ``SK_E2`` (Hay et al. 2011, after Koehler et al. 1996).

    ``z_inf = 1 / (1 + (0.00043 / ca)^4.8)`` with ``ca = cai`` (mM), raised by 1e-7 mM where it
    is below 1e-7 mM; ``z_tau = 1 ms``. ``g = gSK_E2bar * z``. Independent of ``v``.
    """
    ca = np.asarray(cai, dtype=float)
    ca = np.where(ca < SK_E2_CA_FLOOR, ca + SK_E2_CA_FLOOR, ca)
    return 1.0 / (1.0 + (0.00043 / ca) ** 4.8)


def _gates(name, v, celsius, cai):
    """Steady-state ``(m_inf, h_inf or None)`` of a channel of :data:`CHANNELS`."""
    if name == "SK_E2":
        if cai is None:
            raise ValueError("SK_E2: the calcium concentration cai (mM) is required")
        z = sk_e2_zinf(cai) * np.ones_like(np.asarray(v, dtype=float))
        return z, None
    rates = {
        "NaTa_t": lambda: nata_t_rates(v, celsius),
        "Nap_Et2": lambda: nap_et2_rates(v, celsius),
        "SKv3_1": lambda: skv3_1_rates(v),
        "Ih": lambda: ih_rates(v),
        "K_Pst": lambda: k_pst_rates(v, celsius),
        "K_Tst": lambda: k_tst_rates(v, celsius),
        "Im": lambda: im_rates(v, celsius),
        "Ca_HVA": lambda: ca_hva_rates(v),
        "Ca_LVAst": lambda: ca_lvast_rates(v, celsius),
    }[name]()
    return rates[0], (rates[2] if len(rates) == 4 else None)


@dataclass(frozen=True)
class Channel:
    """A channel with Python kinetics (hand-written frozen conductance).

    Attributes
    ----------
    name : str
        Mechanism SUFFIX.
    gbar : str
        NEURON name of the density parameter (S/cm2).
    p, q : int
        Exponents of activation ``m`` and inactivation ``h`` in ``g = gbar * m^p * h^q``.
    reversal : str
        Name of the reversal potential (mV).
    """

    name: str
    gbar: str
    p: int
    q: int
    reversal: str

    def gates(self, v, celsius=34.0, cai=None):
        """Steady-state gates ``(m_inf, h_inf)`` at ``v`` (mV); ``h_inf`` is 1 without
        inactivation. ``cai`` (mM) is required by the calcium-gated ``SK_E2``."""
        m, hh = _gates(self.name, v, celsius, cai)
        return m, (np.ones_like(m) if hh is None else hh)

    def open_fraction(self, v, celsius=34.0, cai=None):
        """Steady-state ``m_inf^p * h_inf^q`` at ``v`` (mV), dimensionless."""
        m, hh = self.gates(v, celsius, cai)
        return m**self.p * hh**self.q


#: Channels with Python kinetics, by mechanism name (reference for tests).
CHANNELS = {
    "Ih": Channel("Ih", "gIhbar", 1, 0, "ehcn"),
    "NaTa_t": Channel("NaTa_t", "gNaTa_tbar", 3, 1, "ena"),
    "SKv3_1": Channel("SKv3_1", "gSKv3_1bar", 1, 0, "ek"),
    "Nap_Et2": Channel("Nap_Et2", "gNap_Et2bar", 3, 1, "ena"),
    "K_Pst": Channel("K_Pst", "gK_Pstbar", 2, 1, "ek"),
    "K_Tst": Channel("K_Tst", "gK_Tstbar", 4, 1, "ek"),
    "Im": Channel("Im", "gImbar", 1, 0, "ek"),
    "Ca_HVA": Channel("Ca_HVA", "gCa_HVAbar", 2, 1, "eca"),
    "Ca_LVAst": Channel("Ca_LVAst", "gCa_LVAstbar", 2, 1, "eca"),
    "SK_E2": Channel("SK_E2", "gSK_E2bar", 1, 0, "ek"),
}


def frozen_conductance(channel, gbar, v, celsius=34.0, cai=None):
    """Conductance of ``channel`` with its gates frozen at their steady state at ``v``.

    Parameters
    ----------
    channel : str
        A mechanism of :data:`CHANNELS`.
    gbar : float or array_like
        Maximal conductance density (S/cm2).
    v : float or array_like
        Potential (mV) at which the gates are frozen.
    celsius : float
        Temperature (degC); steady states do not depend on it (kept for symmetry).
    cai : float or array_like, optional
        Intracellular calcium (mM) at which ``SK_E2`` is frozen (required for it; e.g.
        :func:`lfpk.model.biophysics.calcium.resting_calcium`).

    Returns
    -------
    ndarray
        ``gbar * m_inf(v)^p * h_inf(v)^q`` (S/cm2).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; known channels: {sorted(CHANNELS)}")
    return np.asarray(gbar, dtype=float) * CHANNELS[channel].open_fraction(v, celsius, cai)
