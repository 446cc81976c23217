"""Signals predicted from spikes and kernels: phi = sum_X sum_Y nu_X * H_YX, at any length.

For every signal the kernels carry (``lfp``, ``csd``, ``cdm``, ``eeg``, ``meg``, or any other probe's
variable with the dims ``post, pre, <channel>, lag``, e.g. ``pointsourcepotential``: its units and
attributes are carried over, :func:`lfpk.engines.prediction.streaming.signal_variables`) the contribution of
connection X -> Y is the causal linear convolution

    phi_YX[c, n] = sum_{k >= 0} H_YX[c, k] * nu_X[n - k],      n = 0 .. N-1,

where ``nu_X[n]`` is the spike count of population X in bin ``[n dt, (n+1) dt)`` (time ``n dt``) and
``H_YX[c, k]`` the kernel at lag ``k dt`` on channel ``c``. Lag 0 is aligned exactly: one spike in
bin ``n0`` gives ``phi[n0 + k] = H[k]``. Causal kernels (lags ``[-tau, tau]``) contribute their lags
>= 0 (negative lags are zero by construction; non-zero values there are ignored with a warning); FIR
kernels (lags ``(0, tau]``) have an implicit zero at lag 0.

Everything streams (:mod:`lfpk.engines.prediction.streaming`): spikes are read and binned chunk by chunk
(:func:`lfpk.engines.spikes.count_recording`), the convolution runs by overlap-save blocks, and each block is
written to the netCDF file (:mod:`lfpk.engines.prediction.file`), so memory is bounded by the block, not
the recording. Options: a subset of signals, per-connection contributions on or off, float32
storage, decimation after an anti-alias filter, zlib compression.

* :func:`predict` -- counts (xarray) -> prediction (xarray), in memory;
* :func:`predict_files` -- spike files + kernels -> prediction file (the ``lfpk predict`` stage),
  with the checks and the per-population report of :mod:`lfpk.engines.spikes.counting` and a warning when
  the kernels' g_eff rates differ from the rates measured after the transient the spike files
  state (:func:`analysed_window`: the window the ground truth's own rates come from). The kernels are a dataset, a
  ``kernels.nc`` path or a :class:`KernelFactory` (kernels computed at the measured rates; the
  ``kernel_config=`` convenience that builds one from a configuration is
  :func:`lfpk.api.prediction.predict_files`);
* :func:`causal_convolve` -- the whole-recording FFT convolution (reference; the sensitivity scan).
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from dataclasses import dataclass, field
from typing import Callable

import netCDF4
import numpy as np
from scipy import fft

from lfpk.base.files import atomic_path, register_input
from lfpk.base.io import read_dataset
from lfpk.engines.prediction.file import PredictionWriter, check_output_name, outputs_to_dataset, prediction_attrs
from lfpk.engines.prediction.progress import Progress
from lfpk.engines.prediction.streaming import (
    SIGNALS,
    KernelBank,
    StreamingPredictor,
    kernel_positive_part,
    lag_index,
    n_output_samples,
)
from lfpk.engines.spikes import SpikeData, SpikeRecording, SpikeWarning, count_recording, population_counts
from lfpk.engines.spikes.checks import check_silent
from lfpk.engines.spikes.errors import SpikeInputError
from lfpk.engines.spikes.formats import is_format_file, read_any
from lfpk.engines.spikes.memory import MemoryRecording
from lfpk.engines.spikes.readers import CHUNK_ROWS
from lfpk.engines.spikes.recording import SpikeChunk
from lfpk.model.times import check_times

log = logging.getLogger("lfpk.predict")

__all__ = ["SIGNALS", "predict", "predict_files", "causal_convolve", "kernel_positive_part", "PredictionResult",
           "KernelFactory", "RATE_TOLERANCE", "kernel_rates", "compare_rates", "spikes_transient", "analysed_window",
           "measured_rates", "prediction_attrs", "outputs_to_dataset"]

#: relative difference of measured and kernel (g_eff) rates above which predict_files warns
RATE_TOLERANCE = 0.10
_lag_index = lag_index  # former private name


def causal_convolve(counts, kernels):
    """Causal convolution of whole recordings by one zero-padded FFT.

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
    counts = np.asarray(counts, dtype=float)
    kernels = np.asarray(kernels, dtype=float)
    n = counts.shape[-1]
    nk = kernels.shape[-1]
    nfft = fft.next_fast_len(n + nk - 1, real=True)
    C = fft.rfft(counts, nfft, axis=-1)
    H = fft.rfft(kernels, nfft, axis=-1)
    return fft.irfft(H * C[None, :, None, :], nfft, axis=-1)[..., :n]


# ---------------------------------------------------------------------------------------------
# In memory
# ---------------------------------------------------------------------------------------------


