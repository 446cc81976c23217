"""Labelled netCDF output of kernels (the kernel data contract)."""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import xarray as xr

from lfpk.base.io import software_versions, to_json
from lfpk.model.biophysics import linearised


@lru_cache(maxsize=1)
def _versions_text():
    """:func:`lfpk.base.io.software_versions` as JSON, read once per process (the installed
    packages do not change under a running process; reading their metadata costs about 15 ms)."""
    return to_json(software_versions())


def _stack(tables):
    """Segment tables concatenated along the segments (one table as is)."""
    if len(tables) == 1:
        return tables[0]
    return {k: np.concatenate([t[k] for t in tables]) for k in ("z", "section", "group")}


def _probe_dims(probe):
    dim = getattr(probe, "channel_dim", "channel")
    return dim, getattr(probe, "channel_coord_name", None) or dim


def kernel_dataset(engine, post, pre, result, V_rest, rates, parameters=None, provenance=None):
    """Kernel H_YX as a labelled xarray Dataset (kernel data contract).

    Parameters
    ----------
    engine : KernelEngine
    post, pre : str
    result : dict
        Output of :meth:`KernelEngine.kernel`.
    V_rest : float or ndarray
        Linearisation potential used (mV).
    rates : dict or None
        Presynaptic rates used for g_eff (1/s).
    parameters : dict, optional
        Input parameters to store as JSON (e.g. the config subsets used).
    provenance : dict, optional
        Where V_rest and rates came from (stored as JSON).
    """
    o = engine.options
    pop = engine.populations[post]
    types = list(range(len(engine.cells_of(post)))) if pop.typed else [None]
    cells = [engine.cell(post, t) for t in types]
    weights = engine.occurrences(post)
    seg = _stack([c.geometry() for c in engine.cells_of(post)])
    counts = engine.counts(post, pre)
    conn = engine._connection(post, pre)
    n_segments = sum(c.n_segments for c in cells)
    # each type's share of the connection's synapses: F_y f_y p_i (sums to 1; f_y = 1 without indegree_factors)
    p = np.concatenate([F * engine.indegree_factor(post, pre, t) * engine.synapse_probabilities(post, pre, t)
                        for F, t in zip(weights, types)]) \
        if pop.typed else engine.synapse_probabilities(post, pre)
    g = (np.concatenate([engine.g_eff(post, rates, t) for t in types]) if o.g_eff else np.zeros(n_segments))
    data = {
        "transmembrane_current": (("segment", "lag"), result["transmembrane_current"], {
            "units": "nA", "long_name": "summed transmembrane current of the postsynaptic population "
            "per segment of the representative cell (outward positive)"}),
        "synapse_probability": ("segment", p, {
            "units": "1", "long_name": "probability of a synapse of this connection on each segment"}),
        "V_rest": ("segment", np.concatenate([np.asarray(c.V_rest, dtype=float) for c in cells]), {
            "units": "mV", "long_name": "linearisation (resting) potential per segment"}),
        "g_eff": ("segment", g, {
            "units": "S/cm2", "long_name": "time-averaged synaptic conductance added to the leak (g_eff)"}),
        "segment_z": ("segment", seg["z"].mean(axis=1), {
            "units": "um", "long_name": "segment centre depth of the representative cell"}),
    }
    coords = {
        "lag": ("lag", result["lags"], {"units": "ms", "long_name": "time lag after the presynaptic spike"}),
        "segment": np.arange(n_segments),
        "section": ("segment", np.asarray(seg["section"]).astype(str)),
        "group": ("segment", np.asarray(seg["group"]).astype(str)),
    }
    if pop.typed:  # the types' representative cells stacked; their currents weighted by occurrence
        coords["cell_type"] = ("segment", np.concatenate([[c.name] * c.n_segments for c in engine.cells_of(post)]),
                               {"long_name": "cell type of the segment (currents times its occurrence F_y, "
                                             "probabilities times F_y f_y)"})
    quadrature = {}
    for name, (probe, _) in engine.probes(post, types[0]).items():
        dim, coord = _probe_dims(probe)
        values = np.asarray(probe.channel_coord)
        attrs = dict(getattr(probe, "channel_attrs", {}) or {})
        attrs.setdefault("long_name", f"{name} channel")
        if coord != dim:
            coords.setdefault(coord, (dim, values, attrs))
            coords.setdefault(dim, np.arange(len(values)))
        else:
            coords.setdefault(dim, (dim, values, attrs))
        var_attrs = {"units": probe.units, "long_name": f"kernel: {probe.long_name}"}
        if hasattr(probe, "quadrature_attrs"):
            quad = probe.quadrature_attrs
            quadrature[name] = quad
            var_attrs.update({k: (to_json(v) if isinstance(v, (list, tuple)) else v) for k, v in quad.items()
                              if v is not None})
        data[name] = ((dim, "lag"), result[name], var_attrs)
    attrs = {
        "title": f"spike-to-signal kernel H_{post}{pre} (presynaptic {pre} -> postsynaptic {post})",
        "method": "linearised multicompartment kernel (Hagen et al. 2022, PLOS Comput Biol 18:e1010353)",
        "post": post,
        "pre": pre,
        "biophysics": o.biophysics,
        "g_eff_on": int(o.g_eff),
        "form": o.form,
        "tau": o.tau,
        "dt": o.dt,
        "celsius": o.celsius,
        "K": counts.K,
        "k_in": counts.k_in,
        "k_out": counts.k_out,
        "mean_multapses": counts.mean_multapses,
        "N_pre": engine.populations[pre].size,
        "N_post": pop.size,
        "synapse": to_json(conn.scaled_synapse.__dict__),
        "synapse_mean_weight": conn.scaled_synapse.mean_weight,
        "V_rest_used": to_json(np.asarray(V_rest, dtype=float)),
        "rates_used": to_json(rates or {}),
        "provenance": to_json(provenance or {}),
        "parameters": to_json(parameters or {}),
        "software_versions": _versions_text(),
    }
    if quadrature:
        attrs["probe_quadrature"] = to_json(quadrature)
    if pop.file:
        attrs["morphology_file"] = str(pop.file)
        attrs["morphology_sha256"] = pop.morphology.digest
    if pop.typed:
        attrs["cell_types"] = to_json({c.name: c.occurrence for c in engine.cells_of(post)})
    if conn.indegree_factors:  # per-type in-degrees: type y's kernel took f_y k_out synapses (docs/layers.md)
        attrs["indegree_factors"] = to_json({c.name: conn.indegree_factor(c.name) for c in engine.cells_of(post)})
    if o.biophysics == "quasi_linear":
        attrs["quasi_linear"] = to_json(linearised(pop.cell_biophysics, engine.model.quasi_linear))
    return xr.Dataset(data, coords=coords, attrs=attrs)


