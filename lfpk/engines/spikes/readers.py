"""Spike files as simulators write them, read in validated chunks of bounded size.

Sources (:func:`expand_sources`): a file, a glob (``brunel-E-*.dat``), or a folder (every file in it
with a spike-file suffix, :data:`SPIKE_SUFFIXES`), each optionally labelled with a population,
``E=path/brunel-E-*.dat``, so that every spike of those files belongs to ``E`` and no unit map is
needed. Several sources together are one recording (NEST writes one file per recorder, thread and
MPI rank).

Text files (:class:`TextSpikeFile`): plain, gzip (by content) or with a UTF-8 BOM; ``#`` comment
lines and repeats of the header line anywhere (files concatenated with ``cat``) are skipped. The
header, if any, is the first non-comment line none of whose fields is a number; it names the unit
column (:data:`lfpk.engines.spikes.maps.UNIT_COLUMNS`) and the time column, whose name may state the unit:

* ms: ``time_ms``, ``t_ms``, ``time (ms)``, ``t [ms]``, ... (NEST 3: ``sender<TAB>time_ms``);
* s: ``time_s``, ``t_s``, ``time (s)``, ... (converted to ms);
* NEST ``time_in_steps``: ``time_step`` and ``time_offset``; time = step * resolution - offset (ms),
  with the simulation resolution given (``nest_resolution``);
* unstated: ``time``, ``times``, ``t``, ``spike_time(s)``, or no header (unit column first, then
  time) -- ms unless ``time_unit`` says otherwise; see :mod:`lfpk.engines.spikes.counting` for the check
  that refuses seconds mistaken for ms.

netCDF files (suffix ``.nc``, :class:`NetCDFSpikeFile`): the ``spikes.nc`` layout (``spike_time``,
``spike_unit``, ``unit_population`` with a ``unit`` coordinate, attribute ``tstop``); the unit of
``spike_time`` comes from its ``units`` attribute.
"""

from __future__ import annotations

import codecs
import glob
import gzip
import io
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd

from lfpk.engines.spikes.checks import fmt_num
from lfpk.engines.spikes.errors import SpikeInputError
from lfpk.engines.spikes.maps import UNIT_COLUMNS, PopulationMap, parse_int

#: suffixes of spike files taken from a folder given as a source
SPIKE_SUFFIXES = (".dat", ".gdf", ".txt", ".csv", ".tsv", ".spk", ".nc", ".gz")
#: time-column names that state ms
TIME_MS = ("time_ms", "t_ms", "times_ms", "spike_time_ms", "time (ms)", "t (ms)", "time [ms]", "t [ms]",
           "time/ms", "t/ms")
#: time-column names that state seconds
TIME_S = ("time_s", "t_s", "times_s", "spike_time_s", "time (s)", "t (s)", "time [s]", "t [s]", "time/s", "t/s")
#: time-column names that state no unit
TIME_UNSTATED = ("time", "times", "t", "spike_time", "spike_times", "tspk", "timestamp")
TIME_COLUMNS = TIME_MS + TIME_S + TIME_UNSTATED
#: rows per chunk of a text file (about 40 MB of arrays)
CHUNK_ROWS = 1 << 21
_READ_BYTES = 1 << 23
_NUMBERLIKE = re.compile(r"^[+-]?(\d|\.\d|inf|nan)", re.I)
_SPECIAL_LINE = re.compile(r"^[ \t]*(#|$)|^[ \t]*[^\d\s+\-.]", re.M)
_LABEL = re.compile(r"^([A-Za-z_][\w.+-]*)=(.+)$")
_FIELDS = re.compile(r"[,;\s]+")


@dataclass
class SpikeSource:
    """One spike file.

    Attributes
    ----------
    path : Path
    population : str or None
        Every spike of the file belongs to this population (``POP=path``); None: a unit map decides.
    unit_offset : int
        Added to every unit id of the file (per-subgroup monitors whose ids restart at 0).
    spec : str
        The argument that named the file (for messages).
    """

    path: Path
    population: str | None = None
    unit_offset: int = 0
    spec: str = ""

    @property
    def is_netcdf(self) -> bool:
        return self.path.suffix.lower() in (".nc", ".nc4", ".netcdf")