def spikes_from_t0(spikes, t0):
    """A :class:`SpikeData` with times from ``t0`` (ms) and stop time ``tstop - t0`` (the time rule
    applied to it, :func:`check_time_axis`, at the caller's ``dt``); a spike before ``t0`` refused."""
    if spikes.tstop is None:
        raise ValueError(f"{spikes.source}: give the stop time tstop (ms) to define the time axis from t0")
    early = spikes.times < t0
    if early.any():
        i = int(np.flatnonzero(early)[0])
        raise SpikeInputError(before_t0_text(f"{spikes.source}, index {i}", float(spikes.times[i]), t0))
    return SpikeData(times=spikes.times - t0, units=spikes.units, unit_population=spikes.unit_population,
                     populations=spikes.populations, tstop=spikes.tstop - t0, dt=spikes.dt, source=spikes.source,
                     attrs=dict(spikes.attrs), population_index=spikes.population_index,
                     duplicates=spikes.duplicates, checked=True)


def _bank_and_counts(kernels, counts, signals, allow_silent=False, t0=0.0):
    bank = KernelBank(kernels, signals)
    dt = bank.dt
    if isinstance(counts, SpikeData):
        if counts.tstop is not None:
            check_time_axis(dt, counts.tstop, t0)
        counts = population_counts(spikes_from_t0(counts, t0) if t0 else counts, dt)
        if t0:
            counts = counts.assign_coords(time=("time", t0 + counts["time"].values, dict(counts["time"].attrs)))
    if not hasattr(counts, "dims") or "time" not in counts.dims or "population" not in counts.dims:
        raise ValueError("counts: expected dims (population, time) (lfpk.population_counts) or a SpikeData")
    values = np.asarray(counts.values)
    if values.dtype.kind not in "iub" and not (values.dtype.kind == "f" and np.isfinite(values).all()
                                               and (values == np.round(values)).all()):
        raise ValueError("counts: expected whole numbers of spikes per bin (lfpk.population_counts)")
    if (values < 0).any():
        raise ValueError("counts: negative spike counts; expected spikes per bin >= 0")
    time = np.asarray(counts["time"].values, dtype=float)
    if len(time) > 1:
        cdt = float(np.median(np.diff(time)))
        if not np.isclose(cdt, dt, rtol=1e-6, atol=0):
            raise ValueError(f"spike counts have bin width {cdt} ms but the kernels have dt = {dt} ms; bin the "
                             f"spikes at the kernels' dt (--dt {dt})")
        lag_index(time - time[0], dt, "counts: time")
        if not np.isclose(time[0], t0, rtol=0, atol=1e-6 * dt):
            raise ValueError(f"counts: the time axis starts at {float(time[0]):g} ms but t0 = {t0:g} ms; expected the "
                             "counts from t0 (give t0= the first bin's time, or counts from t0)")
    elif "dt" in counts.attrs and not np.isclose(float(counts.attrs["dt"]), dt, rtol=1e-6):
        raise ValueError(f"spike counts have bin width {counts.attrs['dt']} ms but the kernels have dt = {dt} ms")
    have = [str(p) for p in counts["population"].values]
    missing = [p for p in bank.pres if p not in have]
    if missing:
        raise ValueError(f"spikes have no population(s) {missing} that the kernels need as presynaptic "
                         f"(spike populations: {have})")
    extra = [p for p in have if p not in bank.pres]
    if extra:
        log.warning("spike population(s) %s have no kernels and are ignored", extra)
    nu = counts.sel(population=bank.pres).transpose("population", "time").values
    check_silent({p: int(row.sum()) for p, row in zip(bank.pres, nu)}, bank.pres, allow_silent,
                 counts.attrs.get("spike_source", "the spike counts"), "allow_silent", stacklevel=4)
    return bank, counts, nu


