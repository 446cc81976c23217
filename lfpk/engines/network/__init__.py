"""Ground-truth network: conductance-based ball-and-stick E/I network simulated with NEURON.

The network of Hagen et al. (2022) built directly on NEURON (no ``LFPy.Network``), MPI-parallel
and reproducible for any number of ranks:

* cells distributed round-robin by gid over the ranks of a ``ParallelContext``;
* placement, connectivity and extrinsic synapse counts from per-cell random streams keyed by
  (seed, gid) (:mod:`lfpk.model.connectivity`); extrinsic Poisson trains from Random123 streams keyed
  by (gid, segment, seed) (drawn inside ``Exp2SynSum``, bitwise the trains of
  ``NetStim.noiseFromRandom123``, which ``extrinsic_drive="netstim"`` still uses);
* exact lumping: one ``Exp2SynSum`` (``mod/exp2synsum.mod``: Exp2Syn summing the weights of the
  events of a time step before applying them, so the state does not depend on their delivery
  order) per (cell, segment, synapse type (tau1, tau2, e)) fed by one ``NetCon`` per synapse (own
  weight, quantised to multiples of :data:`WEIGHT_QUANTUM` so all sums of weights are exact, and
  delay); the extrinsic drive of one segment is one Poisson train at the summed rate
  ``count * rate`` (a sum of independent Poisson processes is Poisson) on the same lumped synapse;
* transmembrane currents (``cvode.use_fast_imem``) of all local segments gathered after every
  time step into a preallocated block buffer by one numpy gather from NEURON's node storage
  (:class:`lfpk.engines.network.currents.SegmentReader`)
  (``CVode.extra_scatter_gather`` callback), mapped to the probes every block per cell with a
  fixed operation order, rounded to int64 fixed point and summed exactly over cells and ranks
  (:func:`lfpk.model.recording.cell_sums`); per-segment currents are never stored beyond one block;
* signals summed over ranks by an exact MPI reduction every block and written into signals.nc as
  the run goes (:meth:`Network.stream_signals`, :func:`streamed_outputs`), so rank memory does not
  grow with the simulated time or the rank count by the signals;
* outputs (spikes, signals, membrane potentials) bitwise identical for any number of ranks;
* spikes of every cell, membrane potentials of ``recording.membrane_sample`` cells per
  population (every segment, sampled every ``recording.membrane_dt`` ms, default 1 ms).

Cells, connections and biophysics come from the model description (:mod:`lfpk.model`): any
morphology (ball-and-stick or file, rotated), any mechanisms per section group, any number of
populations; spikes are detected at the soma centre.

Run ``python -m lfpk network --config config/config.yaml --outdir results/laptop/network/default``
or under MPI ``mpiexec -n 2 python -m lfpk network ...``; see :func:`main` for the options.
Outputs (``spikes.nc``, ``signals.nc``, ``membrane.nc``) follow ``docs/network.md``.

Modules: :mod:`~lfpk.base.mpi` (MPI start), :mod:`~lfpk.engines.network.simulation` (the
:class:`Network`, put together from :mod:`~lfpk.engines.network.cells` (building the cells),
:mod:`~lfpk.engines.network.wiring` (connecting them), :mod:`~lfpk.engines.network.signals` (recording
and streaming the signals, read by :mod:`~lfpk.engines.network.currents`),
:mod:`~lfpk.engines.network.running` (initialising and integrating) and
:mod:`~lfpk.engines.network.results` (combining the ranks' results)),
:mod:`~lfpk.engines.network.replay` (the hybrid scheme), :mod:`~lfpk.engines.network.datasets` (netCDF
outputs, :func:`run_network`), :mod:`~lfpk.entry.cli.network` (command line).
"""

from lfpk.engines.network.cells import (
    DEFAULT_SPIKE_THRESHOLD,
    EXTRINSIC_DRIVES,
    SUMMING_MODELS,
    WEIGHT_QUANTUM,
    poisson_source,
    quantise_weights,
)
from lfpk.engines.network.datasets import (
    SIGNAL_VARIABLES,
    SignalsWriter,
    datasets,
    datasets_rates,
    run_network,
    signal_values,
    signals_template,
    streamed_outputs,
    write_outputs,
)
from lfpk.engines.network.results import combine, reduce_exact
from lfpk.engines.network.running import PROGRESS_CHUNKS
from lfpk.engines.network.simulation import DEFAULT_BLOCK, Network, scaled_probabilities

__all__ = [
    "DEFAULT_BLOCK", "DEFAULT_SPIKE_THRESHOLD", "EXTRINSIC_DRIVES", "PROGRESS_CHUNKS", "SIGNAL_VARIABLES",
    "SUMMING_MODELS", "WEIGHT_QUANTUM", "Network", "SignalsWriter", "combine", "datasets",
    "datasets_rates", "poisson_source",
    "quantise_weights", "reduce_exact", "run_network", "scaled_probabilities", "signal_values", "signals_template",
    "streamed_outputs", "write_outputs",
]
