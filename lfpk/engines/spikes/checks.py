"""The rules every spike passes, from a file or from memory: written once, called by every path.

The file readers (:class:`lfpk.engines.spikes.recording.SpikeRecording`), the in-memory spikes
(:class:`lfpk.engines.spikes.SpikeData`, :func:`lfpk.engines.spikes.population_counts`), the
predictions (:func:`lfpk.engines.prediction.predict.predict`, ``predict_files``) and the online
predictor (:class:`lfpk.engines.prediction.online.OnlinePredictor`) all call these functions:

* :func:`times_in_ms` -- times as float64 ms: arrays that carry a unit (Brian2 quantities,
  ``quantities``/Neo, pint) are converted; unit-less arrays are ms, or ``time_unit``;
* :func:`unit_ids` -- integer unit ids (``5.0`` accepted, ``5.5`` refused, never truncated);
* :func:`check_times` -- finite, ``>= 0`` and ``<= tstop`` (ms);
* :func:`check_seconds` -- unit-less times that all lie in the first 1 % of ``tstop`` look like
  seconds read as ms (Brian2's ``mon.t_``, or times divided by ``second``): refused with the way out;
* :func:`check_duplicates` -- exact duplicates (same population, unit and time);
* :func:`check_silent` -- a population the kernels need without any spike.

Each failure is a :class:`~lfpk.engines.spikes.errors.SpikeInputError` (a ``ValueError``) of one
line naming where (file and line, variable and index, or the in-memory source and index) and what
was expected. Unit libraries are never imported: an array is recognised by what it has (duck
typing), so lfpk needs none of them, and the check works with whichever version the user has.
"""

from __future__ import annotations

import warnings

import numpy as np

from lfpk.engines.spikes.errors import SpikeInputError, SpikeWarning

#: spikes whose time unit is not stated must not all lie in this fraction of tstop
EARLY_FRACTION = 0.01
#: the way out of the seconds check for spikes given in memory (files: the --time-unit option)
MEMORY_WAY_OUT = ("give times that carry their unit (Brian2 mon.t, a Neo SpikeTrain) or state it: "
                  "time_unit='s' converts seconds, time_unit='ms' if they are ms")
#: the way out of the seconds check for spike files
FILE_WAY_OUT = "give the unit (--time-unit s to convert seconds, --time-unit ms if they are ms)"

_MS_PER = {"ms": 1.0, "s": 1000.0}
_UNIT_NAMES = {"ms": "ms", "msec": "ms", "millisecond": "ms", "milliseconds": "ms", "s": "s", "sec": "s",
               "second": "s", "seconds": "s"}


def fmt_num(x) -> str:
    """A number for a message: Python's repr of a float or int, never a numpy repr."""
    x = x.item() if isinstance(x, np.generic) else x
    return repr(float(x)) if isinstance(x, float) else repr(x)


def unit_name(text):
    """'ms' or 's' for a unit's name ('millisecond', 'sec', ...), else None."""
    return _UNIT_NAMES.get(str(text).strip().lower())


def times_in_ms(times, time_unit=None, what="spike times"):
    """Spike times as float64 ms, with the unit they were in and how it was known.

    Parameters
    ----------
    times : array_like
        Unit-less numbers, or an array carrying a time unit: a Brian2 ``Quantity`` (``mon.t``:
        has ``dim``; its values are in seconds, Brian2's base unit), a ``quantities`` array (Neo's
        ``SpikeTrain``: has ``rescale``) or a pint ``Quantity`` (has ``to`` and ``magnitude``).
    time_unit : {'ms', 's'}, optional
        Unit of unit-less times (default ms, checked by :func:`check_seconds`); must agree with the
        unit an array carries.
    what : str
        Names the times in messages.

    Returns
    -------
    ms : ndarray of float64
        1-d times (ms).
    unit : str
        'ms' or 's': the unit the numbers were in.
    how : str
        How the unit was known; starts with ``assumed`` when nothing stated it.
    """
    if time_unit is not None and time_unit not in _MS_PER:
        raise SpikeInputError(f"time_unit: expected 'ms' or 's', got {time_unit!r}")
    carried, values = _carried_unit(times, what)
    if carried is not None:
        if time_unit is not None and time_unit != carried[0]:
            raise SpikeInputError(f"{what}: carry the unit {carried[0]} but time_unit={time_unit!r} was given; "
                                  "expected them to agree (drop time_unit: the unit the times carry is used)")
        unit, how = carried
        ms = values
    else:
        values = _plain(times, what)
        unit = time_unit or "ms"
        how = "given (time_unit)" if time_unit else "assumed: not stated"
        ms = values * _MS_PER[unit] if unit != "ms" else values
    return np.ascontiguousarray(ms, dtype=np.float64).ravel(), unit, how


