"""Brian2 ``SpikeMonitor`` objects, read by what they have (brian2 is not imported).

A monitor has ``t`` (a Brian2 ``Quantity`` in seconds: converted to ms by
:func:`lfpk.engines.spikes.checks.times_in_ms`; plain numbers ``mon.t_`` are seconds too, and are
taken as such), ``i`` (indices within the monitored group) and ``source`` (the group; a subgroup
``P[a:b]`` has ``start``, added to ``i`` so ids are the parent group's). Its clock's ``t`` gives the
default stop time. Populations: a dict ``{population: monitor}``, or one monitor with a unit map
of the group's indices.
"""

from __future__ import annotations

import numpy as np

from lfpk.engines.spikes.checks import times_in_ms
from lfpk.engines.spikes.errors import SpikeInputError
from lfpk.engines.spikes.formats.parts import assemble


def _monitor_times(mon, what):
    t = mon.t
    if not hasattr(t, "dim"):  # plain numbers: Brian2's t_ (seconds)
        return np.asarray(t, dtype=np.float64) * 1000.0
    return times_in_ms(t, None, f"{what}: t")[0]


def from_brian2(monitors, populations=None, tstop=None, duplicates="error"):
    """Spikes of Brian2 ``SpikeMonitor`` objects as a :class:`lfpk.engines.spikes.SpikeData`.

    Parameters
    ----------
    monitors : SpikeMonitor or dict {population: SpikeMonitor}
    populations : path-like, dict or PopulationMap, optional
        Index -> population for one monitor of a whole group.
    tstop : float, optional
        Stop time (ms); default the monitors' clock time (``defaultclock.t``).
    duplicates : {'error', 'keep'}
    """
    groups = list(monitors.items()) if isinstance(monitors, dict) else [(None, monitors)]
    parts, sizes, clocks = [], {}, []
    for label, mon in groups:
        what = "Brian2 SpikeMonitor" + (f" of {label!r}" if label is not None else "")
        if not (hasattr(mon, "t") and hasattr(mon, "i")):
            raise SpikeInputError(f"{what}: expected a SpikeMonitor (with t and i), got {type(mon).__name__}")
        src = getattr(mon, "source", None)
        start = int(getattr(src, "start", 0) or 0)
        ids = np.asarray(mon.i, dtype=np.int64) + start
        parts.append((label, _monitor_times(mon, what), ids, what))
        if label is not None and src is not None and hasattr(src, "__len__"):
            sizes[label] = (start, start + len(src) - 1)
        clock = getattr(mon, "clock", None)
        if clock is not None and hasattr(clock, "t"):
            t = clock.t if hasattr(clock.t, "dim") else np.asarray(clock.t, dtype=float) * 1000.0  # t_: seconds
            clocks.append(float(times_in_ms(t, None, f"{what}: clock t")[0].max()))
    if tstop is None and clocks:
        tstop = max(clocks)
    return assemble(parts, "Brian2 SpikeMonitors", "brian2", populations=populations, tstop=tstop, time_unit="ms",
                    duplicates=duplicates, sizes=sizes or None, stated_by="Brian2 (seconds, converted)")
