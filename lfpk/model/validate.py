"""Cross-field checks of the model parts of a config that need no NEURON (called by
:func:`lfpk.api.config.validate_config`): section groups named by connections and biophysics blocks
exist on the cells they refer to; ball-and-stick cells have segment counts NEURON accepts;
morphology files have paths NEURON can open; the probes can be built (the EEG head model's
dipole inside the brain and electrodes outside the dipole and not outside the scalp, the MEG
sensors, every ``probes.models`` entry an LFPykit model that takes its keyword arguments)."""

from __future__ import annotations

import lfpykit
import numpy as np

from lfpk.model.description import population_biophysics
from lfpk.model.morphology import SECTIONS, BallAndStick
from lfpk.model.morphology.groups import BUILTIN_GROUPS
from lfpk.model.probes.head import MEG, FourSphereEEG
from lfpk.model.probes.population import PopulationAveragedModel
from lfpk.model.rules import weight_factors

#: NEURON's largest number of segments of one section ("nseg must be an integer in range 1 to
#: 32767"; NEURON 9 fails to allocate 32767 already, so the limit is kept strictly below it).
MAX_NSEG = 32766

#: Names of the built-in probes, which ``probes.models`` may not reuse.
BUILTIN_PROBES = ("lfp", "csd", "cdm", "eeg", "meg")

#: Groups of a ball-and-stick cell that have segments.
BALL_AND_STICK_GROUPS = ("all", "soma", "dend", "apic")


def _known_groups(pop):
    morph = pop.get("morphology") or {}
    custom = list((morph.get("groups") or {}))
    if "file" in morph:
        return list(BUILTIN_GROUPS) + custom, True
    return list(BALL_AND_STICK_GROUPS) + custom, False


def config_errors(cfg) -> list[str]:
    """One message per unknown or empty section group (naming the key)."""
    errors = []
    pops = cfg.get("populations") or {}
    for i, conn in enumerate(cfg.get("connections") or []):
        pop = pops.get(conn.get("post"))
        if pop is None:
            continue
        known, is_file = _known_groups(pop)
        for k, g in enumerate((conn.get("placement") or {}).get("sections") or []):
            if g not in known:
                kind = "" if is_file else " (a ball-and-stick cell has soma, dend and apic)"
                errors.append(f"connections[{i}].placement.sections[{k}]: section group {g!r} is not a group "
                              f"of population {conn['post']}{kind}; known: {', '.join(known)}")
    for name, pop in pops.items():
        block, what = population_biophysics(cfg, name)
        if not isinstance(block, dict):
            continue
        known, _ = _known_groups(pop)
        for g in (block.get("groups") or {}):
            if g not in list(BUILTIN_GROUPS) + known:
                errors.append(f"{what}.groups.{g}: section group {g!r} is not a group of population {name}; "
                              f"known: {', '.join(known)}")
    errors += weight_scaling_errors(cfg)
    errors += morphology_errors(cfg)
    errors += probe_errors(cfg)
    return errors


def morphology_errors(cfg) -> list[str]:
    """Morphologies every job can build: segment counts of ball-and-stick sections within
    NEURON's limit (:data:`MAX_NSEG`; lengths and diameters have plausible ranges in the schema),
    and morphology files under paths of ASCII characters only.

    NEURON reads and writes file names as ASCII: a morphology under a non-ASCII path (``/data/
    zellen/Purkinje-Zelle_ä.swc``, a user folder with an accent) fails in every job with an
    'ascii' codec error. Refusing it names the problem before any work; copying the file to a
    safe path behind the user's back would make the config's input and the simulated file differ.
    """
    errors = []
    for name, pop in (cfg.get("populations") or {}).items():
        morph = pop.get("morphology") or {}
        if "file" in morph:
            path = str(morph["file"])
            if not path.isascii():
                errors.append(f"populations.{name}.morphology.file: {path!r} has non-ASCII characters; NEURON "
                              "opens files by ASCII names only (every job would fail with an 'ascii' codec error): "
                              "move or link the file to a path of ASCII characters")
            continue
        try:
            cell = BallAndStick.from_config(name, pop)
            counts = {sec: cell.nseg(sec) for sec in SECTIONS}
        except (KeyError, TypeError, ValueError, ZeroDivisionError, OverflowError):
            continue  # the schema reports the block
        for sec, n in counts.items():
            if n > MAX_NSEG:
                errors.append(f"populations.{name}.segmentation: {n:.3g} segments in section {sec} "
                              f"(morphology.{sec}: length {cell.length[sec]:g} um, diam {cell.diam[sec]:g} um); "
                              f"NEURON allows at most {MAX_NSEG} per section: expected a coarser segmentation "
                              "(larger d_lambda or length) or a plausible section")
    return errors


#: Parameter names of the probe classes -> config key under ``probes``.
_EEG_KEYS = {"radii": "eeg.radii", "sigmas": "eeg.sigmas", "dipole_location": "eeg.dipole_location",
             "electrode_locations": "eeg.electrode_location"}
_MEG_KEYS = {"sensor_locations": "meg.sensor_location", "dipole_location": "eeg.dipole_location"}


