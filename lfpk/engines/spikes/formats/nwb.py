"""The units table of an NWB file (Neurodata Without Borders 2.x, as pynwb writes it).

``/units``: ``spike_times`` (all spikes, seconds by the NWB standard), ``spike_times_index`` (the
end of each unit's spikes in ``spike_times``), ``id`` (unit ids); optional columns, one of which may
name each unit's population (default column ``population``). Read with netCDF4 (NWB files are
HDF5), so pynwb is not needed to read, only to write such files (the ``formats`` extra).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lfpk.engines.spikes.errors import SpikeInputError
from lfpk.engines.spikes.formats.parts import assemble, open_hdf5


def read_nwb(path, populations=None, tstop=None, population_column="population", duplicates="error"):
    """Read the spikes of an NWB units table into a :class:`lfpk.engines.spikes.SpikeData`.

    Parameters
    ----------
    path : path-like
        ``.nwb`` file.
    populations : path-like, dict or PopulationMap, optional
        Unit id -> population; default the ``population_column`` of the units table.
    tstop : float
        Stop time (ms).
    population_column : str
        Column of the units table that names each unit's population.
    duplicates : {'error', 'keep'}

    Returns
    -------
    SpikeData
        Times converted from seconds (the NWB standard) to ms.
    """
    path = Path(path)
    ds = open_hdf5(path, "NWB file", "an NWB file")
    try:
        ds.set_auto_mask(False)
        if "units" not in ds.groups:
            raise SpikeInputError(f"{path}: no units table (/units); expected an NWB file with sorted units")
        g = ds["units"]
        for v in ("spike_times", "spike_times_index", "id"):
            if v not in g.variables:
                raise SpikeInputError(f"{path}: /units has no {v!r}; expected spike_times, spike_times_index and id")
        times = np.asarray(g["spike_times"][:], dtype=np.float64)
        ends = np.asarray(g["spike_times_index"][:], dtype=np.int64)
        ids = np.asarray(g["id"][:])
        labels = None
        if populations is None:
            if population_column not in g.variables:
                cols = [v for v in g.variables if not v.endswith("_index") and v not in ("spike_times", "id")]
                raise SpikeInputError(f"{path}: the units table has no column {population_column!r} naming each "
                                      f"unit's population (columns: {', '.join(cols) or 'none'}); give "
                                      "population_column= or a unit id -> population map")
            labels = [str(x) for x in np.asarray(g[population_column][:]).ravel()]
    finally:
        ds.close()
    if len(ends) != len(ids) or (len(ends) and (np.any(np.diff(ends) < 0) or ends[-1] != len(times))):
        raise SpikeInputError(f"{path}: /units/spike_times_index does not partition spike_times ({len(times)} "
                              f"spikes, {len(ids)} units); expected increasing ends, the last equal to the spikes")
    starts = np.r_[0, ends[:-1]] if len(ends) else ends
    per_unit = np.repeat(ids, ends - starts)
    where = f"{path}: /units"
    if labels is None:
        parts = [(None, times, per_unit, where)]
        sizes = None
    else:
        if len(labels) != len(ids):
            raise SpikeInputError(f"{path}: /units/{population_column} has {len(labels)} rows for {len(ids)} units")
        pop_of_spike = np.repeat(np.array(labels, dtype=object), ends - starts)
        parts = [(p, times[pop_of_spike == p], per_unit[pop_of_spike == p], f"{where} ({population_column} {p})")
                 for p in dict.fromkeys(labels)]
        id_arr = np.asarray(ids, dtype=np.int64)
        lab_arr = np.array(labels, dtype=object)
        sizes = {p: (int(id_arr[lab_arr == p].min()), int(id_arr[lab_arr == p].max())) for p in dict.fromkeys(labels)}
        if any(b - a + 1 != int((lab_arr == p).sum()) for p, (a, b) in sizes.items()):
            sizes = None  # ids of a population are not one range: sizes from the units table would be wrong
    return assemble(parts, str(path), "nwb", populations=populations, tstop=tstop, time_unit="s",
                    duplicates=duplicates, sizes=sizes, stated_by="the NWB standard",
                    attrs={"spike_file": str(path)})
