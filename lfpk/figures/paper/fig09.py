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
from lfpk.figures.style import GROUND_TRUTH_COLOR, population_colors, pyplot, style_axes

#: LFP channels shown in panel B (the study's ch.2 and ch.11).
CHANNELS = (1, 10)
BANDS = (("raw", True), ("lowpass", False))


def _j_colors(n):
    """Colour of each of ``n`` runs in increasing J (``plasma`` from 0.1 to 0.85)."""
    cmap = pyplot().colormaps["plasma"]
    return [cmap(0.1 + 0.75 * i / max(1, n - 1)) for i in range(n)]


def _raster_panel(fig, ax, spikes, J, t0, t1, first):
    """A: spike raster of one run in ``t0 <= t <= t1`` (ms), J and the mean rates (1/s) in the
    title; the panel is registered on the ``first`` column."""
    pops = [str(p) for p in spikes["population"].values]
    pc = population_colors(pops)
    rates = mean_rates(spikes)
    for p in pops:
        st, su = spikes_of(spikes, p, t0, t1)
        ax.plot(st, su, ".", ms=0.8, mec="none", mfc=pc[p])
    ax.invert_yaxis()
    ax.set_title(f"J = {J:g}\n" + ", ".join(f"{p} {rates[p]:.2f}/s" for p in pops), fontsize=6)
    ax.tick_params(labelbottom=False)
    ax.set_ylabel("gid" if first else "")
    style_axes(ax)
    if first:
        fig.panel(ax, "A", "spike rasters of every J")


def _lfp_traces_panel(ax, signals, prediction, color, t0, t1, source):
    """B: the LFP (mV) of the :data:`CHANNELS` of one run in ``t0 <= t <= t1`` (ms), ground truth
    and prediction (in ``color``) on the ground truth's scale."""
    tg, g = trace(signals, "lfp", t0, t1, source)
    tp, p_ = trace(prediction, "lfp", t0, t1, source)
    rows = [c for c in CHANNELS if c < g.shape[0]]
    s = stacked_traces(ax, tg, g[rows], color=GROUND_TRUTH_COLOR, units="mV", ylabels=[f"ch.{c + 1}" for c in rows])
    stacked_traces(ax, tp, p_[rows], scale=s, color=color, scalebar=False, ylabels=[f"ch.{c + 1}" for c in rows])
    ax.tick_params(labelbottom=False)
    style_axes(ax)


def _dipole_traces_panel(ax, signals, prediction, color, t0, t1, source):
    """C: the dipole moment's z component (nA um) of one run in ``t0 <= t <= t1`` (ms), ground
    truth and prediction (in ``color``) on the ground truth's scale."""
    tg, g = trace(signals, "cdm", t0, t1, source, "z")
    tp, p_ = trace(prediction, "cdm", t0, t1, source, "z")
    s = stacked_traces(ax, tg, g, color=GROUND_TRUTH_COLOR, units="nA um", ylabels=["P_z"])
    stacked_traces(ax, tp, p_, scale=s, color=color, scalebar=False, ylabels=["P_z"])
    ax.set_xlabel("t (ms)")
    style_axes(ax)


def _run_column(fig, gs, j, run, color, first_raster, window, source):
    """A-C of the ``j``-th run (column ``j`` of ``gs``), their time axes shared with
    ``first_raster`` (the first column's raster; ``None`` for the first column).

    Returns
    -------
    matplotlib.axes.Axes
        The first column's raster.
    """
    f = fig.fig
    t0, t1 = analysis_window(run["signals"], window)
    ax = f.add_subplot(gs[0, j], sharex=first_raster)
    first_raster = ax if first_raster is None else first_raster
    _raster_panel(fig, ax, run["spikes"], run["J"], t0, t1, j == 0)
    axb = f.add_subplot(gs[1, j], sharex=first_raster)
    _lfp_traces_panel(axb, run["signals"], run["prediction"], color, t0, t1, source)
    axc = f.add_subplot(gs[2, j], sharex=first_raster)
    _dipole_traces_panel(axc, run["signals"], run["prediction"], color, t0, t1, source)
    if j == 0:
        fig.panel(axb, "B", "LFP of two channels: ground truth and prediction")
        fig.panel(axc, "C", "dipole z: ground truth and prediction")
    else:
        axb.tick_params(labelleft=False)
        axc.tick_params(labelleft=False)
    return first_raster


