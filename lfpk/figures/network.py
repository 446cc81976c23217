"""Overview figure of a ground-truth run (``figures/<run>/network.{png,pdf}``): cells and probe,
soma and synapse depths, raster, per-cell rates, rate spectra, LFP across depth and current dipole
moment. Each panel is drawn by its own function; :func:`network_overview` lays them out.
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps
from scipy.stats import norm

from lfpk.base.io import read_dataset
from lfpk.engines.kernel import synapse_counts
from lfpk.figures.inputs import require, run_config, time_window
from lfpk.figures.style import (
    COMPONENT_COLORS,
    STYLE,
    channel_spacing,
    depth_scalebar,
    depth_traces,
    draw_cell,
    no_minor_labels,
    population_color,
    pyplot,
    save,
)
from lfpk.model import from_config
from lfpk.model.connectivity import expected_placement


def _hide_y_labels(ax):
    for label in ax.get_yticklabels():
        label.set_visible(False)


def _cells_panel(ax, model, channel_z):
    """Each population's cell at its mean soma depth (x-z projection) and the probe's contacts."""
    widths = [max(60.0, float(np.abs(p.segments["x"]).max()) * 2.2) for p in model.populations.values()]
    x0 = 0.0
    for i, (name, pop) in enumerate(model.populations.items()):
        x0 += widths[i] / 2
        draw_cell(ax, pop.segments, x0=x0, z0=pop.z_mean, width_scale=0.35, color=population_color(name, i))
        ax.text(x0, pop.z_mean + float(pop.segments["z"].max()) + 30, name, ha="center", va="bottom",
                color=population_color(name, i), fontweight="bold")
        x0 += widths[i] / 2
    xp = x0 + 60.0
    cz = np.asarray(channel_z, dtype=float)
    ax.plot([xp, xp], [cz.min() - 50, cz.max() + 50], color="0.5", lw=2.5, solid_capstyle="butt")
    ax.plot(np.full(len(cz), xp), cz, "o", ms=2.5, color="k", label="contacts")
    ax.text(xp, cz.max() + 90, "probe", ha="center", va="bottom")
    ax.set_xlim(-20, xp + 60)
    ax.set_xticks([])
    ax.set_ylabel("depth z (um)")
    ax.set_title("cells at mean soma depth\n(x-z projection), probe")


def _soma_depth_panel(ax, spikes, unit_pop, pops, channel_z):
    """Histogram of the soma depths (um) of each population."""
    zs = np.asarray(spikes["z"].values, dtype=float)
    bins = np.linspace(min(zs.min(), channel_z.min()) - 50, max(zs.max(), 0) + 50, 25)
    for i, p in enumerate(pops):
        ax.hist(zs[unit_pop == p], bins=bins, orientation="horizontal", histtype="step",
                color=population_color(p, i), label=f"{p} (N={int((unit_pop == p).sum())})")
    ax.set_xlabel("somata (count)")
    ax.set_title("soma\ndepths")
    ax.legend(frameon=False, loc="lower right")
    _hide_y_labels(ax)


def _synapse_depth_panel(ax, model, channel_z):
    """Expected synapses per cell in 50-um depth bins for every connection: ``k_in * p_i`` of the
    kernel placement rule, each segment's synapses spread over the soma-depth spread."""
    edges = np.arange(channel_z.min() - 300, channel_z.max() + 350, 50.0)
    centres = 0.5 * (edges[1:] + edges[:-1])
    names = list(model.populations)
    for c in model.connections:
        post = model.populations[c.post]
        k_in = synapse_counts(c.probability, model.populations[c.pre].size, post.size, c.multapses).k_in
        dens = np.zeros(len(centres))
        for t in post.cell_types:  # each cell type's share F_y of the cells (one type: the population's cell)
            p_i = expected_placement(t, c, model.layers)
            zc = t.segments["z"].mean(axis=1) + t.z_mean
            for zi, w in zip(zc, t.occurrence * c.indegree_factor(t.name) * k_in * p_i):
                if w > 0:
                    dens += w * np.diff(norm.cdf(edges, loc=zi, scale=max(t.z_sd, 1e-6)))
        ls = ("-", "--", ":", "-.")[names.index(c.pre) % 4]
        ax.plot(dens, centres, ls, color=population_color(c.post, names.index(c.post)), lw=1.0,
                label=f"{c.pre}$\\to${c.post}")
    ax.set_xlabel("synapses per cell\nper 50 um")
    ax.set_title("synapse depths\n(expected)")
    ax.legend(frameon=False, loc="lower right")
    _hide_y_labels(ax)