def _plain(values, what):
    a = np.asarray(values)
    if a.dtype.kind not in "iuf":
        raise SpikeInputError(f"{what}: expected numbers (ms), got an array of {a.dtype}")
    return a.astype(np.float64, copy=False)


def brian2_dimension(values):
    """The Brian2 dimension ``values`` carry as text ('s' for ``mon.t``), or None if unit-less.

    Brian2's monitors give ``VariableView`` objects: ``mon.t`` has ``dim`` (printing 's'), ``mon.t_``
    (the same seconds as plain numbers) has ``dim`` None, ``mon.i`` the dimensionless ``dim`` ('1');
    arithmetic results (``mon.t / ms``) are Quantities with a dimensionless ``dim`` or plain arrays.
    """
    dim = getattr(values, "dim", None)
    if dim is None or isinstance(values, np.generic):
        return None
    text = str(dim)
    return None if text in ("1", "") else text


def _carried_unit(times, what):
    """((unit, how), values in ms) of an array that carries a time unit, else (None, None)."""
    if hasattr(times, "rescale") and hasattr(times, "dimensionality"):  # quantities (Neo)
        name = str(getattr(times.dimensionality, "string", times.dimensionality))
        try:
            ms = np.asarray(times.rescale("ms").magnitude, dtype=np.float64)
        except (ValueError, TypeError, AttributeError):
            raise SpikeInputError(f"{what}: carry the unit {name!r}, not a time; expected times") from None
        return (unit_name(name) or "ms", f"carried by the array ({name})"), ms
    if hasattr(times, "dim") and not isinstance(times, np.generic):  # Brian2 Quantity: values in SI (s)
        dim = brian2_dimension(times)
        if dim is None:  # mon.t_, mon.t / ms, mon.t / second: the unit is gone
            return None, None
        if dim != "s":
            raise SpikeInputError(f"{what}: carry the dimension {dim!r}, not a time; expected times (mon.t)")
        return ("s", "carried by the array (Brian2 second)"), np.asarray(times, dtype=np.float64) * 1000.0
    if hasattr(times, "magnitude") and hasattr(times, "to") and hasattr(times, "units"):  # pint
        name = str(times.units)
        try:
            ms = np.asarray(times.to("ms").magnitude, dtype=np.float64)
        except Exception:  # pint's DimensionalityError is not importable without pint
            raise SpikeInputError(f"{what}: carry the unit {name!r}, not a time; expected times") from None
        return (unit_name(name) or "ms", f"carried by the array ({name})"), ms
    return None, None


def unit_ids(units, what="unit ids"):
    """Unit ids as int64: integers, or floats that are whole numbers; anything else refused.

    Raises
    ------
    SpikeInputError
        At the first id that is not an integer (``5.5``, NaN, a string), naming its index.
    """
    a = np.asarray(units)
    if brian2_dimension(units) is not None:
        raise SpikeInputError(f"{what}: carry the dimension {brian2_dimension(units)}; expected integer unit ids")
    a = a.ravel()
    if a.dtype.kind in "iu":
        if a.dtype.kind == "u" and len(a) and a.max() > np.iinfo(np.int64).max:
            i = int(np.argmax(a))
            raise SpikeInputError(f"{what}, index {i}: {int(a[i])} is too large for a unit id")
        return a.astype(np.int64, copy=False)
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a) | (a != np.round(a))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SpikeInputError(f"{what}, index {i}: {fmt_num(a[i])} is not an integer unit id; expected "
                                  "integers (ids are never rounded)")
        return a.astype(np.int64)
    if a.dtype.kind == "O" and all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in a):
        return a.astype(np.int64)
    raise SpikeInputError(f"{what}: expected integer unit ids, got an array of {a.dtype}")


def check_times(times, tstop, where, converted=False):
    """Refuse spike times (ms) that are not finite, negative, or after ``tstop``.

    Parameters
    ----------
    times : ndarray of float
        Times (ms).
    tstop : float or None
        Stop time (ms); None: no upper bound checked.
    where : callable
        ``where(i)`` -> text naming spike ``i`` (file and line, or source and index).
    converted : bool
        The times were converted from seconds (said in the message).
    """
    bad = ~np.isfinite(times)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SpikeInputError(f"{where(i)}: spike time {fmt_num(times[i])} is not finite; expected a finite time")
    bad = times < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SpikeInputError(f"{where(i)}: spike time {fmt_num(times[i])} ms is negative; expected times >= 0 ms")
    if tstop is None:
        return
    bad = times > tstop
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        shown = f"{fmt_num(times[i])} ms" + (" (converted from s)" if converted else "")
        raise SpikeInputError(f"{where(i)}: spike time {shown} is after the stop time {tstop:g} ms; expected "
                              "times <= tstop")