def predict(kernels, counts, spike_source=None, signals=None, contributions=True, decimate=1, dtype="float64",
            block=None, allow_silent=False, t0=0.0):
    """Predict signals from population spike counts, in memory.

    Parameters
    ----------
    kernels : xarray.Dataset
        Gathered kernels (``kernels.nc`` or :func:`lfpk.compute_kernels`): variables
        ``(post, pre, <channel dim>, lag)``, attribute ``dt`` (ms).
    counts : xarray.DataArray or SpikeData
        ``(population, time)`` spikes per bin (:func:`lfpk.engines.spikes.population_counts`), bin width
        equal to the kernels' ``dt``, time from 0; must contain every presynaptic population. A
        :class:`lfpk.engines.spikes.SpikeData` is binned at the kernels' ``dt``.
    spike_source : str, optional
        Recorded in the attributes.
    signals : list of str, optional
        Signals to predict (default every signal the kernels carry).
    contributions : bool
        Include the per-connection contributions ``S_contribution``.
    decimate : int
        Keep every ``decimate``-th sample after the anti-alias filter (:mod:`lfpk.engines.prediction.streaming`).
    dtype : {'float64', 'float32'}
        Type of the returned signals (computed in float64).
    block : int, optional
        Overlap-save block length (bins); the result does not depend on it.
    allow_silent : bool or list of str
        Presynaptic populations (True: all) allowed to have no spike: a warning instead of the
        error (a silent population's contribution is zero; :func:`lfpk.engines.spikes.checks.check_silent`).
    t0 : float
        Start of the time axis (ms, default 0): bins ``[t0 + k dt, t0 + (k+1) dt)``; the counts'
        time axis must start at ``t0``, a :class:`SpikeData` is binned from it (a spike before
        ``t0`` is refused; ``tstop - t0`` follows :func:`lfpk.model.times.check_times`).

    Returns
    -------
    xarray.Dataset
        For each signal S: ``S (source, <channel dim>, time)`` with ``source`` = ``total`` and each
        post population (sum over pre), ``S_contribution (post, pre, <channel dim>, time)`` (if
        requested), and ``population_count (population, time)`` (spikes per output bin).
    """
    t0 = check_t0(t0, "t0")
    bank, counts, nu = _bank_and_counts(kernels, counts, signals, allow_silent, t0)
    sp = StreamingPredictor(bank, contributions=contributions, decimate=decimate, block=block)
    outs = [sp.push(nu), sp.finish()]
    source = spike_source if spike_source is not None else counts.attrs.get("spike_source", "unknown")
    attrs = prediction_attrs(bank, kernels, sp.q, dtype, source)
    attrs["t0"] = t0
    attrs["tstop"] = t0 + (float(nu.shape[1] - 1) * bank.dt if nu.shape[1] else 0.0)
    return outputs_to_dataset(bank, outs, sp.q, contributions, attrs, dtype, t0)


# ---------------------------------------------------------------------------------------------
# Rates
# ---------------------------------------------------------------------------------------------


def _json_attr(attrs, key):
    try:
        value = json.loads(attrs.get(key, "{}"))
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def kernel_rates(kernels):
    """Presynaptic rates (1/s) the kernels' g_eff was computed for ({} when g_eff is off)."""
    if int(kernels.attrs.get("g_eff_on", 0)) != 1:
        return {}
    return {str(k): float(v) for k, v in _json_attr(kernels.attrs, "rates_used").items()}


def kernel_population_sizes(kernels):
    """Population sizes the kernels were computed for ({} if not recorded)."""
    pops = _json_attr(kernels.attrs, "parameters").get("populations", {})
    return {str(p): int(v["size"]) for p, v in pops.items() if isinstance(v, dict) and "size" in v}


def spikes_transient(rec):
    """The transient (ms) the spike files state: the netCDF attribute ``transient`` (the ground
    truth's and the point network's files carry it), the same in every netCDF file of ``rec``
    (a :class:`lfpk.engines.spikes.SpikeRecording`); 0 when no file states one, one is not a
    finite number >= 0, or the files disagree (the rates are then taken over the whole recording,
    and the window is named wherever they are reported)."""
    found = set()
    for src in rec.sources:
        if not src.is_netcdf:
            continue
        with netCDF4.Dataset(src.path, "r") as ds:
            value = ds.getncattr("transient") if "transient" in ds.ncattrs() else None
        try:
            value = float(value)
        except (TypeError, ValueError):
            return 0.0
        if not (np.isfinite(value) and value >= 0):
            return 0.0
        found.add(value)
    return found.pop() if len(found) == 1 else 0.0


def analysed_window(counts, transient):
    """``(start, stop)`` ms over which the spikes' rates are measured: ``[transient, tstop)``, the
    window the ground truth's own rates (``membrane.nc``, hence the kernels' g_eff) and the
    comparison use; ``[0, tstop)`` when ``transient`` (ms) is 0 or leaves nothing of ``counts``
    (:class:`lfpk.engines.spikes.counting.SpikeCounts`)."""
    tstop = float(counts.tstop)
    start = float(transient) if 0.0 < float(transient) < tstop else 0.0
    return start, tstop


def measured_rates(counts, window=None, sizes=None):
    """Mean rate (1/s) of every population of ``counts`` over ``window`` = ``(start, stop)`` ms
    (default, and ``start`` 0: the whole recording, :meth:`SpikeCounts.rates`).

    The spikes of the bins from ``start`` on are divided by units x ``(stop - start)``: units from
    ``sizes`` (``{population: units}``), else the population's size (unit map, kernels'
    configuration), else its spiking units. None for a population without spikes or units.
    """
    start, stop = window or (0.0, float(counts.tstop))
    first = int(np.ceil(start / float(counts.dt) - 1e-9))
    out = {}
    for i, p in enumerate(counts.populations):
        s = counts.stats[p]
        units = (sizes or {}).get(p) or s.size or s.n_units
        n_spikes = s.n_spikes if first == 0 else int(counts.counts[i, first:].sum())
        out[p] = n_spikes / (units * (stop - start) * 1e-3) if units else None
    return out


