"""Labelled netCDF input/output shared by every stage.

Every output is written through the output guard of :mod:`lfpk.base.files` (:func:`write_dataset`
writes a whole dataset through :func:`~lfpk.base.files.atomic_path`; the netCDF library's calls run
with SIGINT / SIGTERM deferred, :func:`~lfpk.base.files.deferred_signals`), and every file read
through :func:`read_dataset` is registered as an input of the running command, so no command
writes over it.

Large outputs produced over a long computation (a simulation's signals, a prediction) are
written into the temporary file block by block with :class:`BlockWriter`, which gives the file
xarray would write for the whole dataset (or an explicitly laid-out file, :meth:`BlockWriter.from_layout`)
without holding it in memory.

Inputs are read with :func:`read_dataset`, which names the file and what was expected when a file
is missing, a folder, not netCDF, truncated, or of the wrong kind (``kind=`` one of :data:`KINDS`).
Structured attributes are stored as JSON strings (netCDF attributes hold only scalars, strings
and 1-d arrays).
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import NamedTuple

import netCDF4
import numpy as np
import xarray as xr

from lfpk.base.errors import InputError
from lfpk.base.files import atomic_path, deferred_signals, register_input


def software_versions() -> dict:
    """Versions of the packages that determine lfpk's numbers."""
    out = {}
    for pkg in ("lfpk", "numpy", "scipy", "xarray", "netCDF4", "neuron", "LFPy", "LFPykit"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return str(obj)  # JSON has no inf/nan; "inf" round-trips through float()
    return obj


def to_json(obj) -> str:
    """Serialise parameters for a netCDF attribute (sorted keys, so reruns are byte-identical)."""
    return json.dumps(_jsonable(obj), sort_keys=True)



def check_dataset(ds, path):
    """Raise ``ValueError`` unless every data variable has ``units`` and ``long_name`` (the data
    contract), naming the variable and the file ``path`` it was meant for."""
    for name, var in ds.data_vars.items():
        for attr in ("units", "long_name"):
            if attr not in var.attrs:
                raise ValueError(f"variable {name!r} lacks the {attr!r} attribute required for {path}")


def dataset_to_netcdf(ds, tmp):
    """Write ``ds`` to the (temporary) file ``tmp`` with SIGINT/SIGTERM deferred during the write."""
    with deferred_signals():
        ds.to_netcdf(tmp, engine="netcdf4")


def netcdf_attr(v):
    """An attribute value netCDF can store: bools as int, numpy scalars as Python scalars, None
    as "", lists, tuples and dicts as JSON (:func:`to_json`)."""
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, np.generic):
        return v.item()
    if v is None:
        return ""
    if isinstance(v, (list, tuple, dict)):
        return to_json(v)
    return v


#: bytes of blocks :class:`BlockWriter` collects before writing them (4 MiB)
BLOCK_BUFFER_BYTES = 1 << 22


def _streamed_variables(streamed, dim, path):
    """``{name: (dims, dtype, attrs, storage)}`` from :class:`BlockWriter`'s ``streamed`` argument
    (``(dims, dtype, attrs)`` or :class:`Streamed`), checked against the data contract."""
    out = {}
    for name, spec in streamed.items():
        dims, dtype, attrs = spec[:3]
        storage = dict(spec[3]) if len(spec) > 3 else {}
        out[name] = (tuple(dims), np.dtype(dtype), dict(attrs), storage)
        for attr in ("units", "long_name"):
            if attr not in attrs:
                raise ValueError(f"variable {name!r} lacks the {attr!r} attribute required for {path}")
        if tuple(dims)[-1] != dim:
            raise ValueError(f"variable {name!r}: dims {tuple(dims)} must end with the streamed dimension {dim!r}")
    return out


def _storage_arguments(storage):
    """``netCDF4.Dataset.createVariable`` keywords of a streamed variable's ``storage``:
    ``chunksizes`` (tuple), ``compress`` (zlib level 0 = none .. 9, with shuffle)."""
    compress = int(storage.get("compress", 0))
    return {"chunksizes": storage.get("chunksizes"), "zlib": bool(compress), "complevel": compress or 4,
            "shuffle": bool(compress)}


class Stored(NamedTuple):
    """A variable of :meth:`BlockWriter.from_layout` written whole when the file is created."""

    dims: tuple
    #: the data (strings become variable-length strings; any other array keeps its dtype)
    values: object
    attrs: dict


