"""Fig 3: the ground-truth network (the study's J = 1 run).

Panels: A, cells of each population at their positions (x-z projection, a subset) and the
laminar probe; B, soma depths; C, synapse depths of every connection (from the network's own
connectivity, a sample of postsynaptic cells scaled to the population); D, somatic potentials of
sampled cells (E above, I below; median V_rest in the legend); E, raster with mean rates; F,
population spike counts per 1 ms; G, rate spectra; H, LFP across depth; I, current dipole moment.
"""

from __future__ import annotations

import numpy as np

from lfpk.base.io import read_dataset
from lfpk.figures.inputs import run_config
from lfpk.figures.paper.data import (
    analysis_window,
    mean_rates,
    rate_spectra,
    spikes_of,
    trace,
)
from lfpk.figures.paper.framework import PaperFigure, stacked_traces
from lfpk.figures.style import draw_cell, population_colors, style_axes
from lfpk.model import from_config
from lfpk.model.connectivity import Connectivity, place_cells

#: Cells drawn per population in panel A (the study: 128 E, 16 I of 8192 / 1024).
DRAWN = {"E": 128, "I": 16}
#: Postsynaptic cells per population whose synapses are counted in panel C.
SYNAPSE_SAMPLE = 64
#: Somatic traces shown per population in panel D.
TRACES = 10


def synapse_depths(cfg, sample=SYNAPSE_SAMPLE):
    """Absolute depths (um) of the synapses of every connection, from the network's connectivity
    (:class:`lfpk.model.connectivity.Connectivity`) for the first ``sample`` cells of each postsynaptic
    population, and the factor ``N_post / sample`` that scales their counts to the population."""
    layout = place_cells(cfg)
    conn = Connectivity(cfg, layout)
    out = {}
    for post in layout.names:
        gids = layout.gids(post)[:sample]
        seg = layout.segtables[post]
        zmid = seg["z"].mean(axis=1)
        for gid in gids:
            inc = conn.incoming(int(gid))
            z = layout.positions[gid, 2] + zmid[inc.segment]
            for ci in np.unique(inc.connection):
                c = cfg["connections"][int(ci)]
                out.setdefault((c["post"], c["pre"]), []).append(z[inc.connection == ci])
    factor = {post: layout.sizes[post] / min(sample, layout.sizes[post]) for post in layout.names}
    return {k: np.concatenate(v) for k, v in out.items()}, factor


def _cells_panel(fig, ax, model, pos, unit_pop, pops, colors, channel_z):
    """A: the first cells of each population (:data:`DRAWN`) at their positions ``pos`` (cell, xyz;
    um; x-z projection) and the probe's contacts at ``channel_z`` (um; the first three and the last
    two numbered)."""
    for p in pops:
        gids = np.flatnonzero(unit_pop == p)[: DRAWN.get(p, 32)]
        for g in gids:
            draw_cell(ax, model.populations[p].segments, x0=pos[g, 0], z0=pos[g, 2], width_scale=0.15,
                      color=colors[p], lw_min=0.2)
        ax.plot([], [], color=colors[p], label=f"{p} ({len(gids)} of {int((unit_pop == p).sum())})")
    ax.plot(np.zeros_like(channel_z), channel_z, "ko", ms=2.5, label="contacts")
    for i, z in enumerate(channel_z):
        if i < 3 or i >= len(channel_z) - 2:
            ax.text(-20, z, f"ch.{i + 1}", ha="right", va="center", fontsize=5)
    ax.set_xlabel("x (um)")
    ax.set_ylabel("z (um)")
    ax.set_title("cells and probe")
    ax.autoscale()
    ax.legend(frameon=False, loc="lower left", fontsize=5)
    style_axes(ax)
    fig.panel(ax, "A", "cells at their positions (x-z) and the laminar probe")


def _soma_depth_panel(fig, ax, z, unit_pop, pops, colors):
    """B: histogram of the soma depths ``z`` (um) of each population in 20-um bins."""
    bins = np.arange(np.floor(z.min() / 20) * 20, z.max() + 20, 20.0)
    for p in pops:
        ax.hist(z[unit_pop == p], bins=bins, orientation="horizontal", histtype="step", color=colors[p], label=p)
    ax.set_xlabel("somata (#)")
    ax.set_title("soma depth")
    ax.tick_params(labelleft=False)
    style_axes(ax)
    fig.panel(ax, "B", "soma depths per population")


