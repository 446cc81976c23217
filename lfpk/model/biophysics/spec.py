"""Biophysics of a population as plain data: mechanisms, parameters and their distribution.

A biophysics block (config ``biophysics`` or ``populations.<name>.biophysics``) is an ordered
mapping of section groups (:mod:`lfpk.model.morphology.groups`) to settings, applied in order so later
groups override earlier ones (as a hoc template's ``forsec`` statements)::

    groups:
      all:
        cm: 1.0                              # uF/cm2 (optional; overrides the population's)
        Ra: 100.0                            # ohm cm (optional)
        ions: {ena: 50.0, ek: -85.0}         # ion variables (mV for reversal potentials)
        mechanisms:                          # NMODL SUFFIX -> {PARAMETER: value}
          pas: {g: 5.89e-5, e: -90.0}
          Ih: {gIhbar: 2.0e-3, ehcn: -45.0}
      apic:
        mechanisms:
          Ih: {gIhbar: {function: exponential, a: -0.8696, b: 2.087, c: 0.00345, scale: 2.0e-4}}
    quasi_linear: [Ih]                       # optional: mechanisms the quasi_linear form linearises
    distance_points: centres                 # optional: or hoc_for_x (see below)

A mechanism listed for a group is inserted in that group's sections; each value is a constant or
a function of the path distance ``d`` (um) from the soma centre to the segment centre:

=============== ============================================================
``linear``       ``scale * (a + b d)``
``exponential``  ``scale * (a + b exp(c (d - d0)))``
``sigmoid``      ``scale * (a + b / (1 + exp((d - d0) / c)))``
``window``       ``scale * (inside if start <= d <= stop else outside)``
=============== ============================================================

with ``normalise: true`` replacing ``d`` by ``d / d_max``, ``d_max`` the path distance of the
group's farthest point (the far end of its farthest segment: the tip of the longest branch, as the
relative distances of Hay et al. 2011's template). Defaults: ``a = 0``, ``d0 = 0``, ``scale = 1``,
``outside = 0``.

``distance_points`` (block level) says where the functions are evaluated: ``centres`` (default)
at every segment centre; ``hoc_for_x`` as the hoc loop ``for (x) { range_variable(x) = f(...) }``
of Hay et al.'s ``distribute_channels`` (ModelDB 139653) does, whose last assignment, at ``x = 1``,
gives the last segment of every section the value at the section's far end (path distance of its
centre plus half its length), the others the value at their centres.

:meth:`Biophysics.evaluate` turns a block into per-segment arrays for one cell
(:class:`CellBiophysics`), which :mod:`lfpk.model.biophysics.neuron` inserts into NEURON.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lfpk.model.morphology.groups import group_mask

#: Distance functions and their required parameters.
FUNCTIONS = {
    "linear": ("b",),
    "exponential": ("b", "c"),
    "sigmoid": ("b", "c"),
    "window": ("start", "stop", "inside"),
}
_DEFAULTS = {"a": 0.0, "d0": 0.0, "scale": 1.0, "outside": 0.0}
#: Where distance functions are evaluated (see the module docstring).
DISTANCE_POINTS = ("centres", "hoc_for_x")


def evaluation_distances(segments, points="centres"):
    """Path distance (um) at which each segment's distance-function value is evaluated, and the
    path distance of each segment's far end.

    Parameters
    ----------
    segments : dict
        Segment table (``section`` in order, ``path_distance`` and ``length`` um).
    points : str
        ``centres`` or ``hoc_for_x`` (the last segment of each section at the section's end).

    Returns
    -------
    d, d_end : ndarray (n,)
    """
    d = np.asarray(segments["path_distance"], dtype=float)
    d_end = d + 0.5 * np.asarray(segments["length"], dtype=float)
    if points == "centres":
        return d, d_end
    names = np.asarray(segments["section"]).astype(str)
    last = np.r_[names[1:] != names[:-1], True]
    return np.where(last, d_end, d), d_end


@dataclass(frozen=True)
class DistanceFunction:
    """A parameter value as a function of path distance from the soma (see the module docstring)."""

    kind: str
    params: dict
    normalise: bool = False

    @classmethod
    def from_config(cls, spec, what):
        kind = spec.get("function")
        if kind not in FUNCTIONS:
            raise ValueError(f"{what}.function: {kind!r} is not one of {', '.join(FUNCTIONS)}")
        missing = [k for k in FUNCTIONS[kind] if k not in spec]
        if missing:
            raise ValueError(f"{what}: the {kind} function needs {', '.join(missing)}")
        allowed = set(FUNCTIONS[kind]) | set(_DEFAULTS) | {"function", "normalise"}
        extra = sorted(set(spec) - allowed)
        if extra:
            raise ValueError(f"{what}: unknown key(s) {', '.join(extra)} of the {kind} function "
                             f"(allowed: {', '.join(sorted(allowed))})")
        params = dict(_DEFAULTS)
        params.update({k: float(v) for k, v in spec.items() if k not in ("function", "normalise")})
        if kind == "sigmoid" and params["c"] == 0:
            raise ValueError(f"{what}.c: the sigmoid's width must not be 0")
        return cls(kind, params, bool(spec.get("normalise", False)))

    def __call__(self, d):
        p = self.params
        d = np.asarray(d, dtype=float)
        if self.kind == "linear":
            v = p["a"] + p["b"] * d
        elif self.kind == "exponential":
            v = p["a"] + p["b"] * np.exp(p["c"] * (d - p["d0"]))
        elif self.kind == "sigmoid":
            v = p["a"] + p["b"] / (1.0 + np.exp((d - p["d0"]) / p["c"]))
        else:
            v = np.where((d >= p["start"]) & (d <= p["stop"]), p["inside"], p["outside"])
        return p["scale"] * v


def _value(v, what):
    if isinstance(v, dict):
        return DistanceFunction.from_config(v, what)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(float(v)):
        raise ValueError(f"{what}: expected a finite number or a distance function, got {v!r}")
    return float(v)


@dataclass(frozen=True)
class GroupSettings:
    """The settings of one group of a biophysics block."""

    group: str
    cm: float | None = None
    Ra: float | None = None
    ions: dict = field(default_factory=dict)
    mechanisms: dict = field(default_factory=dict)  # mechanism -> {parameter: float | DistanceFunction}


@dataclass(frozen=True)
class CellBiophysics:
    """Biophysics of one cell evaluated on its segment table.

    Attributes
    ----------
    inserted : dict
        Mechanism -> boolean mask (n_segments,) of the segments whose section gets it.
    parameters : dict
        ``(mechanism, parameter)`` -> (n_segments,) values, NaN where no group sets it (the
        mechanism's default applies).
    ions : dict
        Ion variable (e.g. ``ena``) -> (n_segments,) values, NaN where unset.
    what : str
        Config key of the block (for messages).
    quasi_linear : tuple or None
        Mechanisms the quasi_linear form linearises (None: every one with a linearisation).
    """

    inserted: dict
    parameters: dict
    ions: dict
    what: str = "biophysics"
    quasi_linear: tuple | None = None

    @property
    def mechanisms(self):
        return list(self.inserted)


@dataclass(frozen=True)
class Biophysics:
    """A population's biophysics block (see the module docstring)."""

    groups: tuple
    quasi_linear: tuple | None = None
    what: str = "biophysics"
    distance_points: str = "centres"

    @classmethod
    def from_config(cls, block, what="biophysics"):
        groups = block.get("groups") if isinstance(block, dict) else None
        if not isinstance(groups, dict) or not groups:
            raise ValueError(f"{what}.groups: expected a mapping of section groups to settings")
        out = []
        for gname, s in groups.items():
            w = f"{what}.groups.{gname}"
            s = s or {}
            mechs = {}
            for mech, params in (s.get("mechanisms") or {}).items():
                mechs[str(mech)] = {str(k): _value(v, f"{w}.mechanisms.{mech}.{k}") for k, v in (params or {}).items()}
            ions = {str(k): _value(v, f"{w}.ions.{k}") for k, v in (s.get("ions") or {}).items()}
            for k, v in ions.items():
                if not isinstance(v, float):
                    raise ValueError(f"{w}.ions.{k}: ion variables are constants per group")
            out.append(GroupSettings(str(gname), s.get("cm"), s.get("Ra"), ions, mechs))
        ql = block.get("quasi_linear")
        points = block.get("distance_points") or "centres"
        if points not in DISTANCE_POINTS:
            raise ValueError(f"{what}.distance_points: {points!r} is not one of {', '.join(DISTANCE_POINTS)}")
        return cls(tuple(out), None if ql is None else tuple(str(m) for m in ql), what, points)

    @property
    def passive(self):
        """``[(group, {cm, Ra})]`` in order: the cable overrides the morphology applies."""
        return [(g.group, {k: getattr(g, k) for k in ("cm", "Ra") if getattr(g, k) is not None})
                for g in self.groups]

    @property
    def mechanisms(self):
        """Every mechanism the block inserts somewhere, in order of first mention."""
        return list(dict.fromkeys(m for g in self.groups for m in g.mechanisms))

    def evaluate(self, segments, custom_groups=None):
        """Per-segment values on a cell's segment table (:class:`CellBiophysics`).

        Parameters
        ----------
        segments : dict
            Segment table (``section``, ``group``, ``path_distance`` um).
        custom_groups : dict, optional
            Config-defined groups ``{name: compiled regex}`` of the morphology.
        """
        n = len(segments["section"])
        d, d_end = evaluation_distances(segments, self.distance_points)
        inserted, params, ions = {}, {}, {}
        for g in self.groups:
            mask = group_mask(segments, g.group, custom_groups, what=f"{self.what}.groups.{g.group}")
            if not mask.any():
                continue
            dmax = d_end[mask].max()
            for mech, values in g.mechanisms.items():
                inserted.setdefault(mech, np.zeros(n, dtype=bool))
                inserted[mech] |= mask
                for p, v in values.items():
                    arr = params.setdefault((mech, p), np.full(n, np.nan))
                    if isinstance(v, DistanceFunction):
                        x = d / dmax if (v.normalise and dmax > 0) else d
                        arr[mask] = v(x[mask])
                    else:
                        arr[mask] = v
            for name, v in g.ions.items():
                ions.setdefault(name, np.full(n, np.nan))[mask] = v
        for (mech, p), arr in params.items():
            if np.isinf(arr).any():
                raise ValueError(f"{self.what}: {mech}.{p} evaluates to a non-finite value on some segment")
        if self.quasi_linear is not None:
            unknown = [m for m in self.quasi_linear if m not in inserted]
            if unknown:
                raise ValueError(f"{self.what}.quasi_linear: mechanism(s) {', '.join(unknown)} are not "
                                 f"inserted anywhere in the cell (mechanisms: {', '.join(inserted)})")
        return CellBiophysics(inserted, params, ions, self.what, self.quasi_linear)
