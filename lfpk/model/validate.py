"""Cross-field checks of the model parts of a config that need no NEURON (called by
:func:`lfpk.api.config.validate_config`): section groups named by connections and biophysics blocks
exist on the cells they refer to; ball-and-stick cells have segment counts NEURON accepts;
morphology files have paths NEURON can open; the probes can be built (the EEG head model's
dipole inside the brain and electrodes outside the dipole and not outside the scalp, the MEG
sensors, every ``probes.models`` entry an LFPykit model that takes its keyword arguments)."""

from __future__ import annotations

import lfpykit
import numpy as np

from lfpk.model.connectivity import gaussian_density, layer_masks, placement_mask
from lfpk.model.description import build, cell_type_entry, population_biophysics
from lfpk.model.morphology import SECTIONS, BallAndStick, MorphologyError
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
    morph = pop.get("morphology") or next(iter((pop.get("cell_types") or {}).values()), {}).get("morphology") or {}
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
    errors += layer_errors(cfg)
    errors += indegree_errors(cfg)
    errors += morphology_errors(cfg)
    errors += probe_errors(cfg)
    return errors


def _cells(cfg):
    """``(key, entry)`` of every population and cell type, an entry with the type's overrides laid
    over the population's (:func:`lfpk.model.description.cell_type_entry`)."""
    out = []
    for name, pop in (cfg.get("populations") or {}).items():
        if not isinstance(pop.get("cell_types"), dict):
            out.append((name, pop))
            continue
        out += [(f"{name}.cell_types.{t}", cell_type_entry(pop, t)) for t in pop["cell_types"]]
    return out


#: Tolerance of the sums of occurrences and of layer fractions (dimensionless).
FRACTION_TOLERANCE = 1e-9


def _fraction_errors(where, table, layers) -> list[str]:
    """A ``{layer: fraction}`` table: known layers, fractions summing to 1."""
    errors = [f"{where}.{k}: {k!r} is not a layer (layers: {', '.join(layers)})" for k in table if k not in layers]
    total = sum(float(v) for v in table.values())
    if abs(total - 1.0) > FRACTION_TOLERANCE:
        errors.append(f"{where}: the fractions sum to {total:.12g}; expected 1 (fraction of the connection's "
                      "synapses in each layer)")
    return errors


def layer_errors(cfg) -> list[str]:
    """Layers and cell types (``docs/layers.md``), one message per problem naming the key: layers
    with z_bottom < z_top that do not overlap; populations and types in known layers (or with
    ``placement.z_mean`` and ``z_sd``); occurrences summing to 1; every cell with a morphology;
    ``placement.layers`` of known layers (or, per type, of the post population's types) summing
    to 1; every layer of positive fraction holding allowed segments of each target cell placed at
    its mean soma depth."""
    errors = []
    layers = cfg.get("layers") or {}
    spans = []
    for name, (bottom, top) in layers.items():
        if not bottom < top:
            errors.append(f"layers.{name}: [{bottom:g}, {top:g}] um; expected [z_bottom, z_top] with z_bottom < z_top")
        else:
            spans.append((bottom, top, name))
    spans.sort()
    for (b0, t0, n0), (b1, t1, n1) in zip(spans, spans[1:]):
        if t0 > b1:
            errors.append(f"layers.{n1}: [{b1:g}, {t1:g}] um overlaps layers.{n0} [{b0:g}, {t0:g}] um; expected "
                          "layers that do not overlap")
    pops = cfg.get("populations") or {}
    for name, pop in pops.items():
        where = f"populations.{name}"
        types = pop.get("cell_types") or {}
        entries = [(f"{where}.cell_types.{t}", cell_type_entry(pop, t)) for t in types] or [(where, pop)]
        for key, entry in entries:
            layer = entry.get("layer")
            if layer is not None and layer not in layers:
                own = key if "layer" in (types.get(key.rsplit(".", 1)[-1]) or {}) else where
                errors.append(f"{own}.layer: {layer!r} is not a layer (layers: {', '.join(layers) or 'none declared'})")
            elif layer is None and not {"z_mean", "z_sd"} <= set(entry.get("placement") or {}):
                errors.append(f"{where}.placement: needs z_mean and z_sd (um) for {key} without a layer "
                              "(or give the population a layer)")
            if "morphology" not in entry:
                errors.append(f"{key}.morphology: missing; expected a morphology (the type's own or the population's)")
        if types:
            total = sum(float(t.get("occurrence", 0)) for t in types.values())
            if abs(total - 1.0) > FRACTION_TOLERANCE:
                errors.append(f"{where}.cell_types: the occurrences sum to {total:.12g}; expected 1 (fractions of "
                              "the population's cells)")
    typed = [n for n, p in pops.items() if len(p.get("cell_types") or {}) > 1]
    for i, v in enumerate((cfg.get("kernel") or {}).get("variants") or []):
        if typed and str(v).endswith("-segment"):
            errors.append(f"kernel.variants[{i}]: {v}: the ground truth's per-segment potentials are of one cell, and "
                          f"population {typed[0]} has several cell types; expected a -scalar variant")
    placed = []
    for i, conn in enumerate(cfg.get("connections") or []):
        table = (conn.get("placement") or {}).get("layers")
        post = pops.get(conn.get("post"))
        if not table or post is None:
            continue
        where = f"connections[{i}].placement.layers"
        if not layers:
            errors.append(f"{where}: no layers are declared; expected the top-level layers with their bounds")
            continue
        names = list(post.get("cell_types") or {}) or [conn["post"]]
        if isinstance(next(iter(table.values())), dict):
            for t, row in table.items():
                if t not in names:
                    errors.append(f"{where}.{t}: {t!r} is not a cell type of population {conn['post']} "
                                  f"(types: {', '.join(names)})")
                elif isinstance(row, dict):
                    errors += _fraction_errors(f"{where}.{t}", row, layers)
                else:
                    errors.append(f"{where}.{t}: expected a mapping layer -> fraction per cell type")
            errors += [f"{where}: missing cell type {t!r} of population {conn['post']} (a per-type table names every "
                       "type)" for t in names if t not in table]
        elif any(isinstance(v, dict) for v in table.values()):
            errors.append(f"{where}: expected either layer -> fraction, or cell type -> {{layer: fraction}}")
        else:
            errors += _fraction_errors(where, table, layers)
        placed.append(i)
    if errors or not placed:
        return errors
    return _reach_errors(cfg, placed)


