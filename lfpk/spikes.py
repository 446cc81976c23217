"""Spike input for predictions: the network's ``spikes.nc`` or a user's text/CSV export.

Two input layouts are accepted (see ``docs/prediction.md``):

* **netCDF** (the ``spikes.nc`` data contract): variables ``spike_time (spike)`` ms,
  ``spike_unit (spike)`` int, ``unit_population (unit)`` str with an integer ``unit`` coordinate
  (unit ids; without one the unit id is the index along ``unit``); attributes ``tstop`` (ms) and
  optionally ``dt``.
* **text/CSV**: two columns, unit id (integer) and spike time (ms), separated by commas, tabs
  or spaces, as exported by NEST (``sender time_ms``) or Brian2 (``i, t`` after converting
  ``t`` to ms). Lines starting with ``#`` and blank lines are skipped. An optional header line
  names the columns; recognised names are listed in :data:`UNIT_COLUMNS` and
  :data:`TIME_COLUMNS` (further columns are ignored when a header is present). Without a
  header the first column is the unit and the second the time. The populations come from a
  unit->population map: a CSV ``unit,population`` (header optional) or a dict.

Validation (every failure raises :class:`SpikeInputError`, a ``ValueError``, naming the file,
the 1-based line or the netCDF variable and index, and what was expected):

* missing columns or variables, non-numeric or non-integer unit ids, non-numeric times;
* unit ids absent from the population map (or from the ``unit`` coordinate);
* times that are not finite, negative, or later than the stop time ``tstop``.

Ordering and duplicates:

* unsorted spikes are **accepted** and sorted by (time, unit) (``SpikeData.attrs['input_sorted']``
  records whether they already were);
* **exact duplicates** (same unit, same time) are **rejected** by default: a neuron cannot fire
  twice at one instant, so a duplicate almost always means a file concatenated twice or two
  recorders attached to one neuron. ``duplicates='keep'`` keeps them (each counts as a spike).

Binning (:func:`population_counts`): bin ``k`` is ``[k dt, (k+1) dt)`` with time coordinate
``k dt`` (its start), ``k = 0 .. floor(tstop/dt)``, i.e. ``floor(tstop/dt) + 1`` bins whose
times run from 0 to ``tstop`` inclusive -- the ground-truth network's ``time`` axis. A spike at
time ``t`` goes to bin ``floor(t/dt + 1e-6)`` (the tolerance absorbs float representation of
times that sit on a bin edge, the same rule as the network). Every spike in ``[0, tstop]`` is
counted exactly once, so the counts sum to the number of spikes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: header names recognised for the unit-id column of a text spike file (case-insensitive)
UNIT_COLUMNS = ("unit", "unit_id", "id", "gid", "sender", "senders", "neuron", "neuron_id", "i", "source")
#: header names recognised for the spike-time column (ms) of a text spike file (case-insensitive)
TIME_COLUMNS = ("time", "time_ms", "times", "t", "t_ms", "spike_time", "spike_times", "time (ms)",
                "t (ms)", "time [ms]", "t [ms]")
#: header names that state a time unit other than ms (rejected with a hint)
_TIME_NOT_MS = ("time_s", "t_s", "time (s)", "t (s)", "time [s]", "t [s]")

#: tolerance (in bins) of the bin assignment floor(t / dt + BIN_EPS)
BIN_EPS = 1e-6


class SpikeInputError(ValueError):
    """Invalid spike or population-map input (message names file, line/field and expectation)."""


@dataclass
class SpikeData:
    """Validated spikes, sorted by (time, unit).

    Attributes
    ----------
    times : ndarray of float
        Spike times (ms).
    units : ndarray of int
        Unit id of each spike.
    unit_population : dict
        Unit id -> population name, for every known unit (also silent ones).
    populations : list of str
        Population names in order of first appearance in the map.
    tstop : float or None
        Stop time (ms): no spike is later.
    dt : float or None
        Bin width stated by the source (ms), if any.
    source : str
        Where the spikes came from (path or description).
    attrs : dict
        Provenance (format, whether the input was sorted, duplicates kept).
    """

    times: np.ndarray
    units: np.ndarray
    unit_population: dict
    populations: list
    tstop: float | None = None
    dt: float | None = None
    source: str = "<memory>"
    attrs: dict = field(default_factory=dict)

    @property
    def n_spikes(self) -> int:
        return int(len(self.times))

    def population_of_spikes(self) -> np.ndarray:
        """Population name of every spike."""
        return np.array([self.unit_population[int(u)] for u in self.units], dtype=str)


# ---------------------------------------------------------------------------------------------
# Population maps
# ---------------------------------------------------------------------------------------------

_SPLIT = re.compile(r"[,\s;]+")


def _fields(line):
    return [f for f in _SPLIT.split(line.strip()) if f != ""]


def _parse_int(text):
    """Integer from text ('12', '12.0' accepted; '1.5', 'x' rejected) or None."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        v = float(text)
    except ValueError:
        return None
    if math.isfinite(v) and v == int(v):
        return int(v)
    return None


