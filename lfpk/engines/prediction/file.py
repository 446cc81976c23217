"""The prediction's layout, written once: the in-memory dataset and the streamed file both come from it.

Layout (the ``prediction/<run>.nc`` data contract, ``docs/prediction.md``):

=========================  ===================================  =======================
variable                   dims                                 units
=========================  ===================================  =======================
``<S>``                    ``source, <channel dim>, time``      the kernel's units
``<S>_contribution``       ``post, pre, <channel dim>, time``   (optional)
``population_count``       ``population, time``                 spikes per output bin
=========================  ===================================  =======================

``S`` is each predicted signal (``lfp``, ``csd``, ``cdm``, ``eeg``, ``meg``, or the name of any other kernel
variable with a ``lag`` dim, its units and attributes carried over), ``source`` = ``total``
then each postsynaptic population; ``time`` (ms) is the start of each output bin ``t0 + n q dt``
(``t0``: the start of the recording's time axis, default 0, global attribute ``t0``).

* :func:`coordinates`, :func:`variables` and :func:`prediction_attrs` define the coordinates, the
  variables (dims, units, long names) and the global attributes;
* :func:`outputs_to_dataset` makes the in-memory ``xarray.Dataset`` of :func:`lfpk.predict` and
  :meth:`lfpk.OnlinePredictor.dataset` from them;
* :class:`PredictionWriter` writes the file from them, block by block as a streaming prediction
  produces it, through the one incremental netCDF writer :class:`lfpk.base.io.BlockWriter`
  (:meth:`~lfpk.base.io.BlockWriter.from_layout`): the file is created with its full length when it
  is known (offline) or with an unlimited ``time`` dimension (online), each write with SIGINT /
  SIGTERM deferred, optionally as float32 and zlib-compressed. The caller writes into the
  temporary file of :func:`lfpk.base.files.atomic_path`, so the file appears complete or not at all.

Two differences between the dataset in memory and the file are kept as they were (changing either
would change the files or the datasets users have): ``population_count`` is int64 in memory and
int32 in the file, and its long name says ``[time, time + dt)`` in memory and ``[time, time +
dt_out)`` in the file (:data:`COUNT_LONG_NAME`). The file's signals also name their auxiliary
coordinates (CF ``coordinates`` attribute), which xarray keeps as coordinates in memory.
"""

from __future__ import annotations

import os

import numpy as np
import xarray as xr

from lfpk.base.io import BlockWriter, Stored, Streamed, software_versions, to_json
from lfpk.engines.prediction.streaming import merge_outputs

#: time samples per netCDF chunk along ``time``
TIME_CHUNK = 8192
#: attributes of the ``time`` coordinate (ms, start of each output bin)
TIME_ATTRS = {"units": "ms", "long_name": "time (start of the output bin)"}
#: long name of ``population_count``; ``{dt}`` is ``dt`` in memory and ``dt_out`` in the file
COUNT_LONG_NAME = "spikes per output bin [time, time + {dt}) of each presynaptic population"
#: storage type of ``population_count``: in memory, in the file
COUNT_DTYPE = {"memory": np.int64, "file": np.int32}


# ---------------------------------------------------------------------------------------------
# The layout
# ---------------------------------------------------------------------------------------------


#: suffixes of the prediction file (netCDF)
OUTPUT_SUFFIXES = (".nc", ".nc4", ".netcdf")


def check_output_name(output, what="--output"):
    """Refuse an output name whose suffix is not netCDF's: the prediction is a netCDF file, and
    ``x.csv`` holding netCDF misleads whoever opens it."""
    suffix = os.path.splitext(str(output))[1].lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise ValueError(f"{what} {output}: the prediction is a netCDF file; expected a name ending in "
                         f"{', '.join(OUTPUT_SUFFIXES)} (got {suffix or 'no suffix'})")


