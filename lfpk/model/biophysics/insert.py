"""Insert evaluated biophysics (:class:`lfpk.model.biophysics.spec.CellBiophysics`) into NEURON cells.

One function (:func:`insert_active`) serves the ground-truth network and the linearisation of the
kernel cell, so both put exactly the same mechanisms and values into a cell.

Ion variables (a block's ``ions``, e.g. ``ena``, ``ek``, ``eca``) reach every mechanism that reads
them: NEURON's ion where a mechanism of the section uses it, and every inserted mechanism that
carries the variable as its own parameter. lfpk's sodium and potassium channels carry their
reversal potential (``NaTa_t``'s ``ena``, ``SKv3_1``'s ``ek``, ...; ``lfpk/mod``) and write a
non-specific current instead of using NEURON's ``na`` and ``k`` ions, whose bookkeeping took
about a third of the time steps of Model A's cells (issue 25); to the config they look the same.
A mechanism's own value in the block (``NaTa_t: {ena: 55}``) wins over the group's ``ions``.
"""

from __future__ import annotations

import functools

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


@functools.cache
def _parameters(mech):
    return frozenset(mechanism_parameters(mech))


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
        Unknown mechanism, parameter or ion variable (one that no mechanism of a segment it is set
        for reads), naming the config key.
    """
    exclude = set(exclude)
    segs = cell.segments
    inserted = {m: mask for m, mask in bio.inserted.items() if m not in exclude}
    for mech, mask in inserted.items():
        for sec in sections_of(cell, mask):
            try:
                sec.insert(mech)
            except ValueError:
                raise MechanismError(
                    f"{bio.what}: mechanism {mech!r} is not loaded in NEURON (compile its .mod file: "
                    "add its folder to mechanisms.extra_dirs)") from None
    # ion variables first, so that a mechanism's own value of the same name (parameters) wins
    for name, values in bio.ions.items():
        carriers = [m for m in inserted if name in _parameters(m)]
        first = 0
        for sec in cell.values():
            section = slice(first, first + sec.nseg)
            first += sec.nseg
            rows = np.flatnonzero(~np.isnan(values[section])) + section.start
            if not rows.size:
                continue
            # a mechanism is inserted in whole sections (sections_of)
            present = [m for m in carriers if inserted[m][section].any()]
            ion = hasattr(sec(0.5), name)
            if not (ion or present):
                raise MechanismError(
                    f"{bio.what}: ion variable {name!r} does not exist in section {sec.name()} "
                    "(no mechanism there uses that ion or has that parameter)")
            for i in rows:
                value = float(values[i])
                for mech in present:
                    setattr(getattr(segs[i], mech), name, value)
                if ion:
                    setattr(segs[i], name, value)
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


def strip(cell):
    """Remove every density mechanism (not the ions) from the cell's sections."""
    for sec in cell.values():
        names = [m.name() for m in sec(0.5) if not m.is_ion()]
        for name in names:
            sec.uninsert(name)
