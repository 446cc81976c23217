"""Signals predicted from population spike counts and kernels: phi = sum_X sum_Y nu_X * H_YX.

For every signal the gathered kernels carry (``lfp``, ``csd``, ``cdm``, ``eeg``, ``meg``) the
contribution of connection X -> Y is the causal linear convolution

    phi_YX[c, n] = sum_{k >= 0} H_YX[c, k] * nu_X[n - k],      n = 0 .. N-1,

where ``nu_X[n]`` is the spike count of population X in bin ``[n dt, (n+1) dt)`` (time
coordinate ``n dt``) and ``H_YX[c, k]`` is the kernel at lag ``k dt`` on channel ``c``. Lag 0 is
aligned exactly: one spike in bin ``n0`` gives ``phi[n0 + k] = H[k]``, the kernel's non-negative-lag
part shifted to ``n0 dt``. Causal kernels (lags ``[-tau, tau]``) contribute their lags >= 0 (their
negative lags are zero by construction; non-zero values there are ignored with a warning); FIR
kernels (lags ``(0, tau]``) have an implicit zero at lag 0. The convolution is done with zero
padding to at least ``N + K - 1`` points (no wrap-around): one real FFT per population count
series, a product with each kernel's FFT, one inverse FFT per output trace (vectorised over
connections and channels). The output has the count's time axis (= the ground truth's).
"""

from __future__ import annotations

import logging
import os
import warnings

import numpy as np

log = logging.getLogger("lfpk.predict")

#: signals predicted when the kernels carry them (variables with a ``lag`` dimension)
SIGNALS = ("lfp", "csd", "cdm", "eeg", "meg")


def _lag_index(lags, dt, where="kernels"):
    """Integer lag steps ``lag / dt``; raises unless every lag sits on the dt grid."""
    k = np.round(np.asarray(lags, dtype=float) / dt)
    if not np.allclose(k * dt, lags, rtol=0, atol=1e-6 * dt):
        raise ValueError(f"{where}: lag coordinate is not on a grid of dt = {dt} ms")
    return k.astype(np.int64)


def kernel_positive_part(kernel, lags, dt, where="kernels"):
    """Kernel values at lags 0, dt, ..., K dt (last axis), zero where the kernel has no lag.

    Parameters
    ----------
    kernel : ndarray (..., n_lags)
    lags : ndarray (n_lags,) ms
    dt : float

    Returns
    -------
    ndarray (..., K + 1)
    """
    kernel = np.asarray(kernel, dtype=float)
    k = _lag_index(lags, dt, where)
    if len(np.unique(k)) != len(k):
        raise ValueError(f"{where}: repeated lags")
    neg = k < 0
    if neg.any():
        m = np.abs(kernel[..., neg]).max() if kernel[..., neg].size else 0.0
        scale = np.abs(kernel).max() if kernel.size else 0.0
        if m > 1e-12 * max(scale, np.finfo(float).tiny):
            warnings.warn(f"{where}: kernel has non-zero values at negative lags (max |H| {m:g}); the "
                          "causal prediction ignores them", stacklevel=3)
    pos = ~neg
    if not pos.any():
        raise ValueError(f"{where}: no lag >= 0")
    out = np.zeros(kernel.shape[:-1] + (int(k[pos].max()) + 1,))
    out[..., k[pos]] = kernel[..., pos]
    return out


def causal_convolve(counts, kernels):
    """Causal convolution by FFT.

    Parameters
    ----------
    counts : ndarray (n_pre, N)
        Spike counts per bin of each presynaptic population.
    kernels : ndarray (n_post, n_pre, n_channels, K + 1)
        Kernels at lags 0..K (steps of dt).

    Returns
    -------
    ndarray (n_post, n_pre, n_channels, N)
        ``out[y, x, c, n] = sum_k kernels[y, x, c, k] * counts[x, n - k]``.
    """
    from scipy import fft

    counts = np.asarray(counts, dtype=float)
    kernels = np.asarray(kernels, dtype=float)
    n = counts.shape[-1]
    nk = kernels.shape[-1]
    nfft = fft.next_fast_len(n + nk - 1, real=True)
    C = fft.rfft(counts, nfft, axis=-1)  # one FFT per count series
    H = fft.rfft(kernels, nfft, axis=-1)
    return fft.irfft(H * C[None, :, None, :], nfft, axis=-1)[..., :n]


