"""Library entry points that span stages: every connection's kernels in one call.

:func:`compute_kernels` returns the gathered kernels of a configuration (one ``xarray.Dataset`` with
dims ``post, pre, <channel>, lag``, the layout :func:`lfpk.engines.prediction.predict.predict` and ``kernels.nc`` use),
computing each connection with :class:`lfpk.engines.kernel.KernelEngine`. Probes are those of the
configuration, or objects given as a list -- lfpk's probes (:mod:`lfpk.model.probes`), LFPykit's
point- and line-source models averaged over the population as LFPykernels averages them, or any
LFPykit ``LinearModel`` on the one representative cell when wrapped in :class:`CellProbe`
(:func:`probe_factory`).

The kernels must describe the network whose spikes they are convolved with: its populations and
sizes, connection probabilities, multapses, delays, synapses, morphologies and biophysics, and
(for g_eff) its rates -- see ``docs/library.md``.
"""

from __future__ import annotations

import copy
import json
import os
from collections import OrderedDict
from pathlib import Path

import numpy as np

from lfpk.api.config import ConfigError, load_config, read_config_file, validate_config
from lfpk.base.io import write_dataset
from lfpk.engines.kernel import KernelEngine, gather_kernels
from lfpk.engines.kernel.batch import kernel_datasets
from lfpk.engines.kernel.inputs import kernel_inputs
from lfpk.model import probes as probes_module
from lfpk.model.probes import as_cell_geometry

#: probe names given to lfpk's probe classes when probes come as a list
_PROBE_NAMES = {"GaussCylinderPotential": "lfp", "GaussCylinderCSD": "csd", "UniformCylinderPotential": "lfp",
                "UniformCylinderCSD": "csd", "CurrentDipoleMoment": "cdm",
                "KernelApproxCurrentDipoleMoment": "cdm", "FourSphereEEG": "eeg", "MEG": "meg"}


def load_kernel_config(config):
    """A validated configuration from a path or a dict; returns ``(cfg, description)``."""
    if isinstance(config, dict):
        return validate_config(copy.deepcopy(config)), "<config dict>"
    return load_config(config), str(config)


#: Configurations validated by :func:`compute_kernels` in this process, by content (a warm call with
#: the same configuration, rates and environment validates nothing again), and their engines
_VALIDATED = OrderedDict()
_ENGINES = OrderedDict()
#: How many of each are kept (an engine holds one NEURON cell per postsynaptic population)
CACHE_SIZE = 4


def _remember(cache, key, make):
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = make()
    cache[key] = value
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)
    return value


def _content_key(cfg):
    """The configuration's content and the environment its checks read (``LFPK_*``: memory limit,
    ranks), as one text."""
    env = {k: v for k, v in os.environ.items() if k.startswith("LFPK_")}
    return json.dumps([cfg, env], sort_keys=True, default=repr)


def _kernel_config(config, rates, V_rest):
    """The configuration ``config`` (path or dict) with ``rates`` and a scalar ``V_rest`` laid over
    ``kernel``, validated once (:func:`lfpk.api.config.validate_config`; again only when its content
    changed). Returns ``(cfg, key)``, ``key`` its content (:func:`_content_key`)."""
    if isinstance(config, dict):
        raw, source = copy.deepcopy(config), None
    else:
        raw, source = read_config_file(config), str(config)
    if rates or (V_rest is not None and not isinstance(V_rest, dict)):
        kern = raw.get("kernel") if isinstance(raw, dict) else None
        if isinstance(kern, dict):
            kern = raw["kernel"] = dict(kern)
            if rates:
                kern["rates"] = {**(kern.get("rates") or {}), **{str(k): float(v) for k, v in rates.items()}}
            if V_rest is not None and not isinstance(V_rest, dict):
                kern["V_rest"] = float(V_rest)
    key = _content_key(raw)

    def validate():
        try:
            return validate_config(raw)
        except ConfigError as exc:
            if source is None:
                raise
            raise ConfigError(f"{source}: {exc}", exc.problems) from None

    return _remember(_VALIDATED, key, validate), key


