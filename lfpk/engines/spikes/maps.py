"""Unit -> population maps: per-unit lines, id ranges, dicts and YAML.

A :class:`PopulationMap` stores sorted, disjoint, inclusive id ranges ``[first, last]`` with a
population each, so a map of a million units given as two ranges stays two rows, and the lookup of
a chunk of unit ids is one vectorised :func:`numpy.searchsorted`.

Accepted map files (``--populations FILE``; ``#`` comments and blank lines skipped; fields separated
by commas, semicolons, colons, tabs or spaces):

* one unit per line: ``unit,population`` (``12,E``), optional header ``unit,population``;
* id ranges, inclusive: ``E: 1-8192`` / ``E 1-8192`` / ``1-8192,E`` (as NEST's node ids of
  ``nest.Create`` are consecutive);
* mixed, in any order; YAML (suffix ``.yaml``/``.yml``): ``{E: 1-8192, I: [8193, 9216]}`` or
  ``{E: [1, 2, 5], ...}`` with a list of more than two ids, or ``{12: E, 13: I}``.

Overlapping ids of different populations are an error naming both lines; repeated ids of the same
population are merged.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from lfpk.base.yamlfile import YAMLFileError, load_yaml
from lfpk.engines.spikes.errors import SpikeInputError

#: header names recognised for the unit column of a map or spike file (case-insensitive)
UNIT_COLUMNS = ("unit", "unit_id", "units", "id", "ids", "gid", "sender", "senders", "neuron", "neuron_id",
                "node_id", "node_ids", "global_id", "i", "index", "source")
_POPULATION_COLUMNS = ("population", "pop", "population_name")
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-|\.\.)\s*(\d+)\s*$")
_SPLIT = re.compile(r"[,;:\s]+")


def parse_int(text):
    """Integer from text or a number ('12', '12.0' accepted; '1.5', 'x', nan rejected), else None."""
    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        return int(text)
    try:
        return int(str(text).strip())
    except ValueError:
        pass
    try:
        v = float(str(text).strip())
    except ValueError:
        return None
    if math.isfinite(v) and v == int(v):
        return int(v)
    return None


class PopulationMap:
    """Unit id -> population as sorted disjoint inclusive id ranges.

    Parameters
    ----------
    ranges : iterable of (first, last, population, where)
        Inclusive id ranges; ``where`` names the source (file and line) for messages.
    source : str
        Where the map came from.
    """

    def __init__(self, ranges, source="<memory>"):
        self.source = str(source)
        ranges = list(ranges)
        rows = sorted(((int(a), int(b), str(p), str(w)) for a, b, p, w in ranges), key=lambda r: (r[0], r[1]))
        if not rows:
            raise SpikeInputError(f"{self.source}: empty unit->population map; expected at least one unit")
        order = {}
        for _, _, p, _ in ranges:  # population order: first appearance in the source
            order.setdefault(str(p), len(order))
        self.populations = list(order)
        merged = []
        for a, b, p, w in rows:
            if a > b:
                raise SpikeInputError(f"{w}: id range {a}-{b} is empty; expected first <= last")
            if merged and a <= merged[-1][1] + (merged[-1][2] == p):
                pa, pb, pp, pw = merged[-1]
                if pp != p and a <= pb:
                    lo, hi = max(a, pa), min(b, pb)
                    ids = f"unit {lo} is" if lo == hi else f"units {lo}-{hi} are"
                    raise SpikeInputError(f"{w}: {ids} mapped to {p!r} here and to {pp!r} by {pw}; expected one "
                                          "population per unit")
                if pp == p:
                    merged[-1] = (pa, max(pb, b), pp, pw)
                    continue
            merged.append((a, b, p, w))
        self._first = np.array([r[0] for r in merged], dtype=np.int64)
        self._last = np.array([r[1] for r in merged], dtype=np.int64)
        self._pop = np.array([self.populations.index(r[2]) for r in merged], dtype=np.int64)

    # -- constructors ---------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, mapping, source="<dict>"):
        """From ``{unit: population}`` or ``{population: 'a-b' | (a, b) | range | [ids...]}``."""
        if isinstance(mapping, PopulationMap):
            return mapping
        if not isinstance(mapping, dict) or not mapping:
            raise SpikeInputError(f"{source}: expected a non-empty unit->population mapping, got {mapping!r}")
        ranges = []
        for k, v in mapping.items():
            unit = parse_int(k)
            if unit is not None and isinstance(v, str):
                ranges.append((unit, unit, v, f"{source}, unit {unit}"))
                continue
            where = f"{source}, population {k!r}"
            if isinstance(v, range):
                if v.step != 1 or len(v) == 0:
                    raise SpikeInputError(f"{where}: expected a non-empty range with step 1, got {v!r}")
                ranges.append((v.start, v.stop - 1, str(k), where))
            elif isinstance(v, str) and _RANGE.match(v):
                a, b = map(int, _RANGE.match(v).groups())
                ranges.append((a, b, str(k), where))
            elif isinstance(v, (list, tuple, np.ndarray)) and len(v) == 2 and all(parse_int(x) is not None for x in v):
                ranges.append((parse_int(v[0]), parse_int(v[1]), str(k), where))
            elif isinstance(v, (list, tuple, np.ndarray)) and len(v) and all(parse_int(x) is not None for x in v):
                ranges += [(parse_int(x), parse_int(x), str(k), where) for x in v]
            else:
                raise SpikeInputError(
                    f"{where}: {v!r} is not an id range; expected 'first-last', [first, last], a list of more "
                    "than two ids, or {unit: population}")
        return cls(ranges, source)

    @classmethod
    def read(cls, path):
        """Read a map file (see the module docstring for the accepted layouts)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"population map {path} does not exist")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SpikeInputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); expected a "
                                  "unit->population map") from None
        if path.suffix.lower() in (".yaml", ".yml"):
            try:
                data = load_yaml(text, path)  # strict: a unit range twice or an alias bomb is refused
            except YAMLFileError as exc:
                raise SpikeInputError(str(exc)) from None
            return cls.from_dict(data, str(path))
        ranges = []
        header_seen = False
        for lineno, line in enumerate(text.splitlines(), start=1):
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            where = f"{path}, line {lineno}"
            f = [x for x in _SPLIT.split(_normalise_range(s)) if x]
            if len(f) != 2:
                raise SpikeInputError(
                    f"{where}: expected 2 fields, 'unit,population' or 'population: first-last', got {len(f)} ({s!r})")
            parsed = [_unit_or_range(x) for x in f]
            if parsed[0] is not None and parsed[1] is None:
                (a, b), pop = parsed[0], f[1]
            elif parsed[1] is not None and parsed[0] is None:
                (a, b), pop = parsed[1], f[0]
            elif not header_seen and not ranges and all(p is None for p in parsed):
                header_seen = True
                names = [x.lower() for x in f]
                if names[0] not in UNIT_COLUMNS or names[1] not in _POPULATION_COLUMNS:
                    raise SpikeInputError(f"{where}: header {s!r} not understood; expected 'unit,population'")
                continue
            elif all(p is None for p in parsed):
                raise SpikeInputError(f"{where}, column 'unit': {f[0]!r} is not an integer unit id or id range "
                                      "'first-last'")
            else:
                raise SpikeInputError(f"{where}: {s!r} has no population name; expected 'unit,population' or "
                                      "'population: first-last'")
            ranges.append((a, b, pop, where))
        if not ranges:
            raise SpikeInputError(f"{path}: no 'unit,population' or 'population: first-last' rows found")
        return cls(ranges, str(path))

    def __eq__(self, other):
        if isinstance(other, dict):
            return self.to_dict() == {parse_int(k): str(v) for k, v in other.items()}
        if isinstance(other, PopulationMap):
            return self.ranges() == other.ranges() and self.populations == other.populations
        return NotImplemented

    __hash__ = None

    # -- queries --------------------------------------------------------------------------------

    def lookup(self, units):
        """Population index of each unit id (``-1`` where the map has no such unit)."""
        units = np.asarray(units, dtype=np.int64)
        i = np.searchsorted(self._first, units, side="right") - 1
        ok = (i >= 0) & (units <= self._last[np.clip(i, 0, None)])
        return np.where(ok, self._pop[np.clip(i, 0, None)], -1)

    def size(self, population) -> int:
        """Number of unit ids of ``population``."""
        k = self.populations.index(population)
        sel = self._pop == k
        return int((self._last[sel] - self._first[sel] + 1).sum())

    def id_range(self, population):
        """(smallest, largest) unit id of ``population``."""
        k = self.populations.index(population)
        sel = self._pop == k
        return int(self._first[sel].min()), int(self._last[sel].max())

    def n_units(self) -> int:
        return int((self._last - self._first + 1).sum())

    def ranges(self):
        """List of (first, last, population) rows."""
        return [(int(a), int(b), self.populations[k]) for a, b, k in zip(self._first, self._last, self._pop)]

    def to_dict(self) -> dict:
        """Unit id -> population for every unit (expands the ranges)."""
        out = {}
        for a, b, p in self.ranges():
            out.update(dict.fromkeys(range(a, b + 1), p))
        return out

    def describe(self, population) -> str:
        rows = [f"{a}-{b}" if b > a else f"{a}" for a, b, p in self.ranges() if p == population]
        text = ", ".join(rows[:4]) + (f", ... ({len(rows)} ranges)" if len(rows) > 4 else "")
        return f"{self.size(population)} units ({text})"


def _normalise_range(s):
    # 'E: 1 - 8192' -> 'E: 1-8192' so the split keeps the range as one field
    return re.sub(r"(\d)\s*(-|\.\.)\s*(\d)", r"\1\2\3", s)


def _unit_or_range(text):
    m = _RANGE.match(text)
    if m:
        return int(m.group(1)), int(m.group(2))
    u = parse_int(text)
    return None if u is None else (u, u)


def read_population_map(path) -> dict:
    """Read a map file into a dict unit id -> population (see :class:`PopulationMap`)."""
    return PopulationMap.read(path).to_dict()


def as_population_map(populations, what="population map"):
    """A :class:`PopulationMap` from a map file path, a dict, or a map (None stays None)."""
    if populations is None or isinstance(populations, PopulationMap):
        return populations
    if isinstance(populations, dict):
        return PopulationMap.from_dict(populations, what)
    return PopulationMap.read(populations)