def _raster_panel(ax, st, su, units, unit_pop, pops, t0, t1):
    """Spikes of every unit (one row per unit, in file order) in ``[t0, t1]`` ms."""
    sel = (st >= t0) & (st <= t1)
    order = {u: k for k, u in enumerate(units)}
    row = np.array([order.get(u, -1) for u in su[sel]])
    pop_of_spike = unit_pop[np.clip(row, 0, None)] if len(row) else np.array([], dtype=str)
    for i, p in enumerate(pops):
        m = pop_of_spike == p
        ax.plot(st[sel][m], row[m], "|", ms=2.0, mew=0.6, color=population_color(p, i), label=p)
    ax.set_ylim(len(units) - 0.5, -0.5)
    ax.set_ylabel("unit")
    ax.set_title(f"spikes, {t1 - t0:.0f} ms\nafter the transient")
    for label in ax.get_xticklabels():
        label.set_visible(False)


def _dipole_panel(ax, signals, t0, t1):
    """Components of the total current dipole moment in ``[t0, t1]`` ms."""
    cdm = signals["cdm"].sel(source="total") if "source" in signals["cdm"].dims else signals["cdm"]
    tt = np.asarray(signals["time"].values, dtype=float)
    ts = (tt >= t0) & (tt <= t1)
    for i, comp in enumerate(str(c) for c in cdm["component"].values):
        ax.plot(tt[ts], cdm.sel(component=comp).values[ts], lw=0.7, color=COMPONENT_COLORS[i % 3], label=comp)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(f"CDM ({cdm.attrs.get('units', 'nA um')})")
    ax.set_title("current dipole moment\n(total)")
    ax.legend(frameon=True, framealpha=0.8, edgecolor="none", ncol=3, loc="best")
    ax.set_xlim(t0, t1)


def _lfp_panel(ax, signals, channel_z, t0, t1):
    """Total LFP (mean removed) at each contact's depth with a scale bar (set the y limits first)."""
    lfp = signals["lfp"].sel(source="total") if "source" in signals["lfp"].dims else signals["lfp"]
    tt = np.asarray(signals["time"].values, dtype=float)
    ts = (tt >= t0) & (tt <= t1)
    lv = lfp.transpose("channel", "time").values[:, ts]
    lv = lv - lv.mean(axis=1, keepdims=True)
    dz = channel_spacing(channel_z, default=100.0)
    scale = np.abs(lv).max() or 1.0
    depth_traces(ax, tt[ts], lv, channel_z, scale, dz, color="k", lw=0.5)
    ax.set_xlabel("time (ms)")
    ax.set_title("LFP (mean removed)\nacross depth")
    ax.set_xlim(t0, t1)
    depth_scalebar(ax, scale, lfp.attrs.get("units", "mV"), dz)
    _hide_y_labels(ax)


def _rate_histogram_panel(ax, st, su, units, unit_pop, pops, transient, tstop):
    """Histogram of the per-cell rates (1/s) after the transient."""
    dur = max(tstop - transient, 1e-9) * 1e-3
    after = st >= transient
    n_per_unit = np.array([np.sum(su[after] == u) for u in units]) if len(units) < 5000 else \
        np.bincount(np.searchsorted(units, su[after]), minlength=len(units))
    rates = n_per_unit / dur
    rbins = np.linspace(0, max(rates.max(), 1.0) * 1.05, 20)
    for i, p in enumerate(pops):
        r = rates[unit_pop == p]
        ax.hist(r, bins=rbins, histtype="step", color=population_color(p, i),
                label=f"{p}: mean {r.mean():.2f} 1/s" if len(r) else p)
    ax.set_xlabel("rate (1/s)")
    ax.set_ylabel("cells")
    ax.set_title("per-cell rates\nafter the transient")
    ax.legend(frameon=False)


