"""Stage functions called by the workflow scripts and the CLI (one per output family)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from lfpk.base.files import atomic_path, check_output
from lfpk.base.io import read_dataset, write_dataset
from lfpk.engines.compare import format_table
from lfpk.engines.kernel import KernelEngine, gather_kernels
from lfpk.engines.kernel.batch import kernel_datasets as engine_datasets
from lfpk.engines.kernel.inputs import kernel_inputs, kernel_parameters
from lfpk.figures import style as figures
from lfpk.model.biophysics import Biophysics
from lfpk.model.description import population_biophysics
from lfpk.model.morphology import from_population


#: Keys of a population's config entry its cell's morphology is built from (the segment table and
#: ``.hoc`` file; :func:`lfpk.model.morphology.from_population`): not its size, placement,
#: extrinsic drive or biophysics, which other stages read.
MORPHOLOGY_KEYS = ("morphology", "Ra", "cm", "segmentation", "rotation")
#: Keys of ``populations.<name>.morphology`` that do not shape the cell: the citation printed on
#: figures (``url`` stays: a missing file's message says where to fetch it).
MORPHOLOGY_NOTES = ("citation",)


def morphology_parameters(cfg, population):
    """What one population's morphology depends on, and nothing else (Snakemake params: a change
    elsewhere, e.g. the population's extrinsic weight, does not rerun it).

    Parameters
    ----------
    cfg : dict
        Validated configuration.
    population : str
        Population name.

    Returns
    -------
    dict
        ``cell``: the :data:`MORPHOLOGY_KEYS` of the population's entry (``morphology`` without
        :data:`MORPHOLOGY_NOTES`, ``rotation`` without ``random_z``, the network's per-cell angle);
        ``passive``: the ``[group, {cm, Ra}]`` overrides of its biophysics block (the population's
        own or the config's, :attr:`lfpk.model.biophysics.Biophysics.passive`), in order.
    """
    pop = cfg["populations"][population]
    cell = {k: pop[k] for k in MORPHOLOGY_KEYS if k in pop}
    cell["morphology"] = {k: v for k, v in pop["morphology"].items() if k not in MORPHOLOGY_NOTES}
    if "rotation" in cell:
        cell["rotation"] = {k: v for k, v in cell["rotation"].items() if k in ("x", "y", "z")}
    passive = Biophysics.from_config(*population_biophysics(cfg, population)).passive
    return {"cell": cell, "passive": [[group, values] for group, values in passive if values]}


def population_morphology(name, parameters):
    """The morphology of population ``name`` from :func:`morphology_parameters`."""
    return from_population(name, parameters["cell"], passive=[tuple(g) for g in parameters["passive"]])


def write_morphology(morphology, hoc_path, nc_path):
    """Write one population's ``.hoc`` morphology and its segment table ``.nc``.

    Parameters
    ----------
    morphology : lfpk.model.morphology.BallAndStick or lfpk.model.morphology.FileMorphology
    hoc_path, nc_path : path-like
        Output paths.
    """
    with atomic_path(hoc_path) as tmp:
        Path(tmp).write_text(morphology.to_hoc())
    write_dataset(morphology.segment_table(), nc_path)


def morphology_figure(nc_paths, figure_paths):
    """Figure of every population's morphology from their segment tables."""
    tables = {}
    for p in nc_paths:
        ds = read_dataset(p)
        tables[ds.attrs["population"]] = ds
    figures.morphologies(tables, figure_paths)


def kernel_set_parameters(cfg):
    """What the kernels of every connection of ``cfg`` depend on: the list of each connection's
    :func:`kernel_parameters` (the Snakemake params of a job computing all of them)."""
    return [kernel_parameters(cfg, c["post"], c["pre"]) for c in cfg["connections"]]


def kernel_datasets(cfg, pairs, membrane=None, v_rest_mode="scalar", **options):
    """Yield ``(post, pre, dataset, seconds)`` for each (post, pre) of ``pairs``, computed by one
    :class:`lfpk.engines.kernel.KernelEngine` (:func:`lfpk.engines.kernel.batch.kernel_datasets`).

    V_rest (mV) and rates (1/s) come from the config or the ground-truth ``membrane`` file
    (:func:`lfpk.engines.kernel.inputs.kernel_inputs`). ``options`` override the config's kernel
    options (``biophysics``, ``g_eff``, ``form``, ``tau``); ``seconds`` is the wall time of the
    kernel and its dataset.
    """
    V_rest, rates, provenance = kernel_inputs(cfg, membrane, v_rest_mode)
    engine = KernelEngine.from_config(cfg, **options)
    yield from engine_datasets(engine, cfg, pairs, V_rest, rates, provenance)


def _membrane_inputs(membrane):
    return [membrane] if isinstance(membrane, (str, Path)) else []


def write_kernels(cfg, pairs, outputs, membrane=None, v_rest_mode="scalar", **options):
    """Compute kernels for ``pairs`` of (post, pre) and write one netCDF file each.

    ``options`` override the config's kernel options (``biophysics``, ``g_eff``, ``form``, ``tau``).
    Returns the wall time (s) per kernel.
    """
    timings = {}
    computed = kernel_datasets(cfg, pairs, membrane, v_rest_mode, **options)
    for (post, pre, ds, seconds), out in zip(computed, outputs):
        write_dataset(ds, out, inputs=_membrane_inputs(membrane))
        timings[(post, pre)] = seconds
    return timings


def write_kernel_set(cfg, output, membrane=None, v_rest_mode="scalar", pairs=None, **options):
    """Compute the kernels of every connection (or of the (post, pre) ``pairs``) in this process
    and write them gathered into one ``kernels.nc`` (dims ``post``, ``pre``;
    :func:`lfpk.engines.kernel.gather_kernels`).

    The result is the file that :func:`write_kernels` (one file per connection) followed by
    :func:`gather_kernel_files` gives, without the per-connection files; the connections are
    taken in the order of ``cfg['connections']``, so the stored ``parameters`` (those of the first
    connection) agree too. ``options`` as for :func:`write_kernels`. The output is checked before
    anything is computed. Returns the wall time (s) per kernel.
    """
    inputs = _membrane_inputs(membrane)
    check_output(output, inputs=inputs)
    order = [(c["post"], c["pre"]) for c in cfg["connections"]]
    if pairs is not None:
        unknown = [f"{pre} -> {post}" for post, pre in pairs if (post, pre) not in order]
        if unknown:
            raise ValueError(f"connections: {', '.join(unknown)} not in the configuration")
        wanted = set(pairs)
        order = [p for p in order if p in wanted]
    if not order:
        raise ValueError("connections: none to compute; expected at least one connection")
    datasets, timings = [], {}
    for post, pre, ds, seconds in kernel_datasets(cfg, order, membrane, v_rest_mode, **options):
        datasets.append(ds)
        timings[(post, pre)] = seconds
    write_dataset(gather_kernels(datasets), output, inputs=inputs)
    return timings


#: Attributes that must agree between the per-connection kernels gathered into one file.
KERNEL_VARIANT_ATTRS = ("biophysics", "g_eff_on", "form", "tau", "dt", "celsius", "rates_used", "provenance")
#: Sections of a kernel's stored ``parameters`` that every connection of one study shares.
KERNEL_SHARED_PARAMETERS = ("populations", "biophysics", "kernel", "probes", "simulation", "weight_scaling")


def check_kernel_set(datasets, paths):
    """Raise ``ValueError`` naming two files unless ``datasets`` (read from ``paths``) are kernels
    of one variant and one configuration: same biophysics, g_eff, form, tau, dt, celsius, rates,
    V_rest source (:data:`KERNEL_VARIANT_ATTRS`), the same shared model parameters
    (:data:`KERNEL_SHARED_PARAMETERS`), signals and lags, and each connection once."""
    def shared(ds):
        try:
            params = json.loads(ds.attrs.get("parameters", "{}"))
        except ValueError:
            params = {}
        return {k: params.get(k) for k in KERNEL_SHARED_PARAMETERS}

    ref, ref_path = datasets[0], paths[0]
    seen = {}
    for ds, path in zip(datasets, paths):
        conn = (str(ds.attrs["post"]), str(ds.attrs["pre"]))
        if conn in seen:
            raise ValueError(f"{seen[conn]} and {path} are both kernels of {conn[1]} -> {conn[0]}; expected each "
                             "connection once")
        seen[conn] = path
        diffs = []
        for key in KERNEL_VARIANT_ATTRS:
            a, b = ref.attrs.get(key), ds.attrs.get(key)
            same = np.array_equal(np.asarray(a), np.asarray(b)) if a is not None and b is not None else a is b
            if not same:
                diffs.append(f"{key} {a} vs {b}")
        sa, sb = shared(ref), shared(ds)
        diffs += [f"parameters.{k} differ" for k in KERNEL_SHARED_PARAMETERS if sa[k] != sb[k]]
        if sorted(ref.data_vars) != sorted(ds.data_vars):
            diffs.append(f"signals {sorted(ref.data_vars)} vs {sorted(ds.data_vars)}")
        elif not np.array_equal(ref["lag"].values, ds["lag"].values):
            diffs.append("lags differ")
        if diffs:
            raise ValueError(f"{ref_path} and {path} are kernels of different variants or configurations ("
                             f"{'; '.join(diffs)}); expected kernels of one variant and one configuration")


def gather_kernel_files(paths, output):
    """Gather per-connection kernel files into one ``kernels.nc`` (dims ``post``, ``pre``).

    The files must be kernels of one variant and one configuration (:func:`check_kernel_set`);
    ``output`` must not be one of them.
    """
    paths = [str(p) for p in paths]
    check_output(output, inputs=paths)
    datasets = [read_dataset(p, kind="kernel") for p in paths]
    check_kernel_set(datasets, paths)
    write_dataset(gather_kernels(datasets), output, inputs=paths)


#: Rows of the printed metrics table (the study's headline numbers).
HEADLINE_SIGNALS = ("lfp", "csd", "cdm_z")


def metrics_table(csv_paths, output):
    """Concatenate per-variant comparison summaries into one CSV; return the headline table text."""
    table = pd.concat([pd.read_csv(p) for p in csv_paths], ignore_index=True)
    with atomic_path(output) as tmp:
        table.to_csv(tmp, index=False)
    head = table[(table["source"] == "total") & table["signal"].isin(HEADLINE_SIGNALS)]
    return format_table(head)
