"""Population rates and rate spectra: what the point-neuron network is fitted to.

For a population X of N_X neurons, with spike counts c_X[k] in bins ``[k dt, (k+1) dt)`` (the
binning rule of :mod:`lfpk.model.rules`, bin ``floor(t / dt + 1e-6)``) over the analysis window
``transient <= k dt < tstop`` (n bins):

* mean rate  ``nu_X = sum_k c_X[k] / (N_X n dt)``  (1/s per neuron, dt in s);
* population rate ``r_X[k] = c_X[k] / dt`` (spikes of the whole population per second) and its
  rate spectrum ``S_X(f)``: Welch estimate (:func:`scipy.signal.welch`, Hann window, segments of
  ``spectrum.segment`` ms, overlap fraction ``spectrum.overlap``, mean removed per segment,
  one-sided density) at ``f <= spectrum.fmax`` ((1/s)^2/Hz).

The study (Hagen et al. 2022, ``Fit_LIF_net.py``) used segments of 2048 samples at 16 kHz
(128 ms) overlapping by 1536 (0.75), up to 200 Hz, and the four objectives of
:func:`objectives`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from lfpk.engines.spikes.maps import as_population_map
from lfpk.model.rules import bin_index

#: Objective names (per population X): |nu_X - nu_X^target| and sum_f |S_X(f) - S_X^target(f)|.
OBJECTIVE_KINDS = (("rate", "1/s", "|mean rate - target mean rate|"),
                   ("spectrum", "(1/s)^2/Hz", "sum over f <= fmax of |rate spectrum - target rate spectrum|"))


@dataclass
class RateFeatures:
    """Mean rates and rate spectra of the populations.

    Attributes
    ----------
    populations : list of str
    rates : ndarray (population,)
        Mean rate per neuron (1/s).
    frequency : ndarray (frequency,)
        Hz.
    spectra : ndarray (population, frequency)
        Rate spectra of the population rates ((1/s)^2/Hz).
    """

    populations: list
    rates: np.ndarray
    frequency: np.ndarray
    spectra: np.ndarray


def window_bins(dt, transient, tstop):
    """First bin and number of bins of the analysis window ``transient <= k dt < tstop``."""
    k0 = int(np.ceil(transient / dt - 1e-9))
    k1 = int(np.ceil(tstop / dt - 1e-9))
    return k0, k1 - k0


def window_counts(times, dt, transient, tstop):
    """Spike counts per bin of the analysis window (ndarray (n,) int64).

    Parameters
    ----------
    times : ndarray
        Spike times of one population (ms).
    """
    k0, n = window_bins(dt, transient, tstop)
    k = bin_index(times, dt, np.iinfo(np.int64).max) - k0  # the network's and predictions' binning rule
    k = k[(k >= 0) & (k < n)]
    return np.bincount(k, minlength=n).astype(np.int64)


def mean_rates(times, sizes, dt, transient, tstop):
    """Population -> mean rate per neuron (1/s) over the analysis window ``[transient, tstop)``
    (NaN for an empty window)."""
    k0, n = window_bins(dt, transient, tstop)
    return {name: float(window_counts(t, dt, transient, tstop).sum() / (sizes[name] * n * dt * 1e-3)) if n > 0
            else np.nan for name, t in times.items()}


def welch_parameters(dt, spectrum):
    """(sampling rate Hz, nperseg, noverlap) of the rate spectra for bin width ``dt`` (ms)."""
    fs = 1000.0 / dt
    nperseg = int(round(float(spectrum["segment"]) / dt))
    noverlap = int(round(float(spectrum["overlap"]) * nperseg))
    return fs, nperseg, noverlap


def rate_features(times, sizes, dt, transient, tstop, spectrum):
    """Mean rates and rate spectra of every population.

    Parameters
    ----------
    times : dict
        Population -> spike times (ms).
    sizes : dict
        Population -> number of neurons.
    dt : float
        Bin width (ms).
    transient, tstop : float
        Analysis window ``[transient, tstop)`` (ms).
    spectrum : dict
        ``segment`` (ms), ``overlap`` (fraction), ``fmax`` (Hz).

    Returns
    -------
    RateFeatures
    """
    pops = list(times)
    fs, nperseg, noverlap = welch_parameters(dt, spectrum)
    k0, n = window_bins(dt, transient, tstop)
    if n < nperseg:
        raise ValueError(f"analysis window [{transient:g}, {tstop:g}) ms is shorter than one rate-spectrum segment "
                         f"(pointnet.fit.spectrum.segment {spectrum['segment']} ms); expected a longer simulation")
    spectra, freq = [], None
    rates = mean_rates(times, sizes, dt, transient, tstop)
    for name in pops:
        c = window_counts(times[name], dt, transient, tstop)
        freq, psd = signal.welch(c / (dt * 1e-3), fs=fs, nperseg=nperseg, noverlap=noverlap, detrend="constant")
        keep = freq <= float(spectrum["fmax"])
        spectra.append(psd[keep])
        freq = freq[keep]
    return RateFeatures(pops, np.array([rates[p] for p in pops]), np.asarray(freq), np.array(spectra))


def objective_names(populations):
    return [f"{kind} {p}" for kind, _, _ in OBJECTIVE_KINDS for p in populations]


def objective_units(populations):
    return [units for _, units, _ in OBJECTIVE_KINDS for _ in populations]


def objectives(target, candidate):
    """The fit's objectives (Hagen et al. 2022, ``Fit_LIF_net.py``), to be minimised.

    ``[|nu_X - nu_X^t| for X] + [sum_f |S_X(f) - S_X^t(f)| for X]`` (1/s, (1/s)^2/Hz).
    """
    if list(target.populations) != list(candidate.populations):
        raise ValueError(f"populations differ: {target.populations} vs {candidate.populations}")
    if target.spectra.shape != candidate.spectra.shape or not np.allclose(target.frequency, candidate.frequency):
        raise ValueError("rate spectra of target and candidate are on different frequencies")
    return np.concatenate([np.abs(candidate.rates - target.rates),
                           np.abs(candidate.spectra - target.spectra).sum(axis=1)])


def times_by_population(spikes):
    """Population -> spike times (ms) of a :class:`lfpk.engines.spikes.SpikeData`."""
    return {name: spikes.times[spikes.population_index == i] for i, name in enumerate(spikes.populations)}


def sizes_of(spikes):
    """Population -> number of units of a :class:`lfpk.engines.spikes.SpikeData` (from its unit map)."""
    pmap = as_population_map(spikes.unit_population)
    if pmap is None:
        raise ValueError(f"{spikes.source}: no unit->population map, so the population sizes are unknown")
    return {name: int(pmap.size(name)) for name in spikes.populations}