def _split_label(spec):
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        return str(spec[0]), str(spec[1])
    spec = str(spec)
    m = _LABEL.match(spec)
    if m and not Path(spec).exists() and "/" not in m.group(1):
        return m.group(1), m.group(2)
    return None, spec


def expand_sources(specs, unit_offsets=None) -> list[SpikeSource]:
    """Spike sources from arguments: paths, globs, folders, each optionally ``POP=...``.

    Parameters
    ----------
    specs : str, path-like, (population, path) or list of them
    unit_offsets : dict, optional
        Population -> offset added to the unit ids of that population's labelled files.

    Raises
    ------
    SpikeInputError
        A pattern that matches nothing, a folder without spike files, a file given twice, an offset
        for a population without labelled files.
    """
    if isinstance(specs, (str, Path)) or (isinstance(specs, tuple) and len(specs) == 2):
        specs = [specs]
    unit_offsets = {str(k): v for k, v in (unit_offsets or {}).items()}
    out, seen = [], {}
    for spec in specs:
        label, pattern = _split_label(spec)
        shown = f"{label}={pattern}" if label else pattern
        p = Path(pattern).expanduser()
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.is_file() and _spike_suffix(f))
            if not files:
                raise SpikeInputError(f"{shown}: folder has no spike files (suffixes {', '.join(SPIKE_SUFFIXES)})")
        elif p.exists():
            files = [p]
        elif glob.has_magic(pattern):
            files = sorted(Path(f) for f in glob.glob(str(p)) if Path(f).is_file())
            if not files:
                raise SpikeInputError(f"{shown}: pattern matches no file")
        else:
            raise FileNotFoundError(f"spike file {pattern} does not exist")
        for f in files:
            try:
                key = (f.stat().st_dev, f.stat().st_ino)
            except OSError as exc:
                raise SpikeInputError(f"{f}: cannot read ({exc.strerror})") from None
            if key in seen:
                raise SpikeInputError(f"{f}: given twice (by {seen[key]!r} and {shown!r}); expected each spike file once")
            seen[key] = shown
            offset = unit_offsets.get(label, 0) if label else 0
            src = SpikeSource(path=f, population=label, unit_offset=int(offset), spec=shown)
            if label and src.is_netcdf:
                raise SpikeInputError(f"{shown}: a netCDF spike file carries its own populations; expected no "
                                      "'POP=' label")
            out.append(src)
    labels = {s.population for s in out if s.population}
    for pop in unit_offsets:
        if pop not in labels:
            raise SpikeInputError(f"unit offset for population {pop!r}: no spike file is labelled {pop}= "
                                  f"(labelled: {sorted(labels) or 'none'})")
    if not out:
        raise SpikeInputError("no spike file given")
    check_nest_threads(out)
    check_swapped_labels(out)
    return out


def check_swapped_labels(sources):
    """Refuse a file labelled ``POP=`` whose name names another labelled population and not its own
    (``E=brunel-I-103-0.dat`` next to ``I=brunel-E-102-0.dat``: labels swapped). Names are split at
    ``-``, ``_``, ``.`` and spaces; only populations that label some file count."""
    labels = {s.population for s in sources if s.population}
    if len(labels) < 2:
        return
    for src in sources:
        if not src.population:
            continue
        tokens = set(re.split(r"[-_.\s]+", src.path.name))
        named = sorted((tokens & labels) - {src.population})
        if named and src.population not in tokens:
            raise SpikeInputError(
                f"{src.spec}: the file name {src.path.name!r} names population {named[0]}, but the file is labelled "
                f"{src.population}=; expected the label of the population it records (labels swapped?)")


_NEST_FILE = re.compile(r"^(?P<label>.+)-(?P<id>\d+)-(?P<vp>\d+)\.(?P<ext>dat|gdf|txt|csv)$")


def _is_nest_file(path):
    """True when the file starts as NEST 3's ASCII recorders write (``# NEST version``)."""
    try:
        with open(path, "rb") as f:
            return f.read(64).lstrip(b"\xef\xbb\xbf").startswith(b"# NEST version")
    except OSError:
        return False


