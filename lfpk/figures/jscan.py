"""The weight-scaling scan of the study (``figures/jscan.{png,pdf}``): rasters and dipole traces per
J, R^2 of the LFP per channel and of the dipole z against J for every kernel variant."""

from __future__ import annotations

import numpy as np

from lfpk.base.io import read_dataset
from lfpk.figures.inputs import require, time_window
from lfpk.figures.style import (
    GROUND_TRUTH_COLOR,
    STYLE,
    population_color,
    pyplot,
    save,
    variant_color,
)


def jscan(spikes, signals, predictions, scan, paths, variant, window_length=400.0):
    """Weight-scaling scan: per run (column, sorted by J) a raster and ground truth vs prediction of
    CDM z; below, R^2 of the LFP per channel against depth for every J, and R^2 / r_STD of CDM z
    against J for every kernel variant.

    Parameters
    ----------
    spikes, signals, predictions : dict
        ``run -> spikes.nc / signals.nc / prediction (of variant) Dataset``.
    scan : xarray.Dataset
        :func:`lfpk.study.scan.gather_scan` output (``r2``, ``r_std``; coordinate ``J (run)``).
    paths : sequence of path-like
    variant : str
        Kernel variant shown in the traces and the depth profiles.
    """
    require(scan, ("r2", "r_std", "J"), "scan")
    plt = pyplot()
    runs = sorted(spikes, key=lambda r: float(scan["J"].sel(run=r)))
    n = len(runs)
    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(max(7.0, 2.6 * n), 8.2))
        gs = fig.add_gridspec(3, max(n, 2), height_ratios=[1.1, 1.0, 1.3], hspace=0.55, wspace=0.35)
        for j, run in enumerate(runs):
            sp, sg, pr = spikes[run], signals[run], predictions[run]
            require(sp, ("spike_time", "spike_unit", "unit_population"), f"spikes of run {run}")
            require(sg, ("cdm",), f"signals of run {run}")
            require(pr, ("cdm",), f"prediction of run {run}")
            t0, t1 = time_window(sg, None, window_length)
            J = float(scan["J"].sel(run=run))
            ax = fig.add_subplot(gs[0, j])
            st = np.asarray(sp["spike_time"].values, dtype=float)
            su = np.asarray(sp["spike_unit"].values)
            unit_pop = np.asarray(sp["unit_population"].values).astype(str)
            sel = (st >= t0) & (st <= t1)
            for i, p in enumerate(dict.fromkeys(unit_pop)):
                m = sel & (unit_pop[su] == p)
                ax.plot(st[m], su[m], "|", ms=1.5, color=population_color(p, i), label=p)
            ax.set_xlim(t0, t1)
            ax.set_title(f"run {run}: J = {J:g}")
            ax.set_xlabel("time (ms)")
            if j == 0:
                ax.set_ylabel("cell")
                ax.legend(loc="upper right", frameon=False, markerscale=4)
            ax = fig.add_subplot(gs[1, j])
            t = np.asarray(sg["time"].values, dtype=float)
            w = (t >= t0) & (t <= t1)
            ax.plot(t[w], sg["cdm"].sel(source="total", component="z").values[w], color=GROUND_TRUTH_COLOR,
                    lw=0.8, label="ground truth")
            tp = np.asarray(pr["time"].values, dtype=float)
            wp = (tp >= t0) & (tp <= t1)
            ax.plot(tp[wp], pr["cdm"].sel(source="total", component="z").values[wp], color=variant_color(0),
                    lw=0.8, label=variant)
            ax.set_xlim(t0, t1)
            ax.set_xlabel("time (ms)")
            if j == 0:
                ax.set_ylabel("CDM z (nA um)")
                ax.legend(loc="lower left", frameon=False)
        # bottom row: LFP R^2 per channel for each J, and CDM z metrics against J
        ax = fig.add_subplot(gs[2, : max(1, n // 2)])
        r2 = scan["r2"].sel(source="total", signal="lfp", band="raw", variant=variant)
        z = scan["channel_z"].sel(signal="lfp").values if "channel_z" in scan.coords else np.arange(r2.sizes["channel"])
        cmap = plt.get_cmap("viridis")
        for k, run in enumerate(runs):
            J = float(scan["J"].sel(run=run))
            ax.plot(r2.sel(run=run).values, z, "o-", ms=3, color=cmap(k / max(1, n - 1)), label=f"J = {J:g}")
        ax.set_xlabel("R$^2$ (1)")
        ax.set_ylabel("depth z (um)")
        ax.set_xlim(0, 1)
        ax.set_title(f"LFP R$^2$ per channel ({variant}, raw)")
        ax.legend(frameon=False, fontsize=6)
        ax2 = fig.add_subplot(gs[2, max(1, n // 2):])
        Js = np.array([float(scan["J"].sel(run=r)) for r in runs])
        for i, v in enumerate(scan["variant"].values):
            vals = scan["r2"].sel(source="total", signal="cdm_z", band="raw", variant=v).isel(channel=0)
            ax2.plot(Js, [float(vals.sel(run=r)) for r in runs], "o-", color=variant_color(i),
                     label=str(v))
        ax2.set_xlabel("weight scaling J (1)")
        ax2.set_ylabel("CDM z R$^2$ (1)")
        ax2.set_ylim(0, 1)
        ax2.set_title("CDM z R$^2$ against J (raw)")
        ax2.legend(frameon=False, fontsize=6)
        fig.suptitle("Excitatory weight scaling J: ground truth and kernel predictions")
        save(fig, paths)


def jscan_figure(spikes_paths, signals_paths, prediction_paths, scan_path, paths, variant, window_length=400.0):
    """File-level wrapper of :func:`jscan`; the first three arguments map run -> path."""
    jscan({r: read_dataset(p) for r, p in spikes_paths.items()},
          {r: read_dataset(p) for r, p in signals_paths.items()},
          {r: read_dataset(p) for r, p in prediction_paths.items()},
          read_dataset(scan_path), paths, variant, window_length)
