"""The model description: populations and connections of a network, and the rules every stage
shares (weight scaling, multapses, spike binning, kernel variants). Plain Python, separate from
the NEURON builders (:mod:`lfpk.engines.network`, :mod:`lfpk.engines.kernel`)."""

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
from lfpk.model.synapse import SYNAPSE_MODELS, Synapse, SynapseError

__all__ = [
    "Connection", "NetworkModel", "Population", "Synapse", "SynapseError", "SYNAPSE_MODELS", "build",
    "check_groups", "from_config", "mod_dirs", "morphologies", "segment_positions", "input_files", "resolve_paths",
]
