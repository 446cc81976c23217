"""Intracellular calcium of Hay et al. (2011): the ``CaDynamics_E2`` shell and its resting state.

``CaDynamics_E2`` (Hay et al. 2011, PLoS Comput Biol 7:e1002107, after Destexhe et al. 1994,
J Comput Neurosci 1:195) keeps the free calcium of a submembrane shell of depth ``depth``::

    dcai/dt = -1e4 * gamma * ica / (2 F depth) - (cai - minCai) / decay        (mM/ms)

with ``ica`` in mA/cm2, ``depth`` in um, ``decay`` in ms and Faraday's constant ``F`` (C/mol).
The calcium currents ``ica = sum_c g_c (v - eca)`` depend on ``cai`` through the Nernst
potential ``eca = (R T / 2F) ln(cao / cai)``, so the resting concentration at a held potential is
the root of a scalar equation per segment (:func:`resting_calcium`). The calcium-gated SK
conductance of a frozen cell is evaluated there: this is what "frozen at V_rest" means for a
channel gated by a concentration.

Units: potentials mV, concentrations mM, currents mA/cm2, times ms, temperature degC.
"""

from __future__ import annotations

import numpy as np
from scipy import constants

from lfpk.model.biophysics.kinetics import CHANNELS

#: Faraday's constant (C/mol), e N_A exactly (SI 2019; NEURON 9's FARADAY).
FARADAY = constants.e * constants.N_A
#: Molar gas constant (J/(mol K)), k N_A exactly (SI 2019; NEURON 9's R).
GAS_CONSTANT = constants.k * constants.N_A
#: NEURON's default calcium concentrations (mM): cai0_ca_ion, cao0_ca_ion.
CAI0, CAO0 = 5e-5, 2.0
#: Calcium channels of Hay et al. (2011) with Python kinetics.
CALCIUM_CHANNELS = ("Ca_HVA", "Ca_LVAst")


def nernst(ci, co, valence, celsius):
    """Nernst reversal potential (mV) ``1e3 R T/(z F) ln(co/ci)`` (concentrations in any one unit)."""
    T = float(celsius) + 273.15
    return 1e3 * GAS_CONSTANT * T / (valence * FARADAY) * np.log(np.asarray(co, float) / np.asarray(ci, float))


def influx_factor(gamma, depth):
    """``k`` (mM/ms per mA/cm2) of ``dcai/dt = -k ica - ...``: ``1e4 gamma / (2 F depth)``.

    ``1e4`` converts (mA/cm2) / ((C/mol) um) to mM/ms.
    """
    return 1e4 * np.asarray(gamma, float) / (2.0 * FARADAY * np.asarray(depth, float))


def cadynamics_steady_state(ica, gamma, decay, depth=0.1, min_cai=1e-4):
    """Steady state of ``CaDynamics_E2`` at a constant calcium current.

    ``cai = minCai - decay * 1e4 * gamma * ica / (2 F depth)`` (mM).

    Parameters
    ----------
    ica : float or ndarray
        Calcium current density (mA/cm2, inward negative).
    gamma : float or ndarray
        Free (unbuffered) fraction of the entering calcium (1).
    decay : float or ndarray
        Removal time constant (ms).
    depth : float
        Shell depth (um).
    min_cai : float
        Floor of the removal (mM).
    """
    return min_cai - np.asarray(decay, float) * influx_factor(gamma, depth) * np.asarray(ica, float)


def cadynamics_relaxation(t, cai0, ica, gamma, decay, depth=0.1, min_cai=1e-4):
    """``cai(t)`` (mM) of ``CaDynamics_E2`` from ``cai0`` at a constant ``ica`` (mA/cm2), ``t`` in ms:
    ``c_ss + (cai0 - c_ss) exp(-t/decay)``."""
    c_ss = cadynamics_steady_state(ica, gamma, decay, depth, min_cai)
    return c_ss + (cai0 - c_ss) * np.exp(-np.asarray(t, float) / decay)


def calcium_conductance(v, gbar, celsius=34.0):
    """Summed steady-state conductance (S/cm2) of the calcium channels ``{name: gbar}`` at ``v``."""
    g = 0.0
    for name, gb in gbar.items():
        if name not in CALCIUM_CHANNELS:
            raise ValueError(f"{name!r} is not a calcium channel with Python kinetics ({', '.join(CALCIUM_CHANNELS)})")
        g = g + np.asarray(gb, float) * CHANNELS[name].open_fraction(v, celsius)
    return np.asarray(g, float)


def resting_calcium(v, gbar, gamma, decay, depth=0.1, min_cai=1e-4, cao=CAO0, celsius=34.0,
                    tol=1e-15, max_iter=200):
    """Steady-state ``cai`` (mM) of ``CaDynamics_E2`` at a held potential ``v``.

    Solves ``cai = minCai - decay k g_Ca(v) (v - eca(cai))`` with ``k`` of :func:`influx_factor`,
    ``g_Ca`` the calcium channels' steady-state conductance at ``v`` and ``eca`` Nernst's. The
    right-hand side changes with ``cai`` only through ``ln cai`` (slope ``decay k g_Ca R T /(2 F
    cai)``, tiny), so the fixed-point iteration converges geometrically from ``minCai``.

    Parameters
    ----------
    v : float or ndarray
        Held potential (mV), per segment.
    gbar : dict
        Calcium channel -> maximal conductance (S/cm2), scalar or per segment.
    gamma, decay, depth, min_cai : float or ndarray
        ``CaDynamics_E2`` parameters (1, ms, um, mM).
    cao : float
        Extracellular calcium (mM).
    celsius : float
        Temperature (degC).

    Returns
    -------
    ndarray
        Resting calcium (mM).
    """
    g = calcium_conductance(v, gbar, celsius)
    a = np.asarray(decay, float) * influx_factor(gamma, depth) * g
    v = np.asarray(v, float)
    cai = np.broadcast_to(np.asarray(min_cai, float), np.broadcast(v, a).shape).astype(float)
    for _ in range(max_iter):
        new = min_cai - a * (v - nernst(cai, cao, 2, celsius))
        if np.all(np.abs(new - cai) <= tol * np.abs(new)):
            return new
        cai = new
    raise RuntimeError("resting_calcium: the fixed-point iteration did not converge")