def window_text(window, t0=0.0):
    """``over A-B ms`` of an analysed window (ms from ``t0``, the start of the time axis; the text
    names times of the recording, ``t0 + start`` to ``t0 + stop``), naming the transient it excludes."""
    start, stop = window
    text = f"over {t0 + start:g}-{t0 + stop:g} ms"
    return text + " (after the spike files' transient)" if start > 0 else text


def compare_rates(measured, kernel, tolerance=RATE_TOLERANCE, window=None, t0=0.0):
    """Warnings (text) where measured and kernel rates (1/s) differ by more than ``tolerance``
    (relative); ``window`` ``(start, stop)`` ms from ``t0``, the window the rates were measured
    over (:func:`measured_rates`), is named in the text."""
    out = []
    where = f" {window_text(window, t0)}" if window is not None else ""
    for p, r_k in kernel.items():
        r = measured.get(p)
        if r is None or not np.isfinite(r_k) or r_k <= 0:
            continue
        rel = (r - r_k) / r_k
        if abs(rel) > tolerance:
            out.append(f"the kernels' g_eff was computed for a rate of {p} of {r_k:.4g} /s, but the spikes have "
                       f"{r:.4g} /s{where} ({rel:+.0%}); the prediction depends on it (g_eff changes the kernels): "
                       "compute the kernels at the measured rates (--kernel-config CONFIG) or for the right rates")
    return out


# ---------------------------------------------------------------------------------------------
# The stage
# ---------------------------------------------------------------------------------------------


@dataclass
class PredictionResult:
    """What :func:`predict_files` wrote and found.

    Attributes
    ----------
    output : str
    attrs : dict
        Global attributes of the file.
    n_time : int
        Output samples.
    report : list of str
        Per-population spikes, ids, units, rates and time units.
    warnings : list of str
    counts : lfpk.engines.spikes.counting.SpikeCounts
    """

    output: str
    attrs: dict
    n_time: int
    report: list
    warnings: list = field(default_factory=list)
    counts: object = None

    def dataset(self):
        """The written prediction, read into memory."""
        return read_dataset(self.output, kind="prediction")


@dataclass
class KernelFactory:
    """Kernels computed for the spikes' measured rates (g_eff), given to :func:`predict_files`
    instead of ready kernels.

    The spikes are read and counted first; each presynaptic population's rate is measured as its
    spikes over ``sizes[pop] x (tstop - transient)`` after the transient the spike files state
    (:func:`analysed_window`; the whole recording if none) and the factory called with those rates.
    :func:`lfpk.api.prediction.kernel_factory` builds one from a configuration.

    Attributes
    ----------
    compute : callable
        ``compute(rates)`` -> gathered kernels (``xarray.Dataset``, the ``kernels.nc`` layout) for
        ``rates`` ``{population: rate (1/s)}``.
    dt : float
        The kernels' time step (ms): the spikes are binned at it.
    presynaptic : list of str
        Presynaptic populations of the kernels (the spikes must have exactly these).
    sizes : dict
        ``{population: units}`` the kernels describe (the rates are measured over them).
    source : str
        Provenance of the kernels (e.g. the configuration file), recorded in ``kernel_source``.
    """

    compute: Callable
    dt: float
    presynaptic: list
    sizes: dict
    source: str

    def __call__(self, rates):
        """Gathered kernels for ``rates`` ``{population: rate (1/s)}``."""
        return self.compute(rates)


def check_options(dtype, decimate):
    """Raise ``ValueError`` unless ``dtype`` is float64 or float32 and ``decimate`` an integer >= 1
    (before any work)."""
    np.dtype(dtype)  # a bad dtype fails here, before any work
    if str(np.dtype(dtype)) not in ("float64", "float32"):
        raise ValueError(f"dtype: expected float64 or float32, got {dtype!r}")
    if not (isinstance(decimate, (int, np.integer)) and decimate >= 1):
        raise ValueError(f"decimate: expected an integer >= 1, got {decimate!r}")


@dataclass
class _Kernels:
    """The kernels of a :func:`predict_files` call before the spikes are read: ``data`` (a
    dataset) or ``factory``; their ``dt`` (ms, None if unknown), presynaptic populations and
    provenance ``source``."""

    data: object
    factory: object
    dt: object
    pres: list
    source: str


def open_kernels(kernels, kernel_source=None, signals=None) -> _Kernels:
    """The kernels given to :func:`predict_files`: a dataset, a ``kernels.nc`` path (read) or a
    :class:`KernelFactory`; ready kernels are checked against ``signals`` at once, so bad signals
    or kernels fail before the spikes are read."""
    if isinstance(kernels, KernelFactory):
        return _Kernels(None, kernels, float(kernels.dt), list(kernels.presynaptic), kernels.source)
    if hasattr(kernels, "data_vars"):
        data, source = kernels, kernel_source or "<dataset>"
    else:
        data, source = read_dataset(kernels, kind="kernels"), kernel_source or str(kernels)
    kdt = float(data.attrs["dt"]) if "dt" in data.attrs else None
    KernelBank(data, signals)  # bad signals / kernels fail before the spikes are read
    return _Kernels(data, None, kdt, [str(p) for p in data["pre"].values], source)


