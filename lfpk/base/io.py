"""Labelled netCDF input/output shared by every stage, and the one output guard they write through.

Every output file is written through :func:`atomic_path` (directly or via :func:`write_dataset`):

* it is written to a hidden temporary name in the destination folder and renamed into place only
  on success, so a killed job never leaves a file a rerun could mistake for complete;
* an output that is the same file as an input (same resolved path, or same device and inode, e.g.
  a hard link) is refused before anything is computed or written; inputs are those passed
  explicitly and, inside a :func:`command_scope` (every ``lfpk`` command runs in one), every file
  read through :func:`read_dataset` or registered with :func:`register_input`;
* a missing parent folder is an error unless the caller documents that it creates it
  (``create_parent=True``: the ``--outdir`` options); an output that is a folder, or a folder that
  cannot be written (permissions, read-only file system), is an error naming the path;
* SIGINT (Ctrl-C) and SIGTERM (what SLURM sends at its time limit) remove the temporary file; while
  the netCDF library writes they are deferred to the end of the write (:func:`deferred_signals`),
  so an interrupt never leaves the HDF5 library holding its lock; a second signal during a write
  removes the temporaries and exits at once;
* a full disk is reported as ``no space left on device: <path>`` (the netCDF library itself only
  says "NetCDF: HDF error");
* a temporary file names its writer (``.<name>.<host>-<pid>.<random>.tmp``), so one left by a
  writer killed beyond clean-up (SIGKILL, out of memory) is removed by the next write of that
  output (:func:`remove_stale_temporaries`).

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

import errno
import json
import os
import re
import signal
import socket
import tempfile
import threading
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import NamedTuple

import netCDF4
import numpy as np
import xarray as xr

from lfpk.base.errors import InputError, Interrupted, OutputError


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


# ---------------------------------------------------------------------------------------------
# Inputs of the running command
# ---------------------------------------------------------------------------------------------

_scopes: list[list] = []


def _identity(path):
    """(resolved path, (device, inode) or None) of ``path``."""
    p = Path(path).expanduser()
    try:
        st = os.stat(p)
        ino = (st.st_dev, st.st_ino)
    except OSError:
        ino = None
    return p.resolve(), ino


def same_file(a, b) -> bool:
    """True if ``a`` and ``b`` name the same file (resolved path, or device and inode)."""
    ra, ia = _identity(a)
    rb, ib = _identity(b)
    return ra == rb or (ia is not None and ia == ib)


@contextmanager
def command_scope(inputs=()):
    """Record the inputs of one command: every output written inside must differ from all of them.

    ``inputs`` are registered at once; files read later through :func:`read_dataset` (or
    :func:`register_input`) are added as they are read.
    """
    _scopes.append([])
    try:
        for p in inputs:
            if p is not None:
                register_input(p)
        yield
    finally:
        _scopes.pop()


def register_input(path):
    """Declare ``path`` an input of the running command (no effect outside a :func:`command_scope`)."""
    if _scopes:
        _scopes[-1].append((str(path), _identity(path)))


def _all_inputs(inputs):
    out = [(str(p), _identity(p)) for p in inputs if p is not None]
    for scope in _scopes:
        out += scope
    return out


# ---------------------------------------------------------------------------------------------
# The output guard
# ---------------------------------------------------------------------------------------------


def check_output(path, inputs=(), create_parent=False) -> Path:
    """Check that ``path`` may be written; return it as a ``Path``.

    Parameters
    ----------
    path : path-like
        The output file.
    inputs : sequence of path-like
        Inputs of the computation (besides those registered in the running :func:`command_scope`).
    create_parent : bool
        Create a missing parent folder (only where the command documents it).

    Raises
    ------
    OutputError
        The output is an input, is a folder, or its folder is missing or not writable.
    """
    path = Path(path)
    resolved, ino = _identity(path)
    for name, (r_in, i_in) in _all_inputs(inputs):
        if resolved == r_in or (ino is not None and ino == i_in):
            raise OutputError(f"output {path} is the input {name}: refusing to overwrite an input; "
                              "choose another output file")
    if path.is_dir():
        raise OutputError(f"output {path} is a folder; expected a file name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        if not create_parent:
            raise OutputError(f"output folder {parent} does not exist (for {path}); create it first")
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create output folder {parent}: {exc.strerror.lower()}") from None
    elif not parent.is_dir():
        raise OutputError(f"output folder {parent} is not a folder (for {path})")
    return path


def output_folder(folder, inputs=()) -> Path:
    """Create (if missing) and check an output folder given by an ``--outdir`` option: it must not
    be a file and must accept a new file (probed by creating and removing one)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"output folder {folder} is a file; expected a folder")
    check_output(folder / ".lfpk-probe", inputs=inputs, create_parent=True)
    try:
        fd, probe = tempfile.mkstemp(prefix=".lfpk-probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        if _disk_full(exc, folder) == errno.ENOSPC:
            raise OutputError(f"no space left on device: {folder}") from None
        raise OutputError(f"cannot write to output folder {folder}: {exc.strerror.lower()}") from None
    return folder


_temporaries: set[str] = set()
_deferred: list[int] = []


def _remove_temporaries():
    for tmp in list(_temporaries):
        try:
            os.unlink(tmp)
        except OSError:
            pass
        _temporaries.discard(tmp)


def _raise_interrupted(signum, frame):
    raise Interrupted(signum)


def _defer(signum, frame):
    if _deferred:  # a second signal while the netCDF library writes: leave now, without the lock
        _remove_temporaries()
        os._exit(128 + signum)
    _deferred.append(signum)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def terminate_as_interrupt():
    """Within the block SIGTERM raises :class:`Interrupted` (so ``finally`` clauses run), unless
    another handler is installed already. Main thread only (elsewhere a no-op)."""
    if not _main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextmanager
def deferred_signals():
    """Defer SIGINT and SIGTERM to the end of the block, then raise :class:`Interrupted`.

    Wrap calls into the netCDF/HDF5 library (an exception raised inside them can leave HDF5's
    lock held, so that closing the file hangs). A second signal inside the block removes the
    temporary files of :func:`atomic_path` and exits at once with status ``128 + signum``.
    Main thread only (elsewhere a no-op).
    """
    if not _main_thread() or _deferred or signal.getsignal(signal.SIGINT) is _defer:
        yield
        return
    old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s in old:
        signal.signal(s, _defer)
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        pending = list(_deferred)
        _deferred.clear()
    if pending:
        raise Interrupted(pending[0])


def raise_deferred():
    """Inside :func:`deferred_signals`: raise :class:`Interrupted` now if SIGINT or SIGTERM was
    received, for long computations that can stop at safe points (a simulation's time steps)."""
    if _deferred:
        signum = _deferred[0]
        _deferred.clear()
        raise Interrupted(signum)


def _disk_full(exc, folder):
    """errno of a full disk or quota behind ``exc`` (None if not), also when the netCDF library
    hides it ("NetCDF: HDF error")."""
    e = exc
    while e is not None:
        if getattr(e, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
            return e.errno
        e = e.__cause__ or e.__context__
    try:
        st = os.statvfs(folder)
    except OSError:
        return None
    return errno.ENOSPC if st.f_bavail == 0 else None


def _write_error(exc, path, folder=None):
    """The :class:`OutputError` that explains a failed write of ``path`` (text; its folder
    ``folder``), or None if the failure is not about the output."""
    if isinstance(exc, OutputError):
        return exc
    folder = Path(path).parent if folder is None else folder
    code = _disk_full(exc, folder)
    if code == errno.ENOSPC:
        return OutputError(f"no space left on device: {path}")
    if code == errno.EDQUOT:
        return OutputError(f"disk quota exceeded: {path}")
    if isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(f"cannot write {path}: {os.strerror(exc.errno).lower()} (folder {folder})")
    return None


@contextmanager
def atomic_paths(paths, inputs=(), create_parent=False):
    """Yield temporary paths next to ``paths``; rename them all into place only on success.

    Every path is checked first (:func:`check_output`: not an input, not a folder, parent folder
    present unless ``create_parent``; the paths must differ from each other). The temporary files
    are removed on any error, on Ctrl-C and on SIGTERM. The renames at the end run with signals
    deferred, and a failing rename restores the files replaced before it, so a set of outputs
    (e.g. a comparison and its summary table) appears completely or not at all. A full disk raises
    :class:`OutputError` ``no space left on device: <path>``.
    """
    paths = [check_output(p, inputs=inputs, create_parent=create_parent) for p in paths]
    for i, p in enumerate(paths):
        for q in paths[:i]:
            if same_file(p, q):
                raise OutputError(f"output {p} is given twice; expected different files")
    tmps = []
    with terminate_as_interrupt():
        try:
            for path in paths:
                remove_stale_temporaries(path)
                try:
                    fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(path), suffix=".tmp", dir=path.parent)
                except OSError as exc:
                    raise (_write_error(exc, path) or exc) from None
                _temporaries.add(tmp)
                tmps.append(tmp)
                os.close(fd)
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)  # mkstemp: 0600; final files get the usual permissions
            yield [Path(t) for t in tmps]
            with deferred_signals():
                _replace_all(tmps, paths)
        except Exception as exc:
            err = _write_error(exc, ", ".join(map(str, paths)), paths[0].parent)
            if err is not None and err is not exc:
                raise err from exc
            raise
        finally:
            for tmp in tmps:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                _temporaries.discard(tmp)


