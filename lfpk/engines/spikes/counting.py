"""Spike counts per population and time bin, streamed from a recording, with what to check first.

:func:`count_recording` reads a :class:`~lfpk.engines.spikes.recording.SpikeRecording` chunk by chunk and
returns :class:`SpikeCounts`: the ``(population, bin)`` counts and per-population statistics
(spikes, spiking units, id range, time units). Memory: the counts (4 bytes per population and bin:
0.46 GB for two populations over an hour at 1/16 ms) plus one chunk; never all spikes.

Binning: bin ``k`` is ``[k dt, (k+1) dt)`` with time coordinate ``k dt``, ``k = 0 .. floor(tstop/dt)``
(``floor(tstop/dt) + 1`` bins, times 0 to tstop inclusive, the ground truth's time axis). A spike at
``t`` goes to bin ``floor(t/dt + 1e-6)`` (the tolerance absorbs float representation of times on a
bin edge; the network's rule); every spike in ``[0, tstop]`` is counted once.

Exact duplicates (same population, unit and time) are refused by default -- a neuron cannot fire
twice at one instant, so they mean a file given twice, overlapping files (a merged file and its
parts) or two recorders on one neuron. They are found with bounded memory: a blocked Bloom filter
(about 10 bits per spike) flags candidates while counting; only if there are any, a second pass
over the files compares the candidates exactly and names both places of the first duplicate.

Checks (:meth:`SpikeCounts.check`), each refusing with one line naming files and what was expected:
no spike at all (an empty or header-only file); a required population without spikes (unless
allowed: then a :class:`~lfpk.engines.spikes.errors.SpikeWarning`); and spike times whose unit no file
states that all lie within the first 1 % of tstop -- seconds taken as ms (a 2 s recording read as
2 ms) -- unless the unit was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pathlib import Path

import numpy as np
import xarray as xr

from lfpk.engines.spikes.checks import EARLY_FRACTION, check_seconds, check_silent, duplicate_text, first_duplicate
from lfpk.engines.spikes.errors import SpikeInputError, SpikeWarning  # noqa: F401  (SpikeWarning: API)

# the binning rule (tolerance BIN_EPS, n_bins, bin_index) is lfpk.model.rules', shared with the network
from lfpk.model.rules import BIN_EPS, bin_index, n_bins  # noqa: E402,F401

#: bits of the duplicate filter per expected spike
_BLOOM_BITS_PER_SPIKE = 10
_BLOOM_HASHES = 7
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


# ---------------------------------------------------------------------------------------------
# Duplicates
# ---------------------------------------------------------------------------------------------


def _mix(x):
    """splitmix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * _M1
        x = x ^ (x >> np.uint64(27))
        x = x * _M2
        return x ^ (x >> np.uint64(31))


def spike_keys(population, units, times):
    """64-bit hash of (population, unit, time) of every spike (equal spikes, equal keys)."""
    t = np.asarray(times, dtype=np.float64) + 0.0  # -0.0 -> 0.0
    with np.errstate(over="ignore"):
        a = _mix(np.asarray(units).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
                 + np.asarray(population).astype(np.uint64))
    return _mix(t.view(np.uint64) ^ a)