def bin_width(dt, kern, kernels):
    """The spikes' bin width (ms): ``dt`` if given (it must equal the kernels' dt), else the
    kernels' dt."""
    if dt is None:
        if kern.dt is None:
            raise ValueError(f"{kernels}: attribute 'dt' missing; give --dt")
        return kern.dt
    if kern.dt is not None and not np.isclose(dt, kern.dt, rtol=1e-6):
        raise ValueError(f"--dt {dt} ms differs from the kernels' dt {kern.dt} ms ({kern.source}); the convolution "
                         "needs the spike bins at the kernels' resolution")
    return dt


def check_populations(rec, kern, where, allow_silent=False):
    """Raise ``ValueError`` unless the recording ``rec`` has exactly the kernels' presynaptic
    populations (``where`` names the unit map or the spike files); a population allowed to be
    silent (``allow_silent``: True or a list) may be absent (its counts are zero)."""
    allowed = set(kern.pres) if allow_silent is True else set(allow_silent or [])
    missing = [p for p in kern.pres if p not in rec.populations and p not in allowed]
    if missing:
        raise ValueError(f"{where}: no unit of population(s) {missing} that the kernels ({kern.source}) need; "
                         f"populations there: {rec.populations} (give --allow-silent {' '.join(missing)} if "
                         "they really are silent)")
    unknown = [p for p in rec.populations if p not in kern.pres]
    if unknown:
        raise ValueError(f"{where}: population(s) {unknown} have no kernels in {kern.source} (kernel populations: "
                         f"{kern.pres}); expected only those")


def open_recording(spikes, populations=None, tstop=None, time_unit=None, nest_resolution=None, unit_offsets=None,
                   chunk_rows=None):
    """The spikes of :func:`predict_files` as a recording: a :class:`lfpk.engines.spikes.SpikeData`
    (arrays, NEST, Brian2, Neo, SONATA, NWB in memory) or a SONATA/NWB file path read through
    :func:`lfpk.engines.spikes.formats.read_any` (a :class:`MemoryRecording`), else spike files
    (:class:`lfpk.engines.spikes.SpikeRecording`, streamed)."""
    rows = chunk_rows or CHUNK_ROWS
    if not isinstance(spikes, SpikeData) and is_format_file(spikes):  # SONATA, NWB: the reader takes the options
        return MemoryRecording(read_any(spikes, populations, tstop=tstop, time_unit=time_unit), tstop, rows)
    if isinstance(spikes, SpikeData):
        given = {"populations": populations, "time_unit": time_unit, "nest_resolution": nest_resolution,
                 "unit_offsets": unit_offsets}
        extra = [k for k, v in given.items() if v is not None]
        if extra:
            raise ValueError(f"{spikes.source}: {', '.join(extra)} apply to spike text files; these spikes carry "
                             "their populations and time unit (give them to the reader that made them)")
        return MemoryRecording(spikes, tstop, rows)
    return SpikeRecording(spikes, populations, tstop, time_unit, nest_resolution, unit_offsets, rows)


def check_t0(t0, what="--t0"):
    """``t0`` (ms) as a float, refused unless finite and >= 0."""
    try:
        value = float(t0)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: expected a start time in ms (a number >= 0), got {t0!r}") from None
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{what}: {t0!r} ms; expected a finite start time >= 0 ms")
    return value


def check_time_axis(dt, tstop, t0):
    """The one time rule (:func:`lfpk.model.times.check_times`) for the time axis ``[t0, tstop]``
    binned at ``dt`` (ms): ``tstop - t0`` at least one step and a whole number of steps."""
    if t0 >= tstop:
        raise ValueError(f"--t0 {t0:g} ms is not before the stop time tstop ({tstop:g} ms); expected t0 < tstop")
    name = "tstop - t0 (--tstop - --t0)" if t0 else "tstop (--tstop)"
    check_times(dt, tstop - t0, names={"dt": "dt (--dt, the kernels' dt)", "tstop": name})


def before_t0_text(where, time, t0):
    """Message of a spike at ``time`` (ms) before the start ``t0`` (ms) of the time axis."""
    return (f"{where}: spike time {time:g} ms is before the start of the time axis t0 = {t0:g} ms; expected times "
            ">= t0 (spikes before t0 would reach the signal after t0 through the kernels but have no bin: give the "
            "recording's true start as --t0 / t0=, or remove the earlier spikes)")


