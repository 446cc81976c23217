"""The hybrid scheme of a study: its settings, the approximations it compares, and their metrics.

Hagen et al. (2022, PLOS Comput Biol 18:e1010353, Figs 4-7) compare eight approximations of the
ground truth of one run (the study's J = 1):

* four **reconstructions**: the network rebuilt with linearised cells (quasi-linear, frozen) and
  current synapses, with and without g_eff, driven by the ground truth's spikes
  (:mod:`lfpk.engines.network.replay`);
* two **hybrid-kernel predictions**: kernels measured on that linearised network (g_eff on) by one
  volley per presynaptic population (:func:`lfpk.engines.network.replay.hybrid_kernels`), convolved with
  the ground truth's spike counts (:mod:`lfpk.predict`);
* two **direct-kernel predictions**: the kernels of :mod:`lfpk.engines.kernel` (one representative cell
  per population) of the same forms, convolved likewise.

This module reads the config's ``hybrid`` block (with the study's defaults), names the
approximations, checks the block, and compares all approximations with the ground truth in one
labelled dataset (:func:`compare_approximations`, the metrics of :mod:`lfpk.compare`).
"""

from __future__ import annotations

import logging

import xarray as xr

from lfpk.base.files import atomic_paths
from lfpk.base.io import check_dataset, dataset_to_netcdf, read_dataset
from lfpk.engines.compare import compare, summary_table
from lfpk.model.rules import KERNEL_FORMS
from lfpk.model.times import time_errors
from lfpk.study.runs import DEFAULT_RUN, ground_truth_runs

log = logging.getLogger("lfpk.hybrid")

#: The study's hybrid scheme (run_pscan.py: PS1 reconstructions, PS2 hybrid kernels).
DEFAULTS = {
    "run": DEFAULT_RUN,
    "reconstructions": ["quasi_linear-nogeff", "quasi_linear-geff", "frozen-nogeff", "frozen-geff"],
    "kernels": ["quasi_linear-geff", "frozen-geff"],
    "volleys": {"start": 200.0, "interval": 200.0},
}
#: Methods of the approximations, in the order of the study's Fig 7.
METHODS = ("reconstruction", "hybrid kernel", "direct kernel")


def settings(cfg) -> dict:
    """The config's ``hybrid`` block with the defaults (:data:`DEFAULTS`) filled in."""
    out = {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v) for k, v in DEFAULTS.items()}
    out.update(cfg.get("hybrid") or {})
    return out


def parse(name) -> dict:
    """``biophysics`` and ``g_eff`` of a hybrid variant name ``<biophysics>-<geff|nogeff>``."""
    parts = str(name).split("-")
    if len(parts) != 2 or parts[0] not in KERNEL_FORMS or parts[1] not in ("geff", "nogeff"):
        raise ValueError(f"hybrid variant {name!r}: expected <biophysics>-<geff|nogeff> with biophysics in "
                         f"{KERNEL_FORMS}")
    return {"biophysics": parts[0], "g_eff": parts[1] == "geff"}


def direct_variant(name) -> str:
    """The direct-kernel variant compared with hybrid kernels ``name``: ``<name>-scalar``."""
    parse(name)
    return f"{name}-scalar"


def volley_times(cfg) -> dict:
    """``{population: t (ms)}`` of the hybrid-kernel runs (population i fires at start + i interval)."""
    v = settings(cfg)["volleys"]
    return {p: float(v["start"]) + i * float(v["interval"]) for i, p in enumerate(cfg["populations"])}


def approximations(cfg) -> list[dict]:
    """Every approximation of the study's comparison, in the order of its Fig 7: ``label``,
    ``method`` (:data:`METHODS`), ``variant`` (hybrid ``<bio>-<geff>`` or direct-kernel name),
    ``biophysics``, ``g_eff``."""
    s = settings(cfg)
    out = []
    for method, names in (("reconstruction", s["reconstructions"]), ("hybrid kernel", s["kernels"]),
                          ("direct kernel", [direct_variant(k) for k in s["kernels"]])):
        for v in names:
            opts = parse(v.rsplit("-", 1)[0] if method == "direct kernel" else v)
            out.append({"label": f"{method}: {v}", "method": method, "variant": v, **opts})
    return out


