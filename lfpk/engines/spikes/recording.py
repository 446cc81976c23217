"""A recording's spike files read as one: populations, stop time, time units, validated chunks.

:class:`SpikeRecording` gathers the sources (:func:`lfpk.engines.spikes.readers.expand_sources`), decides
every spike's population (a ``POP=`` label, the unit map, or a netCDF file's own
``unit_population``), converts times to ms, and yields :class:`SpikeChunk` objects of bounded size
whose every spike was checked:

* the time is finite, ``>= 0`` and ``<= tstop`` (ms);
* the unit is in the map (or the netCDF file's units); a labelled file's units, where the map has
  them, belong to the label's population.

Each failure raises :class:`~lfpk.engines.spikes.errors.SpikeInputError` naming the file and line (text) or
variable and spike index (netCDF). Iterating twice reads the files twice (the duplicate check of
:mod:`lfpk.engines.spikes.counting` may need a second pass); memory is bounded by the chunk size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lfpk.base.files import register_input
from lfpk.engines.spikes.checks import check_times
from lfpk.engines.spikes.errors import SpikeInputError
from lfpk.engines.spikes.maps import PopulationMap, as_population_map
from lfpk.engines.spikes.readers import CHUNK_ROWS, NetCDFSpikeFile, TextSpikeFile, expand_sources, fmt_num

TIME_UNITS = ("ms", "s")


@dataclass
class SpikeChunk:
    """Validated spikes of one file, in file order.

    Attributes
    ----------
    population : ndarray of int
        Index into :attr:`SpikeRecording.populations` of each spike.
    units : ndarray of int64
        Unit ids (offset applied).
    times : ndarray of float64
        Spike times (ms).
    source : int
        Index of the file in :attr:`SpikeRecording.sources`.
    locations : ndarray of int64
        1-based line numbers (text) or 0-based spike indices (netCDF).
    """

    population: np.ndarray
    units: np.ndarray
    times: np.ndarray
    source: int
    locations: np.ndarray

    def __len__(self):
        return len(self.times)


class SpikeRecording:
    """Spike files of one recording (see the module docstring).

    Parameters
    ----------
    spikes : str, path-like, or list of them
        Files, globs or folders, each optionally ``POP=...`` (all spikes of those files belong to
        ``POP``).
    populations : path-like, dict or PopulationMap, optional
        Unit -> population map (:mod:`lfpk.engines.spikes.maps`): needed for unlabelled text files.
    tstop : float, optional
        Stop time (ms): required for text files; overrides netCDF ``tstop`` attributes.
    time_unit : {'ms', 's'}, optional
        Unit of times whose file does not state one (a header without unit, or none). Must agree
        with a unit that a file states.
    nest_resolution : float, optional
        Simulation resolution (ms) of NEST ``time_in_steps`` files.
    unit_offsets : dict, optional
        Population -> offset added to the unit ids of its labelled files (Brian2 subgroup monitors
        count from 0).
    chunk_rows : int
        Spikes per chunk (bounds memory).
    """

    def __init__(self, spikes, populations=None, tstop=None, time_unit=None, nest_resolution=None,
                 unit_offsets=None, chunk_rows=CHUNK_ROWS):
        if time_unit not in (None, *TIME_UNITS):
            raise SpikeInputError(f"time unit: expected one of {TIME_UNITS}, got {time_unit!r}")
        if nest_resolution is not None and not (np.isfinite(nest_resolution) and nest_resolution > 0):
            raise SpikeInputError(f"NEST resolution: expected a positive number of ms, got {fmt_num(nest_resolution)}")
        self.sources = expand_sources(spikes, unit_offsets)
        self.map = as_population_map(populations)
        self.time_unit = time_unit
        self.chunk_rows = int(chunk_rows)
        self.readers = []
        for src in self.sources:
            register_input(src.path)
            if src.is_netcdf:
                self.readers.append(NetCDFSpikeFile(src, chunk_rows))
            else:
                self.readers.append(TextSpikeFile(src, nest_resolution, chunk_rows))
        if populations is not None and not isinstance(populations, (dict, PopulationMap)):
            register_input(populations)
        self._set_populations()
        self._set_tstop(tstop)
        self.units_used = [None] * len(self.sources)  # set while reading: (unit, how it was known)

    # -- set-up ---------------------------------------------------------------------------------

    def _set_populations(self):
        pops = list(self.map.populations) if self.map is not None else []
        for src, r in zip(self.sources, self.readers):
            if src.population and src.population not in pops:
                if self.map is not None:
                    raise SpikeInputError(
                        f"{src.spec}: population {src.population!r} is not in the unit map {self.map.source} "
                        f"(populations: {', '.join(self.map.populations)})")
                pops.append(src.population)
            if src.is_netcdf:
                pops += [p for p in r.map.populations if p not in pops]
            elif not src.population and self.map is None:
                raise SpikeInputError(
                    f"{src.path}: text spike files need a unit->population map (--populations: 'unit,population' "
                    "lines or id ranges 'E: 1-8192') or a population label (--spikes E=path)")
        self.populations = pops
        self._index = {p: i for i, p in enumerate(pops)}

    def _set_tstop(self, tstop):
        if tstop is not None:
            if not (np.isfinite(tstop) and tstop > 0):
                raise SpikeInputError(f"stop time tstop: expected a positive number of ms, got {fmt_num(tstop)}")
            self.tstop = float(tstop)
        else:
            found = {}
            for r in self.readers:
                if isinstance(r, NetCDFSpikeFile):
                    if r.tstop is None:
                        raise SpikeInputError(f"{r.path}: attribute 'tstop' (ms) is missing and no stop time was given "
                                              "(--tstop)")
                    found[r.path] = r.tstop
                else:
                    raise SpikeInputError(
                        f"{r.path}: text spike files need the stop time tstop (ms, --tstop) to define the time axis")
            if len(set(found.values())) > 1:
                listed = ", ".join(f"{p}: {t:g} ms" for p, t in found.items())
                raise SpikeInputError(f"spike files disagree on tstop ({listed}); give --tstop")
            self.tstop = float(next(iter(found.values())))
            if not (np.isfinite(self.tstop) and self.tstop > 0):
                raise SpikeInputError(f"{next(iter(found))}: attribute tstop must be a positive number of ms, got "
                                      f"{fmt_num(self.tstop)}")
        dts = {r.dt for r in self.readers if isinstance(r, NetCDFSpikeFile) and r.dt is not None}
        self.dt = dts.pop() if len(dts) == 1 else None

    # -- queries --------------------------------------------------------------------------------

    def location(self, source, loc) -> str:
        """Text naming spike ``loc`` (line or index) of file ``source`` for messages."""
        src = self.sources[source]
        if src.is_netcdf:
            return f"{src.path}: variable 'spike_time'/'spike_unit', spike index {int(loc)} (0-based)"
        return f"{src.path}, line {int(loc)}"

    def population_size(self, population):
        """(number of units, where it comes from) of ``population``, or (None, reason) if unknown."""
        if self.map is not None and population in self.map.populations:
            return self.map.size(population), f"unit map {self.map.source}"
        n = 0
        for r in self.readers:
            if isinstance(r, NetCDFSpikeFile) and population in r.map.populations:
                n += r.map.size(population)
        if n:
            return n, "netCDF unit_population"
        return None, "no unit map"

    def id_range(self, population):
        """(first, last) unit id of ``population`` in the map, or None."""
        if self.map is not None and population in self.map.populations:
            return self.map.id_range(population)
        ranges = [r.map.id_range(population) for r in self.readers
                  if isinstance(r, NetCDFSpikeFile) and population in r.map.populations]
        if ranges:
            return min(a for a, _ in ranges), max(b for _, b in ranges)
        return None

    def estimated_spikes(self) -> int:
        """Estimate of the number of spikes (netCDF: exact; text: bytes / 10, a NEST line
        ``8192<TAB>1234.567`` being 14 bytes; gzip x 4). It only sizes the duplicate filter: a low
        estimate means more candidates for the exact second pass, never a missed duplicate."""
        n = 0
        for src, r in zip(self.sources, self.readers):
            if isinstance(r, NetCDFSpikeFile):
                n += r.n_spikes
            else:
                size = src.path.stat().st_size
                with open(src.path, "rb") as f:
                    gz = f.read(2) == b"\x1f\x8b"
                n += size * (4 if gz else 1) // 10 + 1
        return n

    # -- reading --------------------------------------------------------------------------------

    def _time_factor(self, k, reader):
        """ms per unit of file ``k``'s times, recording how the unit was known."""
        if isinstance(reader, NetCDFSpikeFile):
            stated, how = reader.stated, "attribute units of spike_time"
        else:
            c = reader.columns
            stated = "ms" if c.stated == "steps" else c.stated
            how = (f"header {c.names[c.time]!r}" if c.stated in ("ms", "s") else
                   "NEST time_step * resolution - time_offset" if c.stated == "steps" else None)
        if stated and self.time_unit and stated != self.time_unit:
            raise SpikeInputError(f"{reader.path}: the {how} states {stated} but the time unit was given as "
                                  f"{self.time_unit}; expected them to agree")
        if stated:
            unit = stated
        elif self.time_unit:
            unit, how = self.time_unit, "given (--time-unit)"
        else:
            unit, how = "ms", "assumed: not stated"
        self.units_used[k] = (unit, how)
        return 1000.0 if unit == "s" else 1.0

    def chunks(self):
        """Validated :class:`SpikeChunk` objects of every file, file by file."""
        for k, (src, reader) in enumerate(zip(self.sources, self.readers)):
            factor = None
            for units, times, locs in reader:
                if factor is None:
                    factor = self._time_factor(k, reader)
                if factor != 1.0:
                    times = times * factor
                pop = self._populations_of(k, src, reader, units, locs)
                self._check_times(k, times, locs)
                yield SpikeChunk(pop, units, times, k, locs)
            if factor is None and not isinstance(reader, NetCDFSpikeFile) and reader.columns is None:
                self.units_used[k] = ("ms", "empty file")
            elif factor is None:
                self._time_factor(k, reader)

    def _populations_of(self, k, src, reader, units, locs):
        if isinstance(reader, NetCDFSpikeFile):
            local = reader.map.lookup(units)
            bad = local < 0
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise SpikeInputError(f"{self.location(k, locs[i])}: unit {int(units[i])} is not in the "
                                      f"unit->population map (the file's unit coordinate); expected one of its "
                                      f"{reader.map.n_units()} units")
            table = np.array([self._index[p] for p in reader.map.populations], dtype=np.int64)
            return table[local]
        if self.map is not None:
            mapped = self.map.lookup(units)
            table = np.array([self._index[p] for p in self.map.populations] + [-1], dtype=np.int64)
            pop = table[mapped]  # -1 (unknown) indexes the appended -1
        else:
            pop = None
        if src.population:
            want = self._index[src.population]
            if pop is not None:
                bad = pop != want
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    if pop[i] >= 0:
                        raise SpikeInputError(
                            f"{self.location(k, locs[i])}: unit {int(units[i])} is in population "
                            f"{self.populations[pop[i]]!r} in the unit map {self.map.source}, but the file is labelled "
                            f"{src.population}=; expected them to agree (check --unit-offset)")
                    raise SpikeInputError(
                        f"{self.location(k, locs[i])}: unit {int(units[i])} is not in the unit map {self.map.source} "
                        f"(population {src.population!r}: {self.map.describe(src.population)})")
            return np.full(len(units), want, dtype=np.int64)
        bad = pop < 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SpikeInputError(f"{self.location(k, locs[i])}: unit {int(units[i])} is not in the unit->population "
                                  f"map {self.map.source}; expected one of its {self.map.n_units()} units")
        return pop

    def _check_times(self, k, times, locs):
        check_times(times, self.tstop, lambda i: self.location(k, locs[i]), converted=self.units_used[k][0] == "s")
