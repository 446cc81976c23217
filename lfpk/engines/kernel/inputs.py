"""What kernels take from a configuration and, optionally, a ground-truth run.

:func:`kernel_inputs` gives the linearisation potential V_rest (mV) of each population and the
presynaptic rates (1/s) for g_eff: from the config's ``kernel`` block (prospective use, no ground
truth) or from a ground-truth ``membrane.nc`` (median somatic or per-segment potentials, mean
rates). :func:`kernel_parameters` is the configuration subset one kernel H_post,pre depends on,
stored with it (and the workflow's Snakemake params).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from lfpk.base.io import read_dataset

#: How V_rest is taken from a membrane file: median somatic potential or per-segment medians.
V_REST_MODES = ("scalar", "segment")
#: Variables of the membrane data contract that kernels read.
MEMBRANE_VARIABLES = ("v_soma", "v_segment", "nseg", "rate")


def kernel_inputs(cfg, membrane=None, v_rest_mode="scalar"):
    """V_rest (per population) and presynaptic rates for kernels, with their provenance.

    Parameters
    ----------
    cfg : dict
        Validated configuration.
    membrane : path-like or xarray.Dataset, optional
        Ground-truth ``membrane.nc`` (or its loaded dataset); without it ``kernel.V_rest`` (mV) and
        ``kernel.rates`` (1/s) of the config are used (prospective use without ground truth).
    v_rest_mode : {'scalar', 'segment'}
        ``scalar`` (median somatic potential of each population) or ``segment`` (median
        potential of every segment); ``segment`` needs ``membrane``.

    Returns
    -------
    V_rest : dict
        Population -> float or ndarray (mV).
    rates : dict
        Population -> rate (1/s).
    provenance : dict
        ``{"V_rest": source, "rates": source}`` (text).

    Raises
    ------
    ValueError
        Unknown ``v_rest_mode``, ``segment`` without a membrane file, a membrane file without the
        variables of its data contract or without one of the config's populations.
    """
    if v_rest_mode not in V_REST_MODES:
        raise ValueError(f"v_rest_mode: must be 'scalar' or 'segment', got {v_rest_mode!r}")
    pops = list(cfg["populations"])
    if membrane is None:
        if v_rest_mode == "segment":
            raise ValueError("v_rest_mode: 'segment' needs a ground-truth membrane file (--membrane)")
        return ({p: float(cfg["kernel"]["V_rest"]) for p in pops}, dict(cfg["kernel"]["rates"]),
                {"V_rest": "config kernel.V_rest", "rates": "config kernel.rates"})
    if isinstance(membrane, xr.Dataset):
        ds, membrane = membrane, membrane.attrs.get("source", "membrane dataset")
    else:
        ds = read_dataset(membrane, kind="membrane")
    for var in MEMBRANE_VARIABLES:
        if var not in ds:
            raise ValueError(f"{membrane}: missing variable {var!r} of the membrane data contract")
    have = [str(p) for p in ds["population"].values]
    missing = [p for p in pops if p not in have]
    if missing:
        raise ValueError(f"{membrane}: no membrane data for population(s) {missing}")
    V = {}
    for p in pops:
        if v_rest_mode == "scalar":
            V[p] = float(ds["v_soma"].sel(population=p))
        else:
            n = int(ds["nseg"].sel(population=p))
            V[p] = np.asarray(ds["v_segment"].sel(population=p).values[:n], dtype=float)
    rates = {p: float(ds["rate"].sel(population=p)) for p in pops}
    return V, rates, {"V_rest": f"{membrane} ({v_rest_mode})", "rates": str(membrane)}


def kernel_parameters(cfg, post, pre):
    """The configuration subset a kernel H_post,pre depends on (stored with it, and Snakemake params).

    Parameters
    ----------
    cfg : dict
        Validated configuration.
    post, pre : str
        Postsynaptic and presynaptic population of the connection.

    Returns
    -------
    dict
        Populations, the connections onto ``post`` and the connection itself, biophysics, kernel
        options (without the workflow's ``variants``), probes, weight scaling, ``simulation.dt``
        (ms) and ``celsius`` (degC), and ``mechanisms`` when configured.
    """
    out = {
        "populations": cfg["populations"],
        "connections": [c for c in cfg["connections"] if c["post"] == post],
        "connection": next(c for c in cfg["connections"] if c["post"] == post and c["pre"] == pre),
        "biophysics": cfg["biophysics"],
        # the list of variants to compute is workflow wiring, not an input of any one kernel
        "kernel": {k: v for k, v in cfg["kernel"].items() if k != "variants"},
        "probes": cfg["probes"],
        "weight_scaling": cfg["weight_scaling"],
        "simulation": {k: cfg["simulation"][k] for k in ("dt", "celsius")},
    }
    if cfg.get("mechanisms"):
        out["mechanisms"] = cfg["mechanisms"]
    return out