def check_nest_threads(sources):
    """Refuse a recording of NEST per-thread files with one missing.

    NEST 3 writes ``<label>-<recorder id>-<virtual process>.dat``, one file per virtual process
    (thread x MPI rank), numbered from 0; each holds the spikes of the neurons on that process. A
    file missing from the middle or the start (``-0``, ``-1``, ``-3``: ``-2`` is gone) means a
    prediction from part of the spikes. Only files that start with NEST's ``# NEST version`` header
    are grouped, so other names with two numbers are left alone. (A missing last file cannot be
    seen from the names.)
    """
    groups = {}
    for src in sources:
        m = _NEST_FILE.match(src.path.name)
        if m and _is_nest_file(src.path):
            key = (src.path.parent, m.group("label"), m.group("id"), m.group("ext"))
            groups.setdefault(key, set()).add(int(m.group("vp")))
    for (folder, label, rid, ext), vps in groups.items():
        missing = sorted(set(range(max(vps) + 1)) - vps)
        if missing:
            name = folder / f"{label}-{rid}-<vp>.{ext}"
            shown = ", ".join(str(v) for v in missing[:8]) + (" ..." if len(missing) > 8 else "")
            have = ", ".join(str(v) for v in sorted(vps)[:8]) + (" ..." if len(vps) > 8 else "")
            raise SpikeInputError(
                f"{name}: NEST per-thread file(s) of virtual process {shown} missing (given: {have}); NEST writes one "
                f"file per virtual process numbered from 0, each with the spikes of its neurons: expected all of "
                f"0..{max(vps)} (a missing file leaves its neurons' spikes out)")


def _spike_suffix(f):
    name = f.name.lower()
    return any(name.endswith(s) for s in SPIKE_SUFFIXES) and not name.startswith(".")


# ---------------------------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------------------------


@dataclass
class Columns:
    """Where unit and time are in a text file's rows, and the time unit the header states."""

    unit: int = 0
    time: int = 1
    offset: int | None = None  # NEST time_in_steps: column of time_offset (time is time_step)
    stated: str | None = None  # 'ms', 's', 'steps' or None
    header: str | None = None  # the header line as written
    names: tuple = ("unit", "time")

    @property
    def n_needed(self):
        return max(self.unit, self.time, -1 if self.offset is None else self.offset) + 1


def _header_columns(fields, where, line):
    names = [x.strip().lower() for x in fields]
    iu = next((k for k, n in enumerate(names) if n in UNIT_COLUMNS), None)
    if "time_step" in names:
        it = names.index("time_step")
        if "time_offset" not in names:
            raise SpikeInputError(f"{where}: header {line!r} has 'time_step' but no 'time_offset'; expected NEST's "
                                  "time_in_steps layout 'sender time_step time_offset'")
        cols = Columns(iu if iu is not None else -1, it, names.index("time_offset"), "steps", line, tuple(fields))
    else:
        it = next((k for k, n in enumerate(names) if n in TIME_MS + TIME_S), None)
        if it is None:
            it = next((k for k, n in enumerate(names) if n in TIME_UNSTATED), None)
        stated = None if it is None else ("ms" if names[it] in TIME_MS else "s" if names[it] in TIME_S else None)
        cols = Columns(iu if iu is not None else -1, it if it is not None else -1, None, stated, line, tuple(fields))
    if cols.unit < 0 or cols.time < 0:
        missing = " and ".join(w for w, k in (("a unit column", cols.unit), ("a time column", cols.time)) if k < 0)
        raise SpikeInputError(
            f"{where}: header {line!r} lacks {missing}; expected a unit id column (one of {', '.join(UNIT_COLUMNS)}) "
            f"and a time column (ms: {', '.join(TIME_MS[:4])}, ...; s: {', '.join(TIME_S[:4])}, ...; unstated: "
            f"{', '.join(TIME_UNSTATED)}; or NEST's time_step + time_offset)")
    return cols