def indegree_errors(cfg) -> list[str]:
    """``connections[].indegree_factors`` (``docs/layers.md``), one message per problem naming the
    key: every cell type of the post population named and no other, each factor a finite number
    >= 0 whose pair probability ``probability * f_y`` is at most 1, and the occurrence-weighted
    mean ``sum_y F_y f_y`` equal to 1 (to :data:`FRACTION_TOLERANCE`: the population's total
    synapse count stays the one the connection probability gives)."""
    errors = []
    pops = cfg.get("populations") or {}
    for i, conn in enumerate(cfg.get("connections") or []):
        factors = conn.get("indegree_factors")
        post = pops.get(conn.get("post"))
        if factors is None or post is None:
            continue
        where = f"connections[{i}].indegree_factors"
        types = post.get("cell_types") or {}
        occurrence = {t: float((spec or {}).get("occurrence", 0.0)) for t, spec in types.items()} \
            if types else {conn["post"]: 1.0}
        known = ", ".join(occurrence)
        errors += [f"{where}.{t}: {t!r} is not a cell type of population {conn['post']} (types: {known})"
                   for t in factors if t not in occurrence]
        missing = [t for t in occurrence if t not in factors]
        if missing:
            errors.append(f"{where}: missing cell type(s) {', '.join(missing)} of population {conn['post']} "
                          "(the factors name every type)")
        C = float(conn.get("probability", 0.0))
        ok = True
        for t, f in factors.items():
            if t not in occurrence:
                continue
            if isinstance(f, bool) or not isinstance(f, (int, float)) or not np.isfinite(f) or f < 0:
                errors.append(f"{where}.{t}: {f!r}; expected a finite number >= 0 (in-degree of type {t} relative "
                              "to the population's)")
                ok = False
            elif C * f > 1.0:
                errors.append(f"{where}.{t}: {f:g} x probability {C:g} = {C * f:.6g} exceeds 1; expected "
                              f"f <= 1 / probability = {1.0 / C:.6g} (the pair probability of type {t})")
        if ok and not missing and len(factors) == len(occurrence):
            mean = sum(occurrence[t] * float(f) for t, f in factors.items())
            if abs(mean - 1.0) > FRACTION_TOLERANCE:
                errors.append(f"{where}: the occurrence-weighted mean sum_y F_y f_y is {mean:.12g}; expected 1 (the "
                              "population's total synapse count is the one the probability gives)")
    return errors


def _reach_errors(cfg, placed) -> list[str]:
    """Every layer of positive fraction of the connections ``placed`` holds allowed segments (the
    placement's section groups, densities > 0) of each target cell placed at its mean soma depth."""
    try:
        model = build(cfg)
    except (MorphologyError, ValueError, KeyError, TypeError, OSError):
        return []  # the morphology's own checks report it
    errors = []
    for i in placed:
        c = model.connections[i]
        pop = model.populations[c.post]
        for cell in pop.cell_types:
            try:
                allowed = placement_mask(cell, c)
            except ValueError:
                continue  # an unknown group is reported by config_errors
            fractions = c.layer_fractions(cell.name)
            zabs = cell.segments["z"].mean(axis=1) + cell.z_mean
            w = cell.segments["area"] * allowed
            if c.densities:
                w = w * gaussian_density(zabs, c.densities)
            for layer, inside in layer_masks(zabs, model.layers).items():
                if fractions.get(layer, 0) > 0 and not (w * inside).sum() > 0:
                    which = f"{c.post}.{cell.name}" if pop.typed else c.post
                    key = f"connections[{i}].placement.layers" + (f".{cell.name}" if isinstance(
                        next(iter(c.placement['layers'].values())), dict) else "")
                    errors.append(f"{key}.{layer}: {fractions[layer]:g} of the synapses go to layer {layer}, but "
                                  f"cell {which} (soma at its mean depth {cell.z_mean:g} um) has no segment of "
                                  f"{'/'.join(c.groups)} there; expected a layer its allowed segments reach")
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
    for name, pop in _cells(cfg):
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