def _rate_spectra_panels(fig, ax, ax2, runs, colors):
    """D: power spectra of the first population's rate (``ax``) and of the second's (``ax2``,
    below), s^-2/Hz up to 1000 Hz, one curve per J."""
    for j, r in enumerate(runs):
        fr, psd = rate_spectra(r["spikes"])
        sel = (fr > 0) & (fr <= 1000.0)
        pops = list(psd)
        ax.loglog(fr[sel], psd[pops[0]][sel], color=colors[j], label=f"J = {r['J']:g}")
        if len(pops) > 1:
            ax2.loglog(fr[sel], psd[pops[1]][sel], color=colors[j])
    pops = [str(p) for p in runs[0]["spikes"]["population"].values]
    ax.set_ylabel(f"PSD rate {pops[0]} (s^-2/Hz)")
    ax.tick_params(labelbottom=False)
    ax.legend(frameon=False, fontsize=5)
    ax2.set_ylabel(f"PSD rate {pops[-1]} (s^-2/Hz)")
    ax2.set_xlabel("f (Hz)")
    for a in (ax, ax2):
        style_axes(a)
    fig.panel(ax, "D", "rate spectra of E (and I below) for every J")


def _lfp_metrics(comparison, source, band):
    """R^2 and r_STD (dimensionless) of every LFP channel of the first approximation."""
    n_lfp = int(comparison["n_channels"].sel(signal="lfp"))
    sel_ = {"signal": "lfp", "source": source, "band": band}
    r2 = comparison["r2"].sel(**sel_).isel(approximation=0).values[:n_lfp]
    rs = comparison["r_std"].sel(**sel_).isel(approximation=0).values[:n_lfp]
    return r2, rs


def _channel_metric_panels(fig, ax_r2, ax_rs, runs, colors, source):
    """E, F: R^2 (``ax_r2``) and r_STD (``ax_rs``) of every LFP channel (channel 1 on top), one
    line per J and band (raw filled, low-pass open)."""
    for j, r in enumerate(runs):
        c = r["comparison"]
        ch = np.arange(1, int(c["n_channels"].sel(signal="lfp")) + 1)
        for band, filled in BANDS:
            r2, rs = _lfp_metrics(c, source, band)
            kw = {"color": colors[j], "mec": colors[j], "mfc": colors[j] if filled else "w", "ms": 3, "lw": 0.6,
                  "marker": "o", "clip_on": False}
            ax_r2.plot(r2, ch, label=f"J = {r['J']:g}" if filled else None, **kw)
            ax_rs.plot(rs, ch, **kw)
    ax_r2.invert_yaxis()
    ax_r2.set_xlabel("R^2 (LFP)")
    ax_r2.set_ylabel("LFP channel")
    ax_rs.set_xlabel("r_STD (LFP)")
    ax_rs.axvline(1.0, color="0.7", lw=0.5, ls=":")
    ax_rs.tick_params(labelleft=False)
    for a in (ax_r2, ax_rs):
        style_axes(a)
    fig.panel(ax_r2, "E", "R^2 per LFP channel for every J")
    fig.panel(ax_rs, "F", "r_STD per LFP channel for every J")


def _median_metric_panel(fig, ax, runs, colors, source):
    """G: the channel median of the LFP's R^2 against that of its r_STD, 10-90 % bars
    (:func:`lfpk.figures.paper.fig07.summary`), one point per J and band (raw filled, low-pass
    open)."""
    for j, r in enumerate(runs):
        for band, filled in BANDS:
            r2, rs = _lfp_metrics(r["comparison"], source, band)
            r2m, lo, hi = summary(r2)
            rsm, rlo, rhi = summary(rs)
            ax.errorbar(r2m, rsm, xerr=[[lo], [hi]], yerr=[[rlo], [rhi]], fmt="o", ms=4, color=colors[j],
                        mec=colors[j], mfc=colors[j] if filled else "w", elinewidth=0.6, clip_on=False)
    ax.set_xlabel("R^2 (LFP, channel median)")
    ax.set_ylabel("r_STD")
    ax.axhline(1.0, color="0.7", lw=0.5, ls=":")
    style_axes(ax)
    fig.panel(ax, "G", "LFP: median R^2 vs r_STD for every J")