def predict(kernels, counts, spike_source=None):
    """Predict every signal the kernels carry from population spike counts.

    Parameters
    ----------
    kernels : xarray.Dataset
        Gathered kernels (``kernels.nc``): variables ``(post, pre, <channel dim>, lag)``,
        attributes ``dt`` (ms) and ``form``.
    counts : xarray.DataArray
        ``(population, time)`` spikes per bin (:func:`lfpk.spikes.population_counts`), bin width
        equal to the kernels' ``dt``; must contain every presynaptic population of the kernels.
    spike_source : str, optional
        Recorded in the attributes.

    Returns
    -------
    xarray.Dataset
        For each signal S: ``S (source, <channel dim>, time)`` with ``source`` = ``total`` and each
        post population (sum over pre), and ``S_contribution (post, pre, <channel dim>, time)``;
        plus ``population_count (population, time)``.
    """
    import xarray as xr

    from lfpk.io import software_versions, to_json

    for dim in ("post", "pre"):
        if dim not in kernels.dims:
            raise ValueError(f"kernels: dimension {dim!r} missing; expected gathered kernels (kernels.nc)")
    if "lag" not in kernels.coords:
        raise ValueError("kernels: coordinate 'lag' (ms) missing")
    dt = float(kernels.attrs.get("dt", np.nan))
    lags = np.asarray(kernels["lag"].values, dtype=float)
    if not np.isfinite(dt):
        if len(lags) < 2:
            raise ValueError("kernels: attribute 'dt' missing and not derivable from 'lag'")
        dt = float(np.median(np.diff(lags)))
    if "time" not in counts.dims or "population" not in counts.dims:
        raise ValueError("counts: expected dims (population, time)")
    time = np.asarray(counts["time"].values, dtype=float)
    if len(time) > 1:
        cdt = float(np.median(np.diff(time)))
        if not np.isclose(cdt, dt, rtol=1e-6, atol=0):
            raise ValueError(f"spike counts have bin width {cdt} ms but the kernels have dt = {dt} ms; bin the "
                             f"spikes at the kernels' dt (--dt {dt})")
        _lag_index(time, dt, "counts: time")
    elif "dt" in counts.attrs and not np.isclose(float(counts.attrs["dt"]), dt, rtol=1e-6):
        raise ValueError(f"spike counts have bin width {counts.attrs['dt']} ms but the kernels have dt = {dt} ms")
    posts = [str(p) for p in kernels["post"].values]
    pres = [str(p) for p in kernels["pre"].values]
    have = [str(p) for p in counts["population"].values]
    missing = [p for p in pres if p not in have]
    if missing:
        raise ValueError(f"spikes have no population(s) {missing} that the kernels need as presynaptic "
                         f"(spike populations: {have})")
    extra = [p for p in have if p not in pres]
    if extra:
        log.warning("spike population(s) %s have no kernels and are ignored", extra)
    nu = counts.sel(population=pres).transpose("population", "time").values.astype(float)

    signals = [s for s in SIGNALS if s in kernels.data_vars and "lag" in kernels[s].dims]
    if not signals:
        raise ValueError(f"kernels: no signal variable with a 'lag' dim among {SIGNALS}")
    sources = ["total", *posts]
    data = {}
    coords = {
        "time": ("time", time, {"units": "ms", "long_name": "time (bin start)"}),
        "post": ("post", posts, {"long_name": "postsynaptic population Y"}),
        "pre": ("pre", pres, {"long_name": "presynaptic population X"}),
        "source": ("source", sources, {"long_name": "total or contributing postsynaptic population"}),
        "population": ("population", pres, {"long_name": "presynaptic population"}),
    }
    for name in signals:
        var = kernels[name]
        chan_dims = [d for d in var.dims if d not in ("post", "pre", "lag")]
        if len(chan_dims) != 1:
            raise ValueError(f"kernels: variable {name!r} has dims {var.dims}; expected (post, pre, <channel>, lag)")
        cdim = chan_dims[0]
        H = var.transpose("post", "pre", cdim, "lag").values
        Hpos = kernel_positive_part(H, lags, dt, f"kernels: {name}")
        contrib = causal_convolve(nu, Hpos)  # (post, pre, chan, time)
        per_post = contrib.sum(axis=1)
        total = per_post.sum(axis=0, keepdims=True)
        units = var.attrs.get("units", "1")
        long_name = str(var.attrs.get("long_name", name)).removeprefix("kernel: ")
        data[name] = (("source", cdim, "time"), np.concatenate([total, per_post], axis=0),
                      {"units": units, "long_name": f"predicted {long_name}"})
        data[f"{name}_contribution"] = (("post", "pre", cdim, "time"), contrib, {
            "units": units, "long_name": f"predicted {long_name}: contribution of connection pre -> post"})
        for cname, c in kernels.coords.items():
            if cname in coords or cname in ("lag", "post", "pre"):
                continue
            if set(c.dims) <= {cdim}:
                coords[cname] = (c.dims, c.values, dict(c.attrs))
    data["population_count"] = (("population", "time"), nu.astype(np.int64), {
        "units": "1", "long_name": "spikes per time bin [time, time + dt) of each presynaptic population"})
    kernel_attrs = {k: v for k, v in kernels.attrs.items()}
    attrs = {
        "title": "signals predicted from population spike counts and spike-to-signal kernels",
        "method": "sum over connections of causal FFT convolutions nu_X * H_YX (Hagen et al. 2022, "
                  "PLOS Comput Biol 18:e1010353); lag 0 of H aligned with the spike's bin",
        "dt": dt,
        "tstop": float(time[-1]) if len(time) else 0.0,
        "kernel_form": str(kernels.attrs.get("form", "unknown")),
        "biophysics": str(kernels.attrs.get("biophysics", "unknown")),
        "g_eff_on": int(kernels.attrs.get("g_eff_on", -1)),
        "kernel_attrs": to_json(kernel_attrs),
        "spike_source": str(spike_source if spike_source is not None else counts.attrs.get("spike_source", "unknown")),
        "signals": ",".join(signals),
        "software_versions": to_json(software_versions()),
    }
    return xr.Dataset(data, coords=coords, attrs=attrs)


