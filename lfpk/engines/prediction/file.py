"""The prediction netCDF file, written block by block as a streaming prediction produces it.

Layout (the ``prediction/<run>.nc`` data contract, ``docs/prediction.md``):

=========================  ===================================  =======================
variable                   dims                                 units
=========================  ===================================  =======================
``<S>``                    ``source, <channel dim>, time``      the kernel's units
``<S>_contribution``       ``post, pre, <channel dim>, time``   (optional)
``population_count``       ``population, time``                 spikes per output bin
=========================  ===================================  =======================

``S`` is each predicted signal (``lfp``, ``csd``, ``cdm``, ``eeg``, ``meg``), ``source`` = ``total``
then each postsynaptic population; ``time`` (ms) is the start of each output bin ``n q dt``. The
file is created with its full length when it is known (offline) or with an unlimited ``time``
dimension (online), written with the netCDF4 library one block at a time (each write with SIGINT /
SIGTERM deferred, see :func:`lfpk.base.io.deferred_signals`), optionally as float32 and zlib-compressed.
The caller writes into the temporary file of :func:`lfpk.base.io.atomic_path`, so the file appears
complete or not at all.
"""

from __future__ import annotations

import numpy as np

#: time samples per netCDF chunk along ``time``
TIME_CHUNK = 8192


class PredictionWriter:
    """Write a streaming prediction into a netCDF file.

    Parameters
    ----------
    path : path-like
        File to create (normally the temporary path of :func:`lfpk.base.io.atomic_path`).
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
    """

    def __init__(self, path, bank, dt_out, n_time=None, contributions=True, dtype="float64", compress=0,
                 attrs=None):
        import netCDF4

        from lfpk.base.io import deferred_signals, netcdf_attr

        if np.dtype(dtype) not in (np.dtype("float64"), np.dtype("float32")):
            raise ValueError(f"dtype: expected float64 or float32, got {dtype!r}")
        if not (isinstance(compress, (int, np.integer)) and 0 <= int(compress) <= 9):
            raise ValueError(f"compress: expected a zlib level 0..9, got {compress!r}")
        self.bank = bank
        self.dt_out = float(dt_out)
        self.contributions = bool(contributions)
        self.dtype = np.dtype(dtype)
        self.n_written = 0
        self.n_time = n_time
        with deferred_signals():
            self.ds = ds = netCDF4.Dataset(path, "w", format="NETCDF4")
            ds.set_fill_off()
            ds.createDimension("time", n_time)
            ds.createDimension("source", len(bank.posts) + 1)
            ds.createDimension("post", len(bank.posts))
            ds.createDimension("pre", len(bank.pres))
            ds.createDimension("population", len(bank.pres))
            tc = max(1, min(TIME_CHUNK, n_time or TIME_CHUNK))
            zlib = dict(zlib=bool(compress), complevel=int(compress) or 4, shuffle=bool(compress))
            self._time = ds.createVariable("time", "f8", ("time",), chunksizes=(tc,))
            self._time.setncatts({"units": "ms", "long_name": "time (start of the output bin)"})
            for name, values, long_name in (("post", bank.posts, "postsynaptic population Y"),
                                            ("pre", bank.pres, "presynaptic population X"),
                                            ("source", ["total", *bank.posts],
                                             "total or contributing postsynaptic population"),
                                            ("population", bank.pres, "presynaptic population")):
                v = ds.createVariable(name, str, (name,))
                v[:] = np.array(values, dtype=object)
                v.long_name = long_name
            for cname, (dims, values, cattrs) in bank.coords.items():
                for d in dims:
                    if d not in ds.dimensions:
                        ds.createDimension(d, len(values))
                values = np.asarray(values)
                if values.dtype.kind in "US":
                    v = ds.createVariable(cname, str, dims)
                    v[:] = values.astype(object)
                else:
                    v = ds.createVariable(cname, values.dtype, dims)
                    v[:] = values
                v.setncatts({k: netcdf_attr(a) for k, a in cattrs.items()})
            self._vars, self._contrib = {}, {}
            for name in bank.signals:
                cdim = bank.channel_dim[name]
                nch = bank.n_channels(name)
                a = bank.attrs[name]
                aux = " ".join(c for c, (dims, _, _) in bank.coords.items() if c != cdim and set(dims) <= {cdim})
                extra = {"coordinates": aux} if aux else {}  # CF: auxiliary coordinates (e.g. channel_z)
                v = ds.createVariable(name, self.dtype, ("source", cdim, "time"), chunksizes=(1, nch, tc), **zlib)
                _small_cache(v, (len(bank.posts) + 1) * nch * tc * self.dtype.itemsize)
                v.setncatts({"units": a["units"], "long_name": f"predicted {a['long_name']}", **extra})
                self._vars[name] = v
                if self.contributions:
                    v = ds.createVariable(f"{name}_contribution", self.dtype, ("post", "pre", cdim, "time"),
                                          chunksizes=(1, 1, nch, tc), **zlib)
                    _small_cache(v, len(bank.posts) * len(bank.pres) * nch * tc * self.dtype.itemsize)
                    v.setncatts({"units": a["units"], "long_name": f"predicted {a['long_name']}: contribution of "
                                 "connection pre -> post", **extra})
                    self._contrib[name] = v
            self._counts = ds.createVariable("population_count", "i4", ("population", "time"),
                                             chunksizes=(1, tc), **zlib)
            self._counts.setncatts({"units": "1", "long_name": "spikes per output bin [time, time + dt_out) of "
                                    "each presynaptic population"})
            ds.setncatts({k: netcdf_attr(v) for k, v in (attrs or {}).items()})

    def write(self, out):
        """Append one block of :meth:`lfpk.engines.prediction.streaming.StreamingPredictor.push` output."""
        from lfpk.base.io import deferred_signals

        n = out["n"]
        if not n:
            return
        a, b = self.n_written, self.n_written + n
        with deferred_signals():
            self._time[a:b] = (np.arange(a, b) * self.dt_out)
            for name, v in self._vars.items():
                v[:, :, a:b] = out["signals"][name].astype(self.dtype, copy=False)
                if self.contributions:
                    self._contrib[name][:, :, :, a:b] = out["contributions"][name].astype(self.dtype, copy=False)
            self._counts[:, a:b] = out["counts"].astype(np.int32)
        self.n_written = b

    def close(self, attrs=None):
        """Add final attributes and close the file."""
        from lfpk.base.io import deferred_signals, netcdf_attr

        with deferred_signals():
            if attrs:
                self.ds.setncatts({k: netcdf_attr(v) for k, v in attrs.items()})
            self.ds.close()
        if self.n_time is not None and self.n_written != self.n_time:
            raise RuntimeError(f"prediction file: {self.n_written} samples written, {self.n_time} expected")

    def abort(self):
        try:
            self.ds.close()
        except Exception:  # closing a half-written file on an error path: the file is removed anyway
            pass


def _small_cache(var, row_bytes):
    """HDF5 chunk cache of a variable: two rows of chunks along time (a block write touches at most
    that many partial chunks), instead of the library's default per variable."""
    var.set_var_chunk_cache(size=int(2 * row_bytes) + (1 << 16), nelems=1009, preemption=0.75)
