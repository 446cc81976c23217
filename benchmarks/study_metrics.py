"""Headline numbers of finished studies side by side, with what Hagen et al. (2022) published.

Reads each study's ``scan/metrics.nc`` (rule ``scan_gather``: rates, median somatic membrane
potential and R^2 / r_STD per run, kernel variant, signal and channel) and prints one Markdown
table for one run (default ``default``, the J = 1 run) and one kernel variant: population rates,
median somatic V_rest, and the medians over channels of R^2 and r_STD of the total LFP, CSD and
current dipole moment z (unfiltered). The table of docs/study.md (*Paper scale*) is made with::

    python benchmarks/study_metrics.py results/paper_j1 results/paper_smoke results/laptop

The published column is Hagen et al. (2022) PLOS Comput Biol 18:e1010353, Model A at J = 1 (rates
and median somatic V_rest from the study's Table/Results as summarised in docs/study.md); the
publication gives R^2 / r_STD as figures only (Fig 7), so those cells are left empty.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import xarray as xr

#: Model A at J = 1 as published (Hagen et al. 2022): rates in 1/s, median somatic V_rest in mV.
PUBLISHED = {("rate", "E"): 2.571, ("rate", "I"): 5.058, ("v_soma", "E"): -70.55, ("v_soma", "I"): -69.36}
SIGNALS = ("lfp", "csd", "cdm_z")


def study_column(path, run="default", variant=None, band="raw", source="total"):
    """Headline numbers of one study as ``{row label: value}``.

    Parameters
    ----------
    path : path-like
        A study's results folder (holding ``scan/metrics.nc``).
    run : str
        Ground-truth run (``default`` is J = 1).
    variant : str, optional
        Kernel variant; default the file's first (the first of the config's ``kernel.variants``).
    band, source : str
        ``raw`` or ``lowpass``; ``total`` or a population.
    """
    f = Path(path) / "scan" / "metrics.nc"
    if not f.is_file():
        raise FileNotFoundError(f"{f}: no such file (run the study's scan_gather rule first)")
    with xr.open_dataset(f) as ds:
        if run not in ds["run"].values:
            raise ValueError(f"{f}: run {run!r} not among {[str(v) for v in ds['run'].values]}")
        variant = str(ds["variant"].values[0]) if variant is None else variant
        if variant not in ds["variant"].values:
            raise ValueError(f"{f}: variant {variant!r} not among {[str(v) for v in ds['variant'].values]}")
        out = {"variant": variant}
        for pop in ds["population"].values:
            out[f"rate {pop} (1/s)"] = float(ds["rate"].sel(run=run, population=pop))
        for pop in ds["population"].values:
            out[f"median V_soma {pop} (mV)"] = float(ds["v_soma"].sel(run=run, population=pop))
        for sig in SIGNALS:
            for name in ("r2", "r_std"):
                values = ds[name].sel(run=run, variant=variant, source=source, signal=sig,
                                      band=band).values
                label = "R^2" if name == "r2" else "r_STD"
                out[f"{sig} {label} (median)"] = float(np.nanmedian(values))
    return out


def published_column():
    out = {"variant": "", "rate E (1/s)": PUBLISHED[("rate", "E")], "rate I (1/s)": PUBLISHED[("rate", "I")],
           "median V_soma E (mV)": PUBLISHED[("v_soma", "E")], "median V_soma I (mV)": PUBLISHED[("v_soma", "I")]}
    return out


def markdown(columns, names):
    rows = []
    for col in columns:
        rows += [k for k in col if k not in rows]
    out = ["| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for key in rows:
        cells = []
        for col in columns:
            v = col.get(key, "")
            cells.append(f"{v:.3f}" if isinstance(v, float) else str(v))
        out.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="+", help="studies' results folders, e.g. results/paper_j1")
    ap.add_argument("--run", default="default", help="ground-truth run (default: default, J = 1)")
    ap.add_argument("--variant", default=None, help="kernel variant (default: the first of the config's kernel.variants)")
    ap.add_argument("--band", default="raw", choices=["raw", "lowpass"])
    args = ap.parse_args(argv)
    try:
        cols = [study_column(p, args.run, args.variant, args.band) for p in args.results]
    except (OSError, ValueError) as exc:
        print(f"study_metrics: {exc}", file=sys.stderr)
        return 2
    names = [Path(p).name for p in args.results] + ["published (J = 1)"]
    print(markdown(cols + [published_column()], names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