class StageRecording:
    """A spike recording as :func:`predict_files` counts it: times from ``t0``, reading reported.

    Wraps a :class:`lfpk.engines.spikes.SpikeRecording` or
    :class:`~lfpk.engines.spikes.memory.MemoryRecording` (every other attribute is the wrapped
    recording's): its chunks' times are given from ``t0`` (ms; bin ``k`` is ``[t0 + k dt, t0 + (k+1)
    dt)``), a spike before ``t0`` is refused (:func:`before_t0_text`), ``tstop`` is the length of the
    time axis ``tstop - t0``, and every chunk read is reported to ``progress`` (the fraction of the
    recording's estimated spikes).

    Parameters
    ----------
    recording : SpikeRecording or MemoryRecording
    t0 : float
        Start of the time axis (ms).
    progress : lfpk.engines.prediction.progress.Progress, optional
    """

    def __init__(self, recording, t0=0.0, progress=None):
        self.recording = recording
        self.t0 = float(t0)
        self.tstop = float(recording.tstop) - self.t0
        self.progress = progress

    def __getattr__(self, name):
        return getattr(self.recording, name)

    def location(self, source, loc) -> str:
        """The wrapped recording's location; with ``t0`` its messages' times are from ``t0``."""
        text = self.recording.location(source, loc)
        return f"{text} (times counted from t0 = {self.t0:g} ms)" if self.t0 else text

    def chunks(self):
        total = max(1, int(self.recording.estimated_spikes()))
        n = 0
        for chunk in self.recording.chunks():
            if self.t0 and len(chunk):
                times = chunk.times - self.t0
                early = times < 0  # t >= t0 gives t - t0 >= 0 exactly (IEEE subtraction)
                if early.any():
                    i = int(np.flatnonzero(early)[0])
                    raise SpikeInputError(before_t0_text(self.recording.location(chunk.source, chunk.locations[i]),
                                                         float(chunk.times[i]), self.t0))
                chunk = SpikeChunk(chunk.population, chunk.units, times, chunk.source, chunk.locations)
            n += len(chunk)
            if self.progress is not None:
                self.progress.update(min(n / total, 0.99), f"{n} spikes")
            yield chunk


def count_spikes(rec, dt, duplicates, kern, allow_silent, time_unit_given):
    """Bin the recording at ``dt`` and check it (:meth:`lfpk.engines.spikes.SpikeCounts.check`).

    Returns
    -------
    counts : lfpk.engines.spikes.counting.SpikeCounts
    caught : list of str
        The checks' warnings (silent populations allowed, ...).
    """
    counts = count_recording(rec, dt, duplicates=duplicates, populations=kern.pres)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        counts.check(required=kern.pres, allow_silent=allow_silent, time_unit_given=time_unit_given)
    return counts, [str(x.message) for x in w]


def check_factory_sizes(kern, counts):
    """Refuse a kernel configuration whose population sizes are not the spikes' network's: the
    rates would be measured against the wrong sizes and the g_eff kernels computed for a different
    network. ``counts`` is a recording (before reading: its unit map's sizes) or its
    :class:`~lfpk.engines.spikes.counting.SpikeCounts` (after: also more spiking units than the
    configuration's size)."""
    for p in kern.pres:
        want = int(kern.factory.sizes[p])
        if hasattr(counts, "stats"):
            s = counts.stats[p]
            have, origin, spiking = s.size, s.size_source, s.n_units
        else:
            have, origin = counts.population_size(p)
            spiking = None
        if have is not None and have != want:
            raise ValueError(f"population {p} has {have} units in the spikes' {origin} but {want} in the kernel "
                             f"configuration {kern.source}; expected the configuration to describe the spiking network "
                             f"(set populations.{p}.size to {have}, or give the right unit map)")
        if spiking is not None and spiking > want:
            raise ValueError(f"population {p} has {spiking} spiking units but {want} units in the kernel configuration "
                             f"{kern.source}; expected the configuration to describe the spiking network (set "
                             f"populations.{p}.size)")


def kernels_at_measured_rates(kern, counts, window=None, t0=0.0):
    """Compute the kernels of ``kern.factory`` at the measured rates (1/s, spikes over the
    factory's population size x the analysed ``window`` ``(start, stop)`` ms, default the whole
    recording; :func:`measured_rates`); the counts' population sizes become the factory's.

    Returns
    -------
    kernels : xarray.Dataset
    source : str
        Provenance, naming the rates.
    caught : list of str
        Warnings (none: population sizes that differ from the kernels' are refused,
        :func:`check_factory_sizes`).
    """
    pres, sizes = kern.pres, {p: int(kern.factory.sizes[p]) for p in kern.pres}
    window = window or (0.0, float(counts.tstop))
    rates = measured_rates(counts, window, sizes)
    measured = {p: rates[p] for p in pres}
    caught = []
    check_factory_sizes(kern, counts)
    data = kern.factory(measured)
    source = f"{kern.source} (kernels computed at the measured rates " + ", ".join(
        f"{p} {r:.4g} /s" for p, r in measured.items()) + f" {window_text(window, t0)})"
    for p in pres:  # the measured rate is over the config's population size
        counts.stats[p].size, counts.stats[p].size_source = sizes[p], "kernel configuration"
    return data, source, caught


