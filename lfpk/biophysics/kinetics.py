"""Published channel kinetics written in Python, independently of the NMODL files.

Hay et al. (2011), PLoS Comput Biol 7:e1002107 (and the sources it cites): steady states and time
constants of ``NaTa_t``, ``SKv3_1``, ``Ih`` and ``Nap_Et2``. The tests compare the compiled
NMODL mechanisms (``mod/``) against these equations, and :func:`frozen_conductance` is the
hand-written frozen conductance ``gbar * m_inf^p * h_inf^q`` the generic linearisation of
:mod:`lfpk.biophysics.linear` is checked against.

Units: potentials mV, times ms, specific conductances S/cm2, temperature degC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import exprel

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
    qt = NATA_T_Q10 ** ((celsius - NATA_T_T_REF) / 10.0)
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

    def gates(self, v, celsius=34.0):
        """Steady-state gates ``(m_inf, h_inf)`` at ``v`` (mV); ``h_inf`` is 1 without inactivation."""
        if self.name == "NaTa_t":
            m, _, hh, _ = nata_t_rates(v, celsius)
            return m, hh
        if self.name == "Nap_Et2":
            m, _, hh, _ = nap_et2_rates(v, celsius)
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


#: Channels with Python kinetics, by mechanism name (reference for tests).
CHANNELS = {
    "Ih": Channel("Ih", "gIhbar", 1, 0, "ehcn"),
    "NaTa_t": Channel("NaTa_t", "gNaTa_tbar", 3, 1, "ena"),
    "SKv3_1": Channel("SKv3_1", "gSKv3_1bar", 1, 0, "ek"),
    "Nap_Et2": Channel("Nap_Et2", "gNap_Et2bar", 3, 1, "ena"),
}


def frozen_conductance(channel, gbar, v, celsius=34.0):
    """Conductance of ``channel`` with its gates frozen at their steady state at ``v``.

    Parameters
    ----------
    channel : str
        ``Ih``, ``NaTa_t``, ``SKv3_1`` or ``Nap_Et2``.
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
