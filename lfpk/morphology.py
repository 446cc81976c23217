"""Ball-and-stick morphologies of the study's populations.

Geometry (Hagen et al. 2022, Methods): a cylindrical soma centred at the origin along z, a basal
dendrite ``dend`` from the soma's lower end downwards and an apical dendrite ``apic`` from its upper
end upwards. Sections are split into segments by the d_lambda rule (Hines & Carnevale 2001,
"NEURON: a tool for neuroscientists", The Neuroscientist 7:123): the number of segments is the
smallest odd number with segment length at most ``d_lambda`` times the AC length constant at
``frequency``.

One description (:class:`BallAndStick`) produces the segment table (netCDF data contract), the
``.hoc`` file LFPy loads, and the NEURON sections the kernel and network stages simulate, so the
three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SECTIONS = ("soma", "dend", "apic")


def lambda_ac(diam, Ra, cm, frequency):
    """AC length constant (um) of a cylinder.

    Parameters
    ----------
    diam : float
        Diameter (um).
    Ra : float
        Axial resistivity (ohm cm).
    cm : float
        Specific membrane capacitance (uF/cm2).
    frequency : float
        Frequency (Hz).
    """
    # lambda_f = 1e5 * sqrt(diam / (4 pi f Ra cm)) um for diam in um, Ra in ohm cm, cm in uF/cm2
    return 1e5 * np.sqrt(diam / (4.0 * np.pi * frequency * Ra * cm))


def d_lambda_nseg(length, diam, Ra, cm, d_lambda, frequency) -> int:
    """Odd number of segments of the d_lambda rule for a cylinder of ``length`` and ``diam`` (um)."""
    ratio = length / (d_lambda * lambda_ac(diam, Ra, cm, frequency))
    return int((ratio + 0.9) / 2) * 2 + 1


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
    """

    name: str
    length: dict
    diam: dict
    Ra: float = 100.0
    cm: float = 1.0
    d_lambda: float = 0.1
    frequency: float = 100.0

    @classmethod
    def from_config(cls, name, population):
        """Build from one entry of the config's ``populations`` mapping."""
        morph = population["morphology"]
        return cls(
            name=name,
            length={s: float(morph[s]["length"]) for s in SECTIONS},
            diam={s: float(morph[s]["diam"]) for s in SECTIONS},
            Ra=float(population["Ra"]),
            cm=float(population["cm"]),
            d_lambda=float(population["segmentation"]["d_lambda"]),
            frequency=float(population["segmentation"]["frequency"]),
        )

    def section_ends(self, section):
        """z coordinates (um) of the 0 and 1 ends of ``section`` (x = y = 0)."""
        half = self.length["soma"] / 2.0
        if section == "soma":
            return -half, half
        if section == "dend":
            return -half, -half - self.length["dend"]
        if section == "apic":
            return half, half + self.length["apic"]
        raise KeyError(f"unknown section {section!r}; expected one of {SECTIONS}")

    def nseg(self, section) -> int:
        """Number of segments of ``section`` by the d_lambda rule."""
        return d_lambda_nseg(
            self.length[section], self.diam[section], self.Ra, self.cm, self.d_lambda, self.frequency
        )

    def segments(self):
        """Segment table as numpy arrays, segments ordered soma, dend, apic (0 end to 1 end).

        Returns
        -------
        dict
            ``z`` (n, 2) start/end depth (um), ``x``, ``y`` (n, 2) zeros (um), ``diam`` (n,) um,
            ``area`` (n,) um2 (cylinder mantle), ``length`` (n,) um, ``section`` (n,) str,
            ``x_norm`` (n,) position of the segment centre along its section (0..1).
        """
        z, diam, section, xnorm = [], [], [], []
        for sec in SECTIONS:
            n = self.nseg(sec)
            z0, z1 = self.section_ends(sec)
            edges = np.linspace(z0, z1, n + 1)
            z.append(np.column_stack([edges[:-1], edges[1:]]))
            diam.append(np.full(n, self.diam[sec]))
            section += [sec] * n
            xnorm.append((np.arange(n) + 0.5) / n)
        z = np.concatenate(z)
        diam = np.concatenate(diam)
        length = np.abs(z[:, 1] - z[:, 0])
        return {
            "x": np.zeros_like(z),
            "y": np.zeros_like(z),
            "z": z,
            "diam": diam,
            "length": length,
            "area": np.pi * diam * length,
            "section": np.array(section),
            "x_norm": np.concatenate(xnorm),
        }

    def segment_table(self):
        """Segment table as a labelled xarray Dataset (morphology data contract)."""
        import xarray as xr

        from lfpk.io import to_json

        seg = self.segments()
        n = len(seg["diam"])
        dims2 = ("segment", "end")
        ds = xr.Dataset(
            {
                "x": (dims2, seg["x"], {"units": "um", "long_name": "segment end x coordinate"}),
                "y": (dims2, seg["y"], {"units": "um", "long_name": "segment end y coordinate"}),
                "z": (dims2, seg["z"], {"units": "um", "long_name": "segment end z coordinate"}),
                "diam": ("segment", seg["diam"], {"units": "um", "long_name": "segment diameter"}),
                "length": ("segment", seg["length"], {"units": "um", "long_name": "segment length"}),
                "area": ("segment", seg["area"], {"units": "um2", "long_name": "segment membrane area"}),
                "section": ("segment", seg["section"].astype(str), {"units": "1", "long_name": "section name"}),
                "x_norm": ("segment", seg["x_norm"], {"units": "1", "long_name": "segment centre position along its section (NEURON x)"}),
            },
            coords={"segment": np.arange(n), "end": ["start", "end"]},
            attrs={
                "population": self.name,
                "Ra": self.Ra,
                "Ra_units": "ohm cm",
                "cm": self.cm,
                "cm_units": "uF/cm2",
                "d_lambda": self.d_lambda,
                "frequency": self.frequency,
                "frequency_units": "Hz",
                "nseg": to_json({s: self.nseg(s) for s in SECTIONS}),
                "geometry": to_json({"length": self.length, "diam": self.diam}),
                "title": f"ball-and-stick morphology of population {self.name}",
            },
        )
        return ds

    def to_hoc(self) -> str:
        """NEURON hoc text creating the sections with 3-d points, loadable by ``LFPy.Cell``."""
        lines = [
            f"// ball-and-stick morphology of population {self.name}, written by lfpk",
            "create soma[1], dend[1], apic[1]",
        ]
        for sec in SECTIONS:
            z0, z1 = self.section_ends(sec)
            d = self.diam[sec]
            lines.append(
                f"{sec}[0] {{ pt3dclear() pt3dadd(0, 0, {z0!r}, {d!r}) pt3dadd(0, 0, {z1!r}, {d!r}) "
                f"Ra = {self.Ra!r} cm = {self.cm!r} nseg = {self.nseg(sec)} }}"
            )
        lines += ["connect dend[0](0), soma[0](0)", "connect apic[0](0), soma[0](1)", ""]
        return "\n".join(lines)

    def build(self, prefix=None, z_offset=0.0, x_offset=0.0, y_offset=0.0):
        """Create the cell's NEURON sections (geometry, Ra, cm, nseg; no membrane mechanisms).

        Parameters
        ----------
        prefix : str, optional
            Section name prefix (default: population name).
        x_offset, y_offset, z_offset : float
            Translation of the soma centre (um).

        Returns
        -------
        dict
            Section name -> ``nrn.Section``, in segment-table order.
        """
        from neuron import h

        prefix = prefix or self.name
        secs = {}
        for sec in SECTIONS:
            s = h.Section(name=f"{prefix}.{sec}")
            z0, z1 = self.section_ends(sec)
            d = self.diam[sec]
            s.pt3dclear()
            s.pt3dadd(x_offset, y_offset, z0 + z_offset, d)
            s.pt3dadd(x_offset, y_offset, z1 + z_offset, d)
            s.Ra = self.Ra
            s.cm = self.cm
            s.nseg = self.nseg(sec)
            secs[sec] = s
        secs["dend"].connect(secs["soma"](0), 0)
        secs["apic"].connect(secs["soma"](1), 0)
        return secs


def from_config(cfg):
    """All populations' morphologies of a validated config, by population name."""
    return {name: BallAndStick.from_config(name, pop) for name, pop in cfg["populations"].items()}