def _probe_key(message, keys, default):
    """``probes.<key>`` of the parameter a probe class's message starts with."""
    first = str(message).split(" ", 1)[0]
    return "probes." + keys.get(first, default)


def probe_errors(cfg) -> list[str]:
    """The probes of the kernels and the network can be built, checked by the probe classes
    themselves (:class:`lfpk.model.probes.head.FourSphereEEG`, :class:`~lfpk.model.probes.head.MEG`,
    :class:`lfpk.model.probes.population.PopulationAveragedModel`): one message per problem, naming
    the key."""
    probes = cfg.get("probes") or {}
    eeg, meg = probes.get("eeg") or {}, probes.get("meg") or {}
    errors = []
    try:
        FourSphereEEG(radii=eeg["radii"], sigmas=eeg["sigmas"], dipole_location=eeg["dipole_location"],
                      electrode_locations=eeg["electrode_location"])
    except (ValueError, TypeError) as exc:
        errors.append(f"{_probe_key(exc, _EEG_KEYS, 'eeg')}: {exc} (four-sphere head centred at the origin: "
                      "the dipole inside the brain sphere, electrodes farther out than the dipole and not "
                      "outside the scalp)")
    if "dipole_location" in eeg and "sensor_location" in meg:
        try:
            MEG(sensor_locations=meg["sensor_location"], dipole_location=eeg["dipole_location"])
        except (ValueError, TypeError) as exc:
            errors.append(f"{_probe_key(exc, _MEG_KEYS, 'meg')}: {exc}")
    pops = cfg.get("populations") or {}
    placement = next(iter(pops.values()), {}).get("placement", {}) if pops else {}
    for name, spec in (probes.get("models") or {}).items():
        where = f"probes.models.{name}"
        if name in BUILTIN_PROBES:
            errors.append(f"{where}: the name clashes with the built-in probe {name!r}; expected another name")
            continue
        errors += _model_errors(where, spec, placement)
    return errors


def _model_errors(where, spec, placement) -> list[str]:
    """One ``probes.models`` entry: an LFPykit LinearModel class, taking ``kwargs`` on a one-segment
    cell, with a valid quadrature ``order``."""
    model_name = spec.get("model")
    kwargs = {k: np.asarray(v, dtype=float) if isinstance(v, list) else v for k, v in (spec.get("kwargs") or {}).items()}
    try:
        probe = PopulationAveragedModel(model_name, model_kwargs=kwargs, R=placement.get("radius", 100.0),
                                        sigma_z=placement.get("z_sd", 50.0), order=spec.get("order"),
                                        tolerance=float(spec.get("tolerance", 0.01)))
    except (ValueError, TypeError) as exc:
        text = str(exc)
        if text.startswith("model_name"):
            known = sorted(n for n in dir(lfpykit) if isinstance(getattr(lfpykit, n), type)
                           and issubclass(getattr(lfpykit, n), lfpykit.LinearModel) and n != "LinearModel")
            return [f"{where}.model: {model_name!r} is not an LFPykit LinearModel class; expected one of "
                    f"{', '.join(known)}"]
        key = ".order" if text.startswith("order") else ".kwargs" if text.startswith("model_kwargs") else ""
        return [f"{where}{key}: {text}"]
    geometry = lfpykit.CellGeometry(x=np.array([[0.0, 0.0]]), y=np.array([[0.0, 0.0]]), z=np.array([[0.0, 10.0]]),
                                    d=np.array([1.0]))
    try:
        probe.model(geometry, **kwargs).get_transformation_matrix()
    except Exception as exc:  # noqa: BLE001  (any failure of the user's model and arguments is a config error)
        return [f"{where}.kwargs: {model_name}({', '.join(kwargs)}) fails on a one-segment cell: "
                f"{type(exc).__name__}: {' '.join(str(exc).split())}"]
    return []


def weight_scaling_errors(cfg) -> list[str]:
    """The weight-scaling rule (:func:`lfpk.model.rules.weight_factors`) applies to
    ``weight_scaling.J`` and to every value of ``scans.J`` (one message naming the key)."""
    conns = cfg.get("connections") or []
    values = [("weight_scaling.J", (cfg.get("weight_scaling") or {}).get("J", 1.0))]
    values += [(f"scans.J[{i}]", J) for i, J in enumerate((cfg.get("scans") or {}).get("J") or [])]
    current = [i for i, c in enumerate(conns) if (c.get("synapse") or {}).get("model") == "Exp2SynI"]
    for key, J in values:
        if current and J != 1:  # its powers of weight ratios are written for conductances (all >= 0)
            return [f"{key}: {J}: the weight-scaling rule (Hagen et al. 2022) is defined for conductance synapses; "
                    f"connections[{current[0]}] has a current synapse (Exp2SynI): use J = 1 and set its weights"]
        try:
            weight_factors(conns, J)
        except (ValueError, KeyError, TypeError) as exc:
            text = str(exc).removeprefix("weight_scaling.J: ")
            return [f"{key}: {J}: {text}"]
    return []
