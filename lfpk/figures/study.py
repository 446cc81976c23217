"""Figures of the study from cached netCDF: network overview, ground truth versus prediction,
metrics, and the sensitivity map; plus the plain-text metrics table of the workflow summary.

Each figure has a function taking already-loaded datasets (``network_overview``,
``prediction_traces``, ``metrics``) and a thin file-level wrapper taking paths
(``*_figure``) for the workflow scripts. All figures use :data:`lfpk.figures.style.STYLE` and are written by
:func:`lfpk.figures.style.save` (PNG and/or PDF by suffix, atomically, without timestamps). Inputs are
checked first: a missing variable raises ``ValueError`` naming the dataset and the variable.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lfpk.figures.style import STYLE, _pyplot, save

#: Colours of populations (rasters, histograms) and of ground truth / kernel variants (traces).
POPULATION_COLORS = {"E": "tab:red", "I": "tab:blue"}
GROUND_TRUTH_COLOR = "k"
VARIANT_COLORS = ("tab:orange", "tab:green", "tab:purple", "tab:cyan", "tab:brown", "tab:pink", "tab:olive")


def _need(ds, names, what):
    """Raise ``ValueError`` naming the first variable of ``names`` that ``ds`` lacks."""
    for name in names:
        if name not in ds.variables:
            raise ValueError(f"{what}: missing variable {name!r} (needed for the figure)")


def _pop_color(name, i=0):
    return POPULATION_COLORS.get(str(name), f"C{i}")


def _window(ds, window, length):
    """Analysis window (t0, t1) in ms: given, or ``length`` ms from the transient."""
    if window is not None:
        return float(window[0]), float(window[1])
    t = np.asarray(ds["time"].values, dtype=float)
    t0 = float(ds.attrs.get("transient", t[0]))
    t1 = min(t0 + length, float(t[-1]))
    if t1 <= t0:
        t0, t1 = float(t[0]), float(t[-1])
    return t0, t1


def _edges(v, half):
    """Cell edges around grid values ``v`` (midpoints; ``half`` either side of a single value)."""
    v = np.asarray(v, dtype=float)
    if len(v) == 1:
        return np.array([v[0] - half, v[0] + half])
    mid = 0.5 * (v[1:] + v[:-1])
    return np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])


def _no_minor_labels(ax):
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())


def run_config(spikes):
    """The configuration of a ground-truth run from its ``spikes.nc`` attributes.

    ``parameters`` (the config, JSON) with ``population_sizes`` and ``connection_probabilities``
    (as simulated, after ``--population-sizes`` scaling) applied.
    """
    if "parameters" not in spikes.attrs:
        raise ValueError("spikes: attribute 'parameters' (the run's config, JSON) missing; pass the config")
    cfg = json.loads(spikes.attrs["parameters"])
    sizes = json.loads(spikes.attrs.get("population_sizes", "{}") or "{}")
    for p, n in sizes.items():
        if p in cfg["populations"]:
            cfg["populations"][p]["size"] = int(n)
    probs = json.loads(spikes.attrs.get("connection_probabilities", "{}") or "{}")
    for c in cfg["connections"]:
        key = f"{c['pre']}->{c['post']}"
        if key in probs:
            c["probability"] = float(probs[key])
    return cfg


# ---------------------------------------------------------------------------------------------
# Network overview
# ---------------------------------------------------------------------------------------------


def _draw_morphologies(ax, model, channel_z):
    from lfpk.figures.style import draw_cell

    pops = list(model.populations)
    widths = [max(60.0, float(np.abs(p.segments["x"]).max()) * 2.2) for p in model.populations.values()]
    x0 = 0.0
    for i, (name, pop) in enumerate(model.populations.items()):
        x0 += widths[i] / 2
        draw_cell(ax, pop.segments, x0=x0, z0=pop.z_mean, width_scale=0.35, color=_pop_color(name, i))
        ax.text(x0, pop.z_mean + float(pop.segments["z"].max()) + 30, name, ha="center", va="bottom",
                color=_pop_color(name, i), fontweight="bold")
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
    return pops


def network_overview(spikes, signals, paths, cfg=None, window=None, window_length=400.0):
    """Overview of a ground-truth run.

    Panels: morphologies with the probe contacts (``channel_z``); soma depth histograms per
    population; expected synapse depth profile per connection (kernel placement rule:
    ``k_in * p_i`` summed in 50-um depth bins, :func:`lfpk.engines.kernel.synapse_probabilities`); raster of
    a ``window_length`` ms window after the transient; per-cell rate histograms (after the
    transient); PSD of the population rates (Welch of ``population_count`` after the transient);
    LFP across depth (traces); CDM components x, y, z.

    Parameters
    ----------
    spikes : xarray.Dataset
        ``spikes.nc`` (``spike_time``, ``spike_unit``, ``unit_population``, ``z``, ``population_count``).
    signals : xarray.Dataset
        ``signals.nc`` (``lfp``, ``cdm``; coordinate ``channel_z``).
    paths : sequence of path-like
        Output files (``.png``, ``.pdf``).
    cfg : dict, optional
        The run's config (default: :func:`run_config` of ``spikes``).
    window : (float, float), optional
        Time window (ms) of raster and traces (default ``window_length`` ms from the transient).
    """
    from scipy import signal as sps
    from scipy.stats import norm

    from lfpk.engines.kernel import synapse_counts, synapse_probabilities
    from lfpk.model import from_config

    _need(spikes, ("spike_time", "spike_unit", "unit_population", "z", "population_count"), "spikes")
    _need(signals, ("lfp", "cdm", "channel_z"), "signals")
    cfg = cfg if cfg is not None else run_config(spikes)
    plt = _pyplot()
    t0, t1 = _window(signals, window, window_length)
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
        _draw_morphologies(ax_m, model, channel_z)

        # soma depths
        zs = np.asarray(spikes["z"].values, dtype=float)
        bins = np.linspace(min(zs.min(), channel_z.min()) - 50, max(zs.max(), 0) + 50, 25)
        for i, p in enumerate(pops):
            ax_soma.hist(zs[unit_pop == p], bins=bins, orientation="horizontal", histtype="step",
                         color=_pop_color(p, i), label=f"{p} (N={int((unit_pop == p).sum())})")
        ax_soma.set_xlabel("somata (count)")
        ax_soma.set_title("soma\ndepths")
        ax_soma.legend(frameon=False, loc="lower right")
        plt.setp(ax_soma.get_yticklabels(), visible=False)

        # expected synapse depth profile per connection (kernel placement rule)
        edges = np.arange(channel_z.min() - 300, channel_z.max() + 350, 50.0)
        centres = 0.5 * (edges[1:] + edges[:-1])
        for j, c in enumerate(model.connections):
            post = model.populations[c.post]
            seg = post.segments
            zm, zsd = post.z_mean, post.z_sd
            allowed = np.zeros(post.n_segments, dtype=bool)
            for g in c.groups:
                allowed |= post.group_mask(g)
            p_i = synapse_probabilities(seg, c.placement, zm, zsd, allowed=allowed)
            k_in = synapse_counts(c.probability, model.populations[c.pre].size, post.size, c.multapses).k_in
            # spread every segment's synapses over its depth extent and the soma-depth spread
            zc = seg["z"].mean(axis=1) + zm
            dens = np.zeros(len(centres))
            for zi, w in zip(zc, k_in * p_i):
                if w > 0:
                    dens += w * np.diff(norm.cdf(edges, loc=zi, scale=max(zsd, 1e-6)))
            ls = ("-", "--", ":", "-.")[list(model.populations).index(c.pre) % 4]
            ax_syn.plot(dens, centres, ls, color=_pop_color(c.post, list(model.populations).index(c.post)), lw=1.0,
                        label=f"{c.pre}$\\to${c.post}")
        ax_syn.set_xlabel("synapses per cell\nper 50 um")
        ax_syn.set_title("synapse depths\n(expected)")
        ax_syn.legend(frameon=False, loc="lower right")
        plt.setp(ax_syn.get_yticklabels(), visible=False)

        # raster
        sel = (st >= t0) & (st <= t1)
        order = {u: k for k, u in enumerate(units)}
        row = np.array([order.get(u, -1) for u in su[sel]])
        pop_of_spike = unit_pop[np.clip(row, 0, None)] if len(row) else np.array([], dtype=str)
        for i, p in enumerate(pops):
            m = pop_of_spike == p
            ax_r.plot(st[sel][m], row[m], "|", ms=2.0, mew=0.6, color=_pop_color(p, i), label=p)
        ax_r.set_ylim(len(units) - 0.5, -0.5)
        ax_r.set_ylabel("unit")
        ax_r.set_title(f"spikes, {t1 - t0:.0f} ms\nafter the transient")
        plt.setp(ax_r.get_xticklabels(), visible=False)

        # CDM components
        cdm = signals["cdm"].sel(source="total") if "source" in signals["cdm"].dims else signals["cdm"]
        tt = np.asarray(signals["time"].values, dtype=float)
        ts = (tt >= t0) & (tt <= t1)
        comps = [str(c) for c in cdm["component"].values]
        for i, comp in enumerate(comps):
            v = cdm.sel(component=comp).values[ts]
            ax_cdm.plot(tt[ts], v, lw=0.7, color=("tab:gray", "tab:olive", "tab:purple")[i % 3],
                        label=comp)
        ax_cdm.set_xlabel("time (ms)")
        ax_cdm.set_ylabel(f"CDM ({cdm.attrs.get('units', 'nA um')})")
        ax_cdm.set_title("current dipole moment\n(total)")
        ax_cdm.legend(frameon=True, framealpha=0.8, edgecolor="none", ncol=3, loc="best")
        ax_cdm.set_xlim(t0, t1)

        # LFP across depth
        lfp = signals["lfp"].sel(source="total") if "source" in signals["lfp"].dims else signals["lfp"]
        lv = lfp.transpose("channel", "time").values[:, ts]
        lv = lv - lv.mean(axis=1, keepdims=True)
        dz = np.abs(np.diff(channel_z)).min() if len(channel_z) > 1 else 100.0
        scale = np.abs(lv).max() or 1.0
        for k, zk in enumerate(channel_z):
            ax_lfp.plot(tt[ts], zk + lv[k] / scale * dz * 0.9, color="k", lw=0.5)
        units_lfp = lfp.attrs.get("units", "mV")
        ax_lfp.set_xlabel("time (ms)")
        ax_lfp.set_title(f"LFP (mean removed)\n{scale * 1e3:.3g} uV per channel spacing" if units_lfp == "mV"
                         else f"LFP (mean removed)\n{scale:.3g} {units_lfp} per channel spacing")
        ax_lfp.set_xlim(t0, t1)
        plt.setp(ax_lfp.get_yticklabels(), visible=False)

        # per-cell rates after the transient
        dur = max(tstop - transient, 1e-9) * 1e-3
        after = st >= transient
        n_per_unit = np.array([np.sum(su[after] == u) for u in units]) if len(units) < 5000 else \
            np.bincount(np.searchsorted(units, su[after]), minlength=len(units))
        rates = n_per_unit / dur
        rbins = np.linspace(0, max(rates.max(), 1.0) * 1.05, 20)
        for i, p in enumerate(pops):
            r = rates[unit_pop == p]
            ax_h.hist(r, bins=rbins, histtype="step", color=_pop_color(p, i),
                      label=f"{p}: mean {r.mean():.2f} 1/s" if len(r) else p)
        ax_h.set_xlabel("rate (1/s)")
        ax_h.set_ylabel("cells")
        ax_h.set_title("per-cell rates\nafter the transient")
        ax_h.legend(frameon=False)

        # population rate PSD
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
            ax_psd.loglog(f[keep], np.maximum(pxx[keep], 1e-30), color=_pop_color(p, i), lw=0.8, label=p)
        _no_minor_labels(ax_psd)
        ax_psd.set_xlabel("frequency (Hz)")
        ax_psd.set_ylabel("PSD ((1/s)$^2$/Hz)")
        ax_psd.set_title("population rate PSD\n(per cell)")
        ax_psd.legend(frameon=False)

        ax_m.set_ylim(channel_z.min() - 300, max(channel_z.max(), 1000) + 200)
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
    config : dict or path-like, optional
        The run's config (default: from the ``spikes.nc`` attributes).
    """
    from lfpk.base.io import read_dataset

    cfg = config
    if config is not None and not isinstance(config, dict):
        from lfpk.api.config import load_config

        cfg = load_config(config)
    network_overview(read_dataset(spikes_path), read_dataset(signals_path), paths, cfg=cfg, window=window)


