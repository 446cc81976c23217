"""Connection statistics of a kernel: synapse counts, placement, effective leak and delays."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

from lfpk.engines.kernel.errors import KernelError
from lfpk.model import connectivity, rules


def _distribution(spec, what):
    try:
        return rules.frozen_distribution(spec, what)
    except ValueError as exc:
        raise KernelError(str(exc)) from None


def multapse_pmf(spec, what="multapses"):
    """Probability of 1..99 synapses per connected pair (:func:`lfpk.model.rules.multapse_pmf`).

    Returns
    -------
    counts : ndarray of int, shape (99,)
    pmf : ndarray, shape (99,), sums to 1
    """
    try:
        return rules.multapse_pmf(spec, rules.MULTAPSE_MAX, what)
    except ValueError as exc:
        raise KernelError(str(exc)) from None


def mean_multapses(spec, what="multapses") -> float:
    """Expected number of synapses per connected pair (:func:`lfpk.model.rules.multapse_mean`)."""
    try:
        return rules.multapse_mean(spec, what)
    except ValueError as exc:
        raise KernelError(str(exc)) from None


@dataclass(frozen=True)
class SynapseCounts:
    """Synapse counts of one connection X -> Y.

    Attributes
    ----------
    K : float
        Expected total number of synapses ``C_YX * N_X * N_Y * E[multapses]``.
    k_in : float
        Expected synapses per postsynaptic cell, ``K / N_Y``.
    k_out : float
        Expected synapses activated per presynaptic spike, ``K / N_X``.
    mean_multapses : float
        Expected synapses per connected pair.
    """

    K: float
    k_in: float
    k_out: float
    mean_multapses: float


def synapse_counts(probability, N_pre, N_post, multapses) -> SynapseCounts:
    """Connection statistics of Hagen et al. (2022) for ``C_YX``, ``N_X``, ``N_Y`` and multapses."""
    if not 0.0 <= probability <= 1.0:
        raise KernelError(f"probability: C_YX must be in [0, 1], got {probability}")
    for name, n in (("N_pre", N_pre), ("N_post", N_post)):
        if n < 1:
            raise KernelError(f"{name}: population size must be >= 1, got {n}")
    m = mean_multapses(multapses)
    K = probability * N_pre * N_post * m
    return SynapseCounts(K=K, k_in=K / N_post, k_out=K / N_pre, mean_multapses=m)


def synapse_probabilities(segments, placement, z_mean=0.0, z_sd=0.0, allowed=None):
    """Probability of a synapse landing on each segment of the representative cell.

    Parameters
    ----------
    segments : dict
        Segment table (:mod:`lfpk.model.morphology.table`: z in um relative to the soma centre, area
        um2, section groups).
    placement : dict
        ``sections`` (allowed section groups) and ``densities``: list of ``{weight, mean, sd}``
        Gaussian depth densities (um, absolute depth).
    z_mean : float
        Mean soma depth of the postsynaptic population (um); the cell is placed there.
    z_sd : float
        Standard deviation of soma depths (um): each density's width becomes
        ``sqrt(sd**2 + z_sd**2)``.
    allowed : ndarray of bool, optional
        Segments in the placement's groups (default: from the segment table's type groups;
        :meth:`lfpk.model.Population.group_mask` knows config-defined groups too).

    Returns
    -------
    ndarray, shape (n_segments,)
        Probabilities, summing to 1.
    """
    sections = placement.get("sections")
    densities = placement.get("densities")
    if not sections or not densities:
        raise KernelError("placement: needs non-empty 'sections' and 'densities'")
    if allowed is None:
        try:
            allowed = connectivity.groups_mask(segments, sections)
        except ValueError as exc:
            raise KernelError(f"placement.sections: {exc}") from None
    if not np.any(allowed):
        raise KernelError(f"placement.sections: {sections} match no segment of the cell")
    for i, d in enumerate(densities):
        if "distribution" not in d and d["sd"] <= 0:
            raise KernelError(f"placement.densities[{i}].sd: must be > 0 (um), got {d['sd']}")
    try:  # the network's placement rule at the mean depth, densities averaged over the soma depths
        return connectivity.segment_probability(segments, z_mean, allowed, densities, z_sd)
    except ValueError as exc:
        raise KernelError(f"placement: {exc}") from None


def layered_synapse_probabilities(segments, depth, allowed, densities, fractions, bounds, what="placement.layers"):
    """Probability of a synapse on each segment of the representative cell for a placement by
    layer: the network's per-cell rule (:func:`lfpk.model.connectivity.layered_probability`)
    averaged over the soma depths ``depth`` (:class:`lfpk.model.description.SomaDepth`) by
    :func:`lfpk.model.connectivity.expected_layered_probability` (``docs/layers.md``)."""
    try:
        return connectivity.expected_layered_probability(segments, depth, allowed, densities, fractions, bounds)
    except ValueError as exc:
        raise KernelError(f"{what}: {exc}") from None


def mean_conductance(weight, rate, synapse):
    """Time-averaged conductance (uS) of synapses of peak conductance ``weight`` (uS) activated
    at ``rate`` (1/s): ``|weight| * rate * 1e-3 * integral of the peak-normalised time course (ms)``
    (Hagen et al. 2022, Methods, g_eff). Used by :func:`effective_leak` (expected synapses of the
    kernel cell) and by the hybrid scheme's reconstructions (each synapse of each cell,
    :mod:`lfpk.engines.network.replay`), so both apply one definition. Zero for a current synapse."""
    if not synapse.conductance_based:
        return np.zeros_like(np.asarray(weight, dtype=float))
    return np.abs(np.asarray(weight, dtype=float)) * float(rate) * 1e-3 * synapse.time_integral


#: S/cm2 per uS/um2.
S_PER_CM2_PER_US_PER_UM2 = 100.0


def effective_leak(segments, inputs, extrinsic=None):
    """Time-averaged synaptic conductance per membrane area, ``g_eff`` (S/cm2), per segment.

    Parameters
    ----------
    segments : dict
        Segment table (``area`` um2).
    inputs : iterable of (k_in, p, rate, synapse)
        Per presynaptic population: synapses per postsynaptic cell ``k_in``, per-segment
        probabilities ``p`` (n_segments,), presynaptic rate (1/s) and :class:`lfpk.model.Synapse`.
    extrinsic : tuple (count, rate, synapse), optional
        Extrinsic synapses per cell spread by area, their Poisson rate (1/s) and synapse.

    Notes
    -----
    Per synapse the mean conductance is ``|g| * rate * integral of the normalised time course``;
    1 uS/um2 = 100 S/cm2. Current-based synapses contribute no conductance.
    """
    area = segments["area"]
    mean_uS = np.zeros_like(area)
    for k_in, p, rate, syn in inputs:
        mean_uS += k_in * np.asarray(p) * mean_conductance(syn.mean_weight, rate, syn)
    if extrinsic is not None:
        count, rate, syn = extrinsic
        mean_uS += count * area / area.sum() * mean_conductance(syn.mean_weight, rate, syn)
    return mean_uS / area * S_PER_CM2_PER_US_PER_UM2


def delay_probabilities(spec, dt, n_lags, what="delays"):
    """Probability of a conduction delay of ``k dt``, k = 0..n-1, as the network draws delays
    (:func:`lfpk.model.connectivity.delay_step_probabilities`: rounded to the dt grid, at least one step,
    not below the distribution's lower bound), renormalised to the mass inside the window so the
    convolution preserves a kernel's integral. A distribution with mass on negative delays is an
    error (:func:`lfpk.model.connectivity.delay_distribution`, the same rule as the config and network).
    """
    try:
        mass = connectivity.delay_step_probabilities(spec, dt, n_lags, what)
    except ValueError as exc:
        raise KernelError(str(exc)) from None
    if mass.sum() <= 0:
        raise KernelError(f"{what}: no probability mass within the kernel window (0..{(n_lags - 1) * dt} ms)")
    return mass / mass.sum()


def convolve_delays(response, delay_p):
    """Causal convolution along the last axis of ``response`` (lags 0, dt, ...) with delay bins."""
    n = response.shape[-1]
    shape = (1,) * (response.ndim - 1) + (len(delay_p),)
    return fftconvolve(response, delay_p.reshape(shape), axes=-1)[..., :n]
