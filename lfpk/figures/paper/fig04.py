"""Figs 4 and 6: ground truth against the hybrid scheme's approximations, trace by trace.

Fig 4: the four reconstructions (the network rebuilt with linearised cells, driven by the ground
truth's spikes); Fig 6: the predictions with hybrid kernels and with direct kernels. One lettered
column per approximation: the LFP across depth (top) and the current dipole moment's z component
(bottom), ground truth in black, the approximation in colour, on a common scale, for
``window`` ms after the transient (the study: 200 ms).
"""

from __future__ import annotations

from lfpk.base.io import read_dataset
from lfpk.figures.paper.data import TRACE_WINDOW, analysis_window, trace
from lfpk.figures.paper.framework import PaperFigure, stacked_traces
from lfpk.figures.style import CYCLE, GROUND_TRUTH_COLOR, style_axes

LETTERS = "ABCDEFGHIJKLMNOP"


def comparison_figure(ground_truth, approximations, paths, name, title, window=TRACE_WINDOW, source="total",
                      colors=None):
    """Ground truth against approximations, one column each.

    Parameters
    ----------
    ground_truth : xarray.Dataset
        ``signals.nc`` of the ground truth.
    approximations : list of (str, xarray.Dataset)
        Label and signals (a reconstruction's ``signals.nc`` or a prediction).
    source : str
        ``total`` or a population's contribution (Model B compares the E contribution).
    """
    t0, t1 = analysis_window(ground_truth, window)
    n = len(approximations)
    fig = PaperFigure(name, title, height=4.2)
    f = fig.fig
    gs = f.add_gridspec(7, n, left=0.07, right=0.93, top=0.88, bottom=0.1, wspace=0.15, hspace=0.3)
    colors = colors or [CYCLE[i % len(CYCLE)] for i in range(n)]
    t, g_lfp = trace(ground_truth, "lfp", t0, t1, source)
    _, g_cdm = trace(ground_truth, "cdm", t0, t1, source, "z")
    scale_lfp = scale_cdm = None
    for j, (label, ds) in enumerate(approximations):
        ax = f.add_subplot(gs[:6, j])
        ax_c = f.add_subplot(gs[6, j], sharex=ax)
        ta, a_lfp = trace(ds, "lfp", t0, t1, source)
        _, a_cdm = trace(ds, "cdm", t0, t1, source, "z")
        scale_lfp = stacked_traces(ax, t, g_lfp, scale=scale_lfp, color=GROUND_TRUTH_COLOR, units="mV",
                                   label="ground truth", scalebar=j == n - 1)
        stacked_traces(ax, ta, a_lfp, scale=scale_lfp, color=colors[j], scalebar=False, label=label)
        scale_cdm = stacked_traces(ax_c, t, g_cdm, scale=scale_cdm, color=GROUND_TRUTH_COLOR, units="nA um",
                                   ylabels=["P_z"], scalebar=j == n - 1)
        stacked_traces(ax_c, ta, a_cdm, scale=scale_cdm, color=colors[j], ylabels=["P_z"], scalebar=False)
        ax.set_title(label.replace(": ", ":\n"), fontsize=6)
        ax.tick_params(labelbottom=False)
        ax_c.set_xlabel("t (ms)")
        if j:
            ax.tick_params(labelleft=False)
            ax_c.tick_params(labelleft=False)
        else:
            ax.set_ylabel("LFP" + ("" if source == "total" else f" ({source} contribution)"))
            ax_c.set_ylabel("dipole")
        for a in (ax, ax_c):
            style_axes(a)
        ax.legend(frameon=False, loc="upper left", fontsize=5, bbox_to_anchor=(0.0, 1.0))
        fig.panel(ax, LETTERS[j], f"ground truth vs {label}: LFP and dipole z")
    return fig.save(paths)


def comparison_figure_files(ground_truth, labels, files, outputs, name, title, window=TRACE_WINDOW, source="total",
                            color_offset=0):
    """File-level wrapper of :func:`comparison_figure`; approximation ``i`` gets colour
    ``CYCLE[color_offset + i]`` (the colours of Fig 7)."""
    items = [(lab, read_dataset(p)) for lab, p in zip(labels, files)]
    colors = [CYCLE[(color_offset + i) % len(CYCLE)] for i in range(len(items))]
    return comparison_figure(read_dataset(ground_truth, kind="signals"), items, outputs, name, title, window, source,
                             colors=colors)
