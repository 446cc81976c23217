"""Fig S3 (Model B): the weight-scaling scan J with frozen kernels (g_eff on) computed at a scalar
V_rest (the median somatic potential of the run) and at per-segment V_rest (each segment's own
median), on one population's contribution (the study: E, the Hay cells).

A, channel median of R^2 of the LFP against J (bars: 10-90 % of channels); B, the same for
r_STD; C, R^2 of the dipole moment's z component against J; D, its r_STD. Raw signals filled,
100 Hz low-pass open (Hagen et al. 2022, Fig S3; data: one ``comparison/<run>/<variant>.nc`` per
run and V_rest form).
"""

from __future__ import annotations

import numpy as np

from lfpk.base.io import read_dataset
from lfpk.figures.paper.fig07 import summary
from lfpk.figures.paper.framework import PaperFigure
from lfpk.figures.style import CYCLE, style_axes

BANDS = (("raw", True), ("lowpass", False))


def _metric(comparison, var, signal, source, band):
    n = int(comparison["n_channels"].sel(signal=signal))
    return comparison[var].sel(signal=signal, source=source, band=band).isel(approximation=0).values[:n]


def vrest_jscan_figure(J, forms, paths, source="E", name="FigS3"):
    """Draw Fig S3.

    Parameters
    ----------
    J : sequence of float
        Weight scaling J (1) of each run.
    forms : dict
        Label of each V_rest form (e.g. ``"scalar V_rest"``) -> list of comparison datasets
        (:func:`lfpk.engines.compare.compare_files` output), one per run in the order of ``J``.
    paths : list of str
        Output files (png, pdf).
    source : str
        Contribution compared (a population name or ``total``).
    """
    J = np.asarray(J, dtype=float)
    order = np.argsort(J)
    fig = PaperFigure(name, f"J scan with scalar vs per-segment V_rest (frozen kernels, g_eff), {source} contribution",
                      height=4.0)
    f = fig.fig
    gs = f.add_gridspec(2, 2, left=0.09, right=0.98, top=0.92, bottom=0.1, wspace=0.3, hspace=0.45)
    axes = {key: f.add_subplot(gs[i, j]) for (i, j), key in zip(((0, 0), (0, 1), (1, 0), (1, 1)),
                                                               ("lfp_r2", "lfp_rstd", "cdm_r2", "cdm_rstd"))}
    width = 0.15 * (np.ptp(J) / max(1, len(J) - 1) if len(J) > 1 else 1.0)
    for k, (label, comparisons) in enumerate(forms.items()):
        color = CYCLE[k % len(CYCLE)]
        x = J[order] + (k - 0.5 * (len(forms) - 1)) * width  # side by side
        for band, filled in BANDS:
            kw = dict(color=color, mec=color, mfc=color if filled else "w", ms=4, elinewidth=0.6, clip_on=False,
                      label=f"{label} ({'raw' if filled else 'low-pass'})")
            for var, key in (("r2", "lfp_r2"), ("r_std", "lfp_rstd")):
                s = np.array([summary(_metric(comparisons[i], var, "lfp", source, band)) for i in order])
                axes[key].errorbar(x, s[:, 0], yerr=[s[:, 1], s[:, 2]], fmt="o-" if filled else "o--", lw=0.6, **kw)
            for var, key in (("r2", "cdm_r2"), ("r_std", "cdm_rstd")):
                v = np.array([_metric(comparisons[i], var, "cdm_z", source, band)[0] for i in order])
                axes[key].plot(x, v, "o-" if filled else "o--", lw=0.6, **{k_: v_ for k_, v_ in kw.items()
                                                                              if k_ != "elinewidth"})
    labels = {"lfp_r2": ("R^2 (LFP, channel median)", "A", "LFP: median R^2 against J"),
              "lfp_rstd": ("r_STD (LFP, channel median)", "B", "LFP: median r_STD against J"),
              "cdm_r2": ("R^2 (dipole z)", "C", "dipole z: R^2 against J"),
              "cdm_rstd": ("r_STD (dipole z)", "D", "dipole z: r_STD against J")}
    for key, ax in axes.items():
        ylabel, letter, desc = labels[key]
        ax.set_xlabel("J")
        ax.set_ylabel(ylabel)
        ax.set_xticks(J[order])
        if "rstd" in key:
            ax.axhline(1.0, color="0.7", lw=0.5, ls=":")
        style_axes(ax)
        fig.panel(ax, letter, desc)
    axes["lfp_r2"].legend(frameon=False, fontsize=5)
    return fig.save(paths)


def vrest_jscan_figure_files(J, labels, comparisons, outputs, source="E", name="FigS3"):
    """File-level wrapper of :func:`vrest_jscan_figure`: ``comparisons[i]`` lists the comparison
    files of V_rest form ``labels[i]``, one per run in the order of ``J``."""
    forms = {str(lab): [read_dataset(p) for p in files] for lab, files in zip(labels, comparisons)}
    return vrest_jscan_figure(J, forms, outputs, source=source, name=name)