# ---------------------------------------------------------------------------------------------
# Ground truth versus prediction traces
# ---------------------------------------------------------------------------------------------


def _as_labelled(predictions, labels=None):
    from lfpk.engines.compare import approximation_label

    if isinstance(predictions, dict):
        return dict(predictions)
    predictions = list(predictions)
    if labels is None:
        labels = [approximation_label(p) for p in predictions]
    if len(labels) != len(predictions):
        raise ValueError(f"labels: {len(labels)} labels for {len(predictions)} predictions")
    return dict(zip(labels, predictions))


def prediction_traces(signals, predictions, paths, window=None, window_length=400.0, sources=None):
    """Ground truth versus kernel predictions: LFP across depth and CDM z, total and per population.

    Columns: ``total`` and each population (the ground truth's per-population signal versus the
    prediction's sum over presynaptic populations); top row LFP traces on every channel (same
    scale within a column, mean removed), bottom row CDM z. Ground truth black, each kernel variant
    in colour (overlay).

    Parameters
    ----------
    signals : xarray.Dataset
        Ground truth ``signals.nc``.
    predictions : dict or sequence of xarray.Dataset
        Label -> prediction dataset (``lfpk.predict`` layout), or a list (labels from attributes).
    paths : sequence of path-like
    window : (float, float), optional
        Time window (ms); default ``window_length`` ms from the transient.
    sources : sequence of str, optional
        Columns (default ``total`` and every population both have).
    """
    predictions = _as_labelled(predictions)
    if not predictions:
        raise ValueError("predictions: at least one prediction is needed")
    _need(signals, ("lfp", "cdm", "channel_z"), "ground truth")
    for lab, p in predictions.items():
        _need(p, ("lfp", "cdm"), f"prediction {lab!r}")
    plt = _pyplot()
    t0, t1 = _window(signals, window, window_length)
    if sources is None:
        sources = [str(s) for s in signals["source"].values
                   if all(str(s) in [str(q) for q in p["source"].values] for p in predictions.values())]
    tg = np.asarray(signals["time"].values, dtype=float)
    sg = (tg >= t0) & (tg <= t1)
    z = np.asarray(signals["channel_z"].values, dtype=float)
    dz = np.abs(np.diff(z)).min() if len(z) > 1 else 100.0
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, len(sources), figsize=(3.3 * len(sources) + 0.8, 7.0), squeeze=False,
                                 gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
        for j, src in enumerate(sources):
            g = signals["lfp"].sel(source=src).transpose("channel", "time").values[:, sg]
            g = g - g.mean(axis=1, keepdims=True)
            scale = np.abs(g).max() or 1.0
            ax = axes[0, j]
            for k, zk in enumerate(z):
                ax.plot(tg[sg], zk + g[k] / scale * dz * 0.9, color=GROUND_TRUTH_COLOR, lw=0.8, zorder=3,
                        label="ground truth" if k == 0 else None)
            for i, (lab, p) in enumerate(predictions.items()):
                tp = np.asarray(p["time"].values, dtype=float)
                sp_ = (tp >= t0) & (tp <= t1)
                v = p["lfp"].sel(source=src).transpose(..., "time").values[:, sp_]
                v = v - v.mean(axis=1, keepdims=True)
                for k, zk in enumerate(z[: v.shape[0]]):
                    ax.plot(tp[sp_], zk + v[k] / scale * dz * 0.9, color=VARIANT_COLORS[i % len(VARIANT_COLORS)],
                            lw=0.6, alpha=0.9, label=lab if k == 0 else None)
            units = signals["lfp"].attrs.get("units", "mV")
            sc = f"{scale * 1e3:.3g} uV" if units == "mV" else f"{scale:.3g} {units}"
            ax.set_title(f"{src}: LFP (mean removed)\n{sc} per channel spacing")
            if j == 0:
                ax.set_ylabel("depth z (um)")
            ax.set_ylim(z.min() - dz, z.max() + dz)
            ax = axes[1, j]
            gz = signals["cdm"].sel(source=src, component="z").values[sg]
            ax.plot(tg[sg], gz - gz.mean(), color=GROUND_TRUTH_COLOR, lw=0.8, zorder=3, label="ground truth")
            for i, (lab, p) in enumerate(predictions.items()):
                tp = np.asarray(p["time"].values, dtype=float)
                sp_ = (tp >= t0) & (tp <= t1)
                v = p["cdm"].sel(source=src, component="z").values[sp_]
                ax.plot(tp[sp_], v - v.mean(), color=VARIANT_COLORS[i % len(VARIANT_COLORS)], lw=0.6, label=lab)
            ax.set_xlabel("time (ms)")
            if j == 0:
                ax.set_ylabel(f"CDM z, mean removed\n({signals['cdm'].attrs.get('units', 'nA um')})")
            ax.set_xlim(t0, t1)
        handles, labels = axes[1, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", ncol=len(labels), frameon=False,
                   bbox_to_anchor=(0.5, 0.995))
        fig.tight_layout(rect=(0, 0, 1, 0.96))
        save(fig, paths)