def prediction_attrs(bank, kernels, q, dtype, spike_source, extra=None):
    """Global attributes of a prediction (method, resolution, kernel provenance, versions).

    Parameters
    ----------
    bank : lfpk.engines.prediction.streaming.KernelBank
    kernels : xarray.Dataset
        The kernels (their attributes are stored as JSON in ``kernel_attrs``).
    q : int
        Decimation factor (output interval ``q dt``).
    dtype : {'float64', 'float32'}
        Storage type of the signals.
    spike_source : str
        Where the spikes came from.
    extra : dict, optional
        More attributes (added last, overriding).

    Returns
    -------
    dict
    """
    attrs = {
        "title": "signals predicted from population spike counts and spike-to-signal kernels",
        "method": "sum over connections of causal convolutions nu_X * H_YX by overlap-save FFT blocks "
                  "(Hagen et al. 2022, PLOS Comput Biol 18:e1010353); lag 0 of H aligned with the spike's bin",
        "dt": float(bank.dt * q),
        "dt_bins": float(bank.dt),
        "decimation": int(q),
        "anti_alias": ("none" if q == 1 else
                       "linear-phase FIR, Kaiser window, pass band to 0.8 of the output Nyquist frequency "
                       "(gain 1 +- 1e-4), stop band from it (>= 80 dB), delay compensated; applied to the kernels"),
        "storage_dtype": str(np.dtype(dtype)),
        "kernel_form": str(bank.kernel_attrs.get("form", "unknown")),
        "biophysics": str(bank.kernel_attrs.get("biophysics", "unknown")),
        "g_eff_on": int(bank.kernel_attrs.get("g_eff_on", -1)),
        "kernel_attrs": to_json(dict(kernels.attrs)),
        "spike_source": str(spike_source),
        "signals": ",".join(bank.signals),
        "software_versions": to_json(software_versions()),
    }
    attrs.update(extra or {})
    return attrs


def coordinates(bank):
    """Coordinates of a prediction other than ``time``, in order.

    Returns
    -------
    dict
        ``{name: (dims, values, attrs)}``: ``post``, ``pre``, ``source`` (``total`` then each post
        population), ``population`` (the presynaptic populations), then the channel coordinates
        of the kernels (``channel``, ``channel_z`` (um), ``component``, ...).
    """
    out = {
        "post": (("post",), bank.posts, {"long_name": "postsynaptic population Y"}),
        "pre": (("pre",), bank.pres, {"long_name": "presynaptic population X"}),
        "source": (("source",), ["total", *bank.posts],
                   {"long_name": "total or contributing postsynaptic population"}),
        "population": (("population",), bank.pres, {"long_name": "presynaptic population"}),
    }
    for cname, (dims, values, cattrs) in bank.coords.items():
        out[cname] = (tuple(dims), values, cattrs)
    return out


def variables(bank, contributions, where="memory"):
    """Data variables of a prediction, in order.

    Parameters
    ----------
    bank : lfpk.engines.prediction.streaming.KernelBank
    contributions : bool
        Include ``<S>_contribution``.
    where : {'memory', 'file'}
        Target (only the long name of ``population_count`` differs, :data:`COUNT_LONG_NAME`).

    Returns
    -------
    dict
        ``{name: (dims, attrs)}``: for each signal ``S`` (units of its kernel) ``S`` and, with
        ``contributions``, ``S_contribution``; then ``population_count`` (units 1).
    """
    out = {}
    for name in bank.signals:
        cdim = bank.channel_dim[name]
        a = bank.attrs[name]  # units, long name and the kernel variable's other attributes
        out[name] = (("source", cdim, "time"), {**a, "long_name": f"predicted {a['long_name']}"})
        if contributions:
            out[f"{name}_contribution"] = (("post", "pre", cdim, "time"), {
                **a, "long_name": f"predicted {a['long_name']}: contribution of connection pre -> post"})
    out["population_count"] = (("population", "time"), {
        "units": "1", "long_name": COUNT_LONG_NAME.format(dt="dt" if where == "memory" else "dt_out")})
    return out


def auxiliary_coordinates(bank, cdim):
    """Coordinates along channel dimension ``cdim`` other than itself (e.g. ``channel_z``), as
    the CF ``coordinates`` attribute names them ("" if none)."""
    return " ".join(c for c, (dims, _, _) in bank.coords.items() if c != cdim and set(dims) <= {cdim})


