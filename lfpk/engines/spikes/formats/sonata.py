"""SONATA spike files (``spikes.h5``: BMTK, NetPyNE, NEURON's and NEST's SONATA writers).

Layout (SONATA specification, "Spike file"): one group per node population,
``/spikes/<population>/timestamps`` (float, attribute ``units``: ``ms`` or ``s``; ms when absent,
then checked by the 1 % rule) and ``/spikes/<population>/node_ids`` (integers, 0-based within the
node population), the group's attribute ``sorting`` (``none``, ``by_id``, ``by_time``; an HDF5 enum
or text) recorded, not needed. The older layout ``/spikes/timestamps`` + ``/spikes/gids`` is read as
one population ``spikes``. Read with netCDF4 (HDF5), so h5py is not needed.

Populations: each SONATA node population is an lfpk population of the same name; or, with a node
id -> population map (``populations=``, as ``--populations``), the node ids of a file with one node
population are mapped (E and I as node ranges of one population ``internal``, as BMTK builds them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lfpk.engines.spikes.checks import unit_name
from lfpk.engines.spikes.errors import SpikeInputError
from lfpk.engines.spikes.formats.parts import assemble, open_hdf5

#: SONATA's enum of the sorting attribute
SORTING = {0: "none", 1: "by_id", 2: "by_time"}


def read_sonata(path, populations=None, tstop=None, time_unit=None, duplicates="error"):
    """Read a SONATA spike file into a :class:`lfpk.engines.spikes.SpikeData`.

    Parameters
    ----------
    path : path-like
        ``spikes.h5``.
    populations : path-like, dict or PopulationMap, optional
        Node id -> population (only for a file with one node population).
    tstop : float
        Stop time (ms); SONATA spike files do not store one (the simulation config does).
    time_unit : {'ms', 's'}, optional
        Unit of timestamps without a ``units`` attribute (SONATA's default is ms).
    duplicates : {'error', 'keep'}

    Returns
    -------
    SpikeData
        ``attrs``: ``spike_format`` ``sonata``, ``sorting`` per node population.
    """
    path = Path(path)
    ds = open_hdf5(path, "SONATA spike file", "a SONATA spike file (/spikes/<population>/timestamps, node_ids)")
    try:
        ds.set_auto_mask(False)
        if "spikes" not in ds.groups:
            raise SpikeInputError(f"{path}: no group /spikes; expected a SONATA spike file "
                                  "(/spikes/<population>/timestamps, node_ids)")
        top = ds["spikes"]
        groups = dict(top.groups)
        if not groups and "timestamps" in top.variables:  # older layout: /spikes/timestamps, /spikes/gids
            groups = {"spikes": top}
        if not groups:
            raise SpikeInputError(f"{path}: /spikes has no node population; expected /spikes/<population>/"
                                  "timestamps and node_ids")
        if populations is not None and len(groups) > 1:
            raise SpikeInputError(f"{path}: {len(groups)} node populations ({', '.join(groups)}) with a node id map; "
                                  "node ids restart in each SONATA population, so a map applies to a file with one "
                                  "node population only (without a map each node population is a population)")
        parts, sorting = [], {}
        for name, g in groups.items():
            where = f"{path}: /spikes/{name}" if g is not top else f"{path}: /spikes"
            id_var = next((v for v in ("node_ids", "gids") if v in g.variables), None)
            if "timestamps" not in g.variables or id_var is None:
                raise SpikeInputError(f"{where}: expected datasets 'timestamps' and 'node_ids'")
            t = np.asarray(g["timestamps"][:], dtype=np.float64)
            ids = np.asarray(g[id_var][:])
            stated = g["timestamps"].getncattr("units") if "units" in g["timestamps"].ncattrs() else None
            unit = unit_name(stated) if stated is not None else None
            if stated is not None and unit is None:
                raise SpikeInputError(f"{where}/timestamps: attribute units {stated!r} is not a time unit; expected "
                                      "'ms' or 's'")
            if unit is not None and time_unit is not None and unit != time_unit:
                raise SpikeInputError(f"{where}/timestamps: attribute units states {unit} but the time unit was given "
                                      f"as {time_unit}; expected them to agree")
            raw = g.getncattr("sorting") if "sorting" in g.ncattrs() else (
                top.getncattr("sorting") if "sorting" in top.ncattrs() else None)
            sorting[name] = SORTING.get(int(raw), str(raw)) if isinstance(raw, (int, np.integer)) else str(raw)
            label = None if populations is not None else name
            parts.append((label, t, ids, where, unit))
    finally:
        ds.close()
    stated_units = {u for *_, u in parts}
    given, stated_by = time_unit, None
    if len(stated_units) == 1 and None not in stated_units:
        given, stated_by = stated_units.pop(), "attribute units of timestamps"  # every population states it
    elif None not in stated_units:
        parts = [(p, t * (1000.0 if u == "s" else 1.0), i, w, "ms") for p, t, i, w, u in parts]
        given, stated_by = "ms", "attribute units of timestamps"
    elif stated_units - {None}:
        raise SpikeInputError(f"{path}: some node populations state the timestamps' units and some do not; "
                              "expected every /spikes/<population>/timestamps to carry 'units'")
    return assemble([(p, t, i, w) for p, t, i, w, _ in parts], str(path), "sonata", populations=populations,
                    tstop=tstop, time_unit=given, duplicates=duplicates, stated_by=stated_by,
                    attrs={"sorting": ", ".join(f"{k}: {v}" for k, v in sorting.items()), "spike_file": str(path)})