def check_kernel_rates(data, counts, window=None, t0=0.0):
    """Population sizes the counts lack are taken from the kernels' configuration; returns the
    warnings where the kernels' g_eff rates differ from the rates measured over the analysed
    ``window`` ``(start, stop)`` ms (:func:`measured_rates`, :func:`compare_rates`): the window
    the kernels' rates come from (the ground truth's rates after its transient)."""
    sizes = kernel_population_sizes(data)
    for p, s in counts.stats.items():
        if s.size is None and p in sizes:
            s.size, s.size_source = sizes[p], "kernels' configuration"
    return compare_rates(measured_rates(counts, window), kernel_rates(data), window=window, t0=t0)


def analysed_rates_line(counts, window, t0=0.0):
    """The report's line of the rates over the analysed window (ms from ``t0``; None without a
    transient)."""
    if window[0] <= 0:
        return None
    rates = measured_rates(counts, window)
    shown = ", ".join(f"{p} {r:.4g} /s" if r is not None else f"{p} n/a" for p, r in rates.items())
    return f"mean rates {window_text(window, t0)}: {shown}"


def recording_report(counts, t0=0.0):
    """The spikes' report (:meth:`SpikeCounts.report`) naming the recording's times: the counts'
    time axis runs from 0 to ``tstop - t0``, the recording's from ``t0`` to ``tstop``."""
    lines = counts.report()
    if t0:
        old, new = f" over 0-{counts.tstop:g} ms", f" over {t0:g}-{t0 + counts.tstop:g} ms"
        lines = [line.replace(old, new) if line.endswith(old) else line for line in lines]
    return lines


def stage_attrs(rec, counts, kernel_source, duplicates, caught, populations, report=None, window=None, t0=0.0):
    """Attributes of the prediction file that describe the spikes and the kernels' provenance
    (added to :func:`lfpk.engines.prediction.file.prediction_attrs`): ``t0`` and ``tstop`` (ms,
    the recording's time axis), ``rates_measured`` over the whole recording, ``rates_analysed``
    over the analysed ``window`` ``(start, stop)`` (ms from ``t0``) from ``rates_analysed_start``
    (ms of the recording: the rates compared with the kernels' and given to a kernel factory)."""
    window = window or (0.0, float(counts.tstop))
    extra = {
        "t0": float(t0),
        "tstop": float(t0) + counts.tstop,
        "kernel_source": str(kernel_source),
        "spike_format": "+".join(sorted({getattr(s, "format", "netcdf" if s.is_netcdf else "text")
                                         for s in rec.sources})),
        "spike_files": ", ".join(str(s.path) for s in rec.sources),
        "spike_duplicates": duplicates,
        "spike_time_units": "; ".join(f"{p}: {u} ({how})" for p, u, how in counts.units_used),
        "spike_report": "\n".join(counts.report() if report is None else report),
        "n_spikes": counts.n_spikes,
        "rates_measured": json.dumps({p: r for p, r in counts.rates().items()}, sort_keys=True),
        "rates_analysed": json.dumps(measured_rates(counts, window), sort_keys=True),
        "rates_analysed_start": float(t0) + float(window[0]),
        "warnings": "\n".join(caught),
    }
    if populations is not None and not isinstance(populations, dict):
        extra["population_map"] = str(populations)
    return extra


def write_prediction(output, inputs, sp, counts, n_time, dtype, compress, attrs, t0=0.0, progress=None):
    """Stream the prediction of ``counts`` through ``sp`` into ``output`` (atomically: written
    into a temporary file renamed into place at the end; an error removes it); the time axis
    starts at ``t0`` (ms); each block is reported to ``progress``."""
    bank = sp.bank
    with atomic_path(output, inputs=inputs) as tmp:
        writer = PredictionWriter(tmp, bank, bank.dt * sp.q, n_time, sp.contributions, dtype, compress, attrs, t0=t0)
        try:
            step = sp.block
            n = counts.counts.shape[1]
            for a in range(0, n, step):
                writer.write(sp.push(counts.counts[:, a:a + step]))
                if progress is not None:
                    progress.update(min(a + step, n) / max(n, 1), f"{writer.n_written} of {n_time} samples")
            writer.write(sp.finish(n))
            writer.close()
        except BaseException:
            writer.abort()
            raise


