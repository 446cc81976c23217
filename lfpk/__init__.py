"""lfpk: spike-to-signal kernels from linearised multicompartment neurons.

Implements the linearised framework of Hagen et al. (2022), PLOS Comput Biol 18(8):e1010353, and a
ground-truth multicompartment network to test it against. The public API (``docs/library.md``)::

    import lfpk

    cfg = lfpk.load_config("my_network.yaml")              # describes YOUR network
    kernels = lfpk.compute_kernels(cfg)                    # every connection, one xarray.Dataset
    spikes = lfpk.read_spikes("E=nest/brunel-E-*.dat", tstop=1000.0)   # or a list of sources
    counts = lfpk.population_counts(spikes, dt=kernels.attrs["dt"])
    prediction = lfpk.predict(kernels, counts)             # lfp, csd, cdm, eeg, meg (xarray)

Names are imported on first use (``import lfpk`` itself loads neither NEURON nor xarray).
``lfpk.predict`` and ``lfpk.compare`` are the functions; their modules are ``sys.modules['lfpk.predict']``
and ``sys.modules['lfpk.compare']`` (``from lfpk.predict import predict_files`` works as usual).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS = {
    # configuration
    "load_config": "lfpk.config", "validate_config": "lfpk.config", "ConfigError": "lfpk.config",
    # kernel engine
    "compute_kernels": "lfpk.api", "load_kernel_config": "lfpk.api", "CellProbe": "lfpk.api",
    "KernelEngine": "lfpk.kernel", "KernelOptions": "lfpk.kernel", "KernelError": "lfpk.kernel",
    "kernel_dataset": "lfpk.kernel", "gather_kernels": "lfpk.kernel",
    # probes
    "GaussCylinderPotential": "lfpk.probes", "GaussCylinderCSD": "lfpk.probes",
    "CurrentDipoleMoment": "lfpk.probes", "PopulationAveragedModel": "lfpk.probes",
    "FourSphereEEG": "lfpk.probes", "MEG": "lfpk.probes", "probes_from_config": "lfpk.probes",
    # spikes
    "read_spikes": "lfpk.spikes", "SpikeData": "lfpk.spikes", "SpikeRecording": "lfpk.spikes",
    "PopulationMap": "lfpk.spikes", "population_counts": "lfpk.spikes", "count_recording": "lfpk.spikes",
    "SpikeInputError": "lfpk.spikes", "SpikeWarning": "lfpk.spikes",
    # prediction
    "predict": "lfpk.predict", "predict_files": "lfpk.predict", "KernelBank": "lfpk.streaming",
    "StreamingPredictor": "lfpk.streaming", "OnlinePredictor": "lfpk.online",
    # comparison
    "compare": "lfpk.compare", "compare_files": "lfpk.compare", "summary_table": "lfpk.compare",
    # point-neuron network fitted to the ground truth (needs the pointnet extra: NEST, pymoo)
    "LIFParameters": "lfpk.pointnet", "LIFNetwork": "lfpk.pointnet", "fit_network": "lfpk.pointnet",
    # the study: weight scaling, hybrid scheme, single cells
    "weight_factors": "lfpk.model.rules", "ReplayNetwork": "lfpk.network.replay", "run_replay": "lfpk.network.replay",
    "hybrid_kernels": "lfpk.network.replay", "step_responses": "lfpk.single_cell",
    # files and mechanisms
    "read_dataset": "lfpk.io", "write_dataset": "lfpk.io",
    "load_mechanisms": ("lfpk.mechanisms", "load"), "compile_mechanisms": "lfpk.mechanisms",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

# `predict` and `compare` are also submodule names: importing the submodules here and binding the
# functions afterwards keeps `lfpk.predict` / `lfpk.compare` the functions whatever is imported later
# (a submodule sets its attribute on the package only when it is first loaded). Both load numpy only.
from lfpk.compare import compare  # noqa: E402
from lfpk.predict import predict  # noqa: E402


def __getattr__(name):
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'lfpk' has no attribute {name!r}")
    module, attr = target if isinstance(target, tuple) else (target, name)
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