class CellProbe:
    """An LFPykit ``LinearModel`` applied to the one kernel cell, not averaged over the population.

    The model is evaluated for the representative cell of the postsynaptic population at the
    population's mean soma position, as LFPykernels does for LFPykit models other than
    ``PointSourcePotential`` and ``LineSourcePotential``. Given as is (not wrapped), those two are
    averaged over the population and every other LFPykit model is refused (:func:`probe_factory`):
    the wrapper is how a caller asks for the one-cell meaning.

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


#: LFPykit classes LFPykernels averages over the population (it decides by class name); given as
#: is they are averaged here too (:class:`lfpk.model.probes.PopulationAveragedModel`)
POPULATION_AVERAGED = ("PointSourcePotential", "LineSourcePotential")
#: Relative tolerance of their population quadrature (as :mod:`lfpk.compat.lfpykernels`)
POPULATION_TOLERANCE = 1e-3


def _probe_name(probe):
    return getattr(probe, "name", None) or _PROBE_NAMES.get(type(probe).__name__) or type(probe).__name__.lower()


def _lfpykernels_probe(probe, where):
    """LFPykernels' own population probes (recognised by class name, as LFPykernels keys its
    result) as lfpk's probes of the same meaning, or None for any other object."""
    name = type(probe).__name__
    if name == "GaussCylinderPotential" and all(hasattr(probe, a) for a in ("z", "sigma", "R", "sigma_z")):
        return probes_module.GaussCylinderPotential(z=np.asarray(probe.z, dtype=float), sigma=probe.sigma,
                                                    R=probe.R, sigma_z=probe.sigma_z)
    if name == "KernelApproxCurrentDipoleMoment":
        # LFPykernels zeroes the x and y rows: the dipole of a population rotated at random about z
        return probes_module.CurrentDipoleMoment(random_rotation=True)
    return None


def _population_averaged(probe, where, pop):
    """An LFPykit point- or line-source probe averaged over population ``pop``'s somata: uniform in
    the disc of ``placement.radius``, depth ``placement.z_mean`` +- ``placement.z_sd`` (um), rotated
    about z at random with ``rotation.random_z`` -- the positions of the probe's contacts ``x, y,
    z`` (um) are in the configuration's frame, as ``probes.channel_z``."""
    name = type(probe).__name__
    try:
        kwargs = {k: np.asarray(getattr(probe, k), dtype=float) for k in ("x", "y", "z")}
        kwargs["sigma"] = float(probe.sigma)
    except (AttributeError, TypeError, ValueError):
        raise ValueError(f"{where}: a {name} needs x, y, z (um) and sigma (S/m)") from None
    return probes_module.PopulationAveragedModel(
        name, pop.geometry(), model_kwargs=kwargs, R=pop.radius, sigma_z=pop.z_sd, order=None,
        tolerance=POPULATION_TOLERANCE, random_rotation=pop.random_rotation)


