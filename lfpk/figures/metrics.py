"""Metrics of the kernel predictions of one run (``figures/<run>/metrics.{png,pdf}``: R^2 and r_STD
per channel, dipole z metrics, spectra and coherence) and the plain-text metrics table of the
workflow summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from lfpk.base.io import read_dataset
from lfpk.engines.compare import format_table, summary_table
from lfpk.figures.inputs import require
from lfpk.figures.style import (
    GROUND_TRUTH_COLOR,
    STYLE,
    no_minor_labels,
    pyplot,
    save,
    variant_color,
)


def _concat_comparisons(comparisons):
    if isinstance(comparisons, xr.Dataset):
        comparisons = [comparisons]
    comparisons = list(comparisons)
    if not comparisons:
        raise ValueError("comparisons: at least one comparison dataset is needed")
    for i, c in enumerate(comparisons):
        require(c, ("r2", "r_std", "psd_ground_truth", "psd_prediction", "coherence", "n_channels", "channel_z"),
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
    plt = pyplot()
    approx = [str(a) for a in comp["approximation"].values]
    signals = [str(s) for s in comp["signal"].values]
    nch = dict(zip(signals, [int(n) for n in comp["n_channels"].values]))
    depth_signals = [s for s in ("lfp", "csd") if s in signals]
    if "cdm_z" not in signals:
        raise ValueError("comparison: signal 'cdm_z' missing (needed for the CDM panels)")
    colors = {a: variant_color(i) for i, a in enumerate(approx)}
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
        no_minor_labels(ax)
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
        no_minor_labels(ax)
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
    if isinstance(comparison_paths, (str, Path)):
        comparison_paths = [comparison_paths]
    metrics([read_dataset(p) for p in comparison_paths], paths, source=source)


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
    if isinstance(comparison_paths, (str, Path, xr.Dataset)):
        comparison_paths = [comparison_paths]
    blocks = []
    for p in comparison_paths:
        ds = p if isinstance(p, xr.Dataset) else read_dataset(p)
        require(ds, ("r2", "r_std", "n_channels"), f"comparison {p if not isinstance(p, xr.Dataset) else ''}".strip())
        table = summary_table(ds)
        if sources is not None:
            table = table[table["source"].isin(list(sources))]
        if bands is not None:
            table = table[table["band"].isin(list(bands))]
        name = ds.attrs.get("prediction", "") if isinstance(p, xr.Dataset) else str(p)
        head = f"== {name} (after {ds.attrs.get('transient', '?')} ms transient)" if name else "=="
        blocks.append(head + "\n" + format_table(table, signals=signals))
    return "\n\n".join(blocks)
