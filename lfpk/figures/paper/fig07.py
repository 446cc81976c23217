"""Fig 7: how well each approximation of the hybrid scheme reproduces the ground truth
(:func:`lfpk.study.hybrid.compare_approximations`).

A, R^2 per LFP channel and B, r_STD per channel, one column per approximation (raw filled,
100 Hz low-pass open); C, the LFP's channel median of R^2 against that of r_STD (bars: 10-90 %
of channels) for all approximations and D, for those with g_eff; E, F the same for the dipole
moment's z component; G, its power spectrum (ground truth black); H, its coherence with the
ground truth.
"""

from __future__ import annotations

import numpy as np

from lfpk.base.io import read_dataset
from lfpk.figures.paper.framework import PaperFigure
from lfpk.figures.style import CYCLE, GROUND_TRUTH_COLOR, style_axes

#: Marker of each method (the study: circles, diamonds, stars).
MARKERS = {"reconstruction": "o", "hybrid kernel": "d", "direct kernel": "*"}
BANDS = (("raw", True), ("lowpass", False))


def _values(ds, var, signal, source, approximation, band):
    n = int(ds["n_channels"].sel(signal=signal))
    return ds[var].sel(signal=signal, source=source, approximation=approximation, band=band).values[:n]


def summary(v):
    """Median of the finite values of ``v`` and its distances to the 10 % and 90 % quantiles
    (``nan`` thrice if none is finite)."""
    v = v[np.isfinite(v)]
    if not len(v):
        return np.nan, np.nan, np.nan
    q10, med, q90 = np.quantile(v, [0.1, 0.5, 0.9])
    return med, med - q10, q90 - med


def metrics_figure(comparison, paths, source="total", fmax=1000.0, name="Fig07"):
    """Draw Fig 7 from the hybrid comparison dataset."""
    apps = [str(a) for a in comparison["approximation"].values]
    methods = [str(m) for m in comparison["method"].values] if "method" in comparison.coords else ["?"] * len(apps)
    geff = comparison["g_eff"].values.astype(bool) if "g_eff" in comparison.coords else np.ones(len(apps), bool)
    colors = [CYCLE[i % len(CYCLE)] for i in range(len(apps))]
    fig = PaperFigure(name, "R^2 and r_STD of every approximation against the ground truth (LFP channels, dipole z), "
                            "dipole spectra and coherence", height=7.5)
    f = fig.fig
    gs = f.add_gridspec(4, len(apps), left=0.08, right=0.98, top=0.92, bottom=0.06, wspace=0.25, hspace=0.55)
    nch = int(comparison["n_channels"].sel(signal="lfp"))
    ch = np.arange(1, nch + 1)
    for row, (var, xlabel, letter) in enumerate((("r2", "R^2", "A"), ("r_std", "r_STD", "B"))):
        first = None
        for j, app in enumerate(apps):
            ax = f.add_subplot(gs[row, j], sharex=first, sharey=first)
            first = first or ax
            for band, filled in BANDS:
                v = _values(comparison, var, "lfp", source, app, band)
                ax.plot(v, ch, marker=MARKERS.get(methods[j], "o"), ms=3, color=colors[j], mec=colors[j],
                        mfc=colors[j] if filled else "w", lw=0.6, label="raw" if filled else "low-pass",
                        clip_on=False)
            if var == "r_std":
                ax.axvline(1.0, color="0.7", lw=0.5, ls=":")
            ax.set_xlabel(xlabel)
            if row == 0:
                ax.set_title(app.replace(": ", ":\n"), fontsize=5)
            if j == 0:
                ax.set_yticks(ch)
                ax.set_yticklabels([f"ch.{c}" for c in ch] if nch <= 16 else ch, fontsize=5)
                ax.set_ylabel("LFP channel")
                if row == 0:
                    ax.legend(frameon=False, fontsize=5, loc="lower left")
            else:
                ax.tick_params(labelleft=False)
            style_axes(ax)
            if j == 0:
                fig.panel(ax, letter, f"{xlabel} per LFP channel, every approximation")
        first.invert_yaxis()
    gs2 = f.add_gridspec(4, 4, left=0.08, right=0.98, top=0.92, bottom=0.06, wspace=0.45, hspace=0.55)
    panels = (("lfp", False, "C", "LFP (channel medians), all"), ("lfp", True, "D", "LFP, with g_eff"),
              ("cdm_z", False, "E", "dipole z, all"), ("cdm_z", True, "F", "dipole z, with g_eff"))
    for k, (signal, only_geff, letter, title) in enumerate(panels):
        ax = f.add_subplot(gs2[2, k])
        for j, app in enumerate(apps):
            if only_geff and not geff[j]:
                continue
            for band, filled in BANDS:
                r2m, r2lo, r2hi = summary(_values(comparison, "r2", signal, source, app, band))
                rsm, rslo, rshi = summary(_values(comparison, "r_std", signal, source, app, band))
                ax.errorbar(r2m, rsm, xerr=[[r2lo], [r2hi]], yerr=[[rslo], [rshi]], fmt=MARKERS.get(methods[j], "o"),
                            ms=4, color=colors[j], mec=colors[j], mfc=colors[j] if filled else "w", elinewidth=0.6,
                            label=app if filled else None, clip_on=False)
        ax.axhline(1.0, color="0.7", lw=0.5, ls=":")
        ax.set_xlabel("R^2")
        ax.set_ylabel("r_STD" if k == 0 else "")
        ax.set_title(title, fontsize=6)
        style_axes(ax)
        fig.panel(ax, letter, title)
    # G: spectra, H: coherence (dipole z)
    axg = f.add_subplot(gs2[3, :2])
    axh = f.add_subplot(gs2[3, 2:])
    freq = np.asarray(comparison["frequency"].values, dtype=float)
    sel = (freq > 0) & (freq <= fmax)
    psd_gt = comparison["psd_ground_truth"].sel(signal="cdm_z", source=source).values[0]
    axg.loglog(freq[sel], psd_gt[sel], color=GROUND_TRUTH_COLOR, lw=1.5, label="ground truth")
    for j, app in enumerate(apps):
        p = comparison["psd_prediction"].sel(signal="cdm_z", source=source, approximation=app).values[0]
        c = comparison["coherence"].sel(signal="cdm_z", source=source, approximation=app).values[0]
        axg.loglog(freq[sel], p[sel], color=colors[j], lw=0.7, label=app)
        axh.semilogx(freq[sel], c[sel], color=colors[j], lw=0.7, label=app)
    axg.set_xlabel("f (Hz)")
    axg.set_ylabel("PSD P_z (nA^2 um^2/Hz)")
    axg.set_title("dipole z: power spectra", fontsize=6)
    axh.set_xlabel("f (Hz)")
    axh.set_ylabel("coherence with ground truth")
    axh.set_ylim(0, 1.02)
    axh.set_title("dipole z: coherence", fontsize=6)
    axh.legend(frameon=False, fontsize=4.5, ncol=2, loc="lower left")
    for a in (axg, axh):
        style_axes(a)
    fig.panel(axg, "G", "power spectra of the dipole z")
    fig.panel(axh, "H", "coherence of each approximation with the ground truth (dipole z)")
    return fig.save(paths)


def metrics_figure_files(comparison, outputs, source="total", name="Fig07"):
    """File-level wrapper of :func:`metrics_figure`."""
    return metrics_figure(read_dataset(comparison), outputs, source=source, name=name)