def _synapse_depth_panel(fig, ax, cfg, channel_z):
    """C: synapses of every connection per 20-um depth bin, from :func:`synapse_depths` (a sample
    of postsynaptic cells scaled to the population), from 300 um below the deepest contact to
    300 um above the highest."""
    depths, factor = synapse_depths(cfg)
    zb = np.arange(channel_z.min() - 300, channel_z.max() + 320, 20.0)
    for i, ((post, pre), z) in enumerate(sorted(depths.items())):
        h, _ = np.histogram(z, bins=zb)
        ax.step(h * factor[post], 0.5 * (zb[1:] + zb[:-1]), where="mid", color=f"C{i + 4}",
                label=f"Y={post}; X={pre}")
    ax.set_xlabel("synapses (#)")
    ax.set_title("synapse depth")
    ax.tick_params(labelleft=False)
    ax.legend(frameon=False, fontsize=5, loc="upper right")
    style_axes(ax)
    fig.panel(ax, "C", "synapse depths per connection (scaled from a sample of cells)")


def _potential_panels(fig, gs, membrane, pops, colors, t0, t1):
    """D: somatic potentials (mV) of up to :data:`TRACES` sampled cells of the first two
    populations in ``t0 <= t <= t1`` (ms), one axes each (rows 0 and 1 of ``gs``), the median
    V_rest in the title."""
    axes = []
    for i, p in enumerate(pops[:2]):
        a = fig.fig.add_subplot(gs[i if len(pops) > 1 else slice(0, 2), 10:15])
        tr = membrane["v_soma_trace"].sel(population=p)
        units = membrane["sample_unit"].sel(population=p).values
        tm = np.asarray(membrane["membrane_time"].values, dtype=float)
        idx = np.flatnonzero((tm >= t0) & (tm <= t1))
        good = np.flatnonzero(units >= 0)[:TRACES]
        vr = float(membrane["v_soma"].sel(population=p))
        if len(good):
            stacked_traces(a, tm[idx], tr.values[good][:, idx], color=colors[p], units="mV",
                           ylabels=[str(u) for u in units[good]], scale=20.0)
        a.set_title(f"{p}: median V_rest {vr:.1f} mV", loc="left")
        a.set_ylabel("gid")
        a.tick_params(labelbottom=False, labelsize=4)
        style_axes(a)
        axes.append(a)
    fig.panel(axes[0], "D", "somatic potentials of sampled cells")


def _raster_panel(fig, ax, spikes, pops, colors, t0, t1):
    """E: spike raster in ``t0 <= t <= t1`` (ms), the mean rates (1/s) in the legend."""
    rates = mean_rates(spikes)
    for p in pops:
        st, su = spikes_of(spikes, p, t0, t1)
        ax.plot(st, su, ".", ms=1.0, mec="none", mfc=colors[p], label=f"{p}: {rates[p]:.2f} /s")
    ax.set_xlim(t0, t1)
    ax.invert_yaxis()
    ax.set_ylabel("gid")
    ax.legend(frameon=False, loc="upper right", markerscale=6, fontsize=5)
    ax.tick_params(labelbottom=False)
    style_axes(ax)
    fig.panel(ax, "E", "spike raster and mean rates")


def _spike_count_panel(fig, ax, spikes, pops, colors, t0, t1):
    """F: population spike counts in 1-ms bins (whole time steps of ``spikes.attrs["dt"]``) in
    ``t0 <= t <= t1`` (ms)."""
    dt = float(spikes.attrs["dt"])
    tt = np.asarray(spikes["time"].values, dtype=float)
    q = max(1, int(round(1.0 / dt)))
    for p in pops:
        c = spikes["population_count"].sel(population=p).values
        n = len(c) // q * q
        c1, tb = c[:n].reshape(-1, q).sum(axis=1), tt[:n:q]
        sel = (tb >= t0) & (tb <= t1)
        ax.step(tb[sel], c1[sel], where="post", color=colors[p], label=p)
    ax.set_xlabel("t (ms)")
    ax.set_ylabel("spikes / ms")
    style_axes(ax)
    fig.panel(ax, "F", "population spike counts (1 ms bins)")


def _rate_spectra_panel(fig, ax, spikes, pops, colors):
    """G: power spectra of the population rates (s^-2/Hz) up to 300 Hz."""
    fr, psd = rate_spectra(spikes)
    sel = (fr > 0) & (fr <= 300)
    for p in pops:
        ax.semilogy(fr[sel], psd[p][sel], color=colors[p], label=p)
    ax.set_xlabel("f (Hz)")
    ax.set_ylabel("PSD rate (s^-2/Hz)")
    ax.legend(frameon=False, loc="upper right")
    style_axes(ax)
    fig.panel(ax, "G", "power spectra of the population rates")


