"""lfpk: spike-to-signal kernels from linearised multicompartment neurons.

Implements the linearised framework of Hagen et al. (2022), PLOS Comput Biol 18(8):e1010353, and a
ground-truth multicompartment network to test it against. The public API (``docs/library.md``)::

    import lfpk

    cfg = lfpk.load_config("my_network.yaml")              # describes YOUR network
    kernels = lfpk.compute_kernels(cfg)                    # every connection, one xarray.Dataset
    spikes = lfpk.read_spikes("E=nest/brunel-E-*.dat", tstop=1000.0)   # or a list of sources
    counts = lfpk.population_counts(spikes, dt=kernels.attrs["dt"])
    prediction = lfpk.predict(kernels, counts)             # lfp, csd, cdm, eeg, meg (xarray)

Names are imported on first use (``import lfpk`` itself loads neither NEURON nor xarray). The
package is built in layers, each a folder importing only from the folders below it (see
``docs/architecture.md``): ``base`` < ``model`` < ``engines`` < ``figures`` < ``study`` < ``api``
< ``compat`` < ``entry``; the names above are the public API, whatever folder defines them.

lfpk never opens NEURON's windows: unless ``NEURON_MODULE_OPTIONS`` is set, it is set to ``-nogui``
before NEURON is first imported (which also silences NEURON's "no DISPLAY" warning on headless
machines and in every command's output).
"""

from __future__ import annotations

import importlib
import os

# before any `import neuron` (NEURON reads it once, at its first import): no GUI, no DISPLAY warning
os.environ.setdefault("NEURON_MODULE_OPTIONS", "-nogui")

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS = {
    # configuration
    "load_config": "lfpk.api.config", "validate_config": "lfpk.api.config", "ConfigError": "lfpk.api.config",
    # kernel engine
    "compute_kernels": "lfpk.api.kernels", "load_kernel_config": "lfpk.api.kernels", "CellProbe": "lfpk.api.kernels",
    "KernelEngine": "lfpk.engines.kernel", "KernelOptions": "lfpk.engines.kernel", "KernelError": "lfpk.engines.kernel",
    "kernel_dataset": "lfpk.engines.kernel", "gather_kernels": "lfpk.engines.kernel",
    # probes
    "GaussCylinderPotential": "lfpk.model.probes", "GaussCylinderCSD": "lfpk.model.probes",
    "UniformCylinderPotential": "lfpk.model.probes", "UniformCylinderCSD": "lfpk.model.probes",
    "CurrentDipoleMoment": "lfpk.model.probes", "PopulationAveragedModel": "lfpk.model.probes",
    "FourSphereEEG": "lfpk.model.probes", "MEG": "lfpk.model.probes", "probes_from_config": "lfpk.model.probes",
    # spikes
    "read_spikes": "lfpk.engines.spikes", "SpikeData": "lfpk.engines.spikes", "SpikeRecording": "lfpk.engines.spikes",
    "PopulationMap": "lfpk.engines.spikes", "population_counts": "lfpk.engines.spikes", "count_recording": "lfpk.engines.spikes",
    "SpikeInputError": "lfpk.engines.spikes", "SpikeWarning": "lfpk.engines.spikes",
    # spikes of other simulators and formats (SONATA, NWB, Neo, NEST recorders, Brian2 monitors)
    **{name: "lfpk.engines.spikes.formats" for name in ("read_sonata", "read_nwb", "from_neo", "from_nest",
                                                         "from_brian2")},
    # prediction
    "predict": "lfpk.engines.prediction.predict", "predict_files": "lfpk.api.prediction", "KernelBank": "lfpk.engines.prediction.streaming",
    "StreamingPredictor": "lfpk.engines.prediction.streaming", "OnlinePredictor": "lfpk.engines.prediction.online",
    # comparison
    "compare": "lfpk.engines.compare", "compare_files": "lfpk.engines.compare", "summary_table": "lfpk.engines.compare",
    # point-neuron network fitted to the ground truth (needs the pointnet extra: NEST, pymoo)
    "LIFParameters": "lfpk.study.pointnet", "LIFNetwork": "lfpk.study.pointnet", "fit_network": "lfpk.study.pointnet",
    # the study: weight scaling, hybrid scheme, single cells
    "weight_factors": "lfpk.model.rules", "ReplayNetwork": "lfpk.engines.network.replay", "run_replay": "lfpk.engines.network.replay",
    "hybrid_kernels": "lfpk.engines.network.replay", "step_responses": "lfpk.study.single_cell",
    # files and mechanisms
    "read_dataset": "lfpk.base.io", "write_dataset": "lfpk.base.io",
    "load_mechanisms": ("lfpk.base.mechanisms", "load"), "compile_mechanisms": "lfpk.base.mechanisms",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


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