#: Kernel attributes that describe the postsynaptic population, kept per post when gathering.
PER_POST_ATTRS = ("morphology_file", "morphology_sha256", "quasi_linear", "V_rest_used")
#: Those of them stored as JSON text.
JSON_ATTRS = ("quasi_linear", "V_rest_used")


def gather_kernels(datasets):
    """Stack per-connection kernel datasets into one with dims ``post``, ``pre``.

    Variables that depend on the postsynaptic cell's segments stay in the per-connection files.
    Attributes that describe one connection (counts, synapse, ...) become variables over
    (``post``, ``pre``) or are dropped; those that describe the postsynaptic population
    (:data:`PER_POST_ATTRS`: its morphology file and digest, the quasi-linear channel mapping, the
    linearisation potential used) are kept for every post in the JSON attribute ``per_post``
    (``{post: {attribute: value}}``), so the file does not describe all posts by the first one's.
    """
    datasets = list(datasets)
    posts = sorted({ds.attrs["post"] for ds in datasets})
    pres = sorted({ds.attrs["pre"] for ds in datasets})
    template = datasets[0].drop_dims("segment")
    out = {}
    for name, var in template.data_vars.items():
        arr = np.zeros((len(posts), len(pres)) + var.shape)
        for ds in datasets:
            arr[posts.index(ds.attrs["post"]), pres.index(ds.attrs["pre"])] = ds[name].values
        out[name] = (("post", "pre") + var.dims, arr, dict(var.attrs))
    keep = {k: v for k, v in template.attrs.items() if k not in ("post", "pre", "title", "K", "k_in",
                                                              "k_out", "mean_multapses", "N_pre", "N_post",
                                                              "synapse", "synapse_mean_weight", "indegree_factors")
            and k not in PER_POST_ATTRS}
    keep["title"] = "spike-to-signal kernels H_YX of every connection (post Y, pre X)"
    per_post = {}
    for ds in datasets:  # the same for every connection onto one post; the first one's is kept
        entry = per_post.setdefault(str(ds.attrs["post"]), {})
        for key in PER_POST_ATTRS:
            if key in ds.attrs and key not in entry:
                value = ds.attrs[key]
                entry[key] = json.loads(value) if key in JSON_ATTRS else value
    keep["per_post"] = to_json({post: per_post[post] for post in posts})
    gathered = xr.Dataset(out, coords={**{k: v for k, v in template.coords.items()}, "post": posts, "pre": pres},
                          attrs=keep)
    for key in ("K", "k_in", "k_out", "mean_multapses"):
        arr = np.full((len(posts), len(pres)), np.nan)
        for ds in datasets:
            arr[posts.index(ds.attrs["post"]), pres.index(ds.attrs["pre"])] = ds.attrs[key]
        gathered[key] = (("post", "pre"), arr, {"units": "1", "long_name": {
            "K": "expected total synapse count", "k_in": "expected synapses per postsynaptic cell",
            "k_out": "expected synapses activated per presynaptic spike",
            "mean_multapses": "expected synapses per connected pair"}[key]})
    return gathered