def prediction_traces_figure(signals_path, prediction_paths, paths, labels=None, window=None):
    """File-level wrapper of :func:`prediction_traces`.

    Parameters
    ----------
    signals_path : path-like
        Ground truth ``signals.nc``.
    prediction_paths : dict or sequence of path-like
        Label -> prediction file, or a list of files (labels: ``labels`` or the file stems).
    paths : sequence of path-like
    """
    from lfpk.base.io import read_dataset

    if isinstance(prediction_paths, dict):
        preds = {str(k): read_dataset(v) for k, v in prediction_paths.items()}
    else:
        prediction_paths = list(prediction_paths)
        labels = labels or [Path(p).stem for p in prediction_paths]
        preds = {str(lab): read_dataset(p) for lab, p in zip(labels, prediction_paths)}
    prediction_traces(read_dataset(signals_path), preds, paths, window=window)


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------


def _concat_comparisons(comparisons):
    import xarray as xr

    if isinstance(comparisons, xr.Dataset):
        comparisons = [comparisons]
    comparisons = list(comparisons)
    if not comparisons:
        raise ValueError("comparisons: at least one comparison dataset is needed")
    for i, c in enumerate(comparisons):
        _need(c, ("r2", "r_std", "psd_ground_truth", "psd_prediction", "coherence", "n_channels", "channel_z"),
              f"comparison {i}")
    if len(comparisons) == 1:
        return comparisons[0]
    return xr.concat(comparisons, "approximation", data_vars="minimal", coords="minimal", compat="override",
                     join="outer")


