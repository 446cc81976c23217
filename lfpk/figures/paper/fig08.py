"""Fig 8: sensitivity of the kernel prediction of the dipole moment (z) to the rates and V_rest the
kernels assume (:mod:`lfpk.study.sensitivity`; the study: frozen kernels with g_eff, presynaptic and
extrinsic rates scaled 0..2, V_rest offset -10..10 mV).

A, R^2 of the raw signal; B, R^2 after the 100 Hz low-pass; C, r_STD raw; D, r_STD low-pass; each
over rate scaling (x) and V_rest offset (y), with contour lines (R^2 0.95, 0.98, 0.99; r_STD 1/4,
1/2, 1, 2, 4) and the reference point (the run's own rates and V_rest) marked.
"""

from __future__ import annotations

import numpy as np

from lfpk.base.io import read_dataset
from lfpk.figures.inputs import cell_edges
from lfpk.figures.paper.framework import PaperFigure

R2_LEVELS = (0.95, 0.98, 0.99)
RSTD_LEVELS = (0.25, 0.5, 1.0, 2.0, 4.0)


def sensitivity_figure(ds, paths, name="Fig08"):
    """Draw Fig 8 from a sensitivity map (:func:`lfpk.study.sensitivity.sensitivity_scan`)."""
    from matplotlib import colors as mcolors  # matplotlib only when a figure is drawn

    x = np.asarray(ds["rate_scale"].values, dtype=float)
    y = np.asarray(ds["v_rest_offset"].values, dtype=float)
    fig = PaperFigure(name, f"sensitivity of the dipole-moment prediction ({ds.attrs.get('variant', '')}) to the "
                            "rates and V_rest of its kernels", height=5.0, width=6.0)
    f = fig.fig
    gs = f.add_gridspec(2, 2, left=0.1, right=0.92, top=0.92, bottom=0.1, wspace=0.35, hspace=0.4)
    r2_all = np.concatenate([ds["r2"].values.ravel(), ds["r2_lowpass"].values.ravel()])
    r2_all = r2_all[np.isfinite(r2_all)]
    for k, (var, band, letter) in enumerate((("r2", "raw", "A"), ("r2_lowpass", "low-pass", "B"),
                                              ("r_std", "raw", "C"), ("r_std_lowpass", "low-pass", "D"))):
        ax = f.add_subplot(gs[k // 2, k % 2])
        z = ds[var].transpose("v_rest_offset", "rate_scale").values
        if var.startswith("r2"):
            norm = mcolors.Normalize(vmin=float(r2_all.min()) if len(r2_all) else 0, vmax=1.0)
            cmap, levels, label = "viridis", R2_LEVELS, "R^2"
        else:
            norm = mcolors.LogNorm(vmin=0.25, vmax=4.0)
            cmap, levels, label = "RdBu_r", RSTD_LEVELS, "r_STD"
        im = ax.pcolormesh(cell_edges(x, 0.05), cell_edges(y, 0.5), z, norm=norm, cmap=cmap, shading="flat")
        if len(x) > 1 and len(y) > 1 and np.isfinite(z).any():
            lv = [v for v in levels if np.nanmin(z) < v < np.nanmax(z)]
            if lv:
                cs = ax.contour(x, y, z, levels=lv, colors="k", linewidths=0.6)
                ax.clabel(cs, fontsize=5, inline=True, fmt="%g")
        ax.plot([1.0], [0.0], marker="+", color="w", ms=8, mew=1.5)
        cb = f.colorbar(im, ax=ax)
        if var.startswith("r_std"):
            # matplotlib only when a figure is drawn (heavy to load)
            from matplotlib.ticker import FixedLocator, NullLocator, StrMethodFormatter

            cb.ax.yaxis.set_major_locator(FixedLocator(list(RSTD_LEVELS)))
            cb.ax.yaxis.set_minor_locator(NullLocator())
            cb.ax.yaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
        cb.set_label(label)
        ax.set_title(band)
        ax.set_xlabel("rate scaling nu / nu_run")
        ax.set_ylabel("V_rest offset (mV)")
        fig.panel(ax, letter, f"{label} of the dipole z prediction, {band}")
    return fig.save(paths)


def sensitivity_figure_files(path, outputs, name="Fig08"):
    """File-level wrapper of :func:`sensitivity_figure`."""
    return sensitivity_figure(read_dataset(path), outputs, name=name)