def predict_files(spikes, kernels, output, populations=None, tstop=None, dt=None, duplicates="error",
                  kernel_source=None):
    """Stage: read spikes and kernels, predict, write ``output`` atomically.

    Every input is validated before anything is written; on error no file appears.

    Parameters
    ----------
    spikes : path-like
        ``spikes.nc`` or a text/CSV spike file (see :mod:`lfpk.spikes`).
    kernels : path-like
        Gathered ``kernels.nc``.
    output : path-like
        Prediction file (.nc).
    populations : path-like or dict, optional
        Unit->population map (text spike files).
    tstop : float, optional
        Stop time (ms); required for text spikes, overrides the netCDF attribute.
    dt : float, optional
        Bin width (ms); default the kernels' dt (it must equal it).
    duplicates : {'error', 'keep'}

    Returns
    -------
    xarray.Dataset
        The prediction written.
    """
    from lfpk.io import read_dataset, write_dataset
    from lfpk.spikes import read_spikes, population_counts

    kern = read_dataset(kernels, kind="kernels")
    kdt = float(kern.attrs["dt"]) if "dt" in kern.attrs else None
    if dt is None:
        if kdt is None:
            raise ValueError(f"{kernels}: attribute 'dt' missing; give --dt")
        dt = kdt
    elif kdt is not None and not np.isclose(dt, kdt, rtol=1e-6):
        raise ValueError(f"--dt {dt} ms differs from the kernels' dt {kdt} ms ({kernels}); the convolution "
                         "needs the spike bins at the kernels' resolution")
    sp = read_spikes(spikes, populations=populations, tstop=tstop, duplicates=duplicates)
    pres = [str(p) for p in kern["pre"].values]
    missing = [p for p in pres if p not in sp.populations]
    if missing:
        raise ValueError(f"{populations if populations is not None else spikes}: no unit of population(s) "
                         f"{missing} that the kernels ({kernels}) need; populations there: {sp.populations}")
    unknown = [p for p in sp.populations if p not in pres]
    if unknown:
        raise ValueError(f"{populations if populations is not None else spikes}: population(s) {unknown} have "
                         f"no kernels in {kernels} (kernel populations: {pres}); expected only those")
    counts = population_counts(sp, dt)
    ds = predict(kern, counts, spike_source=str(spikes))
    ds.attrs["kernel_source"] = str(kernel_source or kernels)
    ds.attrs["spike_format"] = sp.attrs.get("spike_format", "")
    ds.attrs["spike_input_sorted"] = sp.attrs.get("input_sorted", -1)
    ds.attrs["spike_duplicates"] = duplicates
    ds.attrs["n_spikes"] = sp.n_spikes
    if populations is not None and not isinstance(populations, dict):
        ds.attrs["population_map"] = str(populations)
    write_dataset(ds, output, inputs=[p for p in (spikes, kernels, populations) if isinstance(p, (str, os.PathLike))])
    log.info("prediction: %s (%d spikes, %d bins, signals %s)", output, sp.n_spikes, ds.sizes["time"],
             ds.attrs["signals"])
    return ds