class DuplicateFilter:
    """Blocked Bloom filter of spike keys: one 64-bit word per key, 7 bits set in it.

    Parameters
    ----------
    expected : int
        Expected number of spikes (sizes the filter to about 10 bits per spike).
    """

    MIN_WORDS = 1 << 16

    def __init__(self, expected):
        words = max(self.MIN_WORDS, int(expected) * _BLOOM_BITS_PER_SPIKE // 64 + 1)
        self.words = np.zeros(words, dtype=np.uint64)
        self.candidates = []

    def _slots(self, keys):
        idx = (keys % np.uint64(len(self.words))).astype(np.int64)
        h = keys >> np.uint64(20) | np.uint64(1)
        mask = np.zeros(len(keys), dtype=np.uint64)
        for j in range(_BLOOM_HASHES):
            mask |= np.uint64(1) << ((h >> np.uint64(6 * j)) & np.uint64(63))
        return idx, mask

    def add(self, keys):
        """Insert ``keys``; keys that may have been inserted before become candidates."""
        idx, mask = self._slots(keys)
        seen = (self.words[idx] & mask) == mask
        if seen.any():
            self.candidates.append(np.unique(keys[seen]))
        np.bitwise_or.at(self.words, idx, mask)

    def candidate_keys(self):
        return np.unique(np.concatenate(self.candidates)) if self.candidates else np.zeros(0, np.uint64)


_first_duplicate = first_duplicate  # the one rule, lfpk.engines.spikes.checks


def duplicate_message(recording, pop, unit, time, first, second):
    """Message of an exact duplicate spike at locations ``first`` and ``second`` (source, loc)."""
    return duplicate_text(recording.populations[pop], unit, time, recording.location(*second),
                          recording.location(*first))


# ---------------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------------


@dataclass
class PopulationStats:
    """What the spikes of one population look like (for the report and the checks)."""

    population: str
    n_spikes: int = 0
    units: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # distinct spiking unit ids
    size: int | None = None  # units in the population (map), None if unknown
    size_source: str = ""
    map_range: tuple | None = None

    @property
    def n_units(self) -> int:
        return int(len(self.units))

    @property
    def id_range(self):
        return (int(self.units[0]), int(self.units[-1])) if len(self.units) else None

    def rate(self, duration_ms):
        """Mean rate (1/s) over ``duration_ms``: spikes / (units * duration); units from the map, else
        the spiking units (an upper bound of the rate). None without spikes and size."""
        n = self.size or self.n_units
        return self.n_spikes / (n * duration_ms * 1e-3) if n else None


@dataclass
class SpikeCounts:
    """Counts per population and bin of a recording, and per-population statistics.

    Attributes
    ----------
    counts : ndarray (n_populations, n_bins) int32
    populations : list of str
    dt, tstop : float
        Bin width and stop time (ms).
    stats : dict of PopulationStats
    units_used : list of (path, unit, how)
        Time unit of each file and how it was known.
    n_duplicates : int
        Exact duplicates kept (``duplicates='keep'``: not searched, -1).
    source : str
    """

    counts: np.ndarray
    populations: list
    dt: float
    tstop: float
    stats: dict
    units_used: list
    n_duplicates: int
    source: str
    early: dict = field(default_factory=dict)  # unstated-unit files: max time (ms) and file list

    @property
    def n_spikes(self) -> int:
        return int(sum(s.n_spikes for s in self.stats.values()))

    def to_dataarray(self, populations=None):
        """``(population, time)`` int64 DataArray (the :func:`population_counts` layout)."""
        pops = list(self.populations if populations is None else populations)
        rows = [self.counts[self.populations.index(p)] if p in self.populations
                else np.zeros(self.counts.shape[1], np.int32) for p in pops]
        time = np.arange(self.counts.shape[1]) * float(self.dt)
        return xr.DataArray(
            np.asarray(rows, dtype=np.int64).reshape(len(pops), -1), dims=("population", "time"),
            coords={"population": pops, "time": ("time", time, {"units": "ms", "long_name": "bin start time"})},
            name="population_count",
            attrs={"units": "1", "long_name": "spikes per time bin [time, time + dt)", "dt": float(self.dt),
                   "tstop": float(self.tstop), "spike_source": self.source})

    def rates(self):
        """Population -> mean rate (1/s) over [0, tstop]."""
        return {p: s.rate(self.tstop) for p, s in self.stats.items()}

    def report(self):
        """Lines describing every population and the files' time units."""
        lines = []
        for p, s in self.stats.items():
            ids = f"ids {s.id_range[0]}-{s.id_range[1]}" if s.id_range else "no ids"
            if s.size:
                of = f"{s.n_units} of {s.size} units spiking ({s.size_source}"
                of += f": ids {s.map_range[0]}-{s.map_range[1]})" if s.map_range else ")"
            else:
                of = f"{s.n_units} units spiking (population size unknown: rate over spiking units)"
            r = s.rate(self.tstop)
            rate = f"mean rate {r:.4g} /s" if r is not None else "mean rate n/a"
            lines.append(f"{p}: {s.n_spikes} spikes, {ids}, {of}, {rate} over 0-{self.tstop:g} ms")
        groups = {}
        for path, unit, how in self.units_used:
            groups.setdefault((unit, how), []).append(str(path))
        for (unit, how), files in groups.items():
            shown = files[0] if len(files) == 1 else f"{len(files)} files ({files[0]}, ...)"
            lines.append(f"time unit {unit} ({how}): {shown}")
        return lines

    def check(self, required=None, allow_silent=False, time_unit_given=False):
        """Refuse recordings that would give an all-zero, partial or mis-scaled prediction.

        Parameters
        ----------
        required : list of str, optional
            Populations that must have spikes (the kernels' presynaptic populations).
        allow_silent : bool or list of str
            Populations (True: all) allowed to have no spike: a :class:`SpikeWarning` instead.
        time_unit_given : bool
            The time unit was given, so the 1 % rule is off.
        """
        if self.n_spikes == 0:
            files = ", ".join(str(p) for p, _, _ in self.units_used[:3]) + (" ..." if len(self.units_used) > 3 else "")
            on_disk = any(Path(str(path)).is_file() for path, _, _ in self.units_used)
            what = "empty or header-only spike files" if on_disk else "no spike in the arrays or objects given"
            raise SpikeInputError(f"{files}: no spikes ({what}); expected at least one spike of a presynaptic "
                                  "population")
        check_silent({p: s.n_spikes for p, s in self.stats.items()}, required, allow_silent, self.source)
        if not time_unit_given:
            check_early(self.early, self.tstop)


def check_early(early, tstop, way_out=None):
    """Refuse spikes of files without a stated time unit that all lie in the first 1 % of tstop
    (:func:`lfpk.engines.spikes.checks.check_seconds`).

    ``early``: ``{'max_time': ms, 'n': spikes, 'files': [paths]}`` of those files (empty: none);
    ``way_out``: what to give instead (default: the ``--time-unit`` option).
    """
    if not early or not early.get("n"):
        return
    files = early["files"]
    shown = files[0] if len(files) == 1 else f"{files[0]} (and {len(files) - 1} more files)"
    if way_out is None:
        check_seconds(early["max_time"], early["n"], tstop, shown)
    else:
        check_seconds(early["max_time"], early["n"], tstop, shown, way_out)


def track_early(early, recording, chunk):
    """Update ``early`` (see :func:`check_early`) with a chunk whose file states no time unit."""
    if not recording.units_used[chunk.source][1].startswith("assumed") or not len(chunk):
        return
    early["max_time"] = max(early.get("max_time", -np.inf), float(chunk.times.max()))
    early["n"] = early.get("n", 0) + len(chunk)
    path = str(recording.sources[chunk.source].path)
    early.setdefault("files", [])
    if path not in early["files"]:
        early["files"].append(path)


def count_recording(recording, dt, duplicates="error", populations=None):
    """Stream ``recording`` once (twice if duplicates must be located) and count its spikes.

    Parameters
    ----------
    recording : SpikeRecording
    dt : float
        Bin width (ms).
    duplicates : {'error', 'keep'}
        Exact duplicate spikes: refuse (default) or count each.
    populations : list of str, optional
        Row order (default the recording's); the recording's other populations are counted too.

    Returns
    -------
    SpikeCounts
    """
    if duplicates not in ("error", "keep"):
        raise ValueError(f"duplicates: must be 'error' or 'keep', got {duplicates!r}")
    if not (dt is not None and np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt: bin width must be a positive number of ms, got {dt!r}")
    pops = list(populations or []) + [p for p in recording.populations if p not in (populations or [])]
    row = np.array([pops.index(p) for p in recording.populations], dtype=np.int64)
    n = n_bins(recording.tstop, dt)
    counts = np.zeros((len(pops), n), dtype=np.int32)
    n_spikes = np.zeros(len(pops), dtype=np.int64)
    seen_units = [UnitSet() for _ in pops]
    filt = DuplicateFilter(recording.estimated_spikes()) if duplicates == "error" else None
    early = {}
    for chunk in recording.chunks():
        if not len(chunk):
            continue
        r = row[chunk.population]
        b = bin_index(chunk.times, dt, n)
        _accumulate(counts, r, b)
        n_spikes += np.bincount(r, minlength=len(pops))
        if len(pops) == 1:
            seen_units[0].add(chunk.units)
        else:
            for k in np.unique(r):
                seen_units[k].add(chunk.units[r == k])
        track_early(early, recording, chunk)
        if filt is not None:
            keys = spike_keys(chunk.population, chunk.units, chunk.times)
            _check_chunk_duplicates(recording, chunk, keys)
            filt.add(keys)
    if filt is not None:
        candidates = filt.candidate_keys()
        filt = None  # free the filter before a second pass
        if len(candidates):
            _locate_duplicates(recording, candidates)
    stats = {}
    for k, p in enumerate(pops):
        units = seen_units[k].values()
        size, origin = recording.population_size(p) if p in recording.populations else (None, "")
        stats[p] = PopulationStats(p, int(n_spikes[k]), units, size, origin,
                                   recording.id_range(p) if p in recording.populations else None)
    used = [(src.path, *(u or ("ms", "not read"))) for src, u in zip(recording.sources, recording.units_used)]
    source = ", ".join(str(s.path) for s in recording.sources[:3]) + (
        f" (+{len(recording.sources) - 3} files)" if len(recording.sources) > 3 else "")
    return SpikeCounts(counts, pops, float(dt), recording.tstop, stats, used,
                       0 if duplicates == "error" else -1, source, early)


def _check_chunk_duplicates(recording, chunk, keys):
    """Exact duplicates inside one chunk: equal keys first (one sort), then the exact comparison."""
    order = np.argsort(keys, kind="stable")
    same = np.diff(keys[order]) == 0
    if not same.any():
        return
    idx = np.unique(np.r_[order[:-1][same], order[1:][same]])
    found = _first_duplicate(chunk.population[idx], chunk.units[idx], chunk.times[idx],
                             np.full(len(idx), chunk.source), chunk.locations[idx])
    if found is not None:
        a, c = idx[found[0]], idx[found[1]]
        raise SpikeInputError(duplicate_message(
            recording, int(chunk.population[a]), int(chunk.units[a]), float(chunk.times[a]),
            (chunk.source, chunk.locations[a]), (chunk.source, chunk.locations[c])))


class UnitSet:
    """Distinct unit ids seen: a bitmap while ids lie in [0, 2^26), sorted unique ids otherwise."""

    LIMIT = 1 << 26

    def __init__(self):
        self.bits = np.zeros(0, dtype=bool)
        self.other = []

    def add(self, units):
        if not len(units):
            return
        lo, hi = int(units.min()), int(units.max())
        if lo >= 0 and hi < self.LIMIT:
            if hi >= len(self.bits):
                self.bits = np.concatenate([self.bits, np.zeros(max(hi + 1, 2 * len(self.bits)) - len(self.bits), bool)])
            self.bits[units] = True
        else:
            self.other.append(np.unique(units))
            if len(self.other) > 64:
                self.other = [np.unique(np.concatenate(self.other))]

    def values(self):
        ids = np.flatnonzero(self.bits).astype(np.int64)
        if self.other:
            ids = np.unique(np.concatenate([ids, *self.other]))
        return ids


def _accumulate(counts, rows, bins):
    """counts[rows, bins] += 1 for every spike (repeats counted)."""
    lo, hi = int(bins.min()), int(bins.max())
    width = hi - lo + 1
    if counts.shape[0] * width <= 8 * len(bins) + (1 << 20):  # a time window (files in time order)
        local = np.bincount(rows * width + (bins - lo), minlength=counts.shape[0] * width)
        counts[:, lo:hi + 1] += local.reshape(counts.shape[0], width).astype(counts.dtype)
    else:  # spread over the recording: sort instead of scattering into the whole array
        flat, k = np.unique(rows * counts.shape[1] + bins, return_counts=True)
        counts.reshape(-1)[flat] += k.astype(counts.dtype)


def _locate_duplicates(recording, candidates):
    """Second pass: exact comparison of the spikes whose key is a candidate; raise on a duplicate."""
    hits = {"pop": [], "unit": [], "time": [], "source": [], "loc": []}
    for chunk in recording.chunks():
        keys = spike_keys(chunk.population, chunk.units, chunk.times)
        i = np.searchsorted(candidates, keys)
        sel = candidates[np.minimum(i, len(candidates) - 1)] == keys
        if sel.any():
            hits["pop"].append(chunk.population[sel])
            hits["unit"].append(chunk.units[sel])
            hits["time"].append(chunk.times[sel])
            hits["source"].append(np.full(int(sel.sum()), chunk.source))
            hits["loc"].append(chunk.locations[sel])
    if not hits["pop"]:
        return
    h = {k: np.concatenate(v) for k, v in hits.items()}
    found = _first_duplicate(h["pop"], h["unit"], h["time"], h["source"], h["loc"])
    if found is not None:
        a, b = found
        first, second = sorted([(int(h["source"][a]), int(h["loc"][a])), (int(h["source"][b]), int(h["loc"][b]))])
        raise SpikeInputError(duplicate_message(recording, int(h["pop"][a]), int(h["unit"][a]), float(h["time"][a]),
                                                first, second))
