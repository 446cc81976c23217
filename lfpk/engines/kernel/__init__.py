"""Spike-to-signal kernels H_YX from linearised multicompartment neurons.

Method of Hagen et al. (2022), PLOS Comput Biol 18:e1010353 ("Brain signal predictions from
multi-scale networks using a linearized framework", Methods): the signal produced by the whole
postsynaptic population Y in response to one spike of one neuron of the presynaptic population X
is computed from one representative cell of Y placed at the population's mean depth:

- connection statistics: ``K_YX = C_YX * N_X * N_Y * E[multapses]`` synapses in total,
  ``k_in = K_YX / N_Y`` per postsynaptic cell, ``k_out = K_YX / N_X`` activated per presynaptic spike
  (times the type's in-degree factor f_y for a population with cell types and
  ``connections[].indegree_factors``, ``docs/layers.md``);
- per-segment synapse probability ``p_i ∝ area_i * sum_h w_h f_h(z_i)`` on the allowed sections,
  each Gaussian depth density ``f_h`` broadened to ``sqrt(sd_h**2 + z_sd**2)`` for the spread of
  somata in depth;
- a conductance synapse (weight g, reversal E) linearised around V_rest becomes a current synapse of
  amplitude ``-g * (V_rest - E)`` (nA) with the same time course; all ``k_out`` synapses are
  activated at once, segment i receiving the fraction ``p_i``;
- optionally (``g_eff``) each segment's leak is raised by the time-averaged conductance of all the
  synapses it receives (recurrent from every population, ``k_in * p_i`` synapses at rate ``nu_X``,
  and extrinsic, ``n_ext`` synapses spread by area at ``nu_ext``);
- transmembrane currents are mapped to every probe by its linear matrix, convolved with the
  conduction-delay distribution on the lag grid and made causal.

The cell is linear (``passive``, ``frozen`` or ``quasi_linear`` biophysics, see
:mod:`lfpk.model.biophysics.linear`), starts at rest and needs no settling time. One :class:`KernelCell`
per postsynaptic population is built once and re-parametrised in place, so scans over rates and
V_rest cost one short simulation each. Populations and connections come from the model
description (:mod:`lfpk.model`), the same the ground-truth network is built from.

Modules: :mod:`~lfpk.engines.kernel.statistics` (counts, placement, g_eff, delays),
:mod:`~lfpk.engines.kernel.cell` (the linear cell), :mod:`~lfpk.engines.kernel.engine` (options and engine),
:mod:`~lfpk.engines.kernel.dataset` (netCDF output), :mod:`~lfpk.engines.kernel.inputs` (V_rest, rates and
parameters of kernels from a config and a ground-truth membrane file), :mod:`~lfpk.engines.kernel.batch`
(kernels of several connections from one engine).
"""

from lfpk.engines.kernel.batch import engine_kernels, kernel_datasets
from lfpk.engines.kernel.cell import DELETED, KERNEL_BIOPHYSICS, KernelCell
from lfpk.engines.kernel.dataset import gather_kernels, kernel_dataset
from lfpk.engines.kernel.engine import KernelEngine, KernelOptions
from lfpk.engines.kernel.errors import KernelError
from lfpk.engines.kernel.inputs import kernel_inputs, kernel_parameters
from lfpk.engines.kernel.statistics import (
    SynapseCounts,
    convolve_delays,
    delay_probabilities,
    effective_leak,
    mean_multapses,
    multapse_pmf,
    synapse_counts,
    synapse_probabilities,
)
from lfpk.model.synapse import SYNAPSE_MODELS, Synapse

__all__ = [
    "DELETED",
    "KERNEL_BIOPHYSICS",
    "SYNAPSE_MODELS",
    "KernelCell",
    "KernelEngine",
    "KernelError",
    "KernelOptions",
    "Synapse",
    "SynapseCounts",
    "convolve_delays",
    "delay_probabilities",
    "effective_leak",
    "engine_kernels",
    "gather_kernels",
    "kernel_dataset",
    "kernel_datasets",
    "kernel_inputs",
    "kernel_parameters",
    "mean_multapses",
    "multapse_pmf",
    "synapse_counts",
    "synapse_probabilities",
]