def _split_header(s):
    return [x.strip() for x in re.split(r"[,;\t]", s)] if re.search(r"[,;\t]", s) else s.split()


class TextSpikeFile:
    """Chunked reader of one text spike file (plain or gzip).

    Parameters
    ----------
    source : SpikeSource
    nest_resolution : float, optional
        Simulation resolution (ms) for NEST ``time_in_steps`` files.
    chunk_rows : int
        Rows per chunk.

    Iterating yields ``(units, times, lines)``: unit ids (int64, offset applied), times (float64, in
    the file's unit: ms, s, or ms from steps) and the 1-based line number of each row.
    Attribute :attr:`columns` is set once the header (or first data line) was read.
    """

    def __init__(self, source, nest_resolution=None, chunk_rows=CHUNK_ROWS):
        self.source = source
        self.path = source.path
        self.nest_resolution = nest_resolution
        self.chunk_rows = int(chunk_rows)
        self.columns = None
        self._sep = None

    # -- raw lines ------------------------------------------------------------------------------

    def _open(self):
        with open(self.path, "rb") as f:
            magic = f.read(8)
        if magic.startswith(b"\x89HDF") or magic.startswith(b"CDF"):
            raise SpikeInputError(f"{self.path}: is a netCDF/HDF5 file; expected the suffix .nc for netCDF "
                                  "spikes, or a text spike file")
        if magic.startswith(b"\x1f\x8b"):
            return gzip.open(self.path, "rb")
        return open(self.path, "rb")

    def _blocks(self):
        """Decoded text blocks ending at line ends, with the line number of their first line."""
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        rest, lineno, offset = "", 1, 0
        try:
            with self._open() as f:
                while True:
                    raw = f.read(_READ_BYTES)
                    final = not raw
                    try:
                        text = rest + decoder.decode(raw, final=final)
                    except UnicodeDecodeError as exc:
                        raise SpikeInputError(
                            f"{self.path}: not UTF-8 text ({exc.reason} near byte {offset + exc.start}); expected a "
                            "text spike file (or the suffix .nc for netCDF)") from None
                    offset += len(raw)
                    if "\r" in text:
                        text = text.replace("\r\n", "\n")
                    if "\0" in text:
                        raise SpikeInputError(f"{self.path}: binary data (NUL byte) near byte {offset}; expected a text "
                                              "spike file (or the suffix .nc for netCDF)")
                    if final:
                        if text:
                            yield lineno, text
                        return
                    cut = text.rfind("\n")
                    if cut < 0:
                        rest = text
                        continue
                    block, rest = text[: cut + 1], text[cut + 1:]
                    yield lineno, block
                    lineno += block.count("\n")
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise SpikeInputError(f"{self.path}: truncated or corrupt gzip file ({exc}); expected a complete "
                                  ".gz file") from None

    # -- parsing --------------------------------------------------------------------------------

    def _first_line(self, s, lineno):
        """Header or first data line: sets the columns; returns True if the line is a header."""
        where = f"{self.path}, line {lineno}"
        hf = _split_header(s)
        if not any(_is_number(x) for x in hf):
            self.columns = _header_columns(hf, where, s)
            header = True
        else:
            self.columns = Columns()
            header = False
        if self.columns.stated == "steps" and not (self.nest_resolution and self.nest_resolution > 0):
            raise SpikeInputError(
                f"{where}: header {s!r} is NEST's time_in_steps output (time = time_step * resolution - time_offset); "
                "give the simulation resolution in ms (--nest-resolution, nest_resolution=)")
        return header

    def _slow(self, lines, numbers):
        """Parse rows one by one with exact messages (the fallback of the vectorised path)."""
        c = self.columns
        units, times, offs = [], [], []
        for lineno, s in zip(numbers, lines):
            where = f"{self.path}, line {lineno}"
            f = [x for x in _FIELDS.split(s.strip()) if x]
            if len(f) < c.n_needed:
                raise SpikeInputError(f"{where}: expected {c.n_needed} columns ({', '.join(c.names[:c.n_needed])}), "
                                      f"got {len(f)} ({s.strip()!r})")
            u = parse_int(f[c.unit])
            if u is None:
                raise SpikeInputError(f"{where}, column {c.names[c.unit]!r}: {f[c.unit]!r} is not an integer unit id")
            try:
                t = float(f[c.time])
                o = float(f[c.offset]) if c.offset is not None else 0.0
            except ValueError:
                bad = f[c.time] if not _is_number(f[c.time]) else f[c.offset]
                raise SpikeInputError(f"{where}, column {c.names[c.time]!r}: {bad!r} is not a number; expected a "
                                      "spike time") from None
            units.append(u)
            times.append(t)
            offs.append(o)
        return np.asarray(units, dtype=np.int64), np.asarray(times, dtype=float), np.asarray(offs, dtype=float)

    def _fast(self, lines):
        """Vectorised parse (pandas' C reader); None when any row needs the exact slow path."""
        c = self.columns
        usecols = sorted({c.unit, c.time} | ({c.offset} if c.offset is not None else set()))
        try:
            df = pd.read_csv(io.StringIO("\n".join(lines)), sep=self._sep, header=None, usecols=usecols,
                             dtype=np.float64, skipinitialspace=True, engine="c", na_filter=True,
                             skip_blank_lines=False)
        except (ValueError, pd.errors.ParserError, IndexError):
            return None
        if len(df) != len(lines):
            return None
        vals = df.to_numpy()
        cu = vals[:, usecols.index(c.unit)]
        ct = vals[:, usecols.index(c.time)]
        if not (np.isfinite(cu).all() and np.isfinite(ct).all() and (cu == np.round(cu)).all()
                and np.abs(cu).max(initial=0) < 2**53):
            return None  # nan/inf (literal or missing field), non-integer ids: exact messages from the slow path
        co = vals[:, usecols.index(c.offset)] if c.offset is not None else np.zeros(len(ct))
        return cu.astype(np.int64), ct, co

    def __iter__(self):
        rows_u, rows_t, rows_o, rows_l = [], [], [], []
        n = 0
        for first_lineno, block in self._blocks():
            lines = block.split("\n")
            if lines and lines[-1] == "":
                lines.pop()
            numbers = np.arange(first_lineno, first_lineno + len(lines))
            if self.columns is None or _SPECIAL_LINE.search(block, 0, len(block) - 1):
                keep = []
                for k, line in enumerate(lines):
                    s = line.strip()
                    if not s or s.startswith("#"):
                        continue
                    if self.columns is None:
                        if self._first_line(s, int(numbers[k])):
                            continue
                    elif self.columns.header is not None and s == self.columns.header.strip():
                        continue  # a repeated header (files concatenated)
                    if self._sep is None:
                        self._sep = _separator(s)  # from the first data line
                    keep.append(k)
                lines = [lines[k] for k in keep]
                numbers = numbers[keep]
            for a in range(0, len(lines), self.chunk_rows):
                part, nums = lines[a:a + self.chunk_rows], numbers[a:a + self.chunk_rows]
                parsed = self._fast(part) if self._sep is not None else None
                u, t, o = parsed if parsed is not None else self._slow(part, nums)
                rows_u.append(u)
                rows_t.append(t)
                rows_o.append(o)
                rows_l.append(nums)
                n += len(u)
                if n >= self.chunk_rows:
                    yield self._emit(rows_u, rows_t, rows_o, rows_l)
                    rows_u, rows_t, rows_o, rows_l, n = [], [], [], [], 0
        if n:
            yield self._emit(rows_u, rows_t, rows_o, rows_l)

    def _emit(self, us, ts, os_, ls):
        u = np.concatenate(us) + self.source.unit_offset
        t = np.concatenate(ts)
        if self.columns.stated == "steps":
            t = t * float(self.nest_resolution) - np.concatenate(os_)
        return u, t, np.concatenate(ls)