def config_errors(cfg) -> list[str]:
    """The ``hybrid`` block fits the study: its run exists and the volleys are at least ``kernel.tau``
    apart. (The direct kernels ``<variant>-scalar`` each hybrid-kernel variant is compared with are
    computed for the run whether or not ``kernel.variants`` lists them.)"""
    if "hybrid" not in cfg:
        return []
    s = settings(cfg)
    errors = []
    runs = ground_truth_runs(cfg)
    if s["run"] not in runs:
        errors.append(f"hybrid.run: {s['run']!r} is not a ground-truth run of the study ({', '.join(runs)})")
    if float(s["volleys"]["interval"]) < float(cfg["kernel"]["tau"]):
        errors.append(f"hybrid.volleys.interval: {s['volleys']['interval']} ms must be at least kernel.tau "
                      f"({cfg['kernel']['tau']} ms): each kernel window may see one volley only")
    errors += volley_time_errors(cfg)
    return errors


def volley_time_errors(cfg) -> list[str]:
    """The hybrid-kernel run's times (:func:`lfpk.model.times.time_errors`): the volleys fall on the
    time grid of ``simulation.dt`` and the run, which lasts until ``kernel.tau`` after the last
    volley (:func:`lfpk.engines.network.replay.replayed_spikes`), has a valid stop time."""
    dt = cfg["simulation"]["dt"]
    v = settings(cfg)["volleys"]
    errors = []
    for key in ("start", "interval"):
        errors += time_errors(dt, chunk=v[key], names={"chunk": f"hybrid.volleys.{key}"})
    if errors:
        return errors
    last = max(volley_times(cfg).values())
    return time_errors(dt, tstop=last + float(cfg["kernel"]["tau"]) + float(dt),
                       names={"tstop": "hybrid.volleys (the hybrid-kernel run: last volley + kernel.tau + dt)"})


def compare_approximations(ground_truth, items, transient=None):
    """Every approximation against the ground truth (:func:`lfpk.engines.compare.compare`), concatenated.

    Parameters
    ----------
    ground_truth : xarray.Dataset
        ``signals.nc`` of the ground-truth run.
    items : list of (dict, xarray.Dataset)
        :func:`approximations` entries with their signals (a reconstruction's ``signals.nc`` or a
        prediction; both have ``lfp``, ``csd``, ``cdm`` with a ``source`` dim).
    transient : float, optional
        Default the ground truth's.

    Returns
    -------
    xarray.Dataset
        The comparison of :func:`lfpk.engines.compare.compare` along ``approximation`` (labels), with
        coordinates ``method``, ``variant``, ``biophysics``, ``g_eff`` on it.
    """
    parts = []
    for meta, ds in items:
        c = compare(ground_truth, ds, transient=transient, approximation=meta["label"], gt_name="ground truth",
                    pred_name=meta["label"])
        parts.append(c)
    out = xr.concat(parts, dim="approximation", data_vars="minimal", coords="minimal", compat="override",
                    join="outer")
    for key in ("method", "variant", "biophysics"):
        out = out.assign_coords({key: ("approximation", [m[key] for m, _ in items])})
    out = out.assign_coords(g_eff=("approximation", [int(m["g_eff"]) for m, _ in items], {"units": "1"}))
    out.attrs["title"] = "the hybrid scheme's approximations versus the ground truth (Hagen et al. 2022, Fig 7)"
    return out


def compare_approximation_files(ground_truth, entries, output, summary):
    """Stage: :func:`compare_approximations` of files; writes the comparison (.nc) and its summary
    table (.csv, :func:`lfpk.engines.compare.summary_table`), both or neither.

    Parameters
    ----------
    entries : list of (dict, path)
        :func:`approximations` entries and the file of each.
    """
    inputs = [ground_truth] + [p for _, p in entries]
    gt = read_dataset(ground_truth, kind="signals")
    items = [(meta, read_dataset(path)) for meta, path in entries]
    ds = compare_approximations(gt, items)
    ds.attrs["ground_truth"] = str(ground_truth)
    ds.attrs["inputs"] = "; ".join(f"{m['label']}: {p}" for m, p in entries)
    table = summary_table(ds)
    check_dataset(ds, output)
    with atomic_paths([output, summary], inputs=inputs) as tmps:
        dataset_to_netcdf(ds, tmps[0])
        table.to_csv(tmps[1], index=False, float_format="%.6g")
    return ds, table
