"""Ball-and-stick morphologies of the study's populations.

Geometry (Hagen et al. 2022, Methods): a cylindrical soma centred at the origin along z, a basal
dendrite ``dend`` from the soma's lower end downwards and an apical dendrite ``apic`` from its upper
end upwards, segmented by the d_lambda rule (:mod:`lfpk.model.morphology.cable`).

One description (:class:`BallAndStick`) produces the segment table (netCDF data contract), the
``.hoc`` file LFPy loads, and the NEURON sections the kernel and network stages simulate, so the
three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lfpk.base.io import to_json
from lfpk.model.morphology import hoc, table
from lfpk.model.morphology.cable import d_lambda_nseg, length_nseg, segmentation_attrs, segmentation_options
from lfpk.model.morphology.cell import CellSections
from lfpk.model.morphology.rotation import is_identity, rotate_points, rotate_segments, rotation_matrix

#: Sections of a ball-and-stick cell, in segment-table order.
SECTIONS = ("soma", "dend", "apic")


@dataclass(frozen=True)
class BallAndStick:
    """Geometry and passive cable parameters of one population's ball-and-stick cell.

    Parameters
    ----------
    name : str
        Population name.
    length, diam : dict
        Section name -> length (um) and diameter (um) for ``soma``, ``dend``, ``apic``.
    Ra : float
        Axial resistivity (ohm cm).
    cm : float
        Specific membrane capacitance (uF/cm2).
    d_lambda : float
        Maximum segment length as a fraction of the AC length constant (dimensionless).
    frequency : float
        Frequency of the AC length constant (Hz).
    segment_length : float, optional
        Length rule instead of the d_lambda rule: ``nseg = 1 + 2 int(L / segment_length)`` (um).
    section_Ra, section_cm : dict
        Per-section overrides of ``Ra`` (ohm cm) and ``cm`` (uF/cm2) (biophysics group values).
    rotation : dict
        ``{x, y, z}`` rotation (radians) about the soma centre, as LFPy's ``Cell.set_rotation``.
    groups : dict
        Config-defined section groups ``{name: regex}`` (:mod:`lfpk.model.morphology.groups`).
    """

    name: str
    length: dict
    diam: dict
    Ra: float = 100.0
    cm: float = 1.0
    d_lambda: float = 0.1
    frequency: float = 100.0
    segment_length: float | None = None
    section_Ra: dict = field(default_factory=dict)
    section_cm: dict = field(default_factory=dict)
    rotation: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)

    file = None

    @classmethod
    def from_config(cls, name, population, section_Ra=None, section_cm=None):
        """Build from one entry of the config's ``populations`` mapping."""
        morph = population["morphology"]
        missing = [s for s in SECTIONS if s not in morph]
        if missing:
            raise ValueError(f"populations.{name}.morphology: missing section(s) {missing} of a "
                             f"ball-and-stick cell (or give `file:`)")
        return cls(
            name=name,
            length={s: float(morph[s]["length"]) for s in SECTIONS},
            diam={s: float(morph[s]["diam"]) for s in SECTIONS},
            Ra=float(population["Ra"]),
            cm=float(population["cm"]),
            **segmentation_options(population["segmentation"], f"populations.{name}.segmentation"),
            section_Ra=dict(section_Ra or {}),
            section_cm=dict(section_cm or {}),
            rotation={k: float(v) for k, v in (population.get("rotation") or {}).items()
                      if k in ("x", "y", "z")},
            groups=dict(morph.get("groups") or {}),
        )

    # --- geometry -------------------------------------------------------------------------

    def section_ends(self, section):
        """z coordinates (um) of the 0 and 1 ends of ``section`` (x = y = 0, before rotation)."""
        half = self.length["soma"] / 2.0
        if section == "soma":
            return -half, half
        if section == "dend":
            return -half, -half - self.length["dend"]
        if section == "apic":
            return half, half + self.length["apic"]
        raise KeyError(f"unknown section {section!r}; expected one of {SECTIONS}")

    def section_Ra_cm(self, section):
        """Axial resistivity (ohm cm) and capacitance (uF/cm2) of ``section``."""
        return (float(self.section_Ra.get(section, self.Ra)), float(self.section_cm.get(section, self.cm)))

    def nseg(self, section) -> int:
        """Number of segments of ``section`` (d_lambda or length rule)."""
        if self.segment_length is not None:
            return length_nseg(self.length[section], self.segment_length)
        Ra, cm = self.section_Ra_cm(section)
        return d_lambda_nseg(self.length[section], self.diam[section], Ra, cm, self.d_lambda, self.frequency)

    @property
    def rotation_matrix(self):
        return None if is_identity(self.rotation) else rotation_matrix(**self.rotation)

    def segments(self):
        """Segment table (:mod:`lfpk.model.morphology.table`), segments ordered soma, dend, apic.

        Returns
        -------
        dict
            ``x, y, z`` (n, 2) start/end (um, soma centre at the origin), ``diam``, ``length``
            (um), ``area`` (um2, cylinder mantle), ``section``, ``group``, ``x_norm`` and
            ``path_distance`` (um, from the soma centre along the cell).
        """
        z, diam, section, xnorm, dist = [], [], [], [], []
        half = self.length["soma"] / 2.0
        for sec in SECTIONS:
            n = self.nseg(sec)
            z0, z1 = self.section_ends(sec)
            edges = np.linspace(z0, z1, n + 1)
            z.append(np.column_stack([edges[:-1], edges[1:]]))
            diam.append(np.full(n, self.diam[sec]))
            section += [sec] * n
            x = (np.arange(n) + 0.5) / n
            xnorm.append(x)
            dist.append(np.abs(x - 0.5) * self.length["soma"] if sec == "soma" else half + x * self.length[sec])
        z = np.concatenate(z)
        diam = np.concatenate(diam)
        length = np.abs(z[:, 1] - z[:, 0])
        out = {
            "x": np.zeros_like(z),
            "y": np.zeros_like(z),
            "z": z,
            "diam": diam,
            "length": length,
            "area": np.pi * diam * length,
            "section": np.array(section),
            "group": np.array(section),
            "x_norm": np.concatenate(xnorm),
            "path_distance": np.concatenate(dist),
        }
        R = self.rotation_matrix
        return out if R is None else rotate_segments(out, R)

    @property
    def soma_index(self) -> int:
        """Segment at the soma centre (the middle soma segment)."""
        return self.nseg("soma") // 2

    def segment_table(self):
        """Segment table as a labelled xarray Dataset (morphology data contract)."""
        return table.dataset(self.segments(), {
            "population": self.name,
            "Ra": self.Ra,
            "Ra_units": "ohm cm",
            "cm": self.cm,
            "cm_units": "uF/cm2",
            **segmentation_attrs(self),
            "nseg": to_json({s: self.nseg(s) for s in SECTIONS}),
            "geometry": to_json({"length": self.length, "diam": self.diam}),
            "rotation": to_json(self.rotation),
            "rotation_units": "rad",
            "title": f"ball-and-stick morphology of population {self.name}",
        })

    def _points(self, section, R):
        z0, z1 = self.section_ends(section)
        pts = np.array([[0.0, 0.0, z0], [0.0, 0.0, z1]])
        return pts if R is None else rotate_points(pts, R)

    def to_hoc(self) -> str:
        """NEURON hoc text creating the sections with 3-d points, loadable by ``LFPy.Cell``."""
        lines = [
            f"// ball-and-stick morphology of population {self.name}, written by lfpk",
            "create soma[1], dend[1], apic[1]",
        ]
        R = self.rotation_matrix
        for sec in SECTIONS:
            d = self.diam[sec]
            Ra, cm = self.section_Ra_cm(sec)
            pts = [(x, y, z, d) for x, y, z in self._points(sec, R)]
            lines.append(hoc.section(f"{sec}[0]", pts, Ra, cm, self.nseg(sec)))
        lines += [hoc.connect("dend[0]", 0, "soma[0]", 0), hoc.connect("apic[0]", 0, "soma[0]", 1), ""]
        return "\n".join(lines)

    def build(self, prefix=None, z_offset=0.0, x_offset=0.0, y_offset=0.0, angle_z=0.0, angle_x=0.0):
        """Create the cell's NEURON sections (geometry, Ra, cm, nseg; no membrane mechanisms).

        Parameters
        ----------
        prefix : str, optional
            Section name prefix (default: population name).
        x_offset, y_offset, z_offset : float
            Translation of the soma centre (um).
        angle_z : float
            Extra rotation about the z axis through the soma centre (radians), after
            :attr:`rotation` (a cell's random rotation).
        angle_x : float
            Extra rotation about the x axis through the soma centre (radians), after
            :attr:`rotation` and before ``angle_z`` (a cell's random rotation about x).

        Returns
        -------
        CellSections
            Section name -> ``nrn.Section``, in segment-table order.
        """
        # NEURON on first use: importing it starts its interpreter
        from neuron import h

        prefix = prefix or self.name
        R = self.rotation_matrix
        if angle_z or angle_x:
            Rz = rotation_matrix(z=angle_z) if not angle_x else rotation_matrix(x=angle_x, z=angle_z)
            R = Rz if R is None else Rz @ R
        secs = {}
        for sec in SECTIONS:
            s = h.Section(name=f"{prefix}.{sec}")
            d = self.diam[sec]
            s.pt3dclear()
            if R is None:
                z0, z1 = self.section_ends(sec)
                s.pt3dadd(x_offset, y_offset, z0 + z_offset, d)
                s.pt3dadd(x_offset, y_offset, z1 + z_offset, d)
            else:
                for x, y, z in self._points(sec, R):
                    s.pt3dadd(x + x_offset, y + y_offset, z + z_offset, d)
            s.Ra, s.cm = self.section_Ra_cm(sec)
            s.nseg = self.nseg(sec)
            secs[sec] = s
        secs["dend"].connect(secs["soma"](0), 0)
        secs["apic"].connect(secs["soma"](1), 0)
        return CellSections(secs, self.soma_index)
