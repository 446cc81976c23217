"""Fig 5: kernels H_YX of every connection. A, hybrid-scheme kernels (the linearised network's
response to one volley of X, / N_X); B, direct kernels (one representative linearised cell per
population, :mod:`lfpk.engines.kernel`). Columns: connections X -> Y; rows: the LFP across depth and the
dipole moment's z component, lags 0 to ``lag_max`` ms (the study: 50 ms); each biophysical form in
its colour, A and B on common scales per column.
"""

from __future__ import annotations

import numpy as np

from lfpk.base.io import read_dataset
from lfpk.figures.paper.framework import PaperFigure, stacked_traces
from lfpk.figures.style import KERNEL_FORM_COLORS, style_axes

#: Colours of the kernel forms (quasi-linear, frozen), shared by Figs 5-7 (:mod:`lfpk.figures.style`).
FORM_CYCLE = KERNEL_FORM_COLORS


def kernels_figure(hybrid, direct, paths, lag_max=50.0, name="Fig05", posts=None):
    """Draw Fig 5.

    Parameters
    ----------
    hybrid, direct : list of (str, xarray.Dataset)
        Label and gathered kernels (dims ``post``, ``pre``, ``channel``/``component``, ``lag``).
    posts : list of str, optional
        Postsynaptic populations shown (default all; Model B's Fig 11: the E cells' kernels H_EX).
    """
    ref = (hybrid or direct)[0][1]
    pres = [str(x) for x in ref["pre"].values]
    posts = [str(y) for y in ref["post"].values if posts is None or str(y) in [str(p) for p in posts]]
    pairs = [(y, x) for x in pres for y in posts]
    fig = PaperFigure(name, "kernels H_YX: A from the hybrid scheme, B direct (one linearised cell per population)",
                      height=7.0)
    f = fig.fig
    gs = f.add_gridspec(15, len(pairs), left=0.08, right=0.9, top=0.94, bottom=0.07, wspace=0.4, hspace=0.35)
    scales = {}
    for block, (letter, sets, hat) in enumerate((("A", hybrid, ""), ("B", direct, "\\hat{H}"))):
        r0 = 0 if block == 0 else 8
        first = None
        for j, (y, x) in enumerate(pairs):
            ax = f.add_subplot(gs[r0:r0 + 6, j], sharex=first)
            ax_c = f.add_subplot(gs[r0 + 6, j], sharex=ax)
            first = first or ax
            for k, (label, ds) in enumerate(sets):
                lag = np.asarray(ds["lag"].values, dtype=float)
                sel = (lag >= 0) & (lag <= lag_max)
                color = FORM_CYCLE.get(str(ds.attrs.get("biophysics")), f"C{k}")
                lfp = ds["lfp"].sel(post=y, pre=x).transpose("channel", "lag").values[:, sel]
                cdm = ds["cdm"].sel(post=y, pre=x, component="z").values[sel][None]
                s = stacked_traces(ax, lag[sel], lfp, scale=scales.get(("lfp", j)), color=color, units="mV",
                                   label=label, scalebar=k == 0)
                scales.setdefault(("lfp", j), s)
                s = stacked_traces(ax_c, lag[sel], cdm, scale=scales.get(("cdm", j)), color=color,
                                   units="nA um", ylabels=["P_z"], scalebar=k == 0)
                scales.setdefault(("cdm", j), s)
            sym = "H" if not hat else hat
            ax.set_title(f"${sym}_{{{y}{x}}}$ ({x} -> {y})")
            ax.tick_params(labelbottom=False)
            ax_c.set_xlabel("lag (ms)" if block else "")
            if block == 0:
                ax_c.tick_params(labelbottom=False)
            if j:
                ax.tick_params(labelleft=False)
                ax_c.tick_params(labelleft=False)
            for a in (ax, ax_c):
                style_axes(a)
            if j == 0:
                ax.legend(frameon=False, loc="lower left", fontsize=5)
                fig.panel(ax, letter, ("hybrid-scheme" if block == 0 else "direct") + " kernels, LFP and dipole z")
    return fig.save(paths)


def kernels_figure_files(hybrid_labels, hybrid_files, direct_labels, direct_files, outputs, lag_max=50.0,
                         name="Fig05", posts=None):
    """File-level wrapper of :func:`kernels_figure`."""
    hyb = [(lab, read_dataset(p, kind="kernels")) for lab, p in zip(hybrid_labels, hybrid_files)]
    dire = [(lab, read_dataset(p, kind="kernels")) for lab, p in zip(direct_labels, direct_files)]
    return kernels_figure(hyb, dire, outputs, lag_max=lag_max, name=name, posts=posts)