def probe_factory(probes):
    """Turn a list (or dict name -> probe) of probe objects into the engine's per-population factory.

    Every probe gives the population-averaged signal of the postsynaptic population, or is refused:

    * lfpk's probes (:mod:`lfpk.model.probes`) are copied per population and given its kernel cell;
      their population parameters (R, sigma_z) are the ones they were built with;
    * LFPykit's ``PointSourcePotential`` and ``LineSourcePotential`` (by class name, as LFPykernels
      decides) are averaged over each postsynaptic population's soma positions
      (:class:`lfpk.model.probes.PopulationAveragedModel`, refined to :data:`POPULATION_TOLERANCE`);
    * LFPykernels' ``GaussCylinderPotential`` and ``KernelApproxCurrentDipoleMoment`` (also those of
      :mod:`lfpk.compat.lfpykernels`) become lfpk's probes of the same meaning;
    * :class:`CellProbe` evaluates an LFPykit model on the one representative cell, when asked so;
    * any other LFPykit model is refused: LFPykernels evaluates it on one cell, lfpk's kernels are
      population signals, so the caller says which of the two is meant (:class:`CellProbe` or
      :class:`lfpk.model.probes.PopulationAveragedModel`).

    Raises
    ------
    ValueError
        ``probes[i]: ...`` for an object that is no probe, repeated names, an empty list, or an
        LFPykit model of another class.
    """
    if isinstance(probes, dict):
        items = [(name, p, f"probes[{name!r}]") for name, p in probes.items()]
    else:
        items = [(_probe_name(p), p, f"probes[{i}]") for i, p in enumerate(probes)]
    names = [n for n, _, _ in items]
    if len(set(names)) != len(names):
        raise ValueError(f"probes: names {names} repeat; give a dict name -> probe")
    if not items:
        raise ValueError("probes: give at least one probe")
    lfpk_classes = tuple(getattr(probes_module, c) for c in (
        "GaussCylinderPotential", "GaussCylinderCSD", "UniformCylinderPotential", "UniformCylinderCSD",
        "CurrentDipoleMoment", "PopulationAveragedModel", "FourSphereEEG", "MEG"))
    kinds = {}
    for name, probe, where in items:
        if isinstance(probe, (CellProbe, lfpk_classes)):
            kinds[name] = probe
        elif _lfpykernels_probe(probe, where) is not None:
            kinds[name] = _lfpykernels_probe(probe, where)
        elif type(probe).__name__ in POPULATION_AVERAGED and hasattr(probe, "get_transformation_matrix"):
            kinds[name] = probe  # averaged per population in the factory
        elif hasattr(probe, "get_transformation_matrix") and hasattr(probe, "cell"):
            cls = type(probe).__name__
            raise ValueError(
                f"{where}: an LFPykit {cls} is not averaged over the population (LFPykernels evaluates it on one "
                f"cell; lfpk averages only {' and '.join(POPULATION_AVERAGED)} when given as is); say which is "
                f"meant: lfpk.CellProbe(model, name, units) for the one representative cell, or "
                f"lfpk.PopulationAveragedModel({cls!r}, model_kwargs=...) for the population average")
        else:
            raise ValueError(f"{where}: {probe!r} is not a probe (expected an lfpk probe or an LFPykit LinearModel)")

    def factory(pop):
        geometry = pop.geometry()
        out = {}
        for (name, _, where) in items:
            probe = kinds[name]
            if isinstance(probe, CellProbe):
                out[name] = probe.bind(geometry)
            elif isinstance(probe, lfpk_classes):
                p = copy.copy(probe)
                if hasattr(p, "cell") and getattr(p, "input", "imem") == "imem":
                    p.cell = geometry
                out[name] = p
            else:
                p = _population_averaged(probe, where, pop)
                p.channel_dim = f"{name}_channel"
                out[name] = p
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
    cfg, _ = _kernel_config(config, rates, V_rest)
    V, rate_values, provenance = kernel_inputs(cfg, membrane, v_rest_mode)
    if rates:
        rate_values.update({str(k): float(v) for k, v in rates.items()})
        provenance["rates"] = "given (measured)"
    if isinstance(V_rest, dict):
        V.update({str(k): v for k, v in V_rest.items()})
        provenance["V_rest"] = "given"
    options = {k: v for k, v in (("biophysics", biophysics), ("g_eff", g_eff), ("form", form), ("tau", tau))
               if v is not None}
    if probes is None:
        # the engine (cells, probe matrices, statistics) of the same model is reused: it reads neither
        # kernel.rates nor kernel.V_rest (they are passed to each kernel)
        model = {**cfg, "kernel": {k: v for k, v in cfg["kernel"].items() if k not in ("rates", "V_rest")}}
        engine = _remember(_ENGINES, (_content_key(model), json.dumps(options, sort_keys=True)),
                           lambda: KernelEngine.from_config(cfg, **options))
    else:
        engine = KernelEngine.from_config(cfg, **options)
        engine._probe_factory = probe_factory(probes)
    pairs = connections or [(c["post"], c["pre"]) for c in cfg["connections"]]
    return gather_kernels(ds for _, _, ds, _ in kernel_datasets(engine, cfg, pairs, V, rate_values, provenance))


def write_kernels_file(kernels, path):
    """Write gathered kernels (e.g. from :func:`compute_kernels`) to ``path`` (atomic)."""
    return write_dataset(kernels, Path(path))
