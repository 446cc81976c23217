"""Library entry points that span stages: every connection's kernels in one call.

:func:`compute_kernels` returns the gathered kernels of a configuration (one ``xarray.Dataset`` with
dims ``post, pre, <channel>, lag``, the layout :func:`lfpk.engines.prediction.predict.predict` and ``kernels.nc`` use),
computing each connection with :class:`lfpk.engines.kernel.KernelEngine`. Probes are those of the
configuration, or objects given as a list -- lfpk's probes (:mod:`lfpk.model.probes`) or any LFPykit
``LinearModel`` applied to the representative cell, as LFPykernels takes them.

The kernels must describe the network whose spikes they are convolved with: its populations and
sizes, connection probabilities, multapses, delays, synapses, morphologies and biophysics, and
(for g_eff) its rates -- see ``docs/library.md``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from lfpk.api.config import load_config, validate_config
from lfpk.base.io import write_dataset
from lfpk.engines.kernel import KernelEngine, gather_kernels
from lfpk.engines.kernel.batch import kernel_datasets
from lfpk.engines.kernel.inputs import kernel_inputs
from lfpk.model import probes as probes_module
from lfpk.model.probes import as_cell_geometry

#: probe names given to lfpk's probe classes when probes come as a list
_PROBE_NAMES = {"GaussCylinderPotential": "lfp", "GaussCylinderCSD": "csd", "CurrentDipoleMoment": "cdm",
                "FourSphereEEG": "eeg", "MEG": "meg"}


def load_kernel_config(config):
    """A validated configuration from a path or a dict; returns ``(cfg, description)``."""
    if isinstance(config, dict):
        return validate_config(copy.deepcopy(config)), "<config dict>"
    return load_config(config), str(config)


class CellProbe:
    """An LFPykit ``LinearModel`` (e.g. ``PointSourcePotential``) applied to the kernel cell.

    The model is evaluated for the representative cell of the postsynaptic population at the
    population's mean soma position (not averaged over the population), as LFPykernels does for
    models other than its own population-averaged ones.

    Parameters
    ----------
    model : lfpykit.LinearModel
        Its ``cell`` is replaced by the kernel cell's geometry (an ``lfpykit.CellGeometry``).
    name : str
        Signal name in the kernels (default: the class name in lower case).
    units, long_name : str
        Units and description of the model's output.
    """

    input = "imem"

    def __init__(self, model, name=None, units="1", long_name=None):
        self.model = model
        self.name = name or type(model).__name__.lower()
        self.units = units
        self.long_name = long_name or f"{type(model).__name__} of the kernel cell"
        self.channel_dim = f"{self.name}_channel"
        self.channel_coord = None
        self.channel_attrs = {"long_name": f"{self.name} channel"}

    def bind(self, geometry):
        """A copy evaluated on ``geometry`` (the kernel cell's segments)."""
        out = copy.copy(self)
        out.model = copy.copy(self.model)
        out.model.cell = as_cell_geometry(geometry)
        M = np.asarray(out.model.get_transformation_matrix(), dtype=float)
        out.channel_coord = np.arange(M.shape[0])
        return out

    def get_transformation_matrix(self):
        return np.asarray(self.model.get_transformation_matrix(), dtype=float)


def _probe_name(probe):
    return getattr(probe, "name", None) or _PROBE_NAMES.get(type(probe).__name__) or type(probe).__name__.lower()


def probe_factory(probes):
    """Turn a list (or dict name -> probe) of probe objects into the engine's per-population factory.

    lfpk probes (:mod:`lfpk.model.probes`) are copied per population and given its kernel cell; their
    population parameters (R, sigma_z) are the ones they were built with. Other objects with
    ``get_transformation_matrix`` and a ``cell`` (LFPykit models) are wrapped in :class:`CellProbe`.
    """
    if isinstance(probes, dict):
        items = list(probes.items())
    else:
        items = [(_probe_name(p), p) for p in probes]
    names = [n for n, _ in items]
    if len(set(names)) != len(names):
        raise ValueError(f"probes: names {names} repeat; give a dict name -> probe")
    if not items:
        raise ValueError("probes: give at least one probe")
    lfpk_classes = tuple(getattr(probes_module, c) for c in (
        "GaussCylinderPotential", "GaussCylinderCSD", "CurrentDipoleMoment", "PopulationAveragedModel",
        "FourSphereEEG", "MEG"))

    def factory(pop):
        geometry = pop.geometry()
        out = {}
        for name, probe in items:
            if isinstance(probe, CellProbe):
                out[name] = probe.bind(geometry)
            elif isinstance(probe, lfpk_classes):
                p = copy.copy(probe)
                if hasattr(p, "cell") and getattr(p, "input", "imem") == "imem":
                    p.cell = geometry
                out[name] = p
            elif hasattr(probe, "get_transformation_matrix") and hasattr(probe, "cell"):
                out[name] = CellProbe(probe, name).bind(geometry)
            else:
                raise ValueError(f"probes: {probe!r} is not a probe (expected an lfpk probe or an LFPykit LinearModel)")
        if "cdm" not in out and any(getattr(p, "input", "imem") == "cdm" for p in out.values()):
            raise ValueError("probes: EEG/MEG probes need a CurrentDipoleMoment probe in the list")
        return out

    return factory


def compute_kernels(config, rates=None, V_rest=None, membrane=None, v_rest_mode="scalar", connections=None,
                    probes=None, biophysics=None, g_eff=None, form=None, tau=None):
    """Kernels H_YX of every connection of a configuration, gathered into one dataset.

    Parameters
    ----------
    config : path-like or dict
        Study configuration (validated; :func:`lfpk.load_config`). It must describe the network the
        kernels are meant for (``docs/library.md``).
    rates : dict, optional
        Presynaptic rates (1/s) for g_eff, overriding ``kernel.rates`` (e.g. measured rates).
    V_rest : float or dict, optional
        Linearisation potential (mV), overriding ``kernel.V_rest`` (one value or per population).
    membrane : path-like, optional
        Ground-truth ``membrane.nc``: V_rest and rates from it (as ``lfpk kernel --membrane``).
    v_rest_mode : {'scalar', 'segment'}
        With ``membrane``: somatic median or per-segment medians.
    connections : list of (post, pre), optional
        Subset of connections (default all of the configuration).
    probes : list or dict, optional
        Probe objects instead of the configuration's probes (:func:`probe_factory`).
    biophysics, g_eff, form, tau
        Override the configuration's kernel options.

    Returns
    -------
    xarray.Dataset
        Dims ``post, pre, <channel dims>, lag``: one variable per probe, attributes ``dt``,
        ``form``, ``rates_used`` (JSON), ``g_eff_on``, ``parameters`` (the configuration subset),
        ready for :func:`lfpk.predict`.
    """
    cfg, _ = load_kernel_config(config)
    cfg = copy.deepcopy(cfg)
    if rates:
        cfg["kernel"]["rates"].update({str(k): float(v) for k, v in rates.items()})
    if V_rest is not None and not isinstance(V_rest, dict):
        cfg["kernel"]["V_rest"] = float(V_rest)
    cfg = validate_config(cfg)
    V, rate_values, provenance = kernel_inputs(cfg, membrane, v_rest_mode)
    if rates:
        rate_values.update({str(k): float(v) for k, v in rates.items()})
        provenance["rates"] = "given (measured)"
    if isinstance(V_rest, dict):
        V.update({str(k): v for k, v in V_rest.items()})
        provenance["V_rest"] = "given"
    options = {k: v for k, v in (("biophysics", biophysics), ("g_eff", g_eff), ("form", form), ("tau", tau))
               if v is not None}
    engine = KernelEngine.from_config(cfg, **options)
    if probes is not None:
        engine._probe_factory = probe_factory(probes)
    pairs = connections or [(c["post"], c["pre"]) for c in cfg["connections"]]
    return gather_kernels(ds for _, _, ds, _ in kernel_datasets(engine, cfg, pairs, V, rate_values, provenance))


def write_kernels_file(kernels, path):
    """Write gathered kernels (e.g. from :func:`compute_kernels`) to ``path`` (atomic)."""
    return write_dataset(kernels, Path(path))
