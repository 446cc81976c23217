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
        variables of its data contract or without one of the config's populations, or with values
        kernels cannot use (non-finite V_rest or rates, negative rates, an impossible ``nseg``),
        naming the file, variable and population.
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
            V[p] = _membrane_values(ds, membrane, "v_soma", p)
        else:
            n = int(_membrane_values(ds, membrane, "nseg", p))
            V[p] = _membrane_values(ds, membrane, "v_segment", p, n)
    rates = {p: float(_membrane_values(ds, membrane, "rate", p)) for p in pops}
    return V, rates, {"V_rest": f"{membrane} ({v_rest_mode})", "rates": str(membrane)}


#: What each membrane variable kernels read holds, for messages.
MEMBRANE_MEANINGS = {
    "v_soma": "the median somatic potential after the transient (mV)",
    "v_segment": "the median potential of each segment after the transient (mV)",
    "nseg": "the number of segments of the population's cell",
    "rate": "the mean firing rate after the transient (1/s)",
}


def _membrane_values(ds, membrane, var, population, nseg=None):
    """The values of ``var`` for ``population`` in a membrane file, checked where they are read.

    ``v_soma`` and ``v_segment`` (its first ``nseg`` segments) must be finite, ``rate`` finite and
    not negative, ``nseg`` between 1 and the file's ``segment`` length. A ground-truth run with no
    time after its transient writes NaN: the message names the file, the variable and the
    population instead of failing later inside the kernel's linearisation.

    Returns
    -------
    float or ndarray
        ``v_segment``: the first ``nseg`` values (mV); the others: a float.

    Raises
    ------
    ValueError
        ``<file>: <var> of population <p> is <value>; expected ...``.
    """
    raw = ds[var].sel(population=population).values
    values = np.asarray(raw, dtype=float)
    where = f"{membrane}: {var} of population {population}"
    expected = f"expected {MEMBRANE_MEANINGS[var]}"
    if var == "nseg":
        n = float(values)
        if not (np.isfinite(n) and n == round(n) and 1 <= n <= ds.sizes.get("segment", 0)):
            raise ValueError(f"{where} is {raw}; {expected}, from 1 to the file's {ds.sizes.get('segment', 0)} "
                             "segments")
        return int(n)
    if nseg is not None:
        values = values[:nseg]
    bad = ~np.isfinite(values)
    if var == "rate":
        bad |= values < 0
    if bad.any():
        if values.ndim:
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{where} is {values[first]} at segment {first} ({int(bad.sum())} of {values.size} "
                             f"segments not finite); {expected}, finite")
        kind = "finite and at least 0" if var == "rate" else "finite"
        why = (" (a ground-truth run with no time after its transient writes NaN)" if np.isnan(values) else "")
        raise ValueError(f"{where} is {float(values)}; {expected}, {kind}{why}")
    return values if values.ndim else float(values)


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
    if cfg.get("layers"):  # only layered configs: the parameters of the others stay as they were
        out["layers"] = cfg["layers"]
    return out