class Streamed(NamedTuple):
    """A variable of :class:`BlockWriter` written block by block along the streamed dimension."""

    dims: tuple
    dtype: object
    #: must hold ``units`` and ``long_name``; a ``coordinates`` attribute is written as given
    attrs: dict
    #: ``chunksizes`` (tuple), ``compress`` (zlib level 0 = none .. 9, with shuffle), ``cache_bytes``
    #: (the variable's HDF5 chunk cache); :meth:`BlockWriter.from_layout` only
    storage: dict = {}


def _create_stored(ds, name, spec):
    """Create and fill a :class:`Stored` variable; attributes through :func:`netcdf_attr`."""
    values = np.asarray(spec.values)
    if values.dtype.kind in "USO":
        v = ds.createVariable(name, str, spec.dims)
        v[:] = values.astype(object)
    else:
        v = ds.createVariable(name, values.dtype, spec.dims)
        v[:] = values
    v.setncatts({k: netcdf_attr(a) for k, a in spec.attrs.items()})
    return v


class BlockWriter:
    """A netCDF file whose large variables are written one block along a dimension at a time.

    Two ways to lay the file out:

    * from an xarray ``template`` (the constructor): the file is what :func:`dataset_to_netcdf`
      would write for the complete dataset -- same variables, dimensions, coordinates, attributes
      and encoding (xarray's defaults: contiguous storage, ``_FillValue`` NaN for floating-point
      variables, a ``coordinates`` attribute naming the auxiliary coordinates a variable spans).
      ``signals.nc`` of the network is written so (:class:`lfpk.engines.network.datasets.SignalsWriter`);
    * from an explicit layout (:meth:`from_layout`): dimensions in order (one may be unlimited),
      variables written whole at creation (:class:`Stored`), streamed variables
      (:class:`Streamed`) with chunking and zlib compression, no fill values. The prediction
      file is written so (:class:`lfpk.engines.prediction.file.PredictionWriter`).

    Either way the streamed variables never exist in memory as a whole, so a long recording is
    written with memory bounded by one block. Write into the temporary path of
    :func:`atomic_paths` (the file appears complete or not at all); every netCDF call runs with
    SIGINT / SIGTERM deferred (:func:`deferred_signals`).

    Parameters
    ----------
    path : path-like
        File to create (the temporary path of :func:`atomic_paths`).
    template : xarray.Dataset
        Every coordinate (including that of ``dim``, full length) and the variables that are
        not streamed; its attributes are the file's global attributes (more at :meth:`close`).
    streamed : dict
        ``{name: (dims, dtype, attrs)}`` of the variables written by :meth:`write`; ``attrs``
        must hold ``units`` and ``long_name`` (the data contract, :func:`check_dataset`).
    dim : str
        The dimension along which blocks arrive (default ``time``).
    buffer_bytes : int
        Blocks are collected up to this many bytes (default :data:`BLOCK_BUFFER_BYTES`; at least
        one block) and written together: each netCDF write of a slice costs about a millisecond,
        whatever its length. 0 writes every block at once, without a copy.
    """

    def __init__(self, path, template, streamed, dim="time", buffer_bytes=None):
        self._setup(path, streamed, dim, int(template.sizes[dim]), buffer_bytes)
        aux = {c: set(template[c].dims) for c in template.coords if c not in template.dims}
        with deferred_signals():
            template.to_netcdf(self.path, engine="netcdf4")
            self.ds = netCDF4.Dataset(self.path, "a")
            named = set()
            for name, (dims, dtype, attrs, _) in self.streamed.items():
                fill = np.nan if dtype.kind == "f" else None  # xarray's default for floats
                v = self.ds.createVariable(name, dtype, dims, fill_value=fill)
                coords = sorted(c for c, cdims in aux.items() if cdims <= set(dims))
                named.update(coords)
                v.setncatts({k: netcdf_attr(a) for k, a in attrs.items()})
                if coords:
                    v.setncattr("coordinates", " ".join(coords))
                self.vars[name] = v
            # xarray lists coordinates no variable of the template spans in a global attribute;
            # drop those the streamed variables now name, as a write of the whole dataset would
            if "coordinates" in self.ds.ncattrs():
                rest = [c for c in str(self.ds.getncattr("coordinates")).split() if c not in named]
                if rest:
                    self.ds.setncattr("coordinates", " ".join(rest))
                else:
                    self.ds.delncattr("coordinates")

    @classmethod
    def from_layout(cls, path, dims, variables, dim="time", attrs=None, buffer_bytes=0):
        """A file laid out explicitly, written with the netCDF4 library (fill values off).

        Parameters
        ----------
        path : path-like
            File to create (the temporary path of :func:`atomic_paths`).
        dims : dict
            ``{name: size}`` in the order of creation; size None makes a dimension unlimited
            (``dim`` may be: the file then grows with every block and is complete at any length).
        variables : dict
            ``{name: Stored(...) or Streamed(...)}`` in the order of creation: :class:`Stored`
            variables are written whole now (coordinates: population names, channel depths, ...),
            :class:`Streamed` ones by :meth:`write`.
        dim : str
            The dimension along which blocks arrive.
        attrs : dict, optional
            Global attributes (through :func:`netcdf_attr`; more at :meth:`close`).
        buffer_bytes : int
            As for the constructor; default 0 (every block written at once).

        Returns
        -------
        BlockWriter
        """
        self = cls.__new__(cls)
        streamed = {k: v for k, v in variables.items() if not isinstance(v, Stored)}
        self._setup(path, streamed, dim, dims[dim], buffer_bytes)
        with deferred_signals():
            self.ds = ds = netCDF4.Dataset(self.path, "w", format="NETCDF4")
            ds.set_fill_off()
            for name, size in dims.items():
                ds.createDimension(name, size)
            for name, spec in variables.items():
                if isinstance(spec, Stored):
                    _create_stored(ds, name, spec)
                    continue
                vdims, dtype, vattrs, storage = self.streamed[name]
                v = ds.createVariable(name, dtype, vdims, **_storage_arguments(storage))
                if storage.get("cache_bytes"):
                    v.set_var_chunk_cache(size=int(storage["cache_bytes"]), nelems=1009, preemption=0.75)
                v.setncatts({k: netcdf_attr(a) for k, a in vattrs.items()})
                self.vars[name] = v
            ds.setncatts({k: netcdf_attr(v) for k, v in (attrs or {}).items()})
        return self

    def _setup(self, path, streamed, dim, size, buffer_bytes):
        """State shared by both layouts (``size`` None: ``dim`` unlimited)."""
        self.path = Path(path)
        self.dim = dim
        self.size = None if size is None else int(size)
        self.buffer_bytes = int(BLOCK_BUFFER_BYTES if buffer_bytes is None else buffer_bytes)
        self._pending, self._pending_bytes = [], 0
        self.streamed = _streamed_variables(streamed, dim, path)
        self.written = dict.fromkeys(self.streamed, 0)
        self.ds = None
        self.vars = {}

    def write(self, start, blocks):
        """Write ``blocks`` (``{name: array}``, the last axis along ``dim``) at ``start`` (index);
        they are copied and written once :attr:`buffer_bytes` have been collected (or at
        :meth:`close`)."""
        for name, a in blocks.items():
            n = a.shape[-1]
            if start != self.written[name] or (self.size is not None and start + n > self.size):
                raise ValueError(f"{self.path}: block of {name!r} at {start}:{start + n} does not continue "
                                 f"the {self.written[name]} of {self.size} samples written")
        for name, a in blocks.items():
            self.written[name] = start + a.shape[-1]
        copy = self.buffer_bytes > 0  # written at once otherwise: the caller's arrays are not kept
        self._pending.append((start, {k: np.array(a, copy=True) if copy else a for k, a in blocks.items()}))
        self._pending_bytes += sum(a.nbytes for a in blocks.values())
        if self._pending_bytes >= self.buffer_bytes:
            self._flush()

    def _flush(self):
        """Write the collected blocks, one slice per variable."""
        with deferred_signals():
            for name, v in self.vars.items():  # a variable's pending blocks are consecutive
                parts = [(a, blocks[name]) for a, blocks in self._pending if name in blocks]
                if parts:
                    data = np.concatenate([b for _, b in parts], axis=-1) if len(parts) > 1 else parts[0][1]
                    v[..., parts[0][0]:parts[0][0] + data.shape[-1]] = data
        self._pending, self._pending_bytes = [], 0

    def close(self, attrs=None):
        """Add global ``attrs`` (xarray's conventions: scalars, strings, 1-d arrays) and close the
        file; raises ``RuntimeError`` if a streamed variable was not written completely (a file
        with an unlimited ``dim`` is complete at any length)."""
        short = {} if self.size is None else {k: n for k, n in self.written.items() if n != self.size}
        if not short:
            self._flush()
        with deferred_signals():
            if not short:
                self.ds.setncatts({k: netcdf_attr(v) for k, v in (attrs or {}).items()})
            self.ds.close()
        if short:
            raise RuntimeError(f"{self.path}: variables {short} written up to these samples of {self.size}")

    def abort(self):
        """Close the file on an error path (the caller's :func:`atomic_paths` removes it)."""
        if self.ds is not None and self.ds.isopen():
            with deferred_signals():
                try:
                    self.ds.close()
                except Exception:  # a half-written file being discarded
                    pass