def check_tstop(tstop, what="stop time tstop"):
    """``tstop`` as a float, refused unless a positive finite number of ms."""
    try:
        value = float(tstop)
    except (TypeError, ValueError):
        raise SpikeInputError(f"{what}: expected a positive number of ms, got {tstop!r}") from None
    if not (np.isfinite(value) and value > 0):
        raise SpikeInputError(f"{what}: expected a positive number of ms, got {fmt_num(tstop)}")
    return value


def check_seconds(max_time, n, tstop, shown, way_out=FILE_WAY_OUT):
    """Refuse ``n`` spikes of unstated unit whose latest time ``max_time`` (ms) lies within the first
    :data:`EARLY_FRACTION` of ``tstop`` (ms): seconds read as ms (a 2 s recording read as 2 ms gives
    an LFP hundreds of times too large). ``shown`` names the spikes; ``way_out`` says what to give."""
    if not n or tstop is None or max_time > EARLY_FRACTION * tstop:
        return
    raise SpikeInputError(
        f"{shown}: all {n} spikes lie within the first {EARLY_FRACTION:.0%} of tstop (latest {fmt_num(max_time)} of "
        f"{tstop:g} ms) and {'no file states' if way_out is FILE_WAY_OUT else 'nothing states'} the time unit: these "
        f"look like seconds read as ms; expected times in ms -- {way_out}")


def first_duplicate(pop, units, times, source, locs):
    """Indices (earlier, later) of the first exact duplicate (population, unit, time), or None."""
    order = np.lexsort((locs, source, times, units, pop))
    p, u, t = pop[order], units[order], times[order]
    same = (np.diff(p) == 0) & (np.diff(u) == 0) & (np.diff(t) == 0)
    if not same.any():
        return None
    hits = np.flatnonzero(same)
    later = order[hits + 1]  # report the duplicate whose later copy comes first
    j = int(np.argmin(source[later] * (locs.max(initial=0) + 1) + locs[later]))
    return int(order[hits[j]]), int(order[hits[j] + 1])


def duplicate_text(population, unit, time, here, there):
    """Message of an exact duplicate spike at ``here`` already given at ``there``."""
    return (f"{here}: duplicate spike (population {population}, unit {unit}, time {fmt_num(time)} ms) already given "
            f"at {there}; expected each (unit, time) once (a neuron cannot fire twice at one instant: a file given "
            "twice, overlapping files, two recorders on one neuron, or a recorder read again without clearing it? "
            "pass duplicates='keep' / --keep-duplicate-spikes to count them)")


def check_duplicates(pop, units, times, populations, where):
    """Refuse exact duplicates among in-memory spikes (``where(i)`` names spike ``i``)."""
    if len(times) < 2:
        return
    n = len(times)
    found = first_duplicate(np.asarray(pop), np.asarray(units), np.asarray(times), np.zeros(n, np.int64),
                            np.arange(n, dtype=np.int64))
    if found is not None:
        i, j = found
        raise SpikeInputError(duplicate_text(populations[int(pop[i])], int(units[i]), float(times[i]), where(j),
                                             where(i)))


def check_silent(n_spikes, required, allow_silent=False, source="the spikes", option="--allow-silent",
                 stacklevel=3):
    """Refuse a required population without spikes (a zero contribution), unless allowed.

    Parameters
    ----------
    n_spikes : dict
        Population -> number of spikes.
    required : list of str
        Populations that must have spikes (the kernels' presynaptic populations).
    allow_silent : bool or list of str
        Populations (True: all) allowed to be silent: a :class:`SpikeWarning` instead.
    source : str
        Names the spikes.
    option : str
        How to allow it (``--allow-silent`` or ``allow_silent=``), named in the message.
    """
    for p in required or []:
        if n_spikes.get(p, 0):
            continue
        allowed = allow_silent is True or (isinstance(allow_silent, (list, tuple, set)) and p in allow_silent)
        text = (f"population {p} has no spike in {source}, but the kernels need it as presynaptic; its "
                "contribution to the prediction would be zero")
        if not allowed:
            how = f"{option} {p}" if option.startswith("--") else f"{option}=[{p!r}]"
            raise SpikeInputError(f"{text}; expected spikes of {p} (give {how} if it really is silent)")
        warnings.warn(text, SpikeWarning, stacklevel=stacklevel)