def predict_files(spikes, kernels, output, populations=None, tstop=None, dt=None, duplicates="error",
                  kernel_source=None, time_unit=None, nest_resolution=None, unit_offsets=None, allow_silent=False,
                  signals=None, contributions=True, decimate=1, dtype="float64", compress=0, block=None,
                  chunk_rows=None, warn_stacklevel=2, t0=0.0, progress=None) -> PredictionResult:
    """Stage: read spikes and kernels, predict, write ``output`` (streaming, atomic).

    Every input is validated and every spike read before anything is written; on error no file
    appears. Memory: the spike counts (4 bytes per population and bin) plus one block.

    Parameters
    ----------
    spikes : str, path-like or list of them
        Spike files, globs or folders, each optionally ``POP=...`` (:class:`lfpk.engines.spikes.SpikeRecording`).
    kernels : xarray.Dataset, path-like or KernelFactory
        Gathered kernels (``kernels.nc`` or its dataset), or a :class:`KernelFactory` computing
        them at the spikes' measured rates.
    output : path-like
        Prediction file (.nc).
    populations : path-like or dict, optional
        Unit->population map (per-unit lines or id ranges).
    tstop : float, optional
        Stop time (ms); required for text spikes, overrides the netCDF attribute.
    dt : float, optional
        Bin width (ms); default the kernels' dt (it must equal it). ``tstop - t0`` must be a whole
        number of steps of it, at least one (:func:`lfpk.model.times.check_times`).
    duplicates : {'error', 'keep'}
    kernel_source : str, optional
        Recorded as the kernels' provenance (a factory names its own).
    time_unit : {'ms', 's'}, optional
        Unit of spike times whose file states none.
    nest_resolution : float, optional
        Resolution (ms) of NEST ``time_in_steps`` files.
    unit_offsets : dict, optional
        Population -> id offset of its labelled files.
    allow_silent : bool or list of str
        Presynaptic populations allowed to have no spike (warning instead of error).
    signals, contributions, decimate, dtype, block
        As :func:`predict`.
    compress : int
        zlib level of the output (0: none).
    chunk_rows : int, optional
        Spikes per read chunk.
    warn_stacklevel : int
        Stack level of the warnings emitted (2: the caller of this function; a wrapper adds one).
    t0 : float
        Start of the time axis (ms; default 0): spikes recorded from ``t0`` (a NEST recorder with
        ``start``, a file with an offset). Bins are ``[t0 + k dt, t0 + (k+1) dt)``, ``k = 0 ..
        (tstop - t0) / dt``, the output's time coordinate starts at ``t0``; a spike before ``t0``
        is refused (its kernel would reach the signal after ``t0`` but it has no bin); a transient
        the spike files state is in the recording's times (the rates are measured after it).
    progress : bool, Progress or None
        Progress lines on standard error while reading, computing kernels, predicting and writing
        (:class:`lfpk.engines.prediction.progress.Progress`): None (default) when standard error is
        a terminal, True / False on / off.

    Returns
    -------
    PredictionResult
    """
    if kernels is None:
        raise ValueError("give either kernels (--kernels) or a kernel configuration (--kernel-config)")
    check_options(dtype, decimate)
    check_output_name(output)
    t0 = check_t0(t0)
    progress = Progress.of(progress)
    kern = open_kernels(kernels, kernel_source, signals)
    dt = bin_width(dt, kern, kernels)
    rec = open_recording(spikes, populations, tstop, time_unit, nest_resolution, unit_offsets, chunk_rows)
    check_time_axis(dt, float(rec.tstop), t0)
    check_populations(rec, kern, populations if populations is not None and not isinstance(populations, dict)
                      else spikes, allow_silent)
    if kern.factory is not None:
        check_factory_sizes(kern, rec)  # the unit map's sizes, before anything is read
    rec = StageRecording(rec, t0, progress)
    progress.begin("reading spikes")
    counts, caught = count_spikes(rec, dt, duplicates, kern, allow_silent, time_unit is not None)
    progress.end(f"{counts.n_spikes} spikes")
    # rates over the window the kernels' rates come from: after the transient the spike files state
    window = analysed_window(counts, spikes_transient(rec) - t0)
    if kern.factory is not None:
        progress.begin("computing kernels at the measured rates")
        data, source, more = kernels_at_measured_rates(kern, counts, window, t0)
        progress.end()
    else:
        data, source, more = kern.data, kern.source, check_kernel_rates(kern.data, counts, window, t0)
    caught += more
    for text in caught:
        warnings.warn(text, SpikeWarning, stacklevel=warn_stacklevel)
    bank = KernelBank(data, signals)
    sp = StreamingPredictor(bank, contributions=contributions, decimate=decimate, block=block)
    n_time = n_output_samples(counts.counts.shape[1], sp.q)
    report = recording_report(counts, t0)
    line = analysed_rates_line(counts, window, t0)
    if line:
        report.insert(len(counts.stats), line)
    extra = stage_attrs(rec, counts, source, duplicates, caught, populations, report, window, t0)
    if "population_map" in extra:
        register_input(populations)
    attrs = prediction_attrs(bank, data, sp.q, dtype, rec.sources[0].path if len(rec.sources) == 1 else
                             extra["spike_files"], extra)
    inputs = [p for p in (kernels, populations) if isinstance(p, (str, os.PathLike))]
    inputs += [s.path for s in rec.sources if getattr(s, "is_file", True)]
    progress.begin("predicting and writing")
    write_prediction(output, inputs, sp, counts, n_time, dtype, compress, attrs, t0, progress)
    progress.end(f"{n_time} samples in {output}")
    log.info("prediction: %s (%d spikes, %d samples, signals %s)", output, counts.n_spikes, n_time, attrs["signals"])
    return PredictionResult(str(output), attrs, n_time, report, caught, counts)
