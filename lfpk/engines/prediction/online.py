"""Predictions while a simulation runs: spikes fed chunk by chunk (NEST ``nest.Run`` steps, Brian2
network operations), signals out as soon as their time is complete.

Example (NEST 3.10; the whole runnable file is ``docs/examples/spikes/nest_online.py``, run by the
test suite; Brian2: ``docs/examples/spikes/brian2_online.py``)::

    import nest
    import lfpk

    kernels = lfpk.compute_kernels("my_network.yaml")          # or lfpk.read_dataset("kernels.nc")
    # ... create the network; recorders = {"E": spike_recorder of E, "I": spike_recorder of I}
    units = {"E": [E[0].global_id, E[-1].global_id], "I": [I[0].global_id, I[-1].global_id]}
    with lfpk.OnlinePredictor(kernels, output="prediction.nc", keep=False, unit_population=units) as online:
        while nest.biological_time < tstop:
            nest.Simulate(100.0)                                # not inside nest.RunManager(): NEST 3.10
            for rec in recorders.values():                      # refuses n_events = 0 there
                ev = rec.events
                online.add_spikes(ev["times"], units=ev["senders"])
                rec.n_events = 0                                # clear the recorder's memory
            out = online.advance(nest.biological_time)          # new samples: out["signals"]["lfp"] ...
        online.close(tstop)
    # prediction.nc now holds the whole prediction (identical to `lfpk predict` on the same spikes)

``keep=False`` keeps no sample in memory (the default ``keep=True`` keeps every sample for
:meth:`OnlinePredictor.dataset`: memory grows with the run); the file is written as it goes.

Spikes are binned with the offline rule (bin ``floor((t - t0) / dt + 1e-6)``, ``t0`` = 0 unless given,
:mod:`lfpk.engines.spikes.counting`).
:meth:`OnlinePredictor.advance` declares that every spike before ``t`` was given; bins that end at or
before ``t`` are then complete and their predicted samples are returned (and written). A spike in a
bin that is already complete is an error (it would be lost). :meth:`OnlinePredictor.close` ends the
recording at ``tstop`` (the last bin starts at ``tstop``, as offline) and completes the samples that
need counts after the end (zero), so the result equals the offline prediction of the same spikes
(:func:`lfpk.engines.prediction.predict.predict`) to floating-point rounding (tested: 1e-12 relative).
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from lfpk.base.files import atomic_path
from lfpk.base.io import read_dataset
from lfpk.engines.prediction.file import (
    PredictionWriter,
    check_output_name,
    outputs_to_dataset,
    prediction_attrs,
    sample_times,
)
from lfpk.engines.prediction.predict import before_t0_text, check_t0, check_time_axis
from lfpk.engines.prediction.streaming import KernelBank, StreamingPredictor, merge_outputs
from lfpk.engines.spikes.checks import (
    MEMORY_WAY_OUT,
    check_duplicates,
    check_seconds,
    check_silent,
    check_times,
    times_in_ms,
    unit_ids,
)
from lfpk.engines.spikes.counting import BIN_EPS, bin_index, n_bins
from lfpk.engines.spikes.errors import SpikeInputError
from lfpk.engines.spikes.maps import as_population_map


class OnlinePredictor:
    """Spikes in, predicted signals out, while a simulation runs.

    Parameters
    ----------
    kernels : xarray.Dataset or path-like
        Gathered kernels (``kernels.nc`` or :func:`lfpk.compute_kernels`).
    signals : list of str, optional
        Signals to predict (default all the kernels carry).
    contributions : bool
        Also compute per-connection contributions.
    decimate : int
        Output every ``decimate``-th sample after the anti-alias filter
        (:func:`lfpk.engines.prediction.streaming.anti_alias_filter`); the filter's look-ahead delays output by its
        half-length.
    block : int, optional
        Bins per convolution block; default: compute at every :meth:`advance` (lowest latency).
    output : path-like, optional
        Write the prediction to this netCDF file as it is computed (atomically: the file appears at
        :meth:`close`; an error or interrupt removes it).
    dtype : {'float64', 'float32'}
        Storage type of ``output``.
    compress : int
        zlib level of ``output`` (0: none).
    keep : bool
        Keep every output sample in memory for :meth:`dataset`.
    unit_population : dict or PopulationMap, optional
        Unit id -> population, for :meth:`add_spikes` with ``units``.
    attrs : dict, optional
        Extra global attributes of ``output``.
    time_unit : {'ms', 's'}, optional
        Unit of unit-less spike times (default ms). Times that carry a unit (Brian2 ``mon.t``, Neo)
        are converted; unit-less times are refused at :meth:`advance` when all lie in the first 1 %
        of the time advanced to (seconds read as ms), unless ``time_unit`` is given.
    duplicates : {'error', 'keep'}
        Exact duplicate spikes (same unit and time; only known with ``units=``): refuse or keep.
    allow_silent : bool or list of str
        Presynaptic populations (True: all) allowed to have no spike at :meth:`close` (a warning
        instead of the error).
    t0 : float
        Start of the time axis (ms, default 0; e.g. a NEST recorder's ``start``): bins ``[t0 + k
        dt, t0 + (k+1) dt)``, output times from ``t0``; a spike before ``t0`` is refused, and
        ``tstop - t0`` at :meth:`close` follows :func:`lfpk.model.times.check_times`.

    Every spike passes the rules of the file readers (:mod:`lfpk.engines.spikes.checks`): finite,
    ``>= 0``, not after ``tstop`` (:meth:`close`), integer unit ids in the map, no duplicates, no
    silent presynaptic population.
    """

    def __init__(self, kernels, signals=None, contributions=False, decimate=1, block=None, output=None,
                 dtype="float64", compress=0, keep=True, unit_population=None, attrs=None, time_unit=None,
                 duplicates="error", allow_silent=False, t0=0.0):
        if not hasattr(kernels, "data_vars"):
            kernels = read_dataset(kernels, kind="kernels")
        self.bank = KernelBank(kernels, signals)
        self.dt = self.bank.dt
        self.q = int(decimate)
        self.predictor = StreamingPredictor(self.bank, contributions=contributions, decimate=self.q, block=block)
        self._flush_every_advance = block is None
        self.map = as_population_map(unit_population, "unit_population")
        if time_unit not in (None, "ms", "s"):
            raise ValueError(f"time_unit: expected 'ms' or 's', got {time_unit!r}")
        if duplicates not in ("error", "keep"):
            raise ValueError(f"duplicates: must be 'error' or 'keep', got {duplicates!r}")
        self.time_unit, self.duplicates, self.allow_silent = time_unit, duplicates, allow_silent
        self.t0 = check_t0(t0, "t0")
        self._unstated = {"n": 0, "max_time": -np.inf}  # unit-less times (the seconds check)
        self.n_spikes = np.zeros(len(self.bank.pres), dtype=np.int64)
        self._units = []
        self.keep = bool(keep)
        self._kept = []
        self._times, self._pops = [], []
        self.n_done = 0  # complete bins pushed to the predictor
        self.t = self.t0  # every spike before t was given
        self._stack = contextlib.ExitStack()
        self.writer = None
        self.output = output
        self.closed = False
        if output is not None:
            check_output_name(output, "output")
            tmp = self._stack.enter_context(atomic_path(output))
            self.writer = PredictionWriter(tmp, self.bank, self.dt * self.q, None, contributions, dtype, compress,
                                           prediction_attrs(self.bank, kernels, self.q, dtype, "online",
                                                            {"t0": self.t0, **(attrs or {})}), t0=self.t0)

    # -- context manager ------------------------------------------------------------------------

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            if not self.closed:
                self.close()
        else:
            self.abort(exc_type, exc, tb)
        return False

    def abort(self, exc_type=None, exc=None, tb=None):
        """Stop without writing ``output`` (its temporary file is removed)."""
        if self.writer is not None:
            self.writer.abort()
        self.closed = True
        err = exc or RuntimeError("online prediction aborted")
        with contextlib.suppress(BaseException):
            self._stack.__exit__(type(err), err, tb)

    # -- input ----------------------------------------------------------------------------------

    def add_spikes(self, times, population=None, units=None):
        """Add spikes of one population or of units mapped to populations.

        Parameters
        ----------
        times : array_like
            Spike times: ms (or the ``time_unit`` given), or an array that carries its unit (Brian2
            ``mon.t``, Neo); not before the last :meth:`advance` time's complete bins.
        population : str or array_like of str, optional
            Population of all spikes (str) or of each spike.
        units : array_like of int, optional
            Unit ids (integers), mapped by ``unit_population`` (instead of ``population``).
        """
        if self.closed:
            raise RuntimeError("add_spikes after close")
        t, _, how = times_in_ms(times, self.time_unit, "add_spikes: times")
        if not len(t):
            return
        pres = self.bank.pres
        if population is not None and units is not None:
            raise ValueError("give population or units, not both")
        ids = None
        if units is not None:
            if self.map is None:
                raise ValueError("units given but no unit_population map")
            ids = unit_ids(units, "add_spikes: units")
            local = self.map.lookup(ids)
            if (local < 0).any():
                i = int(np.flatnonzero(local < 0)[0])
                raise SpikeInputError(f"add_spikes: unit {int(ids[i])} (index {i}) is not in the unit_population "
                                      f"map; expected one of its {self.map.n_units()} units")
            table = np.array([pres.index(p) if p in pres else -1 for p in self.map.populations])
            idx = table[local]
        elif isinstance(population, str):
            if population not in pres:
                raise ValueError(f"population {population!r} has no kernels (presynaptic populations: {pres})")
            idx = np.full(len(t), pres.index(population))
        elif population is not None:
            names = np.asarray(population).ravel()
            bad = [p for p in np.unique(names) if p not in pres]
            if bad:
                raise ValueError(f"population(s) {bad} have no kernels (presynaptic populations: {pres})")
            idx = np.array([pres.index(p) for p in names])
        else:
            raise ValueError("give the population of the spikes (population=) or their units (units=)")
        if len(idx) != len(t):
            raise ValueError(f"{len(t)} times but {len(idx)} populations/units")
        check_times(t, None, lambda i: f"add_spikes: index {i}")
        if (t < self.t0).any():
            i = int(np.flatnonzero(t < self.t0)[0])
            raise SpikeInputError(before_t0_text(f"add_spikes: index {i}", float(t[i]), self.t0))
        keep = idx >= 0  # units of populations without kernels are ignored
        b = np.floor((t - self.t0) / self.dt + BIN_EPS)
        if (b[keep] < self.n_done).any():
            first = float(t[keep][b[keep] < self.n_done].min())
            raise SpikeInputError(
                f"add_spikes: spike at {first!r} ms is in a bin already predicted (advance() was called with t = "
                f"{self.t!r} ms); add every spike before advancing past it -- a recorder whose events were read "
                "again without clearing them gives this too (read only the new events)")
        if how.startswith("assumed") and keep.any():
            self._unstated["n"] += int(keep.sum())
            self._unstated["max_time"] = max(self._unstated["max_time"], float(t[keep].max()))
        self._times.append(t[keep])
        self._pops.append(idx[keep])
        self._units.append(ids[keep] if ids is not None else np.full(int(keep.sum()), -1, np.int64))
        self.n_spikes += np.bincount(idx[keep], minlength=len(pres))

    def advance(self, t):
        """Every spike before ``t`` (ms) was given: predict the samples that are now complete.

        Returns
        -------
        dict
            As :meth:`lfpk.engines.prediction.streaming.StreamingPredictor.push`, plus ``time`` (ms) of the returned
            samples.
        """
        if self.closed:
            raise RuntimeError("advance after close")
        t = float(t)
        if t < self.t:
            raise ValueError(f"advance: t = {t!r} ms is before the previous {self.t!r} ms")
        self.t = t
        if self.time_unit is None:
            check_seconds(self._unstated["max_time"], self._unstated["n"], t, "add_spikes: times", MEMORY_WAY_OUT)
        complete = max(0, int(math.floor((t - self.t0) / self.dt + BIN_EPS)))
        return self._push_until(complete, flush=self._flush_every_advance)

    def close(self, tstop=None):
        """End the recording at ``tstop`` (default the last :meth:`advance` time) and complete it.

        The time axis is that of the offline prediction: bins ``0 .. (tstop - t0) / dt``, the last
        one starting at ``tstop`` (``tstop - t0`` a whole number of steps, :func:`check_time_axis`).
        Writes and renames ``output``.
        """
        if self.closed:
            raise RuntimeError("close called twice")
        tstop = self.t if tstop is None else float(tstop)
        if tstop < self.t - 1e-9:
            raise ValueError(f"close: tstop = {tstop!r} ms is before the last advance ({self.t!r} ms)")
        check_time_axis(self.dt, tstop, self.t0)
        total = n_bins(tstop - self.t0, self.dt)
        pending = np.concatenate(self._times) if self._times else np.zeros(0)
        if len(pending) and pending.max() > tstop:
            raise SpikeInputError(f"close: spike at {float(pending.max())!r} ms is after tstop = {tstop!r} ms; "
                                  "expected times <= tstop")
        if self.time_unit is None:
            check_seconds(self._unstated["max_time"], self._unstated["n"], tstop, "add_spikes: times", MEMORY_WAY_OUT)
        check_silent(dict(zip(self.bank.pres, self.n_spikes.tolist())), self.bank.pres, self.allow_silent,
                     "the spikes added", "allow_silent", stacklevel=3)
        out = self._push_until(total, flush=True)
        last = self.predictor.finish(total)
        self._deliver(last)
        self.tstop = tstop
        try:
            if self.writer is not None:
                self.writer.close({"tstop": tstop, "n_time": self.writer.n_written})
            self.closed = True
            self._stack.close()
        except BaseException as exc:
            self.abort(type(exc), exc, exc.__traceback__)
            raise
        return merge_outputs([out, last])

    # -- internals ------------------------------------------------------------------------------

    def _push_until(self, complete, flush):
        if complete <= self.n_done:
            return self._deliver(self.predictor.push(np.zeros((len(self.bank.pres), 0)), flush=flush))
        t = np.concatenate(self._times) if self._times else np.zeros(0)
        p = np.concatenate(self._pops) if self._pops else np.zeros(0, np.int64)
        u = np.concatenate(self._units) if self._units else np.zeros(0, np.int64)
        b = bin_index(t - self.t0, self.dt, 1 << 62)
        now = b < complete
        if self.duplicates == "error":  # a duplicate's copies share a bin: both are complete now
            known = now & (u >= 0)
            check_duplicates(p[known], u[known], t[known], self.bank.pres,
                             lambda i: f"add_spikes: spike at {float(t[known][i])!r} ms")
        counts = np.zeros((len(self.bank.pres), complete - self.n_done), dtype=np.int64)
        np.add.at(counts, (p[now], b[now] - self.n_done), 1)
        self._times, self._pops, self._units = [t[~now]], [p[~now]], [u[~now]]
        self.n_done = complete
        return self._deliver(self.predictor.push(counts, flush=flush))

    def _deliver(self, out):
        out["time"] = sample_times(out["start"], out["n"], self.dt * self.q, self.t0)
        if self.writer is not None:
            self.writer.write(out)
        if self.keep and out["n"]:
            self._kept.append(out)
        return out

    def dataset(self):
        """Every sample predicted so far as an ``xarray.Dataset`` (needs ``keep=True``)."""
        if not self.keep:
            raise RuntimeError("dataset() needs keep=True")
        return outputs_to_dataset(self.bank, self._kept, self.q, self.predictor.contributions, t0=self.t0)

