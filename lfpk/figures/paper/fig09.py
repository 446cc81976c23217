"""Fig 9: the weight-scaling scan (J) with direct-kernel predictions (the study: frozen kernels with
g_eff, each run's own V_rest and rates).

One column per J: A, raster (window after the transient, mean rates in the title); B, the LFP of
two channels and C, the dipole moment's z component, ground truth black and prediction in the
run's colour. Below: D, rate spectra of E (and of I underneath); E, R^2 and F, r_STD per LFP
channel for every J (raw filled, low-pass open); G, the LFP's channel median of R^2 against
r_STD (10-90 % bars); H, R^2 against r_STD of the dipole z.
"""

from __future__ import annotations

import numpy as np

from lfpk.base.io import read_dataset
from lfpk.figures.paper.data import (
    TRACE_WINDOW,
    analysis_window,
    mean_rates,
    rate_spectra,
    spikes_of,
    trace,
)
from lfpk.figures.paper.fig07 import summary
from lfpk.figures.paper.framework import PaperFigure, stacked_traces
from lfpk.figures.style import GROUND_TRUTH_COLOR, population_colors, style_axes

#: LFP channels shown in panel B (the study's ch.2 and ch.11).
CHANNELS = (1, 10)
BANDS = (("raw", True), ("lowpass", False))


def _j_colors(n):
    import matplotlib  # matplotlib only when a figure is drawn

    cmap = matplotlib.colormaps["plasma"]
    return [cmap(0.1 + 0.75 * i / max(1, n - 1)) for i in range(n)]