def write_dataset(ds, path, inputs=(), create_parent=False) -> Path:
    """Write an xarray Dataset to netCDF through :func:`atomic_path`.

    Every data variable must carry ``units`` and ``long_name`` attributes (the data contract);
    a missing one raises ``ValueError`` naming the variable before anything is written.
    ``inputs`` and ``create_parent`` as for :func:`check_output`.
    """
    check_dataset(ds, path)
    with atomic_path(path, inputs=inputs, create_parent=create_parent) as tmp:
        dataset_to_netcdf(ds, tmp)
    return Path(path)


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


def _is(ds, *names):
    return all(n in ds.variables for n in names)


def _is_prediction(ds):
    """Signals by source and time that came from kernels (per-connection contributions, or the
    kernel attributes lfpk predict writes)."""
    return ("source" in ds.dims and "time" in ds.dims
            and (any(str(v).endswith("_contribution") for v in ds.data_vars)
                 or "g_eff_on" in ds.attrs or "kernel_attrs" in ds.attrs))


#: Kinds of files the stages exchange: name -> (description, test on the opened dataset).
KINDS = {
    "spikes": ("the network's spikes (spikes.nc of lfpk network: spike_time, spike_unit, unit_population)",
               lambda ds: _is(ds, "spike_time", "spike_unit")),
    "signals": ("ground-truth signals (signals.nc of lfpk network: lfp, csd, cdm by source and time)",
                lambda ds: "cdm" in ds and "source" in ds.dims and "time" in ds.dims and not _is_prediction(ds)),
    "membrane": ("ground-truth membrane potentials (membrane.nc of lfpk network: v_soma, v_segment, rate)",
                 lambda ds: _is(ds, "v_soma", "v_segment", "rate")),
    "kernel": ("a single-connection kernel (lfpk kernel: transmembrane_current by segment and lag, "
               "attributes post and pre)",
               lambda ds: "lag" in ds.dims and "segment" in ds.dims and "post" in ds.attrs and "pre" in ds.attrs),
    "kernels": ("gathered kernels (kernels.nc of lfpk kernel-gather: dims post, pre, lag)",
                lambda ds: {"post", "pre", "lag"} <= set(ds.dims)),
    "prediction": ("a kernel prediction (lfpk predict: signals by source and time, from kernels)", _is_prediction),
    "comparison": ("a comparison (lfpk compare: r2, r_std)", lambda ds: _is(ds, "r2", "r_std")),
}


