"""Brian2 ``SpikeMonitor`` objects, read by what they have (brian2 is not imported).

A monitor has ``t`` (a Brian2 ``VariableView`` of seconds, ``dim`` printing 's': converted to ms
by :func:`lfpk.engines.spikes.checks.times_in_ms`; a monitor-like object whose ``t`` holds plain
numbers gives seconds too, taken as such), ``i`` (indices within the monitored group) and
``source`` (the group; a subgroup ``P[a:b]`` has ``start``, added to ``i`` so ids are the parent
group's). Its clock's ``t`` gives the default stop time. Populations: a dict ``{population:
monitor}``, or one monitor with a unit map of the group's indices. Checked with Brian2 2.9's own
monitors (``tests/test_brian2_real.py``). Monitors that recorded nothing at all are refused with
the usual cause: Brian2's ``run()`` collects only objects held in variables, so monitors kept in a
dict are left out unless given to a ``Network``.
"""

from __future__ import annotations

import numpy as np

from lfpk.engines.spikes.checks import brian2_dimension, times_in_ms, unit_ids
from lfpk.engines.spikes.errors import SpikeInputError
from lfpk.engines.spikes.formats.parts import assemble


def _seconds_in_ms(t, what):
    """Times of a monitor or clock (``mon.t``: a VariableView of seconds) as ms."""
    if brian2_dimension(t) is None:  # plain numbers: Brian2's t_ (seconds)
        return np.asarray(t, dtype=np.float64).ravel() * 1000.0
    return times_in_ms(t, None, what)[0]


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
        ids = unit_ids(mon.i, f"{what}: i") + start  # checked, never truncated
        parts.append((label, _seconds_in_ms(mon.t, f"{what}: t"), ids, what))
        if label is not None and src is not None and hasattr(src, "__len__"):
            sizes[label] = (start, start + len(src) - 1)
        clock = getattr(mon, "clock", None)
        if clock is not None and hasattr(clock, "t"):
            clocks.append(float(_seconds_in_ms(clock.t, f"{what}: clock t").max()))
    if groups and not any(len(p[1]) for p in parts):
        raise SpikeInputError(f"{'Brian2 SpikeMonitors' if len(parts) > 1 else parts[0][3]}: no spike recorded; "
                              "expected spikes (a monitor records only in the Network that runs: Brian2's run() "
                              "collects objects held in variables, not monitors kept in a dict or list; give "
                              "them to Network(...) and run that)")
    if tstop is None and clocks:
        tstop = max(clocks)
    return assemble(parts, "Brian2 SpikeMonitors", "brian2", populations=populations, tstop=tstop, time_unit="ms",
                    duplicates=duplicates, sizes=sizes or None, stated_by="Brian2 (seconds, converted)")
