"""Figs 2 and S1: step responses of every population's cell -- active, quasi-linear, frozen and
passive -- to somatic (Fig 2) and dendritic (Fig S1) current steps (:mod:`lfpk.study.single_cell`).

Panels: A, the cells (x-z projection, side by side) with the stimulation site; then one lettered
column per population (B, C, ...): the stimulus current, the somatic potential of each form for
every amplitude, and the steady-state potential against the amplitude (all forms).
"""

from __future__ import annotations

import numpy as np

from lfpk.base.io import read_dataset
from lfpk.figures.paper.framework import PaperFigure
from lfpk.figures.style import (
    FORM_COLORS,
    FORM_NAMES,
    draw_cell,
    population_colors,
    style_axes,
)
from lfpk.model import from_config

LETTERS = "ABCDEFGHIJKLMNOP"


def single_cell_figure(datasets, models, paths, site="soma", name="Fig02"):
    """Draw Fig 2 (``site='soma'``) or Fig S1 (``site='dendrite'``).

    Parameters
    ----------
    datasets : dict
        Population -> :func:`lfpk.study.single_cell.step_responses` dataset.
    models : dict
        Population -> :class:`lfpk.model.Population` (morphology of panel A).
    paths : list of path
        ``FigNN.png``, ``FigNN.pdf``.
    """
    pops = list(datasets)
    forms = [str(f) for f in datasets[pops[0]]["form"].values]
    colors = population_colors(pops)
    where = "at the soma" if site == "soma" else "in the apical dendrite"
    fig = PaperFigure(name, f"step currents injected {where}: somatic potential of the active cell and of its "
                            "quasi-linear, frozen and passive forms", height=1.35 * (len(forms) + 2))
    f = fig.fig
    ncol = 1 + len(pops)
    gs = f.add_gridspec(len(forms) + 2, ncol, width_ratios=[0.7] + [1.0] * len(pops), hspace=0.75,
                        wspace=0.4, left=0.08, right=0.98, top=0.95, bottom=0.06)
    ax0 = f.add_subplot(gs[:, 0])
    x0, widths = 0.0, []
    for name in pops:
        seg = models[name].segments
        widths.append(max(80.0, float(np.ptp(seg["x"])) + 60.0))
    for name, w in zip(pops, widths):
        x0 += w / 2
        ds = datasets[name]
        draw_cell(ax0, models[name].segments, x0=x0, width_scale=0.5, color=colors[name])
        xs, zs = float(ds["site_x"].sel(site=site)) + x0, float(ds["site_z"].sel(site=site))
        ax0.plot([xs], [zs], marker="v", ms=6, color="0.3", zorder=5)
        ax0.annotate("stim", (xs, zs), xytext=(xs + 40, zs + 120), fontsize=6,
                     arrowprops={"arrowstyle": "->", "lw": 0.6})
        ax0.text(x0, float(models[name].segments["z"].max()) + 30, name, color=colors[name], ha="center",
                 va="bottom", fontweight="bold")
        x0 += w / 2
    ax0.set_aspect("equal", adjustable="datalim")
    ax0.autoscale()
    ax0.set_xlabel("x (um)")
    ax0.set_ylabel("z (um)")
    ax0.set_title("cells and stimulation site")
    style_axes(ax0)
    fig.panel(ax0, "A", "cells (x-z projection) and stimulation site")
    for j, name in enumerate(pops):
        ds = datasets[name].sel(site=site)
        t = ds["time"].values
        amps = ds["amplitude"].values
        shades = [_shade(colors[name], k / max(1, len(amps) - 1)) for k in range(len(amps))]
        col = 1 + j
        ax_i = f.add_subplot(gs[0, col])
        for k, a in enumerate(amps):
            ax_i.plot(t, ds["stimulus"].values[k], color=shades[k])
        ax_i.set_title(f"{name}: stimulus")
        ax_i.set_ylabel("I_stim (nA)" if j == 0 else "")
        style_axes(ax_i)
        fig.panel(ax_i, LETTERS[j + 1], f"population {name}: stimulus, potential of each form, steady state")
        ax_prev = None
        for i, form in enumerate(forms):
            ax = f.add_subplot(gs[1 + i, col], sharex=ax_i, sharey=ax_prev)
            v = ds["v_soma"].sel(form=form).values
            for k in range(len(amps)):
                ax.plot(t, v[k], color=shades[k])
            ax.set_title(FORM_NAMES.get(form, form))
            ax.set_ylabel("V_m (mV)" if j == 0 else "")
            if i < len(forms) - 1:
                ax.tick_params(labelbottom=False)
            else:
                ax.set_xlabel("t (ms)")
            style_axes(ax)
            ax_prev = ax
        ax_i.tick_params(labelbottom=False)
        ax_f = f.add_subplot(gs[-1, col])
        for form in forms:
            ax_f.plot(amps, ds["v_final"].sel(form=form).values, "-o", ms=2.5, color=FORM_COLORS.get(form, "0.5"),
                      label=FORM_NAMES.get(form, form), clip_on=False)
        ax_f.set_xlabel("I_stim (nA)")
        ax_f.set_ylabel("V_m at step end (mV)" if j == 0 else "")
        ax_f.set_title(f"V_rest {float(datasets[name].attrs['V_rest']):.1f} mV")
        if j == 0:
            ax_f.legend(frameon=False, loc="lower right", fontsize=5, handlelength=1.0)
        style_axes(ax_f)
    return fig.save(paths)


def _shade(color, frac):
    """``color`` lightened towards white by ``1 - frac`` (0: light, 1: full)."""
    from matplotlib.colors import to_rgb  # matplotlib only when a figure is drawn

    c = np.array(to_rgb(color))
    return tuple(1.0 - (0.25 + 0.75 * frac) * (1.0 - c))


def single_cell_figure_files(paths_nc, cfg, outputs, site="soma", name="Fig02"):
    """File-level wrapper: datasets from ``paths_nc`` (one per population), cells from ``cfg``."""
    model = from_config(cfg)
    datasets = {}
    for p in paths_nc:
        ds = read_dataset(p)
        datasets[str(ds.attrs["population"])] = ds
    order = [n for n in model.populations if n in datasets]
    return single_cell_figure({n: datasets[n] for n in order}, {n: model.populations[n] for n in order}, outputs,
                              site=site, name=name)