def _rate_psd_panel(ax, spikes, unit_pop, pops, transient, dt):
    """Welch PSD of each population's rate per cell after the transient (256-ms segments)."""
    counts = spikes["population_count"]
    ct = np.asarray(counts["time"].values, dtype=float)
    ca = ct >= transient
    fs = 1000.0 / dt
    nper = int(min(ca.sum(), round(256.0 / dt)))
    for i, p in enumerate(pops):
        n = max(int((unit_pop == p).sum()), 1)
        rate = counts.sel(population=p).values[ca].astype(float) / n / (dt * 1e-3)
        f, pxx = sps.welch(rate - rate.mean(), fs=fs, nperseg=nper, noverlap=nper // 2)
        keep = (f > 0) & (f <= 500)
        ax.loglog(f[keep], np.maximum(pxx[keep], 1e-30), color=population_color(p, i), lw=0.8, label=p)
    no_minor_labels(ax)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("PSD ((1/s)$^2$/Hz)")
    ax.set_title("population rate PSD\n(per cell)")
    ax.legend(frameon=False)


def network_overview(spikes, signals, paths, cfg=None, window=None, window_length=400.0):
    """Overview of a ground-truth run.

    Panels: morphologies with the probe contacts (``channel_z``); soma depth histograms per
    population; expected synapse depth profile per connection (kernel placement rule:
    ``k_in * p_i`` summed in 50-um depth bins, :func:`lfpk.model.connectivity.expected_placement`); raster of
    a ``window_length`` ms window after the transient; per-cell rate histograms (after the
    transient); PSD of the population rates (Welch of ``population_count`` after the transient);
    LFP across depth (traces, scale bar); CDM components x, y, z.

    Parameters
    ----------
    spikes : xarray.Dataset
        ``spikes.nc`` (``spike_time``, ``spike_unit``, ``unit_population``, ``z``, ``population_count``).
    signals : xarray.Dataset
        ``signals.nc`` (``lfp``, ``cdm``; coordinate ``channel_z``).
    paths : sequence of path-like
        Output files (``.png``, ``.pdf``).
    cfg : dict, optional
        The run's config (default: :func:`lfpk.figures.inputs.run_config` of ``spikes``).
    window : (float, float), optional
        Time window (ms) of raster and traces (default ``window_length`` ms from the transient).
    window_length : float
        Length of the default window (ms).
    """
    require(spikes, ("spike_time", "spike_unit", "unit_population", "z", "population_count"), "spikes")
    require(signals, ("lfp", "cdm", "channel_z"), "signals")
    cfg = cfg if cfg is not None else run_config(spikes)
    plt = pyplot()
    t0, t1 = time_window(signals, window, window_length)
    transient = float(spikes.attrs.get("transient", signals.attrs.get("transient", 0.0)))
    tstop = float(spikes.attrs.get("tstop", float(signals["time"].values[-1])))
    dt = float(spikes.attrs.get("dt", np.median(np.diff(spikes["time"].values))))
    pops = [str(p) for p in spikes["population"].values] if "population" in spikes.coords else list(cfg["populations"])
    unit_pop = np.asarray(spikes["unit_population"].values).astype(str)
    units = np.asarray(spikes[spikes["unit_population"].dims[0]].values)
    st = np.asarray(spikes["spike_time"].values, dtype=float)
    su = np.asarray(spikes["spike_unit"].values)
    channel_z = np.asarray(signals["channel_z"].values, dtype=float)

    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(13.0, 6.4))
        gs = fig.add_gridspec(2, 6, width_ratios=[0.9, 0.55, 0.7, 1.5, 1.6, 1.1], hspace=0.45, wspace=0.6)
        ax_m = fig.add_subplot(gs[:, 0])
        ax_soma = fig.add_subplot(gs[:, 1], sharey=ax_m)
        ax_syn = fig.add_subplot(gs[:, 2], sharey=ax_m)
        ax_lfp = fig.add_subplot(gs[:, 3], sharey=ax_m)
        ax_r = fig.add_subplot(gs[0, 4])
        ax_cdm = fig.add_subplot(gs[1, 4], sharex=ax_r)
        ax_h = fig.add_subplot(gs[0, 5])
        ax_psd = fig.add_subplot(gs[1, 5])

        model = from_config(cfg)
        _cells_panel(ax_m, model, channel_z)
        ax_m.set_ylim(channel_z.min() - 300, max(channel_z.max(), 1000) + 200)  # shared by the depth panels
        _soma_depth_panel(ax_soma, spikes, unit_pop, pops, channel_z)
        _synapse_depth_panel(ax_syn, model, channel_z)
        _raster_panel(ax_r, st, su, units, unit_pop, pops, t0, t1)
        _dipole_panel(ax_cdm, signals, t0, t1)
        _lfp_panel(ax_lfp, signals, channel_z, t0, t1)
        _rate_histogram_panel(ax_h, st, su, units, unit_pop, pops, transient, tstop)
        _rate_psd_panel(ax_psd, spikes, unit_pop, pops, transient, dt)

        fig.suptitle(f"Ground-truth network: {', '.join(f'{p} {int((unit_pop == p).sum())}' for p in pops)} cells, "
                     f"{len(st)} spikes, {tstop:.0f} ms (transient {transient:.0f} ms)")
        fig.subplots_adjust(left=0.05, right=0.985, top=0.85, bottom=0.09)
        save(fig, paths)


def network_overview_figure(spikes_path, signals_path, paths, config=None, window=None):
    """File-level wrapper of :func:`network_overview`.

    Parameters
    ----------
    spikes_path, signals_path : path-like
        The run's ``spikes.nc`` and ``signals.nc``.
    paths : sequence of path-like
        Output figure files.
    config : dict, optional
        The run's config, already loaded (default: from the ``spikes.nc`` attributes).
    window : (float, float), optional
        Time window (ms).
    """
    if config is not None and not isinstance(config, dict):
        raise TypeError("config: pass the loaded configuration (a dict), e.g. lfpk.api.config.load_config(path)")
    network_overview(read_dataset(spikes_path), read_dataset(signals_path), paths, cfg=config, window=window)
