"""Model layer: the model description every engine shares, plain Python, separate from the NEURON
builders (:mod:`lfpk.engines.network`, :mod:`lfpk.engines.kernel`).

Populations and connections of a network (:class:`NetworkModel`, :func:`from_config`) and the
rules every stage shares (:mod:`~lfpk.model.rules`: weight scaling, multapses, spike binning,
kernel variants); below them in this folder the cells' morphology (:mod:`~lfpk.model.morphology`)
and biophysics (:mod:`~lfpk.model.biophysics`), the forward models (:mod:`~lfpk.model.probes`),
rank-independent placement and synapses (:mod:`~lfpk.model.connectivity`) and the probe matrices
of a cell (:mod:`~lfpk.model.recording`). See ``docs/architecture.md``."""

from lfpk.model.description import (
    Connection,
    NetworkModel,
    Population,
    build,
    check_groups,
    from_config,
    mod_dirs,
    morphologies,
    segment_positions,
)
from lfpk.model.paths import input_files, resolve_paths
from lfpk.model.times import check_times, time_errors
from lfpk.model.synapse import SYNAPSE_MODELS, Synapse, SynapseError

__all__ = [
    "Connection", "NetworkModel", "Population", "Synapse", "SynapseError", "SYNAPSE_MODELS", "build",
    "check_groups", "from_config", "mod_dirs", "morphologies", "segment_positions", "input_files", "resolve_paths",
    "check_times", "time_errors",
]