# ---------------------------------------------------------------------------------------------
# In memory
# ---------------------------------------------------------------------------------------------


def _empty_block(bank, name, contribution=False):
    """No samples of signal ``name`` (or of its contribution): shape ``(..., 0)``."""
    if contribution:
        return np.zeros((len(bank.posts), len(bank.pres), bank.n_channels(name), 0))
    return np.zeros((len(bank.posts) + 1, bank.n_channels(name), 0))


def sample_times(first, n, dt_out, t0=0.0):
    """Times (ms) of output samples ``first .. first + n - 1``: ``t0 + k dt_out``."""
    return float(t0) + np.arange(first, first + n) * float(dt_out)


def outputs_to_dataset(bank, outs, q, contributions, attrs=None, dtype="float64", t0=0.0):
    """Streamed outputs (consecutive :meth:`StreamingPredictor.push` results) as an xarray Dataset.

    Parameters
    ----------
    bank : lfpk.engines.prediction.streaming.KernelBank
    outs : list of dict
        Consecutive outputs from the first sample on (may be empty: no samples).
    q : int
        Decimation factor: sample ``n`` is at time ``n dt q`` (ms).
    contributions : bool
        The outputs carry contributions (and the dataset gets ``<S>_contribution``).
    attrs : dict, optional
        Global attributes (:func:`prediction_attrs`).
    dtype : {'float64', 'float32'}
        Type of the signals.
    t0 : float
        Time of the first sample (ms): sample ``n`` is at ``t0 + n dt q``.

    Returns
    -------
    xarray.Dataset
        The layout of :func:`coordinates` and :func:`variables` (``population_count`` int64).
    """
    merged = merge_outputs(outs, 0) if outs else None
    n = merged["n"] if merged else 0
    coords = {"time": ("time", sample_times(0, n, bank.dt * q, t0), dict(TIME_ATTRS))}
    coords.update({name: (dims, values, cattrs) for name, (dims, values, cattrs) in coordinates(bank).items()})
    dtype = np.dtype(dtype)
    data = {}
    for name, (dims, vattrs) in variables(bank, contributions, "memory").items():
        if name == "population_count":
            values = merged["counts"] if merged else np.zeros((len(bank.pres), 0), dtype=np.int64)
            data[name] = (dims, values.astype(COUNT_DTYPE["memory"]), vattrs)
        elif name.endswith("_contribution"):
            signal = name.removesuffix("_contribution")
            values = merged["contributions"][signal] if merged else _empty_block(bank, signal, contribution=True)
            data[name] = (dims, values.astype(dtype, copy=False), vattrs)
        else:
            values = merged["signals"][name] if merged else _empty_block(bank, name)
            data[name] = (dims, values.astype(dtype, copy=False), vattrs)
    return xr.Dataset(data, coords=coords, attrs=attrs or {})


# ---------------------------------------------------------------------------------------------
# The file
# ---------------------------------------------------------------------------------------------


