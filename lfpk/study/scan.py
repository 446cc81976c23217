"""Tidy gathering of a study's scans: every run x kernel variant in one labelled dataset."""

from __future__ import annotations

import numpy as np
import xarray as xr

from lfpk.base.io import read_dataset, write_dataset
from lfpk.model.rules import parse_variant


def gather_scan(comparisons, membranes, run_J):
    """Stack comparison files of every (run, variant) into one dataset.

    Parameters
    ----------
    comparisons : dict
        ``(run, variant) -> comparison .nc path`` (:func:`lfpk.engines.compare.compare_files` output).
    membranes : dict
        ``run -> membrane.nc`` of the ground-truth run (rates and V_rest).
    run_J : dict
        ``run -> weight scaling J`` of the run.

    Returns
    -------
    xarray.Dataset
        ``r2`` and ``r_std (run, variant, source, signal, channel, band)``; ``rate`` and
        ``v_soma (run, population)``; coordinates ``J (run)`` and, on ``variant``,
        ``biophysics``, ``g_eff``, ``v_rest_mode``.
    """
    runs = list(dict.fromkeys(r for r, _ in comparisons))
    variants = list(dict.fromkeys(v for _, v in comparisons))
    missing = [(r, v) for r in runs for v in variants if (r, v) not in comparisons]
    if missing:
        raise ValueError(f"comparisons: missing (run, variant) entries {missing}")
    per_run = []
    for r in runs:
        per_var = []
        for v in variants:
            ds = read_dataset(comparisons[(r, v)])
            keep = ds[["r2", "r_std"]].isel(approximation=0, drop=True)
            per_var.append(keep)
        per_run.append(xr.concat(per_var, dim="variant", join="outer"))
    out = xr.concat(per_run, dim="run", join="outer")
    out = out.assign_coords(run=runs, variant=variants)
    opts = [parse_variant(v) for v in variants]
    out = out.assign_coords(
        J=("run", [float(run_J[r]) for r in runs], {"units": "1", "long_name": "excitatory weight scaling"}),
        biophysics=("variant", [o["biophysics"] for o in opts], {"long_name": "kernel cell biophysics"}),
        g_eff=("variant", [int(o["g_eff"]) for o in opts], {"units": "1", "long_name": "g_eff on (1) or off (0)"}),
        v_rest_mode=("variant", [o["v_rest_mode"] for o in opts], {"long_name": "scalar or per-segment V_rest"}),
    )
    rates, vsoma, pops = [], [], None
    for r in runs:
        m = read_dataset(membranes[r])
        pops = [str(p) for p in m["population"].values]
        rates.append(m["rate"].values)
        vsoma.append(m["v_soma"].values)
    out["rate"] = (("run", "population"), np.array(rates), {"units": "1/s", "long_name": "mean firing rate after the transient"})
    out["v_soma"] = (("run", "population"), np.array(vsoma), {"units": "mV", "long_name": "median somatic potential after the transient"})
    out = out.assign_coords(population=pops)
    out.attrs = {"title": "kernel prediction metrics of every ground-truth run and kernel variant"}
    return out


def gather_scan_files(comparisons, membranes, run_J, output):
    """Stage wrapper of :func:`gather_scan` writing ``output`` atomically."""
    write_dataset(gather_scan(comparisons, membranes, run_J), output)