def _host():
    """This machine's short host name, as used in temporary file names (no dots)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname().split(".")[0]) or "host"


def _temporary_prefix(path):
    """``.<name>.<host>-<pid>.``: a temporary output names its writer, so that one left by a killed
    writer (SIGKILL, out of memory; nothing can clean up after those) is recognised as stale."""
    return f".{Path(path).name}.{_host()}-{os.getpid()}."


def _running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process
        return True
    return True


def remove_stale_temporaries(path) -> list[Path]:
    """Remove the temporary files of output ``path`` (:func:`atomic_paths`) whose writer no longer
    runs: ``.<name>.<host>-<pid>.<random>.tmp`` of this host with no process ``pid``. Temporaries
    of running writers, of other hosts (a shared file system) and of other names are kept.
    :func:`atomic_paths` calls this before writing ``path``, so a rerun after a killed run leaves
    no temporary behind. Returns the removed paths."""
    path = Path(path)
    head, host = f".{path.name}.", _host()
    removed = []
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return removed
    for p in entries:
        n = p.name
        if not (n.startswith(head) and n.endswith(".tmp")):
            continue
        parts = n[len(head):-len(".tmp")].split(".")
        if len(parts) != 2:
            continue
        writer, _, pid = parts[0].rpartition("-")
        if writer != host or not pid.isdigit() or int(pid) == os.getpid() or _running(int(pid)):
            continue
        try:
            p.unlink()
            removed.append(p)
        except OSError:
            pass
    return removed


def _replace_all(tmps, paths):
    """``os.replace`` each temporary onto its path; on a failure undo the replacements made."""
    if len(paths) == 1:
        os.replace(tmps[0], paths[0])
        return
    backups = {}
    done = []
    try:
        for tmp, path in zip(tmps, paths):
            if path.exists():
                backup = f"{tmp}.previous"
                try:
                    os.link(path, backup)
                    backups[path] = backup
                except OSError:
                    pass
            os.replace(tmp, path)
            done.append(path)
    except BaseException:
        for path in done:
            if path in backups:
                os.replace(backups.pop(path), path)
            else:
                os.unlink(path)
        raise
    finally:
        for backup in backups.values():
            if os.path.exists(backup):
                os.unlink(backup)


@contextmanager
def atomic_path(path, inputs=(), create_parent=False):
    """Yield a temporary path next to ``path``; rename it to ``path`` only on success.

    The single-file case of :func:`atomic_paths` (same checks, clean-up and messages).
    """
    with atomic_paths([path], inputs=inputs, create_parent=create_parent) as (tmp,):
        yield tmp


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