def _dipole_metric_panel(fig, ax, runs, colors, source):
    """H: R^2 against r_STD of the dipole moment's z component, one point per J and band (raw
    filled, low-pass open)."""
    for j, r in enumerate(runs):
        c = r["comparison"]
        for band, filled in BANDS:
            cz = {"signal": "cdm_z", "source": source, "band": band}
            ax.plot(float(c["r2"].sel(**cz).isel(approximation=0, channel=0)),
                    float(c["r_std"].sel(**cz).isel(approximation=0, channel=0)), "o", ms=4, color=colors[j],
                    mec=colors[j], mfc=colors[j] if filled else "w", clip_on=False)
    ax.set_xlabel("R^2 (dipole z)")
    ax.set_ylabel("r_STD")
    ax.axhline(1.0, color="0.7", lw=0.5, ls=":")
    style_axes(ax)
    fig.panel(ax, "H", "dipole z: R^2 vs r_STD for every J")


def jscan_figure(runs, paths, window=TRACE_WINDOW, source="total", variant="", name="Fig09"):
    """Draw Fig 9.

    Parameters
    ----------
    runs : list of dict
        One per ground-truth run, in increasing J: ``J``, ``spikes``, ``signals``, ``prediction``
        (datasets) and ``comparison`` (:func:`lfpk.engines.compare.compare` of the prediction).
    paths : sequence of path-like
        Output files (``.png``, ``.pdf``).
    window : float
        ms of activity shown in A-C (:func:`lfpk.figures.paper.data.analysis_window`).
    source : str
        Source of the signals compared (``total`` or a population).
    variant : str
        Kernel variant of the predictions (figure metadata).
    name : str
        Figure name.

    Returns
    -------
    list of dict
        The panels (:meth:`lfpk.figures.paper.framework.PaperFigure.describe`).
    """
    n = len(runs)
    colors = _j_colors(n)
    fig = PaperFigure(name, f"weight-scaling scan J: spikes, ground truth vs direct-kernel predictions ({variant}), "
                            "rate spectra and metrics", height=7.5)
    f = fig.fig
    gs = f.add_gridspec(3, max(n, 1), left=0.08, right=0.93, top=0.93, bottom=0.6, wspace=0.25, hspace=0.35)
    first_raster = None
    for j, r in enumerate(runs):
        first_raster = _run_column(fig, gs, j, r, colors[j], first_raster, window, source)
    gs2 = f.add_gridspec(2, 3, left=0.08, right=0.95, top=0.5, bottom=0.06, wspace=0.4, hspace=0.45)
    axd = f.add_subplot(gs2[0, 0])
    axd2 = f.add_subplot(gs2[1, 0], sharex=axd)
    axe = f.add_subplot(gs2[0, 1])
    axf = f.add_subplot(gs2[0, 2], sharey=axe)
    axg = f.add_subplot(gs2[1, 1])
    axh = f.add_subplot(gs2[1, 2])
    _rate_spectra_panels(fig, axd, axd2, runs, colors)
    _channel_metric_panels(fig, axe, axf, runs, colors, source)
    _median_metric_panel(fig, axg, runs, colors, source)
    _dipole_metric_panel(fig, axh, runs, colors, source)
    return fig.save(paths)


def jscan_figure_files(J, spikes, signals, predictions, comparisons, outputs, variant="", window=TRACE_WINDOW,
                       name="Fig09", source="total"):
    """File-level wrapper of :func:`jscan_figure` (lists in the same run order; sorted by J here)."""
    runs = [{"J": float(j), "spikes": read_dataset(s, kind="spikes"), "signals": read_dataset(g, kind="signals"),
             "prediction": read_dataset(p, kind="prediction"), "comparison": read_dataset(c)}
            for j, s, g, p, c in zip(J, spikes, signals, predictions, comparisons)]
    runs.sort(key=lambda r: r["J"])
    return jscan_figure(runs, outputs, window=window, source=source, variant=variant, name=name)
