"""What the NEURON block of an NMODL file says about a mechanism's currents.

The generic linearisation (:mod:`lfpk.model.biophysics.linear`) needs the total ionic current of every
segment: the ion currents (``ina``, ``ik``, ... read from the ions) plus the non-specific currents
each mechanism declares (``NONSPECIFIC_CURRENT``), which NEURON keeps only as the mechanism's own
range variables. This module reads those declarations from the ``.mod`` sources (the mechanisms
are compiled from them) and knows the built-in mechanisms' (NEURON's ``pas`` and ``hh``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

#: Non-specific currents of NEURON's built-in density mechanisms.
BUILTIN = {"pas": ("i",), "hh": ("il",), "extracellular": (), "fastpas": ("i",)}


@dataclass(frozen=True)
class MechanismInfo:
    """Declarations of one density mechanism's NEURON block.

    Attributes
    ----------
    suffix : str
    nonspecific : tuple of str
        ``NONSPECIFIC_CURRENT`` names (range variables ``<name>_<suffix>``, mA/cm2).
    ions : dict
        Ion -> ``{"read": [...], "write": [...]}``.
    file : str
        Source file (empty for built-ins).
    """

    suffix: str
    nonspecific: tuple
    ions: dict
    file: str = ""

    @property
    def writes_currents(self) -> bool:
        return bool(self.nonspecific) or any(f"i{ion}" in io["write"] for ion, io in self.ions.items())


def _strip_comments(text):
    text = re.sub(r"(?ms)^\s*COMMENT\b.*?^\s*ENDCOMMENT\b", "", text)
    text = re.sub(r":[^\n]*", "", text)
    return re.sub(r"\?[^\n]*", "", text)


def _block(text, name):
    m = re.search(rf"\b{name}\s*\{{", text)
    if not m:
        return None
    depth, i = 1, m.end()
    while depth and i < len(text):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    return text[m.end():i - 1]


def parse(text, file=""):
    """MechanismInfo of a density mechanism's NMODL text (None for point processes)."""
    body = _block(_strip_comments(text), "NEURON")
    if body is None:
        return None
    suffix = re.search(r"\bSUFFIX\s+(\w+)", body)
    if not suffix:
        return None  # POINT_PROCESS or ARTIFICIAL_CELL
    nonspecific = []
    for m in re.finditer(r"\bNONSPECIFIC_CURRENT\s+([\w\s,]+?)(?=\b(?:RANGE|GLOBAL|USEION|NONSPECIFIC_CURRENT|"
                         r"POINTER|BBCOREPOINTER|THREADSAFE|EXTERNAL|ELECTRODE_CURRENT|SUFFIX)\b|$)", body):
        nonspecific += [n for n in re.split(r"[\s,]+", m.group(1).strip()) if n]
    ions = {}
    for m in re.finditer(r"\bUSEION\s+(\w+)((?:\s+(?:READ|WRITE)\s+[\w\s,]+?)*)"
                         r"(?=\s+VALENCE|\s*\n|\s+(?:RANGE|GLOBAL|USEION|NONSPECIFIC_CURRENT)\b|$)", body):
        io = {"read": [], "write": []}
        for mode, names in re.findall(r"\b(READ|WRITE)\s+([\w\s,]+?)(?=\s+(?:READ|WRITE)\b|$)", m.group(2)):
            io[mode.lower()] += [n for n in re.split(r"[\s,]+", names.strip()) if n]
        ions[m.group(1)] = io
    return MechanismInfo(suffix.group(1), tuple(nonspecific), ions, str(file))


def scan(mod_dirs):
    """``{suffix: MechanismInfo}`` of every density mechanism in the ``*.mod`` files of ``mod_dirs``."""
    out = {name: MechanismInfo(name, cur, {}) for name, cur in BUILTIN.items()}
    for d in mod_dirs:
        for f in sorted(Path(d).glob("*.mod")):
            info = parse(f.read_text(errors="replace"), f)
            if info is not None:
                out[info.suffix] = info
    return out
