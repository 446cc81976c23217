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


def network_figure(spikes, signals, membrane, cfg, paths, window=400.0, name="Fig03"):
    """Draw Fig 3 from a ground-truth run's outputs and its configuration."""
    model = from_config(cfg)
    pops = list(model.populations)
    colors = population_colors(pops)
    t0, t1 = analysis_window(signals, window)
    fig = PaperFigure(name, "the ground-truth network: cells, probe, synapses, potentials, spikes, rates, LFP "
                            "and current dipole moment", height=7.0)
    f = fig.fig
    gs = f.add_gridspec(5, 21, left=0.07, right=0.95, top=0.95, bottom=0.07, wspace=1.2, hspace=0.45)
    channel_z = np.asarray(signals["channel_z"].values, dtype=float)
    # A: cells and probe
    ax = f.add_subplot(gs[:, :4])
    pos = np.column_stack([spikes[k].values for k in ("x", "y", "z")])
    unit_pop = np.asarray(spikes["unit_population"].values).astype(str)
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
    # B: soma depths
    axb = f.add_subplot(gs[:, 4:6], sharey=ax)
    bins = np.arange(np.floor(pos[:, 2].min() / 20) * 20, pos[:, 2].max() + 20, 20.0)
    for p in pops:
        axb.hist(pos[unit_pop == p, 2], bins=bins, orientation="horizontal", histtype="step", color=colors[p],
                 label=p)
    axb.set_xlabel("somata (#)")
    axb.set_title("soma depth")
    axb.tick_params(labelleft=False)
    style_axes(axb)
    fig.panel(axb, "B", "soma depths per population")
    # C: synapse depths
    axc = f.add_subplot(gs[:, 6:9], sharey=ax)
    depths, factor = synapse_depths(cfg)
    zb = np.arange(channel_z.min() - 300, channel_z.max() + 320, 20.0)
    for i, ((post, pre), z) in enumerate(sorted(depths.items())):
        h, _ = np.histogram(z, bins=zb)
        axc.step(h * factor[post], 0.5 * (zb[1:] + zb[:-1]), where="mid", color=f"C{i + 4}",
                 label=f"Y={post}; X={pre}")
    axc.set_xlabel("synapses (#)")
    axc.set_title("synapse depth")
    axc.tick_params(labelleft=False)
    axc.legend(frameon=False, fontsize=5, loc="upper right")
    style_axes(axc)
    fig.panel(axc, "C", "synapse depths per connection (scaled from a sample of cells)")
    # D: somatic potentials
    axd = []
    for i, p in enumerate(pops[:2]):
        a = f.add_subplot(gs[i if len(pops) > 1 else slice(0, 2), 10:15])
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
        axd.append(a)
    fig.panel(axd[0], "D", "somatic potentials of sampled cells")
    # E: raster
    axe = f.add_subplot(gs[2, 10:15])
    rates = mean_rates(spikes)
    for p in pops:
        st, su = spikes_of(spikes, p, t0, t1)
        axe.plot(st, su, ".", ms=1.0, mec="none", mfc=colors[p], label=f"{p}: {rates[p]:.2f} /s")
    axe.set_xlim(t0, t1)
    axe.invert_yaxis()
    axe.set_ylabel("gid")
    axe.legend(frameon=False, loc="upper right", markerscale=6, fontsize=5)
    axe.tick_params(labelbottom=False)
    style_axes(axe)
    fig.panel(axe, "E", "spike raster and mean rates")
    # F: spike counts per 1 ms
    axf = f.add_subplot(gs[3, 10:15], sharex=axe)
    dt = float(spikes.attrs["dt"])
    tt = np.asarray(spikes["time"].values, dtype=float)
    q = max(1, int(round(1.0 / dt)))
    for p in pops:
        c = spikes["population_count"].sel(population=p).values
        n = len(c) // q * q
        c1, tb = c[:n].reshape(-1, q).sum(axis=1), tt[:n:q]
        sel = (tb >= t0) & (tb <= t1)
        axf.step(tb[sel], c1[sel], where="post", color=colors[p], label=p)
    axf.set_xlabel("t (ms)")
    axf.set_ylabel("spikes / ms")
    style_axes(axf)
    fig.panel(axf, "F", "population spike counts (1 ms bins)")
    # G: rate spectra
    axg = f.add_subplot(gs[4, 10:15])
    fr, psd = rate_spectra(spikes)
    sel = (fr > 0) & (fr <= 300)
    for p in pops:
        axg.semilogy(fr[sel], psd[p][sel], color=colors[p], label=p)
    axg.set_xlabel("f (Hz)")
    axg.set_ylabel("PSD rate (s^-2/Hz)")
    axg.legend(frameon=False, loc="upper right")
    style_axes(axg)
    fig.panel(axg, "G", "power spectra of the population rates")
    # H: LFP
    axh = f.add_subplot(gs[:4, 16:])
    t, lfp = trace(signals, "lfp", t0, t1)
    stacked_traces(axh, t, lfp, units="mV")
    axh.set_title("LFP")
    axh.tick_params(labelbottom=False)
    style_axes(axh)
    fig.panel(axh, "H", "LFP across depth (total)")
    # I: dipole
    axi = f.add_subplot(gs[4, 16:], sharex=axh)
    t, cdm = trace(signals, "cdm", t0, t1)
    stacked_traces(axi, t, cdm, units="nA um", ylabels=["P_x", "P_y", "P_z"])
    axi.set_xlabel("t (ms)")
    axi.set_title("current dipole moment")
    style_axes(axi)
    fig.panel(axi, "I", "current dipole moment x, y, z (total)")
    return fig.save(paths)


def network_figure_files(spikes, signals, membrane, outputs, window=400.0, name="Fig03"):
    """File-level wrapper (the run's config from its ``spikes.nc``)."""
    sp = read_dataset(spikes, kind="spikes")
    return network_figure(sp, read_dataset(signals, kind="signals"), read_dataset(membrane, kind="membrane"),
                          run_config(sp), outputs, window=window, name=name)
