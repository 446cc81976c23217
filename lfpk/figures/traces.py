"""Ground truth against the kernel predictions of one run (``figures/<run>/traces.{png,pdf}``): the
LFP across depth (scale bar per column) and the dipole moment's z component, total and per
population, every kernel variant in its colour."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lfpk.base.io import read_dataset
from lfpk.engines.compare import approximation_label
from lfpk.figures.inputs import require, time_window
from lfpk.figures.style import (
    GROUND_TRUTH_COLOR,
    STYLE,
    channel_spacing,
    depth_scalebar,
    depth_traces,
    pyplot,
    save,
    variant_color,
)


def _as_labelled(predictions, labels=None):
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
    require(signals, ("lfp", "cdm", "channel_z"), "ground truth")
    for lab, p in predictions.items():
        require(p, ("lfp", "cdm"), f"prediction {lab!r}")
    plt = pyplot()
    t0, t1 = time_window(signals, window, window_length)
    if sources is None:
        sources = [str(s) for s in signals["source"].values
                   if all(str(s) in [str(q) for q in p["source"].values] for p in predictions.values())]
    tg = np.asarray(signals["time"].values, dtype=float)
    sg = (tg >= t0) & (tg <= t1)
    z = np.asarray(signals["channel_z"].values, dtype=float)
    dz = channel_spacing(z, default=100.0)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(2, len(sources), figsize=(3.3 * len(sources) + 0.8, 7.0), squeeze=False,
                                 gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
        for j, src in enumerate(sources):
            g = signals["lfp"].sel(source=src).transpose("channel", "time").values[:, sg]
            g = g - g.mean(axis=1, keepdims=True)
            scale = np.abs(g).max() or 1.0
            ax = axes[0, j]
            depth_traces(ax, tg[sg], g, z, scale, dz, color=GROUND_TRUTH_COLOR, lw=0.8, zorder=3,
                         label="ground truth")
            for i, (lab, p) in enumerate(predictions.items()):
                tp = np.asarray(p["time"].values, dtype=float)
                sp_ = (tp >= t0) & (tp <= t1)
                v = p["lfp"].sel(source=src).transpose(..., "time").values[:, sp_]
                v = v - v.mean(axis=1, keepdims=True)
                depth_traces(ax, tp[sp_], v, z, scale, dz, color=variant_color(i), lw=0.6, alpha=0.9, label=lab)
            ax.set_title(f"{src}: LFP (mean removed)")
            if j == 0:
                ax.set_ylabel("depth z (um)")
            ax.set_ylim(z.min() - dz, z.max() + dz)
            depth_scalebar(ax, scale, signals["lfp"].attrs.get("units", "mV"), dz)
            ax = axes[1, j]
            gz = signals["cdm"].sel(source=src, component="z").values[sg]
            ax.plot(tg[sg], gz - gz.mean(), color=GROUND_TRUTH_COLOR, lw=0.8, zorder=3, label="ground truth")
            for i, (lab, p) in enumerate(predictions.items()):
                tp = np.asarray(p["time"].values, dtype=float)
                sp_ = (tp >= t0) & (tp <= t1)
                v = p["cdm"].sel(source=src, component="z").values[sp_]
                ax.plot(tp[sp_], v - v.mean(), color=variant_color(i), lw=0.6, label=lab)
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
    if isinstance(prediction_paths, dict):
        preds = {str(k): read_dataset(v) for k, v in prediction_paths.items()}
    else:
        prediction_paths = list(prediction_paths)
        labels = labels or [Path(p).stem for p in prediction_paths]
        preds = {str(lab): read_dataset(p) for lab, p in zip(labels, prediction_paths)}
    prediction_traces(read_dataset(signals_path), preds, paths, window=window)
