"""Reconstructed morphologies from SWC, Neurolucida ASC or hoc files.

Files are read once per process through NEURON (Hines & Carnevale 1997, Neural Comput 9:1179):
SWC (``.swc``) and Neurolucida (``.asc``) by the Import3d tools (``Import3d_SWC_read``,
``Import3d_Neurolucida3``) into a private template object, hoc files (``.hoc``) by loading them at
the top level. The sections' 3-d points, parents and names are copied out and the sections
deleted again; every cell is then built from these copies (:meth:`FileMorphology.build`), so any
number of cells, rotated and placed independently, can exist in one process.

As in LFPy (Hagen et al. 2018, Front Neuroinform 12:92), the segment end points are the 3-d
points interpolated at the segment boundaries, the areas NEURON's, the soma centre the mean of the
soma segments' midpoints; rotations act about the soma centre (:mod:`lfpk.model.morphology.rotation`)
and the segment table is relative to it. Segmentation follows the d_lambda rule with NEURON's
``lambda_f`` (which accounts for diameter changes along a section), or the length rule of Hay et
al.'s (2011) template (:mod:`lfpk.model.morphology.cable`).

Axon stub: like the template of Hay et al. (2011, PLoS Comput Biol 7:e1002107; ModelDB 139653),
``axon_stub`` replaces the file's axon -- every section of the type group ``axon`` and what hangs
from it -- by a chain of cylinders ``axon[0], axon[1], ...`` of the given lengths and diameter,
attached at the middle of the first soma section. They are given no 3-d points: NEURON's
``define_shape`` lays them out, as it does for the template's stub in LFPy.

Caution: loading a ``.hoc`` morphology executes it at NEURON's top level, where its ``create``
statements replace top-level sections of the same names (e.g. of an ``LFPy.Cell`` built from a
hoc file in the same process).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from lfpk.base.files import register_input
from lfpk.base.io import to_json
from lfpk.model.morphology import hoc, table
from lfpk.model.morphology.cable import length_nseg, nseg_from_length_constants, segmentation_attrs
from lfpk.model.morphology.cell import CellSections
from lfpk.model.morphology.fetch import FetchError, Source, verify
from lfpk.model.morphology.groups import compile_groups, section_settings, type_group
from lfpk.model.morphology.rotation import is_identity, rotate_segments, rotation_matrix

#: File suffixes and their readers.
FORMATS = {".swc": "SWC", ".asc": "Neurolucida", ".hoc": "hoc"}

_TEMPLATE = """
begintemplate LfpkImport3d
public soma, dend, apic, axon, all, somatic, basal, apical, axonal
create soma[1], dend[1], apic[1], axon[1]
objref all, somatic, basal, apical, axonal
proc init() {
    all = new SectionList()
    somatic = new SectionList()
    basal = new SectionList()
    apical = new SectionList()
    axonal = new SectionList()
}
endtemplate LfpkImport3d
"""


#: Segment tables of file morphologies, per file and cable parameters (computed once per process).
_TABLES = {}


class MorphologyError(ValueError):
    """A morphology file that is missing, unreadable or unusable; the message names the file."""


@dataclass(frozen=True)
class SectionGeometry:
    """One section of a morphology file.

    Attributes
    ----------
    name : str
        Section name without any object prefix (e.g. ``dend[3]``).
    parent : int
        Index of the parent section (-1 for a root).
    parent_x : float
        Position on the parent (0..1) the section attaches to.
    orientation : float
        End of the section (0 or 1) attached to the parent.
    points : ndarray (n3d, 4)
        3-d points x, y, z, diameter (um).
    logical_point : ndarray (3,) or None
        NEURON's logical connection point (``pt3dstyle(1, x, y, z)``, um): Import3d sets it
        where a tree leaves a soma contour, so the tree is not moved onto the soma's centre line.
    cylinder : tuple or None
        ``(L, diam)`` (um) of a section given without 3-d points (an axon stub; ``points`` None).
    """

    name: str
    parent: int
    parent_x: float
    orientation: float
    points: np.ndarray
    logical_point: np.ndarray = None
    cylinder: tuple = None


def replace_axon(sections, lengths, diam, what="morphology.axon_stub"):
    """The sections of a morphology with its axon replaced by a stub (Hay et al. 2011's template).

    Parameters
    ----------
    sections : sequence of SectionGeometry
        The file's sections.
    lengths : sequence of float
        Length (um) of each stub section ``axon[0], axon[1], ...``, connected in a chain.
    diam : float
        Diameter of the stub (um).

    Returns
    -------
    tuple of SectionGeometry
        The sections without the file's axon (and anything attached to it), then the stub, its
        first section attached at the middle (x = 0.5) of the first soma section.
    """
    lengths = [float(x) for x in lengths]
    if not lengths or min(lengths) <= 0 or not diam > 0:
        raise MorphologyError(f"{what}: expected positive lengths and diam (um)")
    drop = set()
    for i, sec in enumerate(sections):
        if type_group(sec.name) == "axon" or (sec.parent >= 0 and sec.parent in drop):
            drop.add(i)
    # a child listed before its parent: close the set over the tree
    changed = True
    while changed:
        changed = False
        for i, sec in enumerate(sections):
            if i not in drop and sec.parent in drop:
                drop.add(i)
                changed = True
    keep = [i for i in range(len(sections)) if i not in drop]
    new_index = {old: new for new, old in enumerate(keep)}
    out = []
    for i in keep:
        sec = sections[i]
        parent = new_index[sec.parent] if sec.parent >= 0 else -1
        out.append(SectionGeometry(sec.name, parent, sec.parent_x, sec.orientation, sec.points,
                                   sec.logical_point, sec.cylinder))
    somas = [k for k, sec in enumerate(out) if type_group(sec.name) == "soma"]
    names = {sec.name for sec in out}
    for k, L in enumerate(lengths):
        name = f"axon[{k}]"
        if name in names:
            raise MorphologyError(f"{what}: the morphology keeps a section named {name} (not of the axon group)")
        parent, px = (somas[0], 0.5) if k == 0 else (len(out) - 1, 1.0)
        out.append(SectionGeometry(name, parent, px, 0.0, None, None, (L, float(diam))))
    return tuple(out)


def file_digest(path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _load_neuron():
    # NEURON on first use: importing it starts its interpreter
    from neuron import h

    h.load_file("stdrun.hoc")
    h.load_file("import3d.hoc")
    if not hasattr(h, "LfpkImport3d"):
        h(_TEMPLATE)
    return h


def _copy_sections(h, sections):
    """SectionGeometry of each NEURON section (in the given order)."""
    sections = list(sections)
    index = {sec: i for i, sec in enumerate(sections)}
    out = []
    for sec in sections:
        n = int(sec.n3d())
        pts = np.array([[sec.x3d(i), sec.y3d(i), sec.z3d(i), sec.diam3d(i)] for i in range(n)], dtype=float)
        pseg = sec.parentseg()
        parent = index.get(pseg.sec, -1) if pseg is not None else -1
        out.append(SectionGeometry(
            name=sec.name().rsplit(".", 1)[-1], parent=parent,
            parent_x=float(pseg.x) if pseg is not None else 0.0,
            orientation=float(sec.orientation()), points=pts, logical_point=_logical_point(h, sec),
        ))
    return out


def _logical_point(h, sec):
    """The section's logical connection point (um), or None (``pt3dstyle`` 0)."""
    if int(h.pt3dstyle(sec=sec)) != 1:
        return None
    refs = [h.ref(0.0), h.ref(0.0), h.ref(0.0)]
    h.pt3dstyle(1, *refs, sec=sec)  # with references: reads the point
    return np.array([r[0] for r in refs], dtype=float)


def _read_import3d(h, path, fmt):
    reader = h.Import3d_SWC_read() if fmt == "SWC" else h.Import3d_Neurolucida3()
    reader.quiet = 1
    try:
        reader.input(str(path))
        gui = h.Import3d_GUI(reader, 0)
        obj = h.LfpkImport3d()
        gui.instantiate(obj)
        # sections of the file; the template's placeholder arrays of types the file lacks stay empty
        secs = [sec for sec in obj.all if sec.n3d() > 0]
    except (RuntimeError, TypeError) as exc:  # Import3d's parse errors surface in either form
        raise MorphologyError(f"{path}: not a readable {fmt} morphology ({exc})") from None
    try:
        return _copy_sections(h, secs)
    finally:
        del secs
        obj = gui = reader = None  # noqa: F841 - releases the template's sections


def _read_hoc(h, path):
    before = set(h.allsec())
    try:
        ok = h.load_file(1, str(path))
    except RuntimeError as exc:
        raise MorphologyError(f"{path}: the hoc morphology failed to load ({exc})") from None
    new = [sec for sec in h.allsec() if sec not in before]
    try:
        if not ok:
            raise MorphologyError(f"{path}: the hoc morphology failed to load (see NEURON's message above)")
        if not new:
            raise MorphologyError(f"{path}: the hoc file creates no sections at the top level "
                                  "(a cell template is not a morphology file)")
        h.define_shape()  # as LFPy: 3-d points for sections given by L and diam only
        return _copy_sections(h, new)
    finally:
        for sec in new:
            h.delete_section(sec=sec)


@lru_cache(maxsize=32)
def _read_cached(path, stamp):
    h = _load_neuron()
    fmt = FORMATS[Path(path).suffix.lower()]
    secs = _read_hoc(h, path) if fmt == "hoc" else _read_import3d(h, path, fmt)
    if not secs:
        raise MorphologyError(f"{path}: no sections")
    if not any(type_group(s.name) == "soma" for s in secs):
        raise MorphologyError(f"{path}: the morphology has no soma (no section named soma*); "
                              f"sections: {', '.join(s.name for s in secs[:8])}{' ...' if len(secs) > 8 else ''}")
    empty = [s.name for s in secs if len(s.points) < 2]
    if empty:
        raise MorphologyError(f"{path}: section(s) without 3-d points: {', '.join(empty[:8])}")
    return tuple(secs)


def read_sections(path, what="morphology.file"):
    """The sections of a morphology file (cached per path and modification time).

    The one place morphology files are read: the file is an input of the running command
    (:func:`lfpk.base.files.register_input`), which no output of the command may overwrite.

    Raises
    ------
    MorphologyError
        Missing file, unknown suffix, unreadable content or no soma; the message names the file
        (and ``what``, the config key).
    lfpk.base.errors.OutputError
        The file is an output the running command is about to write.
    """
    path = Path(path)
    if not path.is_file():
        raise MorphologyError(f"{what}: morphology file {path} does not exist")
    register_input(path)
    if path.suffix.lower() not in FORMATS:
        raise MorphologyError(f"{what}: {path} has an unknown morphology format (expected "
                              f"{', '.join(FORMATS)})")
    st = os.stat(path)
    return _read_cached(str(path.resolve()), (st.st_mtime_ns, st.st_size))


def _interpolate_ends(sec, arc_norm, pts):
    """LFPy's segment end points: 3-d points interpolated at the segment boundaries."""
    nseg = sec.nseg
    half = 1.0 / 2 / nseg
    xs = np.array([seg.x for seg in sec])
    x0 = (xs - half).round(decimals=6)
    x1 = (xs + half).round(decimals=6)
    return [np.column_stack([np.interp(x0, arc_norm, pts[:, k]), np.interp(x1, arc_norm, pts[:, k])])
            for k in range(3)]


def _check_pinned(file, sha256, url, what):
    """A file with a pinned digest exists (else say how to fetch it) and has that digest."""
    key = what.rsplit(".", 1)[0]
    if url and not Path(file).exists():
        src = Source(key.split(".")[1] if key.startswith("populations.") else key, file, url, sha256 or "")
        raise MorphologyError(f"{what}: morphology file {file} does not exist: fetch it with `lfpk fetch --config "
                              f"<config>` (the workflow's rule fetch_morphologies does), or {src.manual()}")
    if sha256 and Path(file).is_file():
        try:
            verify(file, sha256, key)
        except FetchError as exc:
            raise MorphologyError(str(exc)) from None


class FileMorphology:
    """A population's cell from a morphology file (SWC, Neurolucida ASC or hoc).

    Parameters
    ----------
    name : str
        Population name.
    file : path-like
        Morphology file (absolute, or relative to the working directory).
    Ra, cm : float
        Axial resistivity (ohm cm) and membrane capacitance (uF/cm2) of every section, unless
        ``passive`` overrides them per group.
    d_lambda, frequency : float
        d_lambda rule: segments at most ``d_lambda`` AC length constants at ``frequency`` (Hz).
    segment_length : float, optional
        Length rule instead: ``nseg = 1 + 2 int(L / segment_length)`` (um; Hay et al.'s 40 um).
    axon_stub : dict, optional
        ``{length: [um, ...], diam: um}``: the file's axon replaced by this stub (see the module
        docstring).
    sha256, url : str, optional
        Pinned digest of the file (a file with other content is refused) and its public source
        (named in the message when the file is missing; :mod:`lfpk.model.morphology.fetch`).
    rotation : dict
        ``{x, y, z}`` (radians) about the soma centre, applied in that order (LFPy convention).
    groups : dict
        Config-defined section groups ``{name: regex}`` (full match on section names).
    passive : list of (group, settings)
        Ordered group settings whose ``Ra`` and ``cm`` override the defaults (biophysics groups).
    what : str
        Config key named in errors.
    """

    def __init__(self, name, file, Ra=100.0, cm=1.0, d_lambda=0.1, frequency=100.0, rotation=None,
                 groups=None, passive=(), what="morphology.file", segment_length=None, axon_stub=None,
                 sha256=None, url=None):
        self.name = name
        self.file = str(file)
        self.sha256, self.url = sha256, url
        _check_pinned(self.file, sha256, url, what)
        self.Ra, self.cm = float(Ra), float(cm)
        self.d_lambda, self.frequency = float(d_lambda), float(frequency)
        self.segment_length = None if segment_length is None else float(segment_length)
        self.axon_stub = None if not axon_stub else {"length": [float(x) for x in axon_stub["length"]],
                                                     "diam": float(axon_stub["diam"])}
        self.rotation = {k: float(v) for k, v in (rotation or {}).items() if k in ("x", "y", "z")}
        self.groups = dict(groups or {})
        self._custom = compile_groups(self.groups, what.rsplit(".", 1)[0] + ".groups")
        self._what = what
        self.sections = read_sections(self.file, what)
        if self.axon_stub:
            self.sections = replace_axon(self.sections, self.axon_stub["length"], self.axon_stub["diam"],
                                         what.rsplit(".", 1)[0] + ".axon_stub")
        names = [s.name for s in self.sections]
        if len(set(names)) != len(names):
            raise MorphologyError(f"{what}: {self.file} has repeated section names")
        passive = list(passive)
        self.section_Ra = section_settings(names, self._custom, passive, "Ra")
        self.section_cm = section_settings(names, self._custom, passive, "cm")
        self._table = None

    # --- geometry -------------------------------------------------------------------------

    @property
    def rotation_matrix(self):
        return None if is_identity(self.rotation) else rotation_matrix(**self.rotation)

    def section_Ra_cm(self, section):
        return (float(self.section_Ra.get(section, self.Ra)), float(self.section_cm.get(section, self.cm)))

    def _create(self, h, prefix, points, logical, nseg=None):
        secs = {}
        for geom, pts, lp in zip(self.sections, points, logical):
            s = h.Section(name=f"{prefix}.{geom.name}")
            if pts is None:  # a cylinder without 3-d points (axon stub): define_shape places it
                s.L, s.diam = geom.cylinder
                secs[geom.name] = s
                continue
            h.pt3dadd(h.Vector(pts[:, 0]), h.Vector(pts[:, 1]), h.Vector(pts[:, 2]), h.Vector(pts[:, 3]), sec=s)
            if lp is not None:
                h.pt3dstyle(1, float(lp[0]), float(lp[1]), float(lp[2]), sec=s)
            secs[geom.name] = s
        for geom in self.sections:
            if geom.parent >= 0:
                parent = secs[self.sections[geom.parent].name]
                secs[geom.name].connect(parent(geom.parent_x), geom.orientation)
        for i, geom in enumerate(self.sections):
            s = secs[geom.name]
            s.Ra, s.cm = self.section_Ra_cm(geom.name)
            if nseg is not None:
                s.nseg = int(nseg[i])
        return secs

    def _compute_table(self):
        """Segment table, nseg and canonical 3-d points (rotated, soma centre at the origin)."""
        h = _load_neuron()
        raw = [g.points for g in self.sections]
        raw_logical = [g.logical_point for g in self.sections]
        secs = self._create(h, f"lfpk_morphology_{id(self)}", raw, raw_logical)
        try:
            # as LFPy after loading a file: children translated onto their parents' connection
            # points (Import3d leaves Neurolucida trees off the soma contour); the points after
            # that are the cell's
            h.define_shape()
            raw = [np.array([[s.x3d(i), s.y3d(i), s.z3d(i), s.diam3d(i)] for i in range(int(s.n3d()))])
                   for s in (secs[g.name] for g in self.sections)]
            nseg = []
            for g in self.sections:
                s = secs[g.name]
                if self.segment_length is not None:
                    s.nseg = length_nseg(s.L, self.segment_length)
                else:
                    s.nseg = nseg_from_length_constants(s.L / h.lambda_f(self.frequency, sec=s), self.d_lambda)
                nseg.append(int(s.nseg))
            cols = {k: [] for k in ("x", "y", "z", "diam", "length", "area", "section", "group", "x_norm")}
            segs = []
            for g in self.sections:
                s = secs[g.name]
                arc = np.array([s.arc3d(i) for i in range(int(s.n3d()))]) / s.L
                x, y, z = _interpolate_ends(s, arc, raw[len(cols["x"])])
                cols["x"].append(x)
                cols["y"].append(y)
                cols["z"].append(z)
                for seg in s:
                    cols["diam"].append(seg.diam)
                    cols["area"].append(seg.area())
                    cols["length"].append(s.L / s.nseg)
                    cols["section"].append(g.name)
                    cols["group"].append(type_group(g.name))
                    cols["x_norm"].append(seg.x)
                    segs.append(seg)
            seg = {k: np.concatenate(v) if k in ("x", "y", "z") else np.array(v) for k, v in cols.items()}
            centre = table.soma_centre(seg)
            origin = segs[table.soma_index(seg)]
            seg["path_distance"] = np.array([h.distance(origin, s) for s in segs])
        finally:
            for s in secs.values():
                h.delete_section(sec=s)
        R = self.rotation_matrix
        ident = np.eye(3) if R is None else R
        for i, k in enumerate("xyz"):
            seg[k] = seg[k] - centre[i]
        if R is not None:
            seg = rotate_segments(seg, R)
        points = []
        for p in raw:
            p = p.copy()
            p[:, :3] = (p[:, :3] - centre) @ ident.T
            points.append(p)
        logical = [None if lp is None else (lp - centre) @ ident.T for lp in raw_logical]
        return seg, nseg, (points, logical), centre

    def _cache_key(self):
        st = os.stat(self.file)
        return (str(Path(self.file).resolve()), st.st_mtime_ns, st.st_size, self.Ra, self.cm, self.d_lambda,
                self.frequency, self.segment_length, repr(self.axon_stub), tuple(sorted(self.rotation.items())),
                tuple(sorted(self.section_Ra.items())), tuple(sorted(self.section_cm.items())))

    def _cached(self):
        if self._table is None:
            key = self._cache_key()
            if key not in _TABLES:
                if len(_TABLES) > 32:
                    _TABLES.clear()
                _TABLES[key] = self._compute_table()
            self._table = _TABLES[key]
        return self._table

    def segments(self):
        """Segment table (:mod:`lfpk.model.morphology.table`; a copy), soma centre at the origin."""
        return {k: v.copy() for k, v in self._cached()[0].items()}

    @property
    def soma_index(self) -> int:
        return table.soma_index(self._cached()[0])

    def nseg(self, section) -> int:
        """Number of segments of ``section`` (by name)."""
        names = [g.name for g in self.sections]
        return int(self._cached()[1][names.index(section)])

    @property
    def digest(self) -> str:
        return file_digest(self.file)

    def segment_table(self):
        """Segment table as a labelled xarray Dataset (morphology data contract)."""
        return table.dataset(self.segments(), {
            "population": self.name,
            "file": self.file,
            "file_sha256": self.digest,
            "Ra": self.Ra, "Ra_units": "ohm cm",
            "cm": self.cm, "cm_units": "uF/cm2",
            **segmentation_attrs(self),
            "axon_stub": to_json(self.axon_stub),
            "nseg": to_json({g.name: n for g, n in zip(self.sections, self._cached()[1])}),
            "soma_centre_in_file": to_json(self._cached()[3]),
            "soma_centre_in_file_units": "um",
            "rotation": to_json(self.rotation), "rotation_units": "rad",
            "title": f"morphology of population {self.name} from {Path(self.file).name}",
        })

    def to_hoc(self) -> str:
        """hoc text creating the (rotated, soma-centred) sections, loadable by ``LFPy.Cell``.

        Sections become arrays by name (``soma``, ``dend``, ...: ``dend[3]`` stays ``dend[3]``,
        a plain ``soma`` becomes ``soma[0]``), with the segment counts of the segmentation rule.
        """
        _, nseg, (points, logical), _ = self._cached()
        arrays = {}
        hoc_names = []
        for g in self.sections:
            base, _, rest = g.name.partition("[")
            idx = int(rest.rstrip("]")) if rest else 0
            arrays[base] = max(arrays.get(base, 0), idx + 1)
            hoc_names.append(f"{base}[{idx}]")
        lines = [f"// morphology of population {self.name} from {self.file}, written by lfpk",
                 "create " + ", ".join(f"{b}[{n}]" for b, n in arrays.items())]
        for g, name, pts, lp, n in zip(self.sections, hoc_names, points, logical, nseg):
            Ra, cm = self.section_Ra_cm(g.name)
            lines.append(hoc.section(name, pts, Ra, cm, n, lp))
        for g, name in zip(self.sections, hoc_names):
            if g.parent >= 0:
                lines.append(hoc.connect(name, g.orientation, hoc_names[g.parent], g.parent_x))
        return "\n".join(lines) + "\n"

    def build(self, prefix=None, z_offset=0.0, x_offset=0.0, y_offset=0.0, angle_z=0.0, angle_x=0.0):
        """Create the cell's NEURON sections (geometry, Ra, cm, nseg; no membrane mechanisms).

        Parameters
        ----------
        prefix : str, optional
            Section name prefix (default: population name).
        x_offset, y_offset, z_offset : float
            Position of the soma centre (um).
        angle_z : float
            Extra rotation about the z axis through the soma centre (radians), after
            :attr:`rotation`.
        angle_x : float
            Extra rotation about the x axis through the soma centre (radians), after
            :attr:`rotation` and before ``angle_z`` (a cell's random rotation about x).

        Returns
        -------
        CellSections
        """
        h = _load_neuron()
        _, nseg, (points, logical), _ = self._cached()
        offset = np.array([x_offset, y_offset, z_offset], dtype=float)
        if angle_x:
            Rz = rotation_matrix(x=angle_x, z=angle_z)
        else:
            Rz = rotation_matrix(z=angle_z) if angle_z else np.eye(3)
        moved = []
        for p in points:
            q = p.copy()
            q[:, :3] = q[:, :3] @ Rz.T + offset
            moved.append(q)
        moved_logical = [None if lp is None else lp @ Rz.T + offset for lp in logical]
        secs = self._create(h, prefix or self.name, moved, moved_logical, nseg)
        return CellSections(secs, self.soma_index)