def _lfp_panel(fig, ax, signals, t0, t1):
    """H: the total LFP (mV) of every channel in ``t0 <= t <= t1`` (ms), stacked by depth."""
    t, lfp = trace(signals, "lfp", t0, t1)
    stacked_traces(ax, t, lfp, units="mV")
    ax.set_title("LFP")
    ax.tick_params(labelbottom=False)
    style_axes(ax)
    fig.panel(ax, "H", "LFP across depth (total)")


def _dipole_panel(fig, ax, signals, t0, t1):
    """I: the total current dipole moment's x, y, z components (nA um) in ``t0 <= t <= t1`` (ms)."""
    t, cdm = trace(signals, "cdm", t0, t1)
    stacked_traces(ax, t, cdm, units="nA um", ylabels=["P_x", "P_y", "P_z"])
    ax.set_xlabel("t (ms)")
    ax.set_title("current dipole moment")
    style_axes(ax)
    fig.panel(ax, "I", "current dipole moment x, y, z (total)")


def network_figure(spikes, signals, membrane, cfg, paths, window=400.0, name="Fig03"):
    """Draw Fig 3 from a ground-truth run's outputs and its configuration.

    Parameters
    ----------
    spikes : xarray.Dataset
        The run's ``spikes.nc`` (``x``, ``y``, ``z`` um and ``unit_population`` of every cell,
        spikes, ``population_count`` per time step, attribute ``dt`` ms).
    signals : xarray.Dataset
        Its ``signals.nc`` (``lfp`` mV, ``cdm`` nA um, coordinate ``channel_z`` um).
    membrane : xarray.Dataset
        Its ``membrane.nc`` (``v_soma_trace`` mV of sampled cells, ``sample_unit``, median
        ``v_soma`` mV per population).
    cfg : dict
        The run's configuration (cells and connectivity of panels A and C).
    paths : sequence of path-like
        Output files (``.png``, ``.pdf``).
    window : float
        ms of activity shown in D-F, H and I (:func:`lfpk.figures.paper.data.analysis_window`).
    name : str
        Figure name.

    Returns
    -------
    list of dict
        The panels (:meth:`lfpk.figures.paper.framework.PaperFigure.describe`).
    """
    model = from_config(cfg)
    pops = list(model.populations)
    colors = population_colors(pops)
    t0, t1 = analysis_window(signals, window)
    fig = PaperFigure(name, "the ground-truth network: cells, probe, synapses, potentials, spikes, rates, LFP "
                            "and current dipole moment", height=7.0)
    f = fig.fig
    gs = f.add_gridspec(5, 21, left=0.07, right=0.95, top=0.95, bottom=0.07, wspace=1.2, hspace=0.45)
    channel_z = np.asarray(signals["channel_z"].values, dtype=float)
    pos = np.column_stack([spikes[k].values for k in ("x", "y", "z")])
    unit_pop = np.asarray(spikes["unit_population"].values).astype(str)
    ax = f.add_subplot(gs[:, :4])
    _cells_panel(fig, ax, model, pos, unit_pop, pops, colors, channel_z)
    _soma_depth_panel(fig, f.add_subplot(gs[:, 4:6], sharey=ax), pos[:, 2], unit_pop, pops, colors)
    _synapse_depth_panel(fig, f.add_subplot(gs[:, 6:9], sharey=ax), cfg, channel_z)
    _potential_panels(fig, gs, membrane, pops, colors, t0, t1)
    axe = f.add_subplot(gs[2, 10:15])
    _raster_panel(fig, axe, spikes, pops, colors, t0, t1)
    _spike_count_panel(fig, f.add_subplot(gs[3, 10:15], sharex=axe), spikes, pops, colors, t0, t1)
    _rate_spectra_panel(fig, f.add_subplot(gs[4, 10:15]), spikes, pops, colors)
    axh = f.add_subplot(gs[:4, 16:])
    _lfp_panel(fig, axh, signals, t0, t1)
    _dipole_panel(fig, f.add_subplot(gs[4, 16:], sharex=axh), signals, t0, t1)
    return fig.save(paths)


def network_figure_files(spikes, signals, membrane, outputs, window=400.0, name="Fig03"):
    """File-level wrapper (the run's config from its ``spikes.nc``)."""
    sp = read_dataset(spikes, kind="spikes")
    return network_figure(sp, read_dataset(signals, kind="signals"), read_dataset(membrane, kind="membrane"),
                          run_config(sp), outputs, window=window, name=name)
