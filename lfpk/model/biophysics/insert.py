"""Insert evaluated biophysics (:class:`lfpk.model.biophysics.spec.CellBiophysics`) into NEURON cells.

One function (:func:`insert_active`) serves the ground-truth network and the linearisation of the
kernel cell, so both put exactly the same mechanisms and values into a cell.
"""

from __future__ import annotations

import numpy as np


class MechanismError(ValueError):
    """A mechanism or parameter NEURON does not know; the message names the config key."""


def sections_of(cell, mask):
    """Sections (in order) with at least one segment in ``mask``."""
    out, i = [], 0
    for sec in cell.values():
        n = sec.nseg
        if mask[i:i + n].any():
            out.append(sec)
        i += n
    return out


def mechanism_parameters(name):
    """PARAMETER range variables of density mechanism ``name`` (without the suffix)."""
    # NEURON on first use: importing it starts its interpreter
    from neuron import h

    ms = h.MechanismStandard(name, 1)
    ref = h.ref("")
    out = []
    for i in range(int(ms.count())):
        ms.name(ref, i)
        out.append(ref[0][: -len(name) - 1] if ref[0].endswith("_" + name) else ref[0])
    return out


def insert_active(cell, bio, exclude=()):
    """Insert ``bio``'s mechanisms into ``cell`` and set every parameter and ion variable.

    Parameters
    ----------
    cell : lfpk.model.morphology.CellSections
        A built cell (sections in segment-table order).
    bio : lfpk.model.biophysics.spec.CellBiophysics
        Per-segment values evaluated on the cell's segment table.
    exclude : iterable of str
        Mechanisms left out (the quasi-linear form replaces them).

    Raises
    ------
    MechanismError
        Unknown mechanism, parameter or ion variable, naming the config key.
    """
    exclude = set(exclude)
    segs = cell.segments
    for mech, mask in bio.inserted.items():
        if mech in exclude:
            continue
        for sec in sections_of(cell, mask):
            try:
                sec.insert(mech)
            except ValueError:
                raise MechanismError(
                    f"{bio.what}: mechanism {mech!r} is not loaded in NEURON (compile its .mod file: "
                    "add its folder to mechanisms.extra_dirs)") from None
    for (mech, param), values in bio.parameters.items():
        if mech in exclude:
            continue
        idx = np.flatnonzero(~np.isnan(values))
        for i in idx:
            try:
                setattr(getattr(segs[i], mech), param, float(values[i]))
            except (AttributeError, LookupError, NameError):
                raise MechanismError(
                    f"{bio.what}: mechanism {mech} has no parameter {param!r} (parameters: "
                    f"{', '.join(mechanism_parameters(mech))})") from None
    for name, values in bio.ions.items():
        for i in np.flatnonzero(~np.isnan(values)):
            try:
                setattr(segs[i], name, float(values[i]))
            except (AttributeError, LookupError, NameError):
                raise MechanismError(
                    f"{bio.what}: ion variable {name!r} does not exist in section {segs[i].sec.name()} "
                    "(no mechanism there uses that ion)") from None


def strip(cell):
    """Remove every density mechanism (not the ions) from the cell's sections."""
    for sec in cell.values():
        names = [m.name() for m in sec(0.5) if not m.is_ion()]
        for name in names:
            sec.uninsert(name)