def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def _separator(line):
    if "," in line:
        return ","
    if ";" in line:
        return ";"
    if "\t" in line and " " not in line.strip():
        return "\t"
    return r"\s+"


# ---------------------------------------------------------------------------------------------
# netCDF
# ---------------------------------------------------------------------------------------------


class NetCDFSpikeFile:
    """Chunked reader of a ``spikes.nc`` file (the network's output layout).

    Attributes (after construction): :attr:`map` (its units' populations), :attr:`tstop` (ms or
    None), :attr:`dt`, :attr:`stated` (unit of ``spike_time``: 'ms', 's' or None), :attr:`n_spikes`.
    Iterating yields ``(units, times, index)`` with the 0-based spike index.
    """

    def __init__(self, source, chunk_rows=CHUNK_ROWS):
        self.source = source
        self.path = source.path
        self.chunk_rows = int(chunk_rows)
        try:
            ds = netCDF4.Dataset(self.path, "r")
        except OSError as exc:
            raise SpikeInputError(f"{self.path}: not a readable netCDF file ({exc}); expected spikes.nc "
                                  "(spike_time, spike_unit, unit_population)") from None
        try:
            self._describe(ds)
        finally:
            ds.close()

    def _describe(self, ds):
        path = self.path
        for var in ("spike_time", "spike_unit", "unit_population"):
            if var not in ds.variables:
                raise SpikeInputError(
                    f"{path}: variable {var!r} is missing; expected spike_time (spike) ms, spike_unit (spike) int and "
                    "unit_population (unit) str")
        if ds["spike_time"].dimensions != ("spike",) or ds["spike_unit"].dimensions != ("spike",):
            raise SpikeInputError(f"{path}: variables 'spike_time' and 'spike_unit' must have the single dim 'spike'")
        if len(ds["unit_population"].dimensions) != 1:
            raise SpikeInputError(f"{path}: variable 'unit_population' must be 1-d (dim 'unit')")
        udim = ds["unit_population"].dimensions[0]
        pops = [str(p) for p in np.asarray(ds["unit_population"][:]).ravel()]
        if udim in ds.variables and np.issubdtype(ds[udim].dtype, np.number):
            ids = np.asarray(ds[udim][:]).astype(np.int64)
        else:
            ids = np.arange(len(pops), dtype=np.int64)
        self.map = PopulationMap([(int(i), int(i), p, f"{path}: unit {int(i)}") for i, p in zip(ids, pops)],
                                 f"{path}: unit_population")
        attrs = {k: ds.getncattr(k) for k in ds.ncattrs()}
        self.tstop = float(attrs["tstop"]) if "tstop" in attrs else None
        self.dt = float(attrs["dt"]) if "dt" in attrs else None
        units = str(getattr(ds["spike_time"], "units", "")).strip().lower()
        self.stated = {"ms": "ms", "millisecond": "ms", "milliseconds": "ms", "s": "s", "second": "s",
                       "seconds": "s"}.get(units)
        self.n_spikes = len(ds.dimensions["spike"])
        self._numeric = {v: np.issubdtype(ds[v].dtype, np.number) for v in ("spike_time", "spike_unit")}

    def __iter__(self):
        path = self.path
        with netCDF4.Dataset(path, "r") as ds:
            ds.set_auto_mask(False)
            if not self._numeric["spike_time"]:
                raise SpikeInputError(f"{path}: variable 'spike_time' is not numeric; expected times in ms")
            if not self._numeric["spike_unit"]:
                raise SpikeInputError(f"{path}: variable 'spike_unit' is not numeric; expected integer unit ids")
            for a in range(0, self.n_spikes, self.chunk_rows):
                b = min(a + self.chunk_rows, self.n_spikes)
                t = np.asarray(ds["spike_time"][a:b], dtype=float)
                raw = np.asarray(ds["spike_unit"][a:b])
                if not np.issubdtype(raw.dtype, np.integer):
                    fu = raw.astype(float)
                    bad = ~np.isfinite(fu) | (fu != np.round(fu))
                    if bad.any():
                        i = int(np.flatnonzero(bad)[0])
                        raise SpikeInputError(f"{path}: variable 'spike_unit', spike index {a + i}: {fmt_num(fu[i])} "
                                              "is not an integer unit id")
                    raw = fu
                yield raw.astype(np.int64), t, np.arange(a, b, dtype=np.int64)
