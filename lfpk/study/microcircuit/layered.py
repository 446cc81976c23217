"""The microcircuit's multicompartment description in lfpk's layered config format.

:func:`layered_model` writes the ``layers``, ``populations`` and ``connections`` of the
configuration files ``config/microcircuit*.yaml`` from the facts (:mod:`.parameters`,
:mod:`.tables`), so the files and the facts agree by construction (tested). The rules:

* populations: ``round(scale N)`` cells (the point network's), somata in a disc of radius
  564.19 um (1 mm^2) and in depth a normal distribution with the mean and variance of [H16]'s
  uniform +-25 um slab at the middle of the population's layer (z_sd = 50 / sqrt(12) um);
  passive cells (no population-level morphology: each cell type has its own; Ra 150 ohm cm, cm 1 uF/cm2, g_pas 1e-4 S/cm2, e_pas -65 mV; d_lambda 0.1 at
  100 Hz); cell types with their occurrence F_y and reconstructed morphology (URL + sha256),
  each cell turned by uniform random angles about z and, for the spiny stellate and interneuron
  types, first about x ([H16] ``rand_rot_axis``; :func:`.tables.random_rotation`);
  Poisson background as extrinsic input (K_ext scaled, 8 /s, the background weight);
* connections: every X -> Y with C_YX > 0; ``probability`` the pair probability and
  ``multapses`` the zero-truncated Poisson of the fixed-total-number rule
  (:func:`.parameters.pair_statistics`), so probability x N_X x mean multapses is the network's
  in-degree; delays N(d, (d/2)^2) truncated below dt; current synapses (Exp2SynI, nA) with the
  network's charge per spike (decay 0.5 ms, a 0.001 ms rise standing for the instantaneous one:
  :func:`exp2_weight`), weight SD 10 %; ``placement.layers`` per cell type from [H16]'s L_yXL
  (:func:`.tables.placement_layers`) on the section group ``dendrites`` every type defines
  (:data:`SYNAPTIC_GROUP`: ``apic`` and ``dend`` sections, so [H16]'s sections for every type);
  ``indegree_factors`` per cell type from [H16]'s per-type synapse numbers, ``f_y = k_yX /
  sum_y' F_y' k_y'X`` (:func:`.tables.indegree_factors`; none where all would be 1 and for
  L5I -> L4E, which [B04] gives no synapses onto any L4E type).
"""

from __future__ import annotations

import numpy as np

from lfpk.study.microcircuit.parameters import (
    BACKGROUND_RATE,
    CONNECTION_PROBABILITIES,
    DELAY_REL_SD,
    NEURON,
    POPULATIONS,
    WEIGHT_REL_SD,
    MicrocircuitParameters,
    delay_matrix,
    pair_statistics,
)
from lfpk.study.microcircuit.tables import (
    CELL,
    CELL_TYPES,
    COLUMN_RADIUS,
    LAYERS,
    MORPHOLOGY,
    MORPHOLOGY_SHA256,
    MORPHOLOGY_URL,
    SOMA_HALF_HEIGHT,
    indegree_factors,
    occurrence,
    placement_layers,
    random_rotation,
    soma_depth_range,
)

#: Rise time (ms) standing for the instantaneous rise of the exponential current synapse (lfpk's
#: Exp2SynI needs 0 < tau1 < tau2); the weight is set so each synapse carries the exponential's
#: charge J tau_syn exactly (:func:`exp2_weight`; its peak is then 1.4 % below J).
TAU_RISE = 0.001
#: Section group of every cell type that receives synapses: [H16]'s ``apic`` and ``dend`` (pyramidal
#: types) or ``dend`` (the others, which have no ``apic``), never the soma; one group name for all
#: types, so a connection onto a population of mixed types (L4E: p4 with, ss4 without apical
#: dendrite) names one group every type has. Matched against whole section names (``dend[3]``,
#: ``apic``, ``dend10[2]`` of ``L5E_j4a.hoc``).
SYNAPTIC_GROUP = {"dendrites": r"(apic|dend)[0-9]*(\[[0-9]+\])?"}
#: Folder (relative to the config files) where the fetched morphologies are stored.
MORPHOLOGY_FOLDER = "../resources/hagen2016"
CITATION = "Hagen et al. (2016) Cereb Cortex 26:4461 (hybridLFPy, {file})"


def config_type_name(cell_type):
    """The config name of an [H16] cell type: ``ss4(L23)`` -> ``ss4_L23`` (names take letters,
    digits and _ only)."""
    return cell_type.replace("(", "_").replace(")", "")


def morphology_entry(file):
    """``{file, url, sha256, citation}`` of a reconstructed morphology (fetched, never committed)."""
    return {"file": f"{MORPHOLOGY_FOLDER}/{file}", "url": MORPHOLOGY_URL + file, "sha256": MORPHOLOGY_SHA256[file],
            "citation": CITATION.format(file=file), "groups": dict(SYNAPTIC_GROUP)}