def file_layout(bank, n_time, contributions, dtype, compress):
    """Dimensions and variables of the prediction file for :meth:`lfpk.base.io.BlockWriter.from_layout`.

    Parameters
    ----------
    bank : lfpk.engines.prediction.streaming.KernelBank
    n_time : int or None
        Output samples (None: unlimited ``time``).
    contributions : bool
    dtype : numpy.dtype
        Storage type of the signals.
    compress : int
        zlib level 0 (none) .. 9.

    Returns
    -------
    dims : dict
        ``{name: size}``: ``time``, ``source``, ``post``, ``pre``, ``population``, the channel dims.
    variables : dict
        ``{name: Stored or Streamed}``: ``time`` (streamed), the coordinates, then the variables.
        Chunks hold :data:`TIME_CHUNK` samples (one source or connection each); each streamed
        signal gets a chunk cache of two rows of chunks (a block write touches at most that many
        partial chunks) instead of the library's default per variable.
    """
    tc = max(1, min(TIME_CHUNK, n_time or TIME_CHUNK))
    coords = coordinates(bank)
    dims = {"time": n_time, "source": len(bank.posts) + 1, "post": len(bank.posts), "pre": len(bank.pres),
            "population": len(bank.pres)}
    for _, (cdims, values, _) in coords.items():
        for d in cdims:
            dims.setdefault(d, len(values))
    out = {"time": Streamed(("time",), np.float64, dict(TIME_ATTRS), {"chunksizes": (tc,)})}
    out.update({name: Stored(cdims, values, cattrs) for name, (cdims, values, cattrs) in coords.items()})
    rows = {"source": len(bank.posts) + 1, "post": len(bank.posts) * len(bank.pres)}
    for name, (vdims, vattrs) in variables(bank, contributions, "file").items():
        if name == "population_count":
            out[name] = Streamed(vdims, COUNT_DTYPE["file"], vattrs, {"chunksizes": (1, tc), "compress": compress})
            continue
        cdim = vdims[-2]
        nch = dims[cdim]
        aux = auxiliary_coordinates(bank, cdim)
        vattrs = {**vattrs, "coordinates": aux} if aux else vattrs  # CF: auxiliary coordinates (e.g. channel_z)
        chunks = (1,) * (len(vdims) - 2) + (nch, tc)
        cache = int(2 * rows[vdims[0]] * nch * tc * dtype.itemsize) + (1 << 16)
        out[name] = Streamed(vdims, dtype, vattrs, {"chunksizes": chunks, "compress": compress, "cache_bytes": cache})
    return dims, out


class PredictionWriter:
    """Write a streaming prediction into a netCDF file (the layout of :func:`file_layout`).

    Parameters
    ----------
    path : path-like
        File to create (normally the temporary path of :func:`lfpk.base.files.atomic_path`).
    bank : lfpk.engines.prediction.streaming.KernelBank
    dt_out : float
        Output sampling interval (ms).
    n_time : int or None
        Output samples (None: unlimited ``time``, appended as written).
    contributions : bool
        Write ``<S>_contribution``.
    dtype : {'float64', 'float32'}
        Storage type of the signals.
    compress : int
        zlib level 0 (none) .. 9.
    attrs : dict
        Global attributes (scalars or strings).
    t0 : float
        Time of the first sample (ms): sample ``n`` is at ``t0 + n dt_out``.
    """

    def __init__(self, path, bank, dt_out, n_time=None, contributions=True, dtype="float64", compress=0,
                 attrs=None, t0=0.0):
        self.t0 = float(t0)
        if np.dtype(dtype) not in (np.dtype("float64"), np.dtype("float32")):
            raise ValueError(f"dtype: expected float64 or float32, got {dtype!r}")
        if not (isinstance(compress, (int, np.integer)) and 0 <= int(compress) <= 9):
            raise ValueError(f"compress: expected a zlib level 0..9, got {compress!r}")
        self.bank = bank
        self.dt_out = float(dt_out)
        self.contributions = bool(contributions)
        self.dtype = np.dtype(dtype)
        self.n_time = n_time
        dims, layout = file_layout(bank, n_time, self.contributions, self.dtype, int(compress))
        self.writer = BlockWriter.from_layout(path, dims, layout, dim="time", attrs=attrs, buffer_bytes=0)

    @property
    def n_written(self) -> int:
        """Output samples written so far."""
        return self.writer.written["time"]

    def write(self, out):
        """Append one block of :meth:`lfpk.engines.prediction.streaming.StreamingPredictor.push` output."""
        n = out["n"]
        if not n:
            return
        a = self.n_written
        blocks = {"time": sample_times(a, n, self.dt_out, self.t0)}
        for name in self.bank.signals:
            blocks[name] = out["signals"][name].astype(self.dtype, copy=False)
            if self.contributions:
                blocks[f"{name}_contribution"] = out["contributions"][name].astype(self.dtype, copy=False)
        blocks["population_count"] = out["counts"].astype(COUNT_DTYPE["file"])
        self.writer.write(a, blocks)

    def close(self, attrs=None):
        """Add final attributes and close the file (``RuntimeError`` if fewer samples than
        ``n_time`` were written)."""
        self.writer.close(attrs)

    def abort(self):
        """Close the file on an error path (the caller's :func:`lfpk.base.files.atomic_path` removes it)."""
        self.writer.abort()
