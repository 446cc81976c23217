"""The one way every format reader builds its :class:`lfpk.engines.spikes.SpikeData`."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np

from lfpk.base.files import register_input
from lfpk.engines.spikes import SpikeData
from lfpk.engines.spikes.checks import times_in_ms, unit_ids
from lfpk.engines.spikes.errors import SpikeInputError
from lfpk.engines.spikes.maps import PopulationMap, as_population_map


def id_ranges(ids):
    """Sorted distinct ids as inclusive runs ``[(first, last), ...]`` (consecutive ids: one run)."""
    ids = np.unique(np.asarray(ids, dtype=np.int64))
    if not len(ids):
        return []
    cut = np.flatnonzero(np.diff(ids) != 1)
    starts = np.r_[ids[0], ids[cut + 1]]
    ends = np.r_[ids[cut], ids[-1]]
    return [(int(a), int(b)) for a, b in zip(starts, ends)]


def map_of_groups(groups, source):
    """A :class:`PopulationMap` from ``{population: ids}`` (ids of any iterable, e.g. a NodeCollection's)."""
    rows = []
    for pop, ids in groups.items():
        runs = id_ranges(ids)
        if not runs:
            raise SpikeInputError(f"{source}: population {pop!r} has no units; expected at least one id")
        rows += [(a, b, str(pop), f"{source}, population {pop!r}") for a, b in runs]
    return PopulationMap(rows, source)


def assemble(parts, source, fmt, populations=None, tstop=None, time_unit=None, duplicates="error", sizes=None,
             attrs=None, stated_by=None):
    """One ``SpikeData`` from the parts a reader found.

    Parameters
    ----------
    parts : list of (label, times, ids, what)
        ``label``: the population of every spike of the part, or None (the map decides); ``times``:
        numbers or an array carrying a time unit; ``ids``: integer unit ids; ``what``: names the
        part in messages.
    source : str
        What the spikes are (a path, ``NEST spike recorders``, ...).
    fmt : str
        Format name (attribute ``spike_format``).
    populations : path-like, dict or PopulationMap, optional
        Unit id -> population (needed for parts without a label).
    tstop : float, optional
        Stop time (ms).
    time_unit : {'ms', 's'}, optional
        Unit of unit-less times.
    duplicates : {'error', 'keep'}
    sizes : dict, optional
        ``{population: (first, last)}`` id ranges of labelled populations, when known (gives the
        populations' sizes for rates; used as the map when ids do not overlap).
    attrs : dict, optional
        Provenance added to ``SpikeData.attrs``.
    stated_by : str, optional
        What stated ``time_unit`` (the format: ``attribute units of timestamps``, ``the NWB
        standard``), said in the report instead of ``given``.
    """
    pmap = as_population_map(populations, f"{source}: populations")
    labels = [p[0] for p in parts if p[0] is not None]
    if pmap is None and len(labels) < len(parts):
        raise SpikeInputError(f"{source}: spikes without a population; give a unit id -> population map "
                              "(populations=) or label them (a dict {population: ...})")
    names = list(pmap.populations) if pmap is not None else []
    names += [p for p in dict.fromkeys(labels) if p not in names]
    times, ids, pops, units_seen, assumed = [], [], [], {}, False
    for label, t, u, what in parts:
        ms, unit, how = times_in_ms(t, time_unit, f"{what}: times")
        assumed |= how.startswith("assumed")
        units_seen.setdefault((unit, stated_by if stated_by and how.startswith("given") else how), None)
        u = unit_ids(u, f"{what}: unit ids")
        if len(u) != len(ms):
            raise SpikeInputError(f"{what}: {len(ms)} times but {len(u)} unit ids; expected one id per spike")
        if label is not None:
            if pmap is not None and len(u):
                local = pmap.lookup(u)
                want = pmap.populations.index(label) if label in pmap.populations else -2
                bad = local != want
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    where = "not in the map" if local[i] < 0 else f"in population {pmap.populations[local[i]]!r}"
                    raise SpikeInputError(f"{what}, index {i}: unit {int(u[i])} is {where} of {pmap.source}, but the "
                                          f"spikes are labelled {label!r}; expected them to agree")
            pops.append(np.full(len(u), names.index(label), dtype=np.int64))
        else:
            local = pmap.lookup(u)
            if (local < 0).any():
                i = int(np.flatnonzero(local < 0)[0])
                raise SpikeInputError(f"{what}, index {i}: unit {int(u[i])} is not in the unit->population map "
                                      f"{pmap.source}; expected one of its {pmap.n_units()} units")
            table = np.array([names.index(p) for p in pmap.populations], dtype=np.int64)
            pops.append(table[local])
        times.append(ms)
        ids.append(u)
    unit_population = pmap
    if pmap is None and sizes:
        try:
            unit_population = map_of_groups({p: range(a, b + 1) for p, (a, b) in sizes.items()}, source)
        except SpikeInputError:  # ids overlap across populations: sizes stay unknown
            unit_population = None
    cat = (lambda xs, dt: np.concatenate(xs) if xs else np.zeros(0, dt))
    data_attrs = {"spike_format": fmt, "spike_source": source, "time_units": "; ".join(f"{u} ({h})" for u, h in units_seen),
                  "duplicates": duplicates}
    data_attrs.update(attrs or {})
    pop_index = cat(pops, np.int64)
    if unit_population is not None and len(pop_index):
        local = unit_population.lookup(cat(ids, np.int64))
        expect = np.array([names.index(p) for p in unit_population.populations] + [-1], dtype=np.int64)[local]
        if (expect != pop_index).any():
            unit_population = None  # labels and ranges disagree: keep the labels, sizes unknown
    data = SpikeData(times=cat(times, np.float64), units=cat(ids, np.int64), unit_population=unit_population,
                     populations=names, tstop=tstop, source=source, attrs=data_attrs, population_index=pop_index,
                     time_unit=None if assumed else "ms", duplicates=duplicates)
    if len(units_seen) == 1:
        data.time_unit_read = next(iter(units_seen))
    elif units_seen:
        data.time_unit_read = ("ms", "; ".join(f"{u}: {h}" for u, h in units_seen))
    return data


def open_hdf5(path, what, expected):
    """Open the HDF5 spike file ``path`` (SONATA, NWB) with netCDF4, registered as an input of the
    running command.

    Raises
    ------
    FileNotFoundError
        ``<what> <path> does not exist``.
    SpikeInputError
        Not a readable HDF5 file; the message ends with ``expected <expected>``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")
    register_input(path)
    try:
        return netCDF4.Dataset(path, "r")
    except OSError as exc:
        raise SpikeInputError(f"{path}: not a readable HDF5 file ({exc}); expected {expected}") from None
