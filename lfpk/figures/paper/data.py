"""Reading the study's outputs for the paper figures: time windows, spike trains, rate spectra,
signal windows (one place for the conventions every figure shares)."""

from __future__ import annotations

import json

import numpy as np
from scipy import signal

from lfpk.engines.compare import PSD_SEGMENT, welch_overlap
from lfpk.figures.paper.framework import window_indices

#: Default length of the trace windows (ms): the study's Figs 4 and 6 show 200 ms.
TRACE_WINDOW = 200.0


def analysis_window(ds, length):
    """``(t0, t1)`` ms: ``length`` ms from the dataset's transient (clipped to its end)."""
    t = np.asarray(ds["time"].values, dtype=float)
    t0 = float(ds.attrs.get("transient", t[0]))
    return t0, min(t0 + float(length), float(t[-1]))


def spikes_of(spikes, population, t0=-np.inf, t1=np.inf):
    """Spike times (ms) and gids of ``population`` with ``t0 <= t <= t1``."""
    st = np.asarray(spikes["spike_time"].values, dtype=float)
    su = np.asarray(spikes["spike_unit"].values)
    up = np.asarray(spikes["unit_population"].values).astype(str)
    sel = (up[su] == str(population)) & (st >= t0) & (st <= t1)
    return st[sel], su[sel]


def mean_rates(spikes):
    """Mean rate (1/s) of every population after the transient."""
    t0 = float(spikes.attrs.get("transient", 0.0))
    t1 = float(spikes.attrs["tstop"])
    up = np.asarray(spikes["unit_population"].values).astype(str)
    out = {}
    for p in [str(x) for x in spikes["population"].values]:
        n = int((up == p).sum())
        out[p] = len(spikes_of(spikes, p, t0)[0]) / max(n, 1) / ((t1 - t0) / 1000.0) if t1 > t0 else np.nan
    return out


def rate_spectra(spikes):
    """Welch PSD (s^-2/Hz) of each population's rate (spikes per bin / dt, bins of ``dt``) after
    the transient, with the comparison's Welch settings (:data:`lfpk.engines.compare.PSD_SEGMENT`,
    :func:`lfpk.engines.compare.welch_overlap`; the study's NFFT 2048, overlap 1536 at 16 kHz).

    Returns
    -------
    frequency (Hz), {population: psd}
    """
    dt = float(spikes.attrs["dt"])
    t = np.asarray(spikes["time"].values, dtype=float)
    keep = t >= float(spikes.attrs.get("transient", 0.0))
    counts = spikes["population_count"].transpose("population", "time").values[:, keep].astype(float)
    nper = int(min(counts.shape[1], round(PSD_SEGMENT / dt)))
    f, p = signal.welch(counts / (dt / 1000.0), fs=1000.0 / dt, nperseg=nper, noverlap=welch_overlap(nper),
                        detrend=False)
    return f, dict(zip([str(x) for x in spikes["population"].values], p))


def trace(ds, name, t0, t1, source="total", component=None):
    """``(t, data (channel, time))`` of signal ``name`` of ``source`` in ``[t0, t1]``; ``cdm`` with
    ``component`` gives one row."""
    var = ds[name].sel(source=source)
    if component is not None:
        var = var.sel(component=[component])
    t = np.asarray(ds["time"].values, dtype=float)
    idx = window_indices(t, t0, t1)
    chan = [d for d in var.dims if d != "time"][0]
    return t[idx], var.transpose(chan, "time").values[:, idx]


def json_attr(ds, key, default=None):
    """A JSON attribute of a dataset, decoded."""
    text = ds.attrs.get(key)
    return default if text is None else json.loads(text)