def metrics(comparisons, paths, source="total", fmax=500.0):
    """R^2 and r_STD per channel (raw and low-pass) of LFP and CSD, CDM z metrics, PSD and coherence.

    Columns: LFP and CSD (metric against contact depth; solid raw, dashed low-pass; one colour
    per kernel variant), CDM z (R^2 and r_STD per variant, raw and low-pass), CDM z PSD (ground
    truth black, predictions coloured) and coherence.

    Parameters
    ----------
    comparisons : xarray.Dataset or sequence of them
        ``lfpk.compare`` outputs; several are concatenated along ``approximation`` (the variant).
    paths : sequence of path-like
    source : str
        ``total`` or a population.
    fmax : float
        Highest frequency shown (Hz).
    """
    comp = _concat_comparisons(comparisons)
    plt = _pyplot()
    approx = [str(a) for a in comp["approximation"].values]
    signals = [str(s) for s in comp["signal"].values]
    nch = dict(zip(signals, [int(n) for n in comp["n_channels"].values]))
    depth_signals = [s for s in ("lfp", "csd") if s in signals]
    if "cdm_z" not in signals:
        raise ValueError("comparison: signal 'cdm_z' missing (needed for the CDM panels)")
    colors = {a: VARIANT_COLORS[i % len(VARIANT_COLORS)] for i, a in enumerate(approx)}
    ncol = len(depth_signals) + 2
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, ncol, figsize=(2.7 * ncol + 0.6, 6.2), squeeze=False)
        for j, s in enumerate(depth_signals):
            c = nch[s]
            z = comp["channel_z"].sel(signal=s).values[:c]
            for row, metric in enumerate(("r2", "r_std")):
                ax = axes[row, j]
                for a in approx:
                    for band, ls in (("raw", "-"), ("lowpass", "--")):
                        v = comp[metric].sel(source=source, signal=s, approximation=a, band=band).values[:c]
                        ax.plot(v, z, ls, marker="o", ms=2.5, color=colors[a], lw=0.9,
                                label=f"{a} ({band})")
                if metric == "r_std":
                    ax.axvline(1.0, color="0.6", lw=0.6)
                    ax.set_xlabel("r$_{STD}$ (1)")
                else:
                    ax.set_xlim(-0.02, 1.02)
                    ax.set_xlabel("R$^2$ (1)")
                ax.set_ylabel("depth z (um)")
                ax.set_title(f"{s.upper()} ({source}): {'R$^2$' if metric == 'r2' else 'r$_{STD}$'} per channel")
        # CDM z metrics per variant
        x = np.arange(len(approx))
        for row, metric in enumerate(("r2", "r_std")):
            ax = axes[row, len(depth_signals)]
            for k, (band, hatch) in enumerate((("raw", None), ("lowpass", "//"))):
                v = [float(comp[metric].sel(source=source, signal="cdm_z", channel=0, approximation=a,
                                            band=band)) for a in approx]
                ax.bar(x + (k - 0.5) * 0.38, v, width=0.36, color=[colors[a] for a in approx],
                       hatch=hatch, edgecolor="k", lw=0.4, label=band)
            if metric == "r_std":
                ax.axhline(1.0, color="0.6", lw=0.6)
            ax.set_xticks(x)
            ax.set_xticklabels(approx, rotation=20, ha="right")
            ax.set_ylabel("R$^2$ (1)" if metric == "r2" else "r$_{STD}$ (1)")
            ax.set_title(f"CDM z ({source}): {'R$^2$' if metric == 'r2' else 'r$_{STD}$'}\n(plain raw, hatched low-pass)")
            if metric == "r2":
                ax.set_ylim(0, 1.05)
        # PSD and coherence of CDM z
        f = np.asarray(comp["frequency"].values, dtype=float)
        keep = (f > 0) & (f <= fmax)
        ax = axes[0, -1]
        pg = comp["psd_ground_truth"].sel(source=source, signal="cdm_z", channel=0).values
        if pg.ndim > 1:  # after concat, identical along approximation
            pg = pg[0]
        ax.loglog(f[keep], pg[keep], color=GROUND_TRUTH_COLOR, lw=1.0, label="ground truth")
        for a in approx:
            pp = comp["psd_prediction"].sel(source=source, signal="cdm_z", channel=0, approximation=a).values
            ax.loglog(f[keep], pp[keep], color=colors[a], lw=0.8, label=a)
        _no_minor_labels(ax)
        units = "nA um"
        if "signal_units" in comp.coords:
            units = str(comp["signal_units"].sel(signal="cdm_z").values)
        ax.set_xlabel("frequency (Hz)")
        ax.set_ylabel(f"PSD (({units})$^2$/Hz)")
        ax.set_title(f"CDM z ({source}): Welch PSD")
        ax.legend(frameon=False, fontsize=6)
        ax = axes[1, -1]
        for a in approx:
            co = comp["coherence"].sel(source=source, signal="cdm_z", channel=0, approximation=a).values
            ax.semilogx(f[keep], co[keep], color=colors[a], lw=0.8, label=a)
        ax.set_ylim(0, 1.02)
        _no_minor_labels(ax)
        ax.set_xlabel("frequency (Hz)")
        ax.set_ylabel("coherence (1)")
        ax.set_title(f"CDM z ({source}): coherence\nprediction vs ground truth")
        handles, labels = axes[0, 0].get_legend_handles_labels() if depth_signals else ([], [])
        if handles:
            fig.legend(handles, labels, loc="upper center", ncol=min(len(labels), 4), frameon=False,
                       bbox_to_anchor=(0.5, 0.995))
        top = 1.0 - 0.035 * (1 + (len(labels) - 1) // 4) if handles else 0.98
        fig.tight_layout(rect=(0, 0, 1, top))
        save(fig, paths)


def metrics_figure(comparison_paths, paths, source="total"):
    """File-level wrapper of :func:`metrics` (comparison files of one run, one per kernel variant)."""
    from lfpk.base.io import read_dataset

    if isinstance(comparison_paths, (str, Path)):
        comparison_paths = [comparison_paths]
    metrics([read_dataset(p) for p in comparison_paths], paths, source=source)


# ---------------------------------------------------------------------------------------------
# Sensitivity map
# ---------------------------------------------------------------------------------------------


def format_metrics_table(comparison_paths, signals=None, sources=("total",), bands=None):
    """Plain-text table of the comparisons' summary (channel median and 10/90 % quantiles).

    Parameters
    ----------
    comparison_paths : path-like or sequence of path-like (or xarray Datasets)
        Comparison files (``lfpk.compare``), e.g. one per kernel variant and run.
    signals, sources, bands : sequence of str, optional
        Rows kept (default all signals, source ``total``, both bands).

    Returns
    -------
    str
        One block per comparison file, headed by the file name, rows as
        :func:`lfpk.engines.compare.summary_table` (rendered by :func:`lfpk.engines.compare.format_table`).
    """
    import xarray as xr

    from lfpk.engines.compare import format_table, summary_table
    from lfpk.base.io import read_dataset

    if isinstance(comparison_paths, (str, Path, xr.Dataset)):
        comparison_paths = [comparison_paths]
    blocks = []
    for p in comparison_paths:
        ds = p if isinstance(p, xr.Dataset) else read_dataset(p)
        _need(ds, ("r2", "r_std", "n_channels"), f"comparison {p if not isinstance(p, xr.Dataset) else ''}".strip())
        table = summary_table(ds)
        if sources is not None:
            table = table[table["source"].isin(list(sources))]
        if bands is not None:
            table = table[table["band"].isin(list(bands))]
        name = ds.attrs.get("prediction", "") if isinstance(p, xr.Dataset) else str(p)
        head = f"== {name} (after {ds.attrs.get('transient', '?')} ms transient)" if name else "=="
        blocks.append(head + "\n" + format_table(table, signals=signals))
    return "\n\n".join(blocks)


# ---------------------------------------------------------------------------------------------
# Weight-scaling (J) scan
# ---------------------------------------------------------------------------------------------


def jscan(spikes, signals, predictions, scan, paths, variant, window_length=400.0):
    """Weight-scaling scan: per run (column, sorted by J) a raster and ground truth vs prediction of
    CDM z; below, R^2 of the LFP per channel against depth for every J, and R^2 / r_STD of CDM z
    against J for every kernel variant.

    Parameters
    ----------
    spikes, signals, predictions : dict
        ``run -> spikes.nc / signals.nc / prediction (of variant) Dataset``.
    scan : xarray.Dataset
        :func:`lfpk.study.scan.gather_scan` output (``r2``, ``r_std``; coordinate ``J (run)``).
    paths : sequence of path-like
    variant : str
        Kernel variant shown in the traces and the depth profiles.
    """
    _need(scan, ("r2", "r_std", "J"), "scan")
    plt = _pyplot()
    runs = sorted(spikes, key=lambda r: float(scan["J"].sel(run=r)))
    n = len(runs)
    with plt.rc_context(STYLE):
        fig = plt.figure(figsize=(max(7.0, 2.6 * n), 8.2))
        gs = fig.add_gridspec(3, max(n, 2), height_ratios=[1.1, 1.0, 1.3], hspace=0.55, wspace=0.35)
        for j, run in enumerate(runs):
            sp, sg, pr = spikes[run], signals[run], predictions[run]
            _need(sp, ("spike_time", "spike_unit", "unit_population"), f"spikes of run {run}")
            _need(sg, ("cdm",), f"signals of run {run}")
            _need(pr, ("cdm",), f"prediction of run {run}")
            t0, t1 = _window(sg, None, window_length)
            J = float(scan["J"].sel(run=run))
            ax = fig.add_subplot(gs[0, j])
            st = np.asarray(sp["spike_time"].values, dtype=float)
            su = np.asarray(sp["spike_unit"].values)
            unit_pop = np.asarray(sp["unit_population"].values).astype(str)
            sel = (st >= t0) & (st <= t1)
            for i, p in enumerate(dict.fromkeys(unit_pop)):
                m = sel & (unit_pop[su] == p)
                ax.plot(st[m], su[m], "|", ms=1.5, color=_pop_color(p, i), label=p)
            ax.set_xlim(t0, t1)
            ax.set_title(f"run {run}: J = {J:g}")
            ax.set_xlabel("time (ms)")
            if j == 0:
                ax.set_ylabel("cell")
                ax.legend(loc="upper right", frameon=False, markerscale=4)
            ax = fig.add_subplot(gs[1, j])
            t = np.asarray(sg["time"].values, dtype=float)
            w = (t >= t0) & (t <= t1)
            ax.plot(t[w], sg["cdm"].sel(source="total", component="z").values[w], color=GROUND_TRUTH_COLOR,
                    lw=0.8, label="ground truth")
            tp = np.asarray(pr["time"].values, dtype=float)
            wp = (tp >= t0) & (tp <= t1)
            ax.plot(tp[wp], pr["cdm"].sel(source="total", component="z").values[wp], color=VARIANT_COLORS[0],
                    lw=0.8, label=variant)
            ax.set_xlim(t0, t1)
            ax.set_xlabel("time (ms)")
            if j == 0:
                ax.set_ylabel("CDM z (nA um)")
                ax.legend(loc="lower left", frameon=False)
        # bottom row: LFP R^2 per channel for each J, and CDM z metrics against J
        ax = fig.add_subplot(gs[2, : max(1, n // 2)])
        r2 = scan["r2"].sel(source="total", signal="lfp", band="raw", variant=variant)
        z = scan["channel_z"].sel(signal="lfp").values if "channel_z" in scan.coords else np.arange(r2.sizes["channel"])
        cmap = plt.get_cmap("viridis")
        for k, run in enumerate(runs):
            J = float(scan["J"].sel(run=run))
            ax.plot(r2.sel(run=run).values, z, "o-", ms=3, color=cmap(k / max(1, n - 1)), label=f"J = {J:g}")
        ax.set_xlabel("R$^2$ (1)")
        ax.set_ylabel("depth z (um)")
        ax.set_xlim(0, 1)
        ax.set_title(f"LFP R$^2$ per channel ({variant}, raw)")
        ax.legend(frameon=False, fontsize=6)
        ax2 = fig.add_subplot(gs[2, max(1, n // 2):])
        Js = np.array([float(scan["J"].sel(run=r)) for r in runs])
        for i, v in enumerate(scan["variant"].values):
            vals = scan["r2"].sel(source="total", signal="cdm_z", band="raw", variant=v).isel(channel=0)
            ax2.plot(Js, [float(vals.sel(run=r)) for r in runs], "o-", color=VARIANT_COLORS[i % len(VARIANT_COLORS)],
                     label=str(v))
        ax2.set_xlabel("weight scaling J (1)")
        ax2.set_ylabel("CDM z R$^2$ (1)")
        ax2.set_ylim(0, 1)
        ax2.set_title("CDM z R$^2$ against J (raw)")
        ax2.legend(frameon=False, fontsize=6)
        fig.suptitle("Excitatory weight scaling J: ground truth and kernel predictions")
        save(fig, paths)


def jscan_figure(spikes_paths, signals_paths, prediction_paths, scan_path, paths, variant, window_length=400.0):
    """File-level wrapper of :func:`jscan`; the first three arguments map run -> path."""
    from lfpk.base.io import read_dataset

    jscan({r: read_dataset(p) for r, p in spikes_paths.items()},
          {r: read_dataset(p) for r, p in signals_paths.items()},
          {r: read_dataset(p) for r, p in prediction_paths.items()},
          read_dataset(scan_path), paths, variant, window_length)
