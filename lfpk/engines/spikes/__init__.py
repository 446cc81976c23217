"""Spike input for predictions: spike files as NEST, Brian2 and lfpk's network write them.

Modules:

* :mod:`lfpk.engines.spikes.maps` -- unit -> population maps (per-unit lines, id ranges, dicts, YAML);
* :mod:`lfpk.engines.spikes.readers` -- files, globs, folders, ``POP=`` labels; text (NEST ``.dat`` with
  comment and header blocks, ``time_in_steps``, Brian2 ``i, t``, CSV, gzip, UTF-8 BOM) and netCDF
  (``spikes.nc``) read in chunks;
* :mod:`lfpk.engines.spikes.recording` -- :class:`SpikeRecording`: all files of one recording as validated
  chunks (population, unit, time in ms);
* :mod:`lfpk.engines.spikes.counting` -- :func:`count_recording`: counts per population and bin with bounded
  memory, duplicate detection, the per-population report and the checks before a prediction;
* :mod:`lfpk.engines.spikes.checks` -- the rules every spike passes, from a file or from memory (times,
  units carried by arrays, seconds read as ms, ids, duplicates, silent populations), written once;
* :mod:`lfpk.engines.spikes.formats` -- SONATA, NWB, Neo, NEST recorders, Brian2 monitors -> :class:`SpikeData`;
* :mod:`lfpk.engines.spikes.memory` -- :class:`~lfpk.engines.spikes.memory.MemoryRecording`: a ``SpikeData``
  read like spike files (what ``predict_files`` streams).

This module's :func:`read_spikes` returns every spike in memory (:class:`SpikeData`, sorted by
time); :func:`population_counts` bins it. Every failure is a :class:`SpikeInputError` (a
``ValueError``) naming the file, the 1-based line or the netCDF variable and 0-based spike index,
and what was expected. See ``docs/prediction.md`` for the formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from lfpk.engines.spikes.counting import (
    BIN_EPS,
    EARLY_FRACTION,
    SpikeCounts,
    _first_duplicate,
    bin_index,
    check_early,
    count_recording,
    duplicate_message,
    n_bins,
    track_early,
)
from lfpk.engines.spikes.checks import (
    MEMORY_WAY_OUT,
    check_duplicates,
    check_seconds,
    check_times,
    check_tstop,
    times_in_ms,
    unit_ids,
)
from lfpk.engines.spikes.errors import SpikeInputError, SpikeWarning
from lfpk.engines.spikes.maps import PopulationMap, as_population_map, read_population_map
from lfpk.engines.spikes.readers import TIME_COLUMNS, UNIT_COLUMNS, SpikeSource, expand_sources
from lfpk.engines.spikes.recording import SpikeRecording

__all__ = ["SpikeData", "SpikeInputError", "SpikeWarning", "SpikeRecording", "SpikeCounts", "SpikeSource",
           "PopulationMap", "read_spikes", "read_population_map", "population_counts", "count_recording",
           "expand_sources", "n_bins", "BIN_EPS", "EARLY_FRACTION", "UNIT_COLUMNS", "TIME_COLUMNS"]


@dataclass
class SpikeData:
    """Validated spikes in memory, sorted by (time, population, unit).

    Every construction applies the rules of the file readers (:mod:`lfpk.engines.spikes.checks`):
    times finite, ``>= 0`` and ``<= tstop``; times that carry a unit (Brian2 ``mon.t``, Neo) are
    converted to ms, unit-less times are ms (or ``time_unit``) and refused when all lie in the
    first 1 % of ``tstop`` (seconds read as ms); integer unit ids (``5.5`` is refused, never
    truncated); every id in the map and every mapped population in ``populations``; no exact
    duplicate (same population, unit and time) unless ``duplicates='keep'``.

    Attributes
    ----------
    times : ndarray of float
        Spike times (ms) after construction; given as numbers (ms, or ``time_unit``) or as an array
        carrying a time unit.
    units : ndarray of int
        Unit id of each spike.
    unit_population : dict, PopulationMap or None
        Unit id -> population (None when labelled files reuse ids across populations; then
        ``population_index`` is needed).
    populations : list of str, optional
        Population names (default: the map's populations, in its order).
    tstop : float or None
        Stop time (ms): no spike is later.
    dt : float or None
        Bin width stated by the source (ms), if any.
    source : str
        Where the spikes came from (named in messages).
    attrs : dict
        Provenance (format, sorted input, duplicates, time units).
    population_index : ndarray of int, optional
        Index into ``populations`` of every spike (derived from ``unit_population`` if not given).
    time_unit : {'ms', 's'}, optional
        Unit of unit-less ``times`` (default ms, checked by the 1 % rule when ``tstop`` is known).
    duplicates : {'error', 'keep'}
        Exact duplicate spikes: refuse (default) or keep.
    """

    times: np.ndarray
    units: np.ndarray
    unit_population: object = None
    populations: list | None = None
    tstop: float | None = None
    dt: float | None = None
    source: str = "<memory>"
    attrs: dict = field(default_factory=dict)
    population_index: np.ndarray | None = None
    time_unit: str | None = None
    duplicates: str = "error"
    checked: bool = field(default=False, repr=False)  # read_spikes: every rule already applied

    def __post_init__(self):
        src = self.source
        if self.duplicates not in ("error", "keep"):
            raise ValueError(f"duplicates: must be 'error' or 'keep', got {self.duplicates!r}")
        self.times, unit, how = times_in_ms(self.times, self.time_unit, f"{src}: times")
        self.units = unit_ids(self.units, f"{src}: units")
        if len(self.units) != len(self.times):
            raise SpikeInputError(f"{src}: {len(self.times)} times but {len(self.units)} unit ids; expected one id "
                                  "per spike")
        self.time_unit_assumed = how.startswith("assumed") and not self.checked
        self.time_unit_read = (unit, "read by lfpk.read_spikes" if self.checked else how)  # (unit, how known)
        self.attrs.setdefault("time_units", f"{unit} ({how})")
        pmap = as_population_map(self.unit_population, f"{src}: unit_population")
        if self.populations is None:
            if pmap is None:
                raise SpikeInputError(f"{src}: give unit_population (unit id -> population) or populations with "
                                      "population_index")
            self.populations = list(pmap.populations)
        self.populations = [str(p) for p in self.populations]
        if self.population_index is None:
            if pmap is None:
                raise SpikeInputError(f"{src}: give unit_population (unit id -> population) or population_index")
            local = pmap.lookup(self.units)
            if (local < 0).any():
                i = int(np.flatnonzero(local < 0)[0])
                raise SpikeInputError(f"{src}, index {i}: unit {int(self.units[i])} is not in the unit->population "
                                      f"map; expected one of its {pmap.n_units()} units")
            index = {p: i for i, p in enumerate(self.populations)}
            table = np.array([index.get(p, -1) for p in pmap.populations] + [-1], dtype=np.int64)
            self.population_index = table[local]
            if (self.population_index < 0).any():
                i = int(np.flatnonzero(self.population_index < 0)[0])
                raise SpikeInputError(f"{src}, index {i}: unit {int(self.units[i])} is in population "
                                      f"{pmap.populations[local[i]]!r} of the map, which is not in populations "
                                      f"{self.populations}; expected every mapped population listed")
        self.population_index = np.asarray(self.population_index, dtype=np.int64).ravel()
        if len(self.population_index) != len(self.times):
            raise SpikeInputError(f"{src}: {len(self.times)} times but {len(self.population_index)} population "
                                  "indices")
        if len(self.population_index) and not ((self.population_index >= 0).all()
                                               and (self.population_index < len(self.populations)).all()):
            raise SpikeInputError(f"{src}: population_index outside 0..{len(self.populations) - 1}")
        if self.tstop is not None:
            self.tstop = check_tstop(self.tstop, f"{src}: tstop")
        if self.checked:
            return
        check_times(self.times, self.tstop, lambda i: f"{src}, index {i}", converted=unit == "s")
        if self.time_unit_assumed and self.tstop is not None and self.n_spikes:
            check_seconds(float(self.times.max()), self.n_spikes, self.tstop, f"{src}: times", MEMORY_WAY_OUT)
        if self.duplicates == "error":
            check_duplicates(self.population_index, self.units, self.times, self.populations,
                             lambda i: f"{src}, index {i}")
        order = np.lexsort((self.units, self.population_index, self.times))
        if not np.all(order == np.arange(len(order))):
            self.times, self.units = self.times[order], self.units[order]
            self.population_index = self.population_index[order]

    @property
    def n_spikes(self) -> int:
        return int(len(self.times))

    def population_of_spikes(self) -> np.ndarray:
        """Population name of every spike."""
        return np.array(self.populations + [""], dtype=str)[self.population_index]

    def n_spikes_of(self) -> dict:
        """Population -> number of spikes."""
        n = np.bincount(self.population_index, minlength=len(self.populations))
        return {p: int(k) for p, k in zip(self.populations, n)}


def read_spikes(path, populations=None, tstop=None, duplicates="error", time_unit=None, nest_resolution=None,
                unit_offsets=None) -> SpikeData:
    """Read and validate every spike of one or several files into memory.

    Parameters
    ----------
    path : str, path-like, or list of them
        ``spikes.nc``, text files, globs, folders; each optionally ``POP=...`` (see
        :class:`SpikeRecording`).
    populations : path-like, dict or PopulationMap, optional
        Unit->population map, needed for unlabelled text files.
    tstop : float, optional
        Stop time (ms); required for text files, overrides the netCDF attribute.
    duplicates : {'error', 'keep'}
        Exact duplicate spikes (same population, unit and time): refuse (default) or keep.
    time_unit : {'ms', 's'}, optional
        Unit of times whose file states none (default ms, checked by the 1 % rule).
    nest_resolution : float, optional
        Simulation resolution (ms) of NEST ``time_in_steps`` files.
    unit_offsets : dict, optional
        Population -> offset added to the ids of its labelled files.
    """
    if duplicates not in ("error", "keep"):
        raise ValueError(f"duplicates: must be 'error' or 'keep', got {duplicates!r}")
    rec = SpikeRecording(path, populations, tstop, time_unit, nest_resolution, unit_offsets)
    parts = {"pop": [], "unit": [], "time": [], "source": [], "loc": []}
    early = {}
    for chunk in rec.chunks():
        parts["pop"].append(chunk.population)
        parts["unit"].append(chunk.units)
        parts["time"].append(chunk.times)
        parts["source"].append(np.full(len(chunk), chunk.source, dtype=np.int64))
        parts["loc"].append(chunk.locations)
        track_early(early, rec, chunk)
    a = {k: np.concatenate(v) if v else np.zeros(0, np.float64 if k == "time" else np.int64) for k, v in parts.items()}
    if time_unit is None:
        check_early(early, rec.tstop)
    found = _first_duplicate(a["pop"], a["unit"], a["time"], a["source"], a["loc"]) if len(a["time"]) else None
    n_dup = 0
    if found is not None:
        if duplicates == "error":
            i, j = found
            first, second = sorted([(int(a["source"][i]), int(a["loc"][i])), (int(a["source"][j]), int(a["loc"][j]))])
            raise SpikeInputError(duplicate_message(rec, int(a["pop"][i]), int(a["unit"][i]), float(a["time"][i]),
                                                    first, second))
        key = np.lexsort((a["time"], a["unit"], a["pop"]))
        same = ((np.diff(a["pop"][key]) == 0) & (np.diff(a["unit"][key]) == 0) & (np.diff(a["time"][key]) == 0))
        n_dup = int(same.sum())
    order = np.lexsort((a["loc"], a["source"], a["unit"], a["pop"], a["time"]))
    already = bool(np.all(order == np.arange(len(order))))
    labelled = any(s.population for s in rec.sources)
    nc_maps = [r.map for s, r in zip(rec.sources, rec.readers) if s.is_netcdf]
    if not labelled and not nc_maps:
        unit_population = rec.map
    elif not labelled and rec.map is None and len(nc_maps) == 1:
        unit_population = nc_maps[0]
    else:
        unit_population = _merged_map(rec, a)
    formats = sorted({"netcdf" if s.is_netcdf else "text" for s in rec.sources})
    attrs = {"spike_format": "+".join(formats), "spike_source": ", ".join(str(s.path) for s in rec.sources),
             "input_sorted": int(already), "duplicates": duplicates, "n_duplicates": n_dup,
             "time_units": "; ".join(f"{s.path}: {u[0]} ({u[1]})" for s, u in zip(rec.sources, rec.units_used) if u)}
    if populations is not None and not isinstance(populations, (dict, PopulationMap)):
        attrs["population_map"] = str(populations)
    return SpikeData(times=a["time"][order], units=a["unit"][order], unit_population=unit_population,
                     populations=rec.populations, tstop=rec.tstop, dt=rec.dt, source=attrs["spike_source"],
                     attrs=attrs, population_index=a["pop"][order], duplicates=duplicates, checked=True)


def _merged_map(rec, a):
    """A unit->population map of the spikes read, or None where ids repeat across populations."""
    pairs = {}
    for r in rec.readers:
        if hasattr(r, "map"):
            for lo, hi, p in r.map.ranges():
                for u in range(lo, hi + 1):
                    pairs.setdefault(u, set()).add(p)
    if rec.map is not None:
        for lo, hi, p in rec.map.ranges():
            for u in range(lo, hi + 1):
                pairs.setdefault(u, set()).add(p)
    for u, k in zip(*np.unique(np.c_[a["unit"], a["pop"]], axis=0).T) if len(a["unit"]) else []:
        pairs.setdefault(int(u), set()).add(rec.populations[int(k)])
    if any(len(v) > 1 for v in pairs.values()):
        return None
    return {u: next(iter(v)) for u, v in pairs.items()} or None


def population_counts(spikes: SpikeData, dt, tstop=None, populations=None):
    """Spike counts per population and time bin.

    Parameters
    ----------
    spikes : SpikeData
    dt : float
        Bin width (ms).
    tstop : float, optional
        Stop time (ms); default ``spikes.tstop``.
    populations : list of str, optional
        Row order (default ``spikes.populations``); names absent from the spikes give zero rows.

    Returns
    -------
    xarray.DataArray
        ``(population, time)`` int64 spikes per bin ``[k dt, (k+1) dt)``, time coordinate ``k dt``
        (ms), ``k = 0 .. floor(tstop/dt)``. Sums to the number of spikes of those populations.

    Examples
    --------
    Four spikes of units 0-2 (E) and 3 (I), counted in 1 ms bins up to 4 ms:

    >>> spikes = SpikeData(times=[0.5, 1.0, 1.2, 3.9], units=[0, 3, 1, 2],
    ...                    unit_population={"E": [0, 1, 2], "I": [3]}, populations=["E", "I"], tstop=4.0)
    >>> counts = population_counts(spikes, dt=1.0)
    >>> counts.sel(population="E").values.tolist(), counts.sel(population="I").values.tolist()
    ([1, 1, 0, 1, 0], [0, 1, 0, 0, 0])
    >>> counts["time"].values.tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0]
    """
    if not isinstance(spikes, SpikeData):
        raise TypeError(f"spikes: expected a SpikeData (lfpk.SpikeData, lfpk.read_spikes or a reader of "
                        f"lfpk.engines.spikes.formats), got {type(spikes).__name__}")
    if not (dt is not None and np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt: bin width must be a positive number of ms, got {dt!r}")
    if tstop is None and spikes.tstop is None:
        raise ValueError("tstop: stop time (ms) needed to define the time axis")
    tstop = spikes.tstop if tstop is None else check_tstop(tstop)
    pops = list(spikes.populations if populations is None else populations)
    n = n_bins(tstop, dt)
    check_times(spikes.times, tstop, lambda i: f"{spikes.source}, index {i}")
    if spikes.time_unit_assumed and spikes.n_spikes:
        check_seconds(float(spikes.times.max()), spikes.n_spikes, tstop, f"{spikes.source}: times", MEMORY_WAY_OUT)
    counts = np.zeros((len(pops), n), dtype=np.int64)
    if spikes.n_spikes:
        b = bin_index(spikes.times, dt, n)
        table = np.array([pops.index(p) if p in pops else -1 for p in spikes.populations] + [-1], dtype=np.int64)
        row = table[spikes.population_index]
        keep = row >= 0
        np.add.at(counts, (row[keep], b[keep]), 1)
    time = np.arange(n) * float(dt)
    return xr.DataArray(
        counts, dims=("population", "time"),
        coords={"population": pops, "time": ("time", time, {"units": "ms", "long_name": "bin start time"})},
        name="population_count",
        attrs={"units": "1", "long_name": "spikes per time bin [time, time + dt)", "dt": float(dt),
               "tstop": float(tstop), "spike_source": spikes.source})