def guess_kind(ds):
    """Name of the first kind in :data:`KINDS` that ``ds`` looks like, or None."""
    for name, (_, test) in KINDS.items():
        try:
            if test(ds):
                return name
        except Exception:  # a malformed file is simply of no known kind
            continue
    return None


def require_kind(ds, kind, path):
    """Raise :class:`InputError` unless ``ds`` (read from ``path``) is of ``kind``."""
    description, test = KINDS[kind]
    if not test(ds):
        other = guess_kind(ds)
        looks = f"it looks like {KINDS[other][0].split(' (')[0]}" if other else "it is no lfpk file of a known kind"
        raise InputError(f"{path}: expected {description}; {looks}")


def read_dataset(path, kind=None):
    """Open a netCDF file fully into memory (the file handle is closed on return).

    Parameters
    ----------
    path : path-like
    kind : str, optional
        Expected kind (a key of :data:`KINDS`); another kind raises :class:`InputError`.

    Raises
    ------
    FileNotFoundError
        The file does not exist (message names it).
    InputError
        A folder, not a netCDF file, truncated or unreadable, or not of ``kind``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"netCDF file {path} does not exist")
    if path.is_dir():
        raise InputError(f"{path} is a folder; expected a netCDF file")
    register_input(path)
    expected = f"; expected {KINDS[kind][0]}" if kind else ""
    try:
        with open(path, "rb") as f:
            magic = f.read(8)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror}){expected}") from None
    if not (magic[:3] == b"CDF" or magic[:8] == b"\x89HDF\r\n\x1a\n"):
        raise InputError(f"{path}: not a netCDF file{expected}")
    try:
        with deferred_signals(), xr.open_dataset(path, engine="netcdf4") as ds:
            ds = ds.load()
    except (OSError, RuntimeError, ValueError, KeyError, IndexError) as exc:
        raise InputError(f"{path}: unreadable or truncated netCDF file ({exc}){expected}") from None
    if kind is not None:
        require_kind(ds, kind, path)
    return ds
