"""Prediction versus ground truth: R^2, r_STD, power spectra and coherence after the transient.

Both files must describe the same recording: the same time step, the same time axis after the
transient, the same populations (sources), the same channels and channel depths, and, where both
files record them, the same probe settings of the compared signals (a config's ``probes``: the
ground truth's ``probes`` attribute, the kernels' parameters of a prediction). Otherwise
:func:`compare` refuses with one line naming what differs (unrelated files, e.g. a
three-population ground truth and a two-population prediction, used to give a comparison).

Definitions (per channel, per signal, per source, on samples with ``time >= transient``):

* ``R^2`` = squared Pearson correlation coefficient of prediction and ground truth;
* ``r_STD`` = std(prediction) / std(ground truth) (population std, ddof = 0);
* band ``raw``: the signals as they are; band ``lowpass``: both the prediction **and** the ground
  truth low-passed by the same zero-phase filter -- the study's elliptic low-pass
  (``scipy.signal.ellip``, order 2, 0.1 dB pass-band ripple, 40 dB stop-band attenuation, edge
  100 Hz, as second-order sections) applied forward and backward with ``scipy.signal.sosfiltfilt``
  (default odd padding) to the post-transient segment (the transient is cut first, so the onset
  does not leak in; the study filters the whole run, then cuts);
* ``psd_*``: Welch estimate (``scipy.signal.welch``, Hann window, ``nperseg`` = the
  ``psd_segment`` in ms (default 128 ms: the study's NFFT 2048 at 16 kHz) in samples, capped at
  the number of samples, 75 % overlap (the study's 1536 of 2048), linear detrending off, one-sided
  density, units signal^2/Hz);
* ``coherence``: magnitude-squared coherence (``scipy.signal.coherence``, same segments) of
  ground truth and prediction;
* constant traces (std 0) give NaN.

Signals: ``lfp``, ``csd``, ``cdm_z`` (the z component of ``cdm``), and ``eeg`` / ``meg`` when both
files carry them. Sources: ``total`` and every population present in both files (the ground
truth's per-population signal versus the prediction's sum over presynaptic populations for the
same postsynaptic population).

Layout of the comparison file: the signals have different channel dims, so they are stacked on a
common ``channel`` index (0 .. max channels - 1) with a ``signal`` coordinate, NaN-padded where a
signal has fewer channels (``n_channels (signal)`` says how many are valid, ``channel_z (signal,
channel)`` gives contact depths where known). ``approximation`` has one entry (the kernel variant
of the prediction, e.g. ``frozen+g_eff``) so that files of several variants concatenate along it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy import signal

from lfpk.base.files import atomic_paths, check_output
from lfpk.base.io import check_dataset, dataset_to_netcdf, read_dataset, software_versions, to_json

log = logging.getLogger("lfpk.compare")

BANDS = ("raw", "lowpass")
#: low-pass filter of the study (Hagen et al. 2022, Figure04-07 notebook): elliptic, order 2,
#: rp 0.1 dB, rs 40 dB, 100 Hz, zero-phase (sosfiltfilt)
LOWPASS = {"cutoff": 100.0, "order": 2, "rp": 0.1, "rs": 40.0}
#: Welch segment length (ms): the study's NFFT = 2048 samples at dt = 2^-4 ms
PSD_SEGMENT = 128.0
#: Welch overlap as a fraction of the segment: the study's noverlap = 1536 of 2048
PSD_OVERLAP = 0.75
#: Shortest Welch segment (samples): below it the spectral estimate has almost no frequencies
MIN_PSD_SAMPLES = 8
SIGNALS = ("lfp", "csd", "cdm", "eeg", "meg")


# ---------------------------------------------------------------------------------------------
# Metrics on arrays (last axis = time)
# ---------------------------------------------------------------------------------------------


def lowpass_sos(fs, cutoff=LOWPASS["cutoff"], order=LOWPASS["order"], rp=LOWPASS["rp"], rs=LOWPASS["rs"]):
    """Second-order sections of the elliptic low-pass (``fs`` and ``cutoff`` in Hz)."""
    if not 0 < cutoff < fs / 2:
        raise ValueError(f"low-pass cutoff {cutoff} Hz must lie between 0 and the Nyquist frequency {fs / 2} Hz")
    return signal.ellip(order, rp, rs, cutoff, btype="lowpass", fs=fs, output="sos")


def lowpass(x, fs, **kw):
    """Zero-phase elliptic low-pass of ``x`` along its last axis (see :data:`LOWPASS`)."""
    return signal.sosfiltfilt(lowpass_sos(fs, **kw), np.asarray(x, dtype=float), axis=-1)


def r2(prediction, ground_truth):
    """Squared Pearson correlation along the last axis (NaN for a constant trace)."""
    p = np.asarray(prediction, dtype=float)
    g = np.asarray(ground_truth, dtype=float)
    p = p - p.mean(axis=-1, keepdims=True)
    g = g - g.mean(axis=-1, keepdims=True)
    num = (p * g).sum(axis=-1) ** 2
    den = (p * p).sum(axis=-1) * (g * g).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def r_std(prediction, ground_truth):
    """std(prediction) / std(ground truth) along the last axis (NaN when the truth is constant)."""
    sp = np.asarray(prediction, dtype=float).std(axis=-1)
    sg = np.asarray(ground_truth, dtype=float).std(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sg > 0, sp / np.where(sg > 0, sg, 1.0), np.nan)


def band_metrics(prediction, ground_truth, fs, **lowpass_kw):
    """R^2 and r_STD in each band.

    Returns
    -------
    dict
        band -> (r2, r_std), arrays over the leading axes. ``lowpass`` compares the low-passed
        prediction with the low-passed ground truth.
    """
    out = {"raw": (r2(prediction, ground_truth), r_std(prediction, ground_truth))}
    lp_p = lowpass(prediction, fs, **lowpass_kw)
    lp_g = lowpass(ground_truth, fs, **lowpass_kw)
    out["lowpass"] = (r2(lp_p, lp_g), r_std(lp_p, lp_g))
    return out


def welch_overlap(nperseg):
    """Overlapping samples of consecutive Welch segments (:data:`PSD_OVERLAP` of ``nperseg``)."""
    return int(round(PSD_OVERLAP * int(nperseg)))


def spectra(prediction, ground_truth, fs, nperseg):
    """Welch PSDs of ground truth and prediction and their coherence (last axis = time).

    Returns
    -------
    frequency, psd_ground_truth, psd_prediction, coherence
    """
    kw = {"fs": fs, "nperseg": nperseg, "noverlap": welch_overlap(nperseg), "window": "hann", "detrend": False,
          "axis": -1}
    f, pg = signal.welch(ground_truth, scaling="density", **kw)
    _, pp = signal.welch(prediction, scaling="density", **kw)
    with np.errstate(invalid="ignore", divide="ignore"):  # a silent trace: NaN coherence
        _, coh = signal.coherence(ground_truth, prediction, **kw)
    return f, pg, pp, coh


# ---------------------------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------------------------


def _time_steps(ds, what):
    t = np.asarray(ds["time"].values, dtype=float)
    if len(t) < 2:
        raise ValueError(f"{what}: needs at least two time points")
    dt = float(np.median(np.diff(t)))
    try:
        return dt, grid_steps(t, dt, what)
    except ValueError:
        raise ValueError(f"{what}: time axis is not uniform") from None


def grid_steps(t, dt, what):
    """Indices k of times ``t`` (ms) on the grid k * dt (ms); ValueError naming ``what`` if off it."""
    k = np.round(np.asarray(t, dtype=float) / dt)
    if not np.allclose(k * dt, t, rtol=0, atol=1e-6 * dt):
        raise ValueError(f"{what}: time axis is not on a grid of dt = {dt} ms")
    return k.astype(np.int64)


def analysed_samples(k_ground_truth, k_other, dt, transient, between):
    """The samples every comparison analyses: time steps both series share at or after the transient.

    Parameters
    ----------
    k_ground_truth, k_other : numpy.ndarray of int
        Increasing time-step indices (time = k * dt) of the ground truth and of the other series.
    dt : float
        Time step (ms).
    transient : float
        Samples before it (ms) are discarded.
    between : str
        The two series, for the error message (e.g. ``"signals.nc and prediction.nc"``).

    Returns
    -------
    ig, io : numpy.ndarray of int
        Positions of the shared steps in each series (at least 16 of them).
    """
    common = np.intersect1d(k_ground_truth, k_other)
    common = common[common * dt >= transient - 1e-6 * dt]
    if len(common) < 16:
        raise ValueError(f"only {len(common)} shared time points after the transient ({transient} ms) {between}; "
                         "expected at least 16")
    if np.any(np.diff(k_ground_truth) <= 0) or np.any(np.diff(k_other) <= 0):
        raise ValueError("time axes must be increasing")
    return np.searchsorted(k_ground_truth, common), np.searchsorted(k_other, common)


def _channel_dim(var, name, what):
    dims = [d for d in var.dims if d not in ("source", "time")]
    if len(dims) != 1 or "source" not in var.dims or "time" not in var.dims:
        raise ValueError(f"{what}: variable {name!r} has dims {var.dims}; expected (source, <channel>, time)")
    return dims[0]


def approximation_label(prediction):
    """Kernel variant of a prediction, e.g. ``frozen+g_eff`` (from its attributes)."""
    bio = str(prediction.attrs.get("biophysics", "unknown"))
    g = int(prediction.attrs.get("g_eff_on", -1))
    return bio + ("+g_eff" if g == 1 else "" if g == 0 else "")


@dataclass
class Window:
    """The analysed samples of a comparison (:func:`analysis_window`).

    Attributes
    ----------
    dt : float
        Time step (ms).
    transient : float
        Samples before it (ms) are discarded.
    k_ground_truth : numpy.ndarray of int
        Time steps (time = k dt) of the ground truth.
    ig, ip : numpy.ndarray of int
        Positions of the analysed samples in the ground truth and in the prediction.
    nperseg : int
        Welch segment (samples).
    """

    dt: float
    transient: float
    k_ground_truth: np.ndarray
    ig: np.ndarray
    ip: np.ndarray
    nperseg: int

    @property
    def fs(self) -> float:
        """Sampling rate (Hz)."""
        return 1000.0 / self.dt

    @property
    def n(self) -> int:
        """Analysed samples."""
        return len(self.ig)


def analysis_window(ground_truth, prediction, transient, psd_segment, gt_name, pred_name) -> Window:
    """Equal time steps of both datasets, the transient (ms; default the ground truth's attribute,
    else 0), the same time steps after it (refused otherwise: unrelated runs), the analysed
    samples (:func:`analysed_samples`) and the Welch segment (``psd_segment`` ms in samples,
    capped at the data length)."""
    dt_g, k_g = _time_steps(ground_truth, gt_name)
    dt_p, k_p = _time_steps(prediction, pred_name)
    if not np.isclose(dt_g, dt_p, rtol=1e-6):
        raise ValueError(f"time step differs: {gt_name} {dt_g} ms, {pred_name} {dt_p} ms; expected equal")
    dt = dt_g
    if transient is None:
        transient = float(ground_truth.attrs.get("transient", 0.0))
    transient = float(transient)
    if not (np.isfinite(transient) and transient >= 0):
        raise ValueError(f"transient: must be a non-negative number of ms, got {transient}")
    after_g, after_p = (k[k * dt >= transient - 1e-6 * dt] for k in (k_g, k_p))
    if len(after_g) and len(after_p) and not np.array_equal(after_g, after_p):
        raise ValueError(f"time ranges differ after the transient ({transient:g} ms): {gt_name} "
                         f"{after_g[0] * dt:g}-{after_g[-1] * dt:g} ms, {pred_name} {after_p[0] * dt:g}-"
                         f"{after_p[-1] * dt:g} ms; expected the same time axis (a prediction of the ground "
                         "truth's spikes)")
    ig, ip = analysed_samples(k_g, k_p, dt, transient, f"between {gt_name} and {pred_name}")
    seg = _check_psd_segment(psd_segment)
    if round(seg / dt) < MIN_PSD_SAMPLES:
        raise ValueError(f"psd_segment (--psd-segment): {seg:g} ms is shorter than {MIN_PSD_SAMPLES} samples "
                         f"({MIN_PSD_SAMPLES * dt:g} ms at dt = {dt:g} ms); expected a longer Welch segment")
    return Window(dt, transient, k_g, ig, ip, int(min(len(ig), round(seg / dt))))


def compared_signals(ground_truth, prediction, gt_name, pred_name):
    """Signals (of :data:`SIGNALS`) both datasets carry, and their sources (``total`` first as in
    the ground truth); a missing ``lfp``/``csd``/``cdm`` of the ground truth is logged. Different
    populations, or different probe settings (:func:`probe_differences`), are refused."""
    names = []
    for s in SIGNALS:
        if s in ground_truth.data_vars and s in prediction.data_vars:
            names.append(s)
        elif s in ("lfp", "csd", "cdm") and s in prediction.data_vars:
            log.warning("%s lacks %r: not compared", gt_name, s)
    if not names:
        raise ValueError(f"no signal among {SIGNALS} in both {gt_name} and {pred_name}")
    gsrc = [str(s) for s in ground_truth["source"].values]
    psrc = [str(s) for s in prediction["source"].values]
    sources = [s for s in gsrc if s in psrc]
    if "total" not in sources:
        raise ValueError(f"source 'total' missing in {gt_name} or {pred_name}")
    gpop, ppop = ([s for s in src if s != "total"] for src in (gsrc, psrc))
    if sorted(gpop) != sorted(ppop):
        raise ValueError(f"populations differ: {gt_name} has {', '.join(gpop)}, {pred_name} has {', '.join(ppop)}; "
                         "expected a prediction of the ground truth's network (its total sums the same populations)")
    probe_differences(ground_truth, prediction, names, gt_name, pred_name)
    return names, sources


#: Keys of the probe settings (``probes`` of a config) each compared signal depends on.
PROBE_KEYS = {"lfp": ("channel_z", "sigma", "lfp"), "csd": ("channel_z", "csd"), "cdm": (),
              "eeg": ("eeg",), "meg": ("meg",)}


def probe_settings_of(ds):
    """The probe settings (a config's ``probes``) a signals file was made with, or None: the
    ``probes`` attribute of a network's or hybrid run's ``signals.nc``, else the probes of the
    kernels' parameters of a prediction (``kernel_attrs``)."""
    try:
        if "probes" in ds.attrs:
            return json.loads(ds.attrs["probes"])
        params = json.loads(ds.attrs["kernel_attrs"]).get("parameters")
        params = json.loads(params) if isinstance(params, str) else params
        return params.get("probes") if isinstance(params, dict) else None
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def probe_differences(ground_truth, prediction, names, gt_name, pred_name):
    """Refuse a comparison of signals recorded by different probes: the probe settings (of
    :func:`probe_settings_of`) the compared signals ``names`` depend on (:data:`PROBE_KEYS`),
    where both files record them. Raises ``ValueError`` naming the first differing key."""
    pg, pp = probe_settings_of(ground_truth), probe_settings_of(prediction)
    if not (isinstance(pg, dict) and isinstance(pp, dict)):
        return
    keys = []
    for name in names:
        keys += [k for k in PROBE_KEYS.get(name, ()) if k not in keys]
    for key in keys:
        if key in pg and key in pp and to_json(pg[key]) != to_json(pp[key]):
            raise ValueError(f"probes differ: probes.{key} is {to_json(pg[key])} in {gt_name} but {to_json(pp[key])} "
                             f"in {pred_name}; expected signals of the same probes (kernels computed for the ground "
                             "truth's probes)")


def signal_traces(ground_truth, prediction, s, sources, window, gt_name, pred_name):
    """The analysed samples of signal ``s`` in both datasets.

    Returns
    -------
    label : str
        ``s``, or ``cdm_z`` for the z component of ``cdm``.
    traces : tuple
        ``(ground truth (source, channel, time), prediction (source, channel, time), channel
        depths (um) or None, units)``.
    """
    g, p = ground_truth[s], prediction[s]
    cg, cp = _channel_dim(g, s, gt_name), _channel_dim(p, s, pred_name)
    if cg != cp:
        raise ValueError(f"{s}: channel dim {cg!r} in {gt_name} but {cp!r} in {pred_name}")
    if s == "cdm":
        for ds_, nm in ((g, gt_name), (p, pred_name)):
            if cg not in ds_.coords or "z" not in [str(c) for c in ds_[cg].values]:
                raise ValueError(f"{nm}: 'cdm' has no component 'z'")
        g, p = g.sel({cg: ["z"]}), p.sel({cg: ["z"]})
        label = "cdm_z"
    else:
        label = s
        if g.sizes[cg] != p.sizes[cp]:
            raise ValueError(f"{s}: {g.sizes[cg]} channels in {gt_name} but {p.sizes[cp]} in {pred_name}")
    z = None
    for zc in ("channel_z",):
        if zc in g.coords and zc in p.coords and g[zc].dims == (cg,):
            zg, zp = np.asarray(g[zc].values, float), np.asarray(p[zc].values, float)
            if not np.allclose(zg, zp, rtol=0, atol=1e-6):
                raise ValueError(f"{s}: channel depths differ between {gt_name} ({zg}) and {pred_name} ({zp})")
            z = zg
    gv = g.sel(source=sources).transpose("source", cg, "time").values[..., window.ig].astype(float)
    pv = p.sel(source=sources).transpose("source", cg, "time").values[..., window.ip].astype(float)
    return label, (gv, pv, z, str(g.attrs.get("units", p.attrs.get("units", "1"))))


def metric_arrays(traces, n_sources, window, lp):
    """R^2, r_STD, spectra and coherence of every signal, stacked on a common channel index
    (NaN-padded to the most channels).

    Returns
    -------
    dict
        ``r2``, ``r_std`` (source, signal, channel, 1, band); ``psd_ground_truth`` (source,
        signal, channel, frequency); ``psd_prediction``, ``coherence`` (source, signal, channel,
        1, frequency); ``frequency`` (Hz); ``channel_z`` (signal, channel) in um.
    """
    labels = list(traces)
    nch = max(v[0].shape[1] for v in traces.values())
    shape = (n_sources, len(labels), nch, 1, len(BANDS))
    R2 = np.full(shape, np.nan)
    RS = np.full(shape, np.nan)
    freq = None
    for j, lab in enumerate(labels):
        gv, pv, _, _ = traces[lab]
        m = band_metrics(pv, gv, window.fs, **lp)
        c = gv.shape[1]
        for b, band in enumerate(BANDS):
            R2[:, j, :c, 0, b], RS[:, j, :c, 0, b] = m[band]
        f, pg, pp, coh = spectra(pv, gv, window.fs, window.nperseg)
        if freq is None:
            freq = f
            PG = np.full((n_sources, len(labels), nch, len(f)), np.nan)
            PP = np.full((n_sources, len(labels), nch, 1, len(f)), np.nan)
            CO = np.full((n_sources, len(labels), nch, 1, len(f)), np.nan)
        PG[:, j, :c], PP[:, j, :c, 0], CO[:, j, :c, 0] = pg, pp, coh
    chz = np.full((len(labels), nch), np.nan)
    for j, lab in enumerate(labels):
        if traces[lab][2] is not None:
            chz[j, : len(traces[lab][2])] = traces[lab][2]
    return {"r2": R2, "r_std": RS, "psd_ground_truth": PG, "psd_prediction": PP, "coherence": CO,
            "frequency": freq, "channel_z": chz}


def lowpass_text(lp):
    """Description of the low-pass ``lp`` (:data:`LOWPASS` keys) for the attributes."""
    return (f"elliptic low-pass (scipy.signal.ellip order {lp['order']}, rp {lp['rp']} dB, rs {lp['rs']} dB, "
            f"edge {lp['cutoff']} Hz), zero-phase (sosfiltfilt), applied to prediction and ground truth")


def comparison_dataset(arrays, traces, sources, approx, window, lp):
    """The comparison as an xarray Dataset (layout in the module docstring) from
    :func:`metric_arrays`, the traces of :func:`signal_traces`, the sources, the approximation
    label, the :class:`Window` and the low-pass parameters."""
    labels = list(traces)
    nch = arrays["channel_z"].shape[1]
    units = {lab: traces[lab][3] for lab in labels}
    dims5 = ("source", "signal", "channel", "approximation", "band")
    lp_text = lowpass_text(lp)
    dt, nperseg, k_g = window.dt, window.nperseg, window.k_ground_truth
    return xr.Dataset(
        {
            "r2": (dims5, arrays["r2"], {"units": "1", "long_name": "squared Pearson correlation of prediction and ground truth"}),
            "r_std": (dims5, arrays["r_std"], {"units": "1", "long_name": "std of prediction / std of ground truth"}),
            "psd_ground_truth": (("source", "signal", "channel", "frequency"), arrays["psd_ground_truth"], {
                "units": "(signal units)^2/Hz, see psd_units", "long_name": "Welch power spectral density of the ground truth"}),
            "psd_prediction": (("source", "signal", "channel", "approximation", "frequency"), arrays["psd_prediction"], {
                "units": "(signal units)^2/Hz, see psd_units", "long_name": "Welch power spectral density of the prediction"}),
            "coherence": (("source", "signal", "channel", "approximation", "frequency"), arrays["coherence"], {
                "units": "1", "long_name": "magnitude-squared coherence of ground truth and prediction"}),
            "n_channels": ("signal", np.array([traces[lab][0].shape[1] for lab in labels]), {
                "units": "1", "long_name": "number of valid channels of the signal (the rest is NaN padding)"}),
        },
        coords={
            "source": ("source", sources, {"long_name": "total signal or postsynaptic population contribution"}),
            "signal": ("signal", labels, {"long_name": "signal (cdm_z: z component of the current dipole moment)"}),
            "signal_units": ("signal", [units[lab] for lab in labels], {"long_name": "units of each signal"}),
            "psd_units": ("signal", [f"({units[lab]})^2/Hz" for lab in labels], {"long_name": "units of the PSDs of each signal"}),
            "channel": ("channel", np.arange(nch), {"long_name": "channel index within the signal"}),
            "channel_z": (("signal", "channel"), arrays["channel_z"], {"units": "um", "long_name": "contact depth (NaN: not a depth channel)"}),
            "approximation": ("approximation", [approx], {"long_name": "kernel variant of the prediction"}),
            "band": ("band", list(BANDS), {"long_name": f"raw signal, or lowpass: {lp_text}"}),
            "frequency": ("frequency", arrays["frequency"], {"units": "Hz", "long_name": "frequency"}),
        },
        attrs={
            "title": "kernel prediction versus ground truth",
            "transient": window.transient,
            "transient_units": "ms",
            "t_start": float(k_g[window.ig[0]] * dt),
            "t_stop": float(k_g[window.ig[-1]] * dt),
            "n_samples": int(window.n),
            "dt": dt,
            "lowpass": lp_text,
            "lowpass_parameters": to_json(lp),
            "welch": f"scipy.signal.welch/coherence, hann window, nperseg {nperseg} samples ({nperseg * dt} ms), "
                     f"noverlap {welch_overlap(nperseg)}, detrend off, density scaling",
            "nperseg": nperseg,
            "r2_definition": "squared Pearson correlation coefficient over the samples after the transient",
            "r_std_definition": "std(prediction) / std(ground truth), ddof 0",
            "software_versions": to_json(software_versions()),
        },
    )


def compare(ground_truth, prediction, transient=None, approximation=None, psd_segment=PSD_SEGMENT,
            lowpass_kw=None, gt_name="ground truth", pred_name="prediction"):
    """Compare a prediction with the ground truth.

    Parameters
    ----------
    ground_truth : xarray.Dataset
        ``signals.nc`` layout: ``lfp``/``csd`` ``(source, channel, time)``, ``cdm (source,
        component, time)``, optional ``eeg``/``meg``; ``time`` in ms.
    prediction : xarray.Dataset
        :func:`lfpk.engines.prediction.predict.predict` output.
    transient : float, optional
        Samples with ``time < transient`` (ms) are discarded; default the ground truth's
        ``transient`` attribute, else 0.
    approximation : str, optional
        Label of the prediction's kernel variant (default from its attributes).
    psd_segment : float
        Welch segment length (ms).
    lowpass_kw : dict, optional
        Overrides of :data:`LOWPASS` (``cutoff`` Hz, ``order``, ``rp``, ``rs`` dB).

    Returns
    -------
    xarray.Dataset
        ``r2``, ``r_std (source, signal, channel, approximation, band)``; ``psd_ground_truth
        (source, signal, channel, frequency)``; ``psd_prediction``, ``coherence (source, signal,
        channel, approximation, frequency)``; ``n_channels (signal)``.
    """
    lp = {**LOWPASS, **(lowpass_kw or {})}
    window = analysis_window(ground_truth, prediction, transient, psd_segment, gt_name, pred_name)
    names, sources = compared_signals(ground_truth, prediction, gt_name, pred_name)
    traces = dict(signal_traces(ground_truth, prediction, s, sources, window, gt_name, pred_name) for s in names)
    arrays = metric_arrays(traces, len(sources), window, lp)
    approx = approximation if approximation is not None else approximation_label(prediction)
    return comparison_dataset(arrays, traces, sources, approx, window, lp)


def summary_table(comparison):
    """One row per signal x source x approximation x band: channel medians and 10/90 % quantiles.

    Returns
    -------
    pandas.DataFrame
        Columns ``signal, source, approximation, band, n_channels, n_finite, r2_median, r2_q10,
        r2_q90, r_std_median, r_std_q10, r_std_q90``; ``n_finite`` counts the channels with a
        finite R^2 (a channel where a trace is constant, e.g. a population's CSD far from its cells,
        gives NaN and is left out of the quantiles).
    """
    rows = []
    nch = dict(zip([str(s) for s in comparison["signal"].values], comparison["n_channels"].values))
    for sig in comparison["signal"].values:
        c = int(nch[str(sig)])
        for src in comparison["source"].values:
            for ap in comparison["approximation"].values:
                for band in comparison["band"].values:
                    sel = dict(signal=sig, source=src, approximation=ap, band=band)
                    row = {"signal": str(sig), "source": str(src), "approximation": str(ap), "band": str(band),
                           "n_channels": c,
                           "n_finite": int(np.isfinite(comparison["r2"].sel(sel).values[:c]).sum())}
                    for var in ("r2", "r_std"):
                        v = comparison[var].sel(sel).values[:c]
                        v = v[np.isfinite(v)]
                        if len(v):
                            q10, med, q90 = np.quantile(v, [0.1, 0.5, 0.9])
                        else:
                            q10 = med = q90 = np.nan
                        row.update({f"{var}_median": med, f"{var}_q10": q10, f"{var}_q90": q90})
                    rows.append(row)
    return pd.DataFrame(rows)


def compare_files(ground_truth, prediction, output, summary=None, transient=None, approximation=None,
                  psd_segment=PSD_SEGMENT):
    """Stage: compare ``prediction`` (.nc) with ``ground_truth`` (signals.nc); write the comparison
    (.nc) and, if given, the summary table (.csv): both or neither (written to temporary files and
    renamed together, see :func:`lfpk.base.files.atomic_paths`).

    Returns
    -------
    (xarray.Dataset, pandas.DataFrame)
    """
    inputs = (ground_truth, prediction)
    outputs = [output] + ([summary] if summary is not None else [])
    for out in outputs:  # before minutes of work: the outputs can be written
        check_output(out, inputs=inputs)
    _check_psd_segment(psd_segment)
    gt = read_dataset(ground_truth, kind="signals")
    pr = read_dataset(prediction, kind="prediction")
    ds = compare(gt, pr, transient=transient, approximation=approximation, psd_segment=psd_segment,
                 gt_name=str(ground_truth), pred_name=str(prediction))
    ds.attrs["ground_truth"] = str(ground_truth)
    ds.attrs["prediction"] = str(prediction)
    table = summary_table(ds)
    check_dataset(ds, output)
    with atomic_paths(outputs, inputs=inputs) as tmps:
        dataset_to_netcdf(ds, tmps[0])
        if summary is not None:
            table.to_csv(tmps[1], index=False, float_format="%.6g")
    log.info("comparison: %s%s", output, f", summary {summary}" if summary else "")
    return ds, table


def _check_psd_segment(psd_segment):
    """The Welch segment length must be a positive, finite number of ms."""
    try:
        value = float(psd_segment)
    except (TypeError, ValueError):
        value = np.nan
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"psd_segment (--psd-segment): Welch segment length must be a positive, finite "
                         f"number of ms, got {psd_segment!r}")
    return value


def format_table(table, signals=None):
    """Plain-text rendering of :func:`summary_table` (for printing at the end of a run)."""
    t = table if signals is None else table[table["signal"].isin(signals)]
    return t.to_string(index=False, float_format=lambda v: f"{v:.3f}")
