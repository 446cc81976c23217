"""Spikes in memory as a recording: what the streaming stage reads from files, from a SpikeData.

:class:`MemoryRecording` gives a validated :class:`lfpk.engines.spikes.SpikeData` (arrays, a NEST
recorder, a Brian2 monitor, Neo, SONATA, NWB: :mod:`lfpk.engines.spikes.formats`) the interface of
:class:`lfpk.engines.spikes.recording.SpikeRecording` -- sources, populations, stop time, chunks of
(population, unit, time, location) -- so :func:`lfpk.engines.spikes.count_recording`, its checks and
its report, and :func:`lfpk.engines.prediction.predict.predict_files` treat both alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lfpk.engines.spikes.checks import check_times, check_tstop
from lfpk.engines.spikes.maps import as_population_map
from lfpk.engines.spikes.readers import CHUNK_ROWS
from lfpk.engines.spikes.recording import SpikeChunk


@dataclass
class MemorySource:
    """The one source of a :class:`MemoryRecording` (the counterpart of a spike file).

    Attributes
    ----------
    path : str
        What the spikes are (``SpikeData.source``), named in messages and attributes.
    format : str
        ``SpikeData.attrs['spike_format']`` (``memory``, ``sonata``, ``nwb``, ``neo``, ``nest``, ...).
    """

    path: str
    format: str = "memory"
    population: str | None = None
    unit_offset: int = 0
    is_netcdf: bool = False
    is_file: bool = False

    @property
    def spec(self):
        return self.path


class MemoryRecording:
    """A :class:`lfpk.engines.spikes.SpikeData` read like spike files.

    Parameters
    ----------
    spikes : SpikeData
    tstop : float, optional
        Stop time (ms); default ``spikes.tstop`` (one of them is needed). Spikes after it are refused.
    chunk_rows : int
        Spikes per chunk.
    """

    def __init__(self, spikes, tstop=None, chunk_rows=CHUNK_ROWS):
        self.spikes = spikes
        self.sources = [MemorySource(str(spikes.source), str(spikes.attrs.get("spike_format", "memory")),
                                     is_file=bool(spikes.attrs.get("spike_file")))]
        self.readers = []
        self.populations = list(spikes.populations)
        self.map = as_population_map(spikes.unit_population, f"{spikes.source}: unit_population")
        if tstop is None and spikes.tstop is None:
            raise ValueError(f"{spikes.source}: give the stop time tstop (ms, --tstop) to define the time axis")
        self.tstop = spikes.tstop if tstop is None else check_tstop(tstop)
        self.dt = spikes.dt
        self.chunk_rows = int(chunk_rows)
        self.units_used = [spikes.time_unit_read]
        check_times(spikes.times, self.tstop, lambda i: self.location(0, i))

    def location(self, source, loc) -> str:
        return f"{self.sources[source].path}, spike index {int(loc)} (0-based)"

    def population_size(self, population):
        if self.map is not None and population in self.map.populations:
            return self.map.size(population), f"unit map of {self.sources[0].path}"
        return None, "no unit map"

    def id_range(self, population):
        if self.map is not None and population in self.map.populations:
            return self.map.id_range(population)
        return None

    def estimated_spikes(self) -> int:
        return self.spikes.n_spikes

    def chunks(self):
        sp = self.spikes
        for a in range(0, sp.n_spikes, self.chunk_rows):
            b = min(a + self.chunk_rows, sp.n_spikes)
            yield SpikeChunk(sp.population_index[a:b], sp.units[a:b], sp.times[a:b], 0,
                             np.arange(a, b, dtype=np.int64))