def read_population_map(path) -> dict:
    """Read a unit->population map from a CSV ``unit,population`` (header optional).

    Comma, tab, semicolon or whitespace separated; ``#`` comments and blank lines skipped. A
    header is recognised when the first data line's unit field is not an integer (it must then
    name the columns, e.g. ``unit,population``).

    Returns
    -------
    dict
        Unit id (int) -> population (str), in file order.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"population map {path} does not exist")
    mapping = {}
    header_seen = False
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        f = _fields(line)
        if len(f) < 2:
            raise SpikeInputError(
                f"{path}, line {lineno}: expected 2 columns 'unit,population', got {len(f)} ({line.strip()!r})")
        unit = _parse_int(f[0])
        if unit is None:
            if not header_seen and not mapping:
                header_seen = True
                names = [x.lower() for x in f[:2]]
                if names[0] not in UNIT_COLUMNS or names[1] not in ("population", "pop", "population_name"):
                    raise SpikeInputError(
                        f"{path}, line {lineno}: header {line.strip()!r} not understood; expected "
                        "'unit,population'")
                continue
            raise SpikeInputError(
                f"{path}, line {lineno}, column 'unit': {f[0]!r} is not an integer unit id")
        pop = f[1]
        if unit in mapping and mapping[unit] != pop:
            raise SpikeInputError(
                f"{path}, line {lineno}: unit {unit} is mapped to {mapping[unit]!r} earlier and to "
                f"{pop!r} here; expected one population per unit")
        mapping[unit] = pop
    if not mapping:
        raise SpikeInputError(f"{path}: no 'unit,population' rows found")
    return mapping


def _as_population_map(populations, what="population map") -> dict:
    if populations is None:
        raise SpikeInputError(
            f"text spike files need a unit->population map (CSV 'unit,population' or a dict); none given")
    if isinstance(populations, dict):
        out = {}
        for k, v in populations.items():
            u = _parse_int(str(k))
            if u is None:
                raise SpikeInputError(f"{what}: key {k!r} is not an integer unit id")
            out[u] = str(v)
        if not out:
            raise SpikeInputError(f"{what}: empty")
        return out
    return read_population_map(populations)


# ---------------------------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------------------------


def _check_times(times, where, tstop):
    """Validate spike times; ``where(i)`` describes spike ``i`` (line or index) for messages."""
    bad = ~np.isfinite(times)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SpikeInputError(f"{where(i)}: spike time {times[i]!r} is not finite; expected a finite time in ms")
    bad = times < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SpikeInputError(f"{where(i)}: spike time {times[i]!r} ms is negative; expected times >= 0 ms")
    if tstop is not None:
        bad = times > tstop
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SpikeInputError(
                f"{where(i)}: spike time {times[i]!r} ms is after the stop time {tstop} ms; expected "
                f"times <= tstop")


def _finish(times, units, unit_population, where, tstop, dt, source, duplicates, attrs):
    """Shared tail of the readers: checks, duplicate policy, sorting."""
    if duplicates not in ("error", "keep"):
        raise ValueError(f"duplicates: must be 'error' or 'keep', got {duplicates!r}")
    if tstop is not None and not (np.isfinite(tstop) and tstop > 0):
        raise SpikeInputError(f"{source}: stop time tstop must be a positive number of ms, got {tstop!r}")
    if dt is not None and not (np.isfinite(dt) and dt > 0):
        raise SpikeInputError(f"{source}: bin width dt must be a positive number of ms, got {dt!r}")
    _check_times(times, where, tstop)
    known = np.fromiter(unit_population.keys(), dtype=np.int64, count=len(unit_population))
    unknown = ~np.isin(units, known)
    if unknown.any():
        i = int(np.flatnonzero(unknown)[0])
        raise SpikeInputError(
            f"{where(i)}: unit {int(units[i])} is not in the unit->population map; expected one of its "
            f"{len(known)} units")
    order = np.lexsort((np.arange(len(times)), units, times))  # stable: by time, then unit, then input order
    already = bool(np.all(order == np.arange(len(times))))
    t, u = times[order], units[order]
    same = (np.diff(t) == 0) & (np.diff(u) == 0)
    if same.any():
        j = int(np.flatnonzero(same)[0])
        if duplicates == "error":
            a, b = sorted((int(order[j]), int(order[j + 1])))
            raise SpikeInputError(
                f"{where(b)}: duplicate spike (unit {int(u[j])}, time {t[j]!r} ms) already given at "
                f"{where(a)}; expected each (unit, time) once "
                "(a neuron cannot fire twice at one instant; pass duplicates='keep' / "
                "--keep-duplicate-spikes to count them)")
    pops = []
    for p in unit_population.values():
        if p not in pops:
            pops.append(p)
    attrs = {**attrs, "input_sorted": int(already), "duplicates": duplicates,
             "n_duplicates": int(same.sum())}
    return SpikeData(times=t.astype(float), units=u.astype(np.int64), unit_population=dict(unit_population),
                     populations=pops, tstop=None if tstop is None else float(tstop),
                     dt=None if dt is None else float(dt), source=str(source), attrs=attrs)


def read_spikes_netcdf(path, tstop=None, duplicates="error") -> SpikeData:
    """Read and validate spikes in the ``spikes.nc`` layout.

    ``tstop`` overrides the file's ``tstop`` attribute (ms).
    """
    from lfpk.io import read_dataset

    path = Path(path)
    ds = read_dataset(path)
    for var in ("spike_time", "spike_unit", "unit_population"):
        if var not in ds.variables:
            raise SpikeInputError(
                f"{path}: variable {var!r} is missing; expected spike_time (spike) ms, spike_unit (spike) "
                "int and unit_population (unit) str")
    if ds["spike_time"].dims != ("spike",) or ds["spike_unit"].dims != ("spike",):
        raise SpikeInputError(f"{path}: variables 'spike_time' and 'spike_unit' must have the single dim 'spike'")
    if ds["unit_population"].ndim != 1:
        raise SpikeInputError(f"{path}: variable 'unit_population' must be 1-d (dim 'unit')")
    unit_dim = ds["unit_population"].dims[0]
    try:
        times = np.asarray(ds["spike_time"].values, dtype=float)
    except (TypeError, ValueError):
        raise SpikeInputError(f"{path}: variable 'spike_time' is not numeric; expected times in ms") from None
    raw_units = np.asarray(ds["spike_unit"].values)
    if raw_units.size and not np.issubdtype(raw_units.dtype, np.integer):
        try:
            fu = raw_units.astype(float)
        except (TypeError, ValueError):
            raise SpikeInputError(f"{path}: variable 'spike_unit' is not numeric; expected integer unit ids") from None
        bad = ~np.isfinite(fu) | (fu != np.round(fu))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SpikeInputError(
                f"{path}: variable 'spike_unit', spike index {i}: {raw_units[i]!r} is not an integer unit id")
        raw_units = fu
    units = raw_units.astype(np.int64)
    if unit_dim in ds.coords and np.issubdtype(np.asarray(ds[unit_dim].values).dtype, np.number):
        ids = np.asarray(ds[unit_dim].values).astype(np.int64)
    else:
        ids = np.arange(ds.sizes[unit_dim])
    unit_population = {int(i): str(p) for i, p in zip(ids, ds["unit_population"].values)}
    if tstop is None:
        tstop = ds.attrs.get("tstop")
        if tstop is None:
            raise SpikeInputError(f"{path}: attribute 'tstop' (ms) is missing and no stop time was given (--tstop)")
    dt = ds.attrs.get("dt")

    def where(i):
        return f"{path}: variable 'spike_time'/'spike_unit', spike index {i} (0-based)"

    return _finish(times, units, unit_population, where, float(tstop), None if dt is None else float(dt),
                   path, duplicates, {"spike_format": "netcdf", "spike_source": str(path)})


def _header_columns(f, path, lineno, line):
    names = [x.strip().lower() for x in f]
    for n in names:
        if n in _TIME_NOT_MS:
            raise SpikeInputError(
                f"{path}, line {lineno}: header column {n!r} states seconds; expected spike times in ms "
                "(multiply by 1000 and name the column 'time_ms')")
    iu = next((k for k, n in enumerate(names) if n in UNIT_COLUMNS), None)
    it = next((k for k, n in enumerate(names) if n in TIME_COLUMNS), None)
    if iu is None or it is None:
        missing = " and ".join(w for w, k in (("a unit column", iu), ("a time column", it)) if k is None)
        raise SpikeInputError(
            f"{path}, line {lineno}: header {line.strip()!r} lacks {missing}; expected a unit id column "
            f"(one of {', '.join(UNIT_COLUMNS)}) and a time column in ms (one of {', '.join(TIME_COLUMNS)})")
    return iu, it, (f[iu], f[it])


def read_spikes_text(path, populations, tstop, duplicates="error") -> SpikeData:
    """Read and validate a two-column text/CSV spike file (unit id, time in ms).

    Parameters
    ----------
    path : path-like
    populations : path-like or dict
        Unit->population map (CSV ``unit,population`` or dict).
    tstop : float
        Stop time (ms): defines the time axis and bounds the spike times (required).
    duplicates : {'error', 'keep'}
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"spike file {path} does not exist")
    if tstop is None:
        raise SpikeInputError(
            f"{path}: text spike files need the stop time tstop (ms, --tstop) to define the time axis")
    unit_population = _as_population_map(populations)
    # a header is the first non-comment line none of whose fields is a number; it is split on
    # , ; or tab when it has one (so 'time (ms)' keeps its space), else on whitespace
    iu, it, header = 0, 1, None
    units, times, lines = [], [], []
    first = True
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        if first:
            first = False
            hf = [x.strip() for x in re.split(r"[,;\t]", s)] if re.search(r"[,;\t]", s) else _fields(s)
            if not any(_is_number(x) for x in hf):  # a header: no field is a number
                iu, it, header = _header_columns(hf, path, lineno, line)
                continue
        f = _fields(s)
        need = max(iu, it) + 1
        if len(f) < need:
            raise SpikeInputError(
                f"{path}, line {lineno}: expected {need} columns (unit id, time in ms), got {len(f)} "
                f"({s!r})")
        u = _parse_int(f[iu])
        if u is None:
            raise SpikeInputError(
                f"{path}, line {lineno}, column {header[0] if header else 1!r}: {f[iu]!r} is not an integer "
                "unit id")
        try:
            t = float(f[it])
        except ValueError:
            raise SpikeInputError(
                f"{path}, line {lineno}, column {header[1] if header else 2!r}: {f[it]!r} is not a number; "
                "expected a spike time in ms") from None
        units.append(u)
        times.append(t)
        lines.append(lineno)
    line_of = np.asarray(lines, dtype=np.int64)

    def where(i):
        return f"{path}, line {int(line_of[i])}"

    return _finish(np.asarray(times, dtype=float), np.asarray(units, dtype=np.int64), unit_population, where,
                   float(tstop), None, path, duplicates,
                   {"spike_format": "text", "spike_source": str(path),
                    "population_map": str(populations) if not isinstance(populations, dict) else "dict"})


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def read_spikes(path, populations=None, tstop=None, duplicates="error") -> SpikeData:
    """Read spikes from ``spikes.nc`` (suffix ``.nc``) or a text/CSV file (any other suffix).

    Parameters
    ----------
    path : path-like
    populations : path-like or dict, optional
        Unit->population map, required for text files (ignored for netCDF, which carries
        ``unit_population``).
    tstop : float, optional
        Stop time (ms); required for text files, overrides the netCDF attribute.
    duplicates : {'error', 'keep'}
        Exact duplicate spikes (same unit and time): reject (default) or keep.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"spike file {path} does not exist")
    if path.suffix.lower() in (".nc", ".nc4", ".netcdf"):
        return read_spikes_netcdf(path, tstop=tstop, duplicates=duplicates)
    return read_spikes_text(path, populations, tstop, duplicates=duplicates)


# ---------------------------------------------------------------------------------------------
# Binning
# ---------------------------------------------------------------------------------------------


def n_bins(tstop, dt) -> int:
    """Number of bins ``floor(tstop/dt) + 1``: bin times 0, dt, ..., up to and including tstop."""
    return int(math.floor(float(tstop) / float(dt) + BIN_EPS)) + 1


def population_counts(spikes: SpikeData, dt, tstop=None, populations=None):
    """Spike counts per population and time bin.

    Parameters
    ----------
    spikes : SpikeData
    dt : float
        Bin width (ms).
    tstop : float, optional
        Stop time (ms); default ``spikes.tstop``. Spikes after it raise (they were validated
        against ``spikes.tstop`` already).
    populations : list of str, optional
        Row order (default ``spikes.populations``); names absent from the map give zero rows.

    Returns
    -------
    xarray.DataArray
        ``(population, time)`` int64 spikes per bin ``[k dt, (k+1) dt)``, time coordinate
        ``k dt`` (ms), ``k = 0 .. floor(tstop/dt)``. Sums to the number of spikes.
    """
    import xarray as xr

    if not (dt is not None and np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt: bin width must be a positive number of ms, got {dt!r}")
    tstop = spikes.tstop if tstop is None else float(tstop)
    if tstop is None:
        raise ValueError("tstop: stop time (ms) needed to define the time axis")
    pops = list(spikes.populations if populations is None else populations)
    n = n_bins(tstop, dt)
    if spikes.n_spikes and spikes.times.max() > tstop:
        raise SpikeInputError(f"{spikes.source}: spike at {spikes.times.max()} ms after tstop {tstop} ms")
    counts = np.zeros((len(pops), n), dtype=np.int64)
    if spikes.n_spikes:
        b = np.floor(spikes.times / dt + BIN_EPS).astype(np.int64)
        b = np.minimum(b, n - 1)  # t within BIN_EPS below an edge past tstop: keep in the last bin
        index = {p: i for i, p in enumerate(pops)}
        pop_row = np.array([index.get(spikes.unit_population[int(u)], -1) for u in spikes.units])
        keep = pop_row >= 0
        np.add.at(counts, (pop_row[keep], b[keep]), 1)
    time = np.arange(n) * float(dt)
    return xr.DataArray(
        counts, dims=("population", "time"),
        coords={"population": pops,
                "time": ("time", time, {"units": "ms", "long_name": "bin start time"})},
        name="population_count",
        attrs={"units": "1", "long_name": "spikes per time bin [time, time + dt)", "dt": float(dt),
               "tstop": float(tstop), "spike_source": spikes.source},
    )