def exp2_weight(J, tau_syn, tau_rise=TAU_RISE):
    """Peak of a peak-normalised double exponential (rise ``tau_rise``, decay ``tau_syn``, ms) with
    the charge of the exponential current ``J exp(-t / tau_syn)``: ``J tau_syn / (f (tau_syn -
    tau_rise))`` with ``f`` the inverse peak of ``exp(-t/tau_syn) - exp(-t/tau_rise)``."""
    t_peak = tau_rise * tau_syn / (tau_syn - tau_rise) * np.log(tau_syn / tau_rise)
    f = 1.0 / (np.exp(-t_peak / tau_syn) - np.exp(-t_peak / tau_rise))
    return J * tau_syn / (f * (tau_syn - tau_rise))


def _synapse(weight_pA, tau_syn):
    return {"model": "Exp2SynI", "tau1": TAU_RISE, "tau2": float(tau_syn),
            "weight": round(float(exp2_weight(weight_pA, tau_syn)) / 1000.0, 9), "weight_sd": WEIGHT_REL_SD}


def _delays(mean, dt):
    sd = DELAY_REL_SD * mean
    return {"distribution": "truncnorm", "params": {"a": (dt - mean) / sd, "b": float("inf"), "loc": mean, "scale": sd}}


def layered_model(params: MicrocircuitParameters):
    """``{layers, populations, connections}`` of the microcircuit at ``params``' scale (plain
    Python types, as written to YAML)."""
    sizes = params.sizes
    W, w_ext = params.weights()
    k_ext = params.external_indegrees()
    probability, mu = pair_statistics(params.scale, params.indegree_scale)
    delays = delay_matrix()
    populations = {}
    for i, name in enumerate(POPULATIONS):
        lo, hi = soma_depth_range(name)
        types = CELL_TYPES[name]
        F = occurrence(name)
        populations[name] = {
            "size": int(sizes[name]),
            "Ra": CELL["Ra"], "cm": CELL["cm"],
            "segmentation": {"d_lambda": CELL["d_lambda"], "frequency": CELL["frequency"]},
            "biophysics": {"groups": {"all": {"mechanisms": {"pas": {"g": CELL["g_pas"], "e": CELL["e_pas"]}}}}},
            "placement": {"radius": round(float(COLUMN_RADIUS), 2), "z_mean": round(float(0.5 * (lo + hi)), 2),
                          "z_sd": round(float(2 * SOMA_HALF_HEIGHT / np.sqrt(12.0)), 4)},
            "extrinsic": {"count": int(k_ext[i]), "rate": BACKGROUND_RATE, "synapse": _synapse(w_ext, NEURON["tau_syn"])},
            "cell_types": {config_type_name(y): {"occurrence": round(F[y], 12),
                                                 "morphology": morphology_entry(MORPHOLOGY[y]),
                                                 "rotation": random_rotation(y)} for y in types},
        }
    connections = []
    for i, post in enumerate(POPULATIONS):
        for j, pre in enumerate(POPULATIONS):
            if CONNECTION_PROBABILITIES[i, j] <= 0:
                continue
            conn = {
                "pre": pre, "post": post, "probability": round(float(probability[i, j]), 10),
                "multapses": {"distribution": "poisson", "params": {"mu": round(float(mu[i, j]), 10)}},
                "delays": _delays(float(delays[i, j]), params.dt),
                "synapse": _synapse(W[i, j], NEURON["tau_syn"]),
            }
            factors = indegree_factors(post, pre)
            if factors is not None:
                conn["indegree_factors"] = {config_type_name(y): f for y, f in factors.items()}
            conn["placement"] = {"sections": list(SYNAPTIC_GROUP),
                                 "layers": {config_type_name(y): f for y, f in placement_layers(post, pre).items()}}
            connections.append(conn)
    return {"layers": {k: list(v) for k, v in LAYERS.items()}, "populations": populations, "connections": connections}


#: Marker of "no difference" in :func:`difference`.
_SAME = object()


def difference(base, target):
    """The overlay that turns ``base`` into ``target`` under lfpk's ``extends`` merge
    (:func:`lfpk.study.runs.deep_merge`: mappings key by key, connections by (pre, post)): only
    the values that differ. Both must have the same keys and connections."""
    if isinstance(base, dict) and isinstance(target, dict):
        out = {}
        for k, v in target.items():
            d = difference(base.get(k), v)
            if d is not _SAME:
                out[k] = d
        return out if out else _SAME
    if isinstance(base, list) and base and all(isinstance(c, dict) and "pre" in c for c in base):
        by_pair = {(c["pre"], c["post"]): c for c in base}
        out = []
        for c in target:
            d = difference(by_pair[(c["pre"], c["post"])], c)
            if d is not _SAME:
                out.append({"pre": c["pre"], "post": c["post"], **d})
        return out if out else _SAME
    return _SAME if base == target else target