def jscan_figure(runs, paths, window=TRACE_WINDOW, source="total", variant="", name="Fig09"):
    """Draw Fig 9.

    Parameters
    ----------
    runs : list of dict
        One per ground-truth run, in increasing J: ``J``, ``spikes``, ``signals``, ``prediction``
        (datasets) and ``comparison`` (:func:`lfpk.engines.compare.compare` of the prediction).
    """
    n = len(runs)
    colors = _j_colors(n)
    fig = PaperFigure(name, f"weight-scaling scan J: spikes, ground truth vs direct-kernel predictions ({variant}), "
                            "rate spectra and metrics", height=7.5)
    f = fig.fig
    gs = f.add_gridspec(3, max(n, 1), left=0.08, right=0.93, top=0.93, bottom=0.6, wspace=0.25, hspace=0.35)
    first = {}
    for j, r in enumerate(runs):
        sp, sig, pr = r["spikes"], r["signals"], r["prediction"]
        pops = [str(p) for p in sp["population"].values]
        pc = population_colors(pops)
        t0, t1 = analysis_window(sig, window)
        rates = mean_rates(sp)
        ax = f.add_subplot(gs[0, j], sharex=first.get("raster"))
        first.setdefault("raster", ax)
        for p in pops:
            st, su = spikes_of(sp, p, t0, t1)
            ax.plot(st, su, ".", ms=0.8, mec="none", mfc=pc[p])
        ax.invert_yaxis()
        ax.set_title(f"J = {r['J']:g}\n" + ", ".join(f"{p} {rates[p]:.2f}/s" for p in pops), fontsize=6)
        ax.tick_params(labelbottom=False)
        ax.set_ylabel("gid" if j == 0 else "")
        style_axes(ax)
        if j == 0:
            fig.panel(ax, "A", "spike rasters of every J")
        axb = f.add_subplot(gs[1, j], sharex=first["raster"])
        tg, g = trace(sig, "lfp", t0, t1, source)
        tp, p_ = trace(pr, "lfp", t0, t1, source)
        rows = [c for c in CHANNELS if c < g.shape[0]]
        s = stacked_traces(axb, tg, g[rows], color=GROUND_TRUTH_COLOR, units="mV", ylabels=[f"ch.{c + 1}" for c in rows])
        stacked_traces(axb, tp, p_[rows], scale=s, color=colors[j], scalebar=False, ylabels=[f"ch.{c + 1}" for c in rows])
        axb.tick_params(labelbottom=False)
        style_axes(axb)
        axc = f.add_subplot(gs[2, j], sharex=first["raster"])
        tg, g = trace(sig, "cdm", t0, t1, source, "z")
        tp, p_ = trace(pr, "cdm", t0, t1, source, "z")
        s = stacked_traces(axc, tg, g, color=GROUND_TRUTH_COLOR, units="nA um", ylabels=["P_z"])
        stacked_traces(axc, tp, p_, scale=s, color=colors[j], scalebar=False, ylabels=["P_z"])
        axc.set_xlabel("t (ms)")
        style_axes(axc)
        if j == 0:
            fig.panel(axb, "B", "LFP of two channels: ground truth and prediction")
            fig.panel(axc, "C", "dipole z: ground truth and prediction")
        else:
            axb.tick_params(labelleft=False)
            axc.tick_params(labelleft=False)
    gs2 = f.add_gridspec(2, 3, left=0.08, right=0.95, top=0.5, bottom=0.06, wspace=0.4, hspace=0.45)
    axd = f.add_subplot(gs2[0, 0])
    axd2 = f.add_subplot(gs2[1, 0], sharex=axd)
    axe = f.add_subplot(gs2[0, 1])
    axf = f.add_subplot(gs2[0, 2], sharey=axe)
    axg = f.add_subplot(gs2[1, 1])
    axh = f.add_subplot(gs2[1, 2])
    for j, r in enumerate(runs):
        fr, psd = rate_spectra(r["spikes"])
        sel = (fr > 0) & (fr <= 1000.0)
        pops = list(psd)
        axd.loglog(fr[sel], psd[pops[0]][sel], color=colors[j], label=f"J = {r['J']:g}")
        if len(pops) > 1:
            axd2.loglog(fr[sel], psd[pops[1]][sel], color=colors[j])
        c = r["comparison"]
        n_lfp = int(c["n_channels"].sel(signal="lfp"))
        ch = np.arange(1, n_lfp + 1)
        for band, filled in BANDS:
            sel_ = dict(signal="lfp", source=source, band=band)
            r2 = c["r2"].sel(**sel_).isel(approximation=0).values[:n_lfp]
            rs = c["r_std"].sel(**sel_).isel(approximation=0).values[:n_lfp]
            kw = dict(color=colors[j], mec=colors[j], mfc=colors[j] if filled else "w", ms=3, lw=0.6, marker="o",
                      clip_on=False)
            axe.plot(r2, ch, label=f"J = {r['J']:g}" if filled else None, **kw)
            axf.plot(rs, ch, **kw)
            r2m, lo, hi = summary(r2)
            rsm, rlo, rhi = summary(rs)
            axg.errorbar(r2m, rsm, xerr=[[lo], [hi]], yerr=[[rlo], [rhi]], fmt="o", ms=4, color=colors[j],
                         mec=colors[j], mfc=colors[j] if filled else "w", elinewidth=0.6, clip_on=False)
            cz = dict(signal="cdm_z", source=source, band=band)
            axh.plot(float(c["r2"].sel(**cz).isel(approximation=0, channel=0)),
                     float(c["r_std"].sel(**cz).isel(approximation=0, channel=0)), "o", ms=4, color=colors[j],
                     mec=colors[j], mfc=colors[j] if filled else "w", clip_on=False)
    pops = [str(p) for p in runs[0]["spikes"]["population"].values]
    axd.set_ylabel(f"PSD rate {pops[0]} (s^-2/Hz)")
    axd.tick_params(labelbottom=False)
    axd.legend(frameon=False, fontsize=5)
    axd2.set_ylabel(f"PSD rate {pops[-1]} (s^-2/Hz)")
    axd2.set_xlabel("f (Hz)")
    axe.invert_yaxis()
    axe.set_xlabel("R^2 (LFP)")
    axe.set_ylabel("LFP channel")
    axf.set_xlabel("r_STD (LFP)")
    axf.axvline(1.0, color="0.7", lw=0.5, ls=":")
    axf.tick_params(labelleft=False)
    axg.set_xlabel("R^2 (LFP, channel median)")
    axg.set_ylabel("r_STD")
    axh.set_xlabel("R^2 (dipole z)")
    axh.set_ylabel("r_STD")
    for a in (axg, axh):
        a.axhline(1.0, color="0.7", lw=0.5, ls=":")
    for a in (axd, axd2, axe, axf, axg, axh):
        style_axes(a)
    fig.panel(axd, "D", "rate spectra of E (and I below) for every J")
    fig.panel(axe, "E", "R^2 per LFP channel for every J")
    fig.panel(axf, "F", "r_STD per LFP channel for every J")
    fig.panel(axg, "G", "LFP: median R^2 vs r_STD for every J")
    fig.panel(axh, "H", "dipole z: R^2 vs r_STD for every J")
    return fig.save(paths)


def jscan_figure_files(J, spikes, signals, predictions, comparisons, outputs, variant="", window=TRACE_WINDOW,
                       name="Fig09", source="total"):
    """File-level wrapper of :func:`jscan_figure` (lists in the same run order; sorted by J here)."""
    runs = [{"J": float(j), "spikes": read_dataset(s, kind="spikes"), "signals": read_dataset(g, kind="signals"),
             "prediction": read_dataset(p, kind="prediction"), "comparison": read_dataset(c)}
            for j, s, g, p, c in zip(J, spikes, signals, predictions, comparisons)]
    runs.sort(key=lambda r: r["J"])
    return jscan_figure(runs, outputs, window=window, source=source, variant=variant, name=name)
